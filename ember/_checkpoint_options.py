"""The process-wide settings of save/load (matches torch.serialization's setters and getters):
the user's weights_only allow-list, the byte order assumed for files that record none, and the
CRC option of save."""

from enum import Enum

# ---- the allow-list, extended by the user ----------------------------------------------------
USER_SAFE_GLOBALS = {}  # "module.name" -> object, on top of the default allow-list


def add_safe_globals(safe_globals):
    """Allow these globals (objects, or (object, "module.name") pairs) in weights_only loads."""
    for entry in safe_globals:
        obj, name = entry if isinstance(entry, tuple) else \
            (entry, f"{entry.__module__}.{entry.__qualname__}")
        USER_SAFE_GLOBALS[name] = obj


def get_safe_globals():
    """The user-added allow-list entries (matches `torch.serialization.get_safe_globals`)."""
    return list(USER_SAFE_GLOBALS.values())


def clear_safe_globals():
    """Forget every user-added allow-list entry."""
    USER_SAFE_GLOBALS.clear()


class safe_globals:
    """Context manager allowing globals for the loads inside it (matches torch's)."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        self._before = dict(USER_SAFE_GLOBALS)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        USER_SAFE_GLOBALS.clear()
        USER_SAFE_GLOBALS.update(self._before)


class SourceChangeWarning(Warning):
    """torch warns with this when a whole module's saved source differs from its class's."""


# ---- byte order and CRCs -----------------------------------------------------------------------
class LoadEndianness(Enum):
    """The byte order assumed for a zip checkpoint without a `byteorder` record."""

    NATIVE = 1
    LITTLE = 2
    BIG = 3


_settings = {"endianness": None, "crc32": True}


def get_default_load_endianness():
    """The byte order assumed for checkpoints that record none; None means little-endian."""
    return _settings["endianness"]


def set_default_load_endianness(endianness):
    """Assume this byte order for checkpoints without a `byteorder` record (matches torch)."""
    if not isinstance(endianness, LoadEndianness) and endianness is not None:
        raise TypeError("Invalid argument type in function set_default_load_endianness")
    _settings["endianness"] = endianness


def assumes_big_endian(native_is_big: bool) -> bool:
    """Whether a checkpoint without a `byteorder` record is read as big-endian."""
    endianness = _settings["endianness"]
    return endianness is LoadEndianness.BIG or \
        (endianness is LoadEndianness.NATIVE and native_is_big)


def get_crc32_options() -> bool:
    """Whether save computes each record's CRC-32 (matches torch; default True)."""
    return _settings["crc32"]


def set_crc32_options(compute_crc32: bool):
    """Whether save should compute CRC-32s (matches torch's setter). ember always writes them:
    Python's zipfile computes them as it writes, and files load the same either way."""
    _settings["crc32"] = compute_crc32
