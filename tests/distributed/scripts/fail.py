"""Rank 1 raises while rank 0 waits in a barrier: the launcher must stop both, exit non-zero."""

import torch.distributed as dist

dist.init_process_group("gloo")
if dist.get_rank() == 1:
    raise ValueError("rank 1 failed on purpose")
dist.barrier()
print("rank 0 passed the barrier")
