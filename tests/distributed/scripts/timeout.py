"""Rank 1 never joins rank 0's barrier: with a 2 s process-group timeout, rank 0's barrier
raises RuntimeError instead of waiting forever, and the job ends (as under torchrun)."""

import datetime
import time

import torch.distributed as dist

dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=2))
if dist.get_rank() == 1:
    time.sleep(20)
else:
    started = time.monotonic()
    try:
        dist.barrier()
    except RuntimeError:
        print(f"rank 0 timed out after {time.monotonic() - started:.0f} s", flush=True)
        raise
