"""The default DDP communication hooks (matches
`torch.distributed.algorithms.ddp_comm_hooks.default_hooks`): each returns a Future of the
bucket's averaged gradients."""

from ember._dtype import bfloat16, float16
from ember._tensor import Tensor
from ember.distributed.collectives import all_reduce
from ember.distributed.process_group import GroupMember

__all__ = ["allreduce_hook", "fp16_compress_hook", "bf16_compress_hook",
           "fp16_compress_wrapper", "bf16_compress_wrapper"]


def _allreduce_fut(process_group, tensor):
    """Divide by the group size, then sum over the ranks: the average (torch's order)."""
    group_to_use = process_group if process_group is not None else GroupMember.WORLD
    tensor.div_(group_to_use.size())
    return (all_reduce(tensor, group=group_to_use, async_op=True).get_future()
            .then(lambda fut: fut.value()[0]))


def allreduce_hook(process_group, bucket):
    """Average the bucket over the ranks (what DDP does without a hook)."""
    return _allreduce_fut(process_group, bucket.buffer())


def _compress_hook(dtype, process_group, bucket):
    """Cast the bucket to dtype, divide by the group size, sum, and cast back into the bucket."""
    group_to_use = process_group if process_group is not None else GroupMember.WORLD
    world_size = group_to_use.size()
    buffer = bucket[0] if isinstance(bucket, tuple) else bucket.buffer()
    compressed_tensor = buffer.to(dtype).div_(world_size)

    def decompress(fut):
        value = fut if isinstance(fut, Tensor) else fut.value()[0]
        buffer.copy_(value)
        return buffer

    fut = all_reduce(compressed_tensor, group=group_to_use, async_op=True).get_future()
    return fut.then(decompress)


def fp16_compress_hook(process_group, bucket):
    """Average in float16: the gradients are rounded to half precision, as torch's hook."""
    return _compress_hook(float16, process_group, bucket)


def bf16_compress_hook(process_group, bucket):
    """Average in bfloat16 (DDP refuses it on CPU, as torch: CUDA and NCCL only)."""
    return _compress_hook(bfloat16, process_group, bucket)


def fp16_compress_wrapper(hook):
    """`hook` run in float16 (fp16_compress_wrapper(allreduce_hook) is fp16_compress_hook)."""
    def fp16_compress_wrapper_hook(hook_state, bucket):
        return _run_cast(float16, hook, hook_state, bucket)

    return fp16_compress_wrapper_hook


def bf16_compress_wrapper(hook):
    """`hook` run in bfloat16 (refused by DDP on CPU, as torch)."""
    def bf16_compress_wrapper_hook(hook_state, bucket):
        return _run_cast(bfloat16, hook, hook_state, bucket)

    return bf16_compress_wrapper_hook


def _run_cast(dtype, hook, hook_state, bucket):
    """Run hook on the bucket cast to dtype; the Future of the result cast back."""
    bucket.set_buffer(bucket.buffer().to(dtype))
    fut = hook(hook_state, bucket)

    def decompress(fut):
        decompressed_tensor = bucket.buffer()
        decompressed_tensor.copy_(fut.value())
        return decompressed_tensor

    return fut.then(decompress)


def _sum_then_divide_hook(process_group, bucket):
    """BuiltinCommHookType.ALLREDUCE: torch's C++ hook sums first, then divides."""
    group_to_use = process_group if process_group is not None else GroupMember.WORLD
    tensor = bucket.buffer()
    return (all_reduce(tensor, group=group_to_use, async_op=True).get_future()
            .then(lambda fut: fut.value()[0].div_(group_to_use.size())))
