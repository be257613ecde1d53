"""Sorting and order statistics along a dim: sort, argsort, msort, topk, median, nanmedian,
kthvalue and mode, with the gradient sent to the indices.

The backward of each is `PutAlong` (from extrema.py): the gradient of the selected values is
placed back at the positions they came from. Where PyTorch's CPU algorithms are not stable,
equal values come out in the order they leave them in (_cpu_order.py).
"""

from ember._backend import get_array_module, quiet, xp
from ember._registry import _RESIZED, op, write_out
from ember.ops._out_rules import kthvalue_out, mode_out
from ember._warnings import warn_at_caller
from ember._tensor import Tensor
from ember._threads import parallel_blocks
from ember.autograd.function import Op
from ember.ops import _cpu_order
from ember.ops.extrema import PutAlong, _along, _check_nonempty, _return_type, _tie_share
from ember.ops.reduction import _axis, _constant
from ember._tensor import short_name
from ember.ops._wirtinger import refuse_complex
from ember.ops._opmath import holds_nan

_SortResult = _return_type("sort", ("values", "indices"))
_TopkResult = _return_type("topk", ("values", "indices"))
_MedianResult = _return_type("median", ("values", "indices"))


# ---- sort, argsort, topk -------------------------------------------------------------------
def _stable_order(data, axis, descending):
    """Stable sort order along axis; NaN sorts as the largest value, as in PyTorch.

    NOTE [Stable descending sort]
    Reversing the slice, sorting ascending stably and reversing again puts equal elements in
    their original order, which negating the values cannot do for unsigned or bool data.
    """
    if holds_nan(data.dtype) and data.ndim and data.shape[axis] > 1:
        return _float_order(data, axis, descending)
    return _stable_argsort(data, axis, descending)


def _stable_argsort(data, axis, descending):
    """NumPy's stable argsort, descending by NOTE [Stable descending sort]."""
    if not descending:
        return xp.argsort(data, axis=axis, kind="stable")
    n = data.shape[axis]
    order = xp.argsort(xp.flip(data, axis), axis=axis, kind="stable")
    return xp.flip(n - 1 - order, axis)


def _float_order(data, axis, descending):
    """The stable order of float slices from NumPy's default argsort (a SIMD quicksort, 3x
    faster than its stable sort for float32 here): where values are distinct the order is
    unique, and each run of equal values (or of NaNs) is put back in index order, as a
    stable sort leaves it (NOTE [Stable descending sort] keeps that order descending too)."""
    data_rows, shape = _rows(data, axis)
    rows = _argsort_rows(data_rows)  # NaN last, where the stable sort puts it
    if descending:
        rows = xp.ascontiguousarray(rows[:, ::-1])
    values = _gather_rows(data_rows, rows)
    with quiet():
        tied = (values[:, 1:] == values[:, :-1]) | (xp.isnan(values[:, 1:])
                                                    & xp.isnan(values[:, :-1]))
    if tied.any():
        in_run = xp.zeros(rows.shape, dtype=bool)
        in_run[:, 1:] |= tied
        in_run[:, :-1] |= tied
        starts = xp.ones(rows.shape, dtype=bool)
        starts[:, 1:] = ~tied
        run = xp.cumsum(starts.reshape(-1))  # a number per run of equal values
        members = xp.flatnonzero(in_run)
        flat = rows.reshape(-1)
        indices = flat[members]
        flat[members] = indices[xp.lexsort((indices, run[members]))]
    return _unrows(rows, shape, axis)


def _gather_rows(rows, order):
    """take_along_axis(rows, order, -1) for a contiguous 2-d rows: one flat `take` (half the
    time of take_along_axis's two broadcast index arrays on (4096, 512))."""
    offsets = xp.arange(0, rows.size, rows.shape[-1], dtype=order.dtype)[:, None]
    return xp.take(rows.reshape(-1), order + offsets)


def _argsort_rows(rows):
    """NumPy's default argsort of each row of a 2-d array, on the threads (`_by_row_blocks`:
    (4096, 512) floats 28 ms on one thread, 15 on two)."""
    order = get_array_module(rows).empty(rows.shape, dtype=xp.intp)
    return _by_row_blocks(lambda part: xp.argsort(part, axis=-1), rows, order)


def _by_row_blocks(kernel, rows, out):
    """out[i:j] = kernel(rows[i:j]) over blocks of rows on the intra-op threads, for kernels
    that release the GIL (NumPy's sorts and partitions); blocks of _ROW_BLOCK values at least
    (a smaller one isn't worth a thread)."""
    def block(first, last):
        out[first:last] = kernel(rows[first:last])

    parallel_blocks(block, len(rows), max(1, _ROW_BLOCK // max(rows.shape[-1], 1)))
    return out


# Re-enacting PyTorch's tie order runs in Python (NOTE [Tie order of PyTorch's CPU sort, topk,
# kthvalue and mode], ~0.3 s for 32768 values): past this many values to re-sort in one call,
# NumPy's stable order is kept.
CPU_ORDER_BUDGET = 1 << 18


def _rows(array, axis):
    """The slices of array along axis as the rows of a 2-D copy, and the moved shape."""
    moved = xp.moveaxis(array, axis, -1)
    return moved.reshape(-1, moved.shape[-1]).copy(), moved.shape


def _unrows(rows, shape, axis):
    return xp.moveaxis(rows.reshape(shape), -1, axis)


def _tied(rows):
    """Which rows hold two equal values (two NaNs count as equal)."""
    ordered = xp.sort(rows, axis=-1)
    tied = xp.any(ordered[:, 1:] == ordered[:, :-1], axis=-1)
    if holds_nan(rows.dtype):
        tied |= xp.sum(xp.isnan(rows), axis=-1) > 1
    return tied


def _in_cpu_order(data, idx, axis, redo, row_order):
    """idx with the rows where `redo(rows)` holds replaced by `row_order(values)`."""
    rows, _ = _rows(data, axis)
    chosen = redo(rows)
    if not chosen.any() or chosen.sum() * rows.shape[-1] > CPU_ORDER_BUDGET:
        return idx
    idx_rows, shape = _rows(idx, axis)
    for r in xp.flatnonzero(chosen):
        idx_rows[r] = row_order(rows[r].tolist())
    return _unrows(idx_rows, shape, axis)


def _sort_order(data, axis, descending, stable):
    """PyTorch's CPU sort order: stable, or (stable=False) std::sort's order of equal values,
    which is stable up to 16 elements (an insertion sort)."""
    idx = _stable_order(data, axis, descending)
    if stable or data.shape[axis] <= _cpu_order.THRESHOLD:
        return idx
    return _in_cpu_order(data, idx, axis, _tied,
                         lambda row: _cpu_order.sort_order(row, descending))


def _topk_order(data, axis, k, largest, sorted_):
    """The first k of PyTorch's CPU topk order (nth_element, then a sort of the first k - 1)."""
    if sorted_ and 0 < k < data.shape[axis] and data.dtype.kind in "fiu":
        rows, shape = _rows(data, axis)
        return _unrows(_topk_rows(rows, k, largest), shape[:-1] + (k,), axis)
    return _topk_by_sorting(data, axis, k, largest, sorted_)


def _topk_by_sorting(data, axis, k, largest, sorted_):
    """topk's order from a stable sort of whole slices, then PyTorch's order of equal values
    (NOTE [Tie order of PyTorch's CPU sort, topk, kthvalue and mode])."""
    idx = xp.take(_stable_order(data, axis, largest), get_array_module(data).arange(k), axis=axis)
    if k == 0:
        return idx
    redo = _tied if sorted_ else (lambda rows: xp.ones(rows.shape[0], dtype=bool))
    return _in_cpu_order(data, idx, axis, redo,
                         lambda row: _cpu_order.topk_order(row, k, largest, sorted_))


def _topk_rows(rows, k, largest):
    """The sorted topk order of each row of rows (2-d, real): by partition where the row's k
    chosen values are distinct and its k-th is not repeated outside them, by sorting where
    not.

    NOTE [topk by partition]
    Sorting whole slices to keep k of them cost O(n log n) and a second sort to look for ties:
    19 ms for the top 5 of (256, 1000) logits, where PyTorch takes 0.2. Here the k-th value
    of each row comes from one `partition` (O(n)), the k values on its side of it are
    gathered in index order and only they are sorted: where they are distinct, the order is
    the values' alone, whatever the algorithm. The rows where the k-th value is tied or the
    k values hold equal ones (or a NaN) take the general path, which gives PyTorch's order of
    equal values (NOTE [Tie order of PyTorch's CPU sort, topk, kthvalue and mode]).
    """
    n = rows.shape[-1]
    position = n - k if largest else k - 1
    kth = _kth_values(rows, position)  # NaN sorts last
    with quiet():  # (a NaN k-th value compares False: that row is left to the sorting path)
        chosen = rows >= kth if largest else rows <= kth
    found = _true_positions(chosen)
    row_of = found // n
    bad = xp.bincount(row_of, minlength=len(rows)) != k  # (no tie, no NaN in the way: k)
    picked = (found[~bad[row_of]] % n).reshape(-1, k)  # each good row's k positions, in order
    good = xp.flatnonzero(~bad)
    values = rows[good[:, None], picked]
    order = _stable_order(values, -1, largest)
    ordered = xp.take_along_axis(values, order, axis=-1)
    equal = (ordered[:, 1:] == ordered[:, :-1]).any(axis=-1)  # equal values among the k
    idx = get_array_module(rows).empty((len(rows), k), dtype=xp.intp)
    idx[good] = xp.take_along_axis(picked, order, axis=-1)
    bad[good[equal]] = True
    if bad.any():
        idx[bad] = _topk_by_sorting(rows[bad], -1, k, largest, True)
    return idx


def _kth_values(rows, position):
    """Each row's value at `position` in sorted order, (rows, 1), from `partition` on the
    threads (`_by_row_blocks`: top-5 of (2048, 1000) logits spent 9.3 of its 14 ms there on one
    thread, 4.7 on two)."""
    kth = get_array_module(rows).empty((len(rows), 1), dtype=rows.dtype)
    return _by_row_blocks(
        lambda part: xp.partition(part, position, axis=-1)[:, position:position + 1], rows, kth)


_ROW_BLOCK = 1 << 17


def _true_positions(mask):
    """The flat positions of the True entries of a contiguous bool array, in order, found 8 at
    a time (as 64-bit words): 4x faster than `nonzero` when they are few."""
    flat = mask.reshape(-1)
    if flat.size % 8:
        flat = xp.concatenate([flat, xp.zeros(-flat.size % 8, dtype=bool)])
    words = xp.flatnonzero(flat.view(xp.uint64))
    word, byte = xp.nonzero(flat.reshape(-1, 8)[words])
    return words[word] * 8 + byte


class Sort(Op):
    """(values, indices) = x's entries at idx (a sort order) along axis;  gx = gy placed back
    at the indices."""

    @staticmethod
    def forward(ctx, x, idx, axis):
        data = _along(x._data, x._data.ndim)
        if (data.ndim == 2 and axis in (1, -1) and type(data) is xp.ndarray
                and data.flags.c_contiguous and idx.shape == data.shape):
            values = _gather_rows(data, idx)
        else:
            values = xp.take_along_axis(data, idx, axis)
        ctx.args = (idx, axis, True, x._data.shape)
        shape = values.shape if x._data.ndim else ()
        indices = Tensor._make(idx.reshape(shape).astype(xp.int64, copy=False))
        ctx.mark_non_differentiable(indices)
        return values.reshape(shape), indices

    @staticmethod
    def backward(ctx, gv, gi):
        return PutAlong.apply(gv, *ctx.args), None, None


class SortStable(Sort):
    """sort called with stable= (PyTorch's other overload, hence another node name)."""

    node_name = "SortBackward1"


class Topk(Sort):
    pass


@op(method=True, out="exact")
def sort(input: Tensor, dim: int = -1, descending: bool = False, stable=None):
    """Sort along dim, returning (values, indices); equal values keep PyTorch's CPU order
    (matches `torch.sort`)."""
    refuse_complex(input, RuntimeError,
                   " Sort does not support complex dtypes on CPU")
    axis = _axis(dim, input._data.ndim)
    data = _along(input._data, input._data.ndim)
    idx = _sort_order(data, axis, descending, bool(stable))
    values, indices = (Sort if stable is None else SortStable).apply(input, idx, axis)
    return _SortResult(values, indices)


@op(method=True, out="exact")
def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """The indices that sort input along dim (matches `torch.argsort`)."""
    refuse_complex(input, RuntimeError,
                   " Sort does not support complex dtypes on CPU")
    axis = _axis(dim, input._data.ndim)
    idx = _sort_order(_along(input._data, input._data.ndim), axis, descending, stable)
    return Tensor._make(idx.reshape(input._data.shape).astype(xp.int64, copy=False))


@op(method=True, out="exact")
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The k largest (or smallest) entries along dim and their indices (matches `torch.topk`)."""
    refuse_complex(input, RuntimeError,
                   " topk does not support complex dtypes on CPU")
    axis = _axis(dim, input._data.ndim)
    size = input._data.shape[axis] if input._data.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if input.dtype.name == "bool":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    idx = _topk_order(_along(input._data, input._data.ndim), axis, k, largest, sorted)
    values, indices = Topk.apply(input, idx, axis)
    return _TopkResult(values, indices)


class MedianAll(Op):
    """y = the lower median of all elements;  gx = gy / k at each of the k elements equal to y."""

    node_name = "MedianBackward0"

    @staticmethod
    def forward(ctx, x):
        flat = x._data.reshape(-1)
        if flat.size == 0 or holds_nan(flat.dtype) and xp.isnan(flat).any():
            # NaN, or NaN cast to the integer dtype as C casts it (int64: its minimum), as torch
            with quiet():
                y = get_array_module(flat).asarray(xp.nan).astype(flat.dtype)
        else:
            k = (flat.size - 1) // 2
            y = xp.partition(flat, k)[k]
        if ctx.needs_input_grad[0]:
            ctx.share = _tie_share(x._data, y)
        return xp.asanyarray(y)

    @staticmethod
    def backward(ctx, gy):
        return gy * _constant(ctx.share.astype(gy._data.dtype, copy=False))


class MedianDim(Op):
    """(values, indices) of the lower median along a dim;  gx = gy at the returned index."""

    node_name = "MedianBackward1"

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        data = _along(x._data, x._data.ndim)
        order = xp.argsort(data, axis=axis, kind="stable")
        n = data.shape[axis]
        if holds_nan(data.dtype):
            nans = xp.sum(xp.isnan(data), axis=axis, keepdims=True)
            position = xp.where(nans > 0, n - nans, (n - 1) // 2)
        else:
            position = get_array_module(data).asarray((n - 1) // 2)
        position = xp.broadcast_to(position, xp.take(order, [0], axis=axis).shape)
        idx = xp.take_along_axis(order, position, axis)
        ctx.args = (idx, axis, keepdim, x._data.shape)
        values = xp.take_along_axis(data, idx, axis)
        if x._data.ndim == 0:
            values, idx = values.reshape(()), idx.reshape(())
        elif not keepdim:
            values, idx = xp.squeeze(values, axis), xp.squeeze(idx, axis)
        indices = Tensor._make(idx.astype(xp.int64, copy=False))
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, gy, gi):
        return PutAlong.apply(gy, *ctx.args), None, None


def _refuse_median_dtype(input, dim):
    """torch's median/nanmedian kernels have no complex or bool version (named by overload);
    an empty input is answered (no dim) or refused (a dim) before the kernel is chosen."""
    if dim is not None and input.dtype.name == "bool":
        _check_nonempty(input, "median", _axis(dim, input._data.ndim))
    if input.dtype.is_complex or input.dtype.name == "bool" and (dim is not None or
                                                                 input.numel()):
        kernel = "median_cpu" if dim is None else "median_out"
        raise NotImplementedError(
            f'"{kernel}" not implemented for \'{short_name(input.dtype)}\'')


@op(method=True, out=True)
def median(input: Tensor, dim=None, keepdim: bool = False):
    """Lower median: a value, or (values, indices) along dim (matches `torch.median`)."""
    _refuse_median_dtype(input, dim)
    if dim is None:
        return MedianAll.apply(input)
    axis = _axis(dim, input._data.ndim)
    _check_nonempty(input, "median", axis)
    values, indices = MedianDim.apply(input, axis, keepdim)
    return _MedianResult(values, indices)


class NanmedianAll(MedianAll):
    """y = the lower median of the non-NaN elements;  gx = gy / k at its k ties."""

    node_name = "NanmedianBackward0"

    @staticmethod
    def forward(ctx, x):
        flat = x._data.reshape(-1)
        valid = flat[~xp.isnan(flat)] if holds_nan(flat.dtype) else flat
        if valid.size == 0:
            with quiet():  # NaN cast as C casts it, as in MedianAll
                y = get_array_module(flat).asarray(xp.nan).astype(flat.dtype)
        else:
            k = (valid.size - 1) // 2
            y = xp.partition(valid, k)[k]
        if ctx.needs_input_grad[0]:
            ctx.share = _tie_share(x._data, y)
        return xp.asanyarray(y)


class PickAlong(Op):
    """(values, indices) at one position per slice of the stable sort along a dim;
    gx = gy at the returned index. `position(sorted, order)` chooses the position, and
    `refine(data, idx, axis)` (if given) the index among equal values, as PyTorch does.

    kthvalue, nanmedian(dim) and mode differ only in the position they pick.
    """

    node_name = "KthvalueBackward0"

    @staticmethod
    def forward(ctx, x, axis, keepdim, position, refine=None):
        data = _along(x._data, x._data.ndim)
        order = xp.argsort(data, axis=axis, kind="stable")
        ordered = xp.take_along_axis(data, order, axis)
        idx = xp.take_along_axis(order, position(ordered, order, axis), axis)
        if refine is not None:
            idx = refine(data, idx, axis)
        ctx.args = (idx, axis, keepdim, x._data.shape)
        values = xp.take_along_axis(data, idx, axis)
        if x._data.ndim == 0:
            values, idx = values.reshape(()), idx.reshape(())
        elif not keepdim:
            values, idx = xp.squeeze(values, axis), xp.squeeze(idx, axis)
        indices = Tensor._make(idx.astype(xp.int64, copy=False))
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, gy, gi):
        return PutAlong.apply(gy, *ctx.args), None, None, None, None


class NanmedianDim(PickAlong):
    node_name = "NanmedianBackward1"


class Mode(PickAlong):
    node_name = "ModeBackward0"


def _first_along(array, axis):
    """A slice of width 1 along axis (the shape of one position per slice)."""
    return xp.take(array, [0], axis=axis)


_KthvalueResult = _return_type("kthvalue", ("values", "indices"))
_ModeResult = _return_type("mode", ("values", "indices"))
_NanmedianResult = _return_type("nanmedian", ("values", "indices"))


@op(method=True)
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False, *, out=None):
    """The k-th smallest entry along dim and its index (matches `torch.kthvalue`)."""
    refuse_complex(input, NotImplementedError,
                   f'"kthvalue_cpu" not implemented for \'{short_name(input.dtype)}\'')
    if out is not None:
        if any(xp.shares_memory(o._data, input._data) for o in out):
            raise RuntimeError(
                "unsupported operation: some elements of the input tensor and the written-to "
                "tensor refer to a single memory location. Please clone() the tensor before "
                "performing the operation.")
        _resize_keepdim_outs(out, input, dim, keepdim, always=False)
        return write_out(kthvalue(input, k, dim, keepdim), out, rule=kthvalue_out)
    axis = _axis(dim, input._data.ndim)
    size = input._data.shape[axis] if input._data.ndim else 1
    if size == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {axis} to have non-zero size.")
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    if input.dtype.name == "bool":
        raise NotImplementedError('"kthvalue_cpu" not implemented for \'Bool\'')

    def position(ordered, order, axis):
        return xp.full_like(_first_along(order, axis), k - 1)

    def refine(data, idx, axis):  # PyTorch's quickselect decides among equal values
        if data.shape[axis] < 3:
            return idx
        return _in_cpu_order(data, idx, axis, _tied,
                             lambda row: [_cpu_order.kthvalue_index(row, k)])

    values, indices = PickAlong.apply(input, axis, keepdim, position, refine)
    return _KthvalueResult(values, indices)


@op(method=True, out=True)
def nanmedian(input: Tensor, dim=None, keepdim: bool = False):
    """Lower median ignoring NaNs: a value, or (values, indices) along dim (matches
    `torch.nanmedian`)."""
    _refuse_median_dtype(input, dim)
    if dim is None:
        return NanmedianAll.apply(input)
    axis = _axis(dim, input._data.ndim)
    _check_nonempty(input, "median", axis)  # (PyTorch's message names median)

    def position(ordered, order, axis):
        valid = xp.sum(~xp.isnan(ordered), axis=axis, keepdims=True) if (
            holds_nan(ordered.dtype)) else xp.full_like(_first_along(order, axis),
                                                          ordered.shape[axis])
        return xp.maximum(valid - 1, 0) // 2  # an all-NaN slice gives its first NaN

    values, indices = NanmedianDim.apply(input, axis, keepdim, position)
    return _NanmedianResult(values, indices)


def _mode_position(ordered, order, axis):
    """The end of the longest run of equal sorted values (the smallest value among equally
    long runs); with a stable sort that end holds the value's last index, as in PyTorch."""
    n = ordered.shape[axis]
    module = get_array_module(ordered)
    shape = [1] * ordered.ndim
    shape[axis] = n
    positions = module.arange(n).reshape(shape)
    later, earlier = (xp.take(ordered, module.arange(1, n), axis=axis),
                      xp.take(ordered, module.arange(n - 1), axis=axis))
    starts = xp.concatenate([xp.ones_like(_first_along(ordered, axis), dtype=bool),
                             later != earlier], axis=axis)  # (not a difference: inf - inf)
    run_start = xp.maximum.accumulate(xp.where(starts, positions, 0), axis=axis)
    ends = xp.concatenate([xp.take(starts, module.arange(1, n), axis=axis),
                           xp.ones_like(_first_along(ordered, axis), dtype=bool)], axis=axis)
    lengths = xp.where(ends, positions - run_start + 1, 0)
    return xp.argmax(lengths, axis=axis, keepdims=True)


@op(method=True)
def mode(input: Tensor, dim: int = -1, keepdim: bool = False, *, out=None):
    """The most frequent value along dim (the smallest among ties) and its last index
    (matches `torch.mode`)."""
    refuse_complex(input, NotImplementedError,
                   f'"mode_cpu" not implemented for \'{short_name(input.dtype)}\'')
    axis = _axis(dim, input._data.ndim)
    _check_nonempty(input, "mode", axis)
    values, indices = Mode.apply(input, axis, keepdim, _mode_position, _mode_cpu_order)
    if out is None:
        return _ModeResult(values, indices)
    _resize_keepdim_outs(out, input, dim, keepdim, always=True)
    return write_out(_ModeResult(values, indices), out, "mode", mode_out)


def _resize_keepdim_outs(outs, input, dim, keepdim, always):
    """torch's resize of kthvalue's / mode's (values, indices) outs: to the keepdim shape
    first (an out without keepdim gets the reduced dim back: mode's always, kthvalue's when it
    has one dim fewer than input), so the resize warning names those shapes; then the reduced
    dim is dropped again."""
    axis = _axis(dim, input._data.ndim)
    required = list(input._data.shape)
    if required:
        required[axis] = 1
    for out in outs:
        shape = list(out._data.shape)
        if not keepdim and (always or len(shape) == len(required) - 1):
            shape.insert(min(axis, len(shape)), 1)
        if shape != required:
            if out._data.size:
                warn_at_caller(_RESIZED.format(shape, required))
            out._data = xp.empty(required, dtype=out._data.dtype)
        if not keepdim and required:
            out._data = out._data.reshape(required[:axis] + required[axis + 1:])


def _mode_cpu_order(data, idx, axis):
    """PyTorch std::sorts by value with `<`, which moves equal values past 16 of them and
    leaves NaN wherever the comparisons put it: the (value, index) at the end of the run."""
    def redo(rows):
        nan = xp.any(xp.isnan(rows), axis=-1) if holds_nan(rows.dtype) else False
        return nan | (_tied(rows) & (rows.shape[-1] > _cpu_order.THRESHOLD))

    return _in_cpu_order(data, idx, axis, redo, lambda row: [_cpu_order.mode_index(row)[1]])


@op(method=True, out="exact")
def msort(input: Tensor) -> Tensor:
    """Sort along the first dim (matches `torch.msort`)."""
    refuse_complex(input, RuntimeError,
                   " Sort does not support complex dtypes on CPU")
    return sort(input, 0).values
