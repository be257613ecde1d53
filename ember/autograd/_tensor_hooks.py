"""Hooks on tensors: `Tensor.register_hook` (on the gradient flowing into a tensor) and
`Tensor.register_post_accumulate_grad_hook` (after a leaf's `.grad` is written)."""

import weakref

from ember._registry import tensor_method
from ember.autograd.function import _RemovableHandle

# id(leaf) -> hook(tensor) list of the leaves that have post-accumulate hooks; the engine calls
# them after adding a gradient into `.grad`. Keyed by id (a tensor's == is elementwise) and
# dropped when the leaf dies, so a hook never keeps its parameter alive.
POST_ACCUMULATE_HOOKS = {}


@tensor_method("register_post_accumulate_grad_hook")
def tensor_register_post_accumulate_grad_hook(self, hook):
    """Call hook(tensor) after a backward has added into this leaf's `.grad` (matches
    `Tensor.register_post_accumulate_grad_hook`: optimizer steps inside the backward)."""
    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    key = id(self)
    if key not in POST_ACCUMULATE_HOOKS:
        weakref.finalize(self, POST_ACCUMULATE_HOOKS.pop, key, None)
        POST_ACCUMULATE_HOOKS[key] = []
    hooks = POST_ACCUMULATE_HOOKS[key]
    hooks.append(hook)
    return _RemovableHandle(hooks, hook)


@tensor_method("register_hook")
def tensor_register_hook(self, hook):
    """Call hook(grad) when this tensor's gradient is computed; it may return a new grad."""
    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is None:
        if self._hooks is None:
            self._hooks = []
        hooks = self._hooks
    else:
        node = self.grad_fn
        if node._tensor_pre_hooks is None:
            node._tensor_pre_hooks = {}
        hooks = node._tensor_pre_hooks.setdefault(self._output_nr, [])
    hooks.append(hook)
    return _RemovableHandle(hooks, hook)
