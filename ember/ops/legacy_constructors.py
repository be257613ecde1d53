"""The legacy constructors: `torch.Tensor(...)` (Tensor.__new__) and `x.new(...)`."""

from ember import _dtype
from ember._device import Size
from ember._registry import tensor_method
from ember._tensor import Tensor
from ember._torch_function import made_like_a_tensor
from ember.ops.creation import empty, tensor
from ember.ops.inplace import Alias, _same_array


@tensor_method("__new__")
def tensor_new(cls, *args, **kwargs):
    """`torch.Tensor(data)` / `torch.Tensor(2, 3)` / `torch.Tensor()`: a float tensor of data,
    of that shape (uninitialised), or empty; `torch.Tensor(t)`: an alias of t."""
    if cls is not Tensor:
        return made_like_a_tensor(cls, args)  # (a subclass: `MySubclass([1., 2.])`)
    if set(kwargs) - {"device"}:
        raise _legacy_constructor_error(args, kwargs)
    if not args:
        return empty(0)
    first = args[0]
    if len(args) == 1 and isinstance(first, Tensor):
        return Alias.apply(first)._as_view_of(first, _same_array)  # (torch's `alias()`)
    if len(args) == 1 and not isinstance(first, (int, Size)):  # a Size is sizes, as torch
        _check_sequence(first)
        return tensor(first, dtype=_dtype.get_default_dtype())
    return empty(*args)


def _check_sequence(data) -> None:
    """torch's TypeError for legacy-constructor data that is not a sequence (PySequence_Check:
    a type with __getitem__ that is not a dict; strings are refused as data)."""
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if isinstance(data, dict) or not hasattr(type(data), "__getitem__"):
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")


def _legacy_constructor_error(args, kwargs):
    """torch's TypeError for `torch.Tensor(...)` given keywords other than device."""
    got = ", ".join([type(a).__name__ for a in args]
                    + [f"{k}={'torch.dtype' if isinstance(v, _dtype.dtype) else type(v).__name__}"
                       for k, v in kwargs.items()])
    wrong = ", ".join(k for k in kwargs if k != "device")
    return TypeError(
        f"new() received an invalid combination of arguments - got ({got}), but expected one "
        f"of:\n * (*, torch.device device = None)\n      didn't match because some of the "
        f"keywords were incorrect: {wrong}\n * (torch.Storage storage)\n * (Tensor other)\n"
        f" * (tuple of ints size, *, torch.device device = None)\n"
        f" * (object data, *, torch.device device = None)\n")


@tensor_method("new")
def tensor_legacy_new(self, *args, **kwargs):
    """The legacy constructor `x.new(data)` / `x.new(2, 3)`: a tensor of self's dtype."""
    if len(args) == 1 and not isinstance(args[0], (int, Size)):  # x.new(x.size()): sizes
        if not isinstance(args[0], Tensor):
            _check_sequence(args[0])
        return tensor(args[0], dtype=self.dtype)
    return empty(*args, dtype=self.dtype) if args else empty(0, dtype=self.dtype)
