"""Forward-mode automatic differentiation through dual tensors (matches
`torch.autograd.forward_ad`: `dual_level`, `make_dual`, `unpack_dual`).

NOTE [Forward mode by double backward]
PyTorch carries a tangent beside every primal through each op's forward-derivative formula.
ember has one derivative per op, the backward one, and gets the forward one from it: the
dual tensor `make_dual(p, t)` is p's values in a tensor that requires grad, so everything
computed from it records a graph, and `unpack_dual(y)` asks that graph for J·t by the
double-backward trick (as `torch.func.jvp` does here): g(u) = Jᵀu is linear in a dummy u, so
the gradient of <g(u), t> with respect to u is J·t. The tangents are the same; what differs
from PyTorch is what can be seen: a dual tensor and what is computed from it require grad and
have a grad_fn, and repr does not print the tangent.
"""

import weakref
from typing import NamedTuple

from ember._backend import xp
from ember import _tensor_str
from ember._tensor import Tensor
from ember.autograd import gradients
from ember.autograd._custom_function import FORWARD_MODE
from ember.autograd.function import AccumulateGrad, Function
from ember.autograd.grad_mode import enable_grad

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual",
           "unpack_dual", "dual_level"]

_LEVELS = []  # the open levels: each a list of (dual tensor, tangent)


class UnpackedDualTensor(NamedTuple):
    """A dual tensor's primal and tangent (matches `torch.autograd.forward_ad`'s)."""

    primal: Tensor
    tangent: Tensor


def enter_dual_level() -> int:
    """Open a forward-AD level; its number (matches `forward_ad.enter_dual_level`)."""
    if _LEVELS:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _LEVELS.append([])
    return len(_LEVELS) - 1


def exit_dual_level(*, level=None) -> None:
    """Close the current level, forgetting its tangents (matches `exit_dual_level`)."""
    if level is None:
        level = len(_LEVELS) - 1
    if level != len(_LEVELS) - 1 or level < 0:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was "
                           "created. This is not supported.")
    _LEVELS.pop()


class dual_level:  # noqa: N801 - PyTorch's name
    """Context manager (and decorator) around one forward-AD level (matches
    `forward_ad.dual_level`)."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *args) -> None:
        exit_dual_level()

    def __call__(self, fn):
        def wrapped(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapped


class _MakeDual(Function):
    """The dual tensor's node: the primal's values as a new tensor that records a graph;
    gradients pass through to the primal unchanged."""

    node_name = "ViewBackward0"  # (PyTorch's dual is a view of its primal)
    _python_node = False
    _runs_without_grads = False  # (a built-in op's node in PyTorch)

    @staticmethod
    def forward(ctx, primal):
        return Tensor._make(primal._data)

    @staticmethod
    def backward(ctx, grad):
        return grad


def make_dual(tensor: Tensor, tangent: Tensor, *, level=None) -> Tensor:
    """A tensor with tensor's values whose forward gradient is `tangent` (matches
    `forward_ad.make_dual`; NOTE [Forward mode by double backward])."""
    if not _LEVELS:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{tangent.dtype}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}.")
    if tensor.requires_grad:  # its gradients still reach it through the dual
        with enable_grad():
            dual = _MakeDual.apply(tensor)
    else:  # a view of its values, as a leaf that records what is computed from it
        dual = Tensor._make(tensor._data, True)
        _DUAL_LEAVES[id(dual)] = dual
    if tangent.stride() != tensor.stride():  # PyTorch keeps a tangent laid out as the primal
        tangent = tensor.new_empty_strided(tensor.shape, tensor.stride()).copy_(tangent)
    _LEVELS[-1 if level is None else level].append((dual, tangent))
    _tensor_str.DUAL[0] = printed
    return dual


# id -> a dual made of a primal that does not require grad: a leaf requiring grad only here
_DUAL_LEAVES = weakref.WeakValueDictionary()


def printed(tensor) -> tuple:
    """(grad_fn, requires_grad, tangent's repr) as repr shows a tensor that requires grad once
    dual tensors exist: as in PyTorch, its tangent at the open level and none of the grad_fn
    that only the dual tensors give it (NOTE [Forward mode by double backward])."""
    tangent = None
    if _LEVELS and not _PRINTING_TANGENT[0]:  # (a tangent has no tangent of its own)
        tangent = unpack_dual(tensor).tangent
    if tangent is not None:
        _PRINTING_TANGENT[0] = True
        try:
            tangent = repr(tangent)
        finally:
            _PRINTING_TANGENT[0] = False
    if _needs_grad_without_duals(tensor):
        return tensor.grad_fn, True, tangent
    return None, False, tangent


_PRINTING_TANGENT = [False]


def _needs_grad_without_duals(tensor) -> bool:
    """Whether tensor's graph reaches a leaf requiring grad that is not a dual tensor."""
    if tensor.grad_fn is None:
        return _DUAL_LEAVES.get(id(tensor)) is not tensor
    seen, pending = set(), [tensor.grad_fn]
    while pending:
        node = pending.pop()
        if isinstance(node, AccumulateGrad):
            if _DUAL_LEAVES.get(id(node.variable)) is not node.variable:
                return True
            continue
        for child, _ in getattr(node, "_edges", ()):
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                pending.append(child)
    return False


# NOTE [jvp-only Functions]
# A custom Function may define only jvp (forward mode's formula), no backward. The double
# backward of NOTE [Forward mode by double backward] still works through it: the first
# backward maps a dummy u to Jᵀu, the second differentiates that by u along t, giving J·t. So
# the Function's backward, in a tangent pass, returns `JvpAdjoint.apply(node, *u)`: the values
# Jᵀu are never read (zeros stand for them), and the adjoint's backward, t ↦ J·t, is the jvp.
class JvpAdjoint(Function):
    """u ↦ Jᵀu of a jvp-only Function (zeros, never read);  gu = jvp(t) (NOTE above)."""

    @staticmethod
    def forward(ctx, node, *grad_outputs):
        ctx.node = node
        return tuple(Tensor._make(xp.zeros(meta[0], meta[1].numpy))
                     for meta, needed in zip(node._input_meta, node.needs_input_grad) if needed)

    @staticmethod
    def backward(ctx, *tangents):
        node, given = ctx.node, iter(tangents)
        inputs = [next(given) if needed else None for needed in node.needs_input_grad]
        outputs = node._function.jvp(node, *inputs)
        return (None,) + (outputs if isinstance(outputs, tuple) else (outputs,))


def jvp_adjoint(node, grad_outputs) -> tuple:
    """A jvp-only Function's backward in a tangent pass: Jᵀu as JvpAdjoint's outputs, None
    for the arguments that need no gradient."""
    adjoint = JvpAdjoint.apply(node, *grad_outputs)
    adjoint = iter(adjoint if isinstance(adjoint, tuple) else (adjoint,))
    return tuple(next(adjoint) if needed else None for needed in node.needs_input_grad)


class tangent_pass:  # noqa: N801 - a context manager, named as the others here
    """While forward mode's double backward runs: jvp-only Functions take part."""

    def __enter__(self):
        self.previous, FORWARD_MODE[0] = FORWARD_MODE[0], jvp_adjoint

    def __exit__(self, *exc):
        FORWARD_MODE[0] = self.previous


def unpack_dual(tensor: Tensor, *, level=None) -> UnpackedDualTensor:
    """(primal, tangent) of a tensor computed from dual tensors; tangent None when it depends
    on none of the current level's (matches `forward_ad.unpack_dual`)."""
    tangent = None
    if _LEVELS and isinstance(tensor, Tensor) and tensor.requires_grad:
        duals = _LEVELS[-1 if level is None else level]
        made = [t for dual, t in duals if dual is tensor]  # PyTorch's own tangent object
        tangent = made[0] if made else _tangent(tensor, duals)
    return UnpackedDualTensor(tensor.detach() if tangent is not None else tensor, tangent)


def _tangent(output: Tensor, duals: list):
    """J·t summed over the duals `output` depends on, by double backward; None if none. As
    in PyTorch, the tangent records a graph when output depends on tensors requiring grad
    other than the duals (a model's parameters)."""
    if not duals:
        return None
    inputs = [dual for dual, _ in duals]
    recorded = _needs_grad_without_duals(output)
    with enable_grad(), tangent_pass():
        dummy = Tensor._make(xp.zeros_like(output._data), True)
        _DUAL_LEAVES[id(dummy)] = dummy  # (no leaf of the user's)
        transposed = gradients.grad([output], inputs, [dummy], retain_graph=True,
                                    create_graph=True, allow_unused=True)
        used = [(g, t) for g, (_, t) in zip(transposed, duals) if g is not None]
        if not used:
            return None
        (tangent,) = gradients.grad([g for g, _ in used], [dummy], [t for _, t in used],
                                    retain_graph=True, create_graph=recorded,
                                    allow_unused=True)
    if tangent is None:
        return Tensor._make(xp.zeros_like(output._data))
    return tangent if recorded else tangent.detach()
