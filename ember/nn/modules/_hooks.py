"""Module hooks: forward (pre-)hooks, full backward (pre-)hooks and the hooked call.

`Module` inherits the registration methods and `_call_with_hooks` from `_ModuleHooks`;
`Module.__call__` takes this path only when a hook is registered (see NOTE [The call fast
path] in module.py).

NOTE [How module backward hooks see whole-module gradients]
A module is many ops, so no single graph node has "the gradient of the module's output" and
"the gradient of its inputs". The call wraps the module's tensor inputs and outputs in identity
ops (`_HookIdentity`). In backward the output identity runs first: it receives grad_output (the
pre-hooks may replace it). The input identity runs last: it receives grad_input, and the hooks
are called with both (and may replace grad_input).
"""

import itertools
import os
import sys
import warnings
from collections import OrderedDict

from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.autograd.engine import checked_hook_result
from ember.autograd.function import NOT_A_TENSOR_EDGE, Function
from ember.ops.nn_ops import Linear

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + os.sep


# NOTE [Global module hooks]
# torch.nn.modules.module.register_module_*_hook install hooks that run for every module's call,
# before the module's own hooks. They live here; `ACTIVE` tells Module.__call__'s fast path
# whether any is registered.
_GLOBAL_FORWARD_PRE = OrderedDict()
_GLOBAL_FORWARD = OrderedDict()
_GLOBAL_FORWARD_WITH_KWARGS = {}  # hook id -> None (dicts, so a handle can pop them)
_GLOBAL_FORWARD_ALWAYS = {}
_GLOBAL_BACKWARD = OrderedDict()
_GLOBAL_BACKWARD_PRE = OrderedDict()
_GLOBAL_TABLES = (_GLOBAL_FORWARD_PRE, _GLOBAL_FORWARD, _GLOBAL_BACKWARD, _GLOBAL_BACKWARD_PRE)
ACTIVE = [False]


def _refresh_active():
    ACTIVE[0] = any(_GLOBAL_TABLES)


class _GlobalHandle:
    """The handle of a global hook: removing it also refreshes `ACTIVE`."""

    def __init__(self, handle):
        self.handle, self.id = handle, handle.id

    def remove(self):
        self.handle.remove()
        _refresh_active()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _register_global(table, hook, *extra):
    handle = RemovableHandle(table, *extra)
    table[handle.id] = hook
    _refresh_active()
    return _GlobalHandle(handle)


def register_module_forward_pre_hook(hook):
    """hook(module, args) before every module's forward (matches torch's global hook)."""
    return _register_global(_GLOBAL_FORWARD_PRE, hook)


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """hook(module, args, output) after every module's forward."""
    handle = _register_global(_GLOBAL_FORWARD, hook, _GLOBAL_FORWARD_WITH_KWARGS,
                              _GLOBAL_FORWARD_ALWAYS)
    if with_kwargs:
        _GLOBAL_FORWARD_WITH_KWARGS[handle.id] = None
    if always_call:
        _GLOBAL_FORWARD_ALWAYS[handle.id] = None
    return handle


def register_module_full_backward_hook(hook):
    """hook(module, grad_input, grad_output) in every module's backward."""
    return _register_global(_GLOBAL_BACKWARD, hook)


register_module_backward_hook = register_module_full_backward_hook


def register_module_full_backward_pre_hook(hook):
    """hook(module, grad_output) before every module's backward."""
    return _register_global(_GLOBAL_BACKWARD_PRE, hook)


# NOTE [Registration hooks]
# register_module_{buffer,parameter,module}_registration_hook: hook(module, name, value) runs
# whenever a module registers a buffer, parameter or submodule (also through attribute
# assignment) and may return a replacement value. Registration is not a hot path: the tables
# are consulted on every registration.
_GLOBAL_BUFFER_REGISTRATION = OrderedDict()
_GLOBAL_PARAMETER_REGISTRATION = OrderedDict()
_GLOBAL_MODULE_REGISTRATION = OrderedDict()


def register_module_buffer_registration_hook(hook):
    """hook(module, name, buffer) -> None or a new buffer, on every buffer registration."""
    handle = RemovableHandle(_GLOBAL_BUFFER_REGISTRATION)
    _GLOBAL_BUFFER_REGISTRATION[handle.id] = hook
    return handle


def register_module_parameter_registration_hook(hook):
    """hook(module, name, param) -> None or a new parameter, on every parameter registration."""
    handle = RemovableHandle(_GLOBAL_PARAMETER_REGISTRATION)
    _GLOBAL_PARAMETER_REGISTRATION[handle.id] = hook
    return handle


def register_module_module_registration_hook(hook):
    """hook(module, name, submodule) -> None or a new submodule, on every child registration."""
    handle = RemovableHandle(_GLOBAL_MODULE_REGISTRATION)
    _GLOBAL_MODULE_REGISTRATION[handle.id] = hook
    return handle


def run_registration_hooks(table, module, name, value):
    """The value to register after every hook of `table` has seen (and maybe replaced) it."""
    for hook in list(table.values()):
        output = hook(module, name, value)
        if output is not None:
            value = output
    return value


class RemovableHandle:
    """What the register_*_hook methods return: `.remove()` unregisters the hook."""

    _next_id = itertools.count()

    def __init__(self, hooks_dict, *extra_dicts):
        self.hooks_dict = hooks_dict
        self.extra_dicts = extra_dicts
        self.id = next(RemovableHandle._next_id)

    def remove(self) -> None:
        """Unregister the hook (a no-op if already removed)."""
        for d in (self.hooks_dict,) + self.extra_dicts:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.remove()


def _insert_hook(hooks: OrderedDict, hook_id, hook, prepend: bool) -> None:
    hooks[hook_id] = hook
    if prepend:
        hooks.move_to_end(hook_id, last=False)


def _user_stacklevel():
    """The stacklevel of the first frame outside ember (torch's warnings point at user code)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_EMBER_DIR):
        frame, level = frame.f_back, level + 1
    return level


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
            new = ctx.state.on_grad_output(grads)
        else:
            new = ctx.state.on_grad_input(grads)
        # torch checks what the module's hooks chose as a node hook named 'hook' would be
        return (None, None) + tuple(checked_hook_result("hook", g, n) for g, n in zip(grads, new))


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
        hooks = list(_GLOBAL_BACKWARD_PRE.values()) + list(self.module._backward_pre_hooks.values())
        for hook in hooks:
            new = hook(self.module, grads)
            if new is not None:
                grads = tuple(new) if isinstance(new, (tuple, list)) else (new,)
        self.grad_output = grads
        if self.input_positions is None:  # no input needs grad: hooks see grad_input None
            warnings.warn("Full backward hook is firing when gradients are computed with respect "
                          "to module outputs since no inputs require gradients. See "
                          "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                          "#torch.nn.Module.register_full_backward_hook for more details.",
                          stacklevel=_user_stacklevel())
            self._call_hooks((None,) * self.n_args, no_input_grads=True)
        return grads

    def on_grad_input(self, grads):
        """Call the hooks with (grad_input, grad_output); return the grads they choose."""
        packed = [None] * self.n_args
        for i, g in zip(self.input_positions, grads):
            packed[i] = g
        result = self._call_hooks(tuple(packed))
        return tuple(result[i] for i in self.input_positions)

    def _call_hooks(self, grad_input, no_input_grads=False):
        own = self.module._backward_hooks.values() if self.module._is_full_backward_hook else ()
        for hook in list(_GLOBAL_BACKWARD.values()) + list(own):
            new = hook(self.module, grad_input, self.grad_output)
            if no_input_grads:
                if new is not None and not (isinstance(new, tuple) and
                                            all(g is None for g in new)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
                continue
            if new is not None:
                new = tuple(new) if isinstance(new, (tuple, list)) else (new,)
                if len(new) != len(grad_input):
                    raise RuntimeError(
                        f"Backward hook returned an invalid number of grad_input, got "
                        f"{len(new)}, but expected {len(grad_input)}")
                grad_input = new
        return grad_input


class _ModuleHooks:
    """Hook registration and the hooked call of `Module` (a base class of Module)."""

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """hook(module, args) before forward; may return new args (matches PyTorch)."""
        handle = RemovableHandle(self._forward_pre_hooks, self._forward_pre_hooks_with_kwargs)
        _insert_hook(self._forward_pre_hooks, handle.id, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        return handle

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """hook(module, args, output) after forward; may return a new output."""
        handle = RemovableHandle(self._forward_hooks, self._forward_hooks_with_kwargs,
                                 self._forward_hooks_always_called)
        _insert_hook(self._forward_hooks, handle.id, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        return handle

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """hook(module, grad_input, grad_output) once the inputs' gradients are known."""
        if self._is_full_backward_hook is False:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks "
                               "on a single Module. Please use only one of them.")
        self._is_full_backward_hook = True
        handle = RemovableHandle(self._backward_hooks)
        _insert_hook(self._backward_hooks, handle.id, hook, prepend)
        return handle

    def register_backward_hook(self, hook) -> RemovableHandle:
        """The deprecated module backward hook; ember runs it as a full backward hook."""
        if self._is_full_backward_hook is True:
            raise RuntimeError("Cannot use both regular backward hooks and full backward hooks "
                               "on a single Module. Please use only one of them.")
        self._is_full_backward_hook = False
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        return handle

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """hook(module, grad_output) before the inputs' gradients are computed."""
        handle = RemovableHandle(self._backward_pre_hooks)
        _insert_hook(self._backward_pre_hooks, handle.id, hook, prepend)
        return handle

    def _call_with_hooks(self, args, kwargs):
        for hook in list(_GLOBAL_FORWARD_PRE.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        for hook_id, hook in list(self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward_state = None
        full_hooks = self._backward_hooks and self._is_full_backward_hook
        if full_hooks or self._backward_pre_hooks or _GLOBAL_BACKWARD or _GLOBAL_BACKWARD_PRE:
            backward_state = BackwardHookState(self)
            args = backward_state.wrap_inputs(args)
        try:
            output = self.forward(*args, **kwargs)
        except Exception:
            # hooks registered with always_call=True run even when forward raises
            for hook_id, hook in list(_GLOBAL_FORWARD.items()):
                if hook_id in _GLOBAL_FORWARD_ALWAYS:
                    _run_global_forward_hook(self, hook_id, hook, args, kwargs, None)
            for hook_id, hook in list(self._forward_hooks.items()):
                if hook_id in self._forward_hooks_always_called:
                    self._run_forward_hook(hook_id, hook, args, kwargs, None)
            raise
        for hook_id, hook in list(_GLOBAL_FORWARD.items()):
            result = _run_global_forward_hook(self, hook_id, hook, args, kwargs, output)
            if result is not None:
                output = result
        for hook_id, hook in list(self._forward_hooks.items()):
            result = self._run_forward_hook(hook_id, hook, args, kwargs, output)
            if result is not None:
                output = result
        if backward_state is not None:
            output = backward_state.wrap_outputs(output)
        if self._backward_hooks and self._is_full_backward_hook is False:
            _attach_non_full_hooks(self, args, output)
        return output

    def _run_forward_hook(self, hook_id, hook, args, kwargs, output):
        if hook_id in self._forward_hooks_with_kwargs:
            return hook(self, args, kwargs, output)
        return hook(self, args, output)


def _run_global_forward_hook(module, hook_id, hook, args, kwargs, output):
    if hook_id in _GLOBAL_FORWARD_WITH_KWARGS:
        return hook(module, args, kwargs, output)
    return hook(module, args, output)


# NOTE [Non-full (register_backward_hook) hooks]
# torch hangs the deprecated hooks on the grad_fn of the module's first output tensor: they see
# that one node's gradients, not the module's. ember's nodes differ from torch's in two places,
# translated here: Linear is one node with edges (input, weight, bias) where torch has addmm
# (bias, input, weightᵀ) or mm (input, weightᵀ), behind a view for inputs other than 2-D; and
# convolution nodes carry two extra non-tensor edges. What a hook returns is ignored (ember's
# node post-hooks cannot replace gradients; torch would use it as the new grad_input).
def _attach_non_full_hooks(module, args, output):
    var = output
    while not isinstance(var, Tensor):
        var = next(v for v in var.values() if isinstance(v, Tensor)) if isinstance(var, dict) \
            else var[0]
    node = var.grad_fn
    if node is None:
        return
    for hook in list(module._backward_hooks.values()):
        node.register_hook(_non_full_hook(module, hook, node))
    _maybe_warn_non_full_backward_hook(args, output, node)


def _non_full_hook(module, hook, node):
    def post_hook(grad_inputs, grad_outputs):
        hook(module, _torch_grad_inputs(node, grad_inputs, grad_outputs), grad_outputs)
    return post_hook


def _torch_grad_inputs(node, grad_inputs, grad_outputs):
    """The node's input gradients as torch's node for the same op has them."""
    name = node.name()
    if _is_linear(node):
        if name not in ("AddmmBackward0", "MmBackward0"):  # a view of the 2-D product
            return (grad_outputs[0].reshape(-1, grad_outputs[0].shape[-1]),)
        gx, gw, gb = grad_inputs
        gwt = None if gw is None else gw.t()
        return (gb, gx, gwt) if name == "AddmmBackward0" else (gx, gwt)
    if name == "ConvolutionBackward0":
        return tuple(grad_inputs[:3])
    # torch's node has one gradient per tensor input; ember's op one per apply argument
    return tuple([g for g, edge in zip(grad_inputs, node._edges) if edge is not NOT_A_TENSOR_EDGE])


def _torch_edges(node):
    """The grad_fns of the node's inputs as torch's node has them (None where none)."""
    return [fn for fn, _ in node.next_functions]


def _maybe_warn_non_full_backward_hook(inputs, result, node):
    """torch's FutureWarnings for hooks that will miss gradients (its
    `Module._maybe_warn_non_full_backward_hook`)."""
    result = (result,) if isinstance(result, Tensor) else result
    if not (isinstance(result, tuple) and all(isinstance(r, Tensor) for r in result)):
        return _deprecated("does not return a single Tensor or a tuple of Tensors", "output")
    inputs = (inputs,) if isinstance(inputs, Tensor) else inputs
    if not (isinstance(inputs, tuple) and all(isinstance(i, Tensor) for i in inputs)):
        return _deprecated("does not take as input a single Tensor or a tuple of Tensors",
                           "input")
    out_nodes = {r.grad_fn for r in result if r.grad_fn is not None}
    if not out_nodes or (len(out_nodes) == 1 and node not in out_nodes):
        _future("Using a non-full backward hook when outputs are nested in python data "
                "structure is deprecated and will be removed in future versions. This hook "
                "will be missing some grad_output.")
    elif len(out_nodes) > 1:
        _future("Using a non-full backward hook when outputs are generated by different "
                "autograd Nodes is deprecated and will be removed in future versions. This hook "
                "will be missing some grad_output. Please use register_full_backward_hook to "
                "get the documented behavior.")
    elif _input_nodes(inputs) != set(_torch_edges(node)) or _is_linear(node):
        _future("Using a non-full backward hook when the forward contains multiple autograd "
                "Nodes is deprecated and will be removed in future versions. This hook will be "
                "missing some grad_input. Please use register_full_backward_hook to get the "
                "documented behavior.")
    return None


def _input_nodes(inputs):
    """torch's inputs' grad_fns; a leaf has none (ember's leaves' edges are AccumulateGrad)."""
    return {i.grad_fn for i in inputs if i.grad_fn is not None}


def _is_linear(node):
    # torch's linear always has a TBackward0 (the weight's transpose) among its node's inputs
    function = getattr(node, "_function", None)
    return function is not None and issubclass(function, Linear)


def _deprecated(what, side):
    _future(f"Using non-full backward hooks on a Module that {what} is deprecated and will be "
            f"removed in future versions. This hook will be missing some of the grad_{side}. "
            "Please use register_full_backward_hook to get the documented behavior.")


def _future(message):
    warnings.warn(message, FutureWarning, stacklevel=_user_stacklevel())
