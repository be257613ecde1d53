"""Parameter and Buffer: tensors that a Module registers when they are assigned to it.

A Parameter is a leaf Tensor that requires grad by default and shares its data's memory;
assigning one to a Module attribute adds it to `module.parameters()`. A Buffer is the same for
state that is not learned (running means): assigning one registers it with `register_buffer`.
"""

from ember._backend import xp
from ember import _dtype
from ember._tensor import Tensor
from ember.autograd.array_recording import RECORDED_CLASSES
from ember.overrides import DisableTorchFunctionSubclass, _disabled_torch_function_impl


class Parameter(Tensor):
    """A Tensor that is a module parameter (matches `torch.nn.Parameter`)."""

    __torch_function__ = _disabled_torch_function_impl  # never dispatches, as torch's

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            array = xp.empty((0,), dtype=_dtype.get_default_dtype().numpy)
        elif isinstance(data, Tensor):
            array = data._data
        else:  # (torch calls data.detach() on what is not a Tensor)
            raise AttributeError(f"'{type(data).__name__}' object has no attribute 'detach'")
        param = cls._make(array)
        if isinstance(data, Tensor):
            # shares memory with `data`, so shares the version
            param._version_counter = data._version_counter
        if requires_grad:
            param._require_grad_as_new()
        return param

    def __init__(self, data=None, requires_grad: bool = True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data.copy(), self._requires_grad))


RECORDED_CLASSES.add(Parameter)  # (NOTE [Recording from arrays])


def _rebuild_parameter(array, requires_grad):
    return Parameter(Tensor._make(array), requires_grad)


class _BufferMeta(type):
    """`isinstance(t, Buffer)` is True for the tensors `Buffer(...)` marked (torch's)."""

    def __instancecheck__(cls, instance) -> bool:
        if cls is Buffer and isinstance(instance, Tensor) and getattr(instance, "_is_buffer",
                                                                      False):
            return True
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """A Tensor that a Module registers as a buffer when assigned (matches `torch.nn.Buffer`).

    As in PyTorch, `Buffer(t)` is a plain tensor (t detached, sharing its memory) marked as a
    buffer: `module.x = Buffer(t)` registers it, persistent unless `persistent=False`.
    """

    def __new__(cls, data=None, *, persistent: bool = True):
        if data is None:
            data = Tensor._make(xp.empty((0,), dtype=_dtype.get_default_dtype().numpy))
        buffer = data.detach().requires_grad_(data.requires_grad)
        buffer.persistent = persistent
        buffer._is_buffer = True
        return buffer


class UninitializedTensorMixin:
    """A parameter or buffer whose shape is not known yet: it has no data until `materialize`
    (used by the Lazy* modules; matches torch.nn.parameter's uninitialized tensors)."""

    cls_to_become = Tensor

    def materialize(self, shape, device=None, dtype=None):
        """Give this tensor uninitialised data of `shape` and make it a plain Parameter/tensor."""
        numpy_dtype = (dtype or self.dtype).numpy
        self._data = xp.empty(tuple(shape), dtype=numpy_dtype)
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually "
            "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
            "initialized one. Call `forward` to initialize the parameters before accessing their "
            "attributes.")

    def __repr__(self):
        return f"<{type(self).__name__}>"

    def __reduce_ex__(self, protocol):
        return (type(self), (self._requires_grad,))

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        """Only the allowed methods and property reads run on a tensor without data; any other
        use raises torch's ValueError."""
        if func in _allowed_methods() or func.__class__.__name__ == "method-wrapper":
            with DisableTorchFunctionSubclass():  # (what torch's disabled impl does)
                return func(*args, **(kwargs or {}))
        raise ValueError(
            f"Attempted to use an uninitialized parameter in {_torch_repr(func)}. This error "
            "happens when you are using a `LazyModule` or explicitly manipulating "
            f"`torch.nn.parameter.{cls.__name__}` objects. When using LazyModules Call `forward` "
            "with a dummy batch to initialize the parameters before calling torch functions")


def _allowed_methods():
    """torch's `UninitializedTensorMixin._allowed_methods`."""
    names = ("__hash__", "size", "copy_", "is_complex", "is_floating_point", "half", "float",
             "double", "char", "short", "int", "long", "cuda", "cpu", "to", "get_device")
    return [getattr(Tensor, name) for name in names]


def _torch_repr(func) -> str:
    """func as torch prints its C++ counterpart: a Tensor method or a torch function."""
    method = next((name for name, value in vars(Tensor).items() if value is func), None)
    if method is not None:
        return f"<method '{method}' of 'torch._C.TensorBase' objects>"
    name = getattr(func, "__name__", str(func))
    return f"<built-in method {name} of type object at {id(Tensor):#x}>"


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter of unknown shape (matches `torch.nn.parameter.UninitializedParameter`)."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        param = Parameter.__new__(cls, None, requires_grad)
        if dtype is not None:
            param._data = param._data.astype(dtype.numpy)
        return param

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer of unknown shape (matches `torch.nn.parameter.UninitializedBuffer`)."""

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        array = xp.empty((0,), dtype=(dtype or _dtype.get_default_dtype()).numpy)
        buffer = cls._make(array, requires_grad)
        buffer.persistent = persistent
        return buffer

    def __init__(self, *args, **kwargs):
        pass


def is_lazy(param) -> bool:
    """Whether param is an uninitialized (lazy) parameter or buffer."""
    return isinstance(param, UninitializedTensorMixin)
