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

import warnings
import weakref

import numpy as np

from ember import _dtype
from ember._device import CPU, Size, check_device, device
from ember.autograd import grad_mode

_state = grad_mode._state


class _Version:
    """A version counter, shared by a tensor and its views; in-place ops bump it."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


class Tensor:
    """A multi-dimensional array with autograd (matches `torch.Tensor`)."""

    __slots__ = ("_data", "_requires_grad", "grad", "grad_fn", "_output_nr", "_version",
                 "_base", "_view_fn", "_hooks", "_accumulator", "__weakref__")

    __array_priority__ = 1000  # NumPy defers to Tensor's reflected operators

    def __new__(cls, *args, **kwargs):
        # Tensor(data) / Tensor(2, 3) as in torch.Tensor: float tensor of data or of that shape.
        if cls is Tensor and args:
            from ember.ops import creation

            if len(args) == 1 and not isinstance(args[0], int):
                return creation.tensor(args[0], dtype=_dtype.get_default_dtype())
            return creation.empty(*args)
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    @classmethod
    def _make(cls, array, requires_grad=False):
        """Wrap an ndarray without copying or checking (the fast path every op uses)."""
        t = object.__new__(cls)
        t._data = array
        t._requires_grad = requires_grad
        t.grad = None
        t.grad_fn = None
        t._output_nr = 0
        t._version = _Version()
        t._base = None
        t._view_fn = None
        t._hooks = None
        t._accumulator = None
        return t

    # ---- metadata -----------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape, or one dimension of it (matches `torch.Tensor.size`)."""
        if dim is None:
            return Size(self._data.shape)
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
        return "torch.strided"

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

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_complex(self) -> bool:
        return False

    def stride(self, dim=None):
        """Strides in elements, as PyTorch reports them."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_wrap_dim(dim, self._data.ndim)]

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

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
        if value and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True):
        """Set requires_grad in place and return self (matches `torch.Tensor.requires_grad_`)."""
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

    def register_hook(self, hook):
        """Call hook(grad) when this tensor's gradient is computed; it may return a new grad."""
        if not self._requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that doesn't require gradient")
        from ember.autograd.function import _RemovableHandle

        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node._tensor_pre_hooks is None:
                node._tensor_pre_hooks = {}
            hooks = node._tensor_pre_hooks.setdefault(self._output_nr, [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def _gradient_edge(self):
        from ember.autograd.engine import gradient_edge

        return gradient_edge(self)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's .grad (matches `Tensor.backward`)."""
        from ember import autograd

        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        """A tensor sharing this one's data, cut from the graph (matches `Tensor.detach`)."""
        out = Tensor._make(self._data)
        out._version = self._version
        return out

    def detach_(self):
        """Cut this tensor from the graph in place."""
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        """The values without autograd history (shares memory)."""
        return self.detach()

    @data.setter
    def data(self, value):
        self._data = value._data

    # ---- conversion -----------------------------------------------------------------------
    def numpy(self, *, force: bool = False):
        """The values as an ndarray sharing memory (matches `Tensor.numpy`)."""
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def item(self):
        """The value of a one-element tensor as a Python number (matches `Tensor.item`)."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def __complex__(self):
        return complex(self.item())

    def to(self, *args, **kwargs):
        """Convert dtype and/or device (CPU only) (matches `Tensor.to`)."""
        dtype = kwargs.get("dtype")
        copy = kwargs.get("copy", False)
        check_device(kwargs.get("device"))
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, _dtype.dtype):
                dtype = arg
            elif isinstance(arg, (str, device, int)):
                check_device(arg)
            elif arg in (float, int, bool):
                dtype = _dtype.to_dtype(arg)
        if dtype is None or dtype is self.dtype:
            return self.clone() if copy else self
        from ember.ops import elementwise

        return elementwise.cast(self, dtype)

    def type(self, dtype=None):
        """With no argument, the type name ('torch.FloatTensor'); otherwise convert."""
        if dtype is None:
            from ember.autograd.function import _type_name

            return _type_name(self)
        if isinstance(dtype, str):
            names = {"torch.FloatTensor": _dtype.float32, "torch.DoubleTensor": _dtype.float64,
                     "torch.LongTensor": _dtype.int64, "torch.IntTensor": _dtype.int32,
                     "torch.HalfTensor": _dtype.float16, "torch.ByteTensor": _dtype.uint8,
                     "torch.BoolTensor": _dtype.bool, "torch.CharTensor": _dtype.int8,
                     "torch.ShortTensor": _dtype.int16}
            dtype = names[dtype]
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def half(self):
        return self.to(_dtype.float16)

    def long(self):
        return self.to(_dtype.int64)

    def int(self):
        return self.to(_dtype.int32)

    def short(self):
        return self.to(_dtype.int16)

    def char(self):
        return self.to(_dtype.int8)

    def byte(self):
        return self.to(_dtype.uint8)

    def bool(self):
        return self.to(_dtype.bool)

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        check_device("cuda")

    def pin_memory(self):
        return self

    def is_pinned(self):
        return False

    def share_memory_(self):
        return self

    def is_shared(self):
        return False

    def clone(self, *, memory_format=None):
        """A copy that stays in the graph (matches `Tensor.clone`)."""
        from ember.ops import elementwise

        return elementwise.clone(self)

    def contiguous(self, memory_format=None):
        if self._data.flags.c_contiguous:
            return self
        return self.clone()

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from ember.ops import creation

        return creation.tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        from ember.ops import creation

        return creation.zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        from ember.ops import creation

        return creation.ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        from ember.ops import creation

        return creation.empty(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from ember.ops import creation

        return creation.full(size, fill_value, dtype=dtype or self.dtype,
                             requires_grad=requires_grad)

    # ---- printing -----------------------------------------------------------------------------
    def __repr__(self, *, tensor_contents=None):
        from ember import _tensor_str

        return _tensor_str.tensor_repr(self, tensor_contents=tensor_contents)

    def __format__(self, spec):
        # PyTorch formats a 0-d tensor as its Python number: "{}".format(loss) -> "0.25".
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec) if spec else str(self)

    def __hash__(self):
        return id(self)

    def __reduce_ex__(self, protocol):
        from ember.serialization import _reduce_tensor

        return _reduce_tensor(self)

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.")
        new = type(self)._make(self._data.copy(), self._requires_grad)
        if type(self) is not Tensor:
            new.__dict__.update(self.__dict__)
        if self.grad is not None:
            new.grad = Tensor._make(self.grad._data.copy())
        memo[id(self)] = new
        return new

    # ---- in-place machinery -------------------------------------------------------------------
    def _check_inplace(self):
        if self._requires_grad and self.grad_fn is None and _state["enabled"]:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation.")
        if self._base is not None and _state["enabled"]:
            from ember.ops import indexing

            indexing.check_inplace_view(self)  # view of a leaf, output of split/unbind

    def _inplace_update(self, result):
        """Write `result` (already computed out of place) into self's memory; rebase history.

        NOTE [In-place ops and autograd]
        An in-place op computes its value out of place with the normal differentiable op, copies
        the values into this tensor's array (so views and aliases see them), bumps the version
        counter, and makes the out-of-place result's grad_fn this tensor's grad_fn. If this
        tensor is a view of a base that is part of a graph, the base's history is rewritten too:
        the base now comes from "old base with the view's region replaced by result".
        """
        self._check_inplace()
        if result.dtype is not self.dtype:
            if not _can_cast(result.dtype, self.dtype):
                raise RuntimeError(
                    f"result type {_short_name(result.dtype)} can't be cast to the desired "
                    f"output type {_short_name(self.dtype)}")
        if result.grad_fn is not None and result.grad_fn._saved and _state["enabled"]:
            _keep_saved_originals(result.grad_fn, self, result)
        if result._data is not self._data:
            np.copyto(self._data, result._data, casting="unsafe")
        self._version.value += 1
        in_graph = self._requires_grad or (self._base is not None and self._base._requires_grad)
        if not (_state["enabled"] and (result._requires_grad or in_graph)):
            return self
        from ember.ops import indexing

        if self._base is not None or not result._requires_grad:
            indexing.rebase_view_history(self, result)  # a view, or overwritten by a constant
        else:
            self.grad_fn = result.grad_fn
            self._output_nr = result._output_nr
            self._requires_grad = True
        return self

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
        self._version = source._version
        return self

    @property
    def is_view(self):
        return self._base is not None


def _keep_saved_originals(node, target, result):
    """Swap the tensors `node` saved that `target`'s coming in-place write would change for
    copies of their current values.

    NOTE [Saved inputs of an in-place op]
    `y.mul_(w)` computes `y * w` out of place; that Mul saved y (for w's gradient), and y is about
    to be overwritten. PyTorch saves a copy of the original `self` for such in-place ops, so their
    backward works; only tensors saved by *earlier* ops raise the version error. The node that
    produced the result is this op's own node, so its saved aliases of target are copied here.
    An op that saved its output (relu_) saves `target` from now on, at the version this write
    gives it, so a later in-place change of target is caught as in PyTorch.
    """
    saved = []
    for t, version in node._saved:
        if t is not None and t._version is target._version and version == t._version.value:
            original = Tensor._make(t._data.copy(), t._requires_grad)
            original.grad_fn, original._output_nr = t.grad_fn, t._output_nr
            saved.append((original, 0))
        elif t is result:  # an op saving its output (relu_, exp_) now saves the tensor it wrote
            saved.append((target, target._version.value + 1))
        else:
            saved.append((t, version))
    node._saved = tuple(saved)


def _short_name(d):
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}[d.name]


def _can_cast(source, target) -> bool:
    """PyTorch's in-place rule: a float result cannot go into an integer tensor, etc."""
    return _dtype._category(source) <= _dtype._category(target)


def _wrap_dim(dim, ndim):
    """A dim in [-ndim, ndim) turned non-negative; IndexError as PyTorch words it otherwise."""
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-size}, {size - 1}], but got "
            f"{dim})")
    return dim % size


wrap_dim = _wrap_dim
