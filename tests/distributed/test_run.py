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


@pytest.mark.parametrize("launcher", [("-m", "ember", "run"),
                                      ("-m", "ember.distributed.run", "--standalone")])
def test_every_rank_gets_torchruns_variables(launcher):
    result = launch("environment.py", "--lr", "0.5", launcher=launcher)
    assert result.returncode == 0, result.stderr
    lines = _env_lines(result.stdout)
    assert len(lines) == 2, result.stdout
    ports = {re.search(r"MASTER_PORT=(\d+)", line).group(1) for line in lines}
    assert len(ports) == 1
    # --standalone picks a free port, as torchrun does; else the default 29500
    assert (ports == {"29500"}) == ("--standalone" not in launcher)
    for rank, line in enumerate(lines):
        assert f"RANK={rank} LOCAL_RANK={rank} GROUP_RANK=0 WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 " \
               "MASTER_ADDR=127.0.0.1 MASTER_PORT=" in line, line
        assert "OMP_NUM_THREADS=1" in line, line
        assert line.endswith("args ['--lr', '0.5'] torch ember ember"), line


@pytest.mark.parametrize("argv, message", [
    (["--nnodes", "2", "x.py"], "--hostfile"),
    (["--node-rank", "1", "x.py"], "one machine only"),
    (["--nproc-per-node", "2", "missing.py"], "can't open file 'missing.py'"),
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
