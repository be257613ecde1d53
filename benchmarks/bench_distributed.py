"""Data parallelism on one machine: `python -m benchmarks.bench_distributed [--repeats N]`.

MyCNN trained by examples/distributed/train_ddp.py with the same global batch (100) in two
shapes: 1 rank x 2 BLAS threads (`OMP_NUM_THREADS=2 ember run train_ddp.py`) and 2 ranks x 1
thread (`ember run --nproc-per-node 2 train_ddp.py`, DDP over MPI); 1 rank x 1 thread for
context. Each run is a fresh job;
the configurations alternate. Reported: images/s of the whole job (median over repeats) and the
time of one all-reduce of all MyCNN's gradients (25,674 float32) between the 2 ranks.
The overlap profile (`--overlap`): DDP's own timeline of each backward (its logging data,
NOTE [Measuring the overlap] in ember/nn/parallel/_reducer.py) with torch's default buckets
(MyCNN fits in the first, so nothing can overlap) and with 20 KB buckets (several).
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


def overlap_profile(steps: int, bucket_cap_mb) -> str:
    """DDP's backward timeline line of one 2-rank job (compute, all-reduce, overlapped ms)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    extra = ["--bucket-cap-mb", str(bucket_cap_mb)] if bucket_cap_mb else []
    command = [sys.executable, "-m", "ember", "run", "--nproc-per-node", "2", str(EXAMPLE),
               "--steps", str(steps), *extra]
    out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
    return re.search(r"backward per step .*", out).group(0)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--overlap", action="store_true",
                        help="print DDP's backward timeline instead of the throughput table")
    args = parser.parse_args(argv)
    if args.overlap:
        for cap in (None, 0.02):
            label = "torch's default buckets" if cap is None else f"{cap} MB buckets"
            print(f"{label:<26}{overlap_profile(args.steps, cap)}")
        return
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
