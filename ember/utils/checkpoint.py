"""Activation checkpointing: run a block without keeping its intermediate results and
recompute them during backward (matches `torch.utils.checkpoint`).

NOTE [The two checkpoint variants]
`use_reentrant=True` is torch's original variant, and ember's does what torch's does: the block
runs under no_grad, only its inputs are kept, and backward re-runs it (with the RNG state of
the forward, so dropout draws the same mask) and backpropagates through the re-run. As in
torch, only gradients that flow through the block's tensor inputs reach the caller: a block
whose inputs do not require grad gives no gradients (torch warns), and `autograd.grad` with
respect to something inside the block is not supported.

`use_reentrant=False` in torch keeps the graph but stores nothing inside it, recomputing the
tensors when backward needs them (saved-tensor hooks). Its results and gradients are exactly
those of calling the block directly, which is what ember does: values and gradients are
torch's, but the intermediate results stay in memory (no saving). Torch's argument checks and
warnings are the same for both. For the same reason selective checkpointing
(`create_selective_checkpoint_contexts`) has nothing to choose between: its policy is checked
as torch checks it and never consulted, and every op's output is kept, as MUST_SAVE would.
"""


import contextlib
import enum

from ember._warnings import warn as _warn
from ember import random
from ember._tensor import Tensor
from ember.autograd.gradients import backward as _backward
from ember.autograd.function import Function
from ember.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad

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
    forward_context, _ = context_fn()
    with forward_context:
        return function(*args, **kwargs)


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
    """Whether recomputation may stop once it has what backward needs (matches torch; ember
    recomputes nothing in the non-reentrant variant, NOTE above)."""
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
