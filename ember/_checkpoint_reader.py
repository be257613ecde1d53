"""Reading checkpoints: the archive's records, checked against what the file holds, and
memory-mapped loading (ember.load's reading half; ember/_checkpoint_writer.py is the writing
half)."""

import os
import re
import struct
import sys
import zipfile
import zlib

import numpy as np

from ember import _dtype
from ember._checkpoint_options import assumes_big_endian
from ember._checkpoint_writer import QUANTIZED_STORAGE_NAMES, STORAGE_NAMES
from ember._tensor import Tensor

_DTYPE_OF_STORAGE = {name: _dtype._BY_NAME[d] for d, name in STORAGE_NAMES.items()}
_DTYPE_OF_STORAGE.update((name, _dtype._BY_NAME[d]) for d, name in QUANTIZED_STORAGE_NAMES.items())


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


def storage_dtype(kind: str):
    """The NumPy dtype of a storage class's elements, by its name (an UntypedStorage: bytes)."""
    return np.dtype(np.uint8) if kind == "UntypedStorage" else \
        np.dtype(_DTYPE_OF_STORAGE[kind].numpy)


def storage_nbytes(dtype, numel) -> int:
    """The bytes of numel elements of dtype; a count that is not a non-negative int is refused."""
    nbytes = numel * dtype.itemsize
    if type(nbytes) is not int or nbytes < 0:
        raise TypeError(f"a storage's element count must be a non-negative int, got {numel!r}")
    return nbytes


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


def _ascii(value):
    """bytes decoded as ASCII, anything else as it is (torch's _maybe_decode_ascii)."""
    return value.decode("ascii") if isinstance(value, bytes) else value


# NOTE [An archive is checked as torch checks it]
# Before the pickle runs, torch's reader checks the archive in this order, and so does
# _Archive: the directory is on one disk, not encrypted, and its sizes and offsets fit the
# file (miniz's checks); every entry lies in the first entry's directory; the `version` record
# exists and parses as a number from 1 to 10 (C's strtoull: leading blanks, a sign and digits;
# trailing text ignored); `.data/serialization_id`, `.format_version`, `byteorder` (exactly
# "little" or "big", else ValueError) and `.storage_alignment` (Python's int(), else
# ValueError) are read if present. Reading a record checks its flags (no encryption), its
# method (stored or deflated), its local header's signature and that its bytes lie in the
# file; as in torch, the CRC is not checked and a record of zero bytes is not read at all. The
# serialization id is decoded after the pickle (UnicodeDecodeError), as torch logs it.
# tests/test_serialization_mutations.py checks all of it against torch on mutated files.
_MAX_VERSION = 10
_UNSUPPORTED_FLAGS = 0x0001 | 0x0020 | 0x0040  # encrypted, compressed patch, strong encryption
_ENCRYPTED_DIRECTORY = 0x2000
_LOCAL_HEADER = b"PK\x03\x04"


class _Archive:
    """One checkpoint archive: its records, read with their sizes checked, each storage once
    (so tensors that shared a storage share it again)."""

    def __init__(self, zip_file, file_size, mapped=None):
        self.zip, self.file_size, self.mapped = zip_file, file_size, mapped
        self.stream_end = zip_file.fp.seek(0, os.SEEK_END)
        self.names = set(zip_file.namelist())
        self._check_directory(zip_file)
        self.prefix = self._directory(zip_file.namelist())
        self._check_version(self._get("version"))
        self.serialization_id = self._get(".data/serialization_id", required=False)
        self._get(".format_version", required=False)
        byteorder = self._get("byteorder", required=False)
        if byteorder is not None and byteorder not in (b"little", b"big"):
            raise ValueError("Unknown endianness type: " + byteorder.decode())
        self.big_endian = byteorder == b"big" if byteorder is not None else \
            assumes_big_endian(sys.byteorder == "big")
        alignment = self._get(".storage_alignment", required=False)
        if alignment is not None:
            int(alignment)  # torch parses it (ValueError) though a reader needs no alignment
        self.storages = {}

    def _check_directory(self, zip_file):
        """miniz's checks that Python's zipfile skips: no encrypted directory, one disk, sizes
        that agree (a stored record's two sizes) and records that end inside the file."""
        for info in zip_file.infolist():
            if info.flag_bits & _ENCRYPTED_DIRECTORY:
                raise RuntimeError("PytorchStreamReader failed reading zip archive: "
                                   "unsupported encryption")
            if info.volume not in (0, 1):
                raise RuntimeError("PytorchStreamReader failed reading zip archive: "
                                   "unsupported multidisk archive")
            stored_sizes_differ = info.compress_type == zipfile.ZIP_STORED and \
                info.compress_size != info.file_size
            if stored_sizes_differ or (info.file_size and not info.compress_size) or \
                    info.header_offset < 0 or \
                    info.header_offset + 30 + info.compress_size > self.stream_end:
                raise RuntimeError("PytorchStreamReader failed reading zip archive: invalid "
                                   f"header or archive is corrupted ({info.filename})")
        zip_file.fp.seek(max(0, self.stream_end - 98))  # zip64 record, locator, end record
        tail = zip_file.fp.read()
        record = tail.rfind(b"PK\x06\x06")
        if b"PK\x06\x07" in tail and 0 <= record <= len(tail) - 56:
            disk, directory_disk, here, total = struct.unpack_from("<IIQQ", tail, record + 16)
            if disk or directory_disk or here != total:
                raise RuntimeError("PytorchStreamReader failed reading zip archive: "
                                   "unsupported multidisk archive")

    @staticmethod
    def _directory(names):
        """'archive/': the first entry's directory, which every entry must lie in."""
        first = names[0] if names else ""
        if "/" not in first:
            raise RuntimeError(f"file in archive is not in a subdirectory: {first}")
        prefix = first[:first.index("/") + 1]
        for name in names:
            if not name.startswith(prefix):
                raise RuntimeError(f"file in archive is not in a subdirectory {prefix}: {name}")
        return prefix

    def _get(self, record, required=True):
        """The bytes of `<prefix><record>`, or None for a missing optional record."""
        if f"{self.prefix}{record}" not in self.names:
            if not required:
                return None
            raise RuntimeError(f'Expected hasRecord("{record}") to be true, but got false.')
        return self.read(f"{self.prefix}{record}")

    @staticmethod
    def _check_version(text):
        """torch's version check: strtoull's parse of the record, then 1 <= version <= 10."""
        match = re.match(rb"[ \t\n\v\f\r]*([+-]?)([0-9]+)", text)
        if match is None:
            raise RuntimeError(f"Couldn't parse the version {text.decode()} as Long Long.")
        value = int(match.group(2))
        if value >= 2**64:
            raise IndexError("stoull")  # C++'s std::out_of_range, as torch reports it
        value = (-value if match.group(1) == b"-" else value) % 2**64
        value = value - 2**64 if value >= 2**63 else value  # read back as a signed 64-bit int
        if value < 1:
            raise RuntimeError(f"Attempted to read a PyTorch file with version {value}, but the "
                               "minimum supported version for reading is 1.")
        if value > _MAX_VERSION:
            raise RuntimeError(f"Attempted to read a PyTorch file with version {value}, but the "
                               f"maximum supported version for reading is {_MAX_VERSION}. The "
                               "version of your PyTorch installation may be too old.")

    def _info(self, name):
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            short = name[len(self.prefix):] if name.startswith(self.prefix) else name
            raise RuntimeError(f"PytorchStreamReader failed locating file {short}: file not "
                               "found") from None
        if info.flag_bits & _UNSUPPORTED_FLAGS:  # encrypted, or a patch (as miniz refuses)
            raise RuntimeError(f"PytorchStreamReader failed retrieving file meta-data for "
                               f"{name}: unsupported encryption or feature")
        limit = info.compress_size if info.compress_type == zipfile.ZIP_STORED else \
            max(_INFLATION_FLOOR, _MAX_INFLATION * info.compress_size)
        if info.compress_size > self.file_size or info.file_size > limit:
            raise RuntimeError(f"record {name} declares {info.file_size} bytes, more than the "
                               f"{self.file_size}-byte file can hold")
        return info

    def read(self, name, expected_size=None, describe=""):
        """The bytes of record `name` (a uint8 array when a size is expected), checked before
        allocating."""
        info = self._info(name)
        if expected_size is not None and info.file_size != expected_size:
            raise RuntimeError(f"record size ({info.file_size} bytes) does not match expected "
                               f"size ({expected_size} bytes = {describe})")
        if info.file_size == 0:
            raw = np.empty(0, dtype=np.uint8)  # torch reads nothing, not even the header
        elif info.compress_type == zipfile.ZIP_STORED:
            raw = self._read_at(name, self._data_start(name, info), info.file_size)
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            raw = self._inflate(name, info)  # not written by torch, but a valid zip
        else:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: unsupported "
                               f"compression method {info.compress_type}")
        return raw if expected_size is not None else raw.tobytes()

    def _data_start(self, name, info):
        """Where a record's bytes start: after its local header, whose signature is checked.

        Read by offset, without zipfile's CRC check, as torch reads records: a checkpoint loaded
        with a shared mapping and written to has stale CRCs, and torch still loads it.
        """
        header = self._read_at(name, info.header_offset, 30)
        if header[:4].tobytes() != _LOCAL_HEADER:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: invalid header "
                               "or archive is corrupted")
        name_length, extra_length = header[26:30].view("<u2")
        return info.header_offset + 30 + int(name_length) + int(extra_length)

    def _inflate(self, name, info):
        """A deflated record, inflated to at most its declared size."""
        packed = self._read_at(name, self._data_start(name, info), info.compress_size)
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            data = inflater.decompress(packed.tobytes(), info.file_size)
        except zlib.error as error:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: {error}") \
                from None
        if len(data) != info.file_size:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: the record "
                               f"inflates to {len(data)} bytes, not {info.file_size}")
        return np.frombuffer(data, dtype=np.uint8)

    def _read_at(self, name, start, size):
        """`size` bytes of the file from `start` (a view when mapped), checked to exist."""
        if start < 0 or start + size > self.stream_end:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: record is "
                               "truncated")
        if self.mapped is not None:
            return self.mapped[start:start + size]
        raw = np.empty(size, dtype=np.uint8)
        self.zip.fp.seek(start)  # zipfile's offsets are positions in its stream
        if self.zip.fp.readinto(memoryview(raw)) != size:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: record is "
                               "truncated")
        return raw

    def storage(self, pid, restore):
        """The storage a persistent id ('storage', kind, key, location, numel) names, moved by
        restore(storage, location); each error is the one torch's persistent_load raises."""
        if not isinstance(pid, tuple):
            raise AssertionError(f"saved_id must be a tuple, got {type(pid).__name__}")
        if _ascii(pid[0]) != "storage":  # IndexError for (), as in torch
            raise AssertionError("Unknown typename for persistent_load, expected 'storage' but "
                                 f"got '{_ascii(pid[0])}'")
        kind, key, location, numel = pid[1:]
        if not isinstance(kind, _StorageType):  # torch asks it for .dtype
            raise AttributeError(f"'{type(kind).__name__}' object has no attribute 'dtype'")
        if key in self.storages:
            return self.storages[key]
        array = self._read_storage(kind.name, key, numel)
        array = restore(array, _ascii(location))
        if array.size:  # as torch, an empty storage is not remembered
            self.storages[key] = array
        return array

    def _read_storage(self, kind, key, numel):
        dtype = storage_dtype(kind)
        raw = self.read(f"{self.prefix}data/{key}", storage_nbytes(dtype, numel),
                        f"{numel} elements * {dtype.itemsize} bytes/element) for dtype "
                        f"{dtype.name}")
        if kind == "UntypedStorage":
            return raw
        array = raw.view(dtype)
        return array.byteswap() if self.big_endian and array.itemsize > 1 else array

    def check_serialization_id(self):
        """Decode the serialization id as torch does after loading (UnicodeDecodeError)."""
        if self.serialization_id is not None:
            self.serialization_id.decode("utf-8")


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
