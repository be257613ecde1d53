"""`nn.parallel.DistributedDataParallel`: one model replica per rank, gradients averaged.

Every rank runs the same script on its own share of the data (DistributedSampler). At
construction rank 0's parameters and buffers are broadcast, so all replicas start equal; during
each backward the gradients are averaged over the ranks (NOTE [Overlapping the all-reduce with
backward] in _reducer.py), so every optimizer step is the same on every rank and the replicas
stay equal, as if one process had trained on the whole batch.
"""

import contextlib
import inspect

from ember.autograd.function import AccumulateGrad
from ember._tensor import Tensor
from ember.autograd.grad_mode import is_grad_enabled
from ember.futures import Future
from ember.distributed.algorithms.ddp_comm_hooks import default_hooks
from ember.distributed.collectives import broadcast
from ember.distributed.grad_bucket import BuiltinCommHookType, GradBucket
from ember.distributed.process_group import get_rank, resolve
from ember.nn.modules.batchnorm import SyncBatchNorm
from ember.nn.modules.module import Module
from ember.nn.parallel._reducer import Reducer


class DistributedDataParallel(Module):
    """Data parallelism over processes (matches `torch.nn.parallel.DistributedDataParallel`).

    dim, static_graph and gradient_as_bucket_view are accepted for torch's signature and have no
    effect on a CPU framework; device_ids and output_device must be None or empty, as for a CPU
    module in torch.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, init_sync: bool = True, process_group=None,
                 bucket_cap_mb=None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None):
        super().__init__()
        self.module = module
        self.device_ids = None  # a CPU module takes neither, as in torch (_check_devices)
        self.output_device = None
        self.dim = dim
        self.process_group = resolve(process_group)
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.static_graph = static_graph
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.require_backward_grad_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 2 ** 20)
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        _check_devices(module, device_ids, output_device)
        if any(isinstance(layer, SyncBatchNorm) for layer in module.modules()):
            # torch's CPU DDP refuses them: their statistics would need a GPU collective
            raise ValueError("SyncBatchNorm layers only work with GPU modules")
        if init_sync:  # buffers too unless broadcast_buffers=False, as torch
            buffers = list(module.buffers()) if broadcast_buffers else []
            self._sync_from_rank0(list(module.parameters()) + buffers)
        self.reducer = Reducer(params, self.process_group, bucket_cap_mb, find_unused_parameters)

    def _sync_from_rank0(self, tensors):
        """Give every rank rank 0's values of the tensors."""
        src = self.process_group.ranks[0]
        works = [broadcast(t, src, self.process_group, async_op=True) for t in tensors]
        for work in works:
            work.wait()

    def forward(self, *inputs, **kwargs):
        """Run the module; arm the gradient averaging for the coming backward."""
        self.reducer.times.mark("forward_compute_time_start")
        if self.broadcast_buffers:
            buffers = list(self.module.buffers())
            if buffers:
                self._sync_from_rank0(buffers)
        output = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            unused = _unused_parameters(self.reducer.params, output) \
                if self.find_unused_parameters else ()
            self.reducer.prepare(unused)
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward accumulates local gradients without averaging them."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def register_comm_hook(self, state: object, hook) -> None:
        """Let hook(state, bucket) -> Future[Tensor] reduce each GradBucket instead of the
        built-in average; once per DDP instance (matches torch's register_comm_hook)."""
        _check_comm_hook(hook)
        self._set_comm_hook(state, hook, hook.__qualname__,
                            "register_comm_hook or register_builtin_comm_hook")

    def _register_builtin_comm_hook(self, comm_hook_type) -> None:
        """One of torch's C++ hooks by kind: ALLREDUCE (sum, then divide) or FP16_COMPRESS."""
        if not isinstance(comm_hook_type, BuiltinCommHookType):
            raise TypeError("_register_builtin_comm_hook(): incompatible function arguments. The "
                            "following argument types are supported:\n    1. (reducer: "
                            "c10d::Reducer, comm_hook_type: c10d::BuiltinCommHookType) -> None"
                            f"\n\nInvoked with: {self.reducer!r}, {comm_hook_type!r}")
        hook = (default_hooks._sum_then_divide_hook
                if comm_hook_type == BuiltinCommHookType.ALLREDUCE
                else default_hooks.fp16_compress_hook)
        self._set_comm_hook(self.process_group, hook, str(comm_hook_type),
                            "register_builtin_comm_hook or register_comm_hook")

    def _set_comm_hook(self, state, hook, name, caller):
        """Install the hook in the reducer; RuntimeError if one is there already."""
        if self.reducer.comm_hook is not None:
            raise RuntimeError(f"{caller} can only be called once.")
        self.reducer.comm_hook = (state, hook)
        self._comm_hook_name = name

    def _get_ddp_logging_data(self) -> dict:
        """Facts and timings of this DDP instance, under torch's keys (times in ns; NOTE
        [Measuring the overlap] in _reducer.py)."""
        reducer = self.reducer
        params = reducer.params
        data = {
            "world_size": self.process_group.size(), "rank": self._get_rank(),
            "module_name": type(self.module).__name__,
            "backend_name": _backend_name(self.process_group),
            "bucket_cap_bytes": self.bucket_bytes_cap,
            "bucket_sizes": ", ".join(str(b.flat.nbytes) for b in reducer.buckets),
            "num_parameter_tensors": len(params),
            "total_parameter_size_bytes": sum(p._data.nbytes for p in params),
            "find_unused_parameters": int(self.find_unused_parameters),
            "broadcast_buffers": int(self.broadcast_buffers),
            "gradient_as_bucket_view": int(self.gradient_as_bucket_view),
            "iteration": max(reducer.times.iterations - 1, 0),
        }
        if getattr(self, "_comm_hook_name", None):
            data["comm_hook"] = self._comm_hook_name
        if reducer.times.iterations:
            data.update(reducer.times.latest)
            data.update(reducer.times.durations())
            data.update(reducer.times.averages())
        return data

    def _get_rank(self) -> int:
        """This process's rank in the DDP group."""
        return get_rank(self.process_group)


def _backend_name(process_group) -> str:
    """The backend name torch's DDP logs: the group's (NOTE [Every backend is MPI]); a group made
    with backend=None runs gloo on CPU."""
    name = process_group.name()
    return "gloo" if name == "undefined" else name


def _check_comm_hook(hook):
    """torch's checks of a communication hook: callable, annotations, no bf16 on CPU."""
    if not callable(hook):
        raise TypeError("Communication hook must be callable.")
    signature = inspect.signature(hook)
    bucket = signature.parameters["bucket"].annotation
    if bucket is not inspect.Parameter.empty and bucket != GradBucket:
        raise ValueError("Communication hook: bucket annotation should be dist.GradBucket.")
    returned = signature.return_annotation
    if returned is not inspect.Signature.empty and returned != Future[Tensor]:
        raise ValueError("Communication hook: return annotation should be "
                         "torch.futures.Future[torch.Tensor].")
    if hook.__name__ in ("bf16_compress_hook", "bf16_compress_wrapper_hook"):
        raise TypeError("BF16 all reduce communication hook required CUDA 11+ and NCCL 2.10+ "
                        "or XPU and XCCL")


def _check_devices(module, device_ids, output_device):
    """torch's errors for device_ids / output_device, which only GPU modules take."""
    if device_ids is not None and len(device_ids) > 1:
        raise ValueError("device_ids can only be None or contain a single element.")
    if device_ids or output_device:
        devices = {p.device for p in module.parameters()}
        raise ValueError("DistributedDataParallel device_ids and output_device arguments only "
                         "work with single-device/multiple-device GPU modules or CPU modules, "
                         f"but got device_ids {device_ids}, output_device {output_device}, "
                         f"and module parameters {devices}.")


def _output_tensors(output):
    """The tensors inside a (nested) module output."""
    stack, found = [output], []
    while stack:
        item = stack.pop()
        if hasattr(item, "grad_fn") and hasattr(item, "_data"):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


def _unused_parameters(params, output):
    """The parameters the output's autograd graph does not reach."""
    reached, seen = set(), set()
    stack = [t.grad_fn for t in _output_tensors(output) if t.grad_fn is not None]
    stack += [t._gradient_edge()[0] for t in _output_tensors(output)
              if t.grad_fn is None and t.requires_grad]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            reached.add(id(node.variable))
        stack.extend(next_node for next_node, _ in node.next_functions)
    return [p for p in params if id(p) not in reached]
