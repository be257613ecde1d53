"""The `*_copy` ops: each view op's result as a new tensor that shares no memory (view_copy,
permute_copy, transpose_copy, t_copy, expand_copy, squeeze_copy, unsqueeze_copy, select_copy,
slice_copy, diagonal_copy, unbind_copy, split_copy, split_with_sizes_copy, alias_copy,
as_strided_copy, unfold_copy, detach_copy, view_as_real_copy, view_as_complex_copy).

NOTE [Copies of views]
A view op records how to re-derive its result from the input's array (`_view_fn`). A `*_copy`
runs the view op on an alias of the input (no graph), copies the result, and keeps that view
function: the gradient is "zeros with gy put into the view's region" (`RegionPut`), the same for
every view that does not overlap itself. Overlapping views (expand, unfold, as_strided) add the
copies up instead, with their view op's own backward. The node names are PyTorch's
(`PermuteBackward0_copy`).
"""

from ember import _dtype
from ember._backend import xp
from ember._registry import op
from ember.ops._out_rules import pieces_out
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.autograd.function import Op
from ember.ops.broadcast import ExpandTo
from ember.ops.indexing import select
from ember.ops.inplace import RegionPut, identity
from ember.ops.joins import split, unbind
from ember.ops.shape import expand, permute, squeeze, t, transpose, unsqueeze, view
from ember.ops.strided import (AsStrided, DiagonalCopy, Unfold, _diagonal_dims, _diagonal_fn,
                               strided_args, unfold)


class CopyOfView(Op):
    """y = a copy of view_fn(x);  gx = zeros with gy put into that view's region."""

    @staticmethod
    def forward(ctx, x, view_fn):
        ctx.region = (x._data.shape, view_fn)
        return xp.copy(view_fn(x._data))

    @staticmethod
    def backward(ctx, gy):
        shape, view_fn = ctx.region
        return RegionPut.apply(gy, shape, view_fn, None), None


class ViewCopy(CopyOfView):
    node_name = "ViewBackward0_copy"


class PermuteCopy(CopyOfView):
    node_name = "PermuteBackward0_copy"


class TransposeCopy(CopyOfView):
    node_name = "TransposeBackward0_copy"


class TCopy(CopyOfView):
    node_name = "TBackward0_copy"


class SqueezeCopy(CopyOfView):
    node_name = "SqueezeBackward0_copy"


class SqueezeDimCopy(CopyOfView):
    node_name = "SqueezeBackward1_copy"


class SqueezeDimsCopy(CopyOfView):
    node_name = "SqueezeBackward2_copy"


class UnsqueezeCopy(CopyOfView):
    node_name = "UnsqueezeBackward0_copy"


class SelectCopy(CopyOfView):
    node_name = "SelectBackward0_copy"


class SliceCopy(CopyOfView):
    node_name = "SliceBackward0_copy"


class AliasCopy(CopyOfView):
    node_name = "AliasBackward0_copy"


def _view_fn(view_op, input: Tensor, *args):
    """The view function of view_op(input, *args), found on an alias outside any graph."""
    out = view_op(Tensor._make(input._data), *args)
    if isinstance(out, tuple):
        return tuple(o._view_fn for o in out)
    return out._view_fn or identity


@op(out="exact")
def view_copy(input: Tensor, size) -> Tensor:
    """view, as a new tensor (matches `torch.view_copy`)."""
    if isinstance(size, _dtype.dtype):
        return Tensor._make(view(Tensor._make(input._data), size)._data.copy())
    return ViewCopy.apply(input, _view_fn(view, input, size))


@op(out="exact")
def permute_copy(input: Tensor, dims) -> Tensor:
    """permute, as a new tensor (matches `torch.permute_copy`)."""
    return PermuteCopy.apply(input, _view_fn(permute, input, tuple(dims)))


@op(out="exact")
def transpose_copy(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """transpose, as a new tensor (matches `torch.transpose_copy`)."""
    return TransposeCopy.apply(input, _view_fn(transpose, input, dim0, dim1))


@op(out="exact")
def t_copy(input: Tensor) -> Tensor:
    """t, as a new tensor (matches `torch.t_copy`)."""
    return TCopy.apply(input, _view_fn(t, input))


@op(out="exact")
def squeeze_copy(input: Tensor, dim=None) -> Tensor:
    """squeeze, as a new tensor (matches `torch.squeeze_copy`)."""
    node = (SqueezeCopy if dim is None else
            SqueezeDimsCopy if isinstance(dim, (tuple, list)) else SqueezeDimCopy)
    return node.apply(input, _view_fn(squeeze, input, dim))


@op(out="exact")
def unsqueeze_copy(input: Tensor, dim: int) -> Tensor:
    """unsqueeze, as a new tensor (matches `torch.unsqueeze_copy`)."""
    return UnsqueezeCopy.apply(input, _view_fn(unsqueeze, input, dim))


@op(out="exact")
def select_copy(input: Tensor, dim: int, index: int) -> Tensor:
    """select, as a new tensor (matches `torch.select_copy`)."""
    return SelectCopy.apply(input, _view_fn(select, input, dim, index))


def _slice(input: Tensor, dim: int, start, end, step: int) -> Tensor:
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    ndim = input._data.ndim
    return input[(slice(None),) * (dim % max(ndim, 1)) + (slice(start, end, step),)]


@op(out="exact")
def slice_copy(input: Tensor, dim: int = 0, start=None, end=None, step: int = 1) -> Tensor:
    """input[start:end:step] along dim, as a new tensor (matches `torch.slice_copy`)."""
    return SliceCopy.apply(input, _view_fn(_slice, input, dim, start, end, step))


@op(out="exact")
def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """diagonal, as a new tensor (matches `torch.diagonal_copy`)."""
    dims = _diagonal_dims(input._data.ndim, dim1, dim2)
    return DiagonalCopy.apply(input, _diagonal_fn(offset, *dims))


@op(out="exact")
def alias_copy(input: Tensor) -> Tensor:
    """A copy of input (matches `torch.alias_copy`)."""
    return AliasCopy.apply(input, identity)


class DetachCopy(Op):
    """y = a copy of x, whose derivative PyTorch leaves unimplemented (the backward raises)."""

    node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, x):
        return x._data.copy()

    @staticmethod
    def backward(ctx, gy):
        raise RuntimeError("derivative for aten::detach_copy is not implemented")


DetachCopy._backward_cls.name = lambda node: "torch::autograd::NotImplemented"


@op(out="exact")
def detach_copy(input: Tensor) -> Tensor:
    """A copy of input; torch records a node whose backward raises (matches
    `torch.detach_copy`)."""
    return DetachCopy.apply(input)


# ---- multi-output copies ------------------------------------------------------------------------
class CopiesOfViews(Op):
    """ys = copies of view_fn_i(x);  gx = Σ zeros with gy_i put into view i's region."""

    @staticmethod
    def forward(ctx, x, view_fns):
        ctx.region = (x._data.shape, view_fns)
        return tuple(xp.copy(fn(x._data)) for fn in view_fns)

    @staticmethod
    def backward(ctx, *gys):
        shape, view_fns = ctx.region
        gx = None
        for g, fn in zip(gys, view_fns):
            if g is not None:
                part = RegionPut.apply(g, shape, fn, None)
                gx = part if gx is None else gx + part
        return gx, None


class UnbindCopy(CopiesOfViews):
    node_name = "UnbindBackward0_copy"


class SplitCopy(CopiesOfViews):
    node_name = "SplitBackward0_copy"


class SplitWithSizesCopy(CopiesOfViews):
    node_name = "SplitWithSizesBackward0_copy"


def _copies(node, input: Tensor, view_fns) -> tuple:
    outputs = node.apply(input, view_fns)
    return outputs if isinstance(outputs, tuple) else (outputs,)


@op(out=pieces_out)
def unbind_copy(input: Tensor, dim: int = 0):
    """unbind, as new tensors (matches `torch.unbind_copy`)."""
    return _copies(UnbindCopy, input, _view_fn(unbind, input, dim))


@op(out=pieces_out)
def split_copy(input: Tensor, split_size: int, dim: int = 0):
    """split into pieces of split_size, as new tensors (matches `torch.split_copy`)."""
    if not isinstance(split_size, int):
        raise TypeError(
            "split_copy(): argument 'split_size' (position 2) must be int, not "
            f"{type(split_size).__name__}")
    return _copies(SplitCopy, input, _view_fn(split, input, split_size, dim))


@op(out=pieces_out)
def split_with_sizes_copy(input: Tensor, split_sizes, dim: int = 0):
    """split into pieces of the listed sizes, as new tensors (matches
    `torch.split_with_sizes_copy`)."""
    return _copies(SplitWithSizesCopy, input, _view_fn(split, input, list(split_sizes), dim))


# ---- copies of overlapping views ----------------------------------------------------------------
class ExpandCopy(ExpandTo):
    """expand_copy: y = x broadcast to a shape, copied;  gx = gy summed back."""

    node_name = "ExpandBackward0_copy"

    @staticmethod
    def forward(ctx, x, shape):
        return xp.array(ExpandTo.forward(ctx, x, shape))


@op(out="exact")
def expand_copy(input: Tensor, size, *, implicit: bool = False) -> Tensor:
    """expand, as a new tensor (matches `torch.expand_copy`)."""
    target = expand(Tensor._make(input._data), size)._data.shape
    return ExpandCopy.apply(input, target)


class UnfoldCopy(Unfold):
    """unfold_copy: the windows copied;  gx = every window's gy added back."""

    node_name = "UnfoldBackward0_copy"

    @staticmethod
    def forward(ctx, x, dim, size, step):
        return xp.array(Unfold.forward(ctx, x, dim, size, step))


@op(out="exact")
def unfold_copy(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Tensor.unfold, as a new tensor (matches `torch.unfold_copy`)."""
    unfold(Tensor._make(input._data), dimension, size, step)  # PyTorch's errors
    dim = dimension % max(input._data.ndim, 1)
    return UnfoldCopy.apply(input, dim, size, step)


class AsStridedCopy(AsStrided):
    """as_strided_copy: the strided read copied;  gx as for as_strided."""

    node_name = "AsStridedBackward0_copy"

    @staticmethod
    def forward(ctx, x, root_array, size, stride, offset):
        return xp.array(AsStrided.forward(ctx, x, root_array, size, stride, offset))


@op(out="exact")
def as_strided_copy(input: Tensor, size, stride, storage_offset=None) -> Tensor:
    """as_strided, as a new tensor (matches `torch.as_strided_copy`)."""
    root, size, stride, offset = strided_args(input, size, stride, storage_offset)
    return AsStridedCopy.apply(input, root._data, size, stride, offset)


# ---- complex <-> (re, im) copies ----------------------------------------------------------------
class ViewAsRealCopy(Op):
    """y = (re z, im z) in a trailing dim of 2;  gz = gy[..., 0] + i·gy[..., 1]."""

    node_name = "ViewAsRealBackward0_copy"

    @staticmethod
    def forward(ctx, z):
        return xp.stack([z._data.real, z._data.imag], axis=-1)

    @staticmethod
    def backward(ctx, gy):
        return ViewAsComplexCopy.apply(gy)


class ViewAsComplexCopy(Op):
    """z = x[..., 0] + i·x[..., 1];  gx = (re gz, im gz)."""

    @staticmethod
    def forward(ctx, x):
        data = x._data
        return data[..., 0] + 1j * data[..., 1] if data.dtype == xp.float64 else (
            (data[..., 0] + 1j * data[..., 1]).astype(xp.complex64))

    @staticmethod
    def backward(ctx, gz):
        return ViewAsRealCopy.apply(gz)


@op(out="exact")
def view_as_real_copy(input: Tensor) -> Tensor:
    """A complex tensor's (re, im) pairs in a trailing dim of 2, as a new tensor (matches
    `torch.view_as_real_copy`)."""
    if not input.dtype.is_complex:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return ViewAsRealCopy.apply(input)


@op(out="exact")
def view_as_complex_copy(input: Tensor) -> Tensor:
    """A (..., 2) real tensor as complex numbers, as a new tensor (matches
    `torch.view_as_complex_copy`; like torch, without autograd)."""
    data = input._data
    if input.dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(
            "view_as_complex is only supported for float and double tensors, but got a tensor "
            f"of scalar type: {input.dtype}")
    if data.ndim == 0 or data.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if data.strides[-1] != data.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if input._requires_grad and grad_mode._state["enabled"]:
        raise RuntimeError(
            "view_as_complex_copy does not support automatic differentiation for outputs with "
            "complex dtype.")
    return ViewAsComplexCopy.apply(input)
