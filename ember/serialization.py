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
has nor imports. `_Pickler` (ember/_checkpoint_writer.py) is the pure-Python pickler with one
addition: a `_TorchName` object is written as a bare GLOBAL opcode. The reader maps those names
back to ember (the rebuild functions live in ember/_utils.py, as torch's in torch/_utils.py).

NOTE [weights_only]
`load(weights_only=True)` (the default, as in PyTorch) unpickles with a small interpreter of
the protocol-2 opcodes (ember/_weights_only_unpickler.py) and an allow-list: only the globals
in `_safe_globals()` (plus `add_safe_globals`) can be named or called, and BUILD may only fill
plain containers and tensors. Anything else (os.system, builtins.eval, a class with a
__reduce__ payload, INST/OBJ/EXT opcodes...) stops the load with pickle.UnpicklingError before
any of it runs; NOTE [Reading only what the file holds] bounds what a load may allocate.
`weights_only=False` unpickles anything, for files you trust (whole modules, arbitrary Python
objects).
"""

import _codecs
import _compat_pickle
import collections
import contextlib
import errno
import io
import math
import os
import pickle
import pickletools
import stat
import threading

from ember._warnings import warn as _warn
import zipfile

from ember import _dtype, _utils
from ember._checkpoint_reader import (_DTYPE_OF_STORAGE, _Archive, _StorageType, is_zipfile,  # noqa: F401
                                      get_default_mmap_options, load_safetensors, map_file,
                                      set_default_mmap_options)
from ember._checkpoint_legacy import read_legacy, write_legacy
from ember._checkpoint_options import (USER_SAFE_GLOBALS, LoadEndianness,  # noqa: F401
                                       SourceChangeWarning, add_safe_globals,
                                       clear_safe_globals, get_crc32_options,
                                       get_default_load_endianness, get_safe_globals,
                                       safe_globals, set_crc32_options,
                                       set_default_load_endianness)
from ember._checkpoint_writer import write_archive
from ember import _weights_only_unpickler as _weights_only
from ember._device import Size, device
from ember._registry import tensor_method
from ember._quantized import (per_channel_affine, per_channel_affine_float_qparams,
                              per_channel_symmetric, per_tensor_affine, per_tensor_symmetric)
from ember._tensor import Tensor
from ember._tensor_types import LEGACY_TYPES
from ember.nn.parameter import Parameter

_DEFAULT_PROTOCOL = 2


# ---- pickling tensors for plain pickle (Tensor.__reduce_ex__) --------------------------------
def _reduce_tensor(t):
    """How pickle.dumps(tensor) stores a tensor outside ember.save: array + requires_grad (and
    a subclass instance's attributes)."""
    state = getattr(t, "__dict__", None)
    if state:
        return (_rebuild, (t._data, t._requires_grad, type(t)), dict(state))
    return (_rebuild, (t._data, t._requires_grad, type(t)))


def _rebuild(array, requires_grad, cls=Tensor):
    t = cls._make(array)
    t._requires_grad = requires_grad
    return t


def save(obj, f, pickle_module=pickle, pickle_protocol=_DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False) -> None:
    """Save obj to a path or binary file in PyTorch's zip format, or its legacy format when
    _use_new_zipfile_serialization=False (matches `torch.save`).

    Saving to a path is atomic: see NOTE [Atomic save].
    """
    write = write_archive if _use_new_zipfile_serialization else \
        (lambda file, obj, name, protocol: write_legacy(file, obj, protocol))
    if isinstance(f, (str, os.PathLike)):
        parent = os.path.dirname(os.fspath(f))
        if parent and not os.path.isdir(parent):  # (torch's zip writer; open()'s error)
            if _use_new_zipfile_serialization:
                raise RuntimeError(f"Parent directory {parent} does not exist.")
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), os.fspath(f))
        _save_to_path(obj, os.fspath(f), pickle_protocol, write)
        return
    if hasattr(f, "seekable") and f.seekable():
        write(f, obj, "archive", pickle_protocol)
    else:
        buffer = io.BytesIO()
        write(buffer, obj, "archive", pickle_protocol)
        f.write(buffer.getvalue())
    if hasattr(f, "flush"):
        f.flush()


def _save_to_path(obj, path, protocol, write):
    """Write the checkpoint next to its target, then rename it over the target.

    NOTE [Atomic save]
    The archive goes to a temporary file in the target's directory, is fsynced, and replaces
    the target with os.replace, so a crash mid-save leaves the previous file intact. The result
    looks like a plain `open(path, "wb")`: a symlink is written through (its target is
    replaced, the link stays), an existing file keeps its permission bits, and a new file gets
    0o666 minus the umask (os.open applies it), not mkstemp's 0o600. The temporary is named
    after the target and this process (`.model.pt.<pid>-<thread>.tmp`); a save killed midway
    leaves one behind, and the next save of that target removes it once its process is gone.
    """
    target = os.path.realpath(path)
    directory, base = os.path.split(target)
    _remove_stale_temporaries(directory, base)
    temp = os.path.join(directory, f".{base}.{os.getpid()}-{threading.get_ident()}.tmp")
    name = os.path.splitext(os.path.basename(path))[0] or "archive"
    try:
        handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        with os.fdopen(handle, "wb") as file:
            if os.path.exists(target):
                os.fchmod(file.fileno(), stat.S_IMODE(os.stat(target).st_mode))
            write(file, obj, name, protocol)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    _fsync_directory(directory)


def _remove_stale_temporaries(directory, base):
    """Delete temporaries of earlier saves of `base` whose process no longer runs."""
    prefix = f".{base}."
    for entry in os.listdir(directory):
        if not (entry.startswith(prefix) and entry.endswith(".tmp")):
            continue
        pid = entry[len(prefix):-len(".tmp")].partition("-")[0]
        if pid.isdigit() and not _process_exists(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(directory, entry))


def _process_exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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


def _get_layout(name):
    return name


def _bounded_bytearray(limit):
    """`bytearray` for the allow-list: refuses to allocate more bytes than the file holds."""

    def make(*args):
        if args and isinstance(args[0], int) and args[0] > limit:
            raise pickle.UnpicklingError(
                f"bytearray({args[0]}) asks for more bytes than the {limit}-byte file holds")
        return bytearray(*args)

    return make


# NOTE [A pickle may not ask for more than the file holds]
# torch.Tensor and the legacy classes (torch.FloatTensor, ...) are allowed globals, so a pickle
# may call `torch.Tensor(32768, 32768)` (4 GiB) or build a tensor from a list whose items are
# memo references to one list (a few bytes of file per million elements). torch allocates such
# sizes lazily; ember would fill them. So a call of a tensor class through REDUCE, NEWOBJ or
# _rebuild_from_type_v2 may ask for at most one element per byte of the file, counted before
# anything is allocated (leaves of nested data are counted up to that budget); beyond it the
# load stops with UnpicklingError, as for `bytearray(n)`.
_TENSOR_CLASSES = {f"torch.{name}": cls for name, cls in LEGACY_TYPES.items()}
_TENSOR_CLASSES["torch.Tensor"] = Tensor
_QSCHEMES = (per_tensor_affine, per_channel_affine, per_tensor_symmetric, per_channel_symmetric,
             per_channel_affine_float_qparams)


def _requested_elements(args, budget):
    """How many elements `Tensor(*args)` would hold, counted only up to budget + 1."""
    if args and all(type(a) is int for a in args):
        return math.prod(args) if all(a >= 0 for a in args) else 0
    if len(args) == 1 and isinstance(args[0], Size):
        return math.prod(args[0])
    count, pending = 0, list(args)
    while pending and count <= budget:
        item = pending.pop()
        if isinstance(item, (list, tuple)):
            pending.extend(item)
        else:
            count += 1
    return count


def _check_request(func, args, limit):
    """Refuse a call of a tensor class asking for more than `limit` elements."""
    if any(func is cls for cls in _TENSOR_CLASSES.values()) and \
            _requested_elements(args, limit) > limit:
        raise pickle.UnpicklingError(
            f"{func.__name__}(...) asks for more elements than the {limit}-byte file holds")


def _bounded_call(limit):
    """func(*args) for REDUCE, with tensor classes bounded by the file (`_check_request`)."""

    def call(func, args):
        _check_request(func, args, limit)
        return func(*args)

    return call


def _safe_globals(file_size):
    """The globals a weights_only load may name, mapped to what ember uses for each (torch's
    allow-list, less what ember cannot build)."""
    call = _bounded_call(file_size)

    def rebuild_from_type_v2(func, new_type, args, state):
        return _utils._rebuild_from_type_v2(lambda *a: call(func, a), new_type, args, state)

    table = {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.Counter": collections.Counter,
        "builtins.set": set,
        "builtins.bytearray": _bounded_bytearray(file_size), "builtins.complex": complex,
        "_codecs.encode": _codecs.encode,
        "torch._utils._rebuild_tensor": _utils._rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": _utils._rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": _utils._rebuild_tensor_v3,
        "torch._utils._rebuild_parameter": _utils._rebuild_parameter,
        "torch._utils._rebuild_sparse_tensor": _utils._rebuild_sparse_tensor,
        "torch._utils._rebuild_qtensor": _utils._rebuild_qtensor,
        "torch._utils._rebuild_parameter_with_state": _utils._rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": rebuild_from_type_v2,
        "torch.serialization._get_layout": _get_layout,
        "torch.Size": Size, "torch.device": device,
        "torch.nn.parameter.Parameter": Parameter,
        "torch.storage.UntypedStorage": _StorageType("UntypedStorage"),
    }
    table.update(_TENSOR_CLASSES)
    for name in _DTYPE_OF_STORAGE:
        table[f"torch.{name}"] = _StorageType(name)
    for d in _dtype.ALL_DTYPES + _dtype.QUANTIZED_DTYPES:
        table[f"torch.{d.name}"] = d
    for scheme in _QSCHEMES:
        table[f"torch.{scheme.name}"] = scheme
    table.update(USER_SAFE_GLOBALS)
    return table


def _fix_name(module, name):
    """Python 2 names in protocol-2 pickles (__builtin__.set) as Python 3 names."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


_UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` "
    "from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will "
    "likely succeed, but it can result in arbitrary code execution. Do it only if you got the "
    "file from a trusted source.")


def _weights_only_error(reason):
    """torch's UnpicklingError for a refused weights_only load (its `_get_wo_message`): how to
    allow a refused global, or why the file cannot be loaded safely, then `reason`."""
    if "was not an allowed global by default" in reason:
        message = ("Weights only load failed. This file can still be loaded, to do so you have "
                   "two options, \033[1mdo those steps only if you trust the source of the "
                   f"checkpoint\033[0m. \n\t(1) {_UNSAFE_MESSAGE}\n\t(2) Alternatively, to load "
                   "with `weights_only=True` please check the recommended steps in the following "
                   f"error message.\n\tWeightsUnpickler error: {reason}")
    else:
        message = (f"Weights only load failed. {_UNSAFE_MESSAGE}\nPlease file an issue with the "
                   "following so that we can make `weights_only=True` compatible with your use "
                   f"case: WeightsUnpickler error: \n\n{reason}")
    return pickle.UnpicklingError(
        message + "\n\nCheck the documentation of torch.load to learn more about types accepted "
        "by default with weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")


def _new_object(limit):
    """NEWOBJ for weights_only loads: Parameters are constructed, allow-listed classes are
    made with `cls.__new__(cls, *args)` and filled by BUILD, as torch does."""

    def new(cls, args):
        if cls is Parameter:
            return Parameter(*args)
        _check_request(cls, args, limit)
        return cls.__new__(cls, *args)

    return new


def _build(instance, state):
    """BUILD for weights_only loads: tensors, ordered dicts and allow-listed classes only."""
    if type(instance) in USER_SAFE_GLOBALS.values():
        _build_allowed(instance, state)
        return
    if type(instance) is Tensor:  # torch runs the legacy `instance.set_(*state)`
        if state != ():
            raise TypeError(f"set_() received an invalid combination of arguments - got "
                            f"{state!r:.60}: ember does not rebuild legacy tensor state")
        return
    if not isinstance(instance, (Tensor, collections.OrderedDict, collections.Counter)):
        raise pickle.UnpicklingError(
            f"Can only build Tensor, Parameter, OrderedDict or types allowlisted via "
            f"`add_safe_globals`, but got {type(instance)}")
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
        if slots:
            raise pickle.UnpicklingError("Slot state in BUILD is not allowed.")
    if state and not isinstance(state, dict):
        raise pickle.UnpicklingError("BUILD state must be a dict")
    for name, value in (state or {}).items():
        if not isinstance(name, str) or name.startswith("__"):
            raise pickle.UnpicklingError(f"BUILD may not set {name!r}.")
        instance.__dict__[name] = value


def _build_allowed(instance, state):
    """BUILD on an allow-listed class: its __setstate__, or pickle's default (dict + slots)."""
    if getattr(type(instance), "__setstate__", None) is not None:
        instance.__setstate__(state)
        return
    slots = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    if state:
        instance.__dict__.update(state)
    for name, value in (slots or {}).items():
        setattr(instance, name, value)


class _TrustedUnpickler(pickle.Unpickler):
    """weights_only=False: any global; torch names resolved to ember's where they exist."""

    def __init__(self, file, file_size, storage):
        super().__init__(file)
        self._safe, self._storage = _safe_globals(file_size), storage

    def find_class(self, module, name):
        module, name = _fix_name(module, name)
        if f"{module}.{name}" in self._safe:
            return self._safe[f"{module}.{name}"]
        for torch_name, ember_name in (("torchvision", "ember.vision"), ("torch", "ember")):
            if module == torch_name or module.startswith(torch_name + "."):
                try:
                    return super().find_class(ember_name + module[len(torch_name):], name)
                except (ImportError, AttributeError):
                    break
        return super().find_class(module, name)

    def persistent_load(self, pid):
        return self._storage(pid)


def _weights_only_unpickler(file, file_size, storage):
    """The allow-list unpickler (ember/_weights_only_unpickler.py) for one file."""
    safe = _safe_globals(file_size)

    def find_global(module, name):
        module, name = _fix_name(module, name)
        if f"{module}.{name}" not in safe:
            full = f"{module}.{name}"
            raise pickle.UnpicklingError(
                f"Unsupported global: GLOBAL {full} was not an allowed global by default. "
                f"Please use `torch.serialization.add_safe_globals([{full}])` or the "
                f"`torch.serialization.safe_globals([{full}])` context manager to allowlist "
                "this global if you trust this class/function.")
        return safe[f"{module}.{name}"]

    callables = {id(v) for v in safe.values() if callable(v)}
    return _weights_only.Unpickler(file, find_global, storage, callables,
                                   _new_object(file_size), _build, _bounded_call(file_size))


def _load_legacy(file, map_location, weights_only):
    """A file that is not a zip: PyTorch's legacy format (NOTE [The legacy checkpoint format])
    or not a checkpoint at all."""
    start = file.tell()
    file_size = file.seek(0, os.SEEK_END) - start
    file.seek(start)

    def unpickler(stream, persistent_load):
        if weights_only:
            return _weights_only_unpickler(stream, file_size, persistent_load)
        return _TrustedUnpickler(stream, file_size, persistent_load)

    return read_legacy(file, file_size, _restore_location(map_location), unpickler)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load an object saved by ember.save or torch.save (matches `torch.load`).

    map_location works in all of torch's forms (a device string or `device`, a dict from saved
    to new locations, a callable(storage, location)); storages must end up on the CPU, as on a
    CPU-only torch. weights_only defaults to True; the environment variables
    TORCH_FORCE_WEIGHTS_ONLY_LOAD / TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD override it as in torch.
    mmap=True maps the file and the tensors view it instead of holding copies
    (NOTE [Loading with mmap=True]); `f` must then be a path.
    """
    weights_only = _resolve_weights_only(weights_only)
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                           "specified")
    if isinstance(f, (str, os.PathLike)):
        if os.fspath(f).endswith(".safetensors"):  # torch 2.13 reads these through safetensors
            return load_safetensors(os.fspath(f), map_location)
        with open(os.fspath(f), "rb") as file:
            mapped = map_file(file, os.fspath(f)) if mmap else None
            return _load(file, map_location, weights_only, mapped)
    if mmap:
        raise ValueError("f must be a file path in order to use the mmap argument")
    if not (hasattr(f, "seekable") and f.seekable()):
        f = io.BytesIO(f.read())
    return _load(f, map_location, weights_only)


def get_unsafe_globals_in_checkpoint(f):
    """The globals a checkpoint's pickle names that a weights_only load would refuse, as
    "module.name" strings (matches torch: the pickle is read, nothing in it is run)."""
    opened = open(os.fspath(f), "rb") if isinstance(f, (str, os.PathLike)) else \
        contextlib.nullcontext(f)
    with opened as file:
        if not is_zipfile(file):
            raise ValueError("Expected input to be a checkpoint returned by torch.save")
        start = file.tell()
        file_size = file.seek(0, os.SEEK_END) - start
        file.seek(start)
        with zipfile.ZipFile(file) as zip_file:
            archive = _Archive(zip_file, file_size)
            data = archive.read(f"{archive.prefix}data.pkl")
    safe = _safe_globals(file_size)
    named = {tuple(arg.split(" ", 1)) for op, arg, _ in pickletools.genops(data)
             if op.name == "GLOBAL"}
    return [f"{module}.{name}" for module, name in named
            if ".".join(_fix_name(module, name)) not in safe]


def _resolve_weights_only(weights_only):
    """torch's rule: the FORCE environment variables, then the default True."""
    true_values = ("1", "y", "yes", "true")
    force = os.getenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0") in true_values
    force_no = os.getenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0") in true_values
    if force and force_no:
        raise RuntimeError("Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or "
                           "`TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` should be set, but both were "
                           "set.")
    if force:
        return True
    if force_no and weights_only is None:
        _warn("Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected, since "
                      "the`weights_only` argument was not explicitly passed to `torch.load`, "
                      "forcing weights_only=False.", stacklevel=3)
        return False
    return True if weights_only is None else weights_only


def _default_restore(storage, location):
    """torch's default_restore_location on a CPU-only build: 'cpu' stays, anything else fails
    with the error torch gives for it."""
    if not isinstance(location, (str, bytes)):
        raise TypeError(f"expected string or bytes-like object, got '{type(location).__name__}'")
    location = location.decode("ascii") if isinstance(location, bytes) else location
    if location == "cpu":
        return storage
    if location.startswith("cuda"):
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() "
            "is False. If you are running on a CPU-only machine, please use torch.load with "
            "map_location=torch.device('cpu') to map your storages to the CPU.")
    for tag in ("mps", "meta", "xpu", "hpu", "mtia", "privateuseone"):
        if location.startswith(tag):  # torch makes meta storages; ember has no meta backend
            raise RuntimeError(f"Attempting to deserialize object on a {tag} device, which "
                               "ember does not have; use map_location='cpu'")
    raise RuntimeError("don't know how to restore data location of torch.storage.UntypedStorage "
                       f"(tagged with {location})")


def _restore_location(map_location):
    """storage, saved location -> the storage where map_location puts it (the CPU only)."""
    if map_location is None:
        return _default_restore
    if isinstance(map_location, dict):
        return lambda storage, location: _default_restore(
            storage, map_location.get(location, location))
    if isinstance(map_location, (str, bytes, device)):
        # as torch, the saved location is not looked at: every storage goes to map_location
        target = map_location.decode() if isinstance(map_location, bytes) else str(map_location)
        return lambda storage, location: _default_restore(storage, target)

    def call(storage, location):
        result = map_location(storage, location)
        return _default_restore(storage, location) if result is None else result

    return call


def _load(file, map_location, weights_only, mapped=None):
    try:
        if not is_zipfile(file):
            return _load_legacy(file, map_location, weights_only)
        return _load_zip(file, map_location, weights_only, mapped)
    except pickle.UnpicklingError as error:
        if not weights_only:
            raise
        if str(error).startswith("Weights only load failed"):
            raise
        raise _weights_only_error(str(error)) from None


def _load_zip(file, map_location, weights_only, mapped=None):
    start = file.tell()
    file_size = file.seek(0, os.SEEK_END) - start
    file.seek(start)
    try:
        zip_file = zipfile.ZipFile(file)
    except UnicodeDecodeError:
        raise  # a name that is not UTF-8: torch fails the same way as it lists the records
    except (zipfile.BadZipFile, EOFError, ValueError) as error:  # a bad offset
        raise RuntimeError(f"PytorchStreamReader failed reading zip archive: {error}") from None
    with zip_file:
        archive = _Archive(zip_file, file_size, mapped)
        restore = _restore_location(map_location)

        def storage(pid):
            return archive.storage(pid, restore)

        data = io.BytesIO(archive.read(f"{archive.prefix}data.pkl"))
        if weights_only:
            result = _weights_only_unpickler(data, file_size, storage).load()
        else:
            result = _TrustedUnpickler(data, archive.file_size, storage).load()
        archive.check_serialization_id()
        return result


__all__ = ["LoadEndianness", "SourceChangeWarning", "add_safe_globals", "clear_safe_globals",
           "get_crc32_options", "get_default_load_endianness", "get_safe_globals",
           "get_unsafe_globals_in_checkpoint", "load", "safe_globals", "save",
           "set_crc32_options", "set_default_load_endianness"]


@tensor_method("__reduce_ex__")
def tensor_reduce_ex(self, protocol):
    return _reduce_tensor(self)
