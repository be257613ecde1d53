"""`ember train`: train and evaluate an image classifier, every epoch, like the seeds' fit().

    ember train                               # an MLP on the 8x8 digits, offline, seconds
    ember train --model mycnn --dataset cifar10 --data-dir ./data --download --epochs 10

Each epoch trains with a tqdm progress bar, evaluates on the test split, prints the train loss
and test accuracy, saves a checkpoint atomically (out-dir/checkpoint.pt, resumable with
--resume) and the best model's state_dict (best.pt), redraws loss/accuracy curves
(loss.png, accuracy.png) and logs TensorBoard scalars (out-dir/tensorboard/<run>, one folder
per invocation). The bar is shown only on a terminal.
"""

import argparse
import os
import sys
import time

from ember import nn
from ember.autograd.grad_mode import no_grad
from ember.cli import _setup
from ember.onnx import export as export_onnx
from ember.onnx import require_onnx
from ember.ops.creation import zeros
from ember.random import get_rng_state, manual_seed, set_rng_state
from ember.serialization import load, save

DEFAULTS = {"model": "mlp", "dataset": "digits", "epochs": 10, "batch_size": 64, "lr": 1e-3,
            "optimizer": "adam"}


class UsageError(Exception):
    """A bad option: reported in one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ember train", description="Train and evaluate an image classifier.")
    p.add_argument("--model", default=DEFAULTS["model"], metavar="NAME",
                   help=f"one of: {', '.join(_setup.MODELS)} (default: %(default)s)")
    p.add_argument("--dataset", default=DEFAULTS["dataset"], metavar="NAME",
                   help=f"one of: {', '.join(_setup.DATASETS)} (default: %(default)s)")
    p.add_argument("--data-dir", default="./data",
                   help="dataset root; for imagefolder the folder holding train/ and test/ "
                        "(default: %(default)s)")
    p.add_argument("--download", action="store_true", help="download the dataset if missing")
    p.add_argument("--image-size", type=int, default=None,
                   help="resize images to this size (default: the model's and dataset's)")
    p.add_argument("--epochs", type=int, default=DEFAULTS["epochs"],
                   help="(default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"],
                   help="(default: %(default)s)")
    p.add_argument("--lr", type=float, default=DEFAULTS["lr"], help="(default: %(default)s)")
    p.add_argument("--optimizer", default=DEFAULTS["optimizer"], choices=["sgd", "adam"],
                   help="(default: %(default)s)")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default: 0.9)")
    p.add_argument("--weight-decay", type=float, default=0.0, help="(default: 0)")
    p.add_argument("--seed", type=int, default=0, help="ember.manual_seed (default: 0)")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS threads (default: 1 for models under 2M parameters, else the "
                        "library's default)")
    p.add_argument("--resume", default=None, metavar="CHECKPOINT",
                   help="continue from a checkpoint.pt written by ember train")
    p.add_argument("--out-dir", default="./runs/ember-train",
                   help="checkpoints, curves and TensorBoard logs (default: %(default)s)")
    p.add_argument("--no-augment", action="store_true", help="no data augmentation")
    p.add_argument("--no-tensorboard", action="store_true")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--export-onnx", default=None, metavar="PATH",
                   help="after training, write the model as ONNX to PATH (needs the onnx "
                        "package: pip install 'ember[onnx]')")
    return p


def parse_args(argv) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    if args.model not in _setup.MODELS:
        raise UsageError(f"unknown model '{args.model}' (choose from "
                         f"{', '.join(_setup.MODELS)})")
    if args.dataset not in _setup.DATASETS:
        raise UsageError(f"unknown dataset '{args.dataset}' (choose from "
                         f"{', '.join(_setup.DATASETS)})")
    for name in ("epochs", "batch_size"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be a positive integer")
    if args.lr <= 0:
        raise UsageError("--lr must be positive")
    if args.workers < 0:
        raise UsageError("--workers must be >= 0")
    if args.threads is not None and args.threads < 1:
        raise UsageError("--threads must be a positive integer")
    if args.image_size is not None and args.image_size < 4:
        raise UsageError("--image-size must be at least 4")
    if args.resume is not None and not os.path.isfile(args.resume):
        raise UsageError(f"--resume: no such checkpoint: {args.resume}")
    return args


# ---- one epoch each way (the seeds' train() and evaluate()) ------------------------------------
def train_epoch(model, loader, loss_func, optimizer, bar) -> float:
    """One pass over the training set; the mean batch loss."""
    model.train()
    total, batches = 0.0, 0
    for images, targets in bar(loader):
        outputs = model(images)
        loss = loss_func(outputs, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
        batches += 1
        if bar.last is not None:
            bar.last.set_postfix(loss=f"{loss.item():.4f}")
    return total / max(batches, 1)


def evaluate(model, loader) -> float:
    """Classification accuracy on loader, in [0, 1]."""
    model.eval()
    correct = total = 0
    with no_grad():
        for images, targets in loader:
            _, predicted = model(images).data.max(dim=1)
            correct += (predicted == targets).sum().item()
            total += targets.size(0)
    return correct / max(total, 1)


class _Bar:
    """Wraps an iterable in a tqdm bar (when tqdm is installed and bars are wanted)."""

    def __init__(self, enabled: bool, desc: str = ""):
        self.last = None
        self.desc = desc
        self.tqdm = None
        if enabled:
            try:
                from tqdm import tqdm
                self.tqdm = tqdm
            except ImportError:
                print("note: tqdm is not installed; no progress bars (pip install "
                      "'ember[train]')", file=sys.stderr)

    def __call__(self, iterable):
        if self.tqdm is None:
            return iterable
        # disable=None: no bar when stderr is not a terminal (CI logs, `| tee`), as tqdm
        # advises; the one line per epoch is printed either way.
        self.last = self.tqdm(iterable, desc=self.desc, unit="batch", leave=False,
                              file=sys.stderr, dynamic_ncols=True, disable=None)
        return self.last


def _save_atomic(obj, path: str) -> None:
    """ember.save to a temporary file, then rename: a crash never leaves a torn checkpoint."""
    tmp = path + ".tmp"
    save(obj, tmp)
    os.replace(tmp, path)


def _write_onnx(model, data, path: str) -> None:
    """The trained model as ONNX: input "input" (N, C, H, W), output "output", N dynamic."""
    example = zeros(1, data.channels, data.image_size, data.image_size)
    export_onnx(model, (example,), path, input_names=["input"], output_names=["output"],
                dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, dynamo=False)
    print(f"Exported the model to {path} (ONNX: input 'input' of shape "
          f"[batch, {data.channels}, {data.image_size}, {data.image_size}], output 'output')")


def run(args) -> int:
    if args.export_onnx:
        try:
            require_onnx()
        except ImportError as error:
            raise _setup.SetupError(f"--export-onnx: {error}") from None
    manual_seed(args.seed)
    data = _setup.make_data(args)
    model = _setup.make_model(args.model, data.channels, data.image_size, data.num_classes)
    optimizer = _setup.make_optimizer(args, model)
    loss_func = nn.CrossEntropyLoss()
    os.makedirs(args.out_dir, exist_ok=True)
    losses, accs, start, best = [], [], 0, 0.0
    if args.resume:
        try:
            state = load(args.resume, weights_only=False)
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            losses, accs, start = list(state["losses"]), list(state["accs"]), state["epoch"]
        except (KeyError, RuntimeError, ValueError, TypeError, OSError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            raise _setup.SetupError(f"--resume {args.resume}: not a checkpoint of this model "
                                    f"and optimizer ({type(error).__name__}: {first})") from None
        best = max(accs, default=0.0)
        if "rng_state" in state:
            set_rng_state(state["rng_state"])
        print(f"Resumed from {args.resume} (epoch {start})")
    n_params = sum(p.numel() for p in model.parameters())
    _setup.limit_threads(args.threads or (1 if n_params < 2_000_000 else None))
    print(f"Training {args.model} ({n_params:,} parameters) on {args.dataset}: "
          f"{len(data.train)} train / {len(data.test)} test images, "
          f"{data.channels}x{data.image_size}x{data.image_size}, {data.num_classes} classes; "
          f"{args.optimizer} lr={args.lr}, batch {args.batch_size}, {args.epochs} epochs")
    writer = None if args.no_tensorboard else _setup.make_writer(args.out_dir, model,
                                                                 data.train_loader)
    began = time.perf_counter()
    for epoch in range(start, args.epochs):
        bar = _Bar(not args.no_progress, desc=f"Epoch {epoch + 1}/{args.epochs}")
        loss = train_epoch(model, data.train_loader, loss_func, optimizer, bar)
        accuracy = evaluate(model, data.test_loader)
        losses.append(loss)
        accs.append(accuracy)
        print(f"Epoch {epoch + 1}/{args.epochs}: train loss {loss:.4f}, "
              f"test accuracy {100 * accuracy:.2f} %", flush=True)
        state = {"epoch": epoch + 1, "model": model.state_dict(),
                 "optimizer": optimizer.state_dict(), "losses": losses, "accs": accs,
                 "rng_state": get_rng_state(),
                 "args": {k: v for k, v in vars(args).items()}}
        _save_atomic(state, os.path.join(args.out_dir, "checkpoint.pt"))
        if accuracy >= best:
            best = accuracy
            _save_atomic(model.state_dict(), os.path.join(args.out_dir, "best.pt"))
        if writer is not None:
            writer.add_scalar("Loss/train", loss, epoch + 1)
            writer.add_scalar("Accuracy/test", accuracy, epoch + 1)
            writer.flush()
        _setup.plot_curves(losses, accs, args.out_dir)
    if writer is not None:
        writer.close()
    if args.export_onnx:
        _write_onnx(model, data, args.export_onnx)
    elapsed = time.perf_counter() - began
    final = accs[-1] if accs else 0.0
    print(f"Done in {elapsed:.1f} s: final test accuracy {100 * final:.2f} %, best "
          f"{100 * best:.2f} %. Checkpoints and curves in {args.out_dir}")
    return 0


def main(argv=None) -> int:
    """`ember train [options]`; returns the exit status."""
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as error:
        print(f"ember train: error: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)
    try:
        return run(args)
    except _setup.SetupError as error:
        print(f"ember train: error: {error}", file=sys.stderr)
        return 2
    except _setup.DataError as error:
        print(f"ember train: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nember train: interrupted; the last checkpoint is in "
              f"{os.path.join(args.out_dir, 'checkpoint.pt')}", file=sys.stderr)
        return 130
