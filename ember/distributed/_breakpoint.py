"""dist.breakpoint: pdb on one rank, reading the terminal even in a launched child process."""

import pdb
import sys
import traceback

from ember.distributed.collectives import barrier
from ember.distributed.process_group import get_rank

_calls = {}


class _DistributedPdb(pdb.Pdb):
    """pdb that reads /dev/stdin (a launched rank's own stdin is not the terminal)."""

    def interaction(self, *args, **kwargs):
        stdin = sys.stdin
        try:
            with open("/dev/stdin") as sys.stdin:
                pdb.Pdb.interaction(self, *args, **kwargs)
        finally:
            sys.stdin = stdin


def breakpoint_on_rank(rank: int, skip: int) -> None:
    """torch's dist.breakpoint: break on `rank`, then every rank meets at a barrier."""
    if skip > 0:
        key = hash(str(traceback.format_exc()))
        _calls[key] = _calls.get(key, 0) + 1
        if _calls[key] <= skip:
            return
    if get_rank() == rank:
        debugger = _DistributedPdb()
        debugger.message("\n!!! ATTENTION !!!\n\nType 'up' to get to the frame that called "
                         f"dist.breakpoint(rank={rank})\n")
        debugger.set_trace(sys._getframe(2))
    barrier()
