"""Core overhead: ember vs PyTorch on small elementwise ops, a tiny backward, and a big matmul.

Usage:
    python benchmarks/bench_core.py [--repeats 5] [--profile]
    python benchmarks/bench_core.py --worker {ember,torch} CASE   (one measurement, JSON out)

Each measurement runs in its own subprocess (NumPy's and torch's thread pools slow each other
down inside one process), ember and torch alternate, and every pair is repeated; the table shows
the median time per call for each library and the ember/torch ratio. The machine may be shared:
read the ratios, not the absolute times. `--profile` prints cProfile's view of ember's per-op
overhead on a loop of small ops.
"""

import argparse
import importlib
import json
import statistics
import subprocess
import sys
import time

# case -> (calls per timed sample, goal for the ratio)
CASES = {
    "add_1000": (2000, 2.0),
    "add_1000_requires_grad": (2000, 2.0),
    "mul_add_chain_requires_grad": (1000, 2.0),
    "add_sum_backward_small": (500, 2.0),
    "matmul_1024_fwd_bwd": (1, 1.1),
}


def _case(torch, name):
    """The closure to time for `name`, built with `torch` (ember or PyTorch)."""
    torch.manual_seed(0)
    if name == "add_1000":
        a, b = torch.randn(1000), torch.randn(1000)
        return lambda: a + b
    if name == "add_1000_requires_grad":
        a, b = torch.randn(1000, requires_grad=True), torch.randn(1000)
        return lambda: a + b
    if name == "mul_add_chain_requires_grad":
        a, b = torch.randn(100, requires_grad=True), torch.randn(100)
        return lambda: (a * b + 1.0) * 2.0
    if name == "add_sum_backward_small":
        a, b = torch.randn(10, requires_grad=True), torch.randn(10, requires_grad=True)
        return lambda: (a + b).sum().backward()
    if name == "matmul_1024_fwd_bwd":
        a = torch.randn(1024, 1024, requires_grad=True)
        b = torch.randn(1024, 1024, requires_grad=True)
        return lambda: (a @ b).sum().backward()
    raise KeyError(name)


def _worker(library, name):
    """Time one case in this process; print {"seconds": per-call median} as JSON."""
    torch = importlib.import_module(library)
    if library == "torch":
        torch.set_num_threads(2)
    fn = _case(torch, name)
    calls = CASES[name][0]
    for _ in range(max(3, calls // 10)):
        fn()
    wall, cpu = [], []
    for _ in range(7):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(calls):
            fn()
        wall.append((time.perf_counter() - start) / calls)
        cpu.append((time.process_time() - start_cpu) / calls)
    print(json.dumps({"wall": statistics.median(wall), "cpu": statistics.median(cpu)}))


def _measure(library, name):
    out = subprocess.run([sys.executable, __file__, "--worker", library, name],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _format_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} us"
    return f"{seconds * 1e3:8.2f} ms"


def run(repeats):
    """Alternate ember and torch subprocesses `repeats` times per case; print the table.

    Times are medians of per-call wall time; "cpu ratio" divides process CPU times instead,
    which is steadier when other work shares the machine (for the matmul, where both libraries
    use several BLAS threads, read the wall ratio).
    """
    print(f"{'case':30} {'ember':>11} {'torch':>11} {'ratio':>6} {'cpu ratio':>9} {'goal':>6}")
    results = {}
    for name, (_, goal) in CASES.items():
        runs = {"ember": [], "torch": []}
        for repeat in range(repeats):
            order = ("ember", "torch") if repeat % 2 == 0 else ("torch", "ember")
            for library in order:
                runs[library].append(_measure(library, name))
        medians = {library: {kind: statistics.median(r[kind] for r in runs[library])
                             for kind in ("wall", "cpu")} for library in runs}
        ratio = medians["ember"]["wall"] / medians["torch"]["wall"]
        cpu_ratio = medians["ember"]["cpu"] / medians["torch"]["cpu"]
        results[name] = (ratio, cpu_ratio)
        print(f"{name:30} {_format_time(medians['ember']['wall'])} "
              f"{_format_time(medians['torch']['wall'])} {ratio:6.2f} {cpu_ratio:9.2f} "
              f"{'<=' + str(goal):>6}", flush=True)
    return results


def profile_small_ops(count=20000):
    """cProfile a loop of small ember ops (forward with grad, then backward)."""
    import cProfile
    import pstats

    import ember

    a = ember.randn(100, requires_grad=True)
    b = ember.randn(100)

    def loop():
        for _ in range(count // 10):
            y = (a * b + 1.0) * 2.0
            y.sum().backward()
        for _ in range(count):
            b + b

    profiler = cProfile.Profile()
    profiler.runcall(loop)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=2, metavar=("LIBRARY", "CASE"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    if args.worker:
        _worker(*args.worker)
    elif args.profile:
        profile_small_ops()
    else:
        run(args.repeats)


if __name__ == "__main__":
    main()
