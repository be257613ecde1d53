"""The three summaries TensorBoard's HParams tab reads (what `add_hparams` writes).

An `Experiment` names the hyperparameters and metrics, `SessionStartInfo` holds this run's
values, `SessionEndInfo` marks the run finished; each travels as the plugin data of an empty
Summary value with a reserved tag (`_hparams_/experiment`, ...).
"""

import numpy as np
from google.protobuf import struct_pb2
from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboard.plugins.hparams import api_pb2
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.plugins.hparams.plugin_data_pb2 import (HParamsPluginData, SessionEndInfo,
                                                         SessionStartInfo)

from ember.utils.tensorboard._convert import make_np


def _plugin_metadata(content: bytes) -> SummaryMetadata:
    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name=hparams_metadata.PLUGIN_NAME, content=content))


def _hparam_value(value, domain):
    """(the Value for SessionStartInfo, the HParamInfo DataType, the discrete domain)."""
    # NOTE [bool hyperparameters] torch tests for int/float before bool, and a bool is an int,
    # so True is logged as the number 1.0 (DATA_TYPE_FLOAT64); matched, so that runs logged
    # by ember and by torch line up in one HParams table. The bool branch stays for bool_
    # values that are not Python ints (np.bool_).
    if isinstance(value, (int, float, np.integer, np.floating)):
        kind, field = "DATA_TYPE_FLOAT64", "number_value"
        value = float(value)
    elif isinstance(value, str):
        kind, field = "DATA_TYPE_STRING", "string_value"
    elif isinstance(value, (bool, np.bool_)):
        kind, field = "DATA_TYPE_BOOL", "bool_value"
        value = bool(value)
    elif hasattr(value, "shape"):  # a one-element tensor
        kind, field = "DATA_TYPE_FLOAT64", "number_value"
        value = float(make_np(value).reshape(-1)[0])
    else:
        raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
    listed = None
    if domain is not None:
        listed = struct_pb2.ListValue(values=[struct_pb2.Value(**{field: d}) for d in domain])
    return struct_pb2.Value(**{field: value}), api_pb2.DataType.Value(kind), listed


def hparams(hparam_dict: dict, metric_dict: dict, hparam_domain_discrete=None):
    """(experiment, session start, session end) summaries (matches torch's summary.hparams)."""
    if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
        raise TypeError("hparam_dict and metric_dict should be dictionary.")
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary")
    for key, domain in domains.items():
        if (key not in hparam_dict or not isinstance(domain, list)
                or not all(isinstance(d, type(hparam_dict[key])) for d in domain)):
            raise TypeError(f"parameter: hparam_domain_discrete[{key}] should be a list of "
                            f"same type as hparam_dict[{key}].")
    start = SessionStartInfo()
    infos = []
    for key, value in hparam_dict.items():
        if value is None:
            continue
        proto_value, kind, domain = _hparam_value(value, domains.get(key))
        start.hparams[key].CopyFrom(proto_value)
        infos.append(api_pb2.HParamInfo(name=key, type=kind, domain_discrete=domain))
    experiment = api_pb2.Experiment(
        hparam_infos=infos,
        metric_infos=[api_pb2.MetricInfo(name=api_pb2.MetricName(tag=k)) for k in metric_dict])
    end = SessionEndInfo(status=api_pb2.Status.Value("STATUS_SUCCESS"))
    version = hparams_metadata.PLUGIN_DATA_VERSION
    summaries = []
    for tag, data in ((hparams_metadata.EXPERIMENT_TAG,
                       HParamsPluginData(experiment=experiment, version=version)),
                      (hparams_metadata.SESSION_START_INFO_TAG,
                       HParamsPluginData(session_start_info=start, version=version)),
                      (hparams_metadata.SESSION_END_INFO_TAG,
                       HParamsPluginData(session_end_info=end, version=version))):
        metadata = _plugin_metadata(data.SerializeToString())
        summaries.append(Summary(value=[Summary.Value(tag=tag, metadata=metadata)]))
    return tuple(summaries)
