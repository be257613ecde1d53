"""Conversions: dtype casts (`Tensor.to`, `.float()`, `.long()`, ...), `clone` and `contiguous`.

A cast is an op (`ToCopy`) so that it stays in the graph: the gradient of `x.double()` flows
back to a float32 `x` as float32. Each of them takes PyTorch's `memory_format=` (NOTE [Memory
formats] in ember/_tensor.py): the copy keeps the input's layout (`preserve_format`, the
default), or is C-contiguous, or channels-last.
"""


from ember._backend import xp
from ember._warnings import warn as _warn
from ember._warnings import warn_once
from ember import _dtype
from ember._device import check_device, device
from ember._registry import op, tensor_method
from ember._tensor import (Tensor, channels_last, channels_last_3d, contiguous_format,
                           format_order,
                           memory_format, preserve_format, short_name,
                           type_name)
from ember.autograd.function import Op


def real_part_for(array, dtype):
    """array, or its real part when a complex array is cast to a real (not bool) dtype, with
    PyTorch's warning, once per process (TORCH_WARN_ONCE), instead of NumPy's ComplexWarning."""
    if array.dtype.kind != "c" or xp.dtype(dtype).kind in "cb":
        return array
    warn_once("Casting complex values to real discards the imaginary part (Triggered internally "
              "at /__w/pytorch/pytorch/aten/src/ATen/native/Copy.cpp:307.)", UserWarning,
              at_caller=True)
    return array.real


def layout_copy(array, fmt=preserve_format, dtype=None):
    """A copy of array (cast to dtype) laid out in memory format `fmt`.

    preserve_format keeps the input's stride order (NumPy's order 'K', which is PyTorch's rule
    for dense inputs); contiguous_format is C order; channels_last(_3d) copies in NHWC order and
    views the copy back as NCHW.
    """
    # copies through the array's own astype, so an array library's array type is kept
    dtype = array.dtype if dtype is None else dtype
    array = real_part_for(array, dtype)
    if _dtype.is_float8_cast(array.dtype, dtype):  # PyTorch's rounding (NOTE [float8 casts])
        array = _dtype.cast_array(array, dtype)
    if fmt is None or fmt is preserve_format:
        return array.astype(dtype, order="K", copy=True)
    if not isinstance(fmt, memory_format):
        raise TypeError(f"memory_format must be a torch.memory_format, not {type(fmt).__name__}")
    if fmt is contiguous_format:
        return array.astype(dtype, order="C", copy=True)
    order = format_order(fmt, array.ndim)
    inverse = tuple(sorted(range(len(order)), key=order.__getitem__))
    return array.transpose(order).astype(dtype, order="C", copy=True).transpose(inverse)


def in_format(array, fmt) -> bool:
    """Whether array is already laid out as `fmt` (preserve_format: always)."""
    if fmt is None or fmt is preserve_format:
        return True
    return Tensor._make(array).is_contiguous(memory_format=fmt)


def laid_out_as(array, fmt):
    """array with exactly the strides a new tensor of format `fmt` has (size-1 dims too, which
    `is_contiguous` ignores): itself when it has them, else a copy."""
    order, step = format_order(fmt, array.ndim), array.itemsize
    expected = [0] * array.ndim
    for axis in reversed(order):
        expected[axis] = step
        step *= max(array.shape[axis], 1)
    return array if tuple(expected) == array.strides else layout_copy(array, fmt)


def new_layout(array, fmt):
    """A new array's layout for a factory's memory_format= (None: C order as made)."""
    if fmt is preserve_format:
        raise RuntimeError("unsupported memory format Preserve")
    return array if fmt is None else laid_out_as(array, fmt)


def in_suggested_format(y, x):
    """y (a kernel's fresh result) laid out in the memory format x's strides suggest, as
    PyTorch's CPU norm and pooling kernels allocate their outputs."""
    fmt = suggest_memory_format(x)
    return y if fmt is contiguous_format or y.ndim != x.ndim else laid_out_as(y, fmt)


def strided_like(y, x):
    """y (an elementwise kernel's fresh result of x's shape) with x's stride order, as
    PyTorch's TensorIterator lays out a unary op's output: a copy only when x is not
    C-contiguous."""
    if y.ndim < 2 or x.flags.c_contiguous or y.shape != x.shape:
        return y
    out = xp.empty_like(x, dtype=y.dtype)  # (order 'K': x's stride order, dense)
    out[...] = y
    return out


def first_operand_layout(result, a):
    """A binary op's result laid out as its first operand's array a when a has its shape and
    is not C-contiguous: PyTorch's TensorIterator lets the first operand decide the output's
    stride order, where NumPy falls back to C order when its operands' orders differ (a
    channels-last x * y)."""
    if a.flags.c_contiguous or not isinstance(result, Tensor):
        return result
    data = result._data
    if data.shape == a.shape and data.flags.c_contiguous:
        result._data = strided_like(data, a)
    return result


def suggest_memory_format(array):
    """The format an array's strides suggest: channels_last(_3d) or contiguous_format (matches
    ATen's `suggest_memory_format`, which kernels such as convolution follow)."""
    order = {4: (1, 3, 2, 0), 5: (1, 4, 3, 2, 0)}.get(array.ndim)
    if order is None:
        return contiguous_format
    sizes, strides = array.shape, array.strides
    low = 0
    for d in order:  # innermost first, as ATen's is_channels_last_strides_{2,3}d
        if sizes[d] == 0 or strides[d] < low or strides[1] == 0:
            return contiguous_format
        if d == 0 and low == strides[1]:  # N111-like ambiguity: ATen falls back to NCHW
            return contiguous_format
        low = strides[d] * max(sizes[d], 1)
    return channels_last if array.ndim == 4 else channels_last_3d


class ToCopy(Op):
    """y = x converted to another dtype (in a memory format);  gx = gy converted back to x's
    dtype."""

    @staticmethod
    def forward(ctx, x, dtype, fmt=preserve_format):
        ctx.input_dtype = x.dtype
        return layout_copy(x._data, fmt, dtype.numpy)

    @staticmethod
    def backward(ctx, gy):
        if gy.dtype.is_complex and not ctx.input_dtype.is_complex:
            gy = gy.real  # a real input's gradient is the real part (ember/ops/complex.py NOTE)
        return cast(gy, ctx.input_dtype), None, None


def cast(x: Tensor, dtype, memory_format=preserve_format) -> Tensor:
    """x as `dtype`, a copy that stays in the graph (what `Tensor.to(dtype)` does); x itself if
    it already has that dtype and memory format."""
    dtype = _dtype.to_dtype(dtype)
    if x._data.dtype == dtype.numpy and in_format(x._data, memory_format):
        return x
    return ToCopy.apply(x, dtype, memory_format)


class Clone(Op):
    """y = a copy of x (in a memory format);  gx = gy."""

    @staticmethod
    def forward(ctx, x, fmt=preserve_format):
        return layout_copy(x._data, fmt)

    @staticmethod
    def backward(ctx, gy):
        return gy, None


@op(method=True)
def clone(x: Tensor, *, memory_format=preserve_format) -> Tensor:
    """A copy of x in new memory, differentiable (matches `torch.clone`)."""
    return Clone.apply(x, memory_format)


@tensor_method("to")
def tensor_to(self, *args, **kwargs):
    """Convert dtype, device (CPU only) and memory format (matches `Tensor.to`).

    PyTorch's three forms: to(dtype, non_blocking=False, copy=False, memory_format=...),
    to(device=None, dtype=None, non_blocking=False, copy=False, memory_format=...) and
    to(other, non_blocking=False, copy=False).
    """
    args = list(args)
    dtype, target = kwargs.pop("dtype", None), kwargs.pop("device", None)
    if args and isinstance(args[0], Tensor):
        dtype = args.pop(0).dtype
    elif args and _is_dtype(args[0]):
        dtype = _dtype.to_dtype(args.pop(0))
    elif args and (args[0] is None or isinstance(args[0], (str, device, int))) and \
            not isinstance(args[0], bool):  # to(None, float64) is to(device=None, dtype=...)
        target = args.pop(0)
        if args and _is_dtype(args[0]):
            dtype = _dtype.to_dtype(args.pop(0))
    flags = dict(zip(("non_blocking", "copy"), args))
    copy = kwargs.pop("copy", flags.get("copy", False))
    fmt = kwargs.pop("memory_format", preserve_format)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if isinstance(target, (str, device)) and device(target).type == "mps":  # torch's .to error
        raise RuntimeError("PyTorch is not linked with support for mps devices")
    check_device(target)
    if copy:
        return ToCopy.apply(self, dtype or self.dtype, fmt)
    return cast(self, dtype or self.dtype, fmt)


def _is_dtype(value) -> bool:
    return isinstance(value, _dtype.dtype) or value in (float, int, bool, complex)


@tensor_method("type")
def tensor_type(self, dtype=None, non_blocking=False, **kwargs):
    """With no argument, the type name ('torch.FloatTensor'); otherwise convert to the dtype,
    legacy class (`torch.DoubleTensor`) or type string given (matches `Tensor.type`)."""
    if dtype is None:
        return type_name(self)
    return self.to(_legacy_dtype(dtype))


_LEGACY_NAMES = {f"torch.{short_name(d)}Tensor": d for d in (
    _dtype.float32, _dtype.float64, _dtype.float16, _dtype.bfloat16, _dtype.int64,
    _dtype.int32, _dtype.int16, _dtype.int8, _dtype.uint8, _dtype.bool)}


def _legacy_dtype(spec):
    """The dtype a `Tensor.type` argument names: a dtype, a legacy class or its name."""
    if isinstance(spec, _dtype.dtype):
        return spec
    if isinstance(spec, type):  # torch.FloatTensor is a class; ember's report module 'torch'
        spec = spec.__name__ if spec.__module__ == "builtins" else \
            f"{spec.__module__}.{spec.__name__}"
    if not isinstance(spec, str):
        raise TypeError("dtype must be a type, str, or dtype object")
    if spec.startswith("torch.cuda."):  # what a CPU-only build raises
        raise RuntimeError("Cannot initialize CUDA without ATen_cuda library (ember runs on "
                           "the CPU only)")
    if spec not in _LEGACY_NAMES:
        raise ValueError(f"invalid type: '{spec}'")
    return _LEGACY_NAMES[spec]


@tensor_method("type_as")
def tensor_type_as(self, other):
    return self.to(other.dtype)


# The casting methods: `x.float()` is `x.to(torch.float32)`, each with `memory_format=`.
@tensor_method("float")
def tensor_float(self, memory_format=preserve_format):
    """x as float32 (matches `Tensor.float`)."""
    return cast(self, _dtype.float32, memory_format)


@tensor_method("double")
def tensor_double(self, memory_format=preserve_format):
    """x as float64 (matches `Tensor.double`)."""
    return cast(self, _dtype.float64, memory_format)


@tensor_method("half")
def tensor_half(self, memory_format=preserve_format):
    """x as float16 (matches `Tensor.half`)."""
    return cast(self, _dtype.float16, memory_format)


@tensor_method("bfloat16")
def tensor_bfloat16(self, memory_format=preserve_format):
    """x as bfloat16 (matches `Tensor.bfloat16`)."""
    return cast(self, _dtype.bfloat16, memory_format)


@tensor_method("long")
def tensor_long(self, memory_format=preserve_format):
    """x as int64 (matches `Tensor.long`)."""
    return cast(self, _dtype.int64, memory_format)


@tensor_method("int")
def tensor_int(self, memory_format=preserve_format):
    """x as int32 (matches `Tensor.int`)."""
    return cast(self, _dtype.int32, memory_format)


@tensor_method("short")
def tensor_short(self, memory_format=preserve_format):
    """x as int16 (matches `Tensor.short`)."""
    return cast(self, _dtype.int16, memory_format)


@tensor_method("char")
def tensor_char(self, memory_format=preserve_format):
    """x as int8 (matches `Tensor.char`)."""
    return cast(self, _dtype.int8, memory_format)


@tensor_method("byte")
def tensor_byte(self, memory_format=preserve_format):
    """x as uint8 (matches `Tensor.byte`)."""
    return cast(self, _dtype.uint8, memory_format)


@tensor_method("bool")
def tensor_bool(self, memory_format=preserve_format):
    """x as bool (matches `Tensor.bool`)."""
    return cast(self, _dtype.bool, memory_format)


@tensor_method("cfloat")
def tensor_cfloat(self, memory_format=preserve_format):
    """x as complex64 (matches `Tensor.cfloat`)."""
    return cast(self, _dtype.complex64, memory_format)


@tensor_method("cdouble")
def tensor_cdouble(self, memory_format=preserve_format):
    """x as complex128 (matches `Tensor.cdouble`)."""
    return cast(self, _dtype.complex128, memory_format)


@tensor_method("contiguous")
def tensor_contiguous(self, memory_format=contiguous_format):
    """self if laid out in memory_format, else a copy that is (matches `Tensor.contiguous`)."""
    if self.is_contiguous(memory_format=memory_format):
        return self
    if memory_format is preserve_format:
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    return clone(self, memory_format=memory_format)


@tensor_method("resize")
def tensor_resize(self, *sizes):
    """Deprecated non-in-place resize: self reshaped to sizes, same number of elements
    (matches `Tensor.resize`)."""
    _warn("non-inplace resize is deprecated", stacklevel=2)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    return self.reshape(sizes)


@tensor_method("resize_as")
def tensor_resize_as(self, tensor):
    """Deprecated non-in-place resize to tensor's shape (matches `Tensor.resize_as`)."""
    _warn("non-inplace resize_as is deprecated", stacklevel=2)
    return self.reshape(tensor.shape)
