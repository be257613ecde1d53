"""torch.distributed.algorithms.ddp_comm_hooks: ready-made DDP communication hooks, by module or
by kind (DDPCommHookType; torch's PowerSGD and quantization kinds are not provided)."""

from enum import Enum, member
from functools import partial

from ember.distributed.algorithms.ddp_comm_hooks import debugging_hooks, default_hooks

debugging = debugging_hooks  # torch's short aliases
default = default_hooks

__all__ = ["DDPCommHookType", "register_ddp_comm_hook"]


def _ddp_comm_hook_wrapper(comm_hook, model, state):
    """Register comm_hook on the DDP model with state."""
    model.register_comm_hook(state, comm_hook)


class DDPCommHookType(Enum):
    """The hooks register_ddp_comm_hook knows by name; each value registers its hook."""

    ALLREDUCE = member(partial(_ddp_comm_hook_wrapper, comm_hook=default.allreduce_hook))
    FP16_COMPRESS = member(partial(_ddp_comm_hook_wrapper, comm_hook=default.fp16_compress_hook))
    BF16_COMPRESS = member(partial(_ddp_comm_hook_wrapper, comm_hook=default.bf16_compress_hook))
    NOOP = member(partial(_ddp_comm_hook_wrapper, comm_hook=debugging.noop_hook))


def register_ddp_comm_hook(comm_hook_type: DDPCommHookType, model, state=None) -> None:
    """Register the hook of a DDPCommHookType on a DDP model."""
    comm_hook_type.value(model=model, state=state)
