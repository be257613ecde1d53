"""Long runs don't leak: tests/soak.py trains with DataLoader workers, checkpoints and
TensorBoard logging, and its memory, file descriptors, threads and temporaries stay flat.

CI runs a small count; the full run (10,000 MLP and 2,000 MyCNN steps, a checkpoint every 500)
is `EMBER_SOAK_FULL=1 python -m pytest tests/test_soak.py`.
"""

import json
import os
import statistics
import subprocess
import sys

import pytest

FULL = os.environ.get("EMBER_SOAK_FULL") == "1"
COUNTS = (["--mlp-steps", "10000", "--cnn-steps", "2000", "--every", "500"] if FULL else
          ["--mlp-steps", "400", "--cnn-steps", "75", "--every", "25"])


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    directory = tmp_path_factory.mktemp("soak")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-m", "tests.soak", str(directory), *COUNTS],
                          cwd=root, capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {phase: [r for r in rows if r["phase"] == phase] for phase in ("mlp", "cnn")}


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["mlp", "cnn"])
def test_resident_memory_is_flat_after_warm_up(samples, phase):
    rss = [r["rss"] for r in samples[phase]]
    assert len(rss) >= 3
    # The first third is warm-up; a sample moves by a few MB as NumPy hands big buffers back
    # to the OS, so compare the medians of the middle and the last third: a leak grows both.
    third = len(rss) // 3
    growth = statistics.median(rss[-third:]) / statistics.median(rss[third:-third]) - 1
    assert growth < 0.05, rss


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["mlp", "cnn"])
@pytest.mark.parametrize("resource", ["fds", "threads"])
def test_no_descriptor_or_thread_growth(samples, phase, resource):
    counts = [r[resource] for r in samples[phase]]
    # batches in flight from the workers hold a few shared-memory descriptors at any moment
    # (2 workers × 2 prefetched batches × 2 tensors); a leak would grow without bound
    assert max(counts) - min(counts) <= 8, counts


@pytest.mark.slow
def test_no_temporary_files_left(samples):
    assert all(r["temporaries"] == [] for rows in samples.values() for r in rows)
