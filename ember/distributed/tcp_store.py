"""TCPStore: a key-value store served over TCP by the master process (matches
`torch.distributed.TCPStore`).

NOTE [The TCPStore server]
The master (is_master=True) starts a small server in daemon threads, one per connection, over
a MemoryStore; every TCPStore, the master's own included, is a client with one connection.
A request is a length-prefixed JSON list [method, args, timeout in seconds] (bytes travel as
{"b": latin-1 text}); the reply is [value] or ["error", class name, message]. Blocking calls
(get, wait, queue_pop) block in the server's thread for the connection, up to the timeout.
User keys are stored as "/key" and the workers' counter as "init/", as torch's, so num_keys
and the error messages read the same. The server stops when the master's store is collected.
"""

import datetime
import json
import socket
import socketserver
import struct
import sys
import threading
import time

from ember.distributed.errors import DistNetworkError, DistStoreError, QueueEmptyError
from ember.distributed.store import (MemoryStore, Store, Timeout, check_amount, check_key,
                                     to_bytes)

_REGULAR, _INIT = "/", "init/"
_ERRORS = {"DistStoreError": DistStoreError, "QueueEmptyError": QueueEmptyError,
           "ValueError": ValueError}


def _encode(obj):
    """JSON-ready form of obj (bytes tagged)."""
    if isinstance(obj, bytes):
        return {"b": obj.decode("latin-1")}
    if isinstance(obj, (list, tuple)):
        return [_encode(item) for item in obj]
    return obj


def _decode(obj):
    if isinstance(obj, dict):
        return obj["b"].encode("latin-1")
    if isinstance(obj, list):
        return [_decode(item) for item in obj]
    return obj


def _send(sock, obj):
    payload = json.dumps(_encode(obj)).encode()
    sock.sendall(struct.pack("!I", len(payload)) + payload)


def _receive_exactly(sock, size):
    chunks, left = [], size
    while left:
        chunk = sock.recv(left)
        if not chunk:
            raise DistNetworkError("Failed to recv, got 0 bytes. Connection was likely closed. "
                                   "Did the remote server shutdown or crash?")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _receive(sock):
    (size,) = struct.unpack("!I", _receive_exactly(sock, 4))
    return _decode(json.loads(_receive_exactly(sock, size)))


def _wait_message(keys, seconds):
    return f"wait timeout after {round(seconds * 1000)}ms, keys: {', '.join(keys)}"


def _serve(memory, method, args, seconds):
    """One request against the server's MemoryStore."""
    if method in ("get", "wait", "multi_get"):
        try:
            return getattr(memory, method)(args[0], seconds)
        except Timeout as timeout:
            keys = timeout.keys if isinstance(timeout.keys, list) else [timeout.keys]
            raise DistStoreError(_wait_message(keys, seconds)) from None
    if method == "queue_pop":
        try:
            return memory.queue_pop(args[0], args[1], seconds)
        except Timeout as timeout:
            raise DistStoreError(_wait_message(timeout.keys, seconds)) from None
    if method in ("set", "add", "compare_set", "append", "delete_key", "check", "keys",
                  "queue_push", "queue_len"):
        return getattr(memory, method)(*args)
    raise ValueError(f"unknown TCPStore request {method!r}")


class _Handler(socketserver.BaseRequestHandler):
    """Answers one client's requests until it disconnects."""

    def handle(self):
        memory = self.server.memory
        while True:
            try:
                method, args, seconds = _receive(self.request)
            except (DistNetworkError, OSError, ValueError):
                return
            try:
                reply = [_serve(memory, method, args, seconds)]
            except (DistStoreError, ValueError) as error:
                reply = ["error", type(error).__name__, str(error)]
            _send(self.request, reply)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def _start_server(port):
    """The master's server on every address at `port` (0: any free one), serving in a thread."""
    try:
        server = _Server(("", port), _Handler)
    except OSError as error:
        raise DistNetworkError(
            "The server socket has failed to listen on any local network address. port: "
            f"{port}, useIpv6: false, code: -{error.errno}, name: EADDRINUSE, message: address "
            "already in use") from None
    server.memory = MemoryStore()
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def _connect(host, port, seconds):
    """A connection to the server, retried until `seconds` pass."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return socket.create_connection((host, port), timeout=max(seconds, 0.001))
        except OSError:
            if time.monotonic() > deadline:
                raise DistNetworkError(f"The client socket has timed out after "
                                       f"{round(seconds * 1000)}ms while trying to connect to "
                                       f"({host}, {port}).") from None
            time.sleep(0.05)


class TCPStore(Store):
    """A store that one process serves to the others over TCP (NOTE [The TCPStore server])."""

    def __init__(self, host_name: str, port: int, world_size=None, is_master: bool = False,
                 timeout: datetime.timedelta = datetime.timedelta(seconds=300),
                 wait_for_workers: bool = True, multi_tenant: bool = False,
                 master_listen_fd=None, use_libuv: bool = True):
        super().__init__()
        self._timeout = timeout
        self.host, self.libuvBackend = host_name, use_libuv
        self._server = _start_server(port) if is_master else None
        self.port = self._server.server_address[1] if self._server else port
        self._socket = _connect(host_name, self.port, timeout.total_seconds())
        self._socket.settimeout(None)  # blocking requests bound their own wait
        self._lock = threading.Lock()
        if world_size is not None and wait_for_workers:
            self._call("add", _INIT, 1)
            if is_master:
                self._wait_for_workers(world_size)

    def _wait_for_workers(self, world_size):
        """Block until world_size stores have joined (counted in "init/")."""
        deadline = time.monotonic() + self._seconds()
        while int(self._call("get", _INIT)) < world_size:
            if time.monotonic() > deadline:
                joined = int(self._call("get", _INIT))
                raise DistStoreError(f"Timed out after {round(self._seconds())} seconds waiting "
                                     f"for clients. {joined}/{world_size} clients joined.")
            time.sleep(0.01)

    def __del__(self):
        sock, server = getattr(self, "_socket", None), getattr(self, "_server", None)
        if sock is not None:
            sock.close()
        if server is not None:
            if not sys.is_finalizing():  # at exit the serving thread is frozen: never answers
                server.shutdown()
            server.server_close()

    def _call(self, method, *args, timeout=None):
        """Send one request and return its reply (raising the server's error)."""
        with self._lock:
            _send(self._socket, [method, list(args), self._seconds(timeout)])
            reply = _receive(self._socket)
        if len(reply) == 3 and reply[0] == "error":
            raise _ERRORS[reply[1]](reply[2])
        return reply[0]

    def _key(self, key, method):
        return _REGULAR + check_key(key, method, self)

    def set(self, key, value) -> None:
        self._call("set", self._key(key, "set"), to_bytes(value, "set", self))

    def get(self, key) -> bytes:
        return self._call("get", self._key(key, "get"))

    def add(self, key, value) -> int:
        return self._call("add", self._key(key, "add"), check_amount(value, self))

    def compare_set(self, key, expected_value, desired_value) -> bytes:
        return self._call("compare_set", self._key(key, "compare_set"),
                          to_bytes(expected_value, "compare_set", self),
                          to_bytes(desired_value, "compare_set", self))

    def wait(self, keys, timeout=None) -> None:
        self._call("wait", [self._key(k, "wait") for k in keys], timeout=timeout)

    def check(self, keys) -> bool:
        return self._call("check", [self._key(k, "check") for k in keys])

    def delete_key(self, key) -> bool:
        return self._call("delete_key", self._key(key, "delete_key"))

    def num_keys(self) -> int:
        """The keys held, the workers' "init/" counter included (as torch's)."""
        return len(self._call("keys"))

    def list_keys(self) -> list:
        return [k[len(_REGULAR):] for k in self._call("keys") if k.startswith(_REGULAR)]

    def append(self, key, value) -> None:
        self._call("append", self._key(key, "append"), to_bytes(value, "append", self))

    def multi_get(self, keys) -> list:
        return self._call("multi_get", [self._key(k, "multi_get") for k in keys])

    def multi_set(self, keys, values) -> None:
        for key, value in zip(keys, values):
            self.set(key, value)

    def queue_push(self, key, value) -> None:
        self._call("queue_push", self._key(key, "queue_push"), to_bytes(value, "queue_push",
                                                                        self))

    def queue_pop(self, key, block: bool = True) -> bytes:
        return self._call("queue_pop", self._key(key, "queue_pop"), block)

    def queue_len(self, key) -> int:
        return self._call("queue_len", self._key(key, "queue_len"))

    def has_extended_api(self) -> bool:
        return True

    def clone(self):
        """Another client of the same server."""
        return TCPStore(self.host, self.port, timeout=self._timeout)
