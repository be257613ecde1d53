"""Recording an op computed on arrays: its node made directly, without `Function.apply`.

NOTE [Recording from arrays]
`Function.apply` records any op: it scans the arguments, turns grad mode off around forward
(whose own ops must record nothing), runs forward, and sorts out what forward returned and
saved. For a small tensor that generic work costs more than the op: `relu` of 1000 floats with
requires_grad took 42k instructions in ember against 15k in torch, whose generated code makes
each op's node in one C++ function. The commonest ops (relu, add, sub, mul, sum, basic
indexing) therefore record themselves the way their `Array forward` (function.py) computes
without recording: the op's code calls the NumPy kernel that forward calls, and hands the new
Tensor to `record_unary` / `record_binary`, which make the node `apply` would have made (the
same class, edges, needs_input_grad, input and output metadata and saved tensors) and link the
output to it. That is only done while nothing watches op calls (`array_call` says RECORDED:
no export, vmap, autocast, saved-tensor hooks, inference tensors or anomaly mode; Tensors
or Parameters); otherwise the op goes through `apply` as before. Both paths run the same kernel and
build the same node, so the differential suites (values, gradients, node names and
next_functions against torch) check both: most tests take this path; those of hooks,
autocast and anomaly mode take the other.
"""

from ember._autocast import ACTIVE as _autocast_active
from ember._dtype import _BY_NUMPY
from ember._tensor import Tensor
from ember.autograd.anomaly_mode import _state as _ANOMALY
from ember.autograd.function import (_AFTER_FIRST, _ONE_NEEDED, EXPORT_HOOK, VMAP_HOOK, _edge,
                                     _link_two, _state)
from ember.autograd.saved_tensors import _NOTHING_SAVED, SAVED_TENSOR_HOOKS, SavedOutput

_new_object = object.__new__


# the classes whose instances record from arrays: Tensor, and nn.Parameter (which adds itself:
# its data, dtype and version are a Tensor's); other subclasses go through apply
RECORDED_CLASSES = {Tensor}
# how array_call says an op may run its array forward
THROUGH_APPLY = 0  # a hook, autocast, vmap, anomaly mode, inference tensors or a subclass about
UNRECORDED = 1  # no node: grad mode is off or no input requires grad (NOTE [Array forward])
RECORDED = 2  # then record_unary / record_binary make the node


def array_call(a, b=None) -> int:
    """How an op on the tensors a (and b) may run: THROUGH_APPLY, UNRECORDED or RECORDED."""
    if EXPORT_HOOK[0] is not None or VMAP_HOOK[0] is not None or _autocast_active[0]:
        return THROUGH_APPLY
    if not (_state["enabled"] and (a._requires_grad or b is not None and b._requires_grad)):
        return UNRECORDED
    if (type(a) in RECORDED_CLASSES and (b is None or type(b) in RECORDED_CLASSES) and
            not SAVED_TENSOR_HOOKS and not _state["inference_seen"] and not _ANOMALY["enabled"]):
        return RECORDED
    return THROUGH_APPLY


def record_unary(cls, x, y, arg_count=1, saves_output=False, elementwise=False):
    """Make the new floating Tensor y the output of a new `cls` node, as `cls.apply(x, ...)`
    would: x its one tensor argument, first of `arg_count` (the rest not tensors); saves y
    when `saves_output` (held without a cycle, as NOTE [Saved outputs]); `elementwise`: y has
    x's shape and dtype. Returns the node, for the op to set what its backward reads."""
    node = cls._backward_cls()
    data = x._data
    meta = (data.shape, _BY_NUMPY[data.dtype])
    if arg_count == 1:
        node.needs_input_grad = _ONE_NEEDED
        node._edges = (_edge(x),)
        node._input_meta = (meta,)
    else:  # (the edges, flags and metadata of the arguments that are not tensors, made once)
        needs, edges, input_meta = _AFTER_FIRST[arg_count]
        node.needs_input_grad = _ONE_NEEDED + needs
        node._edges = (_edge(x),) + edges
        node._input_meta = (meta,) + input_meta
    if not elementwise:
        data = y._data
        meta = (data.shape, _BY_NUMPY[data.dtype])
    node._output_meta = (meta,)
    y._requires_grad = True
    y.grad_fn = node
    if saves_output:  # (SavedOutput(y, 0) without its __init__ call; version 0: y is new)
        saved = _new_object(SavedOutput)
        saved._data, saved._version_counter, saved.output_nr = y._data, y._version_counter, 0
        node._saved = ((saved, 0),)
    return node


def record_binary(cls, a, b, y, saves_operands=False):
    """Make the new floating Tensor y the output of a new `cls` node, as `cls.apply(a, b)`
    would; `saves_operands`: each input's gradient needs the other input (a product), so the
    node saves a where b needs a gradient and b where a does, as Mul's forward."""
    node = cls._backward_cls()
    _link_two(node, a, b)
    data = y._data
    node._output_meta = ((data.shape, _BY_NUMPY[data.dtype]),)
    y._requires_grad = True
    y.grad_fn = node
    if saves_operands:
        needs_a, needs_b = node.needs_input_grad
        node._saved = ((a, a._version_counter.value) if needs_b else _NOTHING_SAVED,
                       (b, b._version_counter.value) if needs_a else _NOTHING_SAVED)
    return node
