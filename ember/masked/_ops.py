"""The masked reductions and normalizations of `torch.masked` on strided tensors.

NOTE [Masked ops fill, then reduce]
A masked op sees only the elements where `mask` is True. torch.masked implements that by
replacing every masked-out element with the identity of the reduction (0 for sum, 1 for prod,
-inf for amax, +inf for amin, NaN for median, ...) and running the ordinary op on the result:
`op(where(mask, input, identity))`. The gradient flows through `where` to the masked-in
elements only. ember does the same, so values, dtypes and gradients are torch's, quirks
included: argmax/argmin return indices in the input's dtype, mean/var/std of a fully
masked-out slice are NaN (0/0), and mask may be any dtype that broadcasts to the input.
"""

import math

from ember import _dtype
from ember._tensor import Tensor
from ember.linalg import vector_norm
from ember.nn import functional as F
from ember.ops import extrema, reduction, sort
from ember.ops.comparison import maximum, where
from ember.ops.creation import ones, tensor
from ember.ops.elementwise import div as divide, sub as subtract
from ember.ops.elementwise_ext import logaddexp as _logaddexp
from ember.ops.shape import broadcast_to
from ember.ops.unary import sqrt

# dtypes that sum/prod promote to int64 (PyTorch's rule for integer reductions)
_SMALL_INTS = ("uint8", "bool", "int8", "int16", "int32")


# ---- masks and identities --------------------------------------------------------------------
def _dim_value(d) -> int:
    """One dim as the op inside torch.masked takes it from torch's checks above: an int or a
    0-d integer (or bool) tensor; a float tensor is refused with the parser's TypeError."""
    if isinstance(d, Tensor):
        if d.dim() != 0 or d.dtype.is_floating_point or d.dtype.is_complex:
            raise TypeError(f"argument 'dim' must be tuple of ints, but found element of type "
                            f"Tensor of dtype {d.dtype}")
        return int(d)
    return d


def _canonical_dim(dim, ndim: int) -> tuple:
    """dim as a sorted tuple of non-negative dims (None or () mean every dim)."""
    if dim is None or dim == ():
        return tuple(range(ndim))
    ndim = max(ndim, 1)  # a 0-d tensor accepts dim 0 and -1
    dims = []  # as torch.masked keeps them: a tensor dim stays a tensor until the op reads it
    for d in (dim,) if isinstance(dim, int) else dim:
        if d in dims:
            raise RuntimeError(f"dim={d} appears multiple times in the list of dims")
        if d >= ndim or d < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-ndim}, {ndim - 1}], but got {d})")
        dims.append(d % ndim)
    dims = [_dim_value(d) for d in dims]
    return tuple(sorted(dims))


def _input_mask(input: Tensor, mask: Tensor) -> Tensor:
    """mask broadcast to input's shape, as bool (matches `torch.masked._input_mask`)."""
    if mask is None:
        raise ValueError("_input_mask requires explicit mask")
    if tuple(mask.shape) != tuple(input.shape):
        if mask.ndim > input.ndim:
            raise IndexError("_input_mask expected broadcastable mask (got mask "
                             "dimensionality higher than of the input)")
        mask = broadcast_to(mask, input.shape)
    return mask.to(dtype=_dtype.bool)


def _identity(name: str, input: Tensor, ord=2):
    """The value that does not change reduction `name` (None when it has none)."""
    dtype = input.dtype
    floating = dtype.is_floating_point
    bounded = dtype.is_signed or dtype is _dtype.uint8
    if name in ("sum", "cumsum"):
        return tensor(0, dtype=dtype)
    if name in ("prod", "cumprod"):
        return tensor(1, dtype=dtype)
    if name in ("amax", "argmax", "logaddexp", "logsumexp"):
        if floating:
            return tensor(-math.inf, dtype=dtype)
        if dtype.is_complex and name == "logsumexp":
            return tensor(complex(-math.inf, 0), dtype=dtype)
        if bounded:
            return tensor(_dtype.iinfo(dtype).min, dtype=dtype)
    if name in ("amin", "argmin"):
        if floating:
            return tensor(math.inf, dtype=dtype)
        if bounded:
            return tensor(_dtype.iinfo(dtype).max, dtype=dtype)
    if name == "norm":
        return tensor(math.inf if ord == -math.inf else 0, dtype=dtype)
    if name == "median":  # NaN: nanmedian skips it
        return tensor(math.nan, dtype=dtype if floating else _dtype.float32)
    raise NotImplementedError(f"identity of {name} on {dtype} input")


def _combine(name: str, input: Tensor, mask, ord=2) -> Tensor:
    """input with its masked-out elements replaced by the identity of reduction `name`."""
    if mask is None:
        return input
    return where(_input_mask(input, mask), input, _identity(name, input, ord))


def _int64_if_small(input: Tensor, dtype):
    """sum/prod's result dtype: bool and integers narrower than int64 give int64."""
    if dtype is not None:
        return dtype
    return _dtype.int64 if input.dtype.name in _SMALL_INTS else input.dtype


# ---- reductions ------------------------------------------------------------------------------
def sum(input: Tensor, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    """Sum of the masked-in elements (matches `torch.masked.sum`)."""
    dtype = _int64_if_small(input, dtype)
    dims = _canonical_dim(dim, input.ndim)
    return reduction.sum(_combine("sum", input, mask), dims, bool(keepdim), dtype=dtype)


def prod(input: Tensor, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    """Product of the masked-in elements (matches `torch.masked.prod`)."""
    dtype = _int64_if_small(input, dtype)
    dims = _canonical_dim(dim, input.ndim)
    result = _combine("prod", input, mask).to(dtype=dtype)
    for d in reversed(dims):  # one dim at a time, last first, as torch does
        result = reduction.prod(result, dim=d, keepdim=bool(keepdim))
    return result


def cumsum(input: Tensor, dim: int, *, dtype=None, mask=None) -> Tensor:
    """Cumulative sum where masked-out elements count as 0 (matches `torch.masked.cumsum`)."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim)[0]
    return reduction.cumsum(_combine("sum", input, mask), d, dtype=dtype).to(dtype=dtype)


def cumprod(input: Tensor, dim: int, *, dtype=None, mask=None) -> Tensor:
    """Cumulative product where masked-out elements count as 1 (matches
    `torch.masked.cumprod`)."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim)[0]
    return reduction.cumprod(_combine("prod", input, mask), d, dtype=dtype).to(dtype=dtype)


def amax(input: Tensor, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    """Largest masked-in element (-inf where none; matches `torch.masked.amax`)."""
    dtype = input.dtype if dtype is None else dtype
    dims = _canonical_dim(dim, input.ndim)
    return extrema.amax(_combine("amax", input, mask), dims, bool(keepdim)).to(dtype=dtype)


def amin(input: Tensor, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    """Smallest masked-in element (+inf where none; matches `torch.masked.amin`)."""
    dtype = input.dtype if dtype is None else dtype
    dims = _canonical_dim(dim, input.ndim)
    return extrema.amin(_combine("amin", input, mask), dims, bool(keepdim)).to(dtype=dtype)


def argmax(input: Tensor, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    """Index of the largest masked-in element, in input's dtype as torch gives it (matches
    `torch.masked.argmax`)."""
    dtype = input.dtype if dtype is None else dtype
    masked = _combine("argmax", input, mask)
    return extrema.argmax(masked, dim, bool(keepdim)).to(dtype=dtype)


def argmin(input: Tensor, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    """Index of the smallest masked-in element, in input's dtype (matches
    `torch.masked.argmin`)."""
    dtype = input.dtype if dtype is None else dtype
    masked = _combine("argmin", input, mask)
    return extrema.argmin(masked, dim, bool(keepdim)).to(dtype=dtype)


def _count(input: Tensor, dim, keepdim, mask) -> Tensor:
    """How many elements are masked in along dim (int64)."""
    if mask is None:
        return sum(ones(input.shape, dtype=_dtype.int64), dim, keepdim=keepdim)
    return _input_mask(input, mask).sum(dim=dim, keepdim=bool(keepdim))


def mean(input: Tensor, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    """Mean of the masked-in elements (NaN where none; matches `torch.masked.mean`)."""
    source = "Optional" if dtype is not None else "Input"
    dtype = input.dtype if dtype is None else dtype
    if not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError(f"mean(): Could not infer output dtype. {source} dtype must be either "
                         f"a floating point or complex dtype. Got: {dtype}")
    total = sum(input, dim, keepdim=keepdim, dtype=dtype, mask=mask)
    return total / _count(input, dim, keepdim, mask)


def median(input: Tensor, dim: int = -1, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    """Median of the masked-in elements along one dim (matches `torch.masked.median`)."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim)[0]
    is_float = input.dtype.is_floating_point
    if not is_float:
        input = input.to(dtype=_dtype.float32)
    masked = _combine("median", input, mask)
    if masked.dtype is _dtype.bfloat16:  # sort.nanmedian misses bfloat16's NaNs: in float32
        return sort.nanmedian(masked.float(), d, keepdim).values.to(_dtype.bfloat16)
    output = sort.nanmedian(masked, d, keepdim).values
    if is_float:
        return output
    if output.isnan().any():
        raise ValueError("masked median expects no fully masked out rows if dtype is not "
                         "floating point")
    return output.to(dtype=dtype)


def logsumexp(input: Tensor, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    """log Σ exp over the masked-in elements (matches `torch.masked.logsumexp`)."""
    dtype = input.dtype if dtype is None else dtype
    dims = _canonical_dim(dim, input.ndim)
    masked = _combine("logsumexp", input, mask)
    return extrema.logsumexp(masked, dims, keepdim=keepdim).to(dtype=dtype)


def logaddexp(input: Tensor, other: Tensor, *, dtype=None, input_mask=None,
              other_mask=None) -> Tensor:
    """log(exp(input) + exp(other)), masked-out elements counting as -inf (matches
    `torch.masked.logaddexp`)."""
    dtype = input.dtype if dtype is None else dtype
    a = _combine("logaddexp", input, input_mask)
    b = _combine("logaddexp", other, other_mask)
    return _logaddexp(a, b).to(dtype=dtype)


def norm(input: Tensor, ord=2.0, dim=None, *, keepdim=False, dtype=None, mask=None) -> Tensor:
    """Vector norm of the masked-in elements (matches `torch.masked.norm`)."""
    dtype = input.dtype if dtype is None else dtype
    masked = _combine("norm", input, mask, ord)
    dims = _canonical_dim(dim, input.ndim)
    return vector_norm(masked, ord, dims, bool(keepdim), dtype=dtype)


def _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, take_sqrt) -> Tensor:
    """Σ|x - mean|² / (count - correction) over the masked-in elements (sqrt for std)."""
    if unbiased is not None and correction is not None:
        raise AssertionError("Only one of unbiased and correction may be given")
    c = 1.0 if unbiased is None else (1.0 if unbiased else 0.0)
    c = c if correction is None else float(correction)
    if dtype is None:
        dtype = input.dtype
        if not (dtype.is_floating_point or dtype.is_complex):
            dtype = _dtype.float32
    compute = dtype if (dtype.is_floating_point or dtype.is_complex) else _dtype.float32
    count = _count(input, dim, True, mask)
    mean_ = divide(sum(input, dim, keepdim=True, dtype=dtype, mask=mask), count)
    x = subtract(input, mean_)
    total = sum(x * x.conj(), dim, keepdim=keepdim, dtype=compute, mask=mask)
    if not keepdim:
        count = count.reshape(total.shape)
    if c != 0:
        real = _dtype.float64 if compute is _dtype.complex128 else (
            _dtype.float32 if compute is _dtype.complex64 else compute)
        count = count.to(real)
        count = maximum(subtract(count, c), count.new_zeros([]))
    output = divide(total, count).to(dtype=dtype)
    return sqrt(output) if take_sqrt else output


def var(input: Tensor, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None,
        mask=None) -> Tensor:
    """Variance of the masked-in elements (matches `torch.masked.var`)."""
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, take_sqrt=False)


def std(input: Tensor, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None,
        mask=None) -> Tensor:
    """Standard deviation of the masked-in elements (matches `torch.masked.std`)."""
    return _std_var(input, dim, unbiased, correction, keepdim, dtype, mask, take_sqrt=True)


# ---- normalizations --------------------------------------------------------------------------
def softmax(input: Tensor, dim: int, *, dtype=None, mask=None) -> Tensor:
    """Softmax over the masked-in elements; masked-out ones get 0 (matches
    `torch.masked.softmax`)."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim)[0]
    return F.softmax(_combine("amax", input, mask), d, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype=None, mask=None) -> Tensor:
    """Log-softmax over the masked-in elements; masked-out ones get -inf (matches
    `torch.masked.log_softmax`)."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim)[0]
    return F.log_softmax(_combine("amax", input, mask), d, dtype=dtype)


def softmin(input: Tensor, dim: int, *, dtype=None, mask=None) -> Tensor:
    """Softmin over the masked-in elements (matches `torch.masked.softmin`)."""
    dtype = input.dtype if dtype is None else dtype
    d = _canonical_dim(dim, input.ndim)[0]
    return F.softmin(_combine("amin", input, mask), d, dtype=dtype)


def normalize(input: Tensor, ord: float, dim: int, *, eps: float = 1e-12, dtype=None,
              mask=None) -> Tensor:
    """input / max(‖input‖_ord, eps) over the masked-in elements (matches
    `torch.masked.normalize`)."""
    dtype = input.dtype if dtype is None else dtype
    masked = _combine("sum", input, mask)
    nrm = norm(input, ord, dim, keepdim=True, dtype=dtype, mask=mask)
    return divide(masked, maximum(nrm, nrm.new_full([], eps)))
