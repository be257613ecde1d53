"""The machinery under `ember.library` (PyTorch's `torch._library`): operator schemas, the
dispatch table of custom operators, `custom_op`, and `opcheck`.

This package's `__init__` imports nothing: `ember.ops` imports `_namespaces` from it while ember
loads, and the rest loads with `ember.library`, on first use.
"""
