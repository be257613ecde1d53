"""The Autograd kernel of a custom op (`torch._library.autograd.make_autograd_impl`): an
autograd.Function around the rest of the dispatch, with the registered `setup_context` and
`backward`, and PyTorch's checks on what backward returns.

NOTE [The generated Function]
Like PyTorch's, the Function is named `GeneratedBackwardFor_<ns>_<op>_<overload>` and takes
the op's positional arguments plus one last argument, the metadata holding the keyword-only
ones, so the grad_fn name, `ctx.needs_input_grad` (the metadata's entry cut off while the user's
backward runs) and the counts in its errors ("expected 4, got 2") are PyTorch's. Lists of
tensors (`Tensor[]` inputs or results) are spread into separate arguments and outputs and put
back together around the user's functions (torch's `supports_tensorlist`).
"""

from ember._backend import xp
from ember._library.schema import bind, split
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.autograd.function import Function


class _Metadata:
    """The last argument of the generated Function: the keyword-only arguments and how the
    tensor lists among the inputs and outputs were spread out."""

    def __init__(self, kwargs, spec):
        self.kwargs, self.input_spec, self.output_spec = kwargs, spec, None
        self.result_is_tuple, self.is_tensor, self.output_meta = False, (), ()


def _is_tensor_list(value) -> bool:
    """A list whose items are all tensors (torch spreads those; [None, t] stays one value)."""
    return isinstance(value, list) and all(isinstance(v, Tensor) for v in value)


def _spread(values):
    """(flat values, spec): each tensor list replaced by its items, spec[i] its length."""
    flat, spec = [], []
    for value in values:
        if _is_tensor_list(value):
            flat.extend(value)
            spec.append(len(value))
        else:
            flat.append(value)
            spec.append(None)
    return flat, spec


def _gather(flat, spec):
    """The values `_spread` made `flat` from."""
    values, index = [], 0
    for length in spec:
        if length is None:
            values.append(flat[index])
            index += 1
        else:
            values.append(list(flat[index:index + length]))
            index += length
    return tuple(values)


def _checked_grads(name, grads, is_tensor):
    """What backward returned, after PyTorch's checks (`PyNode::apply`): surplus Nones
    dropped, then one gradient per forward input, and None for every non-tensor input."""
    count = len(is_tensor)
    if len(grads) > count and all(g is None for g in grads[count:]):
        grads = grads[:count]
    if len(grads) != count:
        raise RuntimeError(f"function {name} returned an incorrect number of gradients "
                           f"(expected {count}, got {len(grads)})")
    for position, (grad, tensor) in enumerate(zip(grads, is_tensor)):
        if grad is not None and not tensor:
            raise RuntimeError(f"function {name} returned a gradient different than None at "
                               f"position {position + 1}, but the corresponding forward input "
                               "was not a Variable")
    return grads


def _any_requires_grad(args) -> bool:
    """Whether a tensor among the arguments (or in a list of them) requires grad."""
    return any(isinstance(v, Tensor) and v.requires_grad
               for value in args for v in (value if isinstance(value, list) else (value,)))


class _Generated(Function):
    """The autograd.Function of a custom op (NOTE [The generated Function]); each op gets a
    subclass holding the op (`op`) and its formulas (`info`)."""

    op = info = None

    @staticmethod
    def forward(ctx, *flat):
        """Run the op below autograd on the regrouped inputs, then setup_context."""
        cls, metadata = ctx._function, flat[-1]
        args = _gather(flat[:-1], metadata.input_spec)
        result = _run(cls.op, args, metadata.kwargs)
        if cls.info._setup_context_fn:
            _setup_context(cls.op._schema, cls.info._setup_context_fn, ctx, args,
                           metadata.kwargs, result)
        ctx._pt_metadata = metadata
        ctx.set_materialize_grads(False)  # (done in backward: zeros for tensor outputs only)
        return _spread_outputs(result, metadata)

    @staticmethod
    def backward(ctx, *grads):
        """The user's backward on regrouped gradients, its result checked as torch checks it."""
        cls, metadata = ctx._function, ctx._pt_metadata
        if not cls.info._backward_fn:
            raise RuntimeError(f"Trying to backward through {cls.op} but no autograd formula "
                               "was registered. Please use register_autograd to add one.")
        grads = [Tensor._make(xp.zeros(*meta)) if g is None and meta is not None else g
                 for g, meta in zip(grads, metadata.output_meta)]
        needs = ctx.needs_input_grad
        ctx.needs_input_grad = _gather(needs[:-1], metadata.input_spec)
        try:
            result = cls.info._backward_fn(ctx, *_gather(grads, metadata.output_spec))
        finally:
            ctx.needs_input_grad = needs
        result = result if isinstance(result, tuple) else (result,)
        if any(length is not None for length in metadata.input_spec):
            result = _spread_grads(result, metadata.input_spec)
        return _checked_grads(type(ctx).__name__, (*result, None), (*metadata.is_tensor, False))


def _run(op, args, kwargs):
    """The rest of the op's dispatch, below autograd: the kernel gets the caller's tensors,
    with grad mode off (so `x.numpy()` works there, as in PyTorch)."""
    return op.below_autograd(bind(op._schema, args, kwargs))


def _setup_context(schema, setup_context, ctx, args, kwargs, result):
    """Call the user's setup_context with every argument, defaults filled in, as torch does
    (keyword-only ones as `keyword_only_inputs` when the op has any)."""
    inputs, keyword_only = split(schema, bind(schema, args, kwargs))
    if any(a.kwarg_only for a in schema.arguments):
        setup_context(ctx=ctx, inputs=inputs, keyword_only_inputs=keyword_only, output=result)
    else:
        setup_context(ctx=ctx, inputs=inputs, output=result)


def _spread_outputs(result, metadata):
    """forward's return: the op's result with its tensor lists spread, noted in metadata."""
    outputs = result if isinstance(result, tuple) else (result,)
    flat, metadata.output_spec = _spread(outputs)
    metadata.output_meta = [(o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None
                            for o in flat]
    metadata.result_is_tuple = isinstance(result, tuple)
    return tuple(flat) if metadata.result_is_tuple or len(flat) != 1 else flat[0]


def make_autograd_impl(op, info):
    """The Autograd kernel of `op`; `info` has `_backward_fn` and `_setup_context_fn`."""
    name = f"GeneratedBackwardFor_{op.namespace}_{op._opname}_{op._overloadname}"
    generated = type(name, (_Generated,), {"op": op, "info": info})

    def autograd_impl(*args, **kwargs):
        if grad_mode.is_grad_enabled() and _any_requires_grad(args):
            flat, spec = _spread(args)
            metadata = _Metadata(kwargs, spec)
            metadata.is_tensor = [isinstance(v, Tensor) for v in flat]
            return _regroup(generated.apply(*flat, metadata), metadata)
        with grad_mode.no_grad():
            return _run(op, args, kwargs)

    return autograd_impl


def _spread_grads(result, spec):
    """The gradients backward gave for spread inputs, spread the same way (a list per tensor
    list), or torch's error when their structure differs from the inputs'."""
    if len(result) < len(spec) or any(
            (length is None) == isinstance(grad, (list, tuple)) or
            length is not None and len(grad) != length for grad, length in zip(result, spec)):
        raise RuntimeError("Expected the return from backward to be of the same structure as "
                           f"the inputs. Got: {result} (return from backward), {spec} (inputs)")
    flat = []
    for grad, length in zip(result, spec):
        flat.extend(grad if length is not None else (grad,))
    return tuple(flat) + tuple(result[len(spec):])


def _regroup(result, metadata):
    """What the op returns, from the generated Function's outputs (`_spread` undone)."""
    outputs = result if isinstance(result, tuple) else (result,)
    values = _gather(outputs, metadata.output_spec)
    return values if metadata.result_is_tuple else values[0]
