"""segment_reduce: reduce consecutive runs ("segments") of data along one axis.

Segments are given by their `lengths` or by `offsets` (lengths' running sum with a leading 0),
one row of them per index of data's leading dims. Every element gets a segment id (its
batch row × number of segments + its segment), and the reduction is one unbuffered scatter
(`ufunc.at`) into the segments: whole arrays, no loop over segments.
"""

import math

from ember._backend import get_array_module, xp
from ember._registry import op
from ember._tensor import Tensor, short_name, wrap_dim
from ember.autograd.function import Op, once_differentiable

_REDUCTIONS = ("sum", "prod", "mean", "max", "min")
_IDENTITY = {"sum": 0.0, "mean": 0.0, "prod": 1.0, "max": -math.inf, "min": math.inf}
_UFUNC = {"sum": "add", "mean": "add", "prod": "multiply", "max": "maximum", "min": "minimum"}


def _segment_ids(offsets, n: int):
    """(segment id of each of the n elements of each row, flattened; number of segments) for
    offsets of shape (rows, segments + 1). Elements before the first offset or from the last
    one on get id -1."""
    rows, count = offsets.shape[0], offsets.shape[1] - 1
    module = get_array_module(offsets)
    positions = module.arange(n)
    within = positions[None, :, None] >= offsets[:, None, 1:]  # (rows, n, segments)
    seg = within.sum(-1)
    ids = module.arange(rows)[:, None] * count + seg
    inside = (positions[None, :] >= offsets[:, :1]) & (positions[None, :] < offsets[:, -1:])
    ids = xp.where(inside, ids, -1)
    return ids.reshape(-1), count


class SegmentReduce(Op):
    """y[s] = reduce(x over segment s) (with `initial` folded in);  gx = gy of x's segment,
    ·1 (sum), /count (mean), ·Π of the others (prod), split among the tied extremes (max/min).
    """

    @staticmethod
    def forward(ctx, x, reduce, offsets, axis, initial):
        data = x._data
        lead, n = data.shape[:axis], data.shape[axis]
        trail = data.shape[axis + 1:]
        rows = math.prod(lead)
        flat = data.reshape((rows * n, math.prod(trail)))
        work = xp.float32 if flat.dtype.itemsize == 2 else flat.dtype
        flat = flat.astype(work)
        ids, count = _segment_ids(offsets.reshape(rows, -1), n)
        keep = ids >= 0
        ids, flat = ids[keep], flat[keep]
        out = xp.full((rows * count, flat.shape[1]), _IDENTITY[reduce], dtype=work)
        getattr(xp, _UFUNC[reduce]).at(out, ids, flat)
        sizes = xp.bincount(ids, minlength=rows * count)[:, None]
        if initial is not None:
            out = _fold_initial(out, reduce, initial)
        if reduce == "mean":
            with xp.errstate(invalid="ignore", divide="ignore"):
                out = xp.where(sizes > 0, out / sizes, xp.nan if initial is None else initial)
        ctx.args = (reduce, ids, keep, sizes, initial, data.shape)
        ctx.save_for_backward(x)
        ctx.out = out
        y = out.astype(data.dtype).reshape(lead + (count,) + trail)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        reduce, ids, keep, sizes, initial, shape = ctx.args
        g = gy._data.reshape(ctx.out.shape).astype(ctx.out.dtype)[ids]
        data = x._data.reshape(keep.size, -1).astype(ctx.out.dtype)[keep]
        picked = ctx.out[ids]
        if reduce == "mean":
            g = g / sizes[ids]
        elif reduce in ("max", "min"):
            # NOTE [segment_reduce's tied extremes]: every element equal to the extreme (or
            # NaN, when the extreme is NaN) gets the gradient, divided by their count only
            # where it is positive: PyTorch's kernel tests `grad > 0` before dividing
            tied = (data == picked) | (xp.isnan(data) & xp.isnan(picked))
            ties = xp.zeros(ctx.out.shape, dtype=ctx.out.dtype)
            xp.add.at(ties, ids, tied.astype(ties.dtype))
            with xp.errstate(invalid="ignore", divide="ignore"):
                g = xp.where(tied, xp.where(g > 0, g / ties[ids], g), 0)
        elif reduce == "prod":
            g = g * _others_product(data, ids, picked, ctx.out.shape, initial)
        gx = xp.zeros((keep.size, g.shape[1]), dtype=x._data.dtype)
        gx[keep] = g
        return gx.reshape(shape), None, None, None, None


def _fold_initial(out, reduce, initial):
    """Every segment's reduction with `initial` as one more operand (empty ones: initial)."""
    value = out.dtype.type(initial)
    if reduce in ("sum", "mean"):
        return out + value
    if reduce == "prod":
        return out * value
    return (xp.maximum if reduce == "max" else xp.minimum)(out, value)


def _others_product(data, ids, picked, shape, initial):
    """∂(Π segment)/∂x_i = the product of the segment's other factors: out/x_i without zeros;
    with one zero, the product of the nonzero factors at the zero and 0 elsewhere; else 0."""
    zeros = xp.zeros(shape, dtype=data.dtype)
    xp.add.at(zeros, ids, (data == 0).astype(data.dtype))
    nonzero = xp.ones(shape, dtype=data.dtype)
    xp.multiply.at(nonzero, ids, xp.where(data == 0, 1, data))
    if initial is not None:
        nonzero = nonzero * data.dtype.type(initial)
    z = zeros[ids]
    with xp.errstate(invalid="ignore", divide="ignore"):
        plain = picked / data
    return xp.where(z == 0, plain, xp.where((z == 1) & (data == 0), nonzero[ids], 0))


_TORCH_CHECK = "  (Could this error message be improved?  If so, please report an enhancement " \
               "request to PyTorch.)"


def _check_segments(data: Tensor, given: Tensor, name: str, axis: int):
    """The checks PyTorch makes of lengths or offsets against data, in its order."""
    if data._data.ndim < given._data.ndim:
        raise RuntimeError(f"Expected data.dim() >= {name}_value.dim() to be true, but got "
                           f"false.{_TORCH_CHECK}")
    if given._data.ndim - 1 != axis:
        raise RuntimeError(f"segment_reduce(): Expected axis to be the last dimension of {name} "
                           f"but got {axis}.")


def _check_lengths_sum(lengths: Tensor, n: int):
    """segment_reduce's !unsafe checks of lengths: none negative, each row summing to n."""
    array = lengths._data
    if not array.size:  # PyTorch takes lengths.min() first
        raise RuntimeError("min(): Expected reduction dim to be specified for input.numel() == "
                           "0. Specify the reduction dim with the 'dim' argument.")
    if array.min() < 0:
        raise RuntimeError("lengths contains negative value!")
    if (array.sum(axis=-1) != n).any():
        raise RuntimeError("segment_reduce(): Expected all rows of lengths along axis to sum "
                           "to data.size(lengths.dim()-1) when !unsafe.")


def _bounds_of(data: Tensor, given: Tensor, name: str, axis: int):
    """The segments as offsets (leading dims + (segments + 1,)), after the kernel's checks.

    NOTE [segment_reduce's offsets out of range]
    PyTorch checks offsets only for decreasing values; offsets past data's size along axis (or
    negative) make its kernel read outside data's memory. ember refuses them instead.
    """
    if given._data.dtype.kind != "i" or given._data.dtype.itemsize < 4:  # int32/int64 only
        raise NotImplementedError(f'"_segment_reduce_{name}_cpu_kernel1" not implemented for '
                                  f"'{short_name(given.dtype)}'")
    array = given._data.astype(xp.int64)
    if name == "lengths":
        zero = xp.zeros(array.shape[:-1] + (1,), dtype=xp.int64)
        array = xp.concatenate([zero, xp.cumsum(array, axis=-1)], axis=-1)
    if (xp.diff(array, axis=-1) < 0).any():
        raise RuntimeError(f"Expected segment_length >= 0 to be true, but got false."
                           f"{_TORCH_CHECK}")
    n = data._data.shape[axis]
    if name == "offsets" and array.size and (array.min() < 0 or array.max() > n):
        raise RuntimeError(f"segment_reduce(): offsets must lie in [0, {n}] (the size of data "
                           f"along axis); got offsets from {array.min()} to {array.max()}")
    return array


@op(aliases=("segment_reduce",))
def _segment_reduce(data: Tensor, reduce: str, *, lengths=None, indices=None, offsets=None,
                    axis: int = 0, unsafe: bool = False, initial=None) -> Tensor:
    """reduce ("sum", "prod", "mean", "max", "min") over consecutive segments of data along
    axis, given by lengths or offsets (matches `torch.segment_reduce`)."""
    axis = wrap_dim(axis, data._data.ndim)
    if indices is not None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    if lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined.")
    name = {"amax": "max", "amin": "min"}.get(reduce, reduce)
    if name not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    kind = "offsets" if offsets is not None else "lengths"  # offsets win when both are given
    given = offsets if offsets is not None else lengths
    _check_segments(data, given, kind, axis)
    if kind == "lengths" and not unsafe:
        _check_lengths_sum(given, data._data.shape[axis])
    bounds = _bounds_of(data, given, kind, axis)
    if not data.dtype.is_floating_point:
        raise NotImplementedError(f'"_segment_reduce_cpu" not implemented for '
                                  f"'{short_name(data.dtype)}'")
    return SegmentReduce.apply(data, name, bounds, axis, initial)
