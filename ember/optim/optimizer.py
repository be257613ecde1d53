"""The Optimizer base: parameter groups, per-parameter state, state_dict, zero_grad, step.

Every optimizer in ember.optim is a subclass that names its defaults, creates a parameter's
state the first time the parameter has a gradient (`_init_state`), and applies one pure update
function to NumPy arrays (`_update`). The base runs the loop:

    for group in param_groups:
        for p in group["params"] with a gradient:
            state = self.state[p] (created on first use)
            update(p._data, p.grad._data, state arrays, hyperparameters)   # in place

NOTE [Optimizer state_dict layout]
`state_dict()` has PyTorch's exact structure so checkpoints move between the two libraries:
`{"state": {index: {name: value}}, "param_groups": [{hyper...: value, "params": [index...]}]}`
where a parameter's index is its position counting through all groups in order. State tensors
are returned by reference (as PyTorch does); load_state_dict casts state tensors (except
"step") to a floating parameter's dtype, and, as PyTorch's, keeps the very tensors it is given
when they need no cast (two optimizers loaded from one state_dict share them).
"""

import functools

from ember._warnings import warn as _warn
from collections import defaultdict
from copy import deepcopy

from ember import _dtype
from ember._backend import xp
from ember.ops._opmath import fused_add32
from ember._tensor import Tensor
from ember._threads import parallel_blocks
from ember.autograd import grad_mode
from ember.autograd.function import _RemovableHandle

_global_step_pre_hooks = []
_global_step_post_hooks = []


def register_optimizer_step_pre_hook(hook):
    """Call hook(optimizer, args, kwargs) before every optimizer's step (matches torch's)."""
    _global_step_pre_hooks.append(hook)
    return _RemovableHandle(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """Call hook(optimizer, args, kwargs) after every optimizer's step (matches torch's)."""
    _global_step_post_hooks.append(hook)
    return _RemovableHandle(_global_step_post_hooks, hook)


def _with_step_hooks(step):
    """Wrap a step method so the registered pre/post hooks run around it."""

    @functools.wraps(step)
    def hooked_step(self, *args, **kwargs):
        if self.__dict__.get("_in_step"):  # a subclass's step calling super().step()
            return step(self, *args, **kwargs)
        self._in_step = True
        try:
            return _run_with_hooks(self, step, args, kwargs)
        finally:
            self._in_step = False

    hooked_step._hooked = True
    return hooked_step


def _run_with_hooks(self, step, args, kwargs):
    """Run the pre hooks (which may replace args/kwargs), the step, then the post hooks.

    As in PyTorch's `profile_hook_step`, a hook's args are step's whole positional arguments,
    the optimizer first: `opt.step()` gives args == (opt,); the global pre hooks run before
    the optimizer's own, the global post hooks after."""
    args = (self, *args)
    for hook in _global_step_pre_hooks + self._step_pre_hooks:
        result = hook(self, args, kwargs)
        if result is not None:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(f"{step} must return None or a tuple of (new_args, "
                                   f"new_kwargs), but got {result}.")
            args, kwargs = result
    out = step(*args, **kwargs)
    for hook in self._step_post_hooks + _global_step_post_hooks:
        hook(self, args, kwargs)
    return out


def _register(hooks: list, hook, prepend: bool = False) -> _RemovableHandle:
    """Add hook to a hook list (first if prepend); the handle's remove() takes it out."""
    hooks.insert(0 if prepend else len(hooks), hook)
    return _RemovableHandle(hooks, hook)


class _RequiredParameter:
    """Marks a hyperparameter that has no default and must be given (PyTorch's `required`)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _as_tensor(value):
    """State values from another library (a torch tensor, an ndarray) as ember Tensors."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, xp.ndarray):
        return Tensor._make(value.copy())
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        return Tensor._make(xp.array(value.detach().cpu().numpy()))
    return value


class Optimizer:
    """Base class of all optimizers (matches `torch.optim.Optimizer`)."""

    def __init__(self, params, defaults: dict):
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {params.type()}")
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._init_hooks()
        cls = type(self)
        if not getattr(cls.step, "_hooked", False):  # only the most derived step runs hooks
            cls.step = _with_step_hooks(cls.step)
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    _HOOK_LISTS = ("_step_pre_hooks", "_step_post_hooks", "_state_dict_pre_hooks",
                   "_state_dict_post_hooks", "_load_state_dict_pre_hooks",
                   "_load_state_dict_post_hooks")

    def _init_hooks(self):
        """Empty hook lists for those not there yet (after unpickling too, as PyTorch's)."""
        for name in self._HOOK_LISTS:
            self.__dict__.setdefault(name, [])

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._init_hooks()
        for group in self.param_groups:
            for name, default in self.defaults.items():
                group.setdefault(name, default)

    def __repr__(self):
        # PyTorch's format: each group's lines end in a newline and each group starts with
        # one, so groups after the first are set off by a blank line.
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ---- parameter groups ---------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (matches `add_param_group`)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list "
                "instead.")
        else:
            params = list(params)
        params = _split_names(param_group, params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is "
                    f"{_typename(p)}")
            if not (self.defaults.get("differentiable") or p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization "
                    f"parameter {name}")
            param_group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            _warn(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error; see github.com/pytorch/pytorch/issues/40967 for "
                "more information", stacklevel=3)
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                kind = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {kind} to the optimizer")
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if existing & {id(p) for p in params}:
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- hooks ------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        """hook(optimizer, args, kwargs) runs before step; it may return new (args, kwargs)."""
        return _register(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """hook(optimizer, args, kwargs) runs after step."""
        return _register(self._step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend: bool = False):
        """hook(optimizer) runs before state_dict() builds the state dict."""
        return _register(self._state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False):
        """hook(optimizer, state_dict) runs on the state dict built; a dict it returns
        replaces it."""
        return _register(self._state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False):
        """hook(optimizer, state_dict) runs on a shallow copy of the dict given to
        load_state_dict(); a dict it returns is loaded instead."""
        return _register(self._load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False):
        """hook(optimizer) runs after load_state_dict() has loaded the state."""
        return _register(self._load_state_dict_post_hooks, hook, prepend)

    # ---- gradients and steps ----------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters (matches `Optimizer.zero_grad`)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif _is_sparse(p.grad):  # no entries left (its values detached)
                    p.grad = p.grad.detach()
                    p.grad.zero_()
                else:
                    p.grad.grad_fn = None
                    p.grad._requires_grad = False
                    p.grad._data[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient; return closure's loss if given."""
        loss = None
        if closure is not None:
            with grad_mode.enable_grad():
                loss = closure()
        # PyTorch's `_use_grad_for_differentiable`: a differentiable optimizer steps with grad
        # mode on (its update recorded on autograd's graph), any other with it off
        with grad_mode.set_grad_enabled(bool(self.defaults.get("differentiable"))):
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _step_group(self, group: dict) -> None:
        """One group's update: each parameter with a gradient through `_update` on arrays (a
        sparse gradient through `_sparse_update`), its state written back."""
        hyper = self._hyperparameters(group)
        self._check_sparse_gradients(group["params"])
        if group.get("capturable") and any(p.grad is not None for p in group["params"]):
            self._refuse_capturable(bool(group.get("foreach")))
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p] if p in self.state else self._init_state(p, group)
            if _is_sparse(p.grad):
                self._sparse_update(p, p.grad, state, hyper)
            elif group.get("differentiable"):  # (tensor ops: they count p's versions)
                self._differentiable_update(p, state, group)
                if state:
                    self.state[p] = state
                continue
            else:
                self._dense_update(p, state, hyper)
            if state:
                self.state[p] = state
            p._version_counter.value += 1

    def _dense_update(self, p: Tensor, state: dict, hyper: dict) -> None:
        """`_update` on the arrays of p, its gradient and its state, new state written back.

        A complex parameter goes in as real views (..., 2), as do its gradient and complex
        state: PyTorch's optimizers update real and imaginary parts as independent reals
        (`torch.view_as_real`), while the state they keep stays complex."""
        is_complex = p._data.dtype.kind == "c"
        as_real = _real_view if is_complex else (lambda a: a)
        arrays = {k: (as_real(v._data) if isinstance(v, Tensor) else v)
                  for k, v in state.items()}
        self._update(as_real(p._data), as_real(p.grad._data), arrays, hyper)
        for key, value in arrays.items():  # new or non-tensor state written back
            if not isinstance(state.get(key), Tensor):
                if isinstance(value, xp.ndarray):
                    is_pairs = is_complex and value.shape == p._data.shape + (2,)
                    state[key] = Tensor._make(_complex_view(value, p) if is_pairs else value)
                else:
                    state[key] = value

    def _hyperparameters(self, group: dict) -> dict:
        """The group's hyperparameters as plain Python values (a Tensor lr becomes a float)."""
        return {k: (v.item() if isinstance(v, Tensor) else v)
                for k, v in group.items() if k not in ("params", "param_names")}

    def _init_state(self, p: Tensor, group: dict) -> dict:
        raise NotImplementedError

    # What step() raises for a sparse gradient (NOTE [Sparse gradients] in
    # ember/autograd/engine.py); None for the optimizers that take them (`_sparse_update`).
    _sparse_refusal = None

    def _check_sparse_gradients(self, params) -> None:
        """Refuse a group with a sparse gradient before updating any of it, as PyTorch does."""
        for p in params:
            if p.grad is not None and _is_sparse(p.grad):
                if self._sparse_refusal is not None:
                    raise RuntimeError(self._sparse_refusal)
                return

    def _sparse_update(self, p: Tensor, grad, state: dict, hyper: dict) -> None:
        """One step of p from a sparse COO gradient, on tensors (state holds Tensors)."""
        raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")

    def _update(self, param, grad, state: dict, hyper: dict) -> None:
        raise NotImplementedError

    def _differentiable_update(self, p: Tensor, state: dict, group: dict) -> None:
        """One step of a differentiable=True group, recorded on autograd's graph: in tensor ops
        where an optimizer defines it (SGD, Adam, AdamW); here, the array update when nothing
        involved requires grad (then there is nothing to record)."""
        values = [v for value in group.values()
                  for v in (value if isinstance(value, tuple) else (value,))]
        tensors = [p, p.grad] + [v for v in values if isinstance(v, Tensor)]
        if not (grad_mode.is_grad_enabled() and any(t.requires_grad for t in tensors)):
            self._dense_update(p, state, self._hyperparameters(group))  # (nothing to record)
            p._version_counter.value += 1
            return
        if p.requires_grad and p.is_leaf:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation.")
        raise NotImplementedError(f"ember: {type(self).__name__}(differentiable=True) does not "
                                  "record its step on autograd's graph yet (SGD, Adam and "
                                  "AdamW do)")

    # capturable=True (CUDA graphs) as PyTorch's step refuses it on the CPU: the tensors its
    # message names (single-tensor, foreach) and whether its device list has "xla" then.
    _capturable_names = ("params and state_steps", "params and state_steps")
    _capturable_xla = (True, False)

    def _refuse_capturable(self, foreach: bool) -> None:
        """Raise PyTorch's AssertionError for capturable=True: no capturable device here."""
        devices = ["cuda", "xpu", "hpu", "privateuseone"]
        if self._capturable_xla[foreach]:
            devices.append("xla")
        raise AssertionError(f"If capturable=True, {self._capturable_names[foreach]} must be "
                             f"on supported devices: {devices}.")

    # ---- checkpoints ------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The state and hyperparameters in PyTorch's layout (see NOTE above)."""
        for hook in list(self._state_dict_pre_hooks):
            hook(self)
        index_of = {}
        packed_groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            packed_groups.append(packed)
        packed_state = {(index_of[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": packed_groups}
        for hook in list(self._state_dict_post_hooks):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state_dict from `state_dict()` (ember's or PyTorch's layout)."""
        state_dict = state_dict.copy()  # (shallow, as PyTorch's: the pre hooks may edit it)
        for hook in list(self._load_state_dict_pre_hooks):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group")
        param_of = {index: p for s, g in zip(saved_groups, groups)
                    for index, p in zip(s["params"], g["params"])}
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in param_of:
                param = param_of[key]
                group = next(s for s in state_dict["param_groups"] if key in s["params"])
                special_step = bool(group.get("fused") or group.get("capturable"))
                state[param] = _cast(param, None, value, special_step)
            else:
                state[key] = value
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.__setstate__({"state": state, "param_groups": new_groups})
        for hook in list(self._load_state_dict_post_hooks):
            hook(self)


def _cast(param: Tensor, key, value, special_step: bool = False):
    """A loaded state value cast as PyTorch's `_process_value_according_to_param_policy` does:
    a tensor (except "step") takes a floating parameter's dtype, and is the very same tensor
    when it already has it (PyTorch shares, not copies, such state); "step" stays as it is,
    unless the group is fused or capturable (then float32). Lists' items have no key."""
    value = _as_tensor(value)
    if isinstance(value, Tensor):
        if key == "step":
            target = xp.dtype(xp.float32) if special_step else None
        else:
            target = param._data.dtype if param.dtype.is_floating_point else None
        if target is None or value._data.dtype == target:
            return value
        return Tensor._make(value._data.astype(target))
    if isinstance(value, dict):
        return {k: _cast(param, k, v, special_step) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, None, v, special_step) for v in value)
    return value


def _real_view(array):
    """A complex array's real view of shape (..., 2) (`torch.view_as_real`); others as they are."""
    if array.dtype.kind != "c":
        return array
    return array[..., None].view(array.real.dtype)


def _complex_view(array, p: Tensor):
    """A real (..., 2) array made by an update of a complex p, back as p's complex dtype."""
    return xp.ascontiguousarray(array).view(p._data.dtype)[..., 0]


def _zeros_like(p: Tensor) -> Tensor:
    """A zero state tensor shaped and typed like the parameter."""
    return Tensor._make(xp.zeros_like(p._data))


def _scalar_tensor(value: float = 0.0) -> Tensor:
    """A 0-d state scalar such as state['step']: float32, float64 under a float64 default."""
    is_double = _dtype.get_default_dtype() is _dtype.float64
    return Tensor._make(xp.array(value, dtype=xp.float64 if is_double else xp.float32))


# Elements per block of a blocked update (`update_in_blocks`): a float32 block of 256 KB.
_BLOCK = 1 << 16


def update_in_blocks(block_update, arrays, constants, min_parallel: int):
    """block_update(*arrays, *constants) on the whole arrays (None entries pass through), or,
    from `min_parallel` elements when every array is contiguous, on blocks of _BLOCK elements
    shared out over the intra-op threads (NumPy's ufuncs release the GIL): each element's
    arithmetic is the same either way, so the result is too. Handing a block to another
    thread costs ~50 µs (a wake-up), so `min_parallel` is the size from which an update's
    passes per element pay for it (measured per optimizer)."""
    if arrays[0].ndim == 0:  # (a ufunc on 0-d arrays answers a scalar, which takes no out=)
        arrays = tuple(None if a is None else a.reshape(1) for a in arrays)
    present = [a for a in arrays if a is not None]
    size = present[0].size
    if size < min_parallel or not all(a.flags.c_contiguous for a in present):
        block_update(*arrays, *constants)
        return
    flat = [None if a is None else a.reshape(-1) for a in arrays]

    def run(start, stop):
        for first in range(start * _BLOCK, min(stop * _BLOCK, size), _BLOCK):
            block_update(*(None if a is None else a[first:first + _BLOCK] for a in flat),
                         *constants)

    parallel_blocks(run, -(-size // _BLOCK))


def _split_names(param_group: dict, params: list) -> list:
    """The group's tensors; named parameters' (name, tensor) pairs also set "param_names"
    (all of a group's parameters named, or none)."""
    names = [p[0] for p in params if isinstance(p, tuple)]
    tensors = [p[1] if isinstance(p, tuple) else p for p in params]
    param_group["params"] = tensors
    if names:
        if len(names) != len(tensors):
            raise ValueError("all optimizer params should be with/without names. Some param "
                             "names are missing")
        param_group["param_names"] = names
    return tensors


def _typename(obj) -> str:
    """`torch.typename` of a non-tensor object: its module-qualified class name."""
    module = type(obj).__module__
    return type(obj).__qualname__ if module in ("", "builtins") else (
        f"{module}.{type(obj).__qualname__}")


def fused_add(x, alpha, y):
    """x + alpha·y (arrays of one shape), the optimizers' `x.add(y, alpha=alpha)`.

    NOTE [Optimizer steps and the FMA]
    PyTorch's float32 kernel rounds x + alpha·y once (a fused multiply-add); NumPy rounds the
    product, then the sum, so a step can land 1 ulp away. `fused_add32` (ember/ops/_opmath.py)
    gives torch's bits, and `Tensor.add(alpha=)` uses it, but through float64 passes: in an
    SGD step it took 4.5x the time (0.15 -> 0.7 ms on the 670K parameters of the batch-1 MLP
    benchmark, whose step went from 1.6x to 2.7x torch's time). A whole training run cannot be
    bit-exact anyway (matmul and convolution sums are ordered differently), so the optimizers
    keep NumPy's two roundings. Set EXACT_STEPS[0] = True for torch's bits at that cost."""
    if EXACT_STEPS[0] and x.dtype == y.dtype == xp.float32:
        return fused_add32(x, y, alpha)
    return x + alpha * y


EXACT_STEPS = [False]  # whether SGD, Adamax and ASGD round their steps as torch (NOTE above)


def _check_lr(lr, message: str = "Invalid learning rate: {}") -> None:
    """PyTorch's check of an optimizer's lr: a number >= 0 or a 1-element tensor."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    _require(0.0 <= lr, message.format(lr))


def _check_fused(fused, foreach, differentiable) -> None:
    """PyTorch's checks of fused=True (after the parameter groups are made)."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _require(holds: bool, message: str) -> None:
    """Raise ValueError(message) unless an argument check holds (PyTorch's optimizers)."""
    if not holds:
        raise ValueError(message)


def _to_scalar(value):
    """PyTorch's `_to_scalar`: a 1-element hyperparameter tensor as a 0-d one."""
    return value.squeeze() if isinstance(value, Tensor) and value.dim() != 0 else value


def _is_sparse(grad) -> bool:
    """Whether a gradient is a sparse COO tensor (a dense one is always a plain Tensor)."""
    return type(grad) is not Tensor and grad.is_sparse


def _increment(step: xp.ndarray) -> float:
    """Add one to a 0-d step array in place; return the new count as a Python float."""
    step += 1
    return float(step)


__all__ = ["Optimizer", "register_optimizer_step_post_hook",
           "register_optimizer_step_pre_hook", "required"]
