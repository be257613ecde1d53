"""Quantized tensors (matches PyTorch's QuantizedCPU tensors of dtype qint8, quint8, qint32):
`torch.quantize_per_tensor`, `quantize_per_channel`, `quantize_per_tensor_dynamic`,
`dequantize`, the quantization schemes (`torch.per_tensor_affine`, ...) and the methods that
read a quantized tensor (`int_repr`, `q_scale`, `q_per_channel_scales`, ...). The arithmetic is
in `ember/_quantized_arith.py` (NOTE [Quantizing as FBGEMM rounds]).

NOTE [A quantized tensor is a Tensor subclass holding its integers]
`QuantizedTensor` subclasses `Tensor`, so `isinstance(q, torch.Tensor)` holds as in PyTorch, and
like the sparse tensors it never sets `_data`: the integers are in `_qint` (an int8, uint8 or
int32 array) with the quantizer's parameters beside them, and a dense op that is given one fails
instead of computing on the raw integers (PyTorch raises NotImplementedError for most ops on a
quantized tensor too). A quantized tensor has no autograd: it is a leaf that never requires grad.
"""


from ember._warnings import warn as _warn
from ember import _dtype
from ember._backend import xp
from ember import _quantized_arith as arith
from ember._device import Size
from ember._registry import tensor_method, torch_function
from ember._tensor import Tensor, _Version, _wrap_dim
from ember._tensor_str import _add_suffixes, _tensor_str


class qscheme:
    """A quantization scheme (matches `torch.qscheme`); prints as `torch.per_tensor_affine`."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):
        return self.name  # pickles as the module-level instance


per_tensor_affine = qscheme("per_tensor_affine")
per_channel_affine = qscheme("per_channel_affine")
per_tensor_symmetric = qscheme("per_tensor_symmetric")
per_channel_symmetric = qscheme("per_channel_symmetric")
per_channel_affine_float_qparams = qscheme("per_channel_affine_float_qparams")
_QUANTIZED = {"qint8": "QInt8", "quint8": "QUInt8", "qint32": "QInt32"}  # torch's C++ names
_DEPRECATION = ("torch.quantize_per_tensor, torch.quantize_per_channel and other quantized "
                "tensor creation functions that produce tensors with dtype torch.quint8, "
                "torch.qint8, and torch.qint32 are deprecated and will be removed in a future "
                "PyTorch release. Please see https://github.com/pytorch/pytorch/issues/184982 "
                "for more information.")
_warned = []


def _warn_deprecated():
    """PyTorch's warning on making a quantized tensor, once a process (TORCH_WARN_ONCE)."""
    if not _warned:
        _warned.append(True)
        _warn(_DEPRECATION, UserWarning, stacklevel=3)


def c_name(d) -> str:
    """A dtype's C++ ScalarType name as PyTorch's messages print it (Float, QInt8, ...)."""
    return _QUANTIZED.get(d.name) or _dtype._SHORT.get(d.name, d.name)


def _check_quantized_dtype(dtype):
    """RuntimeError unless dtype is one of the quantized dtypes a tensor can hold."""
    if dtype is None or dtype.name not in _QUANTIZED:
        name = "Float" if dtype is None else c_name(dtype)
        raise RuntimeError(f"ScalarType {name} is not supported in new_qtensor.")


class QuantizedTensor(Tensor):
    """A tensor of quantized integers and its quantizer's parameters (NOTE [A quantized tensor
    is a Tensor subclass holding its integers])."""

    __slots__ = ("_qint", "_qdtype", "_qscheme", "_qscale", "_qzero_point", "_qscales",
                 "_qzero_points", "_qaxis")

    @classmethod
    def _make_quantized(cls, ints, dtype, scheme, scale=None, zero_point=None, axis=None):
        """Wrap an integer array with per-tensor (scale: float, zero_point: int) or
        per-channel (scale, zero_point: arrays, axis) parameters, unchecked."""
        t = object.__new__(cls)
        t._qint, t._qdtype, t._qscheme = ints, dtype, scheme
        if axis is None:
            t._qscale, t._qzero_point = float(scale), int(zero_point)
            t._qscales = t._qzero_points = None
        else:
            t._qscale = t._qzero_point = None
            t._qscales, t._qzero_points, t._qaxis = scale, zero_point, int(axis)
        t._requires_grad, t._grad, t.grad_fn, t._output_nr = False, None, None, 0
        t._version_counter, t._base, t._view_fn = _Version(), None, None
        t._hooks = t._accumulator = None
        return t

    def _like(self, ints, axis=None):
        """A quantized tensor of these integers with self's dtype and parameters."""
        if self._qscales is None:
            return QuantizedTensor._make_quantized(ints, self._qdtype, self._qscheme,
                                                   self._qscale, self._qzero_point)
        return QuantizedTensor._make_quantized(ints, self._qdtype, self._qscheme, self._qscales,
                                               self._qzero_points,
                                               self._qaxis if axis is None else axis)

    # ---- metadata ---------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._qint.shape)

    def size(self, dim=None):
        """The shape, or one dimension of it (matches `torch.Tensor.size`)."""
        if dim is None:
            return Size(self._qint.shape)
        return self._qint.shape[_wrap_dim(dim, self._qint.ndim)]

    def dim(self) -> int:
        return self._qint.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._qint.ndim

    def numel(self) -> int:
        return int(self._qint.size)

    nelement = numel

    def __len__(self):
        if not self._qint.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self._qint.shape[0]

    @property
    def dtype(self):
        return self._qdtype

    @property
    def is_quantized(self) -> bool:
        return True

    def element_size(self) -> int:
        return self._qint.itemsize

    def stride(self, dim=None):
        """The strides of the integers, in elements (matches `Tensor.stride`)."""
        strides = tuple(s // self._qint.itemsize for s in self._qint.strides)
        return strides if dim is None else strides[_wrap_dim(dim, self._qint.ndim)]

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._qint.flags.c_contiguous)

    # ---- the quantizer ----------------------------------------------------------------------
    def qscheme(self):
        """The quantization scheme (matches `Tensor.qscheme`)."""
        return self._qscheme

    def _per_tensor(self, what):
        """what, or PyTorch's error when self is quantized per channel."""
        if self._qscales is not None:
            raise RuntimeError("Expected quantizer->qscheme() == kPerTensorAffine to be true, "
                               "but got false.  (Could this error message be improved?  If so, "
                               "please report an enhancement request to PyTorch.)")
        return what

    def _per_channel(self, what):
        """what, or PyTorch's error when self is quantized per tensor."""
        if self._qscales is None:
            raise RuntimeError(
                "Expected quantizer->qscheme() == kPerChannelAffine || quantizer->qscheme() == "
                "kPerChannelAffineFloatQParams to be true, but got false.  (Could this error "
                "message be improved?  If so, please report an enhancement request to PyTorch.)")
        return what

    def q_scale(self) -> float:
        """The scale of a per-tensor quantized tensor (matches `Tensor.q_scale`)."""
        return self._per_tensor(self._qscale)

    def q_zero_point(self) -> int:
        """The zero point of a per-tensor quantized tensor (matches `Tensor.q_zero_point`)."""
        return self._per_tensor(self._qzero_point)

    def q_per_channel_scales(self):
        """The per-channel scales: float64, or float32 with float qparams."""
        return Tensor._make(self._per_channel(self._qscales).copy())

    def q_per_channel_zero_points(self):
        """The per-channel zero points: int64, or float32 with float qparams."""
        return Tensor._make(self._per_channel(self._qzero_points).copy())

    def q_per_channel_axis(self) -> int:
        """The channel axis of a per-channel quantized tensor."""
        return self._per_channel(self._qaxis)

    def int_repr(self):
        """The stored integers as an int8 / uint8 / int32 tensor (matches `Tensor.int_repr`)."""
        return Tensor._make(self._qint.copy())

    def dequantize(self):
        """The float32 values the integers stand for (matches `Tensor.dequantize`)."""
        return Tensor._make(self._dequantized())

    def _dequantized(self):
        """The float32 array of the dequantized values."""
        if self._qscales is None:
            return arith.dequantize_per_tensor(self._qint, self._qscale, self._qzero_point)
        return arith.dequantize_per_channel(
            self._qint, self._qscales, self._qzero_points, self._qaxis,
            self._qscheme is per_channel_affine_float_qparams)

    # ---- copies and views -------------------------------------------------------------------
    def clone(self, *, memory_format=None):
        return self._like(self._qint.copy())

    def detach(self):
        return self._like(self._qint)

    def contiguous(self, memory_format=None):
        return self if self._qint.flags.c_contiguous else self._like(xp.ascontiguousarray(
            self._qint))

    def __deepcopy__(self, memo):
        new = memo[id(self)] = self.clone()
        return new

    def __reduce_ex__(self, protocol):
        """Pickle as the integers and the quantizer's parameters (`_rebuild_quantized`)."""
        params = (self._qscale, self._qzero_point) if self._qscales is None else (
            self._qscales, self._qzero_points, self._qaxis)
        return (_rebuild_quantized, (self._qint, self._qdtype.name, self._qscheme.name, params))

    def _views_per_tensor(self, name):
        """NotImplementedError for views ember has only for per-tensor quantization."""
        if self._qscales is not None:
            raise NotImplementedError(f"ember: {name} of a per-channel quantized tensor")

    def reshape(self, *shape):
        self._views_per_tensor("reshape")
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return self._like(self._qint.reshape(shape))

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        self._views_per_tensor("flatten")
        shape = self._qint.shape
        start, end = _wrap_dim(start_dim, max(len(shape), 1)), _wrap_dim(end_dim, max(len(shape),
                                                                                       1))
        merged = int(xp.prod(shape[start:end + 1], dtype=xp.int64)) if shape else 1
        return self._like(self._qint.reshape(shape[:start] + (merged,) + shape[end + 1:]))

    def permute(self, *dims):
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        if self._qscales is not None:
            raise RuntimeError("Setting strides is possible only on uniformly quantized tensor")
        dims = tuple(_wrap_dim(d, self._qint.ndim) for d in dims)
        return self._like(self._qint.transpose(dims))

    def transpose(self, dim0, dim1):
        order = list(range(self._qint.ndim))
        a, b = _wrap_dim(dim0, self._qint.ndim), _wrap_dim(dim1, self._qint.ndim)
        order[a], order[b] = order[b], order[a]
        return self.permute(order)

    def t(self):
        if self._qint.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self._qint.ndim}D")
        return self.permute(tuple(range(self._qint.ndim))[::-1])

    def __getitem__(self, index):
        self._views_per_tensor("indexing")
        return self._like(self._qint[index])

    # ---- conversions and printing -----------------------------------------------------------
    def numpy(self, *, force=False):
        raise TypeError(f"Got unsupported ScalarType {c_name(self._qdtype)}")

    def tolist(self):
        raise RuntimeError("load_scalar: invalid type")

    def __repr__(self, *, tensor_contents=None):
        """`tensor([...], size=(...), dtype=torch.qint8, quantization_scheme=..., scale=...,
        zero_point=...)` as PyTorch prints a quantized tensor: the dequantized values."""
        indent = len("tensor(")
        suffixes = [f"size={tuple(self._qint.shape)}", f"dtype={self._qdtype}",
                    f"quantization_scheme={self._qscheme}"]
        if self._qscales is None:
            suffixes += [f"scale={self._qscale!r}", f"zero_point={self._qzero_point}"]
        else:
            suffixes += [f"scale={self.q_per_channel_scales()!r}",
                         f"zero_point={self.q_per_channel_zero_points()!r}",
                         f"axis={self._qaxis}"]
        body = tensor_contents if tensor_contents is not None else _tensor_str(
            self._dequantized(), indent)
        return _add_suffixes("tensor(" + body, suffixes, indent)

    def __format__(self, spec):
        return object.__format__(self, spec) if spec else repr(self)


def _rebuild_quantized(ints, dtype_name, scheme_name, params):
    """A quantized tensor back from `QuantizedTensor.__reduce_ex__`'s parts (pickle, copy)."""
    scheme = globals()[scheme_name]
    return QuantizedTensor._make_quantized(ints, _dtype._BY_NAME[dtype_name], scheme, *params)


# ---- making quantized tensors ---------------------------------------------------------------
def _float_input(input, message):
    """input's float32 array; RuntimeError(message + dtype) when it is not float32."""
    if input.dtype is not _dtype.float32:
        raise RuntimeError(message + c_name(input.dtype))
    return input._data


def _check_zero_point(fn_name, zero_point, dtype):
    """PyTorch's range check of a zero point against the dtype's integers."""
    qmin, qmax = arith.qrange(dtype.name)
    if zero_point > qmax:
        raise RuntimeError(f"{fn_name} zero_point {zero_point} is above upper bound.")
    if zero_point < qmin:
        raise RuntimeError(f"{fn_name} zero_point {zero_point} is below lower bound.")


def _number(value, cast):
    """A scale or zero point given as a number or a one-element tensor."""
    return cast(value.item()) if isinstance(value, Tensor) else cast(value)


@torch_function()
def quantize_per_tensor(input, scale, zero_point, dtype):
    """input (float32) quantized with one scale and zero point to dtype (matches
    `torch.quantize_per_tensor`); a list of tensors takes tensors of scales and zero points."""
    if isinstance(input, (list, tuple)):
        scales, zero_points = scale._data.reshape(-1), zero_point._data.reshape(-1)
        return [quantize_per_tensor(t, float(s), int(z), dtype)
                for t, s, z in zip(input, scales.tolist(), zero_points.tolist())]
    _check_quantized_dtype(dtype)
    scale, zero_point = _number(scale, float), _number(zero_point, int)
    array = _float_input(input, "Quantize only works on Float Tensor, got ")
    _check_zero_point("quantize_tensor_per_tensor_affine", zero_point, dtype)
    _warn_deprecated()
    ints = arith.quantize_per_tensor(array, scale, zero_point, dtype.name)
    return QuantizedTensor._make_quantized(ints, dtype, per_tensor_affine, scale, zero_point)


@torch_function()
def quantize_per_channel(input, scales, zero_points, axis, dtype):
    """input (float32) quantized with scales[c] and zero_points[c] along axis (matches
    `torch.quantize_per_channel`); float zero points give `per_channel_affine_float_qparams`."""
    _check_quantized_dtype(dtype)
    _check_channel_params(input, scales, zero_points, axis)
    float_qparams = zero_points.dtype.is_floating_point
    if input.dtype is not _dtype.float32:
        raise RuntimeError("quantize_tensor_per_channel_affine expects a Float Tensor, got "
                           + c_name(input.dtype))
    _warn_deprecated()
    if float_qparams:
        s, z = scales._data.astype(xp.float32), zero_points._data.astype(xp.float32)
        ints = arith.quantize_per_channel_float_qparams(input._data, s, z, axis, dtype.name)
        scheme = per_channel_affine_float_qparams
    else:
        s, z = scales._data.astype(xp.float64), zero_points._data.astype(xp.int64)
        for value in z.tolist():
            _check_zero_point("quantize_tensor_per_channel_affine", value, dtype)
        ints = arith.quantize_per_channel(input._data, s, z, axis, dtype.name)
        scheme = per_channel_affine
    return QuantizedTensor._make_quantized(ints, dtype, scheme, s, z, axis)


def _check_channel_params(input, scales, zero_points, axis):
    """PyTorch's checks of per-channel scales, zero points and axis against input."""
    if scales.dim() != 1:
        raise RuntimeError("scale tensor must have dimension 1")
    if zero_points.dim() != 1:
        raise RuntimeError("zero_points tensor must have dimension 1")
    if scales.numel() != zero_points.numel():
        raise RuntimeError("number of elements in scales and zero_points must match")
    if not 0 <= axis < input.dim():
        raise RuntimeError(f"Channel axis out of range in per channel affine quantization. "
                           f"Got: {axis}Expected: [0, {input.dim()})")
    if input.shape[axis] != scales.numel():
        raise RuntimeError(f"length of scales must equal to channel, expected "
                           f"{input.shape[axis]} got, {scales.numel()}")


@torch_function()
def quantize_per_tensor_dynamic(input, dtype, reduce_range):
    """input quantized per tensor with a scale and zero point chosen from its min and max
    (matches `torch.quantize_per_tensor_dynamic`); float16 is a plain conversion."""
    if dtype is _dtype.float16:
        return input.contiguous().to(_dtype.float16)
    if dtype not in (_dtype.qint8, _dtype.quint8):
        raise RuntimeError(f"dtype {c_name(dtype)}not supported")
    if input.numel() == 0:
        raise RuntimeError("min(): Expected reduction dim to be specified for input.numel() == "
                           "0. Specify the reduction dim with the 'dim' argument.")
    qmin, qmax = arith.qrange(dtype.name)
    x_min, x_max = float(input._data.min()), float(input._data.max())
    scale, zero_point = arith.choose_qparams(x_min, x_max, qmin, qmax, reduce_range)
    return quantize_per_tensor(input, scale, zero_point, dtype)


@torch_function()
def dequantize(input):
    """The float32 values of a quantized tensor, or of each of a list (matches
    `torch.dequantize`); a dense tensor is converted to float32."""
    if isinstance(input, (list, tuple)):
        return [dequantize(t) for t in input]
    return input.dequantize()


@torch_function()
def _make_per_tensor_quantized_tensor(input, scale, zero_point):
    """A quantized tensor over input's int8 / uint8 / int32 values, taken as they are."""
    dtype = _STORED_AS.get(input.dtype.name)
    if dtype is None:
        raise RuntimeError("Creation of quantized tensor requires quantized dtype like "
                           "torch.quint8")
    _warn_deprecated()
    return QuantizedTensor._make_quantized(input._data.copy(), dtype, per_tensor_affine,
                                           float(scale), int(zero_point))


@torch_function()
def _make_per_channel_quantized_tensor(input, scale, zero_point, axis):
    """A per-channel quantized tensor over input's integer values, taken as they are."""
    dtype = _STORED_AS.get(input.dtype.name)
    if dtype is None:
        raise RuntimeError("Creation of quantized tensor requires quantized dtype like "
                           "torch.quint8")
    _check_channel_params(input, scale, zero_point, axis)
    _warn_deprecated()
    return QuantizedTensor._make_quantized(
        input._data.copy(), dtype, per_channel_affine, scale._data.astype(xp.float64),
        zero_point._data.astype(xp.int64), axis)


_STORED_AS = {"int8": _dtype.qint8, "uint8": _dtype.quint8, "int32": _dtype.qint32}


@torch_function()
def _empty_affine_quantized(size, *, scale=1, zero_point=0, memory_format=None, dtype=None,
                            layout=None, device=None, pin_memory=False, requires_grad=False):
    """A per-tensor quantized tensor of this size, its integers zero (PyTorch leaves them
    uninitialised)."""
    if dtype is None or dtype.name not in _QUANTIZED:
        raise RuntimeError("Creation of quantized tensor requires quantized dtype like "
                           "torch.quint8")
    shape = tuple(size) if isinstance(size, (tuple, list)) else (size,)
    _warn_deprecated()
    return QuantizedTensor._make_quantized(xp.zeros(shape, dtype=dtype.numpy), dtype,
                                           per_tensor_affine, float(scale), int(zero_point))


def _reads_quantizer(name):
    """`torch.<name>(q)`: the method of a quantized tensor as a function."""

    def function(input):
        return getattr(input, name)()

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"`input.{name}()` (matches `torch.{name}`)."
    return function


def _dense_refusal(name):
    """`Tensor.<name>` of a dense tensor: PyTorch has no CPU kernel for it."""

    def method(self):
        raise NotImplementedError(
            f"Could not run 'aten::{name}' with arguments from the 'CPU' backend. This could be "
            f"because the operator doesn't exist for this backend, or was omitted during the "
            f"selective/custom build process (if using custom build).")

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Only for quantized tensors: a dense tensor raises (matches `Tensor.{name}`)."
    return method


for _name in ("int_repr", "q_scale", "q_zero_point", "q_per_channel_scales",
              "q_per_channel_zero_points", "q_per_channel_axis"):
    torch_function(_name)(_reads_quantizer(_name))
for _name in ("int_repr", "q_scale", "q_zero_point", "q_per_channel_scales",
              "q_per_channel_zero_points", "q_per_channel_axis", "qscheme"):
    tensor_method(_name)(_dense_refusal(_name))


@tensor_method("dequantize")
def _dense_dequantize(self):
    """A dense tensor's dequantize: itself converted to float32 (matches `Tensor.dequantize`)."""
    return self.to(_dtype.float32)
