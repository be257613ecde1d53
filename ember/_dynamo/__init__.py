"""ember._dynamo: the names of `torch._dynamo` that training scripts touch (configuration,
reset, disable). There is no graph capture on ember: see NOTE [torch.compile runs eagerly] in
ember/_dynamo/eval_frame.py."""

from ember._dynamo import config
from ember._dynamo.eval_frame import OptimizedModule


def reset() -> None:
    """Forget compiled code (there is none)."""


def is_compiling() -> bool:
    """False: ember code never runs under graph capture."""
    return False


def disable(fn=None, recursive=True, *, reason=None):
    """The function itself (nothing is compiled to opt out of)."""
    if fn is None:
        return lambda f: f
    return fn


def allow_in_graph(fn):
    return fn


def mark_dynamic(t, index, *, min=None, max=None, specialize_on=None) -> None:
    """Accepted and ignored."""


def mark_static(t, index=None) -> None:
    """Accepted and ignored."""


def optimize(backend="inductor", *, nopython=False, dynamic=None, **kwargs):
    """A decorator returning the function unchanged."""
    return lambda fn: fn


def maybe_mark_dynamic(t, index) -> None:
    """Accepted and ignored."""


def mark_static_address(t, guard=False) -> None:
    """Accepted and ignored."""


def graph_break(msg: str = "") -> None:
    """Nothing to break: ember code always runs eagerly."""


def disallow_in_graph(fn):
    return fn


forbid_in_graph = assume_constant_result = disallow_in_graph


def list_backends(exclude_tags=("debug", "experimental")) -> list:
    """torch's registered backend names; on ember every one of them runs eagerly."""
    return ["cudagraphs", "inductor", "openxla", "tvm"]


__all__ = ["OptimizedModule", "allow_in_graph", "assume_constant_result", "config", "disable",
           "disallow_in_graph", "forbid_in_graph", "graph_break", "is_compiling",
           "list_backends", "mark_dynamic", "mark_static", "mark_static_address",
           "maybe_mark_dynamic", "optimize", "reset"]
