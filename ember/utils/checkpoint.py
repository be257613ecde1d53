"""Activation checkpointing: run a block without keeping its intermediate results and
recompute them during backward (matches `torch.utils.checkpoint`).

NOTE [The two checkpoint variants]
`use_reentrant=True` is torch's original variant, and ember's does what torch's does: the block
runs under no_grad, only its inputs are kept, and backward re-runs it (with the RNG state of
the forward, so dropout draws the same mask) and backpropagates through the re-run. As in
torch, only gradients that flow through the block's tensor inputs reach the caller: a block
whose inputs do not require grad gives no gradients (torch warns), and `autograd.grad` with
respect to something inside the block is not supported.

`use_reentrant=False` keeps the graph but stores nothing inside it: while the block runs, a
saved-tensor hook (`_Frame.pack`) keeps only each saved tensor's shape, dtype and device; the
first unpack in a backward re-runs the block (from the forward's RNG and autocast state, grad
on) under a second hook that collects what the re-run saves, in the same order, and every
unpack in that backward takes its tensor from there (`_Frame.unpack`). As in torch, the re-run
happens once per backward and stops at the last tensor needed (`early_stop`), so its side
effects are torch's (a BatchNorm inside updates its running statistics again), and a re-run
that saves other tensors raises CheckpointError (`determinism_check`). Tensors an op keeps
as attributes rather than through `save_for_backward` stay in memory. Selective
checkpointing (`create_selective_checkpoint_contexts`) has its policy checked as torch checks
it and never consulted: every op's saved tensors are recomputed, as MUST_RECOMPUTE would.
"""


import contextlib
import enum

from ember._warnings import warn as _warn
from ember import _autocast, _autocast_legacy, amp, random
from ember._tensor import Tensor
from ember.autograd.gradients import backward as _backward
from ember.autograd.engine import current_run
from ember.autograd.function import Function
from ember.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from ember.autograd.graph import saved_tensors_hooks

__all__ = ["CheckpointError", "CheckpointPolicy", "DefaultDeviceType",
           "SelectiveCheckpointContext", "check_backward_validity", "checkpoint",
           "checkpoint_sequential", "create_selective_checkpoint_contexts", "detach_variable",
           "get_device_states", "noop_context_fn", "set_checkpoint_debug_enabled",
           "set_checkpoint_early_stop", "set_device_states"]
_SETTINGS = {"debug": None, "early_stop": None}  # None: each checkpoint call's own argument


class CheckpointError(RuntimeError):
    """torch raises this when a recomputation does not reproduce the forward's tensors."""


def noop_context_fn():
    """The default `context_fn`: two do-nothing contexts (matches torch's)."""
    return _Nothing(), _Nothing()


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class CheckpointFunction(Function):
    """Forward without a graph; backward re-runs the block with grad on and backpropagates."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        ctx.run_function, ctx.preserve = run_function, preserve_rng_state
        if preserve_rng_state:
            ctx.rng_state = random.get_rng_state()
        ctx.tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.others = list(args)
        ctx.save_for_backward(*(args[i] for i in ctx.tensor_positions))
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        inputs = list(ctx.others)
        for position, saved in zip(ctx.tensor_positions, ctx.saved_tensors):
            inputs[position] = saved.detach().requires_grad_(saved.requires_grad)
        outputs = _rerun(ctx, inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads)
                 if isinstance(o, Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is "
                               "not necessary")
        _backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(a.grad if isinstance(a, Tensor) else None for a in inputs)


def _rerun(ctx, inputs):
    """The block's outputs again, from the forward's RNG state, with grad on."""
    with random.fork_rng(enabled=ctx.preserve):
        if ctx.preserve:
            random.set_rng_state(ctx.rng_state)
        with enable_grad():
            return ctx.run_function(*inputs)


def _check_reentrant(use_reentrant, name):
    if use_reentrant is None:
        _warn(
            f"torch.utils.checkpoint{name}: the use_reentrant parameter should be passed "
            "explicitly. Starting in PyTorch 2.9, calling checkpoint without use_reentrant "
            "will raise an exception. use_reentrant=False is recommended, but if you need to "
            "preserve the current default behavior, you can pass use_reentrant=True. Refer to "
            "docs for more details on the differences between the two variants.",
            stacklevel=3)
        return True
    return use_reentrant


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, early_stop=True, **kwargs):
    """function(*args), recomputed in backward instead of stored (matches
    `torch.utils.checkpoint.checkpoint`; see NOTE [The two checkpoint variants])."""
    use_reentrant = _check_reentrant(use_reentrant, "")
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        if is_grad_enabled() and not any(isinstance(a, Tensor) and a.requires_grad
                                         for a in args):
            _warn("None of the inputs have requires_grad=True. Gradients will be None",
                          stacklevel=2)
        return CheckpointFunction.apply(function, preserve, *args)
    if determinism_check not in _METADATA:
        raise ValueError(f"determinism_check should be one of {list(_METADATA)}, but got "
                         f"{determinism_check}")
    forward_context, recompute_context = context_fn()
    if not is_grad_enabled():  # nothing will be saved: torch runs the block plainly
        with forward_context:
            return function(*args, **kwargs)
    stop = _SETTINGS["early_stop"] if _SETTINGS["early_stop"] is not None else early_stop
    frame = _Frame(_recompute_fn(function, args, kwargs, preserve, recompute_context), stop,
                   _METADATA[determinism_check])
    with saved_tensors_hooks(frame.pack, frame.unpack), forward_context:
        return function(*args, **kwargs)


def _recompute_fn(function, args, kwargs, preserve, recompute_context):
    """function(*args, **kwargs) again, as the forward ran it: its RNG and autocast state."""
    rng_state = random.get_rng_state() if preserve else None
    autocast_state = (_autocast.is_enabled("cpu"), _autocast.get_dtype("cpu"),
                      _autocast_legacy.is_autocast_cache_enabled())

    def recompute():
        enabled, dtype, cache = autocast_state
        with random.fork_rng(enabled=preserve):
            if preserve:
                random.set_rng_state(rng_state)
            with amp.autocast("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache), \
                    recompute_context:
                function(*args, **kwargs)

    return recompute


class _StopRecomputation(Exception):
    """Raised by a re-run once it has saved every tensor backward needs (early stop)."""


class _Frame:
    """One non-reentrant checkpoint call: the metadata of what its forward saved and the
    tensors its latest re-run saved (NOTE [The two checkpoint variants])."""

    def __init__(self, recompute, early_stop, metadata_fn):
        self.recompute, self.early_stop, self.metadata_fn = recompute, early_stop, metadata_fn
        self.metadata = []  # one per tensor the forward saved, in saving order
        self.recomputed = []  # what the re-run saved (None: already unpacked)
        self.run = None  # the backward the re-run was for

    def pack(self, tensor):
        """Keep the tensor's metadata, not the tensor: its index stands for it."""
        with no_grad():
            self.metadata.append(self.metadata_fn(tensor))
        return len(self.metadata) - 1

    def unpack(self, index):
        """The re-run's tensor at index: re-running the block first in a new backward."""
        run = current_run()
        if run is None or run is not self.run:
            self._rerun()
            self.run = run
        tensor = self.recomputed[index]
        if tensor is None:
            raise CheckpointError(
                "torch.utils.checkpoint: Unpack is being triggered for a tensor that was "
                "already unpacked once. If you are calling ctx.saved_tensors in backward, make "
                "sure to do so only once. Otherwise please open an issue with details on your "
                "use case.")
        self.recomputed[index] = None
        return tensor

    def _rerun(self):
        """Run the block again with grad on, collecting the tensors it saves."""
        saved = []

        def collect(tensor):
            if len(saved) == len(self.metadata):
                raise CheckpointError(
                    "torch.utils.checkpoint: trying to save more tensors during recomputation "
                    "than during the original forward pass.\n" + _DEBUG_TIP)
            saved.append(tensor.detach() if tensor.requires_grad else tensor)
            if self.early_stop and len(saved) == len(self.metadata):
                raise _StopRecomputation
            return tensor

        try:
            with saved_tensors_hooks(collect, lambda tensor: tensor), enable_grad():
                self.recompute()
        except _StopRecomputation:
            pass
        self._check(saved)
        self.recomputed = saved

    def _check(self, saved):
        """torch's CheckpointError when the re-run saved other tensors than the forward."""
        if len(saved) != len(self.metadata):
            raise CheckpointError(
                "torch.utils.checkpoint: A different number of tensors was saved during the "
                f"original forward and recomputation.\nNumber of tensors saved during forward: "
                f"{len(self.metadata)}\nNumber of tensors saved during recomputation: "
                f"{len(saved)}.\n{_DEBUG_TIP}")
        different = "".join(
            f"tensor at position {index}:\nsaved metadata: {before}\n"
            f"recomputed metadata: {self.metadata_fn(tensor)}\n"
            for index, (before, tensor) in enumerate(zip(self.metadata, saved))
            if before != self.metadata_fn(tensor))
        if different:
            raise CheckpointError(
                "torch.utils.checkpoint: Recomputed values for the following tensors have "
                f"different metadata than during the forward pass.\n{different}.\n{_DEBUG_TIP}")


_METADATA = {"default": lambda t: {"shape": t.shape, "dtype": t.dtype, "device": t.device},
             "none": lambda t: None}
_DEBUG_TIP = """
Tip: To see a more detailed error message, either pass `debug=True` to
`torch.utils.checkpoint.checkpoint(...)` or wrap the code block
with `with torch.utils.checkpoint.set_checkpoint_debug_enabled(True):` to
enable checkpoint‑debug mode globally.

If this error occurs under torch.compile with automatic_dynamic_shapes enabled,
it may be because the recomputation selected a different compiled graph than the
forward pass (e.g., a dynamic graph instead of the original static graph).
To fix this, either:
  - Use torch._dynamo.mark_dynamic() to explicitly mark varying dimensions as
    dynamic upfront, avoiding the static-to-dynamic transition.
  - Call torch._C._dynamo.eval_frame._set_lru_cache(False) to disable LRU cache
    reordering, which can change which graph is checked first between forward
    and recompute.
See https://github.com/pytorch/pytorch/issues/166926 for more details and
workaround examples.
"""


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run a sequence of modules in `segments` checkpointed chunks, the last one plainly
    (matches `torch.utils.checkpoint.checkpoint_sequential`)."""
    use_reentrant = _check_reentrant(use_reentrant, ".checkpoint_sequential")
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if hasattr(functions, "children") and not isinstance(functions, (list, tuple)):
        functions = list(functions.children())
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(_run_range(functions, start, end), input,
                           use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return _run_range(functions, end + 1, len(functions) - 1)(input)


def _run_range(functions, start, end):
    def forward(input):
        for j in range(start, end + 1):
            input = functions[j](input)
        return input

    return forward


# ---- helpers torch.utils.checkpoint exports --------------------------------------------------
def detach_variable(inputs):
    """The tuple's tensors detached, each keeping its requires_grad (matches torch)."""
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    return tuple(a.detach().requires_grad_(a.requires_grad) if isinstance(a, Tensor) else a
                 for a in inputs)


def check_backward_validity(inputs) -> None:
    """Warn when no input requires grad: the checkpointed block would get no gradients."""
    if not any(a.requires_grad for a in inputs if isinstance(a, Tensor)):
        _warn("None of the inputs have requires_grad=True. Gradients will be None",
              stacklevel=2)


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """Override every checkpoint's `debug` inside the block (None: their own; matches torch)."""
    previous, _SETTINGS["debug"] = _SETTINGS["debug"], enabled
    try:
        yield
    finally:
        _SETTINGS["debug"] = previous


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool):
    """Whether recomputation may stop once it has what backward needs (matches torch)."""
    previous, _SETTINGS["early_stop"] = _SETTINGS["early_stop"], enable
    try:
        yield
    finally:
        _SETTINGS["early_stop"] = previous


class DefaultDeviceType:
    """The device type whose RNG states checkpoint saves when no tensor names one: "cpu" on a
    machine without accelerators, as in torch."""

    _default_device_type = None

    @staticmethod
    def set_device_type(device: str = "cuda") -> None:
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type() -> str:
        if not DefaultDeviceType._default_device_type:
            DefaultDeviceType._default_device_type = "cpu"
        return DefaultDeviceType._default_device_type


def get_device_states(*args):
    """(device ids, RNG states) of the accelerator tensors among args: none on ember's CPU."""
    return [], []


def set_device_states(devices, states, *, device_type=None) -> None:
    """Restore accelerator RNG states saved by get_device_states (none on ember's CPU)."""
    if list(devices):
        raise RuntimeError("ember has no accelerator devices whose RNG state could be set")


# ---- selective checkpointing (see the NOTE: ember keeps every output) ------------------------
class CheckpointPolicy(enum.Enum):
    """Whether an op's output is saved or recomputed under selective checkpointing."""

    MUST_SAVE = 0
    PREFER_SAVE = 1
    MUST_RECOMPUTE = 2
    PREFER_RECOMPUTE = 3
    MUST_CPU_OFFLOAD = 4
    PREFER_CPU_OFFLOAD = 5


class SelectiveCheckpointContext:
    """What a selective-checkpoint policy function is given about the current op."""

    def __init__(self, *, is_recompute, op_output=None) -> None:
        self.is_recompute = is_recompute
        self.op_output = op_output


def create_selective_checkpoint_contexts(policy_fn_or_list, allow_cache_entry_mutation=False):
    """The (forward, recompute) contexts of selective checkpointing for `context_fn`; the
    policy is checked as torch checks it (ember keeps every output, NOTE above)."""
    if isinstance(policy_fn_or_list, list):
        for op in policy_fn_or_list:
            if not hasattr(op, "overloadpacket"):
                hint = ("Please update the OpOverloadPacket to a specific OpOverload.For "
                        "example, if you have `torch.ops.aten.mm`, change it to "
                        "`torch.ops.aten.mm.default`.") if hasattr(op, "overloads") else ""
                raise ValueError(f"Expected op in `op_list` to be an OpOverload but got: {op} "
                                 f"of type {type(op)}. {hint}")
    elif not callable(policy_fn_or_list):
        raise TypeError("policy_fn_or_list must be either a function or a list of ops.")
    return _Nothing(), _Nothing()
