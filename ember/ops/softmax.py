"""softmax and log_softmax along a dim: each one fused op, computed stably."""

from ember import _dtype
from ember._backend import xp
from ember._registry import op
from ember._tensor import Tensor, short_name
from ember.autograd import grad_mode
from ember.autograd.function import Op
from ember.ops import activation_kernels as kernels
from ember.ops._opmath import in_opmath, is_half, widen
from ember.ops._util import as_operand
from ember.ops.reduction import Sum, _axes, _type_word
from ember.ops.unary import exp


_state = grad_mode._state


# ---- softmax, log_softmax --------------------------------------------------------------------
def _gradient_by_rows(kernel, gy, y, axes):
    """A first-order gradient kernel(o, gy, y) on the rows of the last dim, as a Tensor, or None
    (create_graph, other dtypes, shapes or dims: the op-level backward). 16-bit floats are
    computed in float32 and rounded once, as PyTorch's kernel (NOTE [opmath])."""
    g, d = gy._data, y._data
    half = is_half(d.dtype)
    if _state["enabled"] or g.dtype != d.dtype or g.shape != d.shape or \
            (d.dtype.char not in "fd" and not half) or tuple(axes) != (d.ndim - 1,) or \
            not d.flags.c_contiguous or d.size == 0:
        return None
    width = d.shape[-1]
    g, wide = widen(g), widen(d)
    gx = xp.empty_like(wide)
    kernels.by_rows(kernel, gx.reshape(-1, width), xp.ascontiguousarray(g).reshape(-1, width),
                    wide.reshape(-1, width))
    return Tensor._make(gx.astype(d.dtype) if half else gx)


def _by_rows(kernel, data, axes):
    """kernel(o, x) on the rows of the last dim of a contiguous float32/float64 array (the
    same bits as the whole-array formula, on the intra-op threads when big), or None."""
    if tuple(axes) != (data.ndim - 1,) or data.dtype.char not in "fd" or data.size == 0 \
            or not data.flags.c_contiguous or type(data) is not xp.ndarray:
        return None
    width = data.shape[-1]
    y = xp.empty_like(data)
    kernels.by_rows(kernel, y.reshape(-1, width), data.reshape(-1, width))
    return y


def _softmax_whole(data, axes):
    """softmax over axes on the whole array (16-bit floats in float32, rounded once: NOTE
    [opmath])."""
    if data.size == 0:
        return data.copy()
    wide = widen(data)
    y = xp.asanyarray(wide - xp.max(wide, axis=axes, keepdims=True))  # then in place
    xp.exp(y, out=y)
    y /= xp.sum(y, axis=axes, keepdims=True)
    return y.astype(data.dtype, copy=False)


def _log_softmax_whole(data, axes):
    """log_softmax over axes on the whole array (as `_softmax_whole`)."""
    if data.size == 0:
        return data.copy()
    wide = widen(data)
    y = xp.asanyarray(wide - xp.max(wide, axis=axes, keepdims=True))
    total = xp.sum(xp.exp(y), axis=axes, keepdims=True)
    if is_half(data.dtype) and tuple(axes) == (data.ndim - 1,):
        # PyTorch's last-dim kernel keeps Σ exp and then its log in the input's 16-bit dtype
        total = widen(total.astype(data.dtype))
        y -= widen(xp.log(total).astype(data.dtype))
    else:
        y -= xp.log(total)
    return y.astype(data.dtype, copy=False)


class Softmax(Op):
    """y = exp(x - max) / Σ exp(x - max);  gx = y·(gy - Σ gy·y)."""

    @staticmethod
    def forward(ctx, x, axes):
        data = x._data
        y = _by_rows(kernels.softmax_rows, data, axes)
        if y is None:
            y = _softmax_whole(data, axes)
        y = Tensor._make(y)
        ctx.axes = axes
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        gx = _gradient_by_rows(kernels.softmax_rows_backward, gy, y, ctx.axes)
        return (softmax_grad(y, gy, ctx.axes) if gx is None else gx), None


def softmax_grad(y, gy, axes):
    """Softmax's backward from its output y: gx = y·(gy - Σ gy·y) over axes."""
    return y * (gy - Sum.apply(gy * y, axes, True, gy.dtype))


class SafeSoftmax(Softmax):
    """softmax, with rows that are all -inf giving zeros (not NaN);  gx = y·(gy - Σ gy·y)."""

    @staticmethod
    def forward(ctx, x, axes):
        with xp.errstate(invalid="ignore"):  # an all -inf row: -inf - (-inf)
            y = Softmax.forward(ctx, x, axes)
        if y._data.size:
            empty = xp.all(x._data == -xp.inf, axis=axes, keepdims=True)
            xp.copyto(y._data, 0, where=empty)
        return y


class LogSoftmax(Op):
    """y = x - max - log Σ exp(x - max);  gx = gy - exp(y)·Σ gy."""

    @staticmethod
    def forward(ctx, x, axes):
        data = x._data
        y = _by_rows(kernels.log_softmax_rows, data, axes)
        if y is None:
            y = _log_softmax_whole(data, axes)
        y = Tensor._make(y)
        ctx.axes = axes
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        gx = _gradient_by_rows(kernels.log_softmax_rows_backward, gy, y, ctx.axes)
        if gx is not None:
            return gx, None
        return gy - exp(y) * Sum.apply(gy, ctx.axes, True, gy.dtype), None


def _softmax_input(input, dim, dtype, name):
    """input (cast to dtype) and the axes, or PyTorch's error: the dim is checked first, and an
    empty tensor of any dtype passes (its softmax never reaches the typed kernel)."""
    if dtype is not None:
        input = as_operand(input, _dtype.to_dtype(dtype))
    data = input._data
    axes = _axes(int(dim), data.ndim)
    if not input.dtype.is_floating_point and data.size:
        kernel = "_lastdim" if not axes or axes[0] == data.ndim - 1 else ""
        raise NotImplementedError(
            f'"{name}{kernel}_kernel_impl" not implemented for \'{short_name(input.dtype)}\'')
    return input, axes


@op(method=True, out="exact")
def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """exp(x) / Σ exp(x) along dim, computed stably (matches `torch.softmax`)."""
    input, axes = _softmax_input(input, dim, dtype, "softmax")
    return _c_order(Softmax.apply(input, axes))


@op(method=True, out="exact")
def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """log(softmax(x)) along dim, computed stably (matches `torch.log_softmax`)."""
    input, axes = _softmax_input(input, dim, dtype, "log_softmax")
    return _c_order(LogSoftmax.apply(input, axes))


def _c_order(y: Tensor) -> Tensor:
    """y in C order: PyTorch's softmax kernels write a contiguous output whatever the input's
    layout (a channels-last x gives a contiguous softmax)."""
    if not y._data.flags.c_contiguous:
        y._data = xp.ascontiguousarray(y._data)
    return y


@op
def _safe_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """softmax along dim, zero (not NaN) where a whole row is -inf, as attention masks need
    (matches `torch._safe_softmax`)."""
    input, axes = _softmax_input(input, dim, dtype, "softmax")
    return SafeSoftmax.apply(input, axes)


@op
def _softmax_backward_data(grad_output: Tensor, output: Tensor, dim: int,
                           input_dtype) -> Tensor:
    """softmax's input gradient from its output: y·(gy - Σ gy·y) along dim, in grad_output's
    dtype, 16-bit floats computed in float32 (matches `torch._softmax_backward_data`)."""
    if grad_output.shape != output.shape:
        raise RuntimeError(f"Expected tensor for argument #1 'grad' to have same size as tensor "
                           f"for argument #2 'output'; but {list(grad_output.shape)} does not "
                           f"equal {list(output.shape)} (while checking arguments for "
                           "softmax_backward)")
    if grad_output.dtype != output.dtype:
        raise RuntimeError(f"expected scalar type {_type_word(grad_output.dtype)} but found "
                           f"{_type_word(output.dtype)}")
    # only a float16 input_dtype with float32 grads matters: any other code, even one no dtype
    # has (torch.ops passes an int through), leaves the result in grad_output's dtype
    wanted = input_dtype if isinstance(input_dtype, int) else _dtype.to_dtype(input_dtype)
    if grad_output.dtype.name == "float32" and getattr(wanted, "name", None) == "float16":
        # PyTorch would give a float16 result here, which only its CUDA kernel writes
        raise RuntimeError("expected scalar type Float but found Half")
    axes = _axes(int(dim), grad_output._data.ndim)
    return in_opmath(lambda gy, y: softmax_grad(y, gy, axes), grad_output, output)
