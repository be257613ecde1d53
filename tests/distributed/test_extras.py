"""The coalesced collectives, subgroups, futures, stores shared by ranks and DDP communication
hooks against torch's own, on 2 real ranks each: scripts/extras.py runs once under real torchrun
(torch's gloo) and once under `ember run`; every case's record must be equal."""

import math
import pickle

import pytest

from tests.distributed.launch import launch_under_torch_and_ember


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """(torch's records, ember's records), one dict per rank each."""
    outs = [tmp_path_factory.mktemp(name) for name in ("torch", "ember")]
    results = launch_under_torch_and_ember("extras.py", [outs[0]], [outs[1]])
    for result in results:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return tuple([pickle.loads((out / f"rank{r}.pkl").read_bytes()) for r in range(2)]
                 for out in outs)


def _floats(values):
    """The numbers of a (nested) list of tensor values, flattened."""
    if isinstance(values, list):
        return [x for v in values for x in _floats(v)]
    return [values]


def same(theirs, ours) -> bool:
    """Equal records, float32 tensors to float32 rounding (the local backward's matrix products
    may round differently; everything else, fp16-compressed gradients included, is exact)."""
    if isinstance(theirs, tuple) and theirs[:2] == ("tensor", "torch.float32"):
        return theirs[:3] == ours[:3] and all(
            math.isclose(a, b, rel_tol=2e-6, abs_tol=1e-7)
            for a, b in zip(_floats(theirs[3]), _floats(ours[3]), strict=True))
    if isinstance(theirs, (tuple, list)) and isinstance(ours, type(theirs)):
        return len(theirs) == len(ours) and all(map(same, theirs, ours))
    return theirs == ours


@pytest.mark.parametrize("rank", [0, 1])
def test_every_case_equals_torchs(records, rank):
    theirs, ours = records[0][rank], records[1][rank]
    assert len(theirs) > 30 and set(theirs) == set(ours)
    different = {name: (theirs[name], ours[name]) for name in theirs
                 if not same(theirs[name], ours[name])}
    assert not different, different


def test_hooks_change_the_gradients_as_torchs(records):
    """fp16 compression rounds the averaged gradients (so the cases differ from each other)."""
    theirs, ours = records[0][0], records[1][0]
    def gradients(record, name):
        return record[name][1][0]

    for record in (theirs, ours):
        assert not same(gradients(record, "ddp fp16_compress_hook"),
                        gradients(record, "ddp no hook"))
        assert same(gradients(record, "ddp allreduce_hook"), gradients(record, "ddp no hook"))
    # rounded to float16 before averaging: torch's values exactly
    for name in ("ddp fp16_compress_hook", "ddp fp16_compress_wrapper", "ddp builtin fp16"):
        assert ours[name] == theirs[name], name
