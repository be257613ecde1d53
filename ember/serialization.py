"""save/load in PyTorch's zip checkpoint format: files written by `ember.save` load with
`torch.load(weights_only=True)`, and files written by `torch.save` load with `ember.load`.

NOTE [The checkpoint format]
A checkpoint is an uncompressed zip whose records sit under one directory `<name>/`:
    data.pkl              the object, pickled with protocol 2; each tensor is written as
                          torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
                          requires_grad, OrderedDict()), and each storage as a persistent id
                          ('storage', torch.FloatStorage, '<key>', 'cpu', numel)
    .format_version       "1"
    .storage_alignment    "64": record data starts on 64-byte boundaries (padding in an
                          'FB' extra field of the local header), so torch can mmap storages
    byteorder             "little"
    data/<key>            the raw little-endian bytes of storage <key>
    version               "3\n"
    .data/serialization_id  a random 40-digit id
Tensors that are views of one array (a slice, a transpose) are written as one storage plus
(offset, size, stride), so they are views of one array again after loading.

NOTE [Writing torch's names without importing torch]
The pickle must name torch's functions (`torch._utils _rebuild_tensor_v2`), which ember neither
has nor imports. `_Pickler` is the pure-Python pickler with one addition: a `_TorchName`
object is written as a bare GLOBAL opcode. The reader maps those names back to ember.

NOTE [weights_only]
`load(weights_only=True)` (the default, as in PyTorch) unpickles with an allow-list: only
the globals in `_SAFE_GLOBALS` can be named, and BUILD may only fill plain containers and
tensors. Anything else (os.system, builtins.eval, a class with a __reduce__ payload...) stops
the load with pickle.UnpicklingError before any of it runs. `weights_only=False` unpickles
anything, for files you trust (whole modules, arbitrary Python objects).
"""

import _compat_pickle
import collections
import io
import os
import pickle
import secrets
import tempfile
import warnings
import zipfile
from typing import ClassVar

import numpy as np

from ember import _dtype
from ember._device import Size, device
from ember._registry import tensor_method
from ember._tensor import Tensor
from ember.nn.parameter import Parameter

_STORAGE_NAMES = {
    "bool": "BoolStorage", "uint8": "ByteStorage", "int8": "CharStorage",
    "int16": "ShortStorage", "int32": "IntStorage", "int64": "LongStorage",
    "float16": "HalfStorage", "float32": "FloatStorage", "float64": "DoubleStorage",
}
_DTYPE_OF_STORAGE = {name: _dtype._BY_NAME[d] for d, name in _STORAGE_NAMES.items()}
_FOREIGN_STORAGES = {"BFloat16Storage": "bfloat16", "ComplexFloatStorage": "complex64",
                     "ComplexDoubleStorage": "complex128"}
_ALIGNMENT = 64
_DEFAULT_PROTOCOL = 2


# ---- pickling tensors for plain pickle (Tensor.__reduce_ex__) --------------------------------
def _reduce_tensor(t):
    """How pickle.dumps(tensor) stores a tensor outside ember.save: array + requires_grad."""
    return (_rebuild, (t._data, t._requires_grad, type(t)))


def _rebuild(array, requires_grad, cls=Tensor):
    t = cls._make(array)
    t._requires_grad = requires_grad
    return t


# ---- writing ---------------------------------------------------------------------------------
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

    __slots__ = ("array", "key")

    def __init__(self, array, key):
        self.array, self.key = array, key


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

    def persistent_id(self, obj):
        if type(obj) is _StorageRef:
            numel = obj.array.size
            kind = _TorchName("torch", _STORAGE_NAMES[obj.array.dtype.name])
            return ("storage", kind, obj.key, "cpu", numel)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            if _is_parameter(obj):
                return (_TorchName("torch._utils", "_rebuild_parameter"),
                        (_DataOf(obj), obj._requires_grad, collections.OrderedDict()))
            return self._reduce_tensor(obj, obj._requires_grad)
        if type(obj) is _DataOf:
            return self._reduce_tensor(obj.tensor, False)
        if isinstance(obj, Size):
            return (_TorchName("torch", "Size"), (tuple(obj),))
        if isinstance(obj, device):
            return (_TorchName("torch", "device"), (str(obj),))
        return NotImplemented

    def _reduce_tensor(self, t, requires_grad):
        array = t._data
        if array.dtype.name not in _STORAGE_NAMES:
            raise TypeError(f"ember.save: unsupported dtype {array.dtype}")
        key, root, offset, stride = _root_and_layout(array)
        ref = self.storages.get(key)
        if ref is None:
            ref = self.storages[key] = _StorageRef(root, str(len(self.storages)))
            self._keep_alive.append(array)  # ids in `key` stay unique while pickling
        return (_TorchName("torch._utils", "_rebuild_tensor_v2"),
                (ref, offset, tuple(array.shape), stride, requires_grad,
                 collections.OrderedDict()))


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


def _write_archive(file, obj, name, protocol):
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


def save(obj, f, pickle_module=pickle, pickle_protocol=_DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False) -> None:
    """Save obj to a path or binary file in PyTorch's zip format (matches `torch.save`).

    NOTE [Atomic save]
    Saving to a path writes a temporary file in the same directory, fsyncs it, and renames it
    over the target with os.replace, so a crash mid-save leaves the previous file intact.
    """
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("ember.save writes only PyTorch's zip format")
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        name = os.path.splitext(os.path.basename(path))[0] or "archive"
        directory = os.path.dirname(os.path.abspath(path))
        handle, temp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.",
                                        suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                _write_archive(file, obj, name, pickle_protocol)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, path)
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise
        _fsync_directory(directory)
        return
    if hasattr(f, "seekable") and f.seekable():
        _write_archive(f, obj, "archive", pickle_protocol)
    else:
        buffer = io.BytesIO()
        _write_archive(buffer, obj, "archive", pickle_protocol)
        f.write(buffer.getvalue())
    if hasattr(f, "flush"):
        f.flush()


def _fsync_directory(directory):
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- reading ---------------------------------------------------------------------------------
class _StorageType:
    """What `torch.FloatStorage` etc. resolve to on load: the dtype of the storage's bytes."""

    def __init__(self, name):
        self.name = name

    def __call__(self, *args):
        raise TypeError(f"torch.{self.name} cannot be constructed by ember.load")


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    """A tensor viewing `storage` (a 1-d array) at offset/size/stride (in elements)."""
    return _view(storage, storage.dtype, storage_offset, size, stride, requires_grad)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    """Like v2, for an untyped (byte) storage and an explicit dtype."""
    target = dtype.numpy if isinstance(dtype, _dtype.dtype) else np.dtype(dtype)
    return _view(storage.view(target), target, storage_offset, size, stride, requires_grad)


def _view(storage, np_dtype, offset, size, stride, requires_grad):
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if 0 in size:
        array = np.empty(size, dtype=np_dtype)
    else:
        itemsize = np.dtype(np_dtype).itemsize
        array = np.ndarray(size, dtype=np_dtype, buffer=storage, offset=int(offset) * itemsize,
                           strides=tuple(s * itemsize for s in stride))
    if array.dtype.name not in _STORAGE_NAMES:
        raise TypeError(f"ember.load: tensors of dtype {array.dtype} are not supported")
    t = Tensor._make(array)
    t._requires_grad = bool(requires_grad)
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks=None):
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    param = _rebuild_parameter(data, requires_grad)
    if state and hasattr(param, "__dict__"):
        param.__dict__.update(state)
    return param


def _rebuild_from_type_v2(func, new_type, args, state):
    result = func(*args)
    if isinstance(new_type, type) and issubclass(new_type, Tensor) and \
            type(result) is not new_type and new_type is not Tensor:
        result = new_type._make(result._data, result._requires_grad)
    if state and hasattr(result, "__dict__"):
        result.__dict__.update(state)
    return result


def _get_layout(name):
    return name



def _safe_globals():
    """The globals a weights_only load may name, mapped to what ember uses for each."""
    import _codecs

    table = {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.Counter": collections.Counter,
        "builtins.set": set, "builtins.frozenset": frozenset,
        "builtins.bytearray": bytearray, "builtins.complex": complex,
        "builtins.slice": slice,
        "_codecs.encode": _codecs.encode,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch.serialization._get_layout": _get_layout,
        "torch.Size": Size, "torch.device": device, "torch.Tensor": Tensor,
        "torch.storage.UntypedStorage": _StorageType("UntypedStorage"),
    }
    for name in list(_DTYPE_OF_STORAGE) + list(_FOREIGN_STORAGES):
        table[f"torch.{name}"] = _StorageType(name)
    for d in _dtype.ALL_DTYPES:
        table[f"torch.{d.name}"] = d
    for alias in ("float", "double", "half", "int", "long", "short"):
        table[f"torch.{alias}"] = getattr(_dtype, alias)
    return table


def _fix_name(module, name):
    """Python 2 names in protocol-2 pickles (__builtin__.set) as Python 3 names."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


class _Loader:
    """What both unpicklers share: the allow-list or torch->ember name mapping, and reading
    storages from the archive by key (each storage read once, so views stay shared)."""

    def _setup(self, archive, prefix, weights_only, big_endian):
        self._archive, self._prefix = archive, prefix
        self._weights_only, self._big_endian = weights_only, big_endian
        self._storages = {}
        self._safe = _safe_globals()
        self._parameter = Parameter
        self._safe["torch.nn.parameter.Parameter"] = self._parameter

    def find_class(self, module, name):
        module, name = _fix_name(module, name)
        key = f"{module}.{name}"
        if key in self._safe:
            return self._safe[key]
        if self._weights_only:
            raise pickle.UnpicklingError(
                f"Weights only load failed. Unsupported global: GLOBAL {key} was not an allowed "
                "global by default. ember.load(weights_only=True) only unpickles tensors, "
                "state_dicts and plain containers; re-run with weights_only=False only if you "
                "trust the source of this file, since it can run arbitrary code.")
        if module == "torch" or module.startswith("torch."):
            ember_module = "ember" + module[len("torch"):]
            try:
                return super().find_class(ember_module, name)
            except (ImportError, AttributeError):
                pass
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"Unsupported persistent id {pid!r}")
        _, kind, key, _location, _numel = pid
        if not isinstance(kind, _StorageType) or not isinstance(key, str):
            raise pickle.UnpicklingError(f"Unsupported storage record {pid!r}")
        if key not in self._storages:
            self._storages[key] = self._read_storage(kind.name, key)
        return self._storages[key]

    def _read_storage(self, kind, key):
        record = f"{self._prefix}/data/{key}"
        try:
            info = self._archive.getinfo(record)
        except KeyError:
            raise pickle.UnpicklingError(f"the archive has no record {record}") from None
        raw = np.empty(info.file_size, dtype=np.uint8)
        with self._archive.open(info) as source:
            source.readinto(memoryview(raw))
        if kind == "UntypedStorage":
            return raw
        if kind in _FOREIGN_STORAGES:
            return _convert_foreign(raw, _FOREIGN_STORAGES[kind], self._big_endian)
        array = raw.view(_DTYPE_OF_STORAGE[kind].numpy)
        if self._big_endian and array.itemsize > 1:
            array = array.byteswap()
        return array


def _convert_foreign(raw, name, big_endian):
    """bfloat16 storages become float32 (exactly); complex ones are not supported."""
    if name != "bfloat16":
        raise TypeError(f"ember.load: tensors of dtype {name} are not supported")
    halves = raw.view(">u2" if big_endian else "<u2").astype(np.uint32)
    warnings.warn("ember has no bfloat16: bfloat16 tensors are loaded as float32", stacklevel=4)
    return (halves << 16).view(np.float32)


class _TrustedUnpickler(_Loader, pickle.Unpickler):
    """weights_only=False: any global; torch names resolved to ember's where they exist."""


class _SafeUnpickler(_Loader, pickle._Unpickler):
    """weights_only=True: the pure-Python unpickler with the allow-list and a restricted BUILD."""

    dispatch: ClassVar[dict] = dict(pickle._Unpickler.dispatch)

    def _load_build(self):
        state = self.stack.pop()
        instance = self.stack[-1]
        if not isinstance(instance, (Tensor, collections.OrderedDict, collections.Counter)):
            raise pickle.UnpicklingError(
                f"Weights only load failed. BUILD of {type(instance).__name__} is not allowed.")
        if isinstance(state, tuple) and len(state) == 2:
            state, slots = state
            if slots:
                raise pickle.UnpicklingError("Weights only load failed. Slot state in BUILD is "
                                             "not allowed.")
        if state and not isinstance(state, dict):
            raise pickle.UnpicklingError("Weights only load failed. BUILD state must be a dict")
        if state:
            if not hasattr(instance, "__dict__"):
                raise pickle.UnpicklingError(
                    f"Weights only load failed. {type(instance).__name__} has no attributes "
                    "to set.")
            for name, value in state.items():
                if not isinstance(name, str) or name.startswith("__"):
                    raise pickle.UnpicklingError(
                        f"Weights only load failed. BUILD may not set {name!r}.")
                instance.__dict__[name] = value

    dispatch[pickle.BUILD[0]] = _load_build

    def _refuse(self):
        raise pickle.UnpicklingError("Weights only load failed. Pickle opcodes that import "
                                     "through the extension registry are not allowed.")

    for _opcode in (pickle.EXT1, pickle.EXT2, pickle.EXT4):
        dispatch[_opcode[0]] = _refuse
    del _opcode


def _open_archive(f):
    try:
        return zipfile.ZipFile(f)
    except zipfile.BadZipFile:
        raise RuntimeError(
            "ember.load reads PyTorch's zip checkpoint format (torch.save since PyTorch 1.6); "
            "this file is not a zip archive (a legacy torch.save file or a plain pickle?)"
        ) from None


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         **pickle_load_args):
    """Load an object saved by ember.save or torch.save (matches `torch.load`).

    map_location is accepted for compatibility (ember tensors always live on the CPU; a
    callable is called as map_location(storage, location) like PyTorch does); mmap is
    accepted and ignored.
    """
    if weights_only is None:
        weights_only = True
    if isinstance(f, (str, os.PathLike)):
        with open(os.fspath(f), "rb") as file:
            return _load(file, map_location, weights_only)
    return _load(f, map_location, weights_only)


def _load(file, map_location, weights_only):
    with _open_archive(file) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("data.pkl")]
        if not pickles:
            raise RuntimeError("ember.load: the archive has no data.pkl record")
        prefix = pickles[0][:-len("/data.pkl")] if "/" in pickles[0] else ""
        big_endian = False
        if f"{prefix}/byteorder" in names:
            big_endian = archive.read(f"{prefix}/byteorder").strip() == b"big"
        with archive.open(pickles[0]) as source:
            data = io.BytesIO(source.read())
        kind = _SafeUnpickler if weights_only else _TrustedUnpickler
        unpickler = kind(data)
        unpickler._setup(archive, prefix, weights_only, big_endian)
        if callable(map_location):
            original = unpickler.persistent_load

            def persistent_load(pid):
                storage = original(pid)
                mapped = map_location(storage, pid[3])
                return storage if mapped is None else mapped

            unpickler.persistent_load = persistent_load
        return unpickler.load()


__all__ = ["load", "save"]


@tensor_method("__reduce_ex__")
def tensor_reduce_ex(self, protocol):
    return _reduce_tensor(self)
