"""How a node holds the tensors its op saved for backward: outputs without a reference cycle
(`SavedOutput`) and, inside `saved_tensors_hooks`, whatever the pack hook made of them."""

import re

from ember._tensor import Tensor, type_name

_make = Tensor._make
_NOTHING_SAVED = (None, 0)


class SavedOutput:
    """An output its own node saved, held without the node (NOTE [Saved outputs]).

    NOTE [Saved outputs]
    An op that saves its output (relu, exp, sigmoid, tanh) would otherwise make a reference
    cycle output -> grad_fn -> saved output, which only the garbage collector frees: the
    output's array would outlive its last use. As PyTorch's SavedVariable does for outputs, the
    node keeps the output's array and version counter, and unpacking makes a tensor whose
    grad_fn is the node again (so double backward flows through it).
    """

    __slots__ = ("_data", "_version_counter", "output_nr")

    def __init__(self, tensor, output_nr):
        self._data, self.output_nr = tensor._data, output_nr
        self._version_counter = tensor._version_counter

    def unpack(self, node):
        """The output again: the same array and version counter, with `node` as its grad_fn."""
        t = _make(self._data, True)
        t._version_counter, t.grad_fn, t._output_nr = self._version_counter, node, self.output_nr
        return t


def _hold_saved_outputs(ctx, outputs):
    """Swap the outputs ctx saved (and is the grad_fn of) for SavedOutputs: no cycle."""
    saved = list(ctx._saved)
    for index, output in enumerate(outputs):
        if type(output) is Tensor and output.grad_fn is ctx:
            for i, (t, version) in enumerate(saved):
                if t is output:
                    saved[i] = (SavedOutput(t, index), version)
    ctx._saved = tuple(saved)


# NOTE [Saved-tensor hooks]
# Inside `torch.autograd.graph.saved_tensors_hooks(pack, unpack)` (ember/autograd/graph.py)
# every tensor given to `save_for_backward` is stored as pack(tensor), and reading
# `saved_tensors` returns unpack(packed), with no version check (PyTorch does none either).
# The stack holds the (pack, unpack) pairs of the open contexts; the innermost applies. Some of
# ember's built-in ops keep what backward needs as arrays on the node instead, out of the
# hooks' sight: the hooks see every custom Function's saved tensors, and the built-in ops' that
# go through save_for_backward.
SAVED_TENSOR_HOOKS = []


class PackedTensor:
    """A saved tensor as its pack hook returned it, with the unpack hook to get it back."""

    __slots__ = ("packed", "unpack_hook")

    def __init__(self, packed, unpack_hook):
        self.packed, self.unpack_hook = packed, unpack_hook


def pack_saved(tensors):
    """The `_saved` entries of tensors packed by the innermost hooks (None stays None)."""
    pack, unpack = SAVED_TENSOR_HOOKS[-1]
    return tuple((PackedTensor(pack(t), unpack), 0) if t is not None else _NOTHING_SAVED
                 for t in tensors)


def modified_message(t, version, node) -> str:
    """PyTorch's words for a saved tensor changed in place since `node` saved it.

    NOTE [Naming the modified tensor]
    PyTorch names the op the tensor came out of, without "Backward0": the saving node itself
    when the tensor is one of its outputs, else the tensor's current grad_fn; a leaf is not
    named. Each in-place op since saving added one node on top of the tensor's history, so
    walking that many first edges down from its grad_fn finds out whether it was `node`'s.
    """
    which = ""
    if t.grad_fn is not None:
        owner, index = t.grad_fn, t._output_nr
        walker = t.grad_fn
        for _ in range(t._version_counter.value - version):
            edges = getattr(walker, "_edges", ())
            if not edges or edges[0][0] is None:
                break
            walker, walker_index = edges[0]
            if walker is node:
                owner, index = node, walker_index
                break
        which = f", which is output {index} of {re.sub(r'Backward[0-9]*$', '', owner.name())},"
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{type_name(t)} {list(t.shape)}]{which} is at version "
        f"{t._version_counter.value}; expected version {version} instead. Hint: enable anomaly "
        "detection to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False)."
    )
