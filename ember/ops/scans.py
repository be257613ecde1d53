"""Running reductions and finite differences along a dim: cummax/cummin, logcumsumexp, diff,
gradient, and the trapezoid rule (trapezoid/trapz, cumulative_trapezoid).

cumsum and cumprod are in reduction.py. diff, gradient and the trapezoid rule are compositions
of narrow/cat/sum, as in PyTorch, so their gradients (of every order) come from those ops.
"""

from ember import _dtype
from ember._backend import get_array_module, quiet, xp
from ember._registry import op
from ember.ops._out_rules import copied, scan_out
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops._util import as_operand
from ember.ops.comparison import where
from ember.ops.extrema import _along, _return_type
from ember.ops.joins import cat
from ember.ops.rearrange import flip
from ember.ops.reduction import _axis, _constant, _type_word
from ember.ops.reduction import sum as _sum
from ember.ops.unary import exp, log
from ember._tensor import short_name
from ember.ops._wirtinger import refuse_complex
from ember.ops._opmath import holds_nan

_CummaxResult = _return_type("cummax", ("values", "indices"))
_CumminResult = _return_type("cummin", ("values", "indices"))


# ---- cummax, cummin ------------------------------------------------------------------------
def _running_extreme(data, axis, take_max):
    """(values, indices) of the running max/min along axis.

    NOTE [cummax ties and NaN]
    PyTorch moves the index on `x >= running` (`<=` for cummin), so a tie takes the latest
    index, and once a NaN is seen the value stays NaN and the index follows each later NaN.
    The latest j <= i with x_j equal to the running value at j (or NaN) is that index.
    """
    accumulate = xp.maximum.accumulate if take_max else xp.minimum.accumulate
    values = accumulate(data, axis=axis)
    hit = data == values
    if holds_nan(data.dtype):
        hit |= xp.isnan(data)
    shape = [1] * data.ndim
    shape[axis] = data.shape[axis]
    positions = get_array_module(data).arange(data.shape[axis]).reshape(shape)
    indices = xp.maximum.accumulate(xp.where(hit, positions, 0), axis=axis)
    return values, indices.astype(xp.int64)


class Cummax(Op):
    """y_i = max_{j<=i} x_j, with its index;  gx = Σ of gy_i at the index each y_i came from."""

    @staticmethod
    def forward(ctx, x, axis, take_max):
        data = _along(x._data, x._data.ndim)
        values, indices = _running_extreme(data, axis, take_max)
        ctx.args = (axis, x._data.shape)
        ctx.indices = indices
        indices = Tensor._make(indices.reshape(x._data.shape))
        ctx.mark_non_differentiable(indices)
        return values.reshape(x._data.shape), indices

    @staticmethod
    def backward(ctx, gy, gi):
        axis, shape = ctx.args
        g = gy.reshape(ctx.indices.shape)
        zeros = Tensor._make(xp.zeros_like(g._data))
        gx = zeros.scatter_add(axis, Tensor._make(ctx.indices), g)
        return gx.reshape(shape), None, None


class Cummin(Cummax):
    pass


def _cumulative_extreme(input, dim, take_max):
    result = _CummaxResult if take_max else _CumminResult
    if input._data.size == 0:  # PyTorch returns empty results before it checks dim
        return result(input.clone(), Tensor._make(xp.zeros(input._data.shape, dtype=xp.int64)))
    axis = _axis(dim, input._data.ndim)
    node = Cummax if take_max else Cummin
    values, indices = node.apply(input, axis, take_max)
    return result(values, indices)


@op(method=True, out=scan_out)
def cummax(input: Tensor, dim: int):
    """Running maximum along dim and where it was found (matches `torch.cummax`)."""
    refuse_complex(input, NotImplementedError,
                   f'"cummax_cpu" not implemented for \'{short_name(input.dtype)}\'')
    return _cumulative_extreme(input, dim, True)


@op(method=True, out=scan_out)
def cummin(input: Tensor, dim: int):
    """Running minimum along dim and where it was found (matches `torch.cummin`)."""
    refuse_complex(input, NotImplementedError,
                   f'"cummin_cpu" not implemented for \'{short_name(input.dtype)}\'')
    return _cumulative_extreme(input, dim, False)


# ---- logcumsumexp ------------------------------------------------------------------------------
class Logcumsumexp(Op):
    """y_i = log Σ_{j<=i} exp(x_j);  gx_j = Σ_{i>=j} gy_i·exp(x_j - y_i).

    NOTE [logcumsumexp backward in log space]
    exp(x_j)·Σ gy_i·exp(-y_i) overflows; instead the positive and negative parts of gy are
    carried in log space, r± = reversed logcumsumexp(log|gy±| - y), and gx = exp(x + r+) -
    exp(x + r-). Every term is a ratio exp(x_j - y_i) <= 1. The entries of the other sign get
    the lowest finite value rather than log 0 = -inf, so that differentiating this backward
    again never meets inf - inf (PyTorch does the same).
    """

    @staticmethod
    def forward(ctx, x, axis):
        data = _along(x._data, x._data.ndim)
        # PyTorch accumulates in float64 on the CPU and rounds each output
        wide = xp.logaddexp.accumulate(data.astype(xp.float64), axis=axis)
        y = Tensor._make(wide.astype(data.dtype).reshape(x._data.shape))
        ctx.axis = axis
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        if x._data.ndim == 0:
            return gy, None
        axis = ctx.axis
        lowest = float(xp.finfo(x._data.dtype).min)
        log_size = log(gy.abs())
        parts = []
        with quiet():  # lowest + a negative number rounds back to lowest, which NumPy flags
            for side in (gy > 0, gy < 0):
                shifted = where(side, log_size, lowest) - y
                reverse = flip(Logcumsumexp.apply(flip(shifted, [axis]), axis), [axis])
                parts.append(exp(reverse + x))
            return parts[0] - parts[1], None


def _log_add_exp(x, acc):
    """log(exp(x) + exp(acc)) for complex arrays, as PyTorch's scan step computes it: the larger
    real part is kept and log1p adds the other, so the imaginary part is not wrapped to (-π, π]."""
    x_smaller = x.real < acc.real  # std::minmax(acc, x) by real part (ties: min = acc)
    low, high = xp.where(x_smaller, x, acc), xp.where(x_smaller, acc, x)
    out = xp.log1p(xp.exp(low - high)) + high
    both_inf = ~xp.isfinite(low.real) & (low.real == high.real)
    out = xp.where(both_inf & (low.real < 0), low, out)
    out = xp.where(both_inf & (low.real > 0), xp.log(xp.exp(low) + xp.exp(high)), out)
    nan = xp.isnan(low.real) | xp.isnan(low.imag) | xp.isnan(high.real) | xp.isnan(high.imag)
    return xp.where(nan, xp.asarray(complex("nan+nanj"), dtype=out.dtype), out)


class ComplexLogcumsumexp(Op):
    """y_k = log Σ_{j<=k} exp(x_j) for complex x, scanned in complex128 as PyTorch does;
    gx_j = conj(exp(x_j))·Σ_{k>=j} gy_k·conj(exp(-y_k)) = exp(conj(x_j) + R_j) with R the
    reversed complex logcumsumexp of log(gy) - conj(y) (every term a ratio, no overflow)."""

    node_name = "LogcumsumexpBackward0"

    @staticmethod
    def forward(ctx, x, axis):
        data = xp.moveaxis(x._data, axis, 0).astype(xp.complex128)
        out = xp.empty_like(data)
        acc = xp.full(data.shape[1:], -xp.inf, dtype=data.dtype)
        with quiet():
            for i in range(data.shape[0]):
                acc = _log_add_exp(data[i], acc)
                out[i] = acc
        ctx.axis = axis
        y = Tensor._make(xp.moveaxis(out, 0, axis).astype(x._data.dtype))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        axis = ctx.axis
        with quiet():
            shifted = log(gy) - y.conj()
            reverse = flip(ComplexLogcumsumexp.apply(flip(shifted, [axis]), axis), [axis])
            return exp(reverse + x.conj()), None


@op(method=True, out=scan_out)
def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log of the running sum of exp along dim, computed stably (matches `torch.logcumsumexp`)."""
    if input.dtype.is_complex:
        axis = _axis(dim, input._data.ndim)
        if input._data.ndim == 0:
            return ComplexLogcumsumexp.apply(input.reshape(1), 0).reshape(())
        return ComplexLogcumsumexp.apply(input, axis)
    axis = _axis(dim, input._data.ndim)  # dim is checked before the dtype
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f'"logcumsumexp_out_cpu" not implemented for \'{_type_word(input.dtype)}\'')
    return Logcumsumexp.apply(input, axis)


# ---- diff ----------------------------------------------------------------------------------------
def _check_diff_part(input: Tensor, other: Tensor, axis: int):
    """prepend/append as PyTorch checks them: input's dims, its sizes except along axis."""
    if other.dim() != input.dim():
        raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    for i, (size, got) in enumerate(zip(input.shape, other.shape)):
        if i != axis and size != got:
            raise RuntimeError(
                f"diff expects the shape of tensor to prepend or append to match that of input "
                f"except along the differencing dimension; input.size({i}) = {size}, but got "
                f"tensor.size({i}) = {got}")


@op(method=True, out=copied(scan_out))
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """n-th forward difference along dim, after joining prepend/append (matches `torch.diff`).

    bool inputs give x[i+1] != x[i] (logical xor), as PyTorch does.
    """
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    for other in (prepend, append):
        if other is not None:
            _check_diff_part(input, other, _axis(dim, input.dim()))
    if n == 0:  # PyTorch then ignores prepend and append, and dim is never looked at
        return input.clone()
    axis = _axis(dim, input.dim())
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, axis) if len(parts) > 1 else input
    for _ in range(n):
        length = x.shape[axis]
        if length == 0:
            break
        later, earlier = x.narrow(axis, 1, length - 1), x.narrow(axis, 0, length - 1)
        x = later != earlier if x.dtype is _dtype.bool else later - earlier
    return x


# ---- gradient ------------------------------------------------------------------------------------
def _slice(f: Tensor, axis: int, start: int, stop: int) -> Tensor:
    return f.narrow(axis, start, stop - start)


def _along_axis(values, axis: int, ndim: int, dtype) -> Tensor:
    """A 1-D array as a constant that broadcasts along `axis` of an ndim-D tensor."""
    shape = [1] * ndim
    shape[axis] = -1
    return _constant(xp.asarray(values).astype(dtype).reshape(shape))


def _uniform_gradient(f: Tensor, axis: int, h: float, edge_order: int) -> Tensor:
    """Central differences with step h; one-sided first or second order at the two edges."""
    n = f.shape[axis]
    s = lambda a, b: _slice(f, axis, a, b)  # noqa: E731
    interior = (s(2, n) - s(0, n - 2)) / (2 * h)
    if edge_order == 1:
        first = (s(1, 2) - s(0, 1)) / h
        last = (s(n - 1, n) - s(n - 2, n - 1)) / h
    else:
        first = (s(0, 1) * -1.5 + s(1, 2) * 2.0 - s(2, 3) * 0.5) / h
        last = (s(n - 3, n - 2) * 0.5 - s(n - 2, n - 1) * 2.0 + s(n - 1, n) * 1.5) / h
    return cat([first, interior, last], axis)


def _coordinate_gradient(f: Tensor, axis: int, x, edge_order: int) -> Tensor:
    """Second-order differences on the grid x (NumPy's formulas for uneven spacing); float64
    coordinates promote a float32 input, as in PyTorch."""
    if x.dtype.is_floating_point and x.dtype is not f.dtype:
        f = f.to(_dtype.promote_types(f.dtype, x.dtype))
    x = x._data.astype(f._data.dtype)
    n, ndim, dtype = f.shape[axis], f.dim(), f._data.dtype
    s = lambda a, b: _slice(f, axis, a, b)  # noqa: E731
    c = lambda v: _along_axis(v, axis, ndim, dtype)  # noqa: E731
    dx = xp.diff(x)
    hd, hs = dx[:-1], dx[1:]
    a, b = -hs / (hd * (hd + hs)), (hs - hd) / (hd * hs)
    interior = s(0, n - 2) * c(a) + s(1, n - 1) * c(b) + s(2, n) * c(hd / (hs * (hd + hs)))
    if edge_order == 1:
        first = (s(1, 2) - s(0, 1)) / float(dx[0])
        last = (s(n - 1, n) - s(n - 2, n - 1)) / float(dx[-1])
    else:  # one-sided second-order differences over the first and the last three points
        h1, h2 = float(dx[0]), float(dx[1])
        a, b, c = -(2 * h1 + h2) / (h1 * (h1 + h2)), (h1 + h2) / (h1 * h2), -h1 / (h2 * (h1 + h2))
        first = s(0, 1) * a + s(1, 2) * b + s(2, 3) * c
        h1, h2 = float(dx[-2]), float(dx[-1])
        a, b, c = h2 / (h1 * (h1 + h2)), -(h1 + h2) / (h1 * h2), (2 * h2 + h1) / (h2 * (h1 + h2))
        last = s(n - 3, n - 2) * a + s(n - 2, n - 1) * b + s(n - 1, n) * c
    return cat([first, interior, last], axis)


def _gradient_spacings(spacing, dims, input: Tensor):
    """One spacing per dim: a float step or a 1-D array of coordinates."""
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(
                f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing "
                f"and dim arguments to have the same length, but got a spacing argument of "
                f"length {len(spacing)} and a dim argument of length {len(dims)}.")
        return [s if isinstance(s, Tensor) else float(s) for s in spacing]
    if spacing is None:
        spacing = 1.0
    elif isinstance(spacing, Tensor):
        spacing = spacing.item()
    return [float(spacing)] * len(dims)


@op
def gradient(input: Tensor, *, spacing=1, dim=None, edge_order: int = 1):
    """Derivative estimates along each dim, by second-order central differences inside and
    one-sided differences of order `edge_order` at the edges (matches `torch.gradient`)."""
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if dim is None:
        dims = list(range(input.dim()))
    else:
        dims = [dim] if isinstance(dim, int) else list(dim)
        dims = [_axis(d, input.dim()) for d in dims]
        for d in dims:
            if dims.count(d) > 1:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError(
                "torch.gradient expected each dimension size to be at least edge_order+1")
    if input.dtype is _dtype.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    if input.dtype is _dtype.bool and dims:  # PyTorch's differences of bools refuse them
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        input = as_operand(input, _dtype.get_default_dtype())
    results = []
    for axis, step in zip(dims, _gradient_spacings(spacing, dims, input)):
        if isinstance(step, float):
            results.append(_uniform_gradient(input, axis, step, edge_order))
        else:
            results.append(_coordinate_gradient(input, axis, step, edge_order))
    return tuple(results)


# ---- trapezoid rule ------------------------------------------------------------------------------
def _sample_points(x: Tensor, y: Tensor, axis: int, name: str) -> Tensor:
    """x viewed against y as PyTorch's trapezoid rules do: a 1-D x along `axis`, an x of fewer
    dims than y with leading 1s; an x of as many dims or more as it is."""
    if x.dim() == 1:
        if x.shape[0] != y.shape[axis]:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        shape = [1] * y.dim()
        shape[axis] = x.shape[0]
        return x.reshape(shape)
    if x.dim() < y.dim():
        return x.reshape((1,) * (y.dim() - x.dim()) + tuple(x.shape))
    return x


@op
def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """∫ y along dim by the trapezoid rule, over points x or with step dx (matches
    `torch.trapezoid`): Σ (y[i] + y[i+1])·(x[i+1] - x[i]) / 2."""
    if x is not None and dx is not None:
        raise RuntimeError("trapezoid: received both x and dx; pass at most one of them")
    if y.dim() == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    axis = _axis(dim, y.dim())
    n = y.shape[axis]
    if n == 0:  # no samples: zeros of y's dtype (NumPy's answer), before any other check
        return Tensor._make(xp.zeros(y.shape[:axis] + y.shape[axis + 1:], dtype=y._data.dtype))
    if x is not None and isinstance(x, Tensor):
        if y.dtype is _dtype.bool or x.dtype is _dtype.bool:
            raise RuntimeError("trapezoid: received a bool input for `x` or `y`, but bool is "
                               "not supported")
        x_left, x_right = _pair_slices(_sample_points(x, y, axis, "trapezoid"), axis)
        left, right = _pair_slices(y, axis)
        # PyTorch sums along `axis` of the broadcast product, which may have more dims than y
        return _sum((left + right) * (x_right - x_left), axis) / 2
    if y.dtype is _dtype.bool:
        raise RuntimeError("trapezoid: received a bool input for `y`, but bool is not supported")
    step = 1.0 if dx is None and x is None else (dx if dx is not None else x)
    if isinstance(step, (bool, complex)):
        raise RuntimeError("trapezoid: Currently, we only support dx as a real number.")
    ends = (y.narrow(axis, 0, 1) + y.narrow(axis, n - 1, 1)).squeeze(axis) * 0.5
    return (_sum(y, axis) - ends) * float(step)


@op
def trapz(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoid rule (matches `torch.trapz`, the older name of trapezoid)."""
    return trapezoid(y, x, dx=dx, dim=dim)


def _pair_slices(t: Tensor, axis: int):
    """t[..., :-1, ...] and t[..., 1:, ...] along axis (both empty for a size-0 axis)."""
    if t.dim() == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    m = max(t.shape[axis] - 1, 0)
    return t.narrow(axis, 0, m), t.narrow(axis, min(1, t.shape[axis]), m)


@op
def cumulative_trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """Running trapezoid-rule integral along dim (matches `torch.cumulative_trapezoid`):
    cumsum(Δx·(y[:-1] + y[1:]) / 2), with PyTorch's checks and broadcasting of Δx."""
    axis = _axis(dim, max(y.dim(), 1))
    if x is not None and isinstance(x, Tensor):
        if y.dtype is _dtype.bool or x.dtype is _dtype.bool:
            raise RuntimeError("cumulative_trapezoid: received a bool input for `x` or `y`, "
                               "but bool is not supported")
        left, right = _pair_slices(y, axis)
        x_left, x_right = _pair_slices(_sample_points(x, y, axis, "cumulative_trapezoid"), axis)
        return ((x_right - x_left) * (left + right) / 2).cumsum(axis)
    if y.dtype is _dtype.bool:
        raise RuntimeError("cumulative_trapezoid: received a bool input for `y`, but bool is "
                           "not supported")
    left, right = _pair_slices(y, axis)
    step = 1.0 if dx is None and x is None else float(dx if dx is not None else x)
    return ((left + right) * (step / 2)).cumsum(axis)

