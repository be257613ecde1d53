"""ember/_blas_threads.py (NOTE [BLAS's idle threads]): OpenBLAS's idle threads are told to
sleep after a short spin, unless the user chose otherwise or NumPy loaded first."""

import os
import subprocess
import sys

import pytest

_OURS = ("OPENBLAS_THREAD_TIMEOUT", "EMBER_KEEP_BLAS_THREADS")


def _run(code, **env):
    """stdout of `code` in a new interpreter with `env` added to the environment."""
    environment = {k: v for k, v in os.environ.items() if k not in _OURS}
    environment.update(env)
    out = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True,
                         text=True, check=True)
    return out.stdout.split()


_REPORT = ("import os, ember._blas_threads as b; "
           "print(b.ACTIVE, os.environ.get('OPENBLAS_THREAD_TIMEOUT'))")


def test_set_before_numpy_loads():
    assert _run("import ember, os, sys; print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))") == [
        "20"]
    assert _run(_REPORT) == ["True", "20"]


@pytest.mark.parametrize("env, expected", [
    ({"OPENBLAS_THREAD_TIMEOUT": "28"}, ["False", "28"]),
    ({"EMBER_KEEP_BLAS_THREADS": "1"}, ["False", "None"]),
])
def test_left_alone_when_the_user_chose(env, expected):
    assert _run(_REPORT, **env) == expected


def test_left_alone_when_numpy_loaded_first():
    assert _run("import numpy; " + _REPORT) == ["False", "None"]


_IDLE_CPU = """
import time
import ember
a = ember.randn(512, 512)
for _ in range(3):
    a @ a  # BLAS's workers run, then wait for more
start = time.process_time()
time.sleep(0.4)
print(time.process_time() - start)
"""


def _numpy_blas() -> str:
    import numpy

    return numpy.__config__.CONFIG["Build Dependencies"]["blas"]["name"]


@pytest.mark.skipif(not sys.platform.startswith("linux") or "openblas" not in _numpy_blas(),
                    reason="the variable is OpenBLAS's (pthreads build, as in NumPy's wheels)")
def test_idle_blas_threads_sleep_instead_of_spinning():
    # With OpenBLAS's default a worker spins for about 0.1 s after the last GEMM, burning CPU
    # while the process sleeps; with ember's setting it sleeps within a millisecond.
    spun = float(_run(_IDLE_CPU, OPENBLAS_NUM_THREADS="2", EMBER_KEEP_BLAS_THREADS="1")[0])
    idle = float(_run(_IDLE_CPU, OPENBLAS_NUM_THREADS="2")[0])
    assert idle < 0.02 < spun, (idle, spun)
