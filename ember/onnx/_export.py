"""`ember.onnx.export`: record the model's ops on the example inputs, write them as ONNX.

The model runs in eval mode (torch's default `training=TrainingMode.EVAL`: Dropout is the
identity, BatchNorm uses its running statistics) under no_grad, once on the example inputs and
once more on inputs with other values, larger along each dynamic axis (see NOTE [Values and
their twins] in _graph.py and `_growths`). Parameters and buffers become initializers named by their
state_dict keys.

Covered (one converter per recorded op, in _ops_math.py, _ops_extra.py, _ops_compare.py,
_ops_shape.py, _ops_nn.py and _ops_rnn.py): elementwise arithmetic with broadcasting and scalars
(floor/ceil/round/trunc/sign, floor division, remainder, fmod), unary math, activations,
softmax/log_softmax, sum/mean/amax/prod reductions, comparisons, logical and bitwise ops,
argmax/argmin, isnan/isinf, views/reshapes/permutes/transposes, cat/stack/split/chunk/unbind,
expand/repeat/pad/flip/roll/tril/triu, basic indexing (bounds may be an input's size), one-tensor
advanced indexing, index_select, gather, masked_fill, matmul/einsum/addmm/baddbmm/outer, Linear,
Conv1d/2d/3d and ConvTranspose1d/2d/3d, Max/Avg/Adaptive pooling, BatchNorm, LayerNorm,
GroupNorm, InstanceNorm, Embedding, scaled-dot-product attention (so TransformerEncoder, with
padding masks), whole RNN/LSTM/GRU modules, and tensors of one value made in forward with an
input's sizes (zeros_like, new_zeros, torch.full): ConstantOfShape.
"""

import inspect
import logging
import os

import numpy as np

from ember._tensor import Tensor
from ember.nn.modules.module import Module
from ember.nn.modules.rnn import GRU, LSTM, RNN
from ember.onnx import (  # noqa: F401 (the converter tables)
    _graph, _ops_compare, _ops_extra, _ops_math, _ops_nn, _ops_rnn, _ops_shape)
from ember.onnx._convert import Conversion
from ember.onnx._graph import Builder, OnnxExporterError, require_onnx, value_info
from ember.onnx._trace import Recorder, _host, flatten_output, recording
from ember.version import ember as ember_version

DEFAULT_OPSET = 20  # torch 2.13's default for both exporters (ONNX_DEFAULT_OPSET)
MIN_OPSET, MAX_OPSET = 17, 23  # what ember writes (torch's dynamo exporter: 18 to 23)
OLDEST_OPSET = 7  # torch's ONNX_MIN_OPSET: older requests are converted down from MIN_OPSET
LOGGER = logging.getLogger(__name__)
_MODULE_CONVERTERS = {RNN: "RNN", LSTM: "LSTM", GRU: "GRU"}  # converted whole (_ops_rnn.py)


def _split_args(args, kwargs):
    """torch's convention: a tensor alone is (tensor,); a trailing dict holds keyword inputs."""
    if isinstance(args, Tensor):
        args = (args,)
    args = tuple(args)
    kwargs = dict(kwargs or {})
    if args and isinstance(args[-1], dict):
        kwargs.update(args[-1])
        args = args[:-1]
    return args, kwargs


def _input_tensors(args, kwargs) -> list:
    return flatten_output(list(args) + list(kwargs.values()))


def _input_names(model, count: int, given) -> list:
    """The given input names, then the forward's parameter names, then input_<i>."""
    names = list(given or [])
    if len(names) < count:
        fn = model.forward if isinstance(model, Module) else model
        try:
            params = [p.name for p in inspect.signature(fn).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            params = []
        for i in range(len(names), count):
            names.append(params[i] if i < len(params) and params[i] not in names
                         else f"input_{i}")
    return names[:count]


def _axes(spec, name: str) -> dict:
    """dynamic_axes' value for one name as {axis: label} (a list gets torch's labels)."""
    if isinstance(spec, dict):
        return {int(a): str(label) for a, label in spec.items()}
    return {int(a): f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(spec)}


GROWTH_BASES = (1, 2, 8, 32)  # tried in turn: a U-Net runs only on sizes its strides divide


def _growths(in_axes, base: int, distinct: bool = True) -> list:
    """Per input, {axis: how much larger it is in the second run}. Axes with one label grow
    alike (they are one size); each other label by another amount (base, 2·base, ...), so that
    a size the model reads is traced to the right input axis (H and W of a square example).
    Without `distinct` every axis grows by base (labels that name one size differently)."""
    labels = []
    for axes in in_axes:
        labels += [label for label in axes.values() if label not in labels]
    return [{axis: base * (labels.index(label) + 1 if distinct else 1)
             for axis, label in axes.items()} for axes in in_axes]


def _twin_input(t: Tensor, growth: dict) -> Tensor:
    """The second run's input: larger by growth[axis] along each dynamic axis (its first slice
    repeated), with other values (see NOTE [Values and their twins] in _graph.py): a constant
    that comes out different is a value export failed to record."""
    data = _host(t._data)
    for axis, extra in growth.items():
        data = np.concatenate([data, np.take(data, [0] * extra, axis=axis)], axis=axis)
    moved = np.roll(data.reshape(-1), 1).reshape(data.shape)
    if data.dtype.kind in "fc":
        moved = (0.75 * data + 0.25 * moved + 0.125).astype(data.dtype)
    return Tensor._make(moved)


def _params(model) -> dict:
    """id -> (object, state_dict name) for every parameter and buffer and its array."""
    found = {}
    if not isinstance(model, Module):
        return found
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        found.setdefault(id(t), (t, name))
        found.setdefault(id(t._data), (t._data, name))
    return found


def _run(model, args, kwargs, inputs, fold, keep=frozenset()):
    """One recorded run: (recorder, flattened output tensors, output refs)."""
    recorder = Recorder(model if isinstance(model, Module) else Module(), _params(model),
                        _MODULE_CONVERTERS, fold, keep)
    for t in inputs:
        recorder.new_value(t)
    with recording(recorder):
        output = model(*args, **kwargs)
    flat = flatten_output(output)
    refs = [recorder.ref(t) for t in flat]
    return recorder, flat, refs


def _second_run(model, args, kwargs, inputs, in_axes, fold):
    """The run on the grown inputs: (recorder, output refs, its arguments). Growths that the
    model cannot run on (sizes its strides do not divide) are skipped for larger ones."""
    first_error = None
    tries = [(base, distinct) for distinct in (True, False) for base in GROWTH_BASES]
    for base, distinct in tries if any(in_axes) else tries[:1]:
        twins = {id(t): _twin_input(t, growth)
                 for t, growth in zip(inputs, _growths(in_axes, base, distinct))}
        twin_args = (_replace_inputs(args, twins), _replace_inputs(kwargs, twins),
                     [twins[id(t)] for t in inputs])
        try:
            rec2, _, refs2 = _run(model, *twin_args, fold)
        except OnnxExporterError:
            raise
        except Exception as error:  # noqa: BLE001 - the model's own error, shown below
            first_error = first_error or error
            continue
        return rec2, refs2, twin_args
    raise OnnxExporterError(
        "ember.onnx.export: the model fails on inputs grown along the dynamic axes (export runs "
        f"it a second time on larger inputs to find the sizes that follow them): "
        f"{type(first_error).__name__}: {first_error}") from first_error


def _varying_folds(rec1, rec2) -> frozenset:
    """The call numbers of the folded ops whose constants differ between the two runs."""
    def same(a, b):
        return a is None and b is None or (a is not None and b is not None and a.shape == b.shape
                                           and np.array_equal(a.array, b.array, equal_nan=True))

    return frozenset(call for call, outs in rec1.folded.items()
                     if call in rec2.folded and not all(
                         same(a, b) for a, b in zip(outs, rec2.folded[call])))


def _replace_inputs(value, mapping):
    """args/kwargs with each input tensor swapped for its grown twin."""
    if isinstance(value, Tensor):
        return mapping.get(id(value), value)
    if isinstance(value, dict):
        return {k: _replace_inputs(v, mapping) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_replace_inputs(v, mapping) for v in value)
    return value


def _output_names(given, count: int) -> list:
    names = list(given or [])
    return names + [("output" if count == 1 else f"output_{i}")
                    for i in range(len(names), count)]


def _check_axes_names(dynamic_axes, in_names, out_names) -> None:
    for key in dynamic_axes:
        if key not in set(in_names) | set(out_names):
            raise ValueError(f"dynamic_axes names '{key}', which is neither an input name "
                             f"{in_names} nor an output name {out_names}")


def _declare_outputs(builder, conversion, out_names, refs1, refs2, dynamic_axes) -> list:
    """An Identity to each named output; dims that vary between the runs are symbolic."""
    helper = require_onnx().helper
    declared = []
    for i, (name, ref, twin) in enumerate(zip(out_names, refs1, refs2)):
        inner = conversion.name_of(ref, twin)
        builder.nodes.append(helper.make_node("Identity", [inner], [name], name=f"output_{i}"))
        axes = _axes(dynamic_axes.get(name, {}), name)
        for axis, (a, c) in enumerate(zip(ref.shape, twin.shape)):
            if a != c and axis not in axes:
                axes[axis] = f"{name}_dynamic_axes_{axis + 1}"
        declared.append(value_info(name, ref.dtype, ref.shape, axes))
    return declared


def build_model(model, args, kwargs, *, input_names, output_names, opset_version, dynamic_axes,
                export_params, do_constant_folding, keep_initializers_as_inputs=False):
    """Run twice, record, convert: the onnx ModelProto."""
    onnx = require_onnx()
    helper = onnx.helper
    args, kwargs = _split_args(args, kwargs)
    inputs = _input_tensors(args, kwargs)
    in_names = _input_names(model, len(inputs), input_names)
    dynamic_axes = dict(dynamic_axes or {})
    fold = bool(do_constant_folding) and export_params
    rec1, flat1, refs1 = _run(model, args, kwargs, inputs, fold)
    out_names = _output_names(output_names, len(flat1))
    _check_axes_names(dynamic_axes, in_names, out_names)
    in_axes = [_axes(dynamic_axes.get(n, {}), n) for n in in_names]
    rec2, refs2, twin_args = _second_run(model, args, kwargs, inputs, in_axes, fold)
    keep = _varying_folds(rec1, rec2)
    if keep:  # NOTE [Recording through the op protocol]: record those ops after all
        rec1, flat1, refs1 = _run(model, args, kwargs, inputs, fold, keep)
        rec2, _, refs2 = _run(model, *twin_args, fold, keep)
    if [e.name for e in rec1.events] != [e.name for e in rec2.events]:
        raise OnnxExporterError("ember.onnx.export: the model runs other ops for other input "
                                "values or sizes (control flow that depends on the inputs "
                                "cannot be exported)")
    builder = Builder(opset_version)
    conversion = Conversion(builder, rec1.shapes, rec2.shapes, not export_params)
    graph_inputs = []
    for vid, (name, axes) in enumerate(zip(in_names, in_axes)):
        (shape1, dtype), (shape2, _) = rec1.shapes[vid], rec2.shapes[vid]
        builder.note(name, dtype, shape1, shape2)
        builder.inputs.append((name, axes))
        conversion.names[vid] = name
        graph_inputs.append(value_info(name, dtype, shape1, axes))
    conversion.run(rec1.events, rec2.events)
    builder.path = ""
    graph_outputs = _declare_outputs(builder, conversion, out_names, refs1, refs2, dynamic_axes)
    extra = list(conversion.param_inputs)
    if keep_initializers_as_inputs:
        extra += [init.name for init in builder.initializers]
    graph_inputs += [value_info(key, builder.info[key][0], builder.info[key][1])
                     for key in extra]
    graph = helper.make_graph(builder.nodes, "main_graph", graph_inputs, graph_outputs,
                              builder.initializers)
    opsets = [helper.make_opsetid("", opset_version)]
    proto = helper.make_model(graph, opset_imports=opsets, producer_name="ember",
                              producer_version=ember_version,
                              ir_version=helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(proto)
    if any(in_axes):
        _check_second_sizes(proto, [rec2.shapes[i][0] for i in range(len(in_names))],
                            [ref.shape for ref in refs2])
    return proto


def _check_second_sizes(proto, input_shapes, output_shapes) -> None:
    """ONNX shape inference with the inputs at the second run's sizes must give the second
    run's output sizes: a converter that wrote a size as a number where it follows a dynamic
    axis is caught here instead of in the user's runtime."""
    onnx = require_onnx()
    probe = onnx.ModelProto()
    probe.CopyFrom(proto)
    for value, shape in zip(probe.graph.input, input_shapes):
        dims = value.type.tensor_type.shape.dim
        for dim, size in zip(dims, shape):
            dim.Clear()
            dim.dim_value = int(size)
    for value in probe.graph.output:
        value.type.tensor_type.ClearField("shape")
    try:
        inferred = onnx.shape_inference.infer_shapes(probe, strict_mode=True, data_prop=True)
    except Exception as error:  # noqa: BLE001 - onnx raises InferenceError and others
        raise OnnxExporterError(
            "ember.onnx.export: the exported graph does not hold at other sizes of the dynamic "
            f"axes (ONNX shape inference at the second run's sizes: {error})") from None
    for value, shape in zip(inferred.graph.output, output_shapes):
        dims = [d.dim_value if d.HasField("dim_value") else None
                for d in value.type.tensor_type.shape.dim]
        if any(d is not None and d != int(n) for d, n in zip(dims, shape)):
            raise OnnxExporterError(
                f"ember.onnx.export: output '{value.name}' would have size {dims} instead of "
                f"{list(shape)} at other sizes of the dynamic axes (an op ember writes with a "
                "fixed size along them)")


def convert_down(proto, opset: int):
    """An opset older than MIN_OPSET, as torch 2.13's exporter does it: write MIN_OPSET, then
    convert with onnx's version converter; when that fails, keep MIN_OPSET and say so."""
    onnx = require_onnx()
    LOGGER.warning("Setting ONNX exporter to use operator set version %s because the requested "
                   "opset_version %s is a lower version than ember writes. Automatic version "
                   "conversion will be performed, which may not be successful at converting "
                   "to the requested version. If version conversion is unsuccessful, the opset "
                   "version of the exported model will be kept at %s.",
                   MIN_OPSET, opset, MIN_OPSET)
    try:
        converted = onnx.version_converter.convert_version(proto, opset)
        onnx.checker.check_model(converted)
    except Exception as error:  # noqa: BLE001 - onnx's converter raises bare RuntimeErrors
        LOGGER.warning("Failed to convert the model to the target version %s using the ONNX "
                       "C API; the model is kept at opset %s (%s)", opset, MIN_OPSET,
                       str(error).strip().splitlines()[-1])
        return proto
    return converted


def write(proto, f) -> None:
    """Save to a path or a binary file object."""
    data = proto.SerializeToString()
    if isinstance(f, (str, bytes, os.PathLike)):
        with open(f, "wb") as out:
            out.write(data)
    else:
        f.write(data)
