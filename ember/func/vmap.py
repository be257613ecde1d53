"""vmap: map a function over a batch dimension (matches `torch.func.vmap`).

NOTE [vmap: rules first, then the loop]
vmap runs the function once on batched tensors (NOTE [Batched tensors] in
ember/func/_batched.py): every op with a batching rule computes the whole batch in one call, and
an op without one runs once per batch element inside that single pass. When the function uses
batched values in a way no op sees (`.item()`, Python control flow on a value, an in-place
write, array code without a rule), or when the batched pass raises (the loop then either
succeeds or raises the function's own error), ember falls back to the loop PyTorch also uses
as a last resort: it slices each batched input along its `in_dims`, calls the function once per
batch element, and stacks the results along `out_dims`. `ember.func._batched.STATS` counts
which path ran; `ember.func._rules.ops_without_rules()` lists the ops that run per element.

`randomness` follows PyTorch: "error" raises when the function draws random numbers, "same"
gives every element the same numbers, "different" gives each element its own. A function that
draws random numbers under "same" or "different" is run by the loop (the generator is rewound
first), which replays or advances the generator per element.
"""

from ember._backend import xp
from ember.autograd.function import VMAP_HOOK
from ember.func import _rules_nn  # noqa: F401  (registers the nn rules)
from ember.func._batched import ACTIVE_SIZES, STATS, Unbatchable, VmapRefused, physical, wrap
from ember.func._pytree import first_constant, tree_flatten, tree_unflatten
from ember.func._rules import dispatch
from ember.ops.joins import stack
from ember.random import get_rng_state, set_rng_state

_RANDOMNESS = ("error", "different", "same")


def _name(func):
    return getattr(func, "__name__", repr(func))


def _dims_per_leaf(dims, tree, func, in_dims):
    """One in_dim per tensor of tree: an int/None applies to the whole subtree."""
    if dims is None or isinstance(dims, int):
        leaves, spec = tree_flatten(tree)
        constant = first_constant(spec)
        if dims is not None and constant is not None:
            raise ValueError(
                f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dims} for "
                f"an input but the input is of type {type(constant[0])}. We cannot vmap over "
                "non-Tensor arguments, please use None as the respective in_dim")
        return [dims] * len(leaves)
    if isinstance(dims, (tuple, list)) and isinstance(tree, (tuple, list)) and \
            len(dims) == len(tree):
        return [d for sub_dims, sub in zip(dims, tree)
                for d in _dims_per_leaf(sub_dims, sub, func, in_dims)]
    if isinstance(dims, dict) and isinstance(tree, dict) and dims.keys() == tree.keys():
        return [d for key in tree for d in _dims_per_leaf(dims[key], tree[key], func, in_dims)]
    raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                     "compatible with the structure of `inputs`.")


def _batch_size(leaves, dims, func, in_dims):
    sizes = []
    for leaf, d in zip(leaves, dims):
        if d is None:
            continue
        ndim = leaf.dim()
        if not -ndim <= d < ndim:
            raise ValueError(
                f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some "
                f"input, but that input is a Tensor of dimensionality {ndim} so expected in_dim "
                f"to satisfy -{ndim} <= in_dim < {ndim}.")
        sizes.append(leaf.shape[d])
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if len(set(sizes)) > 1:
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    return sizes[0]


def _state_bytes():
    return bytes(xp.ascontiguousarray(get_rng_state()._data))


def _stack_outputs(results, out_dims, func):
    """Stack the per-element outputs (pytrees of tensors) along out_dims."""
    flat = [tree_flatten(r) for r in results]
    spec = flat[0][1]
    count = len(flat[0][0])
    dims = out_dims if isinstance(out_dims, tuple) else (out_dims,) * max(count, 1)
    if len(dims) != count and isinstance(out_dims, tuple):
        raise ValueError(f"vmap({_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims is "
                         "not compatible with the structure of `outputs`.")
    if not count:
        raise ValueError(f"vmap({_name(func)}, ...): `{_name(func)}` must only return Tensors, "
                         f"got type {type(results[0])}. Did you mean to set out_dims= to None "
                         "for output?")
    stacked = []
    for index in range(count):
        pieces = [leaves[index] for leaves, _ in flat]
        d = dims[index]
        stacked.append(pieces[0] if d is None else stack(pieces, d))
    return tree_unflatten(stacked, spec)


def _unbatched_outputs(output, out_dims, level, size, func):
    """The batched outputs of one pass as tensors with their batch dim at out_dims."""
    leaves, spec = tree_flatten(output)
    if not leaves:
        raise ValueError(f"vmap({_name(func)}, ...): `{_name(func)}` must only return Tensors, "
                         f"got type {type(output)}. Did you mean to set out_dims= to None "
                         "for output?")
    dims = out_dims if isinstance(out_dims, tuple) else (out_dims,) * len(leaves)
    if len(dims) != len(leaves):
        raise ValueError(f"vmap({_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims is "
                         "not compatible with the structure of `outputs`.")
    results = []
    for leaf, d in zip(leaves, dims):
        value = physical(leaf, level)
        if d is None:
            if value is not None:
                raise ValueError(
                    f"vmap({_name(func)}, ..., out_dims={out_dims})(<inputs>): Cannot return a "
                    "BatchedTensor when out_dim is None")
            results.append(leaf)
            continue
        if value is None:  # the same for every element: repeated, as torch returns it
            value = leaf.unsqueeze(0).expand((size,) + tuple(leaf.shape))
        results.append(value.movedim(0, d) if d not in (0, -value.dim()) else value)
    return tree_unflatten(results, spec)


def _batched_pass(func, args, kwargs, leaves, leaf_dims, spec, size, out_dims):
    """Run func once on batched tensors (NOTE [vmap: rules first, then the loop])."""
    level = len(ACTIVE_SIZES) + 1
    previous = VMAP_HOOK[0]
    VMAP_HOOK[0] = dispatch
    ACTIVE_SIZES.append(size)
    try:
        batched = [leaf if d is None else wrap(leaf.movedim(d, 0) if d else leaf, level)
                   for leaf, d in zip(leaves, leaf_dims)]
        output = func(*tree_unflatten(batched, spec), **kwargs)
    finally:
        ACTIVE_SIZES.pop()
        VMAP_HOOK[0] = previous
    return _unbatched_outputs(output, out_dims, level, size, func)


def _looped(func, args, kwargs, leaves, leaf_dims, spec, size, out_dims, randomness):
    """Run func once per batch element and stack the results (the fallback)."""
    state = get_rng_state() if randomness == "same" else None
    results = []
    for i in range(size):
        if state is not None:
            set_rng_state(state)
        before = _state_bytes() if randomness == "error" else None
        sliced = [leaf if d is None else leaf.select(d, i) for leaf, d in zip(leaves, leaf_dims)]
        results.append(func(*tree_unflatten(sliced, spec), **kwargs))
        if before is not None and _state_bytes() != before:
            raise _random_error()
    return _stack_outputs(results, out_dims, func)


def _random_error():
    return RuntimeError(
        "vmap: called random operation while in randomness error mode. Please either use the "
        "'same' or 'different' randomness flags on vmap or perform the randomness operation "
        "out of vmap")


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over a batch dim of its inputs (matches `torch.func.vmap`; NOTE [vmap:
    rules first, then the loop])."""
    if randomness not in _RANDOMNESS:
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")

    def wrapped(*args, **kwargs):
        if not isinstance(in_dims, (int, tuple)):
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): expected "
                             "`in_dims` to be int or a (potentially nested) tuple matching the "
                             f"structure of inputs, got: {type(in_dims)}.")
        if not args:
            raise ValueError(f"vmap({_name(func)})(<inputs>): got no inputs. Maybe you forgot to "
                             "add inputs, or you are trying to vmap over a function with no "
                             "inputs. The latter is unsupported.")
        dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): in_dims is "
                             "not compatible with the structure of `inputs`.")
        leaves, spec = tree_flatten(args)
        leaf_dims = _dims_per_leaf(dims, args, func, in_dims)
        size = _batch_size(leaves, leaf_dims, func, in_dims)
        leaf_dims = [d if d is None else d % leaf.dim() for leaf, d in zip(leaves, leaf_dims)]
        task = (func, args, kwargs, leaves, leaf_dims, spec, size, out_dims)
        if size:
            state, before = get_rng_state(), _state_bytes()
            try:
                result = _batched_pass(*task)
            except VmapRefused as refused:  # what torch refuses outright: no loop
                set_rng_state(state)
                raise RuntimeError(refused.args[0]) from None
            except (Unbatchable, Exception):  # an error of the batched pass: the loop decides
                set_rng_state(state)
            else:
                if _state_bytes() == before:
                    return result
                if randomness == "error":
                    raise _random_error()
                set_rng_state(state)
            STATS["function_fallback"][_name(func)] += 1
        return _looped(*task, randomness)

    return wrapped
