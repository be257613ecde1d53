"""The jagged layout's shape ops (view, reshape, unsqueeze, squeeze, select, narrow, permute,
expand, chunk, split), its reductions along a dim (max, amax, argmax, prod, any, mean, ...),
`*_like` factories and bmm, as torch's NJT has them (torch/nested/_internal/ops.py): each is
ember's dense op on the packed values buffer (NOTE [Nested tensors are a Tensor subclass
holding a packed values Tensor]), the regular dim d of the nested tensor being the buffer's
dim d - 1 while the ragged dim is dim 1. A reduction along the ragged dim goes through the
padded tensor, padded with the reduction's identity, and is dense, as torch's is.
"""

from ember._backend import xp
from ember._tensor import Tensor
from ember.nested._nested_tensor import NestedTensor, jagged
from ember.nested._nested_tensor import _OPS
from ember.nested._ops import _JAGGED_OPS, _named, _unsupported, _with_values, to_padded


def _dims_of(nt, dims):
    """dims (an int or a sequence) wrapped into [0, nt.dim())."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return tuple(d + nt.dim() if d < 0 else d for d in dims)


def _regular(nt, dim, name, ndim=None):
    """The buffer dim of nt's regular dim `dim` (torch's errors for the batch and ragged dims);
    ndim: the number of dims dim wraps in (default nt's)."""
    ndim = nt.dim() if ndim is None else ndim
    d = dim + ndim if dim < 0 else dim
    if nt._nt_ridx != 1:
        raise _unsupported(nt, name)
    if d == 0:
        raise RuntimeError(f"{name}(): not supported for NestedTensor on dim=0")
    if d == 1:
        raise RuntimeError(f"{name}(): not supported for NestedTensor on ragged dim")
    return d - 1


def _sizes(args):
    """A size given as separate ints or as one sequence."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def _view(nt, func, args, kwargs):
    """view / reshape: the batch and ragged dims kept (given as themselves or -1), the regular
    dims reshaped."""
    shape = _sizes(args[1:] or (kwargs.get("shape") or kwargs.get("size"),))
    name = func.__name__
    if nt._nt_ridx != 1:
        raise _unsupported(nt, name)
    if len(shape) < 2 or shape[0] not in (-1, len(nt)) or not (
            shape[1] == -1 or shape[1] is nt._nt_ragged):
        raise RuntimeError(f"view(): cannot view shape {tuple(nt.shape)} as "
                           f"{list(shape)}".replace(",)", ")"))
    values = nt._nt_values.reshape((nt._nt_values.shape[0],) + tuple(shape[2:]))
    return _with_values(nt, values, 1, "ViewBackwardAutogradNestedTensor0")


def _unsqueeze(nt, func, args, kwargs):
    """unsqueeze at a regular position (after the ragged dim)."""
    dim = args[1] if len(args) > 1 else kwargs["dim"]
    if nt._nt_ridx == 1 and (dim + nt.dim() + 1 if dim < 0 else dim) == 1:
        # a dim in front of the ragged one, which moves to 2 (the buffer keeps it first)
        return _with_values(nt, nt._nt_values.unsqueeze(1), 2, home=2)
    d = _regular(nt, dim, "unsqueeze", nt.dim() + 1)
    return _with_values(nt, nt._nt_values.unsqueeze(d), 1)


def _squeeze(nt, func, args, kwargs):
    """squeeze of regular dims (all of them at once is not torch's)."""
    dim = args[1] if len(args) > 1 else kwargs.get("dim")
    if dim is None:
        raise _unsupported(nt, "squeeze")
    dims = tuple(_regular(nt, d, "squeeze") for d in _dims_of(nt, dim))
    return _with_values(nt, nt._nt_values.squeeze(dims), 1)


def _select(nt, func, args, kwargs):
    """select: a component (dim 0, dense) or an index of a regular dim."""
    dim, index = (list(args[1:]) + [kwargs.get("dim"), kwargs.get("index")])[:2]
    if (dim + nt.dim() if dim < 0 else dim) == 0:
        return nt.unbind()[index]
    values = nt._nt_values.select(_regular(nt, dim, "select"), index)
    return _with_values(nt, values, 1, "SelectBackwardAutogradNestedTensor0")


def _narrow(nt, func, args, kwargs):
    """narrow of a regular dim."""
    dim, start, length = args[1:4]
    return _with_values(nt, nt._nt_values.narrow(_regular(nt, dim, "narrow"), start, length), 1)


def _permute(nt, func, args, kwargs):
    """permute keeping the batch dim first; the ragged dim may move (where the buffer keeps
    it first, as `transpose` does)."""
    dims = _dims_of(nt, _sizes(args[1:] or (kwargs["dims"],)))
    if nt._nt_ridx != 1:
        raise _unsupported(nt, "permute")
    if dims[0] != 0:
        raise ValueError("Permute is not supported on the batch dimension for jagged NT")
    ragged_at = dims.index(1)
    order = [d - 1 for d in dims[1:] if d != 1]  # the regular dims, in the buffer's order
    values = nt._nt_values.permute(0, *[1 + sorted(order).index(d) for d in order])
    return _with_values(nt, values, ragged_at, "PermuteBackward0", home=1)


def _expand(nt, func, args, kwargs):
    """expand of regular dims (-1 or the same size for the batch and ragged dims)."""
    sizes = _sizes(args[1:] or (kwargs["size"],))
    if nt._nt_ridx != 1 or len(sizes) != nt.dim() or sizes[0] not in (-1, len(nt)) or not (
            sizes[1] == -1 or sizes[1] is nt._nt_ragged):
        raise _unsupported(nt, "expand")
    values = nt._nt_values.expand((-1,) + tuple(sizes[2:]))
    return _with_values(nt, values, 1, "ExpandBackward0")


def _chunk(nt, func, args, kwargs):
    """chunk: of the batch (new nested tensors of the components) or of a regular dim."""
    chunks = args[1] if len(args) > 1 else kwargs["chunks"]
    dim = args[2] if len(args) > 2 else kwargs.get("dim", 0)
    if (dim + nt.dim() if dim < 0 else dim) == 0 and nt._nt_ridx == 1:
        return _batches(nt, chunks)
    pieces = nt._nt_values.chunk(chunks, _regular(nt, dim, "chunk"))
    return tuple(_with_values(nt, p, 1, "ChunkBackwardAutogradNestedTensor0") for p in pieces)


def _split(nt, func, args, kwargs):
    """split (and split_with_sizes) of a regular dim."""
    sections = args[1] if len(args) > 1 else kwargs.get("split_size_or_sections",
                                                          kwargs.get("split_size"))
    dim = args[2] if len(args) > 2 else kwargs.get("dim", 0)
    pieces = nt._nt_values.split(sections, _regular(nt, dim, "split"))
    return tuple(_with_values(nt, p, 1) for p in pieces)


def _batches(nt, chunks):
    """chunk along the batch: consecutive groups of components, each its own nested tensor
    (with a new ragged size), views of the buffer."""
    count = len(nt)
    step = -(-count // chunks) if count else 1
    out = []
    for first in range(0, count, step):  # a loop over the chunks, not the elements
        last = min(first + step, count)
        begin, end = int(nt._nt_offsets[first]), int(nt._nt_offsets[last])
        offsets = nt._nt_offsets[first:last + 1] - begin
        out.append(NestedTensor._wrap(nt._nt_values[begin:end], nt._nt_sizes[first:last],
                                      offsets, jagged))
    return tuple(out)


# ---- reductions along a dim --------------------------------------------------------------
# what pads the ragged dim so that it does not change a reduction along it
_IDENTITIES = {"max": -xp.inf, "amax": -xp.inf, "argmax": -xp.inf, "min": xp.inf,
               "amin": xp.inf, "argmin": xp.inf, "prod": 1.0, "any": 0.0, "all": 1.0,
               "sum": 0.0, "mean": 0.0}
_NODES = {"mean": "MeanBackward1"}


def _reduce(nt, func, args, kwargs):
    """max / min / amax / amin / argmax / argmin / prod / any / all / mean / sum along dims:
    regular dims give a nested tensor, the ragged dim 1 a dense (B, *rest) one."""
    name = func.__name__
    dim = args[1] if len(args) > 1 else kwargs.get("dim")
    if dim is None or nt._nt_ridx != 1 or not isinstance(dim, (int, tuple, list)):
        return None  # (every element, or another overload: the general dispatch's)
    keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
    extra = {k: v for k, v in kwargs.items() if k not in ("dim", "keepdim")}
    dims = _dims_of(nt, dim)
    if name == "sum" and dims == (1,) or name in ("sum", "mean") and not {0, 1} & set(dims):
        return None  # (the general dispatch's, with torch's node names)
    if 0 in dims and 1 not in dims:
        raise RuntimeError(f"{name}(): reducing along the batch dimension but not the ragged "
                           "dimension is not supported for nested tensors")
    if 0 in dims:  # the batch and ragged dims (and maybe more): over the buffer's rows
        axes = (0,) + tuple(d - 1 for d in dims if d > 1)
        out = func(nt._nt_values, axes if len(axes) > 1 or not isinstance(dim, int) else 0,
                   keepdim, **extra)
        return out.unsqueeze(0) if keepdim else out
    if 1 in dims and len(dims) > 1:
        if name == "mean":
            raise AssertionError("Cannot reduce on both ragged and non-batch dimensions "
                                 "without also reducing on batch")
        raise RuntimeError(f"{name}(): reducing along a ragged and non-batch dimension is not "
                           "supported for nested tensors")
    if dims == (1,):
        return _along_ragged(nt, func, keepdim, extra)
    axis = dims[0] - 1 if isinstance(dim, int) else tuple(d - 1 for d in dims)
    out = func(nt._nt_values, axis, keepdim, **extra)
    if isinstance(out, tuple):
        return type(out)(*(_with_values(nt, o, 1) for o in out))
    return _with_values(nt, out, 1)


def _along_ragged(nt, func, keepdim, extra):
    """A reduction along the ragged dim: of the padded tensor, dense."""
    name = func.__name__
    values = nt._nt_values
    pad = _IDENTITIES[name]
    if not values.dtype.is_floating_point and not values.dtype.is_complex and abs(pad) == xp.inf:
        info = xp.iinfo(values.dtype.numpy) if values.dtype.name != "bool" else None
        pad = (info.min if pad < 0 else info.max) if info else float(pad > 0)
    padded = to_padded(nt, pad)
    if name != "mean":
        return func(padded, 1, keepdim, **extra)
    lengths = Tensor._make(nt._nt_sizes[:, 0].astype(values.dtype.numpy))
    lengths = lengths.reshape((-1,) + (1,) * (padded.dim() - 1 if keepdim else padded.dim() - 2))
    out = padded.sum(1, keepdim, **extra) / lengths
    return _named(_NODES[name]).apply(out, tuple(out.shape)) if out.grad_fn else out


# ---- factories and products ---------------------------------------------------------------
def _like(nt, func, args, kwargs):
    """zeros_like / ones_like / full_like / rand_like / randn_like: of the buffer, in nt's
    structure."""
    return nt._like(func(nt._nt_values, *args[1:], **kwargs))


def _bmm(nt, func, args, kwargs):
    """bmm of a jagged (B, j, D) tensor and a dense (B, D, E) one: each component's rows times
    its own matrix."""
    other = args[1] if len(args) > 1 else kwargs["mat2"]
    if nt._nt_ridx != 1 or nt.dim() != 3 or isinstance(other, NestedTensor) or \
            other.dim() != 3:
        raise _unsupported(nt, "bmm")
    component = Tensor._make(xp.repeat(xp.arange(len(nt)), nt._nt_sizes[:, 0]))
    rows = nt._nt_values.unsqueeze(1).matmul(other[component]).squeeze(1)
    return _with_values(nt, rows, 1, "BmmBackward0")


def _rows_of(nt, dense):
    """A dense (B or 1, 1, *rest) operand as one row per element of nt's buffer (N, *rest)."""
    rows = dense.squeeze(1)
    if rows.shape[0] == 1:
        return rows
    return rows[Tensor._make(xp.repeat(xp.arange(len(nt)), nt._nt_sizes[:, 0]))]


def _embedding(nt, func, args, kwargs):
    """embedding of nested indices: the rows of each index, in nt's structure."""
    return _with_values(nt, func(nt._nt_values, *args[1:], **kwargs), 1)


def _cat(nt, func, args, kwargs):
    """cat of nested tensors of one structure along a regular dim (stack: torch has none)."""
    tensors = args[0]
    dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
    name = "stack" if func.__name__ == "stack" else "cat"
    if not all(isinstance(t, NestedTensor) and t._nt_offsets.shape == nt._nt_offsets.shape
               and (t._nt_offsets == nt._nt_offsets).all() for t in tensors):
        raise _unsupported(nt, name)
    if name == "stack" and (dim + nt.dim() + 1 if dim < 0 else dim) != 0:
        raise _unsupported(nt, name)
    d = _regular(nt, dim, name)
    return _with_values(nt, func([t._nt_values for t in tensors], d), 1)


def _new_factory(nt, func, args, kwargs):
    """new_zeros / new_ones / new_empty / new_full: torch's NJT makes only 0-d ones (dense)."""
    size = _sizes(args[1:2]) if len(args) > 1 else tuple(kwargs.get("size", ()))
    if tuple(size) != ():
        raise RuntimeError("new_empty() not supported for NJT with shape != ()")
    return func(nt._nt_values, *args[1:], **kwargs)


_JAGGED_OPS.update(
    view=_view, reshape=_view, unsqueeze=_unsqueeze, squeeze=_squeeze, select=_select,
    narrow=_narrow, permute=_permute, expand=_expand, chunk=_chunk, split=_split,
    split_with_sizes=_split, bmm=_bmm, zeros_like=_like, ones_like=_like, full_like=_like,
    rand_like=_like, randn_like=_like, embedding=_embedding, cat=_cat, concat=_cat,
    concatenate=_cat, stack=_cat, new_zeros=_new_factory, new_ones=_new_factory,
    new_empty=_new_factory, new_full=_new_factory,
    **{name: _reduce for name in ("max", "min", "amax", "amin", "argmax", "argmin", "prod",
                                  "any", "all", "mean", "sum")})
_OPS.update(rows_of=_rows_of)
