"""The `ember` command: `ember train` (subprocesses, a few epochs on digits) and `ember run`."""

import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

import ember

ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"}


def _ember(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "ember", *args], capture_output=True,
                          text=True, cwd=cwd, env=ENV, timeout=timeout)


# ---- ember train ----------------------------------------------------------------------------
@pytest.mark.parametrize("args, needle", [
    (["--epochs", "0"], "--epochs must be a positive integer"),
    (["--model", "nope"], "unknown model 'nope'"),
    (["--dataset", "imagenet"], "unknown dataset 'imagenet'"),
    (["--optimizer", "rmsprop"], "invalid choice: 'rmsprop'"),
    (["--lr", "-1"], "--lr must be positive"),
    (["--batch-size", "x"], "invalid int value: 'x'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--resume", "/no/such/file.pt"], "no such checkpoint"),
    (["--model", "vgg11-bn", "--image-size", "8"], "needs images of at least 32x32"),
])
def test_train_bad_options(args, needle, tmp_path, capsys):
    from ember.__main__ import main

    # in-process (the same code path as the console script, without a Python start-up each)
    assert main(["train", "--out-dir", str(tmp_path), *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ember train: error:"), lines
    assert needle in lines[0]


def test_train_bad_option_in_a_subprocess(tmp_path):
    result = _ember("train", "--epochs", "-3", "--out-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == "ember train: error: --epochs must be a positive integer"


def test_train_help_and_unknown_command():
    result = _ember("train", "--help")
    assert result.returncode == 0 and "--model" in result.stdout
    result = _ember("fly")
    assert result.returncode == 2 and "unknown command 'fly'" in result.stderr


def test_train_default_run_reaches_95_percent(tmp_path):
    result = _ember("train", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    accuracies = [float(a) for a in re.findall(r"Epoch \d+/10: train loss [\d.]+, test accuracy "
                                               r"([\d.]+) %", result.stdout)]
    assert len(accuracies) == 10
    assert accuracies[-1] >= 95.0
    out = tmp_path / "runs" / "ember-train"
    for name in ("checkpoint.pt", "best.pt", "loss.png", "accuracy.png"):
        assert (out / name).is_file(), name
    (run,) = os.listdir(out / "tensorboard")  # one folder per invocation
    assert any(f.startswith("events.out.tfevents") for f in os.listdir(out / "tensorboard" / run))
    state = ember.load(str(out / "checkpoint.pt"), weights_only=False)
    assert state["epoch"] == 10 and len(state["accs"]) == 10
    assert abs(100 * state["accs"][-1] - accuracies[-1]) < 0.01


def test_train_cnn_one_epoch_then_resume(tmp_path):
    out = str(tmp_path / "run")
    first = _ember("train", "--model", "mycnn", "--epochs", "1", "--batch-size", "128",
                   "--optimizer", "sgd", "--lr", "0.05", "--out-dir", out, "--no-tensorboard")
    assert first.returncode == 0, first.stderr
    assert re.search(r"Epoch 1/1: train loss [\d.]+, test accuracy [\d.]+ %", first.stdout)
    second = _ember("train", "--model", "mycnn", "--epochs", "2", "--batch-size", "128",
                    "--optimizer", "sgd", "--lr", "0.05", "--out-dir", out, "--no-tensorboard",
                    "--resume", os.path.join(out, "checkpoint.pt"))
    assert second.returncode == 0, second.stderr
    assert "Resumed from" in second.stdout and "Epoch 1/2" not in second.stdout
    assert "Epoch 2/2" in second.stdout
    state = ember.load(os.path.join(out, "checkpoint.pt"), weights_only=False)
    assert state["epoch"] == 2 and len(state["losses"]) == 2


def test_train_image_folder(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 6), ("test", 2)):
        for cls, level in (("dark", 40), ("light", 210)):
            folder = tmp_path / "data" / split / cls
            folder.mkdir(parents=True)
            for i in range(n):
                pixels = np.clip(rng.normal(level, 10, (8, 8, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
    result = _ember("train", "--dataset", "imagefolder", "--data-dir", str(tmp_path / "data"),
                    "--model", "mlp", "--image-size", "8", "--epochs", "2",
                    "--out-dir", str(tmp_path / "out"), "--no-tensorboard")
    assert result.returncode == 0, result.stderr
    assert "4 test images" in result.stdout and "2 classes" in result.stdout


def test_train_missing_dataset_is_a_clear_error(tmp_path):
    result = _ember("train", "--dataset", "mnist", "--data-dir", str(tmp_path),
                    "--out-dir", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "Dataset not found" in result.stderr and "Traceback" not in result.stderr
    assert os.path.join(str(tmp_path), "MNIST", "raw") in result.stderr


# ---- ember run ------------------------------------------------------------------------------
SCRIPT = """
import sys
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim.lr_scheduler
import torch.utils.data
import torchvision
import torchvision.transforms as transforms
from torch.utils.data import DataLoader, TensorDataset
from torchvision import datasets, models, utils
import ember

assert torch is ember and nn is ember.nn and F is ember.nn.functional
assert torchvision is ember.vision and transforms is ember.vision.transforms
assert torch.optim.lr_scheduler is ember.optim.lr_scheduler
print("argv", sys.argv)
print("name", __name__)
x = torch.tensor([[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1],
                  [2, 1, 0, 1, 1]]).reshape(1, 1, 5, 5)
k = torch.tensor([[1, 2, 1], [0, 1, 0], [2, 1, 0]]).reshape(1, 1, 3, 3)
print("conv", F.conv2d(x, k, stride=1).tolist())
loader = DataLoader(TensorDataset(torch.randn(8, 3), torch.randint(0, 2, (8,))), batch_size=4)
model = nn.Linear(3, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for xb, yb in loader:
    optimizer.zero_grad()
    nn.CrossEntropyLoss()(model(xb), yb).backward()
    optimizer.step()
print("ok", transforms.ToTensor()(datasets.FakeData(1, (3, 4, 4))[0][0]).shape)
"""


def _script(tmp_path, text, name="script.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_run_serves_torch_and_torchvision(tmp_path):
    path = _script(tmp_path, SCRIPT)
    result = _ember("run", path, "--flag", "value", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"argv ['{path}', '--flag', 'value']" in result.stdout
    assert "name __main__" in result.stdout
    assert "conv [[[[10, 12, 12], [18, 16, 16], [13, 9, 3]]]]" in result.stdout
    assert "ok torch.Size([3, 4, 4])" in result.stdout


def test_run_traceback_and_exit_status(tmp_path):
    helper = _script(tmp_path, "def fail():\n    raise ValueError('boom')\n", "helper.py")
    path = _script(tmp_path, "import helper\nprint('before')\nhelper.fail()\n")
    result = _ember("run", path)
    assert result.returncode == 1
    assert "before" in result.stdout
    err = result.stderr
    assert err.startswith("Traceback (most recent call last):")
    assert f'File "{path}", line 3, in <module>' in err and f'File "{helper}"' in err
    assert err.strip().endswith("ValueError: boom")
    assert "runpy" not in err and "ember/cli" not in err


@pytest.mark.parametrize("body, status, stream, text", [
    ("import sys\nsys.exit(3)\n", 3, "stderr", ""),
    ("import sys\nsys.exit('bad input')\n", 1, "stderr", "bad input"),
    ("raise SystemExit\n", 0, "stderr", ""),
    ("import torch.nonexistent\n", 1, "stderr",
     "ModuleNotFoundError: No module named 'torch.nonexistent'"),
    ("from torchvision.models import resnet18\nprint(resnet18.__module__)\n", 0, "stdout",
     "ember.vision.models.resnet"),
])
def test_run_exit_codes_and_imports(body, status, stream, text, tmp_path):
    result = _ember("run", _script(tmp_path, body))
    assert result.returncode == status, result.stderr
    assert text in getattr(result, stream)


def test_run_missing_script(tmp_path):
    result = _ember("run", str(tmp_path / "nope.py"))
    assert result.returncode == 2 and "can't open file" in result.stderr
    assert _ember("run").returncode == 2


def test_train_without_tensorboard_says_so(monkeypatch, capsys, tmp_path):
    from ember.cli import _setup

    monkeypatch.setitem(sys.modules, "ember.utils.tensorboard", None)  # import fails
    assert _setup.make_writer(str(tmp_path), None, None) is None
    assert "note: no TensorBoard logs" in capsys.readouterr().err


def test_train_on_mnist_files(tmp_path):
    import gzip
    import struct

    raw = tmp_path / "data" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 40), ("t10k", 20)):
        labels = np.arange(n) % 10
        images = np.clip(rng.normal(labels[:, None, None] * 20, 5, (n, 28, 28)), 0, 255)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
            with gzip.open(raw / f"{prefix}-{kind}-ubyte.gz", "wb") as f:
                f.write(header + array.astype(np.uint8).tobytes())
    result = _ember("train", "--dataset", "fashion-mnist", "--data-dir", str(tmp_path / "data"),
                    "--model", "seed000-net", "--epochs", "1", "--out-dir", str(tmp_path / "o"),
                    "--no-tensorboard")
    assert result.returncode == 0, result.stderr
    assert "40 train / 20 test images, 1x28x28, 10 classes" in result.stdout


def test_resume_from_a_foreign_checkpoint_is_a_usage_error(tmp_path, capsys):
    from ember.__main__ import main

    path = str(tmp_path / "other.pt")
    ember.save({"model": {"nope": ember.zeros(1)}}, path)
    assert main(["train", "--resume", path, "--out-dir", str(tmp_path), "--no-progress",
                 "--no-tensorboard"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a checkpoint of this model" in err[0]
