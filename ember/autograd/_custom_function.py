"""Parts of the custom-Function protocol that ember's own ops never use, kept out of
Function.apply's hot path: `setup_context`, `ctx.mark_dirty` and a Function defined by its `vjp`
or only by its `jvp`.

NOTE [setup_context]
PyTorch 2 lets a Function split its forward: `forward(*args)` computes without a ctx, and
`setup_context(ctx, inputs, output)` saves what backward needs (the form torch.func requires).
A Function that defines setup_context gets a hidden subclass whose forward(ctx, *args) runs the
two in turn; its `apply` goes through that subclass, whose nodes are the Function's own, so
`grad_fn` is named and backpropagated as the Function.

NOTE [mark_dirty]
A forward that modifies an input in place and returns it calls `ctx.mark_dirty(x)`: PyTorch
then returns that same tensor object (not a new alias) with its history rebased onto the
Function's node and its version bumped once more, so that the next backward goes through the
Function. A leaf that requires grad cannot be modified so.
"""


def forward_then_setup_context(function):
    """forward(ctx, *args) of the hidden subclass of NOTE [setup_context]."""

    def forward(ctx, *args, **kwargs):
        output = function.forward(*args, **kwargs)
        function.setup_context(ctx, args, output)
        return output

    return forward


def keep_dirty_inputs(ctx, output, result, recording):
    """`result` with each output that forward returned from ctx.mark_dirty's inputs replaced by
    that input itself, its version bumped (NOTE [mark_dirty])."""
    dirty = ctx._dirty
    several = isinstance(output, tuple)
    outputs, results = (output, result) if several else ((output,), (result,))
    kept = []
    for made, wrapped in zip(outputs, results):
        if not any(made is t for t in dirty):
            kept.append(wrapped)
            continue
        if recording and made._requires_grad and made.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad has been used in an in-place "
                               "operation.")
        _bump_version(ctx, made)
        kept.append(made)
    return tuple(kept) if several else kept[0]


def _bump_version(ctx, tensor):
    """One more version for a dirty input; what forward saved of it stays valid."""
    counter = tensor._version_counter
    counter.value += 1
    if ctx._saved:
        ctx._saved = tuple((t, counter.value) if t is tensor else (t, version)
                           for t, version in ctx._saved)


# ---- vjp, jvp ---------------------------------------------------------------------------------
NO_BACKWARD = ("You must implement either the backward or vjp method for your custom "
               "autograd.Function to use it with backward mode AD.")
NO_JVP = ("You must implement the jvp function for custom autograd.Function to use it with "
          "forward mode AD.")
# While forward mode's double backward runs (NOTE [jvp-only Functions] in forward_ad.py): the
# stand-in backward of a Function that defines only jvp
FORWARD_MODE = [None]


def unimplemented(method):
    """Mark a Function method the user did not define (backward finds the one they did)."""
    method.unimplemented = True
    return method


@unimplemented
def no_vjp(ctx, *grad_outputs):
    """Function.vjp unless a Function defines it (PyTorch's other name for backward)."""
    raise NotImplementedError(NO_BACKWARD)


@unimplemented
def no_jvp(ctx, *grad_inputs):
    """Function.jvp unless a Function defines it (its forward-mode formula)."""
    raise NotImplementedError(NO_JVP)


def missing_backward(ctx, grad_outputs):
    """Function.backward when a Function does not define it: its `vjp` (PyTorch's other name
    for backward), forward mode's stand-in for a jvp-only Function, else PyTorch's error."""
    function = ctx._function
    if not getattr(function.vjp, "unimplemented", False):
        return function.vjp(ctx, *grad_outputs)
    if FORWARD_MODE[0] is not None and not getattr(function.jvp, "unimplemented", False):
        return FORWARD_MODE[0](ctx, grad_outputs)
    raise NotImplementedError(NO_BACKWARD)

