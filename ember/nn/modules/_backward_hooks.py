"""Full backward hooks for Modules (`register_full_backward_hook` / `_pre_hook`).

NOTE [How module backward hooks see whole-module gradients]
A module is many ops, so no single graph node has "the gradient of the module's output" and
"the gradient of its inputs". The call wraps the module's tensor inputs and outputs in identity
ops (`_HookIdentity`). In backward the output identity runs first: it receives grad_output (the
pre-hooks may replace it). The input identity runs last: it receives grad_input, and the hooks
are called with both (and may replace grad_input).
"""

from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.autograd.function import Function


class _HookIdentity(Function):
    """y_i = x_i for each tensor; backward hands the gradients to the hook state."""

    node_name = "BackwardHookFunctionBackward"

    @staticmethod
    def forward(ctx, state, side, *tensors):
        ctx.state, ctx.side = state, side
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        if ctx.side == "output":
            grads = ctx.state.on_grad_output(grads)
        else:
            grads = ctx.state.on_grad_input(grads)
        return (None, None) + tuple(grads)


class BackwardHookState:
    """The hooks of one module call, between its output's and its inputs' backward."""

    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.input_positions = None
        self.n_args = 0

    def wrap_inputs(self, args):
        """The args with their grad-requiring tensors routed through the input identity."""
        self.n_args = len(args)
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        if not positions or not grad_mode.is_grad_enabled():
            return args
        self.input_positions = positions
        wrapped = _HookIdentity.apply(self, "input", *(args[i] for i in positions))
        args = list(args)
        for i, t in zip(positions, wrapped):
            args[i] = t
        return tuple(args)

    def wrap_outputs(self, output):
        """The output with its grad-requiring tensors routed through the output identity."""
        single = isinstance(output, Tensor)
        outputs = (output,) if single else output
        if not isinstance(outputs, tuple):
            return output
        positions = [i for i, o in enumerate(outputs)
                     if isinstance(o, Tensor) and o.requires_grad]
        if not positions or not grad_mode.is_grad_enabled():
            return output
        wrapped = _HookIdentity.apply(self, "output", *(outputs[i] for i in positions))
        result = list(outputs)
        for i, t in zip(positions, wrapped):
            result[i] = t
        return result[0] if single else tuple(result)

    def on_grad_output(self, grads):
        """Run the pre-hooks on grad_output and keep it for the hooks."""
        grads = tuple(grads)
        for hook in list(self.module._backward_pre_hooks.values()):
            new = hook(self.module, grads)
            if new is not None:
                grads = tuple(new) if isinstance(new, (tuple, list)) else (new,)
        self.grad_output = grads
        if self.input_positions is None:  # no input needs grad: hooks see grad_input None
            self._call_hooks((None,) * self.n_args)
        return grads

    def on_grad_input(self, grads):
        """Call the hooks with (grad_input, grad_output); return the grads they choose."""
        packed = [None] * self.n_args
        for i, g in zip(self.input_positions, grads):
            packed[i] = g
        result = self._call_hooks(tuple(packed))
        return tuple(result[i] for i in self.input_positions)

    def _call_hooks(self, grad_input):
        for hook in list(self.module._backward_hooks.values()):
            new = hook(self.module, grad_input, self.grad_output)
            if new is not None:
                new = tuple(new) if isinstance(new, (tuple, list)) else (new,)
                if len(new) != len(grad_input):
                    raise RuntimeError(
                        f"Backward hook returned an invalid number of grad_input, got "
                        f"{len(new)}, but expected {len(grad_input)}")
                grad_input = new
        return grad_input
