"""The launcher (`ember run --nproc-per-node N`, `python -m ember.distributed.run`): torchrun's
environment in every rank, Ctrl-C, flag errors (a failing rank: tests/cli/test_rank.py)."""

import os
import re
import signal
import subprocess
import sys

import pytest

from ember.distributed import run
from tests.distributed.launch import ROOT, SCRIPTS, launch



def _env_lines(stdout):
    """Each rank's `env ...` line (found anywhere, should another rank's output precede it)."""
    return sorted("env " + found for found in re.findall(r"env (RANK=.*?torch ember ember)",
                                                           stdout))


@pytest.mark.parametrize("launcher, address", [
    (("-m", "ember", "run"), "localhost"),
    (("-m", "ember.distributed.run", "--master-port", "29555"), "127.0.0.1")])
def test_every_rank_gets_torchruns_variables(launcher, address):
    result = launch("environment.py", "--lr", "0.5", launcher=launcher)
    assert result.returncode == 0, result.stderr
    lines = _env_lines(result.stdout)
    assert len(lines) == 2, result.stdout
    ports = {re.search(r"MASTER_PORT=(\d+)", line).group(1) for line in lines}
    assert len(ports) == 1
    # one machine and no port: a free one, as torchrun 2.13 (standalone); else the one given
    assert (ports == {"29555"}) == ("--master-port" in launcher)
    for rank, line in enumerate(lines):
        assert f"RANK={rank} LOCAL_RANK={rank} GROUP_RANK=0 WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 " \
               f"MASTER_ADDR={address} MASTER_PORT=" in line, line
        assert "OMP_NUM_THREADS=1" in line, line
        assert line.endswith("args ['--lr', '0.5'] torch ember ember"), line


def test_two_nodes_number_their_ranks_as_torchrun():
    """--nnodes 2 through MPI's host list (both "machines" are this one): node by node, local
    ranks restart at 0 on each node, GROUP_RANK is the node."""
    result = launch(os.path.join(SCRIPTS, "environment.py"), nproc=1,
                    flags=["--nnodes", "2", "--hosts", "localhost,localhost"])
    assert result.returncode == 0, result.stderr
    lines = _env_lines(result.stdout)
    assert len(lines) == 2, result.stdout
    for rank, line in enumerate(lines):
        assert f"RANK={rank} LOCAL_RANK=0 GROUP_RANK={rank} WORLD_SIZE=2 LOCAL_WORLD_SIZE=1 " \
               "MASTER_ADDR=127.0.0.1 MASTER_PORT=29500 " in line, line


def test_module_flag_runs_the_module_on_every_rank():
    """torchrun's -m: the script is a module name, run as `python -m` runs it."""
    result = launch("tests.distributed.scripts.environment", "--lr", "0.5",
                    flags=["-m"])
    assert result.returncode == 0, result.stderr
    lines = _env_lines(result.stdout)
    assert [line.split()[1] for line in lines] == ["RANK=0", "RANK=1"], result.stdout
    assert all(line.endswith("args ['--lr', '0.5'] torch ember ember") for line in lines)


def test_no_python_flag_runs_the_program_itself():
    """torchrun's --no-python: the program gets the variables; its status is the job's."""
    result = launch("sh", "-c", 'echo "rank $RANK of $WORLD_SIZE local $LOCAL_RANK"',
                    flags=["--no-python"])
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == ["rank 0 of 2 local 0", "rank 1 of 2 local 1"]
    failed = launch("sh", "-c", "exit 4", flags=["--no-python"])
    assert failed.returncode == 4


@pytest.mark.parametrize("argv, expected", [
    # torchrun 2.13 (torch/distributed/run.py: run()): standalone when asked, or on one machine
    # with neither --master-port nor --rdzv-endpoint; then localhost, a free port, a uuid4 run id
    ([], ("localhost", None, "uuid")),
    (["--standalone", "--master-port", "1234"], ("localhost", None, "uuid")),
    (["--master-port", "1234"], ("127.0.0.1", "1234", "none")),
    (["--master-addr", "10.1.1.1", "--master-port", "1234", "--rdzv-id", "job7"],
     ("10.1.1.1", "1234", "job7")),
    (["--nnodes", "2", "--master-addr", "head"], ("head", "29500", "none")),
])
def test_rendezvous_variables_follow_torchruns_rules(argv, expected):
    args = run.build_parser().parse_args(argv + ["train.py"])
    nnodes = int(args.nnodes)
    env = run.rank_environment(args, 3, nnodes)
    address, port, run_id = expected
    assert env["MASTER_ADDR"] == address
    assert env["MASTER_PORT"] == port if port else 0 < int(env["MASTER_PORT"]) < 65536
    if run_id == "uuid":
        assert len(env["TORCHELASTIC_RUN_ID"]) == 36 and env["TORCHELASTIC_RUN_ID"].count("-") == 4
    else:
        assert env["TORCHELASTIC_RUN_ID"] == run_id
    assert (env["WORLD_SIZE"], env["LOCAL_WORLD_SIZE"], env["GROUP_WORLD_SIZE"],
            env["ROLE_WORLD_SIZE"], env["ROLE_NAME"]) == (str(3 * nnodes), "3", str(nnodes),
                                                          str(3 * nnodes), "default")


@pytest.mark.parametrize("argv, message", [
    (["--nnodes", "2", "x.py"], "--hostfile"),
    (["--node-rank", "1", "x.py"], "one machine only"),
    (["--nproc-per-node", "2", "missing.py"], "can't open file 'missing.py'"),
    (["-m", "--no-python", "x"], "Don't use both the '--no-python' flag and the '--module' flag"),
])
def test_flag_errors(argv, message, capsys):
    assert run.main(argv) == 2
    assert message in capsys.readouterr().err


def test_torchrun_flags_are_accepted():
    args = run.build_parser().parse_args(
        ["--nproc_per_node=4", "--nnodes=1:2", "--rdzv-backend=c10d", "--rdzv_endpoint=h:1",
         "--max-restarts", "0", "--master_addr", "10.0.0.1", "train.py", "--epochs", "3"])
    assert (args.nproc_per_node, args.nnodes, args.master_addr) == ("4", "1:2", "10.0.0.1")
    assert (args.script, args.script_args) == ("train.py", ["--epochs", "3"])


def test_mpiexec_command_for_several_machines():
    args = run.build_parser().parse_args(["--nnodes", "2", "--nproc-per-node", "3",
                                          "--hostfile", "hosts.txt", "train.py", "-v"])
    command = run.mpiexec_command(args, 3, 2, {})
    assert command[1:] == ["-n", "6", "-ppn", "3", "-f", "hosts.txt", command[7], "-m",
                           "ember.cli._rank", "train.py", "-v"]


def test_ctrl_c_stops_every_rank():
    """Ctrl-C reaches the terminal's whole process group: launcher, mpiexec and the ranks."""
    command = [sys.executable, "-m", "ember", "run", "--nproc-per-node", "2",
               os.path.join(SCRIPTS, "wait.py")]
    job = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True, cwd=ROOT,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        seen = ""  # the ranks share stdout, so their lines may interleave
        while not ("started 0" in seen and "started 1" in seen):
            line = job.stdout.readline()
            assert line, seen
            seen += line
        os.killpg(job.pid, signal.SIGINT)
        assert job.wait(timeout=60) == 130
        assert "KeyboardInterrupt" in job.stderr.read()
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()


def test_mpiexec_command_for_open_mpi_as_root(monkeypatch):
    """Open MPI refuses to start as root without --allow-run-as-root; its env needs -x."""
    monkeypatch.setattr(run, "_is_open_mpi", lambda mpiexec: True)
    monkeypatch.setattr(run.os, "geteuid", lambda: 0)
    args = run.build_parser().parse_args(["--nnodes", "2", "--nproc-per-node", "2",
                                          "--hosts", "a,b", "train.py"])
    command = run.mpiexec_command(args, 2, 2, {"MASTER_ADDR": "a", "WORLD_SIZE": "4"})
    assert command[1:3] == ["-n", "4"]
    assert "--allow-run-as-root" in command and "--oversubscribe" in command
    assert command[command.index("--host") + 1] == "a:2,b:2"
    assert command[command.index("--map-by") + 1] == "ppr:2:node"
    assert ["-x", "MASTER_ADDR", "-x", "WORLD_SIZE"] == command[-8:-4]
    assert "GROUP_WORLD_SIZE" not in command  # only the variables the environment has
