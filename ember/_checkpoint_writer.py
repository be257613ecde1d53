"""Writing PyTorch's zip checkpoint format: the pickler that names torch's rebuild functions
without importing torch, and the 64-byte-aligned records (see NOTE [The checkpoint format] and
NOTE [Writing torch's names without importing torch] in ember/serialization.py)."""

import collections
import io
import pickle
import secrets
import zipfile
from typing import ClassVar

import numpy as np

from ember import _dtype
from ember._device import Size, device
from ember._quantized import QuantizedTensor
from ember._tensor import Tensor, layout
from ember.ops._sparse_compressed import SparseCompressedTensor
from ember.ops._sparse_coo import SparseCooTensor

STORAGE_NAMES = {
    "bool": "BoolStorage", "uint8": "ByteStorage", "int8": "CharStorage",
    "int16": "ShortStorage", "int32": "IntStorage", "int64": "LongStorage",
    "float16": "HalfStorage", "float32": "FloatStorage", "float64": "DoubleStorage",
    "bfloat16": "BFloat16Storage", "complex64": "ComplexFloatStorage",
    "complex128": "ComplexDoubleStorage",
}
# dtypes without a typed storage class in torch (float8, uint16/32/64): torch writes their bytes
# as an UntypedStorage and rebuilds the tensor with `_rebuild_tensor_v3(..., dtype)`
UNTYPED_STORAGE_DTYPES = ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
                          "float8_e8m0fnu", "uint16", "uint32", "uint64")
# quantized tensors: their integers in torch's quantized typed storages (`_rebuild_qtensor`)
QUANTIZED_STORAGE_NAMES = {"qint8": "QInt8Storage", "quint8": "QUInt8Storage",
                           "qint32": "QInt32Storage"}
_ALIGNMENT = 64


# NOTE [Whole modules under torch's names]
# `save(model)` pickles the module object itself; its class is written as the torch class of
# the same path (`ember.nn.modules.linear.Linear` -> `torch.nn.modules.linear.Linear`,
# `ember.vision.models.resnet.ResNet` -> `torchvision.models.resnet.ResNet`), so PyTorch loads
# ember's full-model files into torch modules, and ember's loader maps the names back.


def _torch_module_of(module):
    """The torch module path for an ember module path, or None for non-ember modules."""
    if module == "ember.vision" or module.startswith("ember.vision."):
        return "torchvision" + module[len("ember.vision"):]
    if module == "ember" or module.startswith("ember."):
        return "torch" + module[len("ember"):]
    return None


class _TorchName:
    """A global of torch's namespace, written to the pickle as `GLOBAL module name`."""

    __slots__ = ("module", "name")
    _cache: ClassVar[dict] = {}

    def __new__(cls, module, name):
        key = (module, name)
        if key not in cls._cache:
            self = object.__new__(cls)
            self.module, self.name = module, name
            cls._cache[key] = self
        return cls._cache[key]

    def __call__(self, *args):  # pickle requires a REDUCE function to be callable
        raise TypeError(f"{self.module}.{self.name} is a name for pickles only")


class _StorageRef:
    """One storage to write: a C-contiguous root array, keyed by its order of appearance."""

    __slots__ = ("array", "key", "name")

    def __init__(self, array, key, name=None):
        self.array, self.key, self.name = array, key, name  # name: a quantized storage's


class _DataOf:
    """The plain-tensor part of a Parameter (pickled as _rebuild_tensor_v2, no grad)."""

    __slots__ = ("tensor",)

    def __init__(self, tensor):
        self.tensor = tensor


def _root_and_layout(array):
    """(storage key, storage array, offset, strides), offset and strides in elements.

    A view is written as a view into its outermost NumPy ancestor (the array that owns the
    memory), read as the view's dtype, so tensors viewing one buffer share one storage. An
    array that cannot be described that way (negative strides, odd offsets) is copied.
    """
    itemsize = array.itemsize
    owner = array
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    if (owner is not array and owner.flags.c_contiguous and owner.nbytes % itemsize == 0
            and array.size > 0 and all(s >= 0 and s % itemsize == 0 for s in array.strides)):
        offset_bytes = (array.__array_interface__["data"][0]
                        - owner.__array_interface__["data"][0])
        if 0 <= offset_bytes < owner.nbytes and offset_bytes % itemsize == 0:
            root = owner if owner.dtype == array.dtype else \
                owner.reshape(-1).view(np.uint8).view(array.dtype)
            strides = tuple(s // itemsize for s in array.strides)
            return (id(owner), array.dtype.str), root, offset_bytes // itemsize, strides
    if not array.flags.c_contiguous:
        array = np.ascontiguousarray(array)
    strides = tuple(s // itemsize for s in array.strides) if array.size else \
        _contiguous_strides(array.shape)
    return (id(array), array.dtype.str), array, 0, strides


def _contiguous_strides(shape):
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


class _Pickler(pickle._Pickler):
    """The pure-Python pickler, writing tensors, dtypes, Size and device with torch's names."""

    dispatch: ClassVar[dict] = dict(pickle._Pickler.dispatch)

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.storages = {}  # (id of the memory's owner, dtype) -> _StorageRef
        self._keep_alive = []

    def _save_torch_name(self, obj):
        self.write(pickle.GLOBAL + obj.module.encode() + b"\n" + obj.name.encode() + b"\n")
        self.memoize(obj)

    def _save_dtype(self, obj):
        self.save(_TorchName("torch", obj.name))

    dispatch[_TorchName] = _save_torch_name
    dispatch[_dtype.dtype] = _save_dtype

    def save_global(self, obj, name=None):
        """ember's classes and functions are written under torch's names (NOTE [Whole modules
        under torch's names]); everything else as pickle writes it."""
        module = getattr(obj, "__module__", None) or ""
        torch_module = _torch_module_of(module)
        if torch_module is None:
            super().save_global(obj, name)
            return
        self.save(_TorchName(torch_module, name or obj.__qualname__))

    def persistent_id(self, obj):
        if type(obj) is _StorageRef and obj.array.dtype.name in UNTYPED_STORAGE_DTYPES:
            return ("storage", _TorchName("torch.storage", "UntypedStorage"), obj.key, "cpu",
                    obj.array.nbytes)
        if type(obj) is _StorageRef:
            numel = obj.array.size
            kind = _TorchName("torch", obj.name or STORAGE_NAMES[obj.array.dtype.name])
            return ("storage", kind, obj.key, "cpu", numel)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, (SparseCooTensor, SparseCompressedTensor)):
            return _reduce_sparse(obj)
        if isinstance(obj, QuantizedTensor):
            return self._reduce_quantized(obj)
        if isinstance(obj, layout):  # torch pickles a layout by its name
            return (_TorchName("torch.serialization", "_get_layout"), (repr(obj),))
        if isinstance(obj, Tensor):
            if _is_parameter(obj):
                return (_TorchName("torch._utils", "_rebuild_parameter"),
                        (_DataOf(obj), obj._requires_grad, collections.OrderedDict()))
            reduced = self._reduce_tensor(obj, obj._requires_grad)
            if type(obj).__module__.startswith("ember."):
                return reduced
            # a program's Tensor subclass, kept with its attributes, as torch pickles it
            return (_TorchName("torch._tensor", "_rebuild_from_type_v2"),
                    (reduced[0], type(obj), reduced[1], vars(obj) or None))
        if type(obj) is _DataOf:
            return self._reduce_tensor(obj.tensor, False)
        if isinstance(obj, Size):
            return (_TorchName("torch", "Size"), (tuple(obj),))
        if isinstance(obj, device):
            return (_TorchName("torch", "device"), (str(obj),))
        return NotImplemented

    def _reduce_tensor(self, t, requires_grad):
        array = t._data
        untyped = array.dtype.name in UNTYPED_STORAGE_DTYPES
        if array.dtype.name not in STORAGE_NAMES and not untyped:
            raise TypeError(f"ember.save: unsupported dtype {array.dtype}")
        key, root, offset, stride = _root_and_layout(array)
        ref = self.storages.get(key)
        if ref is None:
            ref = self.storages[key] = _StorageRef(root, str(len(self.storages)))
            self._keep_alive.append(array)  # ids in `key` stay unique while pickling
        if untyped:
            return (_TorchName("torch._utils", "_rebuild_tensor_v3"),
                    (ref, offset, tuple(array.shape), stride, requires_grad,
                     collections.OrderedDict(), t.dtype))
        return (_TorchName("torch._utils", "_rebuild_tensor_v2"),
                (ref, offset, tuple(array.shape), stride, requires_grad,
                 collections.OrderedDict()))


    def _reduce_quantized(self, t):
        """torch's form of a quantized tensor: _rebuild_qtensor(storage of QInt8Storage etc.,
        offset, size, stride, (qscheme, scale(s), zero point(s)[, axis]), False, hooks)."""
        array = np.ascontiguousarray(t._qint)
        ref = _StorageRef(array, str(len(self.storages)), QUANTIZED_STORAGE_NAMES[t.dtype.name])
        self.storages[(id(array), t.dtype.name)] = ref
        self._keep_alive.append(array)
        if t._qscales is None:
            params = (_TorchName("torch", "per_tensor_affine"), t.q_scale(), t.q_zero_point())
        else:
            params = (_TorchName("torch", t.qscheme().name), t.q_per_channel_scales(),
                      t.q_per_channel_zero_points(), t.q_per_channel_axis())
        return (_TorchName("torch._utils", "_rebuild_qtensor"),
                (ref, 0, tuple(array.shape), _contiguous_strides(array.shape), params, False,
                 collections.OrderedDict()))


def _reduce_sparse(t):
    """torch's form of a sparse tensor: _rebuild_sparse_tensor(layout, (indices..., values,
    size[, is_coalesced])) with the index and value tensors pickled as ordinary tensors."""
    values = t._sparse_values.detach()
    values._requires_grad = t.requires_grad
    if isinstance(t, SparseCooTensor):
        data = (Tensor._make(t._sparse_indices), values, Size(t.shape), t.is_coalesced())
    else:
        data = (Tensor._make(t._compressed), Tensor._make(t._plain), values, Size(t.shape))
    return (_TorchName("torch._utils", "_rebuild_sparse_tensor"), (t.layout, data))


def _is_parameter(t) -> bool:
    return any(c.__name__ == "Parameter" and c.__module__.startswith("ember.nn")
               for c in type(t).__mro__)


def _storage_bytes(array) -> memoryview:
    """The storage's bytes, little-endian, without copying when already so."""
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    return memoryview(array.reshape(-1).view(np.uint8))


def _write_record(archive, name, data):
    """Write one stored (uncompressed) record whose data starts on a 64-byte boundary."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    size = len(data)
    header = 30 + len(name.encode()) + (20 if size * 1.05 > zipfile.ZIP64_LIMIT else 0)
    start = archive.fp.tell() + header + 4  # 4: the padding field's own header
    padding = (-start) % _ALIGNMENT
    info.extra = b"FB" + padding.to_bytes(2, "little") + b"\0" * padding
    archive.writestr(info, data)


def write_archive(file, obj, name, protocol):
    buffer = io.BytesIO()
    pickler = _Pickler(buffer, protocol)
    pickler.dump(obj)
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        _write_record(archive, f"{name}/data.pkl", buffer.getvalue())
        _write_record(archive, f"{name}/.format_version", b"1")
        _write_record(archive, f"{name}/.storage_alignment", str(_ALIGNMENT).encode())
        _write_record(archive, f"{name}/byteorder", b"little")
        for ref in pickler.storages.values():
            _write_record(archive, f"{name}/data/{ref.key}", _storage_bytes(ref.array))
        _write_record(archive, f"{name}/version", b"3\n")
        serial = str(secrets.randbits(128)).zfill(40)[:40]
        _write_record(archive, f"{name}/.data/serialization_id", serial.encode())
