"""ember._dynamo: the names of `torch._dynamo` that training scripts touch (configuration,
reset, disable). There is no graph capture on ember: see NOTE [torch.compile runs eagerly] in
ember/_dynamo/eval_frame.py."""

import types

from ember._dynamo.eval_frame import OptimizedModule

config = types.SimpleNamespace(suppress_errors=False, cache_size_limit=8,
                               accumulated_cache_size_limit=256, verbose=False,
                               capture_scalar_outputs=False, optimize_ddp=True,
                               automatic_dynamic_shapes=True, recompile_limit=8)


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


__all__ = ["OptimizedModule", "allow_in_graph", "config", "disable", "is_compiling",
           "mark_dynamic", "mark_static", "optimize", "reset"]
