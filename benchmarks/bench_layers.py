"""Layer benchmarks: ember vs torch, forward + backward, each library in its own subprocess.

    python benchmarks/bench_layers.py [--repeat 20] [--threads N]

--threads sets the BLAS/OpenMP thread count of both libraries (torch.set_num_threads and
the OPENBLAS/OMP/MKL_NUM_THREADS variables of the worker processes); on a busy machine one
thread each gives steadier ratios, and --cpu-time (process CPU time instead of wall time)
steadier still. Prints the median time of each workload per library and
the ratio ember / torch. Workloads: conv2d 3→16 (k3, p1) on a batch of 100 32x32 images,
conv2d 16→32 on the same size, max_pool2d (2x2) and avg_pool2d on (100, 16, 32, 32), and one
step of a small batchnorm-free conv net (conv-relu-pool ×2, linear, mean loss) through the
nn layers.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np


def _workloads(lib):
    """name -> zero-argument function running one forward + backward."""
    F = lib.nn.functional
    rng = np.random.default_rng(0)

    def tensor(shape, grad):
        return lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=grad)

    images = tensor((100, 3, 32, 32), False)
    features = tensor((100, 16, 32, 32), True)
    w1, b1 = tensor((16, 3, 3, 3), True), tensor((16,), True)
    w2, b2 = tensor((32, 16, 3, 3), True), tensor((32,), True)

    def conv_first():
        F.conv2d(images, w1, b1, padding=1).sum().backward()

    def conv_mid():
        F.conv2d(features, w2, b2, padding=1).sum().backward()

    def max_pool():
        F.max_pool2d(features, 2).sum().backward()

    def avg_pool():
        F.avg_pool2d(features, 2).sum().backward()

    nn = lib.nn
    lib.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(32 * 8 * 8, 10))

    def conv_net():
        net.zero_grad()
        net(images).mean().backward()

    return {"conv2d 3->16 k3 p1 b100 32x32": conv_first,
            "conv2d 16->32 k3 p1 b100 32x32": conv_mid,
            "max_pool2d 2x2 (100,16,32,32)": max_pool,
            "avg_pool2d 2x2 (100,16,32,32)": avg_pool,
            "conv net step (2 conv, 2 pool, linear)": conv_net}


def _worker(name, repeat, threads, clock):
    if name == "torch":
        import torch as lib

        if threads:
            lib.set_num_threads(threads)
    else:
        import ember as lib
    results = {}
    for label, fn in _workloads(lib).items():
        fn()  # warm up
        times = []
        for _ in range(repeat):
            start = clock()
            fn()
            times.append(clock() - start)
        results[label] = statistics.median(times)
    print(json.dumps(results))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--threads", type=int, default=0, help="0: each library's default")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with process CPU time (steadier on a shared machine; use "
                             "with --threads 1)")
    parser.add_argument("--worker", choices=["ember", "torch"])
    args = parser.parse_args()
    if args.worker:
        clock = time.process_time if args.cpu_time else time.perf_counter
        _worker(args.worker, args.repeat, args.threads, clock)
        return
    env = dict(os.environ)
    if args.threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.threads)
    measured = {}
    for name in ("torch", "ember"):
        out = subprocess.run([sys.executable, __file__, "--worker", name, "--repeat",
                              str(args.repeat), "--threads", str(args.threads)]
                             + (["--cpu-time"] if args.cpu_time else []),
                             check=True, capture_output=True, text=True, env=env)
        measured[name] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{'workload (forward + backward, median)':42s} {'torch ms':>9s} {'ember ms':>9s} "
          f"{'ratio':>6s}")
    for label, t in measured["torch"].items():
        e = measured["ember"][label]
        print(f"{label:42s} {t * 1e3:9.2f} {e * 1e3:9.2f} {e / t:6.2f}")


if __name__ == "__main__":
    main()
