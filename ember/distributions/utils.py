"""Helpers shared by the distributions (matches `torch.distributions.utils`)."""

from numbers import Number

from ember import _dtype
from ember._device import Size
from ember._tensor import Tensor
from ember.autograd.grad_mode import enable_grad
from ember.ops.comparison import clamp
from ember.ops.creation import arange, as_tensor, empty
from ember.ops.grids import tril_indices
from ember.ops.shape import broadcast_tensors
from ember.ops.softmax import softmax
from ember.ops.unary import sigmoid


euler_constant = 0.57721566490153286060  # Euler-Mascheroni γ (matches `utils.euler_constant`)


def broadcast_all(*values):
    """Numbers and tensors made tensors of one broadcast shape (matches `broadcast_all`).

    Numbers take the dtype of the first tensor among the values, else the default dtype.
    """
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if all(isinstance(v, Tensor) for v in values):
        return broadcast_tensors(*values)
    like = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = like.dtype if like is not None else _dtype.get_default_dtype()
    tensors = [v if isinstance(v, Tensor) else as_tensor(v, dtype=dtype) for v in values]
    return broadcast_tensors(*tensors)


def standard_normal(shape, dtype) -> Tensor:
    """N(0, 1) samples of the given shape and dtype, without gradient."""
    return empty(Size(shape), dtype=dtype).normal_()


def _standard_normal(shape, dtype, device=None) -> Tensor:
    """PyTorch's private name for standard_normal, kept for code that imports it."""
    return standard_normal(shape, dtype)


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """value summed over its `dim` rightmost dimensions."""
    if dim == 0:
        return value
    return value.reshape(value.shape[:value.dim() - dim] + (-1,)).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from logits: sigmoid if binary, else softmax over the last dim."""
    if is_binary:
        return sigmoid(logits)
    return softmax(logits, dim=-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """probs clamped into [eps, 1 - eps] of their dtype."""
    eps = _dtype.finfo(probs.dtype).eps
    return clamp(probs, min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Logits from probabilities: log-odds if binary, else log-probabilities."""
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


class lazy_property:
    """A property computed on first access and then cached on the instance (matches
    `torch.distributions.utils.lazy_property`); computed under `enable_grad`."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def _tril_positions(n: int, diag: int):
    """(rows, cols) of the entries on or below diagonal `diag` of an n x n matrix, row by row."""
    return tril_indices(n, n, diag)


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The entries of (a batch of) square matrices on or below diagonal `diag`, row by row
    (matches `torch.distributions.utils.tril_matrix_to_vec`)."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows, cols = _tril_positions(n, diag)
    return mat[..., rows, cols]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """(A batch of) square matrices with vec on and below diagonal `diag`, row by row, zeros
    elsewhere (matches `torch.distributions.utils.vec_to_tril_matrix`)."""
    # n is the positive root of n² + (1 + 2·diag)·n - |diag|·(diag + 1) - 2·len(vec) = 0
    b = 1 + 2 * diag
    n = (-b + (b * b + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > _dtype.finfo(vec.dtype).eps:
        raise ValueError(f"The size of last dimension is {vec.shape[-1]} which cannot be "
                         "expressed as the lower triangular part of a square D x D matrix.")
    n = round(n)
    rows, cols = _tril_positions(n, diag)
    flat = rows * n + cols
    # a scatter of vec into the flattened matrix (a one-hot product keeps it differentiable)
    placement = (flat.unsqueeze(-1) == arange(n * n)).to(vec.dtype)
    return (vec @ placement).reshape(tuple(vec.shape[:-1]) + (n, n))


_sum_rightmost = sum_rightmost  # PyTorch's private name, kept for code that imports it
