"""Reading checkpoints: the archive's records, checked against what the file holds, and
memory-mapped loading (ember.load's reading half; ember/_checkpoint_writer.py is the writing
half)."""

import os
import pickle
import zipfile

import numpy as np

from ember import _dtype
from ember._checkpoint_writer import STORAGE_NAMES
from ember._tensor import Tensor

_DTYPE_OF_STORAGE = {name: _dtype._BY_NAME[d] for d, name in STORAGE_NAMES.items()}


# NOTE [Reading only what the file holds]
# Every size a checkpoint declares is checked against the bytes actually there before anything
# is allocated: a storage record must hold exactly numel × element size bytes (the persistent id
# declares numel; PyTorch checks the same), a record's inflated size may be at most
# _MAX_INFLATION times its compressed size (PyTorch never compresses records, so only a
# hand-made "zip bomb" trips this), views must stay inside their storage (ember/_utils.py), and
# `bytearray(n)` may not ask for more bytes than the whole file. A load therefore allocates
# about what the file holds, whatever the file claims.
_MAX_INFLATION = 64
_INFLATION_FLOOR = 1 << 20


class _StorageType:
    """What `torch.FloatStorage` etc. resolve to on load: the dtype of the storage's bytes."""

    def __init__(self, name):
        self.name = name

    def __call__(self, *args):
        raise TypeError(f"torch.{self.name} cannot be constructed by ember.load")


def is_zipfile(file) -> bool:
    """Whether the stream starts with a zip local header (and rewind it)."""
    start = file.tell()
    magic = file.read(4)
    file.seek(start)
    return magic == b"PK\x03\x04"


class _Archive:
    """One checkpoint archive: its records, read with their sizes checked, each storage once
    (so tensors that shared a storage share it again)."""

    def __init__(self, zip_file, file_size, mapped=None):
        self.zip, self.file_size, self.mapped = zip_file, file_size, mapped
        self.stream_end = zip_file.fp.seek(0, os.SEEK_END)
        names = zip_file.namelist()
        pickles = [n for n in names if n == "data.pkl" or n.endswith("/data.pkl")]
        if not pickles:
            raise RuntimeError("PytorchStreamReader failed locating file data.pkl: file not found")
        self.prefix = pickles[0][:-len("data.pkl")]
        self.big_endian = False
        if f"{self.prefix}byteorder" in names:
            self.big_endian = self.read(f"{self.prefix}byteorder").strip() == b"big"
        self.storages = {}

    def _info(self, name):
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not "
                               "found") from None
        limit = info.compress_size if info.compress_type == zipfile.ZIP_STORED else \
            max(_INFLATION_FLOOR, _MAX_INFLATION * info.compress_size)
        if info.compress_size > self.file_size or info.file_size > limit:
            raise RuntimeError(f"record {name} declares {info.file_size} bytes, more than the "
                               f"{self.file_size}-byte file can hold")
        return info

    def read(self, name, expected_size=None, describe=""):
        """The bytes of record `name` as a uint8 array, checked before allocating."""
        info = self._info(name)
        if expected_size is not None and info.file_size != expected_size:
            raise RuntimeError(f"record size ({info.file_size} bytes) does not match expected "
                               f"size ({expected_size} bytes = {describe})")
        if info.compress_type == zipfile.ZIP_STORED:
            raw = self._stored_record(name, info)
        else:  # not written by torch, but a valid zip: inflate it (sizes checked above)
            raw = np.empty(info.file_size, dtype=np.uint8)
            with self.zip.open(info) as source:
                if source.readinto(memoryview(raw)) != info.file_size:
                    raise RuntimeError(f"record {name} is truncated")
        return raw if expected_size is not None else raw.tobytes()

    def _stored_record(self, name, info):
        """An uncompressed record's bytes: a view of the mapped file, else read from the file.

        Read by offset, without zipfile's CRC check, as torch reads records: a checkpoint loaded
        with a shared mapping and written to has stale CRCs, and torch still loads it.
        """
        header = self._read_at(name, info.header_offset, 30)
        name_length, extra_length = header[26:30].view("<u2")
        start = info.header_offset + 30 + int(name_length) + int(extra_length)
        return self._read_at(name, start, info.file_size)

    def _read_at(self, name, start, size):
        """`size` bytes of the file from `start` (a view when mapped), checked to exist."""
        if start + size > self.stream_end:
            raise RuntimeError(f"record {name} is truncated")
        if self.mapped is not None:
            return self.mapped[start:start + size]
        raw = np.empty(size, dtype=np.uint8)
        self.zip.fp.seek(start)  # zipfile's offsets are positions in its stream
        if self.zip.fp.readinto(memoryview(raw)) != size:
            raise RuntimeError(f"record {name} is truncated")
        return raw

    def storage(self, pid):
        """The storage a persistent id ('storage', kind, key, location, numel) names."""
        if len(pid) != 5:
            raise pickle.UnpicklingError(f"Unsupported persistent id {pid!r}")
        _, kind, key, _location, numel = pid
        if not isinstance(kind, _StorageType) or not isinstance(key, str):
            raise pickle.UnpicklingError(f"Unsupported storage record {pid!r}")
        if type(numel) is not int or numel < 0:
            raise TypeError(f"a storage's element count must be a non-negative int, got "
                            f"{numel!r}")
        if key not in self.storages:
            self.storages[key] = self._read_storage(kind.name, key, numel)
        return self.storages[key]

    def _read_storage(self, kind, key, numel):
        if kind == "UntypedStorage":
            itemsize, dtype_name = 1, "uint8"
        else:
            numpy_dtype = _DTYPE_OF_STORAGE[kind].numpy
            itemsize, dtype_name = np.dtype(numpy_dtype).itemsize, np.dtype(numpy_dtype).name
        raw = self.read(f"{self.prefix}data/{key}", numel * itemsize,
                        f"{numel} elements * {itemsize} bytes/element) for dtype {dtype_name}")
        if kind == "UntypedStorage":
            return raw
        array = raw.view(_DTYPE_OF_STORAGE[kind].numpy)
        return array.byteswap() if self.big_endian and array.itemsize > 1 else array


# NOTE [Loading with mmap=True]
# torch.save writes every storage as an uncompressed zip record aligned to 64 bytes, so a
# loader can map the file and let each tensor view its record's bytes: loading costs no copy and
# pages are read on first touch. As torch (MAP_PRIVATE by default), writes to such tensors stay
# in this process's memory; with set_default_mmap_options(mmap.MAP_SHARED) they reach the file.
_MMAP_OPTIONS = {"flags": 2}  # mmap.MAP_PRIVATE


def get_default_mmap_options() -> int:
    """The mmap flags load(mmap=True) uses (matches `torch.serialization`)."""
    return _MMAP_OPTIONS["flags"]


def set_default_mmap_options(flags: int) -> None:
    """Choose MAP_PRIVATE (default) or MAP_SHARED for load(mmap=True) (matches torch)."""
    if flags not in (1, 2):  # mmap.MAP_SHARED, mmap.MAP_PRIVATE
        raise ValueError("Invalid argument in function set_default_mmap_options, expected "
                         "mmap.MAP_PRIVATE or mmap.MAP_SHARED, but got " + str(flags))
    _MMAP_OPTIONS["flags"] = flags


def map_file(file, path):
    """The whole file as a mapped uint8 array (None when empty: nothing to map)."""
    size = os.path.getsize(path)
    if not is_zipfile(file):
        raise RuntimeError(
            f"mmap can only be used with files saved with `torch.save({path}, "
            "_use_new_zipfile_serialization=True), please torch.save your checkpoint with this "
            "option in order to use mmap.")
    if size == 0:
        return None
    mode = "r+" if _MMAP_OPTIONS["flags"] == 1 else "c"
    return np.memmap(path, dtype=np.uint8, mode=mode, shape=(size,))


# ---- .safetensors files ------------------------------------------------------------------------
# torch.load hands a path ending in ".safetensors" to the safetensors library; ember reads it
# with the same library's framework-free `deserialize` and wraps the bytes as tensors.
_SAFETENSORS_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
                       "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8",
                       "U8": "uint8", "U16": "uint16", "U32": "uint32", "U64": "uint64",
                       "BOOL": "bool", "C64": "complex64"}
_SAFETENSORS_DTYPES.update({"F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2",
                            "F8_E8M0": "float8_e8m0fnu"})  # safetensors' float8 names


def load_safetensors(path, map_location):
    """{name: tensor} of a .safetensors file (torch.load's path for such files)."""
    if isinstance(map_location, dict):
        raise RuntimeError("Loading safetensors file with dict map_location is not supported. "
                           "Use a device string or torch.device instead.")
    if callable(map_location):
        raise RuntimeError("Loading safetensors file with callable map_location is not "
                           "supported. Use a device string or torch.device instead.")
    try:
        # lazy: safetensors is optional, needed only for these files
        from safetensors import deserialize, safe_open
    except ImportError as error:
        raise RuntimeError("Attempting to load a safetensors file but safetensors is not "
                           "installed. Please install safetensors with: pip install "
                           "safetensors") from error
    with open(path, "rb") as file:
        records = dict(deserialize(file.read()))
    with safe_open(path, framework="numpy") as handle:
        order = handle.offset_keys()  # torch's dict lists the tensors in file order
    return {name: _safetensors_tensor(records[name]) for name in order}


def _safetensors_tensor(record):
    """One deserialized record as a tensor owning its bytes."""
    if record["dtype"] not in _SAFETENSORS_DTYPES:
        raise RuntimeError(f"safetensors dtype {record['dtype']} is not supported by ember")
    dtype = _dtype._BY_NAME[_SAFETENSORS_DTYPES[record["dtype"]]]
    array = np.frombuffer(record["data"], dtype=dtype.numpy).reshape(record["shape"])
    return Tensor._make(array)
