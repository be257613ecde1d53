"""How a node holds the tensors its op saved for backward: outputs without a reference cycle
(`SavedOutput`) and, inside `saved_tensors_hooks`, whatever the pack hook made of them."""

import re

from ember._schemas import table
from ember._grad_state import GRAD_STATE, _InferenceVersion
from ember._tensor import Tensor, type_name
from ember.autograd.anomaly_mode import _state as _ANOMALY

_make = Tensor._make
FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)
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

    __slots__ = ("packed", "unpack_hook", "name")

    def __init__(self, packed, unpack_hook, name=None):
        self.packed, self.unpack_hook = packed, unpack_hook
        self.name = name  # its `_saved_<name>` (NOTE [Saved tensors by name]), if known


def saved_entries(tensors) -> tuple:
    """The `_saved` entries of tensors: each with its version (None stays None); an inference
    tensor cannot be saved outside inference mode (NOTE [Inference tensors])."""
    saved = []
    for t in tensors:
        if t is None:
            saved.append(_NOTHING_SAVED)
            continue
        if type(t._version_counter) is _InferenceVersion and not GRAD_STATE["inference"]:
            raise RuntimeError(
                "Inference tensors cannot be saved for backward. Please do not use Tensors "
                "created in inference mode in computation tracked by autograd. To work around "
                "this, you can make a clone to get a normal tensor and use it in autograd, or "
                "use `torch.no_grad()` instead of `torch.inference_mode()`.")
        saved.append((t, t._version_counter.value))
    return tuple(saved)


def only_inference_tensors(args) -> bool:
    """Whether the tensors among args are all inference tensors: torch's autograd kernel is
    then never reached (inference tensors lack the Autograd dispatch key), so the op records
    nothing even for an input that requires grad; one normal tensor, a number wrapped as a
    tensor too (`y * 2`), makes it record (NOTE [Inference tensors])."""
    found = False
    for a in args:
        if isinstance(a, Tensor):
            if type(a._version_counter) is not _InferenceVersion:
                return False
            found = True
    return found


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
        # "Backward0" is dropped, another overload keeps its number: MulBackward0 -> Mul,
        # LerpBackward1 -> Lerp1 (PyTorch's words)
        name = re.sub(r"Backward0?(?=[0-9]*$)", "", owner.name())
        which = f", which is output {index} of {name},"
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{type_name(t)} {list(t.shape)}]{which} is at version "
        f"{t._version_counter.value}; expected version {version} instead. Hint: " + (
            "the backtrace further above shows the operation that failed to compute its "
            "gradient. The variable in question was changed in there or anywhere later. Good "
            "luck!" if _ANOMALY["enabled"] else "enable anomaly detection to find the operation "
            "that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, "
            "check_nan=False).")
    )


# NOTE [Saved tensors by name]
# PyTorch's generated nodes show what they saved as attributes named after the op's arguments
# in derivatives.yaml: `_saved_self`, `_saved_other`, `_saved_result`, and `_raw_saved_<name>`
# for the SavedTensor behind one (to register pack/unpack hooks on). ember's ops save
# positionally, so a saved tensor is named by the argument it was (found through the node's
# edges, or its position among the saved ones) or `result` when it is the node's output; the
# argument names are torch's Python ones for the Tensor method (the first is `self`).
def _argument_names(node) -> list:
    """["self", ...] for the op of node, from the method's signature (["self", "other"] when
    the op has none)."""
    name = re.sub(r"Backward[0-9]*$", "", type(node).__name__)
    method = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    signatures = table().get(f"Tensor.{method}")
    if not signatures:
        return ["self", "other"]
    inside = signatures[0].split("|")[0].partition("(")[2].rpartition(")")[0]
    params = [p.split("=")[0].split()[-1] for p in inside.split(",") if p.strip() not in ("", "*")]
    return ["self"] + params


def _input_position(t, i, edges, no_edge):
    """Which argument of the node the saved tensor t (saved i-th) was, or None."""
    def matches(edge):
        if not t.requires_grad:
            return edge is no_edge
        if t.grad_fn is not None:
            return edge[0] is t.grad_fn and edge[1] == t._output_nr
        return getattr(edge[0], "variable", None) is t

    candidates = [k for k, edge in enumerate(edges) if matches(edge)]
    if len(candidates) == 1:
        return candidates[0]
    return i if i in candidates else None


def saved_attribute(node, name, no_edge):
    """node.<name> for `_saved_<arg>` (the tensor) and `_raw_saved_<arg>` (a SavedTensor)."""
    raw = name.startswith("_raw_saved_")
    saved = raw or name.startswith("_saved_")
    if saved and node._freed:  # (the saved tensors are gone: which ones there were, too)
        raise RuntimeError(FREED_MESSAGE)
    index = saved_by_name(node, name[11 if raw else 7:], no_edge) if saved else None
    if index is None:
        raise AttributeError(f"'{type(node).__name__}' object has no attribute '{name}'")
    return SavedTensor(node, index, name[11:]) if raw else _unpacked(node, index)[0]


def saved_by_name(node, name, no_edge):
    """The index into node._saved of the tensor torch calls `_saved_<name>`, or None."""
    names = _argument_names(node)
    for i, (t, _) in enumerate(node._saved or ()):
        if _name_of(node, names, i, t, no_edge) == name:
            return i
    return None


def _name_of(node, names, i, t, no_edge):
    """The `_saved_<name>` of t, the i-th tensor node saved, or None."""
    if type(t) is SavedOutput:
        return "result" if len(node._output_meta) <= 1 else f"result{t.output_nr}"
    if type(t) is PackedTensor:  # (packed by hooks: named when it was packed)
        return t.name
    if type(t) is Tensor or t is None:  # (None: saved only when needed, as torch)
        k = i if t is None else _input_position(t, i, node._edges, no_edge)
        return names[k] if k is not None and k < len(names) else None
    return None


class SavedTensor:
    """One tensor a node saved, as `grad_fn._raw_saved_<name>` gives it (matches torch's
    `torch._C._autograd.SavedTensor`): hooks registered on it pack it now, unpack on use."""

    def __init__(self, node, index, name=None):
        self._node, self._index, self._name = node, index, name

    def register_hooks(self, pack_hook, unpack_hook):
        """Pack the saved tensor with pack_hook; reading it gives unpack_hook(packed)."""
        node = self._node
        (t,) = _unpacked(node, self._index)
        saved = list(node._saved)
        saved[self._index] = (PackedTensor(pack_hook(t), unpack_hook, self._name), 0)
        node._saved = tuple(saved)


def _unpacked(node, index):
    """The saved tensor at index, as saved_tensors would give it."""
    t, _ = node._saved[index]
    if type(t) is SavedOutput:
        return (t.unpack(node),)
    if type(t) is PackedTensor:
        return (t.unpack_hook(t.packed),)
    return (t,)  # (an input, or None)
