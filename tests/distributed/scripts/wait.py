"""Says it started, then waits (for the Ctrl-C test)."""

import time

import torch.distributed as dist

dist.init_process_group()
print(f"started {dist.get_rank()}", flush=True)
time.sleep(120)
