"""The version scripts see as `ember.__version__` (PyTorch's, which ember implements).

ember's own release is `ember.version.ember` (also `ember --version`).
"""

from ember.torch_version import __version__

__all__ = ["__version__"]
