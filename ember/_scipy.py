"""The SciPy seam: the one module of ember that imports SciPy, on first use.

NOTE [SciPy is an optional extra]
ember's only runtime dependency is NumPy. The special functions NumPy lacks (erf, gamma-family,
Bessel functions, zeta, ...) come from `scipy.special`, which is installed with
`pip install ember[scipy]`. It is imported lazily, the first time such a function runs
(importing it takes about half a second), and a missing SciPy raises an ImportError naming the
extra, not a bare `No module named 'scipy'`.
"""

import importlib

_MODULES = {}


def special():
    """The `scipy.special` module, imported on first use."""
    module = _MODULES.get("special")
    if module is None:
        try:
            module = importlib.import_module("scipy.special")
        except ImportError as error:
            raise ImportError(
                "this function needs SciPy, an optional dependency of ember: "
                "pip install ember[scipy]") from error
        _MODULES["special"] = module
    return module


def has_scipy() -> bool:
    """Whether SciPy can be imported (ops with a NumPy fallback ask this first)."""
    try:
        special()
    except ImportError:
        return False
    return True


def function(name):
    """scipy.special.<name>, e.g. function("gammaln")."""
    return getattr(special(), name)
