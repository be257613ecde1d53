"""Rank 1 is killed by a signal (as by the OOM killer) while rank 0 waits in a barrier."""

import os
import signal

import torch.distributed as dist

dist.init_process_group("gloo")
if dist.get_rank() == 1:
    os.kill(os.getpid(), signal.SIGKILL)
dist.barrier()
print("rank 0 passed the barrier")
