"""examples/distributed/train_ddp.py, a plain PyTorch DDP script, runs unchanged under
`ember run --nproc-per-node 2` and under real torchrun, and prints the same losses under both
(the same seeds, DistributedSampler shuffle, DDP averaging and Adam steps)."""

import re
from pathlib import Path

from tests.distributed.launch import launch_under_torch_and_ember

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "distributed" / "train_ddp.py"
ARGS = ("--steps", "6", "--batch-size", "20")


def _losses(stdout):
    return re.findall(r"step +(\d+)  loss (\d+\.\d{4})", stdout)


def test_train_ddp_runs_on_two_ranks_as_under_torchrun():
    theirs, ours = launch_under_torch_and_ember(str(EXAMPLE), ARGS, ARGS)
    assert ours.returncode == 0, ours.stderr
    assert re.search(r"2 rank\(s\), 1 thread\(s\) each: \d+ images/s", ours.stdout)
    assert re.search(r"all-reduce of 25674 gradients: \d+\.\d\d ms", ours.stdout)
    assert re.search(r"backward per step \(1 bucket\(s\)\): compute [\d.]+ ms", ours.stdout)
    assert theirs.returncode == 0, theirs.stderr[-3000:]
    assert [step for step, _ in _losses(ours.stdout)] == ["0", "5"], ours.stdout
    assert _losses(ours.stdout) == _losses(theirs.stdout), (ours.stdout, theirs.stdout)
