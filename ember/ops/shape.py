"""View ops: view, reshape, flatten, permute, transpose, squeeze, unsqueeze, expand, narrow;
the joins and rearranging copies (cat, stack, split, unbind, repeat, flip, roll, tril/triu) live
in `ember.ops.joins`.

A view shares memory with its input: its forward returns a NumPy view, and the public function
records how to re-derive it from the base (`_as_view_of`) so in-place ops on views work. Every
backward is written with these same ops (a view's gradient is the inverse view of the output
gradient), so all of them are differentiable any number of times.
"""

import operator
import warnings

from ember import _dtype
from ember._backend import xp
from ember._registry import op, tensor_method
from ember._tensor import Tensor, wrap_dim
from ember.autograd.function import Op
from ember.ops.broadcast import ExpandTo
from ember.ops.indexing import basic_view


def _sizes(args) -> tuple:
    """A size given as *args or as one sequence, as a tuple of ints."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(operator.index(s) for s in args)


def _infer_size(shape, numel: int) -> tuple:
    """Resolve one -1 in `shape` for `numel` elements; PyTorch's errors for bad shapes."""
    known = 1
    infer = None
    for i, s in enumerate(shape):
        if s == -1:
            if infer is not None:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
        else:
            known *= s
    if infer is None:
        if known == numel:
            return tuple(shape)
    elif known == 0:
        if numel == 0:
            raise RuntimeError(
                f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                "unspecified dimension size -1 can be any value and is ambiguous")
    elif numel % known == 0:
        return tuple(shape[:infer]) + (numel // known,) + tuple(shape[infer + 1:])
    raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")


def _try_view(array, shape):
    """array reshaped without copying, or None when that is impossible."""
    try:
        return xp.reshape(array, shape, copy=False)
    except ValueError:
        return None


def _reshape_fn(shape):
    return lambda array: xp.reshape(array, shape)


# ---- view / reshape -----------------------------------------------------------------------------
class View(Op):
    """y = x with a new shape, same memory;  gx = gy reshaped to x's shape."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x._data.shape
        return xp.reshape(x._data, shape, copy=False)

    @staticmethod
    def backward(ctx, gy):
        return reshape(gy, ctx.input_shape), None


class UnsafeView(Op):
    """y = a reshaped copy of x (when no view is possible);  gx = gy reshaped to x's shape."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x._data.shape
        return xp.reshape(x._data, shape, copy=True)

    @staticmethod
    def backward(ctx, gy):
        return reshape(gy, ctx.input_shape), None


def _view_dtype(x: Tensor, dtype) -> Tensor:
    """x's bytes reinterpreted as another dtype (PyTorch's `view(dtype)`)."""
    np_dtype = _dtype.to_dtype(dtype).numpy
    out = Tensor._make(x._data.view(np_dtype))
    return out._as_view_of(x, lambda array: array.view(np_dtype))


@op(function=False, method=True)
def view(input: Tensor, *shape) -> Tensor:
    """The same memory with a new shape; never copies (matches `torch.Tensor.view`)."""
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        return _view_dtype(input, shape[0])
    shape = _infer_size(_sizes(shape), input._data.size)
    if _try_view(input._data, shape) is None:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
    return View.apply(input, shape)._as_view_of(input, _reshape_fn(shape))


@op(method=True)
def reshape(input: Tensor, *shape) -> Tensor:
    """A view with the new shape when possible, else a copy (matches `torch.reshape`)."""
    shape = _infer_size(_sizes(shape), input._data.size)
    if _try_view(input._data, shape) is None:
        return UnsafeView.apply(input, shape)
    return View.apply(input, shape)._as_view_of(input, _reshape_fn(shape))


@op(function=False, method=True)
def view_as(input: Tensor, other: Tensor) -> Tensor:
    """view(other.shape) (matches `torch.Tensor.view_as`)."""
    return view(input, other._data.shape)


@op(function=False, method=True)
def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """reshape(other.shape) (matches `torch.Tensor.reshape_as`)."""
    return reshape(input, other._data.shape)


@op(method=True)
def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-D tensor (matches `torch.ravel`)."""
    return reshape(input, -1)


@op(method=True)
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one (matches `torch.flatten`)."""
    ndim = input._data.ndim
    if ndim == 0:
        return reshape(input, 1)
    start, end = wrap_dim(start_dim, ndim), wrap_dim(end_dim, ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    shape = input._data.shape
    return reshape(input, shape[:start] + (-1,) + shape[end + 1:])


@op(method=True)
def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dim into `sizes` (matches `torch.unflatten`)."""
    shape = input._data.shape
    dim = wrap_dim(dim, input._data.ndim)
    sizes = _sizes((sizes,))
    try:
        inner = _infer_size(sizes, shape[dim])
    except RuntimeError:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
            f"{dim} ({shape[dim]}) in the input tensor") from None
    return view(input, shape[:dim] + inner + shape[dim + 1:])


# ---- permutations -------------------------------------------------------------------------------
class Permute(Op):
    """y = x with its dims reordered by `dims` (a view);  gx = gy permuted back."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return xp.transpose(x._data, dims)

    @staticmethod
    def backward(ctx, gy):
        return permute(gy, tuple(xp.argsort(ctx.dims))), None


@op(method=True)
def permute(input: Tensor, *dims) -> Tensor:
    """A view with the dims reordered (matches `torch.permute`)."""
    ndim = input._data.ndim
    dims = _sizes(dims)
    if len(dims) != ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {ndim} is not "
            f"equal to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, ndim) for d in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, dims)._as_view_of(input, lambda a: xp.transpose(a, dims))


class Transpose(Op):
    """y = x with dims d0 and d1 swapped (a view);  gx = gy with them swapped back."""

    @staticmethod
    def forward(ctx, x, d0, d1):
        ctx.swap = (d0, d1)
        return xp.swapaxes(x._data, d0, d1) if d0 != d1 else x._data.view()

    @staticmethod
    def backward(ctx, gy):
        return transpose(gy, *ctx.swap), None, None


class T(Transpose):
    """y = x.t() of a matrix (a view);  gx = gy.t()."""


@op(method=True, aliases=("swapaxes", "swapdims"))
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view with two dims swapped (matches `torch.transpose`)."""
    ndim = input._data.ndim
    d0, d1 = wrap_dim(dim0, ndim), wrap_dim(dim1, ndim)
    return Transpose.apply(input, d0, d1)._as_view_of(input, lambda a: xp.swapaxes(a, d0, d1))



@op(method=True)
def t(input: Tensor) -> Tensor:
    """Transpose of a matrix; 0-d and 1-d tensors come back as they are (matches `torch.t`)."""
    ndim = input._data.ndim
    if ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {ndim}D")
    if ndim < 2:
        return T.apply(input, 0, 0)._as_view_of(input, lambda a: a.view())
    return T.apply(input, 0, 1)._as_view_of(input, lambda a: xp.swapaxes(a, 0, 1))


@tensor_method("T")
@property
def _T(self) -> Tensor:
    if self._data.ndim == 0:
        warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity in "
                      "these cases.", UserWarning, stacklevel=2)
    elif self._data.ndim != 2:
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
            "to reverse the dimensions of a tensor.", UserWarning, stacklevel=2)
    return permute(self, tuple(range(self._data.ndim - 1, -1, -1)))


@tensor_method("mT")
@property
def _mT(self) -> Tensor:
    if self._data.ndim < 2:
        raise RuntimeError(
            "tensor.mT is only supported on matrices or batches of matrices. Got "
            f"{self._data.ndim}-D tensor.")
    return transpose(self, -2, -1)


@op(method=True, aliases=("moveaxis",))
def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dims from `source` to `destination` positions (matches `torch.movedim`)."""
    ndim = input._data.ndim
    source = [source] if isinstance(source, int) else list(source)
    destination = [destination] if isinstance(destination, int) else list(destination)
    if len(source) != len(destination):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({source} dims) should "
            f"contain the same number of dims as destination ({destination} dims)")
    source = [wrap_dim(d, ndim) for d in source]
    destination = [wrap_dim(d, ndim) for d in destination]
    order = [d for d in range(ndim) if d not in source]
    for dst, src in sorted(zip(destination, source)):
        order.insert(dst, src)
    return permute(input, tuple(order))



# ---- squeeze / unsqueeze / expand ---------------------------------------------------------------
class Squeeze(Op):
    """y = x without size-1 dims (a view);  gx = gy reshaped to x's shape."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x._data.shape
        return x._data.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return reshape(gy, ctx.input_shape), None


class SqueezeDim(Squeeze):
    """squeeze(dim): the same op, PyTorch's node name for the one-dim form."""

    node_name = "SqueezeBackward1"


class SqueezeDims(Squeeze):
    """squeeze(dims): the same op, PyTorch's node name for the tuple form."""

    node_name = "SqueezeBackward2"


class Unsqueeze(Squeeze):
    """y = x with a new size-1 dim (a view);  gx = gy reshaped to x's shape."""


@op(method=True)
def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove size-1 dims: all, one, or a tuple of them (matches `torch.squeeze`)."""
    shape = input._data.shape
    if dim is None:
        node, dims = Squeeze, range(len(shape))
    elif isinstance(dim, (tuple, list)):
        node, dims = SqueezeDims, [wrap_dim(d, len(shape)) for d in dim]
    else:
        node, dims = SqueezeDim, [wrap_dim(dim, len(shape))]
    new_shape = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return node.apply(input, new_shape)._as_view_of(input, _reshape_fn(new_shape))


@op(method=True)
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at `dim` (matches `torch.unsqueeze`)."""
    shape = input._data.shape
    dim = wrap_dim(dim, len(shape) + 1)
    new_shape = shape[:dim] + (1,) + shape[dim:]
    return Unsqueeze.apply(input, new_shape)._as_view_of(input, _reshape_fn(new_shape))


@op(function=False, method=True)
def expand(input: Tensor, *sizes) -> Tensor:
    """A read-only broadcast view to `sizes`; -1 keeps a size (matches `Tensor.expand`)."""
    sizes = _sizes(sizes)
    shape = input._data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(
            f"expand({input.type()}{{{list(shape)}}}, size={list(sizes)}): the number of sizes "
            f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in "
            f"the tensor ({len(shape)})")
    target = []
    for i, size in enumerate(sizes):
        if i < lead:
            if size < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({size}) isn't allowed in a leading, "
                    f"non-existing dimension {i}")
            target.append(size)
            continue
        old = shape[i - lead]
        if size == -1:
            size = old
        if old != size and old != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({size}) must match the existing size ({old}) "
                f"at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(shape)}")
        target.append(size)
    target = tuple(target)
    out = ExpandTo.apply(input, target)
    return out._as_view_of(input, lambda a: xp.broadcast_to(a, target))


@op(function=False, method=True)
def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """expand(other.shape) (matches `torch.Tensor.expand_as`)."""
    return expand(input, other._data.shape)


@op(method=True)
def broadcast_to(input: Tensor, size) -> Tensor:
    """expand to `size` (matches `torch.broadcast_to`)."""
    return expand(input, size)


@op
def broadcast_tensors(*tensors):
    """All tensors expanded to their common shape (matches `torch.broadcast_tensors`)."""
    shape = xp.broadcast_shapes(*(t._data.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


# ---- narrow -------------------------------------------------------------------------------------
@op(method=True)
def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The view of `length` entries from `start` along dim (matches `torch.narrow`)."""
    dim = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[dim]
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got "
            f"{start})")
    start %= max(size, 1)
    if start + length > size or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return basic_view(input, (slice(None),) * dim + (slice(start, start + length),))
