"""ember vs PyTorch on the same work: `python -m benchmarks [--quick] [--only SUBSTRING
[--update]]`.

Each case runs in a fresh process per library, the libraries alternate, and each pair is
repeated; the table reports medians and the ember/torch ratio. Results go to
benchmarks/results.json and benchmarks/RESULTS.md. This machine is shared and noisy (about
±20% between identical runs): read ratios, not absolute times.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (case, iterations per process); the goal column states what the README promises.
CASES = [
    ("op:add", 2000, "<= 1.5"),
    ("op:add_requires_grad", 2000, "<= 1.5"),
    ("op:add_sum_backward", 500, "<= 1.5"),
    ("op:mul", 2000, "<= 1.5"),
    ("op:mul_requires_grad", 2000, "<= 1.5"),
    ("op:matmul64", 2000, "<= 1.5"),
    ("op:matmul64_requires_grad", 2000, "<= 1.5"),
    ("op:relu", 2000, "<= 1.5"),
    ("op:relu_requires_grad", 2000, "<= 1.5"),
    ("op:sum", 2000, "<= 1.5"),
    ("op:sum_requires_grad", 2000, "<= 1.5"),
    ("op:index_row", 2000, "<= 1.5"),
    ("op:index_row_requires_grad", 2000, "<= 1.5"),
    ("op:mul_add_sum_backward", 500, "<= 1.5"),
    ("op:mlp_b1_step", 200, "<= 1.5"),
    ("op:matmul1024_fwd_bwd", 5, "<= 1.1"),
    ("op:rand1e6", 20, "<= 1.5"),
    ("op:randn1e6", 20, "<= 1.5"),
    ("op:randn1e6_f64", 5, ""),
    ("op:exponential1e6_f64", 5, ""),
    ("op:randperm1e6", 5, ""),
    ("layer:conv2d", 3, ""),
    ("layer:maxpool2d", 5, ""),
    ("layer:avgpool2d", 5, ""),
    ("layer:batchnorm2d", 5, ""),
    ("layer:relu", 5, ""),
    ("layer:gelu", 5, ""),
    ("layer:sigmoid", 5, ""),
    ("layer:silu", 5, ""),
    ("layer:leaky_relu", 5, ""),
    ("train:seed000-net", 3, "<= 1.5"),
    ("train:mycnn", 3, "<= 1.5"),
    ("train:cifar-resnet", 2, "<= 1.5"),
    ("train:vgg11-bn", 2, "<= 1.5"),
    ("train:mlp", 20, "<= 1.0"),
    ("train:lstm-lm", 5, "<= 1.5"),
    ("train:transformer-lm", 5, "<= 1.5"),
    ("train:gpt-lm", 5, "<= 1.5"),
    ("infer:mycnn", 3, ""),
    ("infer:cifar-resnet", 2, ""),
    ("infer:vgg11-bn", 2, ""),
    ("infer:mlp", 20, ""),
    ("import", 10, "<= 0.2 s"),  # `import ember`, absolute: IMPORT_PROBE below
]


def benchmark_env() -> dict:
    """The environment of the benchmark processes: the user's, without the OpenBLAS overrides
    some machines here set (they force NumPy's OpenBLAS onto slower kernels; users lack them)."""
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    return env


BLAS_PROBE = """
import json, numpy
from threadpoolctl import threadpool_info
blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
print(json.dumps([{k: p.get(k) for k in ("internal_api", "version", "architecture",
                                         "num_threads")} for p in blas]))
"""


def blas_kernel() -> str:
    """NumPy's BLAS as the benchmark processes see it (library, version, kernel, threads)."""
    try:
        output = subprocess.run([sys.executable, "-c", BLAS_PROBE], env=benchmark_env(),
                                capture_output=True, text=True, check=True).stdout
    except subprocess.CalledProcessError:
        return "unknown (threadpoolctl not installed)"
    return "; ".join(f"{b['internal_api']} {b['version']}, kernel {b['architecture']}, "
                     f"{b['num_threads']} threads" for b in json.loads(output)) or "none found"


def cpu_model() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo): torch's MKL picks its kernels by the CPU's
    vendor, so the same two libraries compare differently on Intel and AMD machines."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# The "import" case: `import <library>` timed inside a fresh interpreter, with bytecode caches as
# users' installs have them (PYTHONDONTWRITEBYTECODE, set on some machines here, would recompile
# every module at every import).
IMPORT_PROBE = """
import json, resource, sys, time
start = time.perf_counter()
__import__(sys.argv[1])
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_mb}))
"""


def import_once(library, processes):
    """Median `import library` time over `processes` fresh interpreters, after one that warms
    the bytecode caches and the OS's file cache."""
    env = benchmark_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    results = []
    for _ in range(processes + 1):
        output = subprocess.run([sys.executable, "-c", IMPORT_PROBE, library], cwd=HERE.parent,
                                env=env, capture_output=True, text=True, check=True)
        results.append(json.loads(output.stdout.strip().splitlines()[-1]))
    return {"seconds": statistics.median(r["seconds"] for r in results[1:]),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in results[1:])}


def run_once(library, case, iterations):
    """Run a case in a fresh interpreter; return its JSON result."""
    if case == "import":
        return import_once(library, iterations)
    env = benchmark_env()
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.worker", library, case, str(iterations)],
        cwd=HERE.parent, env=env, capture_output=True, text=True, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def measure(case, iterations, rounds):
    """Alternate ember and torch `rounds` times; medians of the per-process medians."""
    times = {"ember": [], "torch": []}
    memory = {"ember": [], "torch": []}
    for _ in range(rounds):
        for library in ("ember", "torch"):
            result = run_once(library, case, iterations)
            times[library].append(result["seconds"])
            memory[library].append(result["peak_rss_mb"])
    ember_s, torch_s = statistics.median(times["ember"]), statistics.median(times["torch"])
    return {"case": case, "ember_s": ember_s, "torch_s": torch_s, "ratio": ember_s / torch_s,
            "ember_peak_mb": max(memory["ember"]), "torch_peak_mb": max(memory["torch"])}


def markdown(rows, goals):
    lines = ["| case | ember | torch | ember/torch | goal | peak MB ember / torch |",
             "| --- | ---: | ---: | ---: | --- | ---: |"]
    for row in rows:
        lines.append(
            f"| {row['case']} | {_fmt(row['ember_s'])} | {_fmt(row['torch_s'])} | "
            f"{row['ratio']:.2f}x | {goals.get(row['case'], '')} | "
            f"{row['ember_peak_mb']:.0f} / {row['torch_peak_mb']:.0f} |")
    return "\n".join(lines)


def _fmt(seconds):
    return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.1f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one round per case")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="", help="run only cases containing this text")
    parser.add_argument("--update", action="store_true",
                        help="with --only: put the new rows into RESULTS.md/results.json, "
                             "keeping the others (each re-measured row is listed under the "
                             "table with its date and rounds)")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    rows, goals = [], {}
    for case, iterations, goal in CASES:
        if args.only not in case:
            continue
        goals[case] = goal
        try:
            row = measure(case, iterations, rounds)
        except subprocess.CalledProcessError as error:
            print(f"{case}: failed\n{error.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(row)
        print(f"{case:28s} ember {_fmt(row['ember_s']):>10s}  torch {_fmt(row['torch_s']):>10s}"
              f"  ratio {row['ratio']:.2f}x", flush=True)
    table = markdown(rows, goals)
    print("\n" + table)
    meta = {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "cpu": cpu_model(), "rounds": rounds,
            "numpy_blas": blas_kernel()}
    print(f"NumPy's BLAS in the benchmark processes: {meta['numpy_blas']}")
    if not args.only:
        _write(meta, rows)
    elif args.update:
        _write(*_merged(rows, rounds))


def _merged(rows, rounds):
    """results.json's meta and rows with `rows` in place of the same cases' old ones (in the
    order of CASES), each new row stamped with today's date and its rounds."""
    saved = json.loads((HERE / "results.json").read_text())
    today = time.strftime("%Y-%m-%d")
    fresh = {row["case"]: dict(row, updated=today, rounds=rounds) for row in rows}
    old = {row["case"]: row for row in saved["rows"]}
    order = [case for case, _, _ in CASES]
    merged = [fresh.get(case, old.get(case)) for case in order if case in fresh or case in old]
    return saved["meta"], merged


def _write(meta, rows):
    """RESULTS.md (the table, with the goals of CASES) and results.json from meta and rows."""
    (HERE / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    notes = [f"- {row['case']}: re-measured {row['updated']} ({row['rounds']} rounds, "
             "`--only ... --update`)" for row in rows if "updated" in row]
    (HERE / "RESULTS.md").write_text(
        "# ember vs PyTorch (same machine, each library in its own process)\n\n"
        f"Python {meta['python']}, {meta['cpus']} CPUs ({meta.get('cpu', 'model not recorded')}), "
        f"{meta['rounds']} alternating rounds; "
        f"medians. NumPy's BLAS: {meta['numpy_blas']}. Regenerate with "
        "`python -m benchmarks`.\n\n" + markdown(rows, {c: g for c, _, g in CASES}) + "\n"
        + ("\nRows re-measured since the full run:\n" + "\n".join(notes) + "\n" if notes
           else ""))


if __name__ == "__main__":
    main()
