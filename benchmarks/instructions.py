"""Instructions per call of one op case, counted by Valgrind's cachegrind: a cost figure that
this shared, noisy machine cannot disturb (wall-clock of identical runs here varies 1.5x).

Usage: python -m benchmarks.instructions CASE [--lib ember|torch|both] [--calls N]
CASE is an `op:` case of the benchmark table without its prefix (relu_requires_grad, sum, ...).
The count is (instructions of a run making N calls - those of a run making none) / N, each run
in its own process under `valgrind --tool=cachegrind` with one BLAS thread (OpenBLAS's spinning
threads would add millions of instructions at random) and a fixed hash seed: repeatable to
about 2%. Needs valgrind (`apt-get install valgrind`).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

_RUN = """
import importlib, sys
sys.path.insert(0, {root!r})
from benchmarks.worker import _op_case
lib = importlib.import_module({lib!r})
call = _op_case(lib, {case!r})
for _ in range(200):  # warm-up: caches, lazily built tables
    call()
for _ in range({calls}):
    call()
"""


def _instructions(lib: str, case: str, calls: int) -> int:
    """Instructions executed by a process that makes `calls` calls of the case (after warm-up)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    with tempfile.NamedTemporaryFile() as out:
        run = subprocess.run(
            ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out.name}",
             sys.executable, "-c", _RUN.format(root=root, lib=lib, case=case, calls=calls)],
            env=env, capture_output=True, text=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
    if run.returncode or not found:
        raise RuntimeError(f"cachegrind run failed:\n{run.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_call(lib: str, case: str, calls: int) -> float:
    """Instructions per call: the difference of an N-call and a 0-call run, over N."""
    return (_instructions(lib, case, calls) - _instructions(lib, case, 0)) / calls


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case")
    parser.add_argument("--lib", choices=("ember", "torch", "both"), default="both")
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        sys.exit("benchmarks.instructions needs valgrind (apt-get install valgrind)")
    libs = ("ember", "torch") if args.lib == "both" else (args.lib,)
    counts = {lib: per_call(lib, args.case, args.calls) for lib in libs}
    for lib, count in counts.items():
        print(f"{lib:6} {args.case}: {count / 1000:.1f}k instructions per call")
    if len(counts) == 2:
        print(f"ember/torch: {counts['ember'] / counts['torch']:.2f}x")


if __name__ == "__main__":
    main()
