"""End to end: ember's event files served by a real `tensorboard` and rendered by Chromium.

Starts TensorBoard on 127.0.0.1 over a log directory written by ember's SummaryWriter, checks its
HTTP data API lists the runs, tags and graph, then loads the UI in headless Chromium: the DOM of
the Time Series dashboard must name the logged tags, and screenshots of it and of the Graphs tab
are kept in tests/artifacts/ (or $EMBER_TEST_ARTIFACTS) for people to look at.

Chromium is required, not optional: install it with `.ci/install-browser`.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import ember
from ember.utils.tensorboard import SummaryWriter

ARTIFACTS = Path(os.environ.get("EMBER_TEST_ARTIFACTS",
                                Path(__file__).resolve().parents[2] / "artifacts"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                  "--window-size=1280,800", "--virtual-time-budget=10000"]


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("Chromium is not installed: run .ci/install-browser (it apt-get installs "
                "Debian's chromium) before the tests.", pytrace=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def run_chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, timeout=90)


class AddOne:
    """A parameterless model (module protocol: `_modules` and `forward`) for add_graph."""

    def __init__(self):
        self._modules = {}

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        return x * 2 + 1


def write_logs(logdir: Path) -> None:
    rng = np.random.default_rng(0)
    with SummaryWriter(str(logdir / "run1")) as writer:
        for step in range(20):
            writer.add_scalar("train/loss", 1.0 / (step + 1), step)
        writer.add_images("cifar/input", rng.random((16, 3, 32, 32), dtype=np.float32), 0)
        writer.add_graph(AddOne(), ember.ones(2, 3))


def wait_for_tags(base: str, server: subprocess.Popen, deadline: float) -> dict:
    while True:
        if server.poll() is not None:
            pytest.fail(f"tensorboard exited with {server.returncode}: "
                        f"{server.stdout.read().decode(errors='replace')[-2000:]}")
        try:
            tags = get_json(base + "/data/plugin/scalars/tags")
            if "train/loss" in tags.get("run1", {}):
                return tags
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail("tensorboard did not list the scalar tag in time")
        time.sleep(0.25)


def test_tensorboard_serves_and_chromium_renders_ember_logs(tmp_path):
    chromium = chromium_path()
    write_logs(tmp_path / "logs")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(tmp_path / "logs"),
         "--host", "127.0.0.1", "--port", str(port), "--reload_interval", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_tags(base, server, time.monotonic() + 45)
        assert get_json(base + "/data/runs") == ["run1"]
        images = get_json(base + "/data/plugin/images/tags")
        assert images["run1"]["cifar/input"]["samples"] == 1
        assert get_json(base + "/data/plugin/graphs/info")["run1"]["run_graph"] is True
        with urllib.request.urlopen(base + "/data/plugin/graphs/graph?run=run1",
                                    timeout=10) as response:
            graph_text = response.read().decode()
        assert 'name: "AddOne/Mul"' in graph_text and 'name: "AddOne/Add"' in graph_text

        dom = run_chromium(chromium, tmp_path / "profile-dom", "--dump-dom",
                           base + "/#timeseries")
        page = dom.stdout.decode(errors="replace")
        assert "train/loss" in page and "cifar/input" in page, dom.stderr.decode()[-2000:]

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        if not (ARTIFACTS / ".gitignore").exists():
            (ARTIFACTS / ".gitignore").write_text("*\n")
        for name, fragment in (("tensorboard_timeseries.png", "#timeseries"),
                               ("tensorboard_graphs.png", "#graphs&run=run1")):
            shot = ARTIFACTS / name
            shot.unlink(missing_ok=True)
            result = run_chromium(chromium, tmp_path / f"profile-{name}",
                                  f"--screenshot={shot}", base + "/" + fragment)
            assert shot.exists() and shot.stat().st_size > 0, result.stderr.decode()[-2000:]
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            pixels = np.asarray(Image.open(shot).convert("RGB"))
            assert pixels.shape == (800, 1280, 3)
            red, green, blue = pixels[20, 20]  # TensorBoard's orange header, not an error page
            assert red > 200 and 80 < green < 170 and blue < 80, (name, pixels[20, 20])
            assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stdout.close()
