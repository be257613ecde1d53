"""ember.compiler: `torch.compiler`'s switches, for code that runs under `torch.compile` (see
NOTE [torch.compile runs eagerly] in ember/_dynamo/eval_frame.py)."""

import contextlib

from ember._dynamo import allow_in_graph, disable, is_compiling, list_backends, reset
from ember._dynamo.eval_frame import compile_model as compile  # noqa: A001


def is_dynamo_compiling() -> bool:
    return False


def is_exporting() -> bool:
    return False


def assume_constant_result(fn):
    return fn


def cudagraph_mark_step_begin() -> None:
    """Accepted and ignored."""


@contextlib.contextmanager
def _stance_block():
    yield


def set_stance(stance="default", *, skip_guard_eval_unsafe=False, force_backend=None):
    """Choose how compiled code runs; on ember it always runs eagerly (a no-op context manager
    and decorator, as torch's is when used either way)."""
    return _stance_block()


__all__ = ["allow_in_graph", "assume_constant_result", "compile", "cudagraph_mark_step_begin",
           "disable", "is_compiling", "is_dynamo_compiling", "is_exporting", "list_backends",
           "reset", "set_stance"]
