"""Every collective of ember.distributed on 2 real ranks, against closed-form expected values.

The checks live in scripts/collectives.py (it also passes unchanged under real `torchrun
--nproc-per-node 2`, which is how its expectations were validated against torch's gloo).
"""

from tests.distributed.launch import launch


def test_collectives_on_two_ranks():
    result = launch("collectives.py")
    assert result.returncode == 0, result.stdout + result.stderr
    # both ranks share the launcher's stdout, so their lines may interleave
    assert "collectives ok 0" in result.stdout and "collectives ok 1" in result.stdout
