"""How long NumPy's OpenBLAS threads spin when idle: set once, before NumPy loads.

NOTE [BLAS's idle threads]
After every multi-threaded call, OpenBLAS's worker threads busy-wait for the next one for
2^28 CPU cycles (about a tenth of a second) before they sleep. A training step calls BLAS
every few milliseconds, so on a 2-core machine the worker spins on the second core through
the whole step, and the work ember runs there between GEMMs (`parallel_blocks`: batch norm,
pooling, the optimizer's update) waits for it to yield. PyTorch's OpenMP pool spins for well
under a millisecond before sleeping. ember asks OpenBLAS for 2^20 cycles (under half a
millisecond at the clock rates of today's CPUs), through the variable OpenBLAS reads when it
loads: measured on a 2-core machine, a MyCNN training step (batch 100) took 0.82-0.87x the
time, VGG11-BN and the seed-000 net 0.90-0.95x; a batch-64 MLP step, whose GEMMs follow each
other closely, and the CIFAR ResNet were unchanged (2^16-2^18 were as good, 2^22 and up
lost part of the gain, 2^4 -- sleep at once -- made the MLP step 5% slower). Nothing changes
when the user set OPENBLAS_THREAD_TIMEOUT or EMBER_KEEP_BLAS_THREADS=1, or when NumPy was
imported before ember (OpenBLAS has then read its environment already).
"""

import os
import sys

THREAD_TIMEOUT = "20"  # log2 of the cycles an idle OpenBLAS thread spins before it sleeps


def _configure() -> bool:
    """Set OPENBLAS_THREAD_TIMEOUT for the NumPy about to load; whether it was set."""
    if "numpy" in sys.modules or os.environ.get("EMBER_KEEP_BLAS_THREADS") == "1":
        return False
    if "OPENBLAS_THREAD_TIMEOUT" in os.environ:
        return False
    os.environ["OPENBLAS_THREAD_TIMEOUT"] = THREAD_TIMEOUT
    return True


ACTIVE = _configure()
