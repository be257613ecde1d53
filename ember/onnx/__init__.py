"""ember.onnx: export a model to an ONNX file (matches `torch.onnx`).

    ember.onnx.export(model, (x,), "model.onnx", input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})

The `onnx` package is an optional extra (`pip install "ember[onnx]"`): this module imports
without it, and `export` then raises an ImportError naming the extra. How export works: NOTE
[Recording through the op protocol] in _trace.py and the docstring of _export.py.
"""

import enum

from ember.nn.modules.module import Module
from ember.onnx import _trace
from ember.onnx._export import DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, build_model, write
from ember.onnx._graph import OnnxExporterError, require_onnx

# torch 2.13 has no ExportOptions (older versions did): the issue names it, torch wins.
__all__ = ["export", "is_in_onnx_export", "OnnxExporterError", "ONNXProgram", "TrainingMode"]


def is_in_onnx_export() -> bool:
    """Whether an export is running now (matches `torch.onnx.is_in_onnx_export`)."""
    return _trace.STATE["exporting"]


class TrainingMode(enum.IntEnum):
    """The mode a model is exported in (matches `torch.onnx.TrainingMode`)."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


class ONNXProgram:
    """An exported model: `model_proto`, `save(path)`, and calling it runs onnxruntime
    (matches the parts of `torch.onnx.ONNXProgram` that a trained model needs)."""

    def __init__(self, model_proto):
        self.model_proto = model_proto
        self._session = None

    def save(self, destination) -> None:
        """Write the model to a path or a binary file object."""
        write(self.model_proto, destination)

    def __call__(self, *args):
        """Run the model in onnxruntime on ember tensors; returns a list of numpy arrays."""
        import onnxruntime  # a test/deploy dependency, only needed to run the model here

        if self._session is None:
            self._session = onnxruntime.InferenceSession(self.model_proto.SerializeToString(),
                                                         providers=["CPUExecutionProvider"])
        names = [i.name for i in self._session.get_inputs()]
        feeds = {n: a.numpy() if hasattr(a, "numpy") else a for n, a in zip(names, args)}
        return self._session.run(None, feeds)

    def __repr__(self):
        graph = self.model_proto.graph
        return (f"ONNXProgram(inputs={[i.name for i in graph.input]}, "
                f"outputs={[o.name for o in graph.output]}, nodes={len(graph.node)})")


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
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"ember.onnx.export: opset_version {opset} is not supported (ember "
                         f"writes opsets {MIN_OPSET} to {MAX_OPSET})")
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
                            opset_version=opset, dynamic_axes=dynamic_axes,
                            export_params=export_params, do_constant_folding=do_constant_folding,
                            keep_initializers_as_inputs=keep_initializers_as_inputs)
    finally:
        if isinstance(model, Module):
            model.train(was_training)
    if verbose:
        print(require_onnx().helper.printable_graph(proto.graph))
    if f is not None:
        write(proto, f)
    return ONNXProgram(proto) if dynamo else None
