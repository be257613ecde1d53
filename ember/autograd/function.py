"""The op protocol: `Function` (forward / backward side by side) and the graph nodes it makes.

Every ember op and every user-defined `ember.autograd.Function` use this one protocol:

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):              # receives Tensors, returns an array or a Tensor
            y = xp.exp(x._data)
            ...
        @staticmethod
        def backward(ctx, gy):            # receives and returns Tensors
            ...

NOTE [Backward is written with ember ops]
`backward` computes gradients with ember's own differentiable ops on Tensors. The engine runs
it with gradient recording off, so ordinary backward passes build no graph; with
`create_graph=True` it runs with recording on, and the gradient computation is itself a graph
that can be differentiated again. That is how higher-order gradients work for every op written
this way, with no second implementation. An op whose backward works on raw arrays is wrapped in
`once_differentiable`, and asking for its second derivative raises an error naming the op.
"""

import functools
import weakref

from ember._autocast import ACTIVE as _autocast_active
from ember._autocast import cast_arguments
from ember._backend import as_array, get_array_module, is_array, xp
from ember._dtype import _BY_NUMPY
from ember._registry import tensor_method
from ember._tensor import Tensor
from ember.autograd._custom_function import (forward_then_setup_context, keep_dirty_inputs,
                                             missing_backward, no_jvp, no_vjp)
from ember.autograd import grad_mode
from ember.autograd.anomaly_mode import _state as _ANOMALY, forward_trace
from ember.autograd.saved_tensors import (
    _NOTHING_SAVED, FREED_MESSAGE, SAVED_TENSOR_HOOKS, PackedTensor, SavedOutput,
    _hold_saved_outputs, modified_message, only_inference_tensors, pack_saved, saved_attribute,
    saved_entries)

_state = grad_mode._state
VMAP_HOOK = [None]  # ember.func's batching dispatch while a vmap runs (NOTE [Batched tensors])

# NOTE [The export hook] ember.onnx.export puts a recorder in EXPORT_HOOK[0] while the model runs:
# every op call goes to it (it runs the op, hook off, and notes it); otherwise one list read.
EXPORT_HOOK = [None]

class Node:
    """A node of the backward graph: what a tensor's `grad_fn` points to."""

    def name(self) -> str:
        return type(self).__name__

    def register_hook(self, hook):
        """Call hook(grad_inputs, grad_outputs) after this node's backward has run."""
        self.__dict__.setdefault("_post_hooks", []).append(hook)
        return _RemovableHandle(self._post_hooks, hook)

    def register_prehook(self, hook):
        """Call hook(grad_outputs) before this node's backward runs; it may return new grads."""
        self.__dict__.setdefault("_node_pre_hooks", []).append(hook)
        return _RemovableHandle(self._node_pre_hooks, hook)

    def __repr__(self):
        name = self.name().rsplit("::", 1)[-1]  # (torch prints C++ nodes by type name)
        if getattr(getattr(self, "_function", None), "_python_node", False):
            name = f"torch.autograd.function.{name}"
        return f"<{name} object at {hex(id(self))}>"


class _RemovableHandle:
    """What register_hook returns: `handle.remove()` unregisters the hook."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class BackwardNode(Node):
    """The `ctx` of a Function call, kept as the grad_fn of its outputs.

    It holds the edges to the inputs' nodes (`_edges`), the tensors saved for backward
    with their versions, and the shapes/dtypes the gradients must have.
    """

    _function = None  # the Function subclass; set per subclass

    # NOTE [Class-level defaults]
    # Every op call makes a node, so its fields start as these class attributes and become
    # instance attributes only when set: creating a node costs no attribute writes.
    _edges = ()  # one (node, index) per argument of apply: what the engine follows
    needs_input_grad = ()
    _saved = None
    _freed = False
    _materialize_grads = True
    _non_differentiable = ()
    _input_meta = ()
    _output_meta = ()
    _tensor_pre_hooks = None
    _retains_grad = None

    @property
    def next_functions(self) -> tuple:
        """The edges to the nodes of the tensor inputs, as PyTorch lists them: none for
        arguments that are not tensors (dims, flags, numbers), in PyTorch's order where an op
        defines `torch_edges`."""
        torch_edges = self._function.torch_edges
        if torch_edges is not None:
            return torch_edges(self, self._edges)
        return tuple([edge for edge in self._edges if edge is not NOT_A_TENSOR_EDGE])

    @functools.cached_property
    def metadata(self) -> dict:
        """A dict for user data attached to the node (matches `Node.metadata`)."""
        return {}

    def __getattr__(self, name):
        """`_saved_<arg>` and `_raw_saved_<arg>` (NOTE [Saved tensors by name])."""
        return saved_attribute(self, name, _NO_EDGE)

    # ---- ctx API used inside forward/backward ---------------------------------------------
    def save_for_forward(self, *tensors):
        """Keep tensors for a jvp (ember's forward mode runs backward: NOTE in forward_ad.py)."""
        self._saved_for_forward = tensors

    def save_for_backward(self, *tensors):
        """Keep tensors for backward; an in-place change to one before then is an error."""
        if SAVED_TENSOR_HOOKS or _state["inference_seen"]:  # (NOTE [Inference tensors])
            self._saved = pack_saved(tensors) if SAVED_TENSOR_HOOKS else saved_entries(tensors)
            return
        if len(tensors) == 1:  # (the commonest: an output, or the one input)
            t = tensors[0]
            self._saved = ((t, t._version_counter.value),) if t is not None else _ONE_UNSAVED
            return
        saved = []
        for t in tensors:  # (a loop: cheaper here than a comprehension's call)
            saved.append((t, t._version_counter.value) if t is not None else _NOTHING_SAVED)
        self._saved = tuple(saved)

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)
        if self._saved is None:
            return ()
        tensors = []
        for t, version in self._saved:
            if type(t) is SavedOutput:
                t = t.unpack(self)
            elif type(t) is PackedTensor:  # (what the hook gives back is not version-checked)
                tensors.append(t.unpack_hook(t.packed))
                continue
            if t is not None and t._version_counter.value != version:
                raise RuntimeError(modified_message(t, version, self))
            tensors.append(t)
        return tuple(tensors)

    def mark_non_differentiable(self, *tensors):
        """Outputs listed here never require grad (e.g. the indices returned by max)."""
        self._non_differentiable = tuple(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        """The inputs forward modified in place (and returns): NOTE [mark_dirty]."""
        self._dirty = tensors

    def set_materialize_grads(self, value: bool):
        """Whether undefined output gradients reach backward as zeros (True) or None."""
        self._materialize_grads = bool(value)

    # ---- engine side --------------------------------------------------------------------------
    def _release(self):
        """Free what was saved for backward (called after a backward without retain_graph)."""
        had_state = self._saved is not None
        self._saved = None
        attributes = self.__dict__
        # only what forward stored as ctx.<name> (a public name) is looked at
        for key in attributes.keys() - _KEPT_ATTRIBUTES:
            if key[0] == "_":
                continue
            value = attributes[key]
            if type(value) not in _NEVER_ARRAYS and (isinstance(value, Tensor) or
                                                     is_array(value)):
                del attributes[key]
                had_state = True
        if had_state:
            self._freed = True

    def _apply(self, grads):
        """Run the Function's backward on the output gradients; return one grad per input."""
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)
        if self._materialize_grads:
            for g in grads:
                if g is None:
                    grads = _zeros_for_missing(grads, self._output_meta)
                    break
        result = self._function.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        return result


_KEPT_ATTRIBUTES = frozenset(("needs_input_grad", "metadata"))
_NEVER_ARRAYS = frozenset((int, float, bool, str, tuple, list, dict, type(None)))


def _zeros_for_missing(grads, output_meta):
    """Zeros in place of the undefined output gradients, in the array module of the others."""
    module = get_array_module(*[g._data for g in grads if g is not None])
    return tuple([g if g is not None else Tensor._make(module.zeros(shape, dtype=dtype.numpy))
                  for g, (shape, dtype) in zip(grads, output_meta)])


class Function:
    """Base class of every differentiable op (matches `torch.autograd.Function`).

    Subclasses define static `forward(ctx, *args)` and `backward(ctx, *grad_outputs)` and are
    called through `apply`. Each subclass gets a node class named like PyTorch's grad_fn names:
    `MulBackward0` for ember's own ops, `MyFunctionBackward` for user Functions.
    """

    _node_suffix = "Backward"
    _omits_trailing_grads = False  # (ember's own Functions may: engine's `_validate`)
    _python_node = True  # a Python Function in PyTorch too (not one of its C++ nodes)
    # PyTorch runs even a node no gradient reaches: a Python Function's backward gets zeros (or
    # Nones); a built-in op's node passes nothing on (the engine skips ember's Ops)
    _runs_without_grads = True
    torch_edges = None  # edges (one per apply argument) -> next_functions in PyTorch's order
    _node_defaults = {}  # class attributes of its nodes (ctx.<name> forward may leave unset)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_setup_context_of" in cls.__dict__:  # NOTE [setup_context]: the hidden subclass
            cls._backward_cls = cls._setup_context_of._backward_cls
            return
        name = cls.__dict__.get("node_name") or f"{cls.__name__}{cls._node_suffix}"
        cls._backward_cls = type(name, (BackwardNode,), {"_function": cls, **cls._node_defaults})
        if cls.setup_context is not Function.setup_context:
            cls._with_context = type(cls.__name__, (cls,), {
                "_setup_context_of": cls, "__module__": cls.__module__,
                "forward": staticmethod(forward_then_setup_context(cls))})
            cls.apply = classmethod(_apply_with_context)

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Save what backward needs, for a forward(*args) without ctx (NOTE [setup_context])."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        return missing_backward(ctx, grad_outputs)  # (its vjp, or PyTorch's error)

    vjp, jvp = staticmethod(no_vjp), staticmethod(no_jvp)  # (what a Function may define)

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward without recording, then link the outputs into the graph if needed."""
        # NOTE [The hot path]
        # Every op goes through here, so it is written for speed. The common case (no hook or
        # autocast active, no input that requires grad) costs three list reads, one scan of the
        # arguments and the forward call; the single-array output is wrapped directly. Only
        # when an input requires grad does `_apply_recording` record the graph edges.
        if EXPORT_HOOK[0] is not None:  # NOTE [The export hook]
            return EXPORT_HOOK[0](cls, args, kwargs)
        if VMAP_HOOK[0] is not None:  # a vmap is running: batched arguments go to their rule
            batched = VMAP_HOOK[0](cls, args, kwargs)
            if batched is not NotImplemented:
                return batched
        if _autocast_active[0]:  # NOTE [Autocast as a policy table] in ember/_autocast.py
            args = cast_arguments(cls.__name__, args)
        ctx = cls._backward_cls()
        enabled = _state["enabled"]
        if enabled:
            for a in args:
                if isinstance(a, Tensor) and a._requires_grad:
                    return _apply_recording(cls, ctx, args, kwargs)
        count = len(args)
        ctx.needs_input_grad = _NO_GRADS[count] if count < _FEW else (False,) * count
        if enabled:
            _state["enabled"] = False  # forward's own ops record nothing either
            try:
                output = cls.forward(ctx, *args, **kwargs) if kwargs else cls.forward(ctx, *args)
            finally:
                _state["enabled"] = True
        else:
            output = cls.forward(ctx, *args, **kwargs) if kwargs else cls.forward(ctx, *args)
        if ctx._saved is not None:
            ctx._saved = None  # nothing will run backward: drop what forward saved
        if type(output) is _NDARRAY:
            return _make(output)
        if type(output) in _NUMPY_SCALARS:  # a full reduction's NumPy scalar: a 0-d array
            return _make(_asarray(output))
        result = _wrap_outputs(output, args)
        if "_dirty" in ctx.__dict__:  # NOTE [mark_dirty]
            return keep_dirty_inputs(ctx, output, result, False)
        return result


def _apply_with_context(cls, *args, **kwargs):
    """apply of a Function with setup_context: through its hidden subclass (NOTE
    [setup_context])."""
    return Function.apply.__func__(cls._with_context, *args, **kwargs)


_FEW = 8
_NO_GRADS = tuple((False,) * count for count in range(_FEW))  # needs_input_grad, nothing recorded
_NDARRAY = xp.ndarray
_make = Tensor._make
_new_object = object.__new__


def _apply_recording(cls, ctx, args, kwargs):
    """Function.apply when an input requires grad: link inputs, run forward, link outputs."""
    if _state["inference_seen"] and only_inference_tensors(args):  # (NOTE [Inference tensors])
        return _unrecorded(cls, args, kwargs)
    if len(args) == 1 and type(args[0]) is Tensor:  # a unary op on a plain tensor
        data = args[0]._data
        ctx.needs_input_grad, ctx._edges = _ONE_NEEDED, (_edge(args[0]),)
        ctx._input_meta = ((data.shape, _BY_NUMPY[data.dtype]),)
    else:
        _link_inputs(ctx, args, Tensor)
    if _ANOMALY["enabled"]:  # torch's anomaly mode names the forward call of a failing node
        ctx._forward_trace = forward_trace(cls._python_node)
    _state["enabled"] = False
    try:
        output = cls.forward(ctx, *args, **kwargs) if kwargs else cls.forward(ctx, *args)
    finally:
        _state["enabled"] = True
    # one new array or Tensor (the common case): linked here, without _link_outputs' loop
    made_by_forward = False  # (only a Tensor forward made can be among what it saved)
    if type(output) is _NDARRAY:
        result = _make(output)
    elif type(output) in _NUMPY_SCALARS:  # a full reduction's NumPy scalar: a 0-d array
        result = _make(_asarray(output))
    elif type(output) is Tensor and (output is not args[0] if len(args) == 1 else
                                     id(output) not in map(id, args)):  # (a new Tensor)
        result = output
        result._output_nr = 0
        made_by_forward = True
    else:
        result = _wrap_outputs(output, args)
        if "_dirty" in ctx.__dict__:  # NOTE [mark_dirty]
            result = keep_dirty_inputs(ctx, output, result, True)
        outputs = result if isinstance(output, tuple) else (result,)
        _link_outputs(ctx, outputs, Tensor)
        if ctx._saved is not None:
            _hold_saved_outputs(ctx, outputs)
        return result
    data = result._data
    dtype = _BY_NUMPY[data.dtype]
    ctx._output_meta = ((data.shape, dtype),)
    marked = ctx._non_differentiable
    if (dtype.is_floating_point or dtype.is_complex) and (not marked or id(result) not in marked):
        result._requires_grad = True
        result.grad_fn = ctx
        saved = ctx._saved
        if made_by_forward and saved is not None:
            if len(saved) == 1 and saved[0][0] is result:  # exp, tanh, relu: y alone
                ctx._saved = ((SavedOutput(result, 0), saved[0][1]),)
            else:
                _hold_saved_outputs(ctx, (result,))
    return result


def _wrap_outputs(output, args):
    """What forward returned, as Function.apply returns it: arrays wrapped in Tensors."""
    if isinstance(output, tuple):
        return tuple([_as_tensor_output(o, args, Tensor) for o in output])
    return _as_tensor_output(output, args, Tensor)


def _as_tensor_output(o, args, Tensor):
    """Wrap an array returned by forward in a Tensor; pass other values through."""
    if type(o) is Tensor:  # the common case first: a new Tensor made by forward
        for a in args:
            if o is a:
                return _make(o._data)  # a Function returning its input returns a new alias
        return o
    if type(o) in _NUMPY_SCALARS:  # a reduction's NumPy scalar becomes a 0-d array
        return _make(xp.asarray(o))
    if is_array(o):
        return _make(as_array(o))
    if isinstance(o, Tensor) and any(o is a for a in args):
        return _make(o._data)
    return o


_NUMPY_SCALARS = frozenset(xp.dtype(code).type for code in "?bhilqBHILQefdgFDG")
_asarray = xp.asarray


def _link_inputs(ctx, args, Tensor):
    """Record which inputs need a gradient, the graph edges to them, and their shapes/dtypes."""
    # (a unary op on a plain tensor is linked in _apply_recording)
    if len(args) == 2 and type(args[0]) is Tensor and type(args[1]) is Tensor:
        _link_two(ctx, *args)  # a binary op on two plain tensors
        return
    for a in args[1:]:
        if isinstance(a, Tensor):
            break
    else:  # the first argument the one tensor: a reduction's or a view's dims, flags after it
        a = args[0]  # (or a unary op's one argument, of a Tensor subclass)
        data = a._data
        needs, edges, input_meta = _AFTER_FIRST[len(args)] if len(args) < _FEW else (
            (False,) * (len(args) - 1), (NOT_A_TENSOR_EDGE,) * (len(args) - 1),
            (None,) * (len(args) - 1))
        ctx.needs_input_grad = _ONE_NEEDED + needs
        ctx._edges = (_edge(a),) + edges
        ctx._input_meta = ((data.shape, _BY_NUMPY[data.dtype] if type(a) is Tensor
                            else a.dtype),) + input_meta  # (the property, for subclasses)
        return
    needs, edges, input_meta = [], [], []
    for a in args:
        if isinstance(a, Tensor) and a._requires_grad:
            edges.append(_edge(a))
            needs.append(True)
            data = a._data
            input_meta.append((data.shape, _BY_NUMPY[data.dtype] if type(a) is Tensor
                               else a.dtype))
        else:
            needs.append(False)
            edges.append(_NO_EDGE if isinstance(a, Tensor) else NOT_A_TENSOR_EDGE)
            input_meta.append(None)
    ctx.needs_input_grad = tuple(needs)
    ctx._edges = tuple(edges)
    ctx._input_meta = tuple(input_meta)


def _unrecorded(cls, args, kwargs):
    """cls.apply as under no_grad: what an op only on inference tensors does."""
    _state["enabled"] = False
    try:
        return cls.apply(*args, **kwargs)
    finally:
        _state["enabled"] = True


def _link_two(ctx, a, b):
    """_link_inputs of two plain tensors, one of which requires grad, without the lists."""
    needs_a = True if a._requires_grad else False
    needs_b = True if b._requires_grad else False
    ctx.needs_input_grad = (needs_a, needs_b)
    ctx._edges = (_edge(a) if needs_a else _NO_EDGE, _edge(b) if needs_b else _NO_EDGE)
    ctx._input_meta = ((a._data.shape, _BY_NUMPY[a._data.dtype]) if needs_a else None,
                       (b._data.shape, _BY_NUMPY[b._data.dtype]) if needs_b else None)


def _edge(a):
    """The graph edge to a tensor that requires grad: its grad_fn, or its leaf's accumulator."""
    node = a.grad_fn
    if node is not None:
        return node, a._output_nr
    ref = a._accumulator  # a weak reference to the leaf's AccumulateGrad
    accumulator = ref() if ref is not None else None
    if accumulator is None:  # (a leaf's first use in this graph: gradient_edge, in short)
        accumulator = _new_object(AccumulateGrad)  # (AccumulateGrad(a) without the __init__ call)
        accumulator.variable = a
        a._accumulator = weakref.ref(accumulator)
    return accumulator, 0


def _link_outputs(ctx, outputs, Tensor):
    """Make ctx the grad_fn of the differentiable (floating, not marked) outputs."""
    output_meta = []
    non_differentiable = ctx._non_differentiable
    for index, t in enumerate(outputs):
        if not isinstance(t, Tensor):
            output_meta.append(_NOT_A_TENSOR)
            continue
        data = t._data
        dtype = _BY_NUMPY[data.dtype] if type(t) is Tensor else t.dtype
        output_meta.append((data.shape, dtype))
        if (dtype.is_floating_point or dtype.is_complex) and (not non_differentiable or
                                                                id(t) not in non_differentiable):
            t._requires_grad = True
            t.grad_fn = ctx
            t._output_nr = index
    ctx._output_meta = tuple(output_meta)


_NOT_A_TENSOR = ((), None)
FunctionCtx = BackwardNode  # torch's name for the class of a Function's ctx (type hints)
_NO_EDGE = (None, 0)
NOT_A_TENSOR_EDGE = tuple([None, 0])  # a non-tensor argument's edge, left out of next_functions
# (made at run time: the constant (None, 0) would be the very object _NO_EDGE is)
_ONE_NEEDED, _ONE_UNSAVED = (True,), (_NOTHING_SAVED,)
# _link_inputs' (needs, edges, input_meta) of the arguments after a first and only tensor,
# indexed by the argument count (from 1)
_AFTER_FIRST = ((),) + tuple(((False,) * (count - 1), (NOT_A_TENSOR_EDGE,) * (count - 1),
                              (None,) * (count - 1)) for count in range(1, _FEW))


class AccumulateGrad(Node):
    """The node at a leaf tensor: adds the incoming gradient into `tensor.grad`.

    NOTE [Leaf and accumulator]
    The node holds its leaf strongly (a leaf the user dropped still gets its hooks called, as in
    PyTorch) and the leaf refers to its node weakly (no reference cycle): the node lives as long
    as some graph uses it, and the next graph built from the leaf makes a new one.
    """

    next_functions = _edges = ()

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):  # (PyTorch prints the class's name here, not name()'s)
        return f"<AccumulateGrad object at {hex(id(self))}>"


@tensor_method("_gradient_edge")
def gradient_edge(tensor):
    """The (node, output index) a gradient for `tensor` flows into."""
    if tensor.grad_fn is not None:
        return tensor.grad_fn, tensor._output_nr
    accumulator = tensor._accumulator() if tensor._accumulator is not None else None
    if accumulator is None:
        accumulator = AccumulateGrad(tensor)
        tensor._accumulator = weakref.ref(accumulator)
    return accumulator, 0


def once_differentiable(backward):
    """A backward that runs once, recording nothing; under create_graph its results hang from
    torch's DelayedError node (Error), on detached copies: reaching it raises, an input never."""

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with grad_mode.no_grad():
            result = backward(ctx, *grads)
        single = not isinstance(result, tuple)
        results = [Tensor._make(as_array(r)) if is_array(r) else r
                   for r in ((result,) if single else result)]
        if _state["enabled"] and any(g is not None and g._requires_grad for g in grads):
            wrapped = iter(_DelayedError.apply(*[r.detach().requires_grad_() for r in results
                                                 if isinstance(r, Tensor)]))
            results = [next(wrapped) if isinstance(r, Tensor) else r for r in results]
        return results[0] if single else tuple(results)

    return wrapper


class _DelayedError(Function):
    node_name = "Error"
    _python_node = False
    _runs_without_grads = False

    @staticmethod
    def forward(ctx, *results):
        return tuple(Tensor._make(r._data) for r in results)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")


def unrecorded(a, b=None) -> bool:
    """Whether an op on tensors a (and b) would record nothing, with no hook or autocast active:
    the condition for calling its array forward directly (NOTE [Array forward] below)."""
    return (not (_state["enabled"] and (a._requires_grad or b is not None and b._requires_grad))
            and EXPORT_HOOK[0] is None and VMAP_HOOK[0] is None and not _autocast_active[0])


def array_result(y) -> Tensor:
    """An array forward's result as a new Tensor: a NumPy scalar as a 0-d array, an array of
    another library (ember/_backend.py) as it is."""
    if type(y) is _NDARRAY:
        return _make(y)
    return _make(_asarray(y) if type(y) in _NUMPY_SCALARS else as_array(y))


class Op(Function):
    """Base of ember's built-in ops: Function's protocol, PyTorch's node names (`XBackward0`)."""

    _node_suffix = "Backward0"
    _omits_trailing_grads = True
    _python_node = False
    _runs_without_grads = False

    # NOTE [Array forward]
    # Where an op's forward, for plain arguments, is one NumPy call on its inputs' arrays, a
    # call that will record nothing (no input requires grad, or grad mode is off: `unrecorded`)
    # and that no hook or autocast watches may make that call directly and wrap its result
    # (`array_result`): the same array, without the node, the argument scan and the forward
    # call of `apply`. Small-tensor arithmetic spent about half its time there. Binary ops name
    # the NumPy function here for `apply_binary` (recording too: saves_operands, NOTE [Recording
    # from arrays]); relu, sum and basic indexing call theirs in their own code.
    array_forward, saves_operands = None, False

