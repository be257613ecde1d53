"""ember.onnx: export a model to an ONNX file (matches `torch.onnx`).

    ember.onnx.export(model, (x,), "model.onnx", input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})

The `onnx` package is an optional extra (`pip install "ember[onnx]"`): this module imports
without it, and `export` then raises an ImportError naming the extra. How export works: NOTE
[Recording through the op protocol] in _trace.py and the docstring of _export.py.
"""

from ember.nn.modules.module import Module
from ember.onnx import _trace, errors
from ember.onnx._export import (DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, OLDEST_OPSET,
                                build_model, convert_down, write)
from ember.onnx._graph import OnnxExporterError, require_onnx
from ember.onnx._program import (  # noqa: F401 (deprecated names torch leaves out of __all__)
    ONNXProgram, OperatorExportTypes, TrainingMode, select_model_mode_for_export)
from ember.version import ember as _ember_version

# torch 2.13 has no ExportOptions (older versions did): the issue names it, torch wins.
__all__ = ["errors", "export", "is_in_onnx_export", "OnnxExporterError", "ONNXProgram"]
# What the files say wrote them (torch.onnx's are "pytorch" and its version).
producer_name = "ember"
producer_version = _ember_version


def is_in_onnx_export() -> bool:
    """Whether an export is running now (matches `torch.onnx.is_in_onnx_export`)."""
    return _trace.STATE["exporting"]


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None,
           output_names=None, opset_version=None, dynamo=True, external_data=True,
           dynamic_shapes=None, custom_translation_table=None, report=False, optimize=True,
           verify=False, profile=False, dump_exported_program=False, artifacts_dir=".",
           export_params=True, keep_initializers_as_inputs=False, dynamic_axes=None,
           training=TrainingMode.EVAL, operator_export_type=None, do_constant_folding=True,
           custom_opsets=None, export_modules_as_functions=False, autograd_inlining=True):
    """Export model, run on the example args, to ONNX at f (matches `torch.onnx.export`).

    f is a path or a binary file object. Returns an ONNXProgram when dynamo=True (torch's
    default), else None. Options that only torch's dynamo pipeline has are accepted and
    ignored; `dynamic_shapes` is not supported (use dynamic_axes).
    """
    require_onnx()
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if not OLDEST_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"ember.onnx.export: opset_version {opset} is not supported (ember "
                         f"writes opsets {MIN_OPSET} to {MAX_OPSET}, and converts down to "
                         f"{OLDEST_OPSET} where onnx's version converter can)")
    if dynamic_shapes:
        raise ValueError("ember.onnx.export: dynamic_shapes is not supported; give "
                         "dynamic_axes={input name: {axis: label}} instead")
    if f is None and not dynamo:
        raise ValueError("ember.onnx.export: f (a path or a binary file object) is required "
                         "when dynamo=False")
    was_training = getattr(model, "training", False)
    if isinstance(model, Module):
        if training == TrainingMode.TRAINING or (training == TrainingMode.PRESERVE
                                                 and was_training):
            raise OnnxExporterError("ember.onnx.export: exporting in training mode is not "
                                    "supported; export in eval mode (TrainingMode.EVAL)")
        model.eval()
    try:
        proto = build_model(model, args, kwargs, input_names=input_names, output_names=output_names,
                            opset_version=max(opset, MIN_OPSET), dynamic_axes=dynamic_axes,
                            export_params=export_params, do_constant_folding=do_constant_folding,
                            keep_initializers_as_inputs=keep_initializers_as_inputs)
    finally:
        if isinstance(model, Module):
            model.train(was_training)
    if opset < MIN_OPSET:
        proto = convert_down(proto, opset)
    if verbose:
        print(require_onnx().helper.printable_graph(proto.graph))
    if f is not None:
        write(proto, f)
    return ONNXProgram(proto) if dynamo else None
