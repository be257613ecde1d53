"""The backward graph's public face (matches `torch.autograd.graph`): `Node`, `GradientEdge` /
`get_gradient_edge`, `increment_version`, the saved-tensor hooks (`saved_tensors_hooks`,
`save_on_cpu`, `disable_saved_tensors_hooks`) and `register_multi_grad_hook`."""

import contextlib
from typing import NamedTuple

from ember._tensor import Tensor
from ember.autograd import engine
from ember.autograd.function import Node, gradient_edge
from ember.autograd.saved_tensors import SAVED_TENSOR_HOOKS

__all__ = ["saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "register_multi_grad_hook", "Node", "GradientEdge", "get_gradient_edge",
           "increment_version"]


class GradientEdge(NamedTuple):
    """Where a gradient for a tensor flows: a node and which of its inputs (matches
    `torch.autograd.graph.GradientEdge`)."""

    node: Node
    output_nr: int
    ownership_token: object = None


def get_gradient_edge(tensor: Tensor) -> GradientEdge:
    """The edge backward sends `tensor`'s gradient along: its grad_fn, or the accumulator of a
    leaf that requires grad (matches `torch.autograd.graph.get_gradient_edge`)."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does "
                           "not require gradients")
    node, output_nr = gradient_edge(tensor)
    return GradientEdge(node, output_nr)


def increment_version(tensor) -> None:
    """Mark tensor(s) as changed in place, as an in-place op does (matches
    `torch.autograd.graph.increment_version`)."""
    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        t._version_counter.value += 1


# ---- saved-tensor hooks (NOTE [Saved-tensor hooks] in ember/autograd/saved_tensors.py) ------
_DISABLED = {"message": None}  # why saved_tensors_hooks are refused right now, or None


class saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """Within the context, each tensor an op saves for backward is stored as pack_hook(t) and
    given back as unpack_hook(packed) (matches `torch.autograd.graph.saved_tensors_hooks`)."""

    def __init__(self, pack_hook, unpack_hook) -> None:
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self) -> None:
        if _DISABLED["message"] is not None:
            raise RuntimeError(_DISABLED["message"])
        SAVED_TENSOR_HOOKS.append((self.pack_hook, self.unpack_hook))

    def __exit__(self, *args) -> None:
        SAVED_TENSOR_HOOKS.pop()


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 - PyTorch's name
    """Saved tensors kept as CPU copies and moved back to their device for backward (matches
    `torch.autograd.graph.save_on_cpu`; on ember's CPU tensors, a copy)."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack_to_cpu(tensor):
            return tensor.device, tensor.detach().to("cpu", copy=True)

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message: str):
    """Within the context, entering saved_tensors_hooks raises RuntimeError(error_message)
    (matches `torch.autograd.graph.disable_saved_tensors_hooks`; refused itself while hooks
    are active, as in PyTorch)."""
    if SAVED_TENSOR_HOOKS:
        raise RuntimeError(error_message)
    previous = _DISABLED["message"]
    _DISABLED["message"] = error_message
    try:
        yield
    finally:
        _DISABLED["message"] = previous


# ---- register_multi_grad_hook ---------------------------------------------------------------
def register_multi_grad_hook(tensors, fn, *, mode: str = "all"):
    """Call fn once per backward with the gradients of `tensors` (matches
    `torch.autograd.graph.register_multi_grad_hook`).

    mode "all": fn(grads), a list with None for the tensors that got no gradient, after every
    tensor whose gradient this backward computes has it. mode "any": fn(grad) with the first
    gradient to arrive, once per backward. Which tensors a backward reaches is known when it
    starts (`ember.autograd.engine.reaches`), so "all" waits for exactly those.
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    state = _MultiGradState(len(tensors))
    handles = [t.register_hook(_multi_grad_hook(state, index, tensors, fn, mode))
               for index, t in enumerate(tensors)]
    return _MultiHandle(handles)


class _MultiGradState:
    """The gradients seen so far in the current backward run."""

    def __init__(self, count: int) -> None:
        self.run, self.grads, self.count = None, [None] * count, 0


def _multi_grad_hook(state, index, tensors, fn, mode):
    """The hook on tensors[index]: note its gradient; call fn when the run has them all."""

    def hook(grad):
        run = engine.current_run()
        if state.run is not run:  # a new backward: start over
            state.run, state.grads, state.count = run, [None] * len(tensors), 0
        state.grads[index] = grad
        state.count += 1
        if mode == "any":
            return fn(grad) if state.count == 1 else None
        if state.count == sum(engine.reaches(run, t) for t in tensors):
            fn(list(state.grads))
        return None

    return hook


class _MultiHandle:
    """What register_multi_grad_hook returns: `remove()` drops every per-tensor hook."""

    def __init__(self, handles) -> None:
        self.handles = handles

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()

