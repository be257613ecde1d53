"""Key-value stores (matches torch.distributed's Store, HashStore and PrefixStore; FileStore and
TCPStore live in file_store.py and tcp_store.py). Values are bytes; set() takes str or bytes.

NOTE [Store timeouts]
get, wait and multi_get block until the keys exist or the store's timeout (set_timeout, 300 s
by default as torch) passes; the error and its wording differ per store, as they do in torch:
HashStore raises DistStoreError("Wait timeout"), FileStore RuntimeError, TCPStore
DistStoreError naming the keys.
"""

import datetime
import re
import threading
import time

from ember.distributed.errors import DistStoreError, QueueEmptyError

DEFAULT_TIMEOUT = datetime.timedelta(seconds=300)


def to_bytes(value, method: str, store) -> bytes:
    """A value as the bytes torch stores (str is UTF-8); TypeError as torch's binding."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    raise TypeError(f"{method}(): incompatible function arguments. The following argument types "
                    f"are supported:\n    1. (self: torch._C._distributed_c10d.Store, arg0: str, "
                    f"arg1: str) -> None\n\nInvoked with: {store!r}, {value!r}")


def check_key(key, method: str, store) -> str:
    """A key as str (bytes are decoded as torch's std::string binding accepts them)."""
    if isinstance(key, bytes):
        return key.decode()
    if not isinstance(key, str):
        raise TypeError(f"{method}(): incompatible function arguments. The following argument "
                        "types are supported:\n    1. (self: torch._C._distributed_c10d.Store, "
                        f"arg0: str, arg1: str) -> None\n\nInvoked with: {store!r}, {key!r}")
    return key


def check_amount(amount, store) -> int:
    """add()'s integer amount; TypeError for anything else, as torch's binding."""
    if isinstance(amount, bool) or not hasattr(amount, "__index__"):
        raise TypeError("add(): incompatible function arguments. The following argument types "
                        "are supported:\n    1. (self: torch._C._distributed_c10d.Store, arg0: "
                        "str, arg1: typing.SupportsInt | typing.SupportsIndex) -> int\n\n"
                        f"Invoked with: {store!r}, {amount!r}")
    return amount.__index__()


def stoll(value: bytes) -> int:
    """C++ std::stoll: leading spaces, a sign and digits; ValueError('stoll') without digits."""
    match = re.match(rb"\s*([+-]?\d+)", value)
    if match is None:
        raise ValueError("stoll")
    return int(match.group(1))


class Timeout(Exception):
    """Raised by MemoryStore when keys did not appear in time; each store words its error."""

    def __init__(self, keys, seconds):
        super().__init__(keys)
        self.keys, self.seconds = list(keys), seconds


class MemoryStore:
    """The thread-safe dict behind HashStore and the TCPStore server."""

    def __init__(self):
        self.data = {}
        self.queues = {}
        self.changed = threading.Condition()

    def set(self, key, value):
        with self.changed:
            self.data[key] = value
            self.changed.notify_all()

    def wait(self, keys, seconds):
        """Block until every key exists; Timeout after `seconds`."""
        deadline = time.monotonic() + seconds
        with self.changed:
            while not all(k in self.data for k in keys):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Timeout(keys, seconds)
                self.changed.wait(left)

    def get(self, key, seconds):
        self.wait([key], seconds)
        with self.changed:
            return self.data[key]

    def multi_get(self, keys, seconds):
        self.wait(keys, seconds)
        with self.changed:
            return [self.data[k] for k in keys]

    def add(self, key, amount):
        with self.changed:
            value = stoll(self.data[key]) + amount if key in self.data else amount
            self.set(key, str(value).encode())
            return value

    def compare_set(self, key, expected, desired):
        """torch's rule: set if (missing and expected empty) or equal; return the value now."""
        with self.changed:
            if key not in self.data:
                if expected:
                    return expected
            elif self.data[key] != expected:
                return self.data[key]
            self.set(key, desired)
            return desired

    def append(self, key, value):
        with self.changed:
            self.set(key, self.data.get(key, b"") + value)

    def delete_key(self, key):
        with self.changed:
            return self.data.pop(key, None) is not None

    def check(self, keys):
        with self.changed:
            return all(k in self.data for k in keys)

    def keys(self):
        with self.changed:
            return list(self.data)

    def queue_push(self, key, value):
        with self.changed:
            self.queues.setdefault(key, []).append(value)
            self.changed.notify_all()

    def queue_pop(self, key, block, seconds):
        """The oldest value of the queue; QueueEmptyError / Timeout when there is none."""
        deadline = time.monotonic() + seconds
        with self.changed:
            while not self.queues.get(key):
                left = deadline - time.monotonic()
                if not block:
                    raise QueueEmptyError("queue is empty")
                if left <= 0:
                    raise Timeout([key], seconds)
                self.changed.wait(left)
            return self.queues[key].pop(0)

    def queue_len(self, key):
        with self.changed:
            return len(self.queues.get(key, ()))


class Store:
    """The base of the stores (matches `torch.distributed.Store`): its operations are abstract."""

    def __init__(self):
        self._timeout = DEFAULT_TIMEOUT

    @property
    def timeout(self) -> datetime.timedelta:
        """How long get/wait block before giving up (NOTE [Store timeouts])."""
        return self._timeout

    def set_timeout(self, timeout: datetime.timedelta) -> None:
        """Set the default timeout of the blocking operations."""
        self._timeout = timeout

    def _seconds(self, timeout=None) -> float:
        return (self._timeout if timeout is None else timeout).total_seconds()

    def _abstract(self, *args, **kwargs):
        raise RuntimeError("Not implemented.")

    set = get = add = compare_set = wait = check = delete_key = num_keys = _abstract
    append = multi_get = multi_set = list_keys = queue_push = queue_pop = _abstract
    queue_len = clone = _abstract

    def has_extended_api(self) -> bool:
        """Whether append/multi_get/multi_set are native (the default implementations loop)."""
        return False


class HashStore(Store):
    """An in-process store, safe across threads (matches `torch.distributed.HashStore`)."""

    def __init__(self):
        super().__init__()
        self._memory = MemoryStore()

    def _blocking(self, call, *args):
        """Run a blocking MemoryStore call; torch's DistStoreError on timeout."""
        try:
            return call(*args)
        except Timeout:
            raise DistStoreError("Wait timeout") from None

    def set(self, key, value) -> None:
        self._memory.set(check_key(key, "set", self), to_bytes(value, "set", self))

    def get(self, key) -> bytes:
        return self._blocking(self._memory.get, check_key(key, "get", self), self._seconds())

    def add(self, key, value) -> int:
        return self._memory.add(check_key(key, "add", self), check_amount(value, self))

    def compare_set(self, key, expected_value, desired_value) -> bytes:
        return self._memory.compare_set(check_key(key, "compare_set", self),
                                        to_bytes(expected_value, "compare_set", self),
                                        to_bytes(desired_value, "compare_set", self))

    def wait(self, keys, timeout=None) -> None:
        self._blocking(self._memory.wait, list(keys), self._seconds(timeout))

    def check(self, keys) -> bool:
        return self._memory.check(list(keys))

    def delete_key(self, key) -> bool:
        return self._memory.delete_key(check_key(key, "delete_key", self))

    def num_keys(self) -> int:
        return len(self._memory.keys())

    def list_keys(self) -> list:
        return self._memory.keys()

    def append(self, key, value) -> None:
        self._memory.append(check_key(key, "append", self), to_bytes(value, "append", self))

    def multi_get(self, keys) -> list:
        return self._blocking(self._memory.multi_get, list(keys), self._seconds())

    def multi_set(self, keys, values) -> None:
        for key, value in zip(keys, values):
            self.set(key, value)

    def queue_push(self, key, value) -> None:
        self._memory.queue_push(key, to_bytes(value, "queue_push", self))

    def queue_pop(self, key, block: bool = True) -> bytes:
        return self._blocking(self._memory.queue_pop, key, block, self._seconds())

    def queue_len(self, key) -> int:
        return self._memory.queue_len(key)

    def has_extended_api(self) -> bool:
        return True

    def clone(self):
        """Another handle on the same data."""
        twin = HashStore()
        twin._memory, twin._timeout = self._memory, self._timeout
        return twin


class PrefixStore(Store):
    """Another store seen with "<prefix>/" before every key (matches torch's PrefixStore)."""

    def __init__(self, prefix: str, store: Store):
        super().__init__()
        self._prefix = prefix
        self.underlying_store = store

    @property
    def _underlying_non_prefix_store(self):
        """The first store under the chain of PrefixStores."""
        store = self.underlying_store
        while isinstance(store, PrefixStore):
            store = store.underlying_store
        return store

    @property
    def timeout(self):
        return self.underlying_store.timeout

    def set_timeout(self, timeout) -> None:
        self.underlying_store.set_timeout(timeout)

    def _key(self, key) -> str:
        return f"{self._prefix}/{check_key(key, 'key', self)}"

    def set(self, key, value) -> None:
        self.underlying_store.set(self._key(key), value)

    def get(self, key) -> bytes:
        return self.underlying_store.get(self._key(key))

    def add(self, key, value) -> int:
        return self.underlying_store.add(self._key(key), value)

    def compare_set(self, key, expected_value, desired_value) -> bytes:
        return self.underlying_store.compare_set(self._key(key), expected_value, desired_value)

    def wait(self, keys, timeout=None) -> None:
        keys = [self._key(k) for k in keys]
        if timeout is None:
            self.underlying_store.wait(keys)
        else:
            self.underlying_store.wait(keys, timeout)

    def check(self, keys) -> bool:
        return self.underlying_store.check([self._key(k) for k in keys])

    def delete_key(self, key) -> bool:
        return self.underlying_store.delete_key(self._key(key))

    def num_keys(self) -> int:
        """The underlying store's count, as torch's (not only this prefix's keys)."""
        return self.underlying_store.num_keys()

    def list_keys(self) -> list:
        start = f"{self._prefix}/"
        return [k[len(start):] for k in self.underlying_store.list_keys() if k.startswith(start)]

    def append(self, key, value) -> None:
        self.underlying_store.append(self._key(key), value)

    def multi_get(self, keys) -> list:
        return self.underlying_store.multi_get([self._key(k) for k in keys])

    def multi_set(self, keys, values) -> None:
        self.underlying_store.multi_set([self._key(k) for k in keys], values)

    def queue_push(self, key, value) -> None:
        self.underlying_store.queue_push(self._key(key), value)

    def queue_pop(self, key, block: bool = True) -> bytes:
        return self.underlying_store.queue_pop(self._key(key), block)

    def queue_len(self, key) -> int:
        return self.underlying_store.queue_len(self._key(key))

    def has_extended_api(self) -> bool:
        return self.underlying_store.has_extended_api()

    def clone(self):
        return PrefixStore(self._prefix, self.underlying_store.clone())
