"""One rank of a launched job: `python -m ember.cli._rank [-m | --no-python] SCRIPT ARGS`.

Sets torchrun's per-rank variables (RANK, LOCAL_RANK, GROUP_RANK, ...) from the MPI launcher's
own (MPICH's PMI_RANK, Open MPI's OMPI_COMM_WORLD_RANK, PMIx's PMIX_RANK), runs the script with
torch served by ember (`ember run`), and, if the script fails, aborts the whole MPI job so that
the other ranks stop at once instead of waiting forever in a collective.
"""

import os
import subprocess
import sys
import time

from ember.cli.run import run, run_module

_FORWARDING_GRACE = 0.5  # seconds between a failed rank's last output and MPI_Abort

# the global rank as each MPI launcher gives it, in the order tried (MPICH, Open MPI, PMIx)
_LAUNCHER_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")


def _mpi_ranks():
    """(global rank, local rank). The launcher puts LOCAL_WORLD_SIZE consecutive ranks on each
    node (MPICH's -ppn, Open MPI's ppr:N:node), so the local rank is rank % LOCAL_WORLD_SIZE,
    as torchrun numbers them, even when two "nodes" are the same machine (MPI's own local ids
    would count every rank on the machine)."""
    per_node = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    for rank_var in _LAUNCHER_VARS:
        if rank_var in os.environ:
            rank = int(os.environ[rank_var])
            return rank, rank % per_node
    from mpi4py import MPI  # lazy: only for a launcher that sets none of the variables

    rank = MPI.COMM_WORLD.Get_rank()
    return rank, rank % per_node


def set_rank_environment() -> None:
    """RANK, LOCAL_RANK, GROUP_RANK, ROLE_RANK as torchrun sets them for this process."""
    rank, local_rank = _mpi_ranks()
    per_node = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    os.environ["RANK"] = str(rank)
    os.environ["LOCAL_RANK"] = str(local_rank)
    os.environ["GROUP_RANK"] = str(rank // per_node)
    os.environ["ROLE_RANK"] = str(rank)


def _abort(status: int) -> None:
    """Stop every rank of the job: MPI_Abort (the launcher then exits with status)."""
    sys.stdout.flush()
    sys.stderr.flush()
    # The launcher forwards this rank's output through a pipe it reads on its own time, and
    # MPI_Abort ends the job at once: on a busy machine the traceback just written was cut
    # after its first line. A moment's wait lets the launcher pass it on.
    time.sleep(_FORWARDING_GRACE)
    from mpi4py import MPI  # lazy: a rank that never used MPI starts it only to abort

    MPI.COMM_WORLD.Abort(status)


def _start(argv) -> int:
    """Run `SCRIPT ARGS`, `-m MODULE ARGS` or `--no-python PROGRAM ARGS`; its exit status."""
    if argv[0] == "-m":
        return run_module(argv[1], argv[2:])
    if argv[0] == "--no-python":  # torchrun's --no-python: the program runs as it is
        return subprocess.run(argv[1:]).returncode
    return run(argv[0], argv[1:])


def main(argv=None) -> int:
    """Run one rank; the script's exit status (a failing rank aborts the job)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    set_rank_environment()
    status = _start(argv)
    if status != 0 and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        _abort(status)
    return status


if __name__ == "__main__":
    sys.exit(main())
