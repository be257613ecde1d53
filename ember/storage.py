"""Storages: the memory a tensor views (matches `torch.storage`'s UntypedStorage / TypedStorage).

A tensor's storage is the outermost NumPy array its data is a view of, so two tensors share a
storage exactly when they share memory: libraries such as safetensors find tied weights by
comparing `t.untyped_storage().data_ptr()`. ember keeps no storage object per tensor; one is
made on request and views the same bytes.
"""


from ember._warnings import warn as _warn
from ember._backend import xp
from ember._device import device as _device_type
from ember._registry import tensor_method
from ember._tensor import Tensor


def _owner(array):
    """The array owning the memory `array` views (its outermost NumPy ancestor)."""
    while isinstance(array.base, xp.ndarray):
        array = array.base
    return array


def _as_bytes(array):
    """The bytes of a C-contiguous array, as a flat uint8 view (no copy)."""
    return array.reshape(-1).view(xp.uint8)


class UntypedStorage:
    """A flat run of bytes on a device (matches `torch.UntypedStorage`)."""

    is_sparse = False

    def __init__(self, size_or_bytes=0, *, device="cpu"):
        if isinstance(size_or_bytes, int):
            self._bytes = xp.zeros(size_or_bytes, dtype=xp.uint8)
        else:
            self._bytes = xp.frombuffer(bytes(size_or_bytes), dtype=xp.uint8).copy()
        self.device = _device_type(device)

    @classmethod
    def from_file(cls, filename, shared=False, nbytes=0) -> "UntypedStorage":
        """The first `nbytes` of a file, memory-mapped (matches `UntypedStorage.from_file`).

        shared=False maps copy-on-write, so writes stay in memory, as torch's private mapping.
        """
        storage = cls.__new__(cls)
        storage._bytes = xp.memmap(filename, dtype=xp.uint8, mode="r+" if shared else "c",
                                   shape=(int(nbytes),))
        storage.device = _device_type("cpu")
        return storage

    @classmethod
    def _wrap(cls, byte_array) -> "UntypedStorage":
        storage = cls.__new__(cls)
        storage._bytes, storage.device = byte_array, _device_type("cpu")
        return storage

    @classmethod
    def _of(cls, array) -> "UntypedStorage":
        """The storage behind a NumPy array: the bytes of the array owning its memory."""
        owner = _owner(array)
        storage = cls.__new__(cls)
        storage._bytes = _as_bytes(owner) if owner.flags.c_contiguous else \
            _as_bytes(xp.ascontiguousarray(owner))
        storage.device = _device_type("cpu")
        return storage

    def data_ptr(self) -> int:
        return self._bytes.__array_interface__["data"][0]

    def nbytes(self) -> int:
        return int(self._bytes.size)

    size = nbytes

    def element_size(self) -> int:
        return 1

    def __len__(self) -> int:
        return self.nbytes()

    def __getitem__(self, index):
        """A byte as an int; a slice as a storage viewing those bytes (as torch)."""
        if isinstance(index, slice):
            return UntypedStorage._wrap(self._bytes[index])
        return int(self._bytes[index])

    def __iter__(self):
        return iter(self.tolist())

    def tolist(self) -> list:
        return self._bytes.tolist()

    def untyped(self) -> "UntypedStorage":
        return self

    def __array__(self, dtype=None, copy=None):
        """The bytes as a uint8 array, so `torch.asarray(storage)` reads them."""
        return self._bytes if dtype is None else self._bytes.astype(dtype, copy=False)

    def is_shared(self) -> bool:
        return False

    def __repr__(self):
        lines = "".join(f" {value}\n" for value in self._bytes.tolist())
        return f"{lines}[torch.storage.UntypedStorage(device={self.device}) of size {len(self)}]"


class TypedStorage:
    """A storage read as elements of one dtype (matches the deprecated `torch.TypedStorage`)."""

    is_sparse = False

    def __init__(self, untyped: UntypedStorage, dtype):
        self._untyped_storage, self.dtype = untyped, dtype
        self.device = untyped.device

    def _elements(self):
        usable = self._untyped_storage.nbytes() // self.element_size() * self.element_size()
        return self._untyped_storage._bytes[:usable].view(self.dtype.numpy)

    def untyped(self) -> UntypedStorage:
        return self._untyped_storage

    def data_ptr(self) -> int:
        return self._untyped_storage.data_ptr()

    def element_size(self) -> int:
        return self.dtype.itemsize

    def size(self) -> int:
        return self._untyped_storage.nbytes() // self.element_size()

    def nbytes(self) -> int:
        return self._untyped_storage.nbytes()

    def __len__(self) -> int:
        return self.size()

    def __getitem__(self, index):
        return self._elements()[index].tolist()

    def __iter__(self):
        return iter(self.tolist())

    def tolist(self) -> list:
        return self._elements().tolist()

    def __repr__(self):
        lines = "".join(f" {value}\n" for value in self.tolist())
        return (f"{lines}[torch.storage.TypedStorage(dtype={self.dtype}, device={self.device}) "
                f"of size {len(self)}]")


@tensor_method("untyped_storage")
def untyped_storage(self: Tensor) -> UntypedStorage:
    """The bytes this tensor views (matches `Tensor.untyped_storage`)."""
    return UntypedStorage._of(self._data)


_TYPED_STORAGE_WARNED = [False]


def warn_typed_storage_removal(stacklevel=3):
    """torch's deprecation warning for TypedStorage, given once per process, as torch does."""
    if _TYPED_STORAGE_WARNED[0]:
        return
    _TYPED_STORAGE_WARNED[0] = True
    _warn(
        "TypedStorage is deprecated. It will be removed in the future and UntypedStorage will "
        "be the only storage class. This should only matter to you if you are using storages "
        "directly.  To access UntypedStorage directly, use tensor.untyped_storage() instead "
        "of tensor.storage()", UserWarning, stacklevel=stacklevel)


def _reset_warn_typed_storage_removal():
    """Warn again at the next TypedStorage use (matches torch's helper for tests)."""
    _TYPED_STORAGE_WARNED[0] = False


@tensor_method("storage")
def storage(self: Tensor) -> TypedStorage:
    """The storage read as this tensor's dtype; deprecated in torch, which warns (as here)."""
    warn_typed_storage_removal()
    return TypedStorage(UntypedStorage._of(self._data), self.dtype)
