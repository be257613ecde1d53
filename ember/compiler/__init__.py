"""ember.compiler: `torch.compiler`'s switches, for code that runs under `torch.compile` (see
NOTE [torch.compile runs eagerly] in ember/_dynamo/eval_frame.py)."""

from ember._dynamo import allow_in_graph, disable, is_compiling, reset


def is_dynamo_compiling() -> bool:
    return False


def is_exporting() -> bool:
    return False


def assume_constant_result(fn):
    return fn


def cudagraph_mark_step_begin() -> None:
    """Accepted and ignored."""


__all__ = ["allow_in_graph", "assume_constant_result", "cudagraph_mark_step_begin", "disable",
           "is_compiling", "is_dynamo_compiling", "is_exporting", "reset"]
