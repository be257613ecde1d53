"""`torch.compile` on ember: the model runs eagerly, with the wrapper types scripts rely on.

NOTE [torch.compile runs eagerly]
ember has no graph compiler; `compile(model)` returns what PyTorch returns, an
`OptimizedModule` whose `_orig_mod` is the model (so its state_dict keys carry the
`_orig_mod.` prefix, and `compiled._orig_mod.state_dict()` gives the plain keys, as scripts
expect), and calling it calls the model. `compile(fn)` returns a wrapper that calls fn. The
numbers are the eager numbers; nothing is faster, nothing is different.
"""

import functools

from ember.nn.modules.module import Module


class OptimizedModule(Module):
    """A compiled module: wraps `_orig_mod` and calls it (matches torch's OptimizedModule)."""

    def __init__(self, mod, dynamo_ctx=None):
        super().__init__()
        self._orig_mod = mod

    def forward(self, *args, **kwargs):
        return self._orig_mod(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["_orig_mod"], name)


_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def compile_model(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
                  options=None, disable=False):
    """Return model compiled; on ember, the same computation run eagerly (see the NOTE)."""
    if model is None:  # used as @torch.compile(mode=...)
        return functools.partial(compile_model, fullgraph=fullgraph, dynamic=dynamic,
                                 backend=backend, mode=mode, options=options, disable=disable)
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if backend == "inductor" and mode not in (None, *_MODES):
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if isinstance(model, Module):
        return model if disable else OptimizedModule(model)
    if not callable(model):
        raise RuntimeError(f"torch.compile: {model!r} is not callable")

    @functools.wraps(model)
    def compiled(*args, **kwargs):
        return model(*args, **kwargs)

    return compiled
