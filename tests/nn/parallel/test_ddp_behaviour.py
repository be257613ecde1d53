"""DistributedDataParallel behaves as torch's, case by case, on 2 real ranks each.

tests/distributed/scripts/ddp_probe.py runs under real torchrun (torch's DDP over gloo) and
under `ember run`; every case's record (printed form, what construction broadcasts, averaged and
locally accumulated gradients, buffers, unused parameters, state_dict round trip, errors) must
be equal; float32 gradients to a relative 1e-6 (the forward's float32 sums may round apart).
"""

import math
import pickle

import pytest

from tests.distributed.launch import launch_under_torch_and_ember


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """(torch's records, ember's records), one dict per rank each."""
    outs = [tmp_path_factory.mktemp(name) for name in ("torch", "ember")]
    results = launch_under_torch_and_ember("ddp_probe.py", [outs[0]], [outs[1]])
    for result in results:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return tuple([pickle.loads((out / f"rank{r}.pkl").read_bytes()) for r in range(2)]
                 for out in outs)


def _close(ours, theirs, path="") -> list:
    """Where two records differ (floats to a relative 1e-6, everything else exactly)."""
    if isinstance(theirs, float) and isinstance(ours, float):
        return [] if math.isclose(ours, theirs, rel_tol=1e-6, abs_tol=1e-6) else [path]
    if isinstance(theirs, dict) and isinstance(ours, dict):
        if set(ours) != set(theirs):
            return [path + " keys"]
        return [d for k in theirs for d in _close(ours[k], theirs[k], f"{path}/{k}")]
    if isinstance(theirs, (list, tuple)) and isinstance(ours, (list, tuple)):
        if len(ours) != len(theirs) or type(ours) is not type(theirs):
            return [path]
        return [d for i, (a, b) in enumerate(zip(ours, theirs))
                for d in _close(a, b, f"{path}/{i}")]
    return [] if ours == theirs else [path]


CASES = ["construction", "gradients", "buffers_kept", "unused_without_find", "unused_with_find",
         "state_dict_round_trip", "tied_and_reused_weights", "errors"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("rank", [0, 1])
def test_case_equals_torchs(records, case, rank):
    theirs, ours = records[0][rank][case], records[1][rank][case]
    assert not (isinstance(theirs, tuple) and theirs[0] == "raised"), theirs
    assert not _close(ours, theirs), (_close(ours, theirs), ours, theirs)
