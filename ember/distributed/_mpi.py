"""The one door to MPI: mpi4py is imported here, lazily, and nowhere else in ember.distributed.

NOTE [MPI is optional]
`import ember` must work without mpi4py, so nothing touches MPI until a process group is made.
Importing `mpi4py.MPI` initialises MPI, so `is_available()` only asks whether the `mpi4py`
package imports (that does not start MPI); `load()` starts it on the first real use.
"""

import importlib
import sys

INSTALL_HINT = 'pip install "ember[distributed]"'


def is_available() -> bool:
    """Whether mpi4py can be imported (it does not initialise MPI)."""
    try:
        importlib.import_module("mpi4py")
    except ImportError:
        return False
    return True


def load():
    """mpi4py's `MPI` module (MPI starts on first import); ImportError naming the extra."""
    try:
        return importlib.import_module("mpi4py.MPI")
    except ImportError as error:
        raise ImportError(
            "ember.distributed runs over MPI and needs mpi4py and an MPI library, which are not "
            f"installed: {INSTALL_HINT} (or: pip install mpi4py mpich)") from error


def loaded():
    """mpi4py's `MPI` module if this process already imported it, else None."""
    return sys.modules.get("mpi4py.MPI")
