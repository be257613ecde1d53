"""A Future as `torch.futures.Future`: what async collectives' get_future() and DDP
communication hooks return.

NOTE [Futures complete when waited on]
torch completes a Future from its backend's threads and runs `then` callbacks at that moment.
Over MPI nothing progresses by itself, so a Future made from a started collective keeps the
step that finishes it (`_pending`): wait(), value() or done() run that step once, then the
callbacks. A Future made by the user completes at set_result, as in torch.
"""

from typing import Generic, TypeVar

T = TypeVar("T")


class Future(Generic[T]):
    """The result of an operation that may not have finished yet (matches torch.futures.Future;
    `Future[Tensor]` is a valid annotation)."""

    def __init__(self, *, devices=None):
        self._done = False
        self._value = None
        self._error = None
        self._callbacks = []
        self._finish = None  # (blocking finish -> value, non-blocking ready check) or None

    @classmethod
    def _pending(cls, finish, ready):
        """A Future that `finish()` completes (NOTE above); `ready()` tells if it can."""
        future = cls()
        future._finish = (finish, ready)
        return future

    def done(self) -> bool:
        """Whether the result (or error) is set."""
        if not self._done and self._finish is not None and self._finish[1]():
            self._run_finish()
        return self._done

    def wait(self) -> T:
        """Block until done; the value, or raise the error it completed with."""
        if not self._done:
            if self._finish is None:
                raise RuntimeError("Future.wait() would block forever: nothing will complete "
                                   "this Future (call set_result first)")
            self._run_finish()
        return self.value()

    def value(self) -> T:
        """The value of a completed Future (raises its error)."""
        if self._error is not None:
            raise self._error
        return self._value

    def set_result(self, result: T) -> None:
        """Complete the Future with a value and run its callbacks."""
        if self._done:
            raise RuntimeError("Attempting to mark a completed Future as complete again. Note "
                               "that a Future can only be marked completed once.")
        self._complete(result, None)

    def set_exception(self, result) -> None:
        """Complete the Future with an error (raised by wait() and value())."""
        if not isinstance(result, BaseException):
            raise AssertionError(f"{result} is of type {type(result)}, not an Exception.")
        self._complete(None, result)

    def then(self, callback):
        """A new Future holding callback(self), run once this one completes."""
        child = Future._pending(lambda: _chained(self, callback), self.done)
        self.add_done_callback(lambda _: child.done())
        return child

    def add_done_callback(self, callback) -> None:
        """Run callback(self) when this Future completes (now if it has)."""
        if self._done:
            callback(self)
        else:
            self._callbacks.append(callback)

    def _run_finish(self):
        """Run the finishing step once; its value or error completes the Future."""
        finish, self._finish = self._finish[0], None
        try:
            value = finish()
        except Exception as error:  # the error is the Future's result, raised by wait()
            self._complete(None, error)
            return
        self._complete(value, None)

    def _complete(self, value, error):
        self._value, self._error, self._done = value, error, True
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)


def _chained(parent, callback):
    """callback(parent) once parent is complete (its error reaches the callback via value())."""
    if not parent._done and parent._finish is not None:
        parent._run_finish()
    try:
        return callback(parent)
    except Exception as error:  # torch wraps a failing callback's error in a RuntimeError
        raise RuntimeError("Got the following error when running the callback: "
                           f"{type(error).__name__}: {error}") from error


def collect_all(futures):
    """A Future of the list of the given Futures, complete when they all are."""
    futures = list(futures)

    def finish():
        wait_all(futures)
        return futures

    return Future._pending(finish, lambda: all(f.done() for f in futures))


def wait_all(futures):
    """The values of the given Futures, waiting for each."""
    return [future.wait() for future in futures]

__all__ = ["Future", "collect_all", "wait_all"]
