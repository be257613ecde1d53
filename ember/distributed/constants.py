"""torch.distributed.constants: the default timeouts of process groups."""

from datetime import timedelta

__all__ = ["default_pg_timeout", "default_pg_nccl_timeout"]

default_pg_timeout: timedelta = timedelta(minutes=30)
default_pg_nccl_timeout = None  # a CPU build of torch has no NCCL timeout either
