"""torch.distributed.algorithms.ddp_comm_hooks.debugging_hooks: a hook that communicates nothing."""

from ember._tensor import Tensor
from ember.futures import Future
from ember.distributed.grad_bucket import GradBucket

__all__ = ["noop_hook"]


def noop_hook(_, bucket: GradBucket) -> Future[Tensor]:
    """Return the bucket as it is: no communication (to measure DDP's own overhead)."""
    fut = Future()
    fut.set_result(bucket.buffer())
    return fut
