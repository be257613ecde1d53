"""DataLoader throughput, ember vs PyTorch: `python -m benchmarks.bench_data [--quick]`.

Two datasets, each read by a DataLoader with 2 worker processes, batch_size 64, shuffled:
  tensor     TensorDataset of 3x32x32 float32 images and int64 labels
  transform  a map-style dataset returning NumPy images through a small NumPy transform
             (random flip + per-channel normalisation), collated by default_collate
Each library runs in its own fresh process (they alternate); an epoch's time includes
starting the workers, as a user sees it. Reported: items per second, median over epochs.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _datasets(lib, size):
    import numpy as np

    rng = np.random.default_rng(0)
    images = rng.normal(size=(size, 3, 32, 32)).astype(np.float32)
    labels = rng.integers(0, 10, size)
    mean = images.mean(axis=(0, 2, 3)).reshape(3, 1, 1)
    std = images.std(axis=(0, 2, 3)).reshape(3, 1, 1)

    class Transformed(lib.utils.data.Dataset):
        def __len__(self):
            return size

        def __getitem__(self, i):
            image = images[i]
            if np.random.random() < 0.5:
                image = image[:, :, ::-1]
            return ((image - mean) / std).astype(np.float32), int(labels[i])

    tensor = lib.utils.data.TensorDataset(lib.from_numpy(images), lib.from_numpy(labels))
    return {"tensor": tensor, "transform": Transformed()}


def run_case(library, case, size, epochs):
    """In this process: time `epochs` epochs of one case; print JSON items/s."""
    import importlib

    lib = importlib.import_module(library)
    dataset = _datasets(lib, size)[case]
    loader = lib.utils.data.DataLoader(dataset, batch_size=64, shuffle=True, num_workers=2)
    rates = []
    for _ in range(epochs):
        start = time.perf_counter()
        count = sum(len(batch[1]) for batch in loader)
        rates.append(count / (time.perf_counter() - start))
    print(json.dumps({"library": library, "case": case, "items_per_s": statistics.median(rates)}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", nargs=2, metavar=("LIBRARY", "CASE"))
    parser.add_argument("--size", type=int, default=None)
    args = parser.parse_args()
    size = args.size or (4096 if args.quick else 20000)
    epochs = 2 if args.quick else 3
    if args.worker:
        run_case(args.worker[0], args.worker[1], size, epochs)
        return
    results = {}
    for case in ("tensor", "transform"):
        for library in ("ember", "torch"):
            output = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_data", "--worker", library, case,
                 "--size", str(size)], cwd=HERE.parent, env=dict(os.environ),
                capture_output=True, text=True, check=True)
            results[(case, library)] = json.loads(output.stdout.strip().splitlines()[-1])
    print(f"DataLoader, 2 workers, batch 64, {size} items (items/s, median of {epochs} epochs)")
    print(f"{'case':<10} {'ember':>10} {'torch':>10} {'ember/torch':>12}")
    for case in ("tensor", "transform"):
        e = results[(case, "ember")]["items_per_s"]
        t = results[(case, "torch")]["items_per_s"]
        print(f"{case:<10} {e:>10.0f} {t:>10.0f} {e / t:>12.2f}")


if __name__ == "__main__":
    main()
