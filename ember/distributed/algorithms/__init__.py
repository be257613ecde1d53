"""torch.distributed.algorithms: DDP communication hooks (ddp_comm_hooks)."""

from ember.distributed.algorithms import ddp_comm_hooks  # noqa: F401 - torch.distributed.algorithms.ddp_comm_hooks
