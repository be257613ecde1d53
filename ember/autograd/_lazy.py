"""`ember.autograd.profiler` and `ember.autograd.profiler_util`, loaded on first use.

`torch.autograd.profiler` is an attribute after `import torch`; ember's profiler modules take
a few ms to import, which `import ember` should not pay (NOTE [Namespaces loaded on first use]
in ember/__init__.py), so ember.autograd takes this module's `__getattr__` (PEP 562): the
first `ember.autograd.profiler` imports it, and the import binds the attribute for good.
"""

import importlib

_LAZY_MODULES = ("profiler", "profiler_util")


def __getattr__(name):
    """Import ember.autograd.<name> the first time it is asked for."""
    if name in _LAZY_MODULES:
        return importlib.import_module(f"ember.autograd.{name}")
    raise AttributeError(f"module 'ember.autograd' has no attribute '{name}'")
