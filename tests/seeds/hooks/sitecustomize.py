"""Test hooks for the seed programs' subprocesses; this directory goes first on PYTHONPATH.

Python imports `sitecustomize` at start-up, before `ember run` or the program, so the programs
themselves run unmodified. Each hook is off unless its environment variable is set:

SEEDS_CIFAR10_MD5S  JSON {file name: md5} of the CIFAR-10 stand-in. torchvision (and ember.vision)
                    check every batch file against the real dataset's MD5; the stand-in's files
                    get their own checksums here, so the integrity check still runs.
SEEDS_PLOT_LOG      a path: every `matplotlib.pyplot.plot(x, y, ...)` appends {"x": [...], "y":
                    [...]} as one JSON line there (the seed 002 programs pass their loss and
                    accuracy curves to plt.plot in show_curve).
"""

import json
import os


def _patch_cifar10_md5s(md5s):
    from ember.vision.datasets.cifar import CIFAR10

    CIFAR10.train_list = [[name, md5s[name]] for name, _ in CIFAR10.train_list]
    CIFAR10.test_list = [[name, md5s[name]] for name, _ in CIFAR10.test_list]
    CIFAR10.meta = {**CIFAR10.meta, "md5": md5s[CIFAR10.meta["filename"]]}


def _log_plots(path):
    import matplotlib.pyplot as plt

    original = plt.plot

    def plot(*args, **kwargs):
        ys = args[1] if len(args) > 1 else args[0]
        xs = args[0] if len(args) > 1 else range(len(ys))
        with open(path, "a") as f:
            f.write(json.dumps({"x": [float(v) for v in xs], "y": [float(v) for v in ys]}) + "\n")
        return original(*args, **kwargs)

    plt.plot = plot


if os.environ.get("SEEDS_CIFAR10_MD5S"):
    _patch_cifar10_md5s(json.loads(os.environ["SEEDS_CIFAR10_MD5S"]))
if os.environ.get("SEEDS_PLOT_LOG"):
    _log_plots(os.environ["SEEDS_PLOT_LOG"])
