"""Parameter and Buffer: tensors that a Module registers when they are assigned to it.

A Parameter is a leaf Tensor that requires grad by default and shares its data's memory;
assigning one to a Module attribute adds it to `module.parameters()`. A Buffer is the same for
state that is not learned (running means): assigning one registers it with `register_buffer`.
"""

from ember._backend import xp
from ember import _dtype
from ember._tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a module parameter (matches `torch.nn.Parameter`)."""

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            array = xp.empty((0,), dtype=_dtype.get_default_dtype().numpy)
        elif isinstance(data, Tensor):
            array = data._data
        else:
            raise TypeError(
                f"Parameter.__new__() expected a Tensor for data, got {type(data).__name__}")
        param = cls._make(array)
        if isinstance(data, Tensor):
            param._version = data._version  # shares memory with `data`, so shares the version
        param.requires_grad = requires_grad
        return param

    def __init__(self, data=None, requires_grad: bool = True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data.copy(), self._requires_grad))


def _rebuild_parameter(array, requires_grad):
    return Parameter(Tensor._make(array), requires_grad)


class Buffer(Tensor):
    """A Tensor that a Module registers as a buffer when assigned (matches `torch.nn.Buffer`).

    Assigning `module.x = Buffer(t)` registers the plain tensor `t` (the Buffer is only a
    marker, as in PyTorch), persistent unless `persistent=False`.
    """

    def __new__(cls, data=None, *, persistent: bool = True):
        if data is None:
            data = Tensor._make(xp.empty((0,), dtype=_dtype.get_default_dtype().numpy))
        buffer = cls._make(data._data, data._requires_grad)
        buffer._version = data._version
        buffer.persistent = persistent
        return buffer

    def __init__(self, data=None, *, persistent: bool = True):
        pass


def is_lazy(param) -> bool:
    """Whether `param` is an uninitialized (lazy) parameter; ember has none."""
    return False
