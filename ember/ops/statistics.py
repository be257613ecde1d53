"""Statistics of samples: cov, corrcoef, quantile and nanquantile.

Each is a composition of ember ops, as in PyTorch (cov is a centred matrix product, quantile
a sort followed by a linear interpolation between neighbours), so their gradients of every
order come from those ops.
"""


from ember._warnings import warn as _warn
from ember._autocast import float32_inputs
from ember import _dtype
from ember._backend import get_array_module, xp
from ember._registry import op
from ember.ops._out_rules import copied, quantile_out
from ember._tensor import Tensor
from ember.ops.comparison import clamp
from ember.ops.creation import eye
from ember.ops.elementwise import lerp
from ember.ops.reduction import _axis, _constant, _type_word
from ember.ops.reduction import sum as _sum
from ember.ops.sort import sort
from ember.ops.unary import sqrt


# ---- cov, corrcoef -------------------------------------------------------------------------
def _check_weights(weights, name: str, observations: int, integral: bool):
    if weights is None:
        return
    if weights.dim() > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                           f"{name} with {weights.dim()} dimensions")
    if weights.numel() != observations:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                           f"observations in the input but got {weights.numel()} != "
                           f"{observations}")
    if integral and weights.dtype.is_floating_point:
        raise RuntimeError(f"cov(): expected {name} to have integral dtype but got {name} "
                           f"with {_type_word(weights.dtype)} dtype")
    if not integral and not weights.dtype.is_floating_point:
        raise RuntimeError(f"cov(): expected {name} to have floating point dtype but got "
                           f"{name} with {_type_word(weights.dtype)} dtype")
    if weights.numel() and (weights._data < 0).any():
        raise RuntimeError(f"cov(): {name} cannot be negative")


@op(method=True)
def cov(input: Tensor, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """Covariance of the rows (variables) over the columns (observations), optionally with
    frequency and importance weights (matches `torch.cov`).

    With w = fweights·aweights and W = Σw: x̄ = Σ w·x / W, and
    cov = (x - x̄)(w·(x - x̄))ᵀ / (W - c·Σ(w·aweights)/W), or / (W - c) without aweights.
    """
    if input.dim() > 2:
        raise RuntimeError("cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.dim()} dimensions")
    x = input.reshape(1, -1) if input.dim() < 2 else input
    observations = x.shape[1]
    _check_weights(fweights, "fweights", observations, integral=True)
    _check_weights(aweights, "aweights", observations, integral=False)
    w = fweights
    if aweights is not None:
        w = aweights if w is None else w * aweights
    total = _sum(w) if w is not None else observations
    mean = _sum(x if w is None else x * w, 1) / total
    if w is not None and aweights is not None and correction != 0:
        dof = total - correction * _sum(w * aweights) / total
    else:
        dof = total - correction
    if float(dof) <= 0:
        _warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the "
              "number of observations. (Triggered internally at /__w/pytorch/pytorch/aten/src/"
              "ATen/native/Correlation.cpp:129.)", UserWarning, stacklevel=2)
        dof = 0 * dof
    centred = x - mean.unsqueeze(1)
    weighted = centred if w is None else centred * w
    return (centred.matmul(weighted.conj().t()) / dof).squeeze()


@op(method=True)
def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the rows, clipped to [-1, 1] (matches
    `torch.corrcoef`)."""
    c = cov(input)
    if c.dim() == 0:
        return c / c  # 1, or NaN for a constant variable
    n = c.shape[0]
    identity = eye(n, dtype=c.dtype)
    variance = _sum(c * identity, 1)
    stddev = sqrt(variance.real if c.dtype.is_complex else variance)
    c = c / stddev.unsqueeze(1)
    c = c / stddev.unsqueeze(0)
    if c.dtype.is_complex:  # torch clips the two parts on their own
        return clamp(c.real, -1, 1) + 1j * clamp(c.imag, -1, 1)
    return clamp(c, -1, 1)


# ---- quantile, nanquantile ---------------------------------------------------------------------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _check_quantile_args(input: Tensor, q, interpolation: str, name: str):
    if not input.dtype.is_floating_point or input.dtype is _dtype.float16:
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if isinstance(q, Tensor):
        if q.dim() > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype is not input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        if q.numel() and ((q._data < 0).any() or (q._data > 1).any()):
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    elif not 0 <= q <= 1:
        raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")


def _rank_terms(ordered, ignore_nan: bool):
    """(scale, offset) with fractional positions q·scale + offset in each sorted slice.

    NOTE [quantile ranks]
    A position is q·(k - 1), k the slice length or, for nanquantile, its count of non-NaN
    values. A slice that must answer NaN (quantile: any NaN; nanquantile: all NaN) gets scale 0
    and offset at the last position, where the sort put a NaN. Positions are computed in the
    input's dtype as PyTorch does, so 'lower'/'higher'/'nearest' pick the same neighbour, and
    from q's tensor so that linear interpolation is differentiable in q as in PyTorch.
    """
    dtype = ordered.dtype
    n = ordered.shape[-1]
    nans = xp.isnan(ordered)
    last = dtype.type(n - 1)
    if ignore_nan:
        k = (n - xp.sum(nans, axis=-1, keepdims=True)).astype(dtype)
        answer_nan = k == 0
    else:
        k = xp.full(nans.shape[:-1] + (1,), n, dtype=dtype)
        answer_nan = xp.any(nans, axis=-1, keepdims=True)
    scale = xp.where(answer_nan, dtype.type(0), k - 1)
    return scale, xp.where(answer_nan, last, dtype.type(0))


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, name):
    _check_quantile_args(input, q, interpolation, name)
    dtype = input._data.dtype
    q_tensor = q if isinstance(q, Tensor) else _constant(xp.asarray(q, dtype=dtype))
    if dim is None:
        x = input.reshape(-1)
        axis = None
    else:
        axis = _axis(dim, input.dim())
        x = input.unsqueeze(0) if input.dim() == 0 else input.movedim(axis, -1)
    ordered = sort(x, -1).values
    scale, offset = _rank_terms(ordered._data, ignore_nan)
    ranks_tensor = q_tensor.reshape(-1) * _constant(scale) + _constant(offset)
    ranks = ranks_tensor._data
    below = xp.floor(ranks)
    above = xp.ceil(ranks)
    if interpolation == "lower":
        above = below
    elif interpolation == "higher":
        below = above
    elif interpolation == "nearest":
        below = above = xp.round(ranks)  # half to even, as PyTorch's round
    module = get_array_module(ranks)
    low = ordered.gather(-1, _constant(below.astype(module.int64)))
    if interpolation in ("lower", "higher", "nearest"):
        result = low
    else:
        high = ordered.gather(-1, _constant(above.astype(module.int64)))
        if interpolation == "midpoint":
            weights = _constant(xp.full_like(ranks, 0.5))
        else:
            weights = ranks_tensor - _constant(below)
        result = lerp(low, high, weights)
    return _quantile_shape(result, input, q, axis, keepdim)


def _quantile_shape(result: Tensor, input: Tensor, q, axis, keepdim: bool) -> Tensor:
    """(..., Q) results to PyTorch's layout: q's dim first, then the reduced input shape."""
    if isinstance(q, Tensor) and q.dim() == 1:
        result = result.movedim(-1, 0)
    else:
        result = result.squeeze(-1)
    offset = 1 if isinstance(q, Tensor) and q.dim() == 1 else 0
    if keepdim:
        if axis is None:
            result = result.reshape(result.shape[:offset] + (1,) * input.dim())
        elif input.dim():
            result = result.unsqueeze(offset + axis)
    return result


@op(method=True, out=copied(quantile_out))
@float32_inputs
def quantile(input: Tensor, q, dim=None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The q-th quantiles along dim (all elements if None); NaN if a slice holds a NaN
    (matches `torch.quantile`)."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


@op(method=True, out=copied(quantile_out))
@float32_inputs
def nanquantile(input: Tensor, q, dim=None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """The q-th quantiles ignoring NaNs (matches `torch.nanquantile`)."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")
