"""PyTorch's legacy typed tensor classes (`torch.FloatTensor`, `torch.LongTensor`, ...), typed
storage classes (`torch.FloatStorage`, ...) and the small legacy helpers scripts still call
(`set_default_tensor_type`, `typename`, `Tensor.storage_type`).

NOTE [Legacy tensor types are dtype checks]
In PyTorch 2 every tensor is a `torch.Tensor`; `torch.FloatTensor` survives as a name that
builds float32 CPU tensors (`FloatTensor(2, 3)` uninitialised, `FloatTensor([1, 2])` from
data, `FloatTensor()` empty) and answers `isinstance(t, torch.FloatTensor)` by dtype. Here each
is a class whose metaclass does exactly that; no ember tensor is ever of these classes.
"""

from ember import _dtype
from ember._backend import xp
from ember._device import Size
from ember._registry import tensor_method
from ember._tensor import Tensor
from ember.ops.creation import empty, tensor
from ember.storage import TypedStorage, UntypedStorage, warn_typed_storage_removal


class _LegacyTensorType(type):
    """Metaclass: construction builds a tensor of the class's dtype; isinstance checks it."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __call__(cls, *args, device=None):
        """`FloatTensor(*sizes)`, `FloatTensor(Size)`, `FloatTensor(data)`, `FloatTensor()`."""
        if not args:
            return empty(0, dtype=cls.dtype, device=device)
        if len(args) == 1 and isinstance(args[0], Size):
            return empty(*args[0], dtype=cls.dtype, device=device)
        if all(type(a) is int for a in args):
            return empty(*args, dtype=cls.dtype, device=device)
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype is not cls.dtype:
                raise TypeError(f"expected TensorOptions(dtype={cls.dtype}) (got "
                                f"TensorOptions(dtype={args[0].dtype}))")
            return args[0]
        if len(args) == 1:
            return tensor(args[0], dtype=cls.dtype, device=device)
        raise TypeError(f"{cls.__name__}() received an invalid combination of arguments: "
                        f"{tuple(type(a).__name__ for a in args)}")

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"


def _legacy_type(name, dtype_name):
    return _LegacyTensorType(name, (), {"dtype": getattr(_dtype, dtype_name),
                                        "__module__": "torch", "is_cuda": False,
                                        "is_sparse": False})


_LEGACY = {"FloatTensor": "float32", "DoubleTensor": "float64", "HalfTensor": "float16",
           "LongTensor": "int64", "IntTensor": "int32", "ShortTensor": "int16",
           "CharTensor": "int8", "ByteTensor": "uint8", "BoolTensor": "bool",
           "BFloat16Tensor": "bfloat16"}
LEGACY_TYPES = {name: _legacy_type(name, dtype) for name, dtype in _LEGACY.items()}


class _LegacyStorageType(type):
    """Metaclass of `torch.FloatStorage` and its kin: construction builds a TypedStorage of
    the class's dtype (PyTorch's constructor returns a TypedStorage too); isinstance checks
    the dtype."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, TypedStorage) and obj.dtype is cls.dtype

    def __call__(cls, *args, device=None):
        """`FloatStorage()`, `FloatStorage(size)`, `FloatStorage(sequence)`."""
        if len(args) > 1:
            raise TypeError(f"{cls.__name__}(): expected at most 1 argument, got {len(args)}")
        warn_typed_storage_removal()
        source = args[0] if args else 0
        if isinstance(source, int) and not isinstance(source, bool):
            elements = xp.zeros(source, dtype=cls.dtype.numpy)
        else:
            elements = xp.asarray(list(source), dtype=cls.dtype.numpy)
        return TypedStorage(UntypedStorage._of(elements), cls.dtype)

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"


_STORAGES = {"FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
             "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16",
             "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
             "BFloat16Storage": "bfloat16", "ComplexFloatStorage": "complex64",
             "ComplexDoubleStorage": "complex128"}
LEGACY_TYPES.update({name: _LegacyStorageType(name, (), {"dtype": getattr(_dtype, dtype),
                                                         "__module__": "torch"})
                     for name, dtype in _STORAGES.items()})
_STORAGE_OF = {LEGACY_TYPES[name].dtype: LEGACY_TYPES[name] for name in _STORAGES}


@tensor_method("storage_type")
def storage_type(self):
    """The legacy storage class of this tensor's dtype (matches `Tensor.storage_type`)."""
    return _STORAGE_OF[self.dtype]


def set_default_tensor_type(t) -> None:
    """Make t's dtype the default float dtype (matches the deprecated torch function)."""
    name = t if isinstance(t, str) else f"{t.__module__}.{t.__name__}"
    if name.startswith("torch.cuda."):
        raise TypeError(f"type {name} not available. Torch not compiled with CUDA enabled.")
    if isinstance(t, str):
        name = t.rpartition(".")[2]
        if name not in LEGACY_TYPES:
            raise TypeError(f"invalid type: '{t}'")
        t = LEGACY_TYPES[name]
    if not t.dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _dtype.set_default_dtype(t.dtype)


def typename(obj) -> str:
    """A tensor's type string (`torch.FloatTensor`) or an object's qualified class name."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = type(obj).__module__
    name = type(obj).__qualname__
    if module and module.partition(".")[0] == "ember":  # ember's classes stand for torch's
        module = "torch" + module[len("ember"):]
    return name if module in ("builtins", None) else f"{module}.{name}"


def is_storage(obj) -> bool:
    """Whether obj is a storage, typed or untyped (matches `torch.is_storage`)."""
    return isinstance(obj, (TypedStorage, UntypedStorage))
