"""Copies that move entries around: flip (fliplr, flipud), roll, tril/triu. Each backward is the
same op again (flip and roll undone, the same triangle kept), so all are differentiable any
number of times."""

from ember._backend import xp
from ember._registry import op, tensor_method
from ember._tensor import Tensor, wrap_dim
from ember.autograd.function import Op


def _dims(dims, ndim) -> tuple:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return tuple(wrap_dim(d, ndim) for d in dims)


class Flip(Op):
    """y = x reversed along dims (a copy);  gx = gy reversed along the same dims."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return xp.flip(x._data, dims).copy()

    @staticmethod
    def backward(ctx, gy):
        return flip(gy, ctx.dims), None


@op()
def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of entries along dims (matches `torch.flip`)."""
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"flip(): argument 'dims' (position 2) must be tuple of ints, not "
                        f"{type(dims).__name__}")
    wrapped = _dims(dims, input._data.ndim)
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"dim {_repeated(wrapped)} appears multiple times in the list of dims")
    if input._data.ndim == 0:  # dim 0 / -1 of a scalar wraps as torch's does, and flips nothing
        wrapped = ()
    return Flip.apply(input, wrapped)


def _repeated(dims: tuple) -> int:
    """The first dim of dims seen twice."""
    return next(d for i, d in enumerate(dims) if d in dims[:i])


@tensor_method("flip")
def tensor_flip(self, *dims, **keyword) -> Tensor:
    """`x.flip(dims)`, `x.flip(d0, d1, ...)` or `x.flip(dims=...)` (matches `Tensor.flip`)."""
    if keyword:
        return flip(self, **keyword)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    return flip(self, tuple(dims))


@op(method=True)
def fliplr(input: Tensor) -> Tensor:
    """flip(dim 1) (matches `torch.fliplr`)."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


@op(method=True)
def flipud(input: Tensor) -> Tensor:
    """flip(dim 0) (matches `torch.flipud`)."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class Roll(Op):
    """y = x shifted cyclically along dims;  gx = gy shifted back."""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.args = (shifts, dims)
        return xp.roll(x._data, shifts, dims)

    @staticmethod
    def backward(ctx, gy):
        shifts, dims = ctx.args
        negated = -shifts if isinstance(shifts, int) else tuple(-s for s in shifts)
        return Roll.apply(gy, negated, dims), None, None


@op(method=True)
def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift entries cyclically along dims, or over the flattened tensor (matches `torch.roll`)."""
    if dims is not None:
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
        shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
        if len(shifts) != len(dims):
            raise RuntimeError(
                f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
        if not input._data.size:  # PyTorch copies an empty input before looking at dims
            return Roll.apply(input, 0, None)
        if input._data.ndim == 0:  # PyTorch wraps roll's dims without the 0-d allowance
            raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
        dims = _dims(dims, input._data.ndim)
    elif not isinstance(shifts, int):
        if len(shifts) != 1:
            raise RuntimeError(
                f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        shifts = int(shifts[0])
    return Roll.apply(input, shifts, dims)


class Tril(Op):
    """y = x with entries above diagonal k zeroed;  gx = tril(gy, k)."""

    @staticmethod
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return xp.tril(x._data, diagonal)

    @staticmethod
    def backward(ctx, gy):
        return Tril.apply(gy, ctx.diagonal), None


class Triu(Op):
    """y = x with entries below diagonal k zeroed;  gx = triu(gy, k)."""

    @staticmethod
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return xp.triu(x._data, diagonal)

    @staticmethod
    def backward(ctx, gy):
        return Triu.apply(gy, ctx.diagonal), None


@op(method=True, inplace=True, out="exact")
def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (matches `torch.tril`)."""
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return Tril.apply(input, diagonal)


@op(method=True, inplace=True, out="exact")
def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (matches `torch.triu`)."""
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return Triu.apply(input, diagonal)
