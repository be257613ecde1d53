"""PyTorch's legacy checkpoint format: what torch wrote before 1.6, and still writes with
`torch.save(obj, f, _use_new_zipfile_serialization=False)`. Reading and writing it.

NOTE [The legacy checkpoint format]
No archive: one stream of pickles (protocol 2), then the storages' bytes.
    MAGIC_NUMBER       0x1950a86a20f9469cfc6c
    PROTOCOL_VERSION   1001
    sys_info           {'protocol_version': 1001, 'little_endian': True,
                        'type_sizes': {'short': 2, 'int': 4, 'long': 4}}
    the object         tensors as in the zip format (NOTE [The checkpoint format]), but a
                       storage's persistent id has a sixth item, its view metadata:
                       ('storage', torch.FloatStorage, '<key>', 'cpu', numel, None)
    storage keys       the keys of the storages the object used, sorted
and then, for each key in that order, its element count (int64, little-endian) followed by its
raw bytes. The tensors are rebuilt while the object is unpickled, over storages whose bytes
come later: the reader allocates each storage empty (no more bytes than the file holds, NOTE
[Reading only what the file holds]) and fills it once the pickles are read. torch before 0.4
wrote a tar archive instead; neither ember nor torch's weights-only loader reads that.
"""

import pickle
import struct
import sys

import numpy as np

from ember._checkpoint_reader import _ascii, _StorageType, storage_dtype, storage_nbytes
from ember._checkpoint_writer import UNTYPED_STORAGE_DTYPES, _Pickler, _storage_bytes

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
# torch's record of the writer's machine (its LONG_SIZE is 4 whatever the platform)
_SYS_INFO = {"protocol_version": PROTOCOL_VERSION, "little_endian": True,
             "type_sizes": {"short": 2, "int": 4, "long": 4}}
_COUNT = struct.Struct("<q")


# ---- writing ---------------------------------------------------------------------------------
class _LegacyPickler(_Pickler):
    """The zip format's pickler with the legacy persistent id (view metadata None)."""

    def persistent_id(self, obj):
        pid = super().persistent_id(obj)
        return None if pid is None else pid + (None,)


def write_legacy(file, obj, protocol):
    """Write obj to the binary file in the legacy format (torch's `_legacy_save`)."""
    for header in (MAGIC_NUMBER, PROTOCOL_VERSION, _SYS_INFO):
        pickle.dump(header, file, protocol=protocol)
    pickler = _LegacyPickler(file, protocol)
    pickler.dump(obj)
    by_key = {ref.key: ref for ref in pickler.storages.values()}
    keys = sorted(by_key)
    pickle.dump(keys, file, protocol=protocol)
    for key in keys:
        data = _storage_bytes(by_key[key].array)
        itemsize = 1 if _is_untyped(by_key[key]) else by_key[key].array.itemsize
        file.write(_COUNT.pack(len(data) // itemsize))
        file.write(data)


def _is_untyped(ref):
    """Whether the storage is written as an UntypedStorage (counted in bytes)."""
    return ref.array.dtype.name in UNTYPED_STORAGE_DTYPES


# ---- reading ---------------------------------------------------------------------------------
def _no_storages(pid):
    raise pickle.UnpicklingError("unsupported persistent id encountered")


class _Storages:
    """The storages the object's persistent ids name, made empty, filled after the pickles."""

    def __init__(self, file_size, restore):
        self.file_size, self.restore = file_size, restore
        self.roots, self.views = {}, {}

    def persistent_load(self, pid):
        """The storage (or class) a legacy persistent id names (torch's `persistent_load`)."""
        if not isinstance(pid, tuple):
            raise AssertionError(f"saved_id must be a tuple, got {type(pid).__name__}")
        typename = _ascii(pid[0])
        if typename == "module":  # (tag, class, source file, source): torch compares the
            return pid[1]         # saved source with the class's and warns; ember does not
        if typename != "storage":
            raise RuntimeError(f"Unknown saved id type: {pid[0]}")
        kind, key, location, numel, view = pid[1:]
        if key not in self.roots:
            self.roots[key] = self.restore(self._empty(kind, numel), _ascii(location))
        if view is None:
            return self.roots[key]
        view_key, offset, size = view  # torch before 0.4: a storage viewing part of another
        if view_key not in self.views:
            self.views[view_key] = self.roots[key][offset:offset + size]
        return self.views[view_key]

    def _empty(self, kind, numel):
        """An uninitialised storage of numel elements, refused when the file cannot hold it."""
        if not isinstance(kind, _StorageType):  # torch asks it for .dtype
            raise AttributeError(f"'{type(kind).__name__}' object has no attribute 'dtype'")
        dtype = storage_dtype(kind.name)
        if storage_nbytes(dtype, numel) > self.file_size:
            raise RuntimeError(f"a storage of {numel} elements of {dtype.name} is larger than "
                               f"the {self.file_size}-byte file")
        return np.empty(numel, dtype=dtype)

    def read_bytes(self, file, keys, little_endian):
        """Fill the storages named by keys, in that order, from the bytes after the pickles."""
        for key in keys:
            if key not in self.roots:
                raise AssertionError(f"storage key {key!r} not found in deserialized_objects")
            array = self.roots[key]
            header = file.read(_COUNT.size)
            if len(header) < _COUNT.size:
                raise RuntimeError("unexpected EOF, expected 8 more bytes. The file might be "
                                   "corrupted.")
            (count,) = _COUNT.unpack(header)
            if count * array.itemsize != array.nbytes:
                raise RuntimeError(f"storage has wrong byte size: expected {array.nbytes} got "
                                   f"{count * array.itemsize}")
            if file.readinto(memoryview(array.view(np.uint8))) != array.nbytes:
                raise RuntimeError(f"unexpected EOF, expected {array.nbytes} more bytes. The "
                                   "file might be corrupted.")
            if little_endian != (sys.byteorder == "little") and array.itemsize > 1:
                array.byteswap(inplace=True)


def read_legacy(file, file_size, restore, unpickler):
    """The object of a legacy checkpoint (torch's `_legacy_load` of a pickle stream);
    unpickler(file, persistent_load) reads one pickle (weights-only or trusted)."""
    start = file.tell()
    if file.read(262)[257:262] == b"ustar":  # a tar archive: PyTorch before 0.4
        raise RuntimeError("this checkpoint is in PyTorch's tar format (before 0.4), which "
                           "ember does not read; re-save it with a newer PyTorch")
    file.seek(start)
    magic = unpickler(file, _no_storages).load()
    if magic != MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file?")
    version = unpickler(file, _no_storages).load()
    if version != PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {version}")
    sys_info = unpickler(file, _no_storages).load()
    storages = _Storages(file_size, restore)
    result = unpickler(file, storages.persistent_load).load()
    keys = unpickler(file, _no_storages).load()
    little_endian = not isinstance(sys_info, dict) or sys_info.get("little_endian", True)
    storages.read_bytes(file, keys, little_endian)
    return result
