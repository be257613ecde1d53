"""Rank 0 exits with status 3 before using MPI at all while rank 1 waits for it."""

import sys

import torch.distributed as dist

if int(__import__("os").environ["RANK"]) == 0:
    sys.exit(3)
dist.init_process_group("gloo")
dist.barrier()
