"""DistributedDataParallel's gradient reducer: buckets of gradients, all-reduced during backward.

NOTE [Overlapping the all-reduce with backward]
The parameters are cut into buckets of about `bucket_cap_mb` (with torch's default 25 MB the
first one is 1 MB, so that communication starts early; a given bucket_cap_mb caps every bucket,
the first included, as in torch 2.13), in reverse registration order, which is roughly the order
backward produces their gradients. A hook on each parameter copies its gradient into the
bucket's flat array as soon as it arrives; when a bucket is full its average over the ranks
starts as a non-blocking all-reduce, while backward goes on computing the earlier layers'
gradients. Buckets are started strictly in bucket order, so every rank issues the same
collectives in the same order. The hook that delivers the last gradient waits for all buckets
and writes the averages into the `.grad`s.

The hook runs just before autograd adds the gradient into `.grad`, so the bucket receives
`grad + .grad` (what `.grad` is about to hold: gradients accumulated under `no_sync()` are
averaged too, as in torch). At the end, the `.grad` of every other parameter is overwritten with
its average, and the last parameter's `.grad` is cleared and its average returned from the hook:
autograd then stores it.

With a communication hook (DDP.register_comm_hook), a full bucket goes to hook(state,
GradBucket) instead of the all-reduce: its buffer holds the local (not yet averaged) gradients,
and the tensor of the Future it returns is written back into the bucket, as torch does. torch
lays its buckets out in registration order for the first iteration only (before it rebuilds
them in this order), which a hook can see through GradBucket.parameters().
"""

import time

from ember._backend import xp
from ember._tensor import Tensor
from ember.futures import Future
from ember.distributed.collectives import all_reduce
from ember.distributed.grad_bucket import GradBucket
from ember.distributed.process_group import ReduceOp

_FIRST_BUCKET_BYTES = 1024 * 1024  # torch's dist._DEFAULT_FIRST_BUCKET_BYTES
_DEFAULT_BUCKET_CAP_MB = 25

# NOTE [Measuring the overlap]
# Each iteration's timeline, in time.time_ns() as torch's DDP logging data has it: the
# forward starts; backward compute starts when the reducer is armed (end of forward) and ends
# when the last gradient arrives; communication starts at the first bucket's all-reduce and ends
# when every bucket is averaged. backward_compute_comm_overlap_time is how long communication ran
# while gradients were still being computed (compute end - comm start). MPI progresses a
# non-blocking collective only when called, so each arriving gradient also tests the buckets in
# flight: that is what lets an all-reduce finish while backward still runs.
TIMELINE = ("forward_compute_time_start", "backward_compute_time_start",
            "backward_comm_time_start", "backward_compute_time_end", "backward_comm_time_end")


class IterationTimes:
    """The timeline of the latest iteration, and running sums of its durations."""

    def __init__(self):
        self.latest = dict.fromkeys(TIMELINE, 0)
        self.sums = dict.fromkeys(("forward_compute_time", "backward_compute_time",
                                   "backward_comm_time", "backward_compute_comm_overlap_time"), 0)
        self.iterations = 0

    def mark(self, event, only_first=False):
        if not (only_first and self.latest[event]):
            self.latest[event] = time.time_ns()

    def durations(self) -> dict:
        """The four durations (ns) of the latest iteration."""
        t = self.latest
        return {"forward_compute_time": t["backward_compute_time_start"] -
                t["forward_compute_time_start"],
                "backward_compute_time": t["backward_compute_time_end"] -
                t["backward_compute_time_start"],
                "backward_comm_time": t["backward_comm_time_end"] - t["backward_comm_time_start"],
                "backward_compute_comm_overlap_time": max(
                    0, t["backward_compute_time_end"] - t["backward_comm_time_start"])}

    def close(self):
        """End an iteration: add its durations to the running sums."""
        for key, value in self.durations().items():
            self.sums[key] += value
        self.iterations += 1

    def averages(self) -> dict:
        return {f"avg_{key}": total // max(self.iterations, 1) for key, total in self.sums.items()}


class _Bucket:
    """Some parameters of one dtype and the flat array that carries their gradients."""

    def __init__(self, params):
        self.params = params
        self.offsets, total = [], 0
        for p in params:
            self.offsets.append(total)
            total += p.numel()
        self.flat = xp.zeros(total, dtype=params[0]._data.dtype)
        self.ready = 0
        self.work = None

    def view(self, i):
        """The slice of the flat array that holds parameter i's gradient."""
        p = self.params[i]
        return self.flat[self.offsets[i]:self.offsets[i] + p.numel()].reshape(p._data.shape)


def _buckets(params, cap_bytes, first_cap_bytes):
    """Buckets in reverse parameter order, per dtype, each dtype's first capped at first_cap_bytes
    (torch's bucket assignment, as rebuilt after its first iteration in gradient-ready order)."""
    buckets, open_by_dtype, limit = [], {}, {}
    for p in reversed(params):
        dtype = p._data.dtype
        current = open_by_dtype.setdefault(dtype, [])
        current.append(p)
        if sum(q._data.nbytes for q in current) >= limit.get(dtype, first_cap_bytes):
            buckets.append(_Bucket(current))
            open_by_dtype[dtype] = []
            limit[dtype] = cap_bytes
    buckets += [_Bucket(rest) for rest in open_by_dtype.values() if rest]
    return buckets


def _type_name(value) -> str:
    """torch.Tensor for a tensor, else the value's class name (for the hook errors)."""
    return "torch.Tensor" if hasattr(value, "_data") else type(value).__name__


class Reducer:
    """Averages the gradients of `params` over the ranks of `process_group` during backward."""

    def __init__(self, params, process_group, bucket_cap_mb=None, find_unused: bool = False):
        self.params = params
        self.find_unused = find_unused
        self.unused = set()
        self.group = process_group
        cap = int((_DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb) * 2 ** 20)
        self.buckets = _buckets(params, cap, _FIRST_BUCKET_BYTES if bucket_cap_mb is None else cap)
        self.place = {}
        for b, bucket in enumerate(self.buckets):
            for i, p in enumerate(bucket.params):
                self.place[id(p)] = (b, i)
        self.armed = False
        self.arrived = 0
        self.next_bucket = 0
        self.handles = [p.register_hook(self._hook_for(p)) for p in params]
        self.times = IterationTimes()
        self.comm_hook = None  # (state, hook) once DDP.register_comm_hook is called

    def prepare(self, unused=()) -> None:
        """Expect one gradient per parameter in the coming backward (unused ones count as in)."""
        if self.armed and self.arrived:
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a "
                "new one. This error indicates that your module has parameters that were not "
                "used in producing loss. You can enable unused parameter detection by passing "
                "the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`.")
        for bucket in self.buckets:
            bucket.ready, bucket.work = 0, None
        self.armed, self.arrived, self.next_bucket = True, 0, 0
        self.times.mark("backward_compute_time_start")
        self.times.latest["backward_comm_time_start"] = 0
        self.unused = {id(p) for p in unused}
        for p in unused:
            self._arrive(p, None)

    def _hook_for(self, param):
        """The gradient hook of one parameter (idle outside an armed backward)."""
        def hook(grad):
            if not self.armed:
                return None
            return self._arrive(param, grad)

        return hook

    def _arrive(self, param, grad):
        """Copy one gradient into its bucket; start full buckets; finish after the last one."""
        b, i = self.place[id(param)]
        bucket = self.buckets[b]
        view = bucket.view(i)
        if grad is None:
            view[...] = param.grad._data if param.grad is not None else 0
        elif param.grad is None:
            view[...] = grad._data
        else:
            xp.add(grad._data, param.grad._data, out=view)
        bucket.ready += 1
        self.arrived += 1
        last = self.arrived == len(self.params)
        if last:  # every gradient is computed: what follows is communication only
            self.times.mark("backward_compute_time_end")
        self._launch_full_buckets()
        self._progress()
        if last:
            return self._finish(param if grad is not None else None)
        return None

    def _progress(self):
        """Test the all-reduces in flight, so that MPI moves them on (NOTE above)."""
        for bucket in self.buckets[:self.next_bucket]:
            if isinstance(bucket.work, Future):
                bucket.work.done()
            else:
                bucket.work.is_completed()

    def _launch_full_buckets(self):
        """Start the all-reduce of every full bucket whose predecessors have started."""
        while self.next_bucket < len(self.buckets):
            bucket = self.buckets[self.next_bucket]
            if bucket.ready < len(bucket.params):
                return
            self.times.mark("backward_comm_time_start", only_first=True)
            if self.comm_hook is None:
                bucket.work = all_reduce(Tensor._make(bucket.flat), ReduceOp.AVG, self.group,
                                         async_op=True)
            else:
                bucket.work = self._run_comm_hook(self.next_bucket, bucket)
            self.next_bucket += 1

    def _run_comm_hook(self, index, bucket):
        """Hand the bucket's local gradients to the communication hook; its Future."""
        state, hook = self.comm_hook
        views = [Tensor._make(bucket.view(i)) for i in range(len(bucket.params))]
        grad_bucket = GradBucket(index, Tensor._make(bucket.flat), views, bucket.params,
                                 index == len(self.buckets) - 1)
        future = hook(state, grad_bucket)
        if not isinstance(future, Future):
            raise RuntimeError("DDP communication hook's callback must return a "
                               "torch.futures.Future object, but got "
                               f"{_type_name(future)}")
        return future

    @staticmethod
    def _wait(bucket):
        """Wait for a bucket's communication; a hook's result is written into the bucket."""
        result = bucket.work.wait()
        if isinstance(bucket.work, Future):
            if not hasattr(result, "_data"):
                raise RuntimeError("DDP communication hook's callback must return a Future "
                                   f"holding a tensor, but got {_type_name(result)}")
            if result._data is not bucket.flat:
                bucket.flat[...] = result._data.reshape(-1).astype(bucket.flat.dtype,
                                                                   copy=False)

    def _finish(self, last):
        """Wait for every bucket and put the averages into .grad (the last one via the hook)."""
        self.armed = False
        replacement = None
        unused_everywhere = self._unused_everywhere()
        for bucket in self.buckets:
            self._wait(bucket)
            for i, p in enumerate(bucket.params):
                average = bucket.view(i)
                if id(p) in unused_everywhere:
                    continue  # as in torch: a parameter no rank used keeps its .grad
                if p is last:
                    p.grad = None
                    replacement = Tensor._make(average.copy())
                elif p.grad is None:
                    p.grad = Tensor._make(average.copy())
                else:
                    p.grad._data[...] = average
        self.times.mark("backward_comm_time_end")
        self.times.close()
        return replacement

    def _unused_everywhere(self) -> set:
        """The ids of the parameters no rank used (one all-reduce, with find_unused only)."""
        if not self.find_unused:
            return set()
        used = Tensor._make(xp.array([id(p) not in self.unused for p in self.params],
                                     dtype=xp.uint8))
        all_reduce(used, ReduceOp.MAX, self.group)
        return {id(p) for p, flag in zip(self.params, used._data) if not flag}
