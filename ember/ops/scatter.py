"""Gather and scatter: values read from or written to positions an index tensor gives along a
dim (gather, scatter, scatter_add), and whole slices picked along a dim (index_select,
index_add, take).

Reads are advanced indexes (`Index`, see NOTE [Basic then advanced indexing] in
`ember.ops.indexing`); their gradients and the scatters' are region ops (NOTE [Regions]).
"""

from ember import _backend
from ember._backend import get_array_module, xp
from ember._registry import op
from ember._tensor import Tensor, wrap_dim
from ember.autograd.function import Op
from ember.ops._util import as_operand
from ember.ops.indexing import Index, _basic_fn
from ember.ops.inplace import RegionPut, RegionTake, RegionZero, identity


# ---- gather / scatter ---------------------------------------------------------------------------
def _index_array(index: Tensor, name: str) -> xp.ndarray:
    array = index._data
    if not (xp.issubdtype(array.dtype, xp.integer)):
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    return array.astype(xp.int64, copy=False)


def _along_dim(index: xp.ndarray, dim: int) -> tuple:
    """The advanced index picking, at each position p of index, p with p[dim] = index[p]."""
    grid = list(get_array_module(index).indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


def _check_dim_index(name, x_shape, index, dim, other_shape=None):
    if index.ndim != len(x_shape) and not (index.ndim <= 1 and len(x_shape) <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for d in range(index.ndim):
        if d != dim and index.shape[d] > x_shape[d]:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(index.shape)} to be "
                f"no larger than self {list(x_shape)} apart from dimension {dim}")
    size = x_shape[dim] if x_shape else 1
    if index.size and (index.max() >= size or index.min() < -size):
        bad = index.max() if index.max() >= size else index.min()
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


class Gather(Index):
    """y[p] = x[p with p[dim] = index[p]];  gx = zeros with gy added at those positions."""


@op(method=True)
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad=False) -> Tensor:
    """Values along dim at the positions index gives (matches `torch.gather`)."""
    dim = wrap_dim(dim, input._data.ndim)
    array = _index_array(index, "gather")
    _check_dim_index("gather", input._data.shape, array, dim)
    return Gather.apply(input, _along_dim(array, dim))


def _leading(shape) -> tuple:
    return tuple(slice(0, s) for s in shape)


class Scatter(Op):
    """y = x with y[index along dim] = src;  gx = gy zeroed there,  gsrc = gy gathered there."""

    @staticmethod
    def forward(ctx, x, src, adv, index_shape):
        ctx.args = (adv, index_shape, src._data.shape)
        out = x._data.copy(order="K")
        out[adv] = src._data[_leading(index_shape)]
        return out

    @staticmethod
    def backward(ctx, gy):
        adv = ctx.args[0]
        gx = RegionZero.apply(gy, identity, adv) if ctx.needs_input_grad[0] else None
        gsrc = _scatter_src_grad(gy, *ctx.args) if ctx.needs_input_grad[1] else None
        return gx, gsrc, None, None


class ScatterValue(Op):
    """y = x with y[index along dim] = value;  gx = gy zeroed there."""

    node_name = "ScatterBackward1"

    @staticmethod
    def forward(ctx, x, value, adv):
        ctx.adv = adv
        out = x._data.copy(order="K")
        out[adv] = value
        return out

    @staticmethod
    def backward(ctx, gy):
        return RegionZero.apply(gy, identity, ctx.adv), None, None


class ScatterAdd(Op):
    """y = x with src added at index along dim;  gx = gy,  gsrc = gy gathered there."""

    @staticmethod
    def forward(ctx, x, src, adv, index_shape):
        ctx.args = (adv, index_shape, src._data.shape)
        out = x._data.copy(order="K")
        _backend.scatter_add(out, adv, src._data[_leading(index_shape)])
        return out

    @staticmethod
    def backward(ctx, gy):
        gx = gy if ctx.needs_input_grad[0] else None
        gsrc = _scatter_src_grad(gy, *ctx.args) if ctx.needs_input_grad[1] else None
        return gx, gsrc, None, None


def _scatter_src_grad(gy, adv, index_shape, src_shape):
    g = RegionTake.apply(gy, identity, adv)
    if tuple(index_shape) != tuple(src_shape):
        g = RegionPut.apply(g, src_shape, _basic_fn(_leading(index_shape)), None)
    return g


@op(method=True, inplace=True)
def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None,
            reduce=None) -> Tensor:
    """A copy of input with src (or value) written at index along dim (matches
    `torch.scatter`)."""
    dim = wrap_dim(dim, input._data.ndim)
    array = _index_array(index, "scatter")
    _check_dim_index("scatter", input._data.shape, array, dim)
    if src is None:
        src = value
    adv = _along_dim(array, dim)
    if reduce is not None:
        values = src._data[_leading(array.shape)] if isinstance(src, Tensor) else src
        out = input._data.copy(order="K")
        ufunc = {"add": xp.add, "multiply": xp.multiply}[reduce]
        ufunc.at(out, adv, get_array_module(out).asarray(values, dtype=out.dtype))
        return Tensor._make(out)
    if isinstance(src, Tensor):
        return Scatter.apply(input, as_operand(src, input.dtype), adv, array.shape)
    value = get_array_module(input._data).asarray(src, dtype=input._data.dtype)
    return ScatterValue.apply(input, value, adv)


@op(method=True, inplace=True)
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of input with src added at index along dim, repeats accumulating (matches
    `torch.scatter_add`)."""
    dim = wrap_dim(dim, input._data.ndim)
    array = _index_array(index, "scatter_add")
    _check_dim_index("scatter_add", input._data.shape, array, dim)
    return ScatterAdd.apply(input, as_operand(src, input.dtype), _along_dim(array, dim),
                            array.shape)


# ---- index_select / index_add / take ------------------------------------------------------------
class IndexSelect(Index):
    """y = x at the listed positions along dim;  gx = zeros with gy added back there."""


def _dim_index(input: Tensor, dim: int, index: Tensor, name: str):
    array = index._data
    if array.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    if not xp.issubdtype(array.dtype, xp.integer):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    array = array.reshape(-1).astype(xp.int64, copy=False)
    size = input._data.shape[dim] if input._data.ndim else 1
    if array.size and (array.max() >= size or array.min() < -size):
        raise IndexError("index out of range in self")
    return (slice(None),) * dim + (array,)


@op(method=True)
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries at `index` along dim (matches `torch.index_select`)."""
    dim = wrap_dim(dim, input._data.ndim)
    return IndexSelect.apply(input, _dim_index(input, dim, index, "index_select"))


@op(method=True, inplace=True)
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """input with alpha·source added at `index` along dim (matches `torch.index_add`)."""
    dim = wrap_dim(dim, input._data.ndim)
    adv = _dim_index(input, dim, index, "index_add")
    source = as_operand(source, input.dtype)
    if alpha != 1:
        source = source * alpha
    return input + RegionPut.apply(source, input._data.shape, identity, adv)


class Take(Index):
    """y = x.flatten()[index];  gx = zeros with gy added at those positions."""


@op(method=True)
def take(input: Tensor, index: Tensor) -> Tensor:
    """Entries of the flattened input at `index` (matches `torch.take`)."""
    array = index._data.astype(xp.int64, copy=False)
    size = input._data.size
    if array.size and (array.max() >= size or array.min() < -size):
        bad = array.max() if array.max() >= size else array.min()
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {size} "
                         "elements.")
    return Take.apply(input.reshape(-1), (array,))
