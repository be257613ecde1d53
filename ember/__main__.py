"""`ember` / `python -m ember`: train a model (`ember train`) or run a PyTorch script on ember
(`ember run script.py [args]`)."""

import sys

from ember.version import ember as ember_version

USAGE = """usage: ember <command> [options]

commands:
  train            train and evaluate a model (digits by default; see ember train --help)
  run SCRIPT ...   run an unmodified PyTorch script with torch/torchvision served by ember
  run -m MODULE ...   the same for a module, as `python -m MODULE`
  run -c CODE ...     the same for a program passed as a string, as `python -c CODE`
  run --nproc-per-node N SCRIPT ...   the same on N processes (torchrun's flags, over MPI)
"""

RUN_USAGE = """usage: ember run SCRIPT [ARGS...]
       ember run -m MODULE [ARGS...]
       ember run -c CODE [ARGS...]
       ember run --nproc-per-node N [torchrun options] SCRIPT [ARGS...]

Runs the program as python would, with `import torch` / `import torchvision` served by ember.
"""


def main(argv=None) -> int:
    """Entry point of the `ember` console script; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, end="", file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"ember {ember_version} (PyTorch 2.13 API)")
        return 0
    command, rest = argv[0], argv[1:]
    if command == "run":
        if not rest or rest[0] in ("-h", "--help"):
            print(RUN_USAGE, end="", file=sys.stderr if not rest else sys.stdout)
            return 2 if not rest else 0
        if rest[0].startswith("--"):  # launcher flags: torchrun's interface over mpiexec
            from ember.distributed.run import main as launch

            return launch(rest)
        # lazy: each sub-command loads only its own machinery (run must not import train)
        from ember.cli.run import run, run_code, run_module

        if rest[0] in ("-m", "-c"):
            if len(rest) < 2:
                print(f"ember run: argument expected for the {rest[0]} option", file=sys.stderr)
                return 2
            runner = run_module if rest[0] == "-m" else run_code
            return runner(rest[1], rest[2:])
        return run(rest[0], rest[1:])
    if command == "train":
        # lazy: each sub-command loads only its own machinery (train must not import run)
        from ember.cli.train import main as train_main

        return train_main(rest)
    print(f"ember: unknown command '{command}' (choose from train, run)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
