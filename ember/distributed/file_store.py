"""FileStore: a key-value store in a file that processes share (matches
`torch.distributed.FileStore`, and writes torch's own format, so both can share one file).

NOTE [FileStore's file]
The file is an append-only log of records, each a key then a value, both as a native uint32
length followed by the bytes. A user key k is written as "/k"; deleting it appends "-/k" with an
empty value. Every operation takes an flock on the file (shared to read, exclusive to write) and
replays the records it has not seen into a cache. Each store adds 1 to "refcount/" when made;
when it goes away it adds 1 to "cleanup/" and -1 to "refcount/", and once "cleanup/" reaches
world_size (when given) the file is removed -- torch's rule, internal keys counted by num_keys.
"""

import fcntl
import os
import struct
import time

from ember.distributed.store import Store, check_amount, check_key, stoll, to_bytes

_REGULAR, _DELETE, _REFCOUNT, _CLEANUP = "/", "-", "refcount/", "cleanup/"
_POLL_SECONDS = 0.01


def _record(key: bytes, value: bytes) -> bytes:
    return struct.pack("=I", len(key)) + key + struct.pack("=I", len(value)) + value


class FileStore(Store):
    """A store backed by a file, safe across processes (NOTE [FileStore's file])."""

    def __init__(self, file_name: str, world_size: int = -1):
        super().__init__()
        self.path = file_name
        self.world_size = world_size
        self._cache, self._position = {}, 0
        self._add(_REFCOUNT, 1)

    def __del__(self):
        try:
            finished = self._add(_CLEANUP, 1)
            self._add(_REFCOUNT, -1)
            if self.world_size >= 0 and finished >= self.world_size:
                os.remove(self.path)
        except (OSError, AttributeError):  # the file (or the interpreter) is already gone
            pass

    def _locked(self, exclusive, action):
        """Run action(file) under the file's lock, after replaying new records."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            self._refresh(fd)
            return action(fd)
        finally:
            os.close(fd)  # releases the lock

    def _refresh(self, fd):
        """Replay the records written since the last look into the cache."""
        size = os.fstat(fd).st_size
        if size <= self._position:
            return
        os.lseek(fd, self._position, os.SEEK_SET)
        data, offset = os.read(fd, size - self._position), 0
        while offset < len(data):
            (key_len,) = struct.unpack_from("=I", data, offset)
            key = data[offset + 4:offset + 4 + key_len].decode()
            offset += 4 + key_len
            (value_len,) = struct.unpack_from("=I", data, offset)
            value = data[offset + 4:offset + 4 + value_len]
            offset += 4 + value_len
            if key.startswith(_DELETE):
                self._cache.pop(key[len(_DELETE):], None)
            else:
                self._cache[key] = value
        self._position += offset

    def _write(self, fd, key: str, value: bytes):
        os.lseek(fd, 0, os.SEEK_END)
        os.write(fd, _record(key.encode(), value))

    def _add(self, key: str, amount: int) -> int:
        def action(fd):
            value = stoll(self._cache[key]) + amount if key in self._cache else amount
            self._write(fd, key, str(value).encode())
            return value

        return self._locked(True, action)

    def _wait_for(self, keys, seconds, message):
        """Poll until every key is in the file; RuntimeError(message) after `seconds`."""
        deadline = time.monotonic() + seconds
        while not self._locked(False, lambda fd: all(k in self._cache for k in keys)):
            if time.monotonic() > deadline:
                raise RuntimeError(message)
            time.sleep(_POLL_SECONDS)

    def set(self, key, value) -> None:
        key, value = check_key(key, "set", self), to_bytes(value, "set", self)
        self._locked(True, lambda fd: self._write(fd, _REGULAR + key, value))

    def get(self, key) -> bytes:
        key = _REGULAR + check_key(key, "get", self)
        ms = round(self._seconds() * 1000)
        self._wait_for([key], self._seconds(),
                       f"Timeout waiting for key: {key[len(_REGULAR):]} after {ms} ms")
        return self._cache[key]

    def add(self, key, value) -> int:
        return self._add(_REGULAR + check_key(key, "add", self), check_amount(value, self))

    def compare_set(self, key, expected_value, desired_value) -> bytes:
        key = _REGULAR + check_key(key, "compare_set", self)
        expected = to_bytes(expected_value, "compare_set", self)
        desired = to_bytes(desired_value, "compare_set", self)

        def action(fd):
            if (key not in self._cache and not expected) or self._cache.get(key) == expected:
                self._write(fd, key, desired)
                return desired
            return self._cache.get(key, expected)

        return self._locked(True, action)

    def wait(self, keys, timeout=None) -> None:
        self._wait_for([_REGULAR + check_key(k, "wait", self) for k in keys],
                       self._seconds(timeout), "Wait timeout")

    def check(self, keys) -> bool:
        keys = [_REGULAR + check_key(k, "check", self) for k in keys]
        return self._locked(False, lambda fd: all(k in self._cache for k in keys))

    def delete_key(self, key) -> bool:
        """Append a deletion record; True, as torch's, whether the key existed or not."""
        key = _REGULAR + check_key(key, "delete_key", self)
        self._locked(True, lambda fd: self._write(fd, _DELETE + key, b""))
        return True

    def num_keys(self) -> int:
        """Every key in the file, the internal refcount/ and cleanup/ ones too (as torch)."""
        return self._locked(False, lambda fd: len(self._cache))

    def list_keys(self) -> list:
        """The keys without their first character, as torch's (its internal keys included)."""
        return self._locked(False, lambda fd: [k[len(_REGULAR):] for k in self._cache])

    def append(self, key, value) -> None:
        key = _REGULAR + check_key(key, "append", self)
        value = to_bytes(value, "append", self)
        self._locked(True, lambda fd: self._write(fd, key, self._cache.get(key, b"") + value))

    def multi_get(self, keys) -> list:
        return [self.get(key) for key in keys]

    def multi_set(self, keys, values) -> None:
        for key, value in zip(keys, values):
            self.set(key, value)

    def _no_queues(self, *args, **kwargs):
        raise NotImplementedError("queue support is not implemented.")

    queue_push = queue_pop = queue_len = _no_queues

    def clone(self):
        return FileStore(self.path, self.world_size)

