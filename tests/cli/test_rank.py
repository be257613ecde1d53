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


def test_a_rank_killed_by_a_signal_stops_the_job():
    """No traceback to print: mpiexec sees the death, stops rank 0, exits non-zero."""
    result = launch("killed.py", timeout=60)
    assert result.returncode != 0
    assert "passed the barrier" not in result.stdout


def test_a_rank_that_never_joins_times_out_with_the_groups_timeout():
    """init_process_group(timeout=2 s): rank 0's barrier raises RuntimeError after 2 s, as under
    torchrun (gloo: "Timed out waiting 2000ms for recv operation to complete"), and the job
    ends; without a timeout MPI would wait for rank 1 forever."""
    result = launch("timeout.py", timeout=60)
    assert result.returncode == 1
    assert "rank 0 timed out after 2 s" in result.stdout
    assert "RuntimeError: Timed out waiting 2000ms" in result.stderr
