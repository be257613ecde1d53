"""Converters of views, reshapes, joins, splits and indexing."""

import numpy as np

from ember.onnx._convert import converts
from ember.onnx._graph import INT64_MAX
from ember.onnx._trace import Ref


# ---- reshapes ---------------------------------------------------------------------------------
def reshape_to(s, x: str, shape1, shape2) -> str:
    """x reshaped to `shape1` (run 1) / `shape2` (run 2).

    NOTE [Reshape targets with dynamic sizes]
    A size that varies between the runs cannot be written as a number. It becomes 0 (ONNX: keep
    the input's size at that index) where the input has the same varying size at the same
    index, -1 (ONNX: whatever is left) for one other such size, and a size read from an input
    (`Builder.size_tensor`) for any further one.
    """
    b = s.b
    if tuple(shape1) == b.shape(x) and tuple(shape2) == tuple(b.info[x][2]):
        return x
    in1, in2 = b.shape(x), b.info[x][2]
    target, inferred = [], False
    dynamic = [a != c for a, c in zip(shape1, shape2)]
    if not any(dynamic):
        return b.node("Reshape", [x, b.ints(shape1)])
    parts = []
    for i, (a, c) in enumerate(zip(shape1, shape2)):
        if a == c:
            target.append(a)
        elif i < len(in1) and (in1[i], in2[i]) == (a, c):
            target.append(0)
        elif not inferred:
            target.append(-1)
            inferred = True
        else:
            target.append(None)
            parts.append((i, a, c))
    if not parts:
        return b.node("Reshape", [x, b.ints(target)])
    pieces = [b.size_tensor(a, c) if t is None else b.ints([t])
              for t, (a, c) in zip(target, zip(shape1, shape2))]
    return b.node("Reshape", [x, b.node("Concat", pieces, axis=0)])


@converts("View", "UnsafeView", "Reshape", "Squeeze", "SqueezeDim", "SqueezeDims", "Unsqueeze",
          "SqueezeInplace", "SqueezeDimInplace", "SqueezeDimsInplace", "UnsqueezeInplace",
          "AddBatch", "DropBatch", "Clone", "Flatten", "Unflatten")
def reshape(s):
    """Every op that keeps the elements in order: a Reshape to the output's shape."""
    s.output(0, reshape_to(s, s.input(0), s.out_shape(), s.out_twin_shape()))


@converts("_HookIdentity")
def hook_identity(s):
    """The identity a module's backward hooks put around it: Identity."""
    for k in range(s.n_outputs()):
        s.output(k, s.b.node("Identity", [s.input(k + 2)]))


@converts("Permute")
def permute(s):
    """Transpose with the permutation."""
    s.output(0, s.b.node("Transpose", [s.input(0)], perm=[int(d) for d in s.arg(1)]))


@converts("Transpose", "T", "TransposeInplace", "TInplace", "MatrixTranspose")
def transpose(s):
    """Transpose swapping two dims (t() and mT swap the last two)."""
    rank = len(s.out_shape())
    d0, d1 = (s.arg(1), s.arg(2)) if s.n_args() >= 3 else (rank - 2, rank - 1)
    perm = list(range(rank))
    if rank >= 2:
        perm[d0 % rank], perm[d1 % rank] = perm[d1 % rank], perm[d0 % rank]
    s.output(0, s.b.node("Transpose", [s.input(0)], perm=perm))


@converts("ExpandTo")
def expand(s):
    """Expand; a size that varies is written 1 where the input has that size (ONNX broadcasts
    it from the input), else read from an input (`t.expand(x.size(0), -1)` of a constant t)."""
    b, x = s.b, s.input(0)
    shape1, shape2 = s.out_shape(), s.out_twin_shape()
    in1, in2 = b.shape(x), b.info[x][2]
    offset = len(shape1) - len(in1)
    pieces = []
    for i, (a, c) in enumerate(zip(shape1, shape2)):
        follows = i >= offset and (in1[i - offset], in2[i - offset]) == (a, c)
        pieces.append(a if a == c else 1 if follows else b.size_tensor(a, c))
    if all(isinstance(p, int) for p in pieces):
        return s.output(0, b.node("Expand", [x, b.ints(pieces)]))
    sizes = b.node("Concat", [p if isinstance(p, str) else b.ints([p]) for p in pieces], axis=0)
    s.output(0, b.node("Expand", [x, sizes]))


@converts("Repeat")
def repeat(s):
    """Tile (with leading size-1 dims when repeats has more entries than dims)."""
    x, b, repeats = s.input(0), s.b, list(s.arg(1))
    rank = len(b.shape(x))
    if len(repeats) > rank:
        x = b.node("Reshape", [x, b.ints((1,) * (len(repeats) - rank) + b.shape(x))])
    s.output(0, b.node("Tile", [x, b.ints(repeats)]))


# ---- joins and splits -------------------------------------------------------------------------
@converts("Cat")
def cat(s):
    """Concat (torch skips the legacy empty 1-d tensors); args: dim, memory format, tensors."""
    dtype = s.out_dtype()
    parts = [s.b.cast(s.input(i), dtype) for i in range(2, s.n_args())
             if s.arg(i).shape != (0,)]
    s.output(0, s.b.node("Concat", parts, axis=int(s.arg(0))))


@converts("Stack")
def stack(s):
    """Unsqueeze each input at dim, then Concat."""
    axis = int(s.arg(0))
    parts = [s.b.node("Unsqueeze", [s.input(i), s.b.ints([axis])]) for i in range(1, s.n_args())]
    s.output(0, s.b.node("Concat", parts, axis=axis))


@converts("Split", "SplitWithSizes")
def split(s):
    """One Slice per piece (split, chunk, split_with_sizes)."""
    x, dim, sizes = s.input(0), int(s.arg(1)), list(s.arg(2))
    if list(s.twin_arg(2)) != sizes:
        raise s.unsupported("split along a dynamic axis")
    start = 0
    for k, size in enumerate(sizes):
        s.output(k, s.b.node("Slice", [x, s.b.ints([start]), s.b.ints([start + size]),
                                       s.b.ints([dim])]))
        start += size


@converts("Unbind")
def unbind(s):
    """One Gather of a scalar index per output."""
    x, dim = s.input(0), int(s.arg(1))
    for k in range(s.n_outputs()):
        s.output(k, s.b.node("Gather", [x, s.b.constant(np.int64(k))], axis=dim))


@converts("ConstantPad")
def constant_pad(s):
    """Pad with a constant (F.pad's default mode)."""
    x, pads = s.input(0), list(s.arg(1))
    los, his = [p[0] for p in pads], [p[1] for p in pads]
    value = s.b.scalar(s.arg(2), x)
    if min(los + his) < 0:
        raise s.unsupported("negative padding")
    s.output(0, s.b.node("Pad", [x, s.b.ints(los + his), value], mode="constant"))


# ---- indexing ---------------------------------------------------------------------------------
def _bound(s, v1, v2, n1: int, n2: int, end: bool):
    """A slice bound or index as ONNX reads it, given its values v1/v2 in the two runs on a dim
    of sizes n1/n2: the same number, counted from the end when it follows the size, or (an
    end bound) "to the end" when it reaches past the dim both times."""
    if v1 == v2:
        return v1
    if end and v1 >= n1 and v2 >= n2:
        return INT64_MAX
    if v1 - n1 == v2 - n2:
        return INT64_MAX if end and v1 == n1 else v1 - n1
    # A bound that is an input's dynamic size (`pos[:, :x.size(1)]`): that size, read from the
    # input (an error if it is no input's size).
    return s.b.size_tensor(v1, v2)


def _bound_input(b, bound) -> str:
    """A bound from _bound as a 1-D int64 ONNX value."""
    return bound if isinstance(bound, str) else b.ints([bound])


@converts("Select", "Slice", "IndexUnsqueeze", "Alias")
def basic_index(s):
    """x[ints, slices, None, ...]: Slice for slices, Gather for ints, Unsqueeze for None."""
    b, x = s.b, s.input(0)
    items, twins = list(s.arg(1)), list(s.twin_arg(1))
    shape1, shape2 = b.shape(x), b.info[x][2]
    if Ellipsis in items:
        at = items.index(Ellipsis)
        used = sum(1 for i in items if i is not None and i is not Ellipsis)
        fill = [slice(None)] * (len(shape1) - used)
        items = items[:at] + fill + items[at + 1:]
        twins = twins[:at] + fill + twins[at + 1:]
    axis, dim = 0, 0  # the axis in the result so far, the dim of x it reads
    for item, twin in zip(items, twins):
        if item is None:
            x = b.node("Unsqueeze", [x, b.ints([axis])])
            axis += 1
            continue
        n1, n2 = shape1[dim], shape2[dim]
        dim += 1
        if isinstance(item, slice):
            if item != slice(None):
                start = _bound(s, 0 if item.start is None else int(item.start),
                               0 if twin.start is None else int(twin.start), n1, n2, False)
                stop = _bound(s, INT64_MAX if item.stop is None else int(item.stop),
                              INT64_MAX if twin.stop is None else int(twin.stop), n1, n2, True)
                x = b.node("Slice", [x, _bound_input(b, start), _bound_input(b, stop),
                                     b.ints([axis]), b.ints([item.step or 1])])
            axis += 1
            continue
        index = _bound(s, int(item), int(twin), n1, n2, False)
        index = (b.node("Squeeze", [index, b.ints([0])]) if isinstance(index, str)
                 else b.constant(np.int64(index)))
        x = b.node("Gather", [x, index], axis=axis)
    s.output(0, x)


@converts("Index")
def advanced_index(s):
    """x[..., idx, ...] with one index tensor: a Gather along its dim."""
    b, x = s.b, s.input(0)
    adv = list(s.arg(1))
    arrays = [i for i, a in enumerate(adv) if isinstance(a, Ref)]
    if len(arrays) != 1:
        raise s.unsupported("indexing with several index tensors")
    axis = arrays[0]
    ref = adv[axis]
    index = s.name_of(ref) if ref.kind == "value" else b.constant(ref.array.astype(np.int64))
    s.output(0, b.node("Gather", [x, b.cast(index, np.int64)], axis=axis))


@converts("TakeAlong", "NearestAlong")
def take_along(s):
    """x[..., idx, ...] for constant indices that only vary along `axis` (nearest upsampling,
    reflection and replication padding): a Gather. NearestAlong(x, table, axis, back) is
    TakeAlong with a second table for its backward."""
    b, ref = s.b, s.arg(1)
    axis = int(s.arg(2))
    keepdim = s.arg(3) if isinstance(s.arg(3), bool) else True
    idx = np.asarray(getattr(ref, "array", None))
    if ref.kind != "const" or not (idx.ndim == 1 or idx.size == idx.shape[axis]):
        raise s.unsupported("indices that are not one constant list along the dim")
    flat = idx.reshape(-1).astype(np.int64)
    twin = np.asarray(getattr(s.twin_arg(1), "array", None)).reshape(-1)
    if not np.array_equal(flat, twin):  # the table follows a dynamic axis
        padded = _padding_of(s, axis, flat, twin)
        return s.output(0, padded if padded is not None else
                        _nearest_resize(s, axis, flat, twin))
    y = b.node("Gather", [s.input(0), b.constant(flat)], axis=axis)
    if not keepdim and flat.size == 1:
        y = b.node("Squeeze", [y, b.ints([axis])])
    s.output(0, y)


def _pad_table(n: int, left: int, right: int, mode: str):
    """The index table of reflection or replication padding of a dim of size n."""
    inside = np.arange(n)
    if mode == "reflect":
        return np.concatenate([np.arange(left, 0, -1), inside, n - 2 - np.arange(right)])
    return np.concatenate([np.zeros(left, np.int64), inside, np.full(right, n - 1)])


def _padding_of(s, axis: int, table1, table2):
    """Reflection or replication padding along a dynamic axis (its table, in both runs, for
    one pair of pad sizes): Pad with mode reflect or edge; None for another table."""
    b, x = s.b, s.input(0)
    n1, n2 = b.shape(x)[axis], b.info[x][2][axis]
    extra = table1.size - n1
    if extra < 0 or table2.size - n2 != extra:
        return None
    for mode in ("reflect", "edge"):
        for left in range(extra + 1):
            right = extra - left
            if np.array_equal(table1, _pad_table(n1, left, right, mode)) and \
                    np.array_equal(table2, _pad_table(n2, left, right, mode)):
                pads = [0] * (2 * len(b.shape(x)))
                pads[axis], pads[len(b.shape(x)) + axis] = left, right
                return b.node("Pad", [x, b.ints(pads)], mode=mode)
    return None


def _nearest_resize(s, axis: int, table1, table2) -> str:
    """A nearest-upsampling table along a dynamic axis, i -> floor(i / scale) in both runs for
    one scale: Resize by that scale ("asymmetric", "floor": torch's nearest). Any other table
    (reflection padding, ...) along a dynamic axis has no mapping."""
    b, x = s.b, s.input(0)
    n1, n2 = b.shape(x)[axis], b.info[x][2][axis]
    scale = table1.size / n1
    for table in (table1, table2):
        expected = np.floor(np.arange(table.size) / scale).astype(np.int64)
        if not np.array_equal(table, np.minimum(expected, (n1 if table is table1 else n2) - 1)):
            raise s.unsupported("an index table along a dynamic axis that is not nearest "
                                "upsampling by one scale")
    scales = np.ones(len(b.shape(x)), dtype=np.float32)
    scales[axis] = scale
    return b.node("Resize", [x, "", b.constant(scales)], mode="nearest",
                  coordinate_transformation_mode="asymmetric", nearest_mode="floor")


@converts("PixelShuffle")
def pixel_shuffle(s):
    """pixel_shuffle of an (N, C·r², H, W) input: DepthToSpace in CRD order."""
    if len(s.b.shape(s.input(0))) != 4:
        raise s.unsupported("an input that is not 4-d")
    s.output(0, s.b.node("DepthToSpace", [s.input(0)], blocksize=int(s.arg(1)), mode="CRD"))
