"""`ember train` runs as a user sees them (ember/cli/train.py, ember/cli/_setup.py): exact resume
with TensorBoard on, one TensorBoard run per invocation, no progress-bar spam off a terminal, image
folders of any picture size."""

import os
import re
import subprocess
import sys

import numpy as np
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import ember

ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg"}
QUICK = ["--model", "mlp", "--batch-size", "64", "--optimizer", "sgd", "--lr", "0.05"]


def _train(*args, cwd=None):
    result = subprocess.run([sys.executable, "-m", "ember", "train", *args], capture_output=True,
                            text=True, cwd=cwd, env=ENV, timeout=600)
    assert result.returncode == 0, result.stderr
    return result


def _epoch_lines(stdout: str) -> dict:
    """{epoch: 'train loss …, test accuracy …'} from the per-epoch lines."""
    return {int(n): rest for n, rest in re.findall(r"Epoch (\d+)/\d+: (.*)", stdout)}


def _scalars(run_dir) -> dict:
    events = EventAccumulator(str(run_dir))
    events.Reload()
    return {tag: [(event.step, event.value) for event in events.Scalars(tag)]
            for tag in events.Tags()["scalars"]}


def test_resume_with_tensorboard_is_exact_and_runs_log_apart(tmp_path):
    whole = _train(*QUICK, "--epochs", "2", "--out-dir", str(tmp_path / "whole"))
    out = tmp_path / "split"
    _train(*QUICK, "--epochs", "1", "--out-dir", str(out))
    resumed = _train(*QUICK, "--epochs", "2", "--out-dir", str(out),
                     "--resume", str(out / "checkpoint.pt"))
    assert _epoch_lines(resumed.stdout)[2] == _epoch_lines(whole.stdout)[2]
    final_whole = ember.load(str(tmp_path / "whole" / "best.pt"))
    final_split = ember.load(str(out / "best.pt"))
    for name, value in final_whole.items():
        assert ember.equal(value, final_split[name]), name
    runs = sorted(os.listdir(out / "tensorboard"))
    assert len(runs) == 2  # the first invocation and the resumed one
    steps = [[step for step, _ in _scalars(out / "tensorboard" / run)["Loss/train"]]
             for run in runs]
    assert sorted(steps) == [[1], [2]]


def test_tensorboard_does_not_change_training(tmp_path):
    logged = _train(*QUICK, "--epochs", "1", "--out-dir", str(tmp_path / "a"))
    silent = _train(*QUICK, "--epochs", "1", "--out-dir", str(tmp_path / "b"), "--no-tensorboard")
    assert _epoch_lines(logged.stdout) == _epoch_lines(silent.stdout)


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path):
    result = _train(*QUICK, "--epochs", "2", "--out-dir", str(tmp_path), "--no-tensorboard")
    assert "\r" not in result.stderr and "batch/s" not in result.stderr
    assert len(_epoch_lines(result.stdout)) == 2


def test_image_folder_pictures_of_any_size_are_resized(tmp_path):
    rng = np.random.default_rng(0)
    for split, count in (("train", 6), ("test", 2)):
        for label, level in (("dark", 40), ("light", 210)):
            folder = tmp_path / "data" / split / label
            folder.mkdir(parents=True)
            for i in range(count):
                height, width = rng.integers(20, 70, size=2)
                pixels = rng.normal(level, 10, (height, width, 3)).clip(0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
    result = _train("--dataset", "imagefolder", "--data-dir", str(tmp_path / "data"), "--model",
                    "mycnn", "--epochs", "1", "--out-dir", str(tmp_path / "out"),
                    "--no-tensorboard")
    assert "3x32x32" in result.stdout and "2 classes" in result.stdout
