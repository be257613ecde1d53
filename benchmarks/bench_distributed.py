"""Data parallelism on one machine: `python -m benchmarks.bench_distributed [--repeats N]`.

MyCNN trained by examples/distributed/train_ddp.py with the same global batch (100) in two
shapes: 1 rank x 2 BLAS threads (`OMP_NUM_THREADS=2 ember run train_ddp.py`) and 2 ranks x 1
thread (`ember run --nproc-per-node 2 train_ddp.py`, DDP over MPI); 1 rank x 1 thread for
context. Each run is a fresh job;
the configurations alternate. Reported: images/s of the whole job (median over repeats) and the
time of one all-reduce of all MyCNN's gradients (25,674 float32) between the 2 ranks.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "distributed" / "train_ddp.py"


def run_job(ranks: int, threads: int, steps: int) -> tuple:
    """(images/s, all-reduce ms or None) of one training job."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    launcher = ["--nproc-per-node", str(ranks)] if ranks > 1 else []
    command = [sys.executable, "-m", "ember", "run", *launcher, str(EXAMPLE),
               "--steps", str(steps)]
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    speed = float(re.search(r"(\d+) images/s", out).group(1))
    allreduce = re.search(r"gradients: ([\d.]+) ms", out)
    return speed, float(allreduce.group(1)) if allreduce else None


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args(argv)
    results = {(1, 2): [], (1, 1): [], (2, 1): []}  # (1, 1): for context
    for _ in range(args.repeats):
        for ranks, threads in results:
            results[ranks, threads].append(run_job(ranks, threads, args.steps))
    print(f"{'configuration':<22}{'images/s':>10}{'all-reduce ms':>15}")
    for (ranks, threads), runs in results.items():
        speed = statistics.median(r[0] for r in runs)
        times = [r[1] for r in runs if r[1] is not None]
        allreduce = f"{statistics.median(times):.2f}" if times else "-"
        print(f"{ranks} rank x {threads} thread{'s' if threads > 1 else '':<7}{speed:>10.0f}"
              f"{allreduce:>15}")
    one, two = (statistics.median(r[0] for r in results[k]) for k in ((1, 2), (2, 1)))
    print(f"2 ranks / 1 rank: {two / one:.2f}x")


if __name__ == "__main__":
    main()
