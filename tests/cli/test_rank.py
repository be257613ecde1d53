"""One rank of a launched job (ember/cli/_rank.py): a rank whose script fails aborts the whole
MPI job, so the launcher exits with its status within seconds instead of hanging."""

from tests.distributed.launch import launch


def test_a_rank_that_raises_stops_the_job_with_its_traceback():
    result = launch("fail.py", timeout=60)  # no hang: rank 0 is stopped inside its barrier
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "ValueError: rank 1 failed on purpose" in result.stderr
    assert "passed the barrier" not in result.stdout


def test_a_rank_that_exits_early_stops_the_job_with_its_status():
    result = launch("exit_early.py", timeout=60)
    assert result.returncode == 3, result.stderr
