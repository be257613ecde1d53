"""Event files: TFRecord-framed `Event` protobufs, written by a background thread.

File names follow TensorFlow's `events.out.tfevents.<time>.<hostname>.<pid>.<n><suffix>`; the
first record is an Event with `file_version = "brain.Event:2"`, which is how TensorBoard
recognises the file.
"""

import atexit
import itertools
import os
import queue
import socket
import struct
import threading
import time
import weakref

from tensorboard.compat.proto import event_pb2

from ember.utils.tensorboard._crc32c import masked_crc32c

_file_numbers = itertools.count()  # the trailing <n>, unique within this process
_open_writers = weakref.WeakSet()
_FLUSH = object()
_CLOSE = object()


def tfrecord(data: bytes) -> bytes:
    """Frame one record: length, masked CRC of length, data, masked CRC of data."""
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header)) + data
            + struct.pack("<I", masked_crc32c(data)))


class EventFileWriter:
    """Appends serialized Events to a new event file in `logdir` from a writer thread."""

    def __init__(self, logdir: str, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = ""):
        os.makedirs(logdir, exist_ok=True)
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_file_numbers)}{filename_suffix}")
        self._path = os.path.join(logdir, name)
        self._file = open(self._path, "wb")
        self._flush_secs = flush_secs
        self._pid = os.getpid()
        # NOTE [Queue and writer thread]
        # add_event only serializes and enqueues; the thread frames, writes and, every
        # flush_secs, flushes to disk. The queue holds at most max_queue records: a producer
        # faster than the disk blocks instead of growing memory. flush() enqueues a marker and
        # waits until the thread has handled everything before it, so nothing queued is lost.
        self._queue = queue.Queue(max(1, int(max_queue)))
        self._error = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="ember-tensorboard-writer",
                                        daemon=True)
        self._thread.start()
        _open_writers.add(self)
        self.add_event(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))
        self.flush()

    def get_filename(self) -> str:
        """The path of the event file being written."""
        return self._path

    def add_event(self, event) -> None:
        """Queue an `Event` protobuf for writing."""
        if self._closed:
            raise RuntimeError(f"the event file {self._path} is closed")
        self._raise_worker_error()
        self._queue.put(event.SerializeToString())

    def flush(self) -> None:
        """Write every queued event and flush the file to disk."""
        if self._closed:
            return
        self._queue.put(_FLUSH)
        self._queue.join()
        self._raise_worker_error()

    def close(self) -> None:
        """Flush, stop the writer thread and close the file (calling it again does nothing)."""
        if self._closed:
            return
        self.flush()
        self._closed = True
        self._queue.put(_CLOSE)
        self._thread.join()
        self._file.close()
        _open_writers.discard(self)

    def _raise_worker_error(self):
        if self._error is not None:
            error, self._error = self._error, None
            raise OSError(f"writing {self._path} failed") from error

    def _run(self):
        next_flush = time.monotonic() + self._flush_secs
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, next_flush - time.monotonic()))
            except queue.Empty:
                item = None
            try:
                if item is _CLOSE:
                    return
                if item is not None and item is not _FLUSH:
                    self._file.write(tfrecord(item))
                if item is _FLUSH or time.monotonic() >= next_flush:
                    self._file.flush()
                    next_flush = time.monotonic() + self._flush_secs
            except Exception as error:  # reported to the caller by the next add/flush
                self._error = error
            finally:
                if item is not None:
                    self._queue.task_done()


@atexit.register
def _close_open_writers():
    """At interpreter exit, write out what is still queued (the writer thread is a daemon)."""
    for writer in list(_open_writers):
        if writer._pid == os.getpid():  # a forked child has the object but not the thread
            writer.close()
