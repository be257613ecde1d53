"""examples/distributed/train_ddp.py (a plain PyTorch DDP script, also run under real torchrun)
trains under `ember run --nproc-per-node 2`: both ranks join, rank 0 reports its measures."""

import re
from pathlib import Path

from tests.distributed.launch import launch

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "distributed" / "train_ddp.py"


def test_train_ddp_runs_on_two_ranks():
    result = launch(str(EXAMPLE), "--steps", "4", "--batch-size", "20")
    assert result.returncode == 0, result.stderr
    assert re.search(r"step +0  loss \d+\.\d{4}", result.stdout), result.stdout
    assert re.search(r"2 rank\(s\), 1 thread\(s\) each: \d+ images/s", result.stdout)
    assert re.search(r"all-reduce of 25674 gradients: \d+\.\d\d ms", result.stdout)
