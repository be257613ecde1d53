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

from typing import NamedTuple

from ember._backend import xp
from ember._tensor import Tensor
from ember.autograd import gradients
from ember.autograd.function import Function
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
    _LEVELS[-1 if level is None else level].append((dual, tangent.detach()))
    return dual


def unpack_dual(tensor: Tensor, *, level=None) -> UnpackedDualTensor:
    """(primal, tangent) of a tensor computed from dual tensors; tangent None when it depends
    on none of the current level's (matches `forward_ad.unpack_dual`)."""
    tangent = None
    if _LEVELS and isinstance(tensor, Tensor) and tensor.requires_grad:
        tangent = _tangent(tensor, _LEVELS[-1 if level is None else level])
    return UnpackedDualTensor(tensor.detach() if tangent is not None else tensor, tangent)


def _tangent(output: Tensor, duals: list):
    """J·t summed over the duals `output` depends on, by double backward; None if none."""
    if not duals:
        return None
    inputs = [dual for dual, _ in duals]
    with enable_grad():
        dummy = Tensor._make(xp.zeros_like(output._data), True)
        transposed = gradients.grad([output], inputs, [dummy], retain_graph=True,
                                    create_graph=True, allow_unused=True)
        used = [(g, t) for g, (_, t) in zip(transposed, duals) if g is not None]
        if not used:
            return None
        (tangent,) = gradients.grad([g for g, _ in used], [dummy], [t for _, t in used],
                                    retain_graph=True, allow_unused=True)
    return Tensor._make(xp.zeros_like(output._data)) if tangent is None else tangent.detach()
