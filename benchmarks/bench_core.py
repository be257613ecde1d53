"""Core overhead: ember vs PyTorch on small elementwise ops, a tiny backward, and a big matmul.

Usage:
    python benchmarks/bench_core.py [--repeats 5] [--profile CASE [--count N]]
    python benchmarks/bench_core.py --worker {ember,torch} CASE   (one measurement, JSON out)

Each measurement runs in its own subprocess (NumPy's and torch's thread pools slow each other
down inside one process), ember and torch alternate, and every pair is repeated; the table shows
the median time per call for each library and the ember/torch ratio. The machine may be shared:
read the ratios, not the absolute times. `--profile CASE` prints cProfile's view of ember's per-op
overhead over 100,000 calls of one case.
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
    "add_1000": (2000, 1.5),
    "add_1000_requires_grad": (2000, 1.5),
    "mul_add_chain_requires_grad": (1000, 1.5),
    "add_sum_backward_small": (500, 1.5),
    "matmul_1024_fwd_bwd": (1, 1.1),
}
# the small-tensor cases of #21, shared with `python -m benchmarks` (as "op:<name>")
SMALL_CASES = {
    "mul": (2000, 1.5),
    "mul_requires_grad": (2000, 1.5),
    "matmul64": (2000, 1.5),
    "matmul64_requires_grad": (2000, 1.5),
    "relu": (2000, 1.5),
    "relu_requires_grad": (2000, 1.5),
    "sum": (2000, 1.5),
    "sum_requires_grad": (2000, 1.5),
    "index_row": (2000, 1.5),
    "index_row_requires_grad": (2000, 1.5),
    "mul_add_sum_backward": (500, 1.5),
    "mlp_b1_step": (200, 1.5),
}
CASES.update(SMALL_CASES)
CASES["mlp_b64_step"] = (20, 1.0)  # `python -m benchmarks` runs it as train:mlp


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
    return small_case(torch, name)


def small_case(torch, name):
    """The closure for one of SMALL_CASES: one small op, plain or with requires_grad."""
    torch.manual_seed(0)
    grad = name.endswith("_requires_grad")
    base = name[: -len("_requires_grad")] if grad else name
    if base in ("mul", "relu", "sum"):
        a, b = torch.randn(1000, requires_grad=grad), torch.randn(1000)
        return {"mul": lambda: a * b, "relu": lambda: torch.relu(a),
                "sum": lambda: a.sum()}[base]
    if base == "matmul64":
        a, b = torch.randn(64, 64, requires_grad=grad), torch.randn(64, 64)
        return lambda: a @ b
    if base == "index_row":
        a = torch.randn(64, 64, requires_grad=grad)
        return lambda: a[1]
    if name == "mul_add_sum_backward":
        a, b = torch.randn(100, requires_grad=True), torch.randn(100, requires_grad=True)
        return lambda: (a * b + b).sum().backward()
    if name in ("mlp_b1_step", "mlp_b64_step"):
        return _mlp_step(torch, batch=int(name[5:-5]))
    if name in ("randperm1e6", "randn1e6_f64", "exponential1e6_f64"):  # random streams (#17)
        x = torch.empty(10 ** 6, dtype=torch.float64)
        return {"randperm1e6": lambda: torch.randperm(10 ** 6),
                "randn1e6_f64": lambda: torch.randn(10 ** 6, dtype=torch.float64),
                "exponential1e6_f64": lambda: x.exponential_()}[name]
    raise KeyError(name)


def _mlp_step(torch, batch):
    """One SGD training step of seed 003's MLP (784-512-512-10) on `batch` images."""
    nn = torch.nn
    model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 512),
                          nn.ReLU(), nn.Linear(512, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    x, y = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))

    def step():
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()

    return step


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


def profile_small_ops(name="add_1000", count=100000):
    """cProfile `count` calls of one case in ember (the dispatch path's per-op overhead)."""
    import cProfile
    import pstats

    import ember

    fn = _case(ember, name)
    for _ in range(100):
        fn()

    def loop():
        for _ in range(count):
            fn()

    profiler = cProfile.Profile()
    profiler.runcall(loop)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=2, metavar=("LIBRARY", "CASE"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--profile", metavar="CASE", help="cProfile ember on CASE")
    parser.add_argument("--count", type=int, default=100000, help="calls to profile")
    args = parser.parse_args(argv)
    if args.worker:
        _worker(*args.worker)
    elif args.profile:
        profile_small_ops(args.profile, args.count)
    else:
        run(args.repeats)


if __name__ == "__main__":
    main()
