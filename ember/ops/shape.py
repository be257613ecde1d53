"""View ops: view, reshape, flatten, permute, transpose, movedim, squeeze, unsqueeze, expand,
narrow, and their in-place forms (t_, transpose_, squeeze_, unsqueeze_); broadcast_shapes,
sum_to_size, narrow_copy. The joins and rearranging copies (cat, stack, split, unbind, repeat,
flip, roll, tril/triu) live in `ember.ops.joins`, the strided views (diagonal, as_strided,
unfold) in `ember.ops.strided`, the `*_copy` ops in `ember.ops.copies`.

A view shares memory with its input: its forward returns a NumPy view, and the public function
records how to re-derive it from the base (`_as_view_of`) so in-place ops on views work. Every
backward is written with these same ops (a view's gradient is the inverse view of the output
gradient), so all of them are differentiable any number of times.
"""

import collections.abc
import operator

from ember._warnings import warn as _warn
from ember import _dtype
from ember._device import Size
from ember._backend import xp
from ember._registry import op, tensor_method, torch_function
from ember.ops._out_rules import narrow_copy_out
from ember._tensor import Tensor, wrap_dim
from ember.autograd.function import Op
from ember.ops._shape_args import _infer_size, _sizes
from ember.ops._util import broadcast_error
from ember.ops.broadcast import ExpandTo, SumTo
from ember.ops.indexing import basic_view
from ember.ops.inplace import RegionPut


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
def view(input: Tensor, *shape, dtype=None) -> Tensor:
    """The same memory with a new shape; never copies (matches `torch.Tensor.view`)."""
    if dtype is not None and not shape:
        return _view_dtype(input, dtype)
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
    """The elements as a 1-D tensor: a view of a contiguous copy if needed (matches
    `torch.ravel`)."""
    return reshape(input.contiguous(), -1)


@op(method=True)
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one (matches `torch.flatten`)."""
    ndim = input._data.ndim
    start, end = wrap_dim(start_dim, ndim), wrap_dim(end_dim, ndim)  # a 0-d input: [-1, 0]
    if ndim == 0:
        return reshape(input, 1)
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
    if not shape:  # PyTorch wraps the dim without the 0-d allowance, in its own words
        raise RuntimeError(f"unflatten got an unexpected error:\nDimension specified as {dim} "
                           "but tensor has no dimensions")
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


def _transpose(input: Tensor, dim0: int, dim1: int, node=Transpose) -> Tensor:
    ndim = input._data.ndim
    d0, d1 = wrap_dim(dim0, ndim), wrap_dim(dim1, ndim)
    if d0 == d1:  # (a 0-d tensor's only "dim" too: an alias)
        return node.apply(input, d0, d1)._as_view_of(input, lambda a: a.view())
    return node.apply(input, d0, d1)._as_view_of(input, lambda a: xp.swapaxes(a, d0, d1))


@op(method=True, aliases=("swapaxes", "swapdims"))
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view with two dims swapped (matches `torch.transpose`)."""
    return _transpose(input, dim0, dim1)


def _t(input: Tensor, node=T) -> Tensor:
    ndim = input._data.ndim
    if ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {ndim}D")
    if ndim < 2:
        return node.apply(input, 0, 0)._as_view_of(input, lambda a: a.view())
    return node.apply(input, 0, 1)._as_view_of(input, lambda a: xp.swapaxes(a, 0, 1))


@op(method=True)
def t(input: Tensor) -> Tensor:
    """Transpose of a matrix; 0-d and 1-d tensors come back as they are (matches `torch.t`)."""
    return _t(input)


@tensor_method("T")
@property
def _T(self) -> Tensor:
    if self._data.ndim == 0:
        _warn("Tensor.T is deprecated on 0-D tensors. This function is the identity in "
                      "these cases.", UserWarning, stacklevel=2)
    elif self._data.ndim != 2:
        _warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
            "to reverse the dimensions of a tensor.", UserWarning, stacklevel=2)
    return permute(self, tuple(range(self._data.ndim - 1, -1, -1)))


@tensor_method("mT")
@property
def _mT(self) -> Tensor:
    ndim = self._data.ndim
    if ndim >= 2:
        return transpose(self, -2, -1)
    if ndim == 0:  # deprecated, but PyTorch still gives the tensor itself
        _warn("Tensor.mT is deprecated on 0-D tensors. This function is the identity in "
                      "these cases.", UserWarning, stacklevel=2)
        return self
    raise RuntimeError(
        f"tensor.mT is only supported on matrices or batches of matrices. Got {ndim}-D tensor.")


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
    for name, dims in (("source", source), ("destination", destination)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({dims})")
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


_SQUEEZE_NODES = (Squeeze, SqueezeDim, SqueezeDims)


def _squeeze(input: Tensor, dim, nodes=_SQUEEZE_NODES) -> Tensor:
    shape = input._data.shape
    if dim is None:
        node, dims = nodes[0], range(len(shape))
    elif isinstance(dim, (tuple, list)):
        node, dims = nodes[2], [wrap_dim(d, len(shape)) for d in dim]
    else:
        node, dims = nodes[1], [wrap_dim(dim, len(shape))]
    new_shape = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return node.apply(input, new_shape)._as_view_of(input, _reshape_fn(new_shape))


@op(method=True)
def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove size-1 dims: all, one, or a tuple of them (matches `torch.squeeze`)."""
    return _squeeze(input, dim)


def _unsqueeze(input: Tensor, dim: int, node=Unsqueeze) -> Tensor:
    shape = input._data.shape
    dim = wrap_dim(dim, len(shape) + 1)
    new_shape = shape[:dim] + (1,) + shape[dim:]
    return node.apply(input, new_shape)._as_view_of(input, _reshape_fn(new_shape))


@op(method=True)
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at `dim` (matches `torch.unsqueeze`)."""
    return _unsqueeze(input, dim)


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
    shape = ()
    for t in tensors:
        try:
            shape = xp.broadcast_shapes(shape, t._data.shape)
        except ValueError:
            raise broadcast_error(shape, t._data.shape) from None
    return tuple(expand(t, shape) for t in tensors)


@torch_function()
def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of `shapes` broadcast to (matches `torch.broadcast_shapes`):
    ints, sequences of ints, None left out."""
    shapes = [(s,) if isinstance(s, int) else s for s in shapes if s is not None]
    for shape in shapes:
        if not isinstance(shape, collections.abc.Sequence):  # a tensor is not a shape
            raise RuntimeError("Input shapes should be of type ints, a tuple of ints, or a list "
                               f"of ints, got {shape}")
    result = [1] * max((len(s) for s in shapes), default=0)
    for i, shape in enumerate(shapes):
        for d in range(-1, -len(shape) - 1, -1):
            if shape[d] == result[d]:
                continue
            if result[d] == 1:
                if shape[d] < 0:
                    raise ValueError("Attempting to broadcast a dimension with negative length!")
                result[d] = shape[d]
            if shape[d] != 1 and shape[d] != result[d]:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {shape[d]} at {d}! "
                    f"Mismatching argument at index {i} had {shape}; but expected shape should "
                    f"be broadcastable to {result}")
    return Size(result)


class SumToSize(SumTo):
    """y = x summed down to `size`;  gx = gy expanded back (PyTorch's node name for it)."""

    node_name = "SumBackward1"


@op(function=False, method=True)
def sum_to_size(input: Tensor, *size) -> Tensor:
    """Sum the broadcast dims away until input has `size` (matches `Tensor.sum_to_size`)."""
    size = _sizes(size)
    shape = input._data.shape
    lead = len(shape) - len(size)
    if lead < 0 or any(s not in (1, shape[lead + i]) for i, s in enumerate(size)):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    if not size:  # PyTorch's sum_to: a 0-d target is always a sum (bools give int64)
        return input.sum()
    if size == shape:
        return input
    return SumToSize.apply(input, size)


@torch_function("is_same_size")
@tensor_method("is_same_size")
def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Whether two tensors have the same shape (matches `torch.Tensor.is_same_size`)."""
    return input._data.shape == other._data.shape


# ---- narrow -------------------------------------------------------------------------------------
def _narrow_index(input: Tensor, dim: int, start, length: int) -> tuple:
    """The basic index of narrow(dim, start, length), with PyTorch's errors."""
    if isinstance(start, bool) or isinstance(length, bool):
        raise TypeError(
            "narrow() received an invalid combination of arguments - got (int, "
            f"{type(start).__name__}, {type(length).__name__}), but expected one of: (int dim, "
            "Tensor start, int length), (int dim, int start, int length)")
    if isinstance(start, Tensor) and (start._data.ndim or start.dtype.is_floating_point
                                      or start.dtype.is_complex or start.dtype.name == "bool"):
        raise RuntimeError("start must be an 0-dim integral Tensor.")  # bool is not integral
    if input._data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[dim]
    start = operator.index(start)
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got "
            f"{start})")
    if start < 0:  # (only a negative start wraps: start == size is an empty view's)
        start += size
    if start + length > size or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return (slice(None),) * dim + (slice(start, start + length),)


@op(method=True)
def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The view of `length` entries from `start` along dim (matches `torch.narrow`)."""
    return basic_view(input, _narrow_index(input, dim, start, length))


class NarrowCopy(Op):
    """y = a copy of x narrowed by a basic index;  gx = zeros with gy put in that region."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.region = (x._data.shape, index)
        return x._data[index].copy()

    @staticmethod
    def backward(ctx, gy):
        shape, index = ctx.region
        return RegionPut.apply(gy, shape, lambda a: a[index], None), None


@op(method=True, out=narrow_copy_out)
def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """narrow, as a new tensor (matches `torch.narrow_copy`)."""
    if isinstance(dim, int) and dim >= input._data.ndim > 0:
        raise RuntimeError(
            "Expected dim < static_cast<int64_t>(self_sizes.size()) to be true, but got false.")
    return NarrowCopy.apply(input, _narrow_index(input, dim, start, length))


# ---- in-place view ops --------------------------------------------------------------------------
class SqueezeInplace(Squeeze):
    """squeeze_(): PyTorch's node name for the in-place form."""

    node_name = "SqueezeBackward3"


class SqueezeDimInplace(Squeeze):
    """squeeze_(dim): PyTorch's node name for the in-place form."""

    node_name = "SqueezeBackward4"


class SqueezeDimsInplace(Squeeze):
    """squeeze_(dims): PyTorch's node name for the in-place form."""

    node_name = "SqueezeBackward5"


class UnsqueezeInplace(Squeeze):
    """unsqueeze_(dim): PyTorch's node name for the in-place form."""

    node_name = "UnsqueezeBackward1"


class TransposeInplace(Transpose):
    """transpose_/swapdims_/swapaxes_: PyTorch's node name for the in-place form."""

    node_name = "TransposeBackward1"


class TInplace(Transpose):
    """t_(): PyTorch's node name for the in-place form."""

    node_name = "TBackward1"


def restride_(self: Tensor, view: Tensor) -> Tensor:
    """Make self the view `view` of itself (NOTE [In-place view ops]).

    NOTE [In-place view ops]
    `x.t_()`, `x.squeeze_()` ... change only the shape and strides of x: x's array becomes the
    NumPy view, its history the view op's node, and a view of a base stays a view of that base
    (its view function gains the new step). The version counter moves, as in PyTorch.
    """
    self._check_inplace()
    self._data = view._data
    self._version_counter.value += 1
    if view._requires_grad:
        self.grad_fn, self._output_nr = view.grad_fn, view._output_nr
    if self._base is not None:
        self._view_fn = view._view_fn
    return self


@tensor_method("squeeze_")
def squeeze_(self: Tensor, dim=None) -> Tensor:
    """squeeze in place (matches `torch.Tensor.squeeze_`)."""
    nodes = (SqueezeInplace, SqueezeDimInplace, SqueezeDimsInplace)
    return restride_(self, _squeeze(self, dim, nodes))


@tensor_method("unsqueeze_")
def unsqueeze_(self: Tensor, dim: int) -> Tensor:
    """unsqueeze in place (matches `torch.Tensor.unsqueeze_`)."""
    return restride_(self, _unsqueeze(self, dim, UnsqueezeInplace))


@tensor_method("transpose_", "swapaxes_", "swapdims_")
def transpose_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """transpose in place (matches `torch.Tensor.transpose_`)."""
    return restride_(self, _transpose(self, dim0, dim1, TransposeInplace))


@tensor_method("t_")
def t_(self: Tensor) -> Tensor:
    """t in place (matches `torch.Tensor.t_`)."""
    return restride_(self, _t(self, TInplace))
