"""One rank of a launched job: `python -m ember.cli._rank SCRIPT ARGS` under mpiexec.

Sets torchrun's per-rank variables (RANK, LOCAL_RANK, GROUP_RANK, ...) from the MPI launcher's
own (MPICH's PMI_RANK and MPI_LOCALRANKID, Open MPI's OMPI_COMM_WORLD_*), runs the script with
torch served by ember (`ember run`), and, if the script fails, aborts the whole MPI job so that
the other ranks stop at once instead of waiting forever in a collective.
"""

import os
import sys

from ember.cli.run import run

# (global rank, local rank) variables of each MPI launcher, in the order they are tried
_LAUNCHER_VARS = (("PMI_RANK", "MPI_LOCALRANKID"),
                  ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK"),
                  ("PMIX_RANK", "MPI_LOCALRANKID"))


def _mpi_ranks():
    """(global rank, local rank) from the launcher's environment, else from MPI itself."""
    for rank_var, local_var in _LAUNCHER_VARS:
        if rank_var in os.environ:
            rank = int(os.environ[rank_var])
            per_node = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
            return rank, int(os.environ.get(local_var, rank % per_node))
    from mpi4py import MPI  # lazy: only for a launcher that sets none of the variables

    return MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_rank()


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
    from mpi4py import MPI  # lazy: a rank that never used MPI starts it only to abort

    MPI.COMM_WORLD.Abort(status)


def main(argv=None) -> int:
    """Run one rank; the script's exit status (a failing rank aborts the job)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    set_rank_environment()
    status = run(argv[0], argv[1:])
    if status != 0 and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        _abort(status)
    return status


if __name__ == "__main__":
    sys.exit(main())
