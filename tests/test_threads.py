"""Thread counts (ember/_threads.py) as torch reports and checks them."""

import subprocess
import sys

import pytest
import torch

import ember

PROGRAM = """
import {lib} as lib
from threadpoolctl import threadpool_info
out = [lib.get_num_threads(), lib.get_num_interop_threads()]
lib.set_num_threads(1)
out.append(lib.get_num_threads())
blas = min(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")
lib.set_num_interop_threads(1)
out.append(lib.get_num_interop_threads())
for call in (lambda: lib.set_num_interop_threads(2), lambda: lib.set_num_threads(0),
             lambda: lib.set_num_threads(1.5), lambda: lib.set_num_interop_threads(-1)):
    try:
        call()
    except Exception as error:
        out.append((type(error).__name__, str(error)))
print(out)
print("numpy blas threads", blas)
"""


def _report(lib):
    result = subprocess.run([sys.executable, "-c", PROGRAM.format(lib=lib)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_thread_counts_and_errors_match_torch():
    """Each in a fresh process: the inter-op count can be set once per process."""
    ours, theirs = _report("ember").splitlines(), _report("torch").splitlines()
    assert ours[0] == theirs[0]
    assert ours[0].startswith(("[2, 2, 1, 1,", "[1, 1, 1, 1,"))  # defaults: the CPUs we may use
    assert ours[1] == "numpy blas threads 1"  # ember's intra-op threads are BLAS's


def test_bad_counts_raise_in_process():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="expects a positive integer"):
            lib.set_num_threads(-3)
