"""What `export` hands back and the helpers torch.onnx keeps next to it: `ONNXProgram` and
`select_model_mode_for_export` (matching `torch.onnx`)."""

import contextlib
import copy
import enum

import numpy as np

from ember._tensor import Tensor
from ember.onnx._export import write
from ember.onnx._graph import require_onnx


class TrainingMode(enum.IntEnum):
    """The mode a model is exported in (matches `torch.onnx.TrainingMode`)."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


class OperatorExportTypes(enum.IntEnum):
    """How ops without an ONNX mapping are exported (matches `torch.onnx.OperatorExportTypes`;
    ember always writes plain ONNX and raises for an unmapped op)."""

    ONNX = 0
    ONNX_ATEN = 1
    ONNX_ATEN_FALLBACK = 2
    ONNX_FALLTHROUGH = 3


def _feed(value):
    """A model input for onnxruntime: ember tensors as NumPy arrays."""
    if isinstance(value, Tensor):
        return np.asarray(value.detach().cpu().numpy())
    return np.asarray(value)


def _flatten(args, kwargs) -> list:
    """The inputs in graph order: positional ones, then keyword ones (torch's order)."""
    values = list(args) + list((kwargs or {}).values())
    return [v for v in values if v is not None]


class ONNXProgram:
    """An exported model: `model_proto`, `save(path)`, and calling it runs onnxruntime
    (matches the parts of `torch.onnx.ONNXProgram` that a trained model needs)."""

    def __init__(self, model_proto):
        self.model_proto = model_proto
        self._inference_session = None

    def initialize_inference_session(self, initializer=None) -> None:
        """Create the onnxruntime session that `__call__` uses."""
        import onnxruntime  # a deploy dependency, needed only to run the model here

        data = self.model_proto.SerializeToString()
        self._inference_session = (initializer(data) if initializer is not None else
                                   onnxruntime.InferenceSession(
                                       data, providers=["CPUExecutionProvider"]))

    def release(self) -> None:
        """Drop the onnxruntime session (it holds the weights' memory)."""
        self._inference_session = None

    def _feeds(self, args, kwargs) -> dict:
        names = [i.name for i in self.model_proto.graph.input]
        return {n: _feed(v) for n, v in zip(names, _flatten(args, kwargs))}

    def __call__(self, *args, **kwargs) -> tuple:
        """Run the model in onnxruntime; a tuple of tensors, one per output."""
        if self._inference_session is None:
            self.initialize_inference_session()
        outputs = self._inference_session.run(None, self._feeds(args, kwargs))
        return tuple(Tensor._make(np.asarray(o)) for o in outputs)

    def call_reference(self, *args, **kwargs) -> tuple:
        """Run the model with onnx's reference evaluator; a tuple of tensors."""
        require_onnx()
        import onnx.reference  # slow to import, and only this method needs it

        evaluator = onnx.reference.ReferenceEvaluator(self.model_proto)
        outputs = evaluator.run(None, self._feeds(args, kwargs))
        return tuple(Tensor._make(np.asarray(o)) for o in outputs)

    def save(self, destination, *, include_initializers=True, keep_initializers_as_inputs=False,
             external_data=None) -> None:
        """Write the model to a path or a binary file object (torch's initializer options)."""
        proto = self.model_proto
        if not include_initializers or keep_initializers_as_inputs:
            proto = copy.deepcopy(proto)
            graph = proto.graph
            if keep_initializers_as_inputs:
                listed = {i.name for i in graph.input}
                helper = require_onnx().helper
                graph.input.extend(helper.make_tensor_value_info(i.name, i.data_type, i.dims)
                                   for i in graph.initializer if i.name not in listed)
            if not include_initializers:
                del graph.initializer[:]
        write(proto, destination)

    def __repr__(self):
        graph = self.model_proto.graph
        return (f"ONNXProgram(inputs={[i.name for i in graph.input]}, "
                f"outputs={[o.name for o in graph.output]}, nodes={len(graph.node)})")


@contextlib.contextmanager
def select_model_mode_for_export(model, mode):
    """Set model's training mode for the block, restore it after (matches
    `torch.onnx.select_model_mode_for_export`)."""
    if not isinstance(mode, TrainingMode):
        raise TypeError(f"'mode' should be a torch.onnx.TrainingMode enum, but got "
                        f"'{type(mode)}'.")
    was_training = getattr(model, "training", None)
    if was_training is not None and mode != TrainingMode.PRESERVE:
        model.train(mode == TrainingMode.TRAINING)
    try:
        yield
    finally:
        if was_training is not None:
            model.train(was_training)
