"""`record` and `ChildFailedError` (match `torch.distributed.elastic.multiprocessing.errors`).

torchrun's scripts decorate their main function with `@record` so that a failing rank's error
reaches the launcher. Under `ember run` each rank's traceback is printed by the rank itself
(ember/cli/_rank.py) and the MPI job is aborted, so `record` only keeps torch's other behaviour:
an exit with status 0 inside the function returns None instead of leaving the interpreter.
"""

import functools


class ChildFailedError(Exception):
    """Raised by a launcher when one of its processes failed (matches torch's class name)."""

    def __init__(self, name: str, failures=None):
        self.name = name
        self.failures = dict(failures or {})
        super().__init__(f"{name} FAILED")


def record(fn, error_handler=None):
    """Decorate a rank's main function: its exceptions propagate; `sys.exit(0)` returns None."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SystemExit as exit_:
            if exit_.code == 0:
                return None
            raise

    return wrapper


__all__ = ["ChildFailedError", "record"]
