"""Run one benchmark case in one library and print its timing as JSON.

Usage: python -m benchmarks.worker {ember,torch} CASE ITERATIONS
Each library runs in its own process: NumPy's and torch's thread pools slow each other down when
they share one.
"""

import importlib
import json
import resource
import statistics
import sys
import time


def _time(fn, iterations, warmup=2):
    """Median wall time of fn() over `iterations` calls, after a warm-up."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _op_case(torch, name):
    """Per-op overhead and the big matmul."""
    if name == "add":
        a, b = torch.randn(1000), torch.randn(1000)
        return lambda: a + b
    if name == "add_requires_grad":
        a, b = torch.randn(1000, requires_grad=True), torch.randn(1000)
        return lambda: a + b
    if name == "add_sum_backward":
        a, b = torch.randn(100, requires_grad=True), torch.randn(100, requires_grad=True)
        return lambda: (a + b).sum().backward()
    if name == "matmul1024_fwd_bwd":
        a = torch.randn(1024, 1024, requires_grad=True)
        b = torch.randn(1024, 1024, requires_grad=True)
        return lambda: (a @ b).sum().backward()
    if name in ("rand1e6", "randn1e6"):  # torch's random streams, bit for bit (#17)
        torch.manual_seed(0)
        return lambda: getattr(torch, name[:-3])(10 ** 6)
    from benchmarks.bench_core import small_case  # mul, matmul64, relu, sum, index_row, ...

    return small_case(torch, name)


def _layer_case(torch, name):
    """One layer's forward and backward at the seeds' CIFAR batch size."""
    nn = torch.nn
    x = torch.randn(100, 16, 32, 32, requires_grad=True)
    layer = {"conv2d": lambda: nn.Conv2d(16, 32, 3, padding=1),
             "maxpool2d": lambda: nn.MaxPool2d(2),
             "avgpool2d": lambda: nn.AvgPool2d(2),
             "batchnorm2d": lambda: nn.BatchNorm2d(16),
             "relu": lambda: nn.ReLU(),
             "gelu": lambda: nn.GELU(),
             "sigmoid": lambda: nn.Sigmoid(),
             "silu": lambda: nn.SiLU(),
             "leaky_relu": lambda: nn.LeakyReLU(0.2)}[name]()

    def step():
        layer(x).sum().backward()

    return step


def _model(torch, name):
    from benchmarks.seed_models import define

    constructor, shape, batch, optimizer_name = define(torch)[name]
    torch.manual_seed(0)
    return constructor(), shape, batch, optimizer_name


def _train_case(torch, name):
    """One training step: forward, cross-entropy, backward, optimizer step."""
    from benchmarks import seq_models

    sequence_models = seq_models.define(torch)
    if name in sequence_models:
        return seq_models.train_step(torch, sequence_models[name])
    model, shape, batch, optimizer_name = _model(torch, name)
    optimizer = (torch.optim.SGD(model.parameters(), lr=0.01) if optimizer_name == "sgd"
                 else torch.optim.Adam(model.parameters(), lr=1e-3))
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(batch, *shape)
    y = torch.randint(0, 10, (batch,))

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    return step


def _infer_case(torch, name):
    """Inference at batch 100 under no_grad, in eval mode."""
    model, shape, _, _ = _model(torch, name)
    model.eval()
    x = torch.randn(100, *shape)

    def step():
        with torch.no_grad():
            model(x)

    return step


def main(argv):
    library, case, iterations = argv[0], argv[1], int(argv[2])
    torch = importlib.import_module(library)
    if library == "torch":
        torch.set_num_threads(2)
    family, _, name = case.partition(":")
    make = {"op": _op_case, "layer": _layer_case, "train": _train_case,
            "infer": _infer_case}[family]
    seconds = _time(make(torch, name), iterations)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_mb}))


if __name__ == "__main__":
    main(sys.argv[1:])
