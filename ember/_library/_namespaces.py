"""`torch.ops.<namespace>` for operators defined through `ember.library`.

NOTE [Custom op namespaces]
PyTorch's `torch.ops.<ns>` makes a namespace object for any name on first access, and an op
missing from it raises AttributeError naming it. ember's `ember.ops` is the package of op
families, so its module `__getattr__` (this module's `ops_getattr`) is reached only for names it
does not hold: a family module not imported yet is imported (so `from ember.ops import _x` still
imports it), any other name gives its `OpNamespace`. A namespace named like a family module
(`aten`, `linalg`) is that module: `ember.library` puts the ops on it (ember/_library/ops.py).

This module is imported while ember loads (ember/ops/__init__.py), so it imports nothing of
ember's and stays small; the ops themselves are made by `ember.library`, on first use.
"""

import importlib
import importlib.util
import types

NAMESPACES = {}  # namespace name -> OpNamespace


class OpNamespace(types.ModuleType):
    """The ops of one namespace, `torch.ops.mylib` (prints as torch's does)."""

    def __init__(self, name):
        super().__init__(f"torch.ops.{name}")
        self.name = name
        self.__file__ = "torch.ops"

    def __getattr__(self, op_name):
        raise AttributeError(f"'_OpNamespace' '{self.name}' object has no attribute '{op_name}'")


def namespace(name: str) -> OpNamespace:
    """The namespace object of `name`, made on first request."""
    found = NAMESPACES.get(name)
    if found is None:
        found = NAMESPACES[name] = OpNamespace(name)
    return found


def ops_getattr(name: str):
    """`ember.ops.<name>` for a name the package does not hold (NOTE [Custom op namespaces])."""
    found = NAMESPACES.get(name)
    if found is not None:
        return found
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(f"module 'ember.ops' has no attribute '{name}'")
    if "." not in name and importlib.util.find_spec(f"ember.ops.{name}") is not None:
        return importlib.import_module(f"ember.ops.{name}")
    return namespace(name)
