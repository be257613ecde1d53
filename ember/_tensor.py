"""The Tensor: a NumPy array plus what autograd needs to know about it.

A Tensor holds its values in `_data` (an ndarray, C order, float32 by default) and, for autograd,
`grad_fn` (the node that made it, None for leaves), `_output_nr` (which output of that node it
is), `grad`, and a version counter shared with its views so that an in-place change to a value
saved for backward is caught. Views (basic indexing, view, transpose, ...) share memory with
their base through NumPy views, and record `_base` and `_view_fn` (base array -> view array) so
an in-place op on a view can rewrite the base's history (see `_inplace_update`).

The op families in `ember.ops` attach their methods at the end of each module
(`Tensor.exp = exp`), so each op's function and method stand in one place; this file holds no
math.
"""

import sys

from ember._warnings import warn as _warn
import weakref

from ember import _dtype
from ember._grad_state import GRAD_STATE, _InferenceVersion
from ember._device import CPU, Size, check_device


_new_tuple = tuple.__new__
_new_object = object.__new__


class _Version:
    """A version counter, shared by a tensor and its views; in-place ops bump it."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


class memory_format:
    """How a tensor's elements are ordered in memory (matches `torch.memory_format`).

    NOTE [Memory formats]
    ember keeps PyTorch's logical (N, C, H, W) shape for every format; channels_last is a
    NumPy array of that shape whose strides are NHWC's (a transposed view of an NHWC copy), so
    `stride()` and `is_contiguous(memory_format=...)` report what PyTorch reports and NumPy's
    ufuncs, which keep their inputs' order, keep the format, as PyTorch's kernels do.
    """

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):
        return self.name  # pickles as the module-level instance


class layout:
    """How a tensor is stored: ember has only dense, strided tensors (matches `torch.layout`)."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):
        return self.name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
strided = layout("strided")
# the axis order (outermost first) in which each format lays out a 4-D / 5-D tensor
_FORMAT_ORDER = {channels_last: (0, 2, 3, 1), channels_last_3d: (0, 2, 3, 4, 1)}


def format_order(fmt, ndim):
    """The memory order of dims for a format; RuntimeError when the rank does not fit it."""
    order = _FORMAT_ORDER.get(fmt)
    if order is None:
        return tuple(range(ndim))
    if len(order) != ndim:
        raise RuntimeError(f"required rank {len(order)} tensor to use {fmt.name} format")
    return order


_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information. (Triggered internally at "
    "/__w/pytorch/pytorch/build/aten/src/ATen/core/TensorBody.h:493.)")
_SCALAR_CONVERSION = (
    "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
    "Consider using tensor.detach() first. (Triggered internally at "
    "/__w/pytorch/pytorch/torch/csrc/autograd/generated/python_variable_methods.cpp:822.)")
_SCALAR_CONVERSION_WARNED = [False]


def _warn_non_leaf_grad(tensor):
    """torch warns (each time) on reading the unset .grad of a non-leaf that retains none."""
    if not tensor.retains_grad:  # (ember's own code reads the field, `_grad`)
        _warn(_NON_LEAF_GRAD, UserWarning, stacklevel=3)


def _warn_scalar_conversion(tensor):
    """float()/complex() of a tensor requiring grad, in grad mode: torch's TORCH_WARN_ONCE (one
    flag for both; every time under set_warn_always(True), without using up the once)."""
    if not (tensor.requires_grad and GRAD_STATE["enabled"]):
        return
    # torch.set_warn_always's flag, kept by ember/ops/aten_utilities.py (which imports this module)
    if not sys.modules["ember.ops.aten_utilities"]._WARN_ALWAYS["enabled"]:
        if _SCALAR_CONVERSION_WARNED[0]:
            return
        _SCALAR_CONVERSION_WARNED[0] = True
    _warn(_SCALAR_CONVERSION, UserWarning, stacklevel=3)


class Tensor:
    """A multi-dimensional array with autograd (matches `torch.Tensor`)."""

    __slots__ = ("_data", "_requires_grad", "_grad", "grad_fn", "_output_nr", "_version_counter",
                 "_base", "_view_fn", "_hooks", "_accumulator", "__weakref__",
                 "__dict__")  # (as torch's, a tensor takes attributes: `t.name = ...`)

    __array_priority__ = 1000  # NumPy defers to Tensor's reflected operators

    def __init__(self, *args, **kwargs):
        pass

    @classmethod
    def _make(cls, array, requires_grad=False):
        """Wrap an ndarray without copying or checking (the fast path every op uses)."""
        t = _new_object(cls)
        t._data = array
        t._requires_grad = requires_grad
        t._grad = None
        t.grad_fn = None
        t._output_nr = 0
        # (no __init__ call: ops make many tensors; NOTE [Inference tensors])
        version = _new_object(_InferenceVersion if GRAD_STATE["inference"] else _Version)
        version.value = 0
        t._version_counter = version
        t._base = None
        t._view_fn = None
        t._hooks = None
        t._accumulator = None
        return t

    # ---- metadata -----------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return _new_tuple(Size, self._data.shape)  # NumPy's shape holds ints: no check needed

    def size(self, dim=None):
        """The shape, or one dimension of it (matches `torch.Tensor.size`)."""
        if dim is None:
            return _new_tuple(Size, self._data.shape)
        if not self._data.ndim:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self):
        return _dtype._BY_NUMPY[self._data.dtype]

    @property
    def device(self):
        return CPU

    @property
    def is_cuda(self):
        return False

    @property
    def is_cpu(self):
        return True

    @property
    def layout(self):
        return strided

    # ember's tensors are dense, strided, unquantized CPU tensors: PyTorch's other kinds and
    # devices answer False.
    is_sparse = is_sparse_csr = is_quantized = is_meta = is_mkldnn = is_nested = property(
        lambda self: False)
    is_xpu = is_mps = is_ipu = is_maia = is_mtia = is_vulkan = is_xla = property(
        lambda self: False)

    @property
    def volatile(self):
        """Removed from PyTorch long ago: always False."""
        return False

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has had (matches `Tensor._version`;
        the counter itself, shared with views, is `_version_counter`)."""
        if type(self._version_counter) is _InferenceVersion:
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._version_counter.value

    @property
    def grad(self):
        """The gradient accumulated by backward, or None (matches `Tensor.grad`)."""
        grad = self._grad
        if grad is None and self.grad_fn is not None:
            _warn_non_leaf_grad(self)
        return grad

    @grad.setter
    def grad(self, value):
        # torch checks an assigned gradient against the tensor it belongs to.
        if type(value) is Tensor and value._data.shape == self._data.shape and \
                value._data.dtype == self._data.dtype:
            self._grad = value  # the engine's common case, checked quickly
            return
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError("assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if tuple(value.shape) != tuple(self.shape):
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a "
                    f"tensor of size '{list(self.shape)}'. Please ensure that the gradient and "
                    "the tensor are the same size")
            if value.dtype != self.dtype:
                from ember.ops._util import C_TYPES  # (the C++ name, then c10's, as torch)
                raise RuntimeError(
                    "attempting to assign a gradient with dtype "
                    f"'{C_TYPES.get(value.dtype.name, value.dtype.name)}' to a tensor with "
                    f"grad_dtype '{short_name(self.dtype)}'. The gradient must match the "
                    "tensor's grad_dtype (defaults to the tensor's dtype). You can set the "
                    "tensor's grad_dtype attribute with a specific dtype, or None to allow any "
                    "dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and "
                    "its gradient may break downstream systems that assume they match.")
        self._grad = value

    @property
    def grad_dtype(self):
        """The dtype `.grad` must have: the tensor's own (matches `Tensor.grad_dtype`)."""
        return self.dtype

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        """Bytes per element (matches `Tensor.itemsize`)."""
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of the elements (matches `Tensor.nbytes`)."""
        return int(self._data.size * self._data.itemsize)

    def is_signed(self) -> bool:
        """Whether the dtype is signed (matches `Tensor.is_signed`)."""
        return self.dtype.is_signed

    def is_neg(self) -> bool:
        """ember has no lazy negation views (matches `Tensor.is_neg` for ordinary tensors)."""
        return False

    def is_inference(self) -> bool:
        """Whether the tensor was made in inference mode (NOTE [Inference tensors])."""
        return type(self._version_counter) is _InferenceVersion

    def is_distributed(self) -> bool:
        return False

    def is_nonzero(self) -> bool:
        """The truth of a one-element tensor (matches `Tensor.is_nonzero`)."""
        if self._data.size == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        return bool(self)

    def is_set_to(self, tensor) -> bool:
        """Whether both tensors view the same memory with the same shape and strides."""
        a, b = self._data, tensor._data
        return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
                and a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype)

    def dim_order(self) -> tuple:
        """The dims from outermost to innermost in memory (matches `Tensor.dim_order`)."""
        strides = self.stride()
        return tuple(sorted(range(self._data.ndim), key=lambda d: -strides[d]))

    @property
    def output_nr(self) -> int:
        """Which output of its grad_fn this tensor is (matches `Tensor.output_nr`)."""
        return self._output_nr

    @property
    def name(self):
        """ember has no named tensors: None, as for PyTorch's unnamed ones."""
        return None

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_complex(self) -> bool:
        return self.dtype.is_complex

    def stride(self, dim=None):
        """Strides in elements, as PyTorch reports them."""
        if self._data.size == 0:  # NumPy gives empty arrays zero strides; PyTorch C order
            strides, step = [], 1
            for n in reversed(self._data.shape):
                strides.insert(0, step)
                step *= max(n, 1)
            strides = tuple(strides)
        else:
            strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_wrap_dim(dim, self._data.ndim)]

    def is_contiguous(self, memory_format=contiguous_format) -> bool:
        """Whether the strides are those of `memory_format` (matches `Tensor.is_contiguous`).

        Dims of size 1 do not count, as in PyTorch; a rank that does not fit channels_last
        is simply not in that format.
        """
        if memory_format in (contiguous_format, preserve_format, None):
            return bool(self._data.flags.c_contiguous)
        if len(_FORMAT_ORDER[memory_format]) != self._data.ndim:
            return False
        order = format_order(memory_format, self._data.ndim)
        expected, step = [0] * self._data.ndim, 1
        for axis in reversed(order):
            expected[axis] = step
            step *= self._data.shape[axis]
        return all(size == 1 or stride == want for size, stride, want in
                   zip(self._data.shape, self.stride(), expected))

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    const_data_ptr = data_ptr

    def get_device(self) -> int:
        return -1

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ---- autograd attributes ------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if self.grad_fn is not None and not value:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if value and not (self.dtype.is_floating_point or self.dtype.is_complex):
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients")
        if value and not GRAD_STATE["inference"] and self.is_inference():
            raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                               "InferenceMode is not allowed.")
        self._requires_grad = bool(value)

    def _require_grad_as_new(self) -> None:
        """requires_grad = True on a new tensor: an integer/bool one refused in a factory's
        words (factories and Parameter word it with a capital, unlike the setter)."""
        if not (self.dtype.is_floating_point or self.dtype.is_complex):
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients")
        self._requires_grad = True

    def requires_grad_(self, requires_grad: bool = True):
        """Set requires_grad in place and return self (matches `torch.Tensor.requires_grad_`)."""
        # torch's requires_grad_ words its refusal without "and complex" (the setter has it)
        if requires_grad and not (self.dtype.is_floating_point or self.dtype.is_complex):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def retains_grad(self) -> bool:
        node = self.grad_fn
        return bool(node is not None and node._retains_grad and self._output_nr in
                    node._retains_grad)

    def retain_grad(self):
        """Keep .grad for this non-leaf tensor after backward (matches `Tensor.retain_grad`)."""
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        node = self.grad_fn
        if node._retains_grad is None:
            node._retains_grad = {}
        node._retains_grad[self._output_nr] = weakref.ref(self)

    def detach(self):
        """A tensor sharing this one's data, cut from the graph (matches `Tensor.detach`)."""
        out = Tensor._make(self._data)
        out._version_counter = self._version_counter
        return out

    def detach_(self):
        """Cut this tensor from the graph in place; a view is refused, as in PyTorch."""
        if self._base is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        """The values without autograd history (shares memory)."""
        return self.detach()

    @data.setter
    def data(self, value):
        if self._requires_grad and value._data.dtype.kind not in "fcV":  # (V: bfloat16)
            raise RuntimeError("data set to a tensor that requires gradients must be floating "
                               "point or complex dtype")
        self._data = value._data

    # ---- conversion -----------------------------------------------------------------------
    def numpy(self, *, force: bool = False):
        """The values as an ndarray sharing memory (matches `Tensor.numpy`: refused for a
        tensor that requires grad while grad mode is on)."""
        if self._requires_grad and not force and GRAD_STATE["enabled"]:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        if self._data.dtype.type.__module__ != "numpy":  # (bfloat16, float8: ml_dtypes')
            name = self.dtype.name
            raise TypeError(f"Got unsupported ScalarType {_dtype._SHORT.get(name, name)}")
        return self._data

    def __array__(self, dtype=None, copy=None):
        """`np.asarray(t)`: torch's `self.numpy()` (its errors), cast to dtype if given."""
        array = self.numpy()
        return array if dtype is None else array.astype(dtype, copy=False)

    def item(self):
        """The value of a one-element tensor as a Python number (matches `Tensor.item`)."""
        try:
            data = self._data
        except AttributeError:  # `Tensor.item(1.5)`: PyTorch's descriptor refuses a non-tensor
            raise TypeError(f"descriptor 'item' for 'torch._C.TensorBase' objects doesn't apply "
                            f"to a '{type(self).__name__}' object") from None
        if data.size != 1:
            raise RuntimeError(f"a Tensor with {data.size} elements cannot be converted to Scalar")
        return data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self):
        _warn_scalar_conversion(self)
        return float(self._single_value())

    def __int__(self):
        return int(self._single_value())

    def _single_value(self):
        """The one element of a one-element tensor, for int(), float() and complex() (a ValueError
        otherwise, as torch gives there, where item() raises RuntimeError)."""
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __index__(self):
        if self.dtype.is_floating_point or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with "
                               f"{'no values' if self._data.size == 0 else 'more than one value'}"
                               " is ambiguous")
        return bool(self._data.reshape(()))

    def __complex__(self):
        _warn_scalar_conversion(self)
        return complex(self._single_value())

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        check_device("cuda")

    def pin_memory(self, device=None):
        """Page-locked memory needs an accelerator: a CPU-only build refuses (matches torch)."""
        raise RuntimeError("Cannot access accelerator device when none is available.")

    def is_pinned(self):
        return False

    # ---- printing -----------------------------------------------------------------------------
    def __format__(self, spec):
        # PyTorch formats a 0-d tensor as its Python number: "{}".format(loss) -> "0.25".
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec) if spec else str(self)

    def __hash__(self):
        return id(self)

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.  If you were attempting to deepcopy a module, this may "
                "be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001")
        new = type(self)._make(self._data.copy(), self._requires_grad)
        new.__dict__.update(self.__dict__)
        if self.grad is not None:
            new.grad = Tensor._make(self.grad._data.copy())
        memo[id(self)] = new
        return new

    # ---- views ------------------------------------------------------------------------------
    def _as_view_of(self, source, view_fn):
        """Mark self as a view of `source` produced by view_fn(array); share the version."""
        base = source._base if source._base is not None else source
        if source._base is not None:
            outer = source._view_fn
            self._view_fn = lambda array: view_fn(outer(array))
        else:
            self._view_fn = view_fn
        self._base = base
        self._version_counter = source._version_counter
        if source._requires_grad and not GRAD_STATE["enabled"]:  # NOTE [No-grad views]
            self._requires_grad = True
        return self


def type_name(t) -> str:
    """The legacy type name of a tensor, as `Tensor.type()` gives it: 'torch.FloatTensor'."""
    return f"torch.{short_name(t.dtype)}Tensor"


def short_name(d):
    """PyTorch's short dtype names in messages: Float, Double, Long, ..."""
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
            "bfloat16": "BFloat16", "uint16": "UInt16", "uint32": "UInt32",
            "uint64": "UInt64"}[d.name]


def _wrap_dim(dim, ndim):
    """A dim in [-ndim, ndim) turned non-negative; IndexError as PyTorch words it otherwise."""
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-size}, {size - 1}], but got "
            f"{dim})")
    return dim % size


wrap_dim = _wrap_dim
