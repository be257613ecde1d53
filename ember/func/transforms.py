"""Function transforms on ember's tape: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian
(match `torch.func`).

NOTE [Transforms on a tape]
torch.func runs these as functional transforms; ember runs the function once with fresh
stand-ins for the differentiated arguments and asks `autograd.grad`. Nesting works because a
transform running inside another one (or on arguments that already require grad) builds the
graph of its own gradient (`create_graph=True`), which the outer transform differentiates again;
at the outermost level results are detached, as torch.func returns them. jvp uses the
double-backward trick (the gradient uᵀ·J is linear in a dummy seed u; its gradient with respect
to u, seeded with the tangent, is J·v). jacfwd computes the same Jacobian as jacrev, row by row
in reverse mode.
"""

import contextlib

from ember._backend import xp
from ember._tensor import Tensor
from ember.autograd.gradients import check_seed_levels
from ember.autograd.gradients import grad as autograd_grad
from ember.autograd.grad_mode import enable_grad
from ember.func._batched import ACTIVE_SIZES, batched_at_all_levels, rewrap, unwrap_all
from ember.func._pytree import first_constant, tree_flatten, tree_map, tree_unflatten
from ember.ops.joins import stack

_depth = [0]  # how many transforms are running (nested transforms build graphs)


@contextlib.contextmanager
def _transform():
    _depth[0] += 1
    try:
        with enable_grad():
            yield _depth[0] > 1
    finally:
        _depth[0] -= 1


def _track(x: Tensor) -> Tensor:
    """A stand-in for x that autograd can differentiate with respect to.

    Inside vmap the stand-in is batched at every running level (an unbatched x repeated), so
    each batch element has its own copy and the gradient is per element (per-sample grads)."""
    if not ACTIVE_SIZES:
        return x.view_as(x) if x.requires_grad else x.detach().requires_grad_()
    value, levels = batched_at_all_levels(x)
    value = value.view_as(value) if value.requires_grad else value.detach().requires_grad_()
    return rewrap(value, levels)


def _argnums_tuple(argnums, count, name):
    """argnums as a tuple of non-negative positions, with torch's errors (_slice_argnums)."""
    if not isinstance(argnums, (int, tuple)):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    numbers = argnums if isinstance(argnums, tuple) else (argnums,)
    for number in numbers:
        if not isinstance(number, int):
            raise RuntimeError(f"argnum must be int, got: {type(number)}")
        if not -count <= number < count:
            raise RuntimeError(f"Got argnum={number}, but only {count} positional inputs")
    numbers = tuple(n % count for n in numbers)
    if not numbers:
        raise RuntimeError("argnums must be non-empty")
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return numbers


def _spec_string(spec) -> str:
    """A tree_flatten spec as torch's treespec_pprint writes it: `*` for a tensor."""
    if spec is None:
        return "*"
    kind, children = spec
    if kind == "constant":
        return repr(children)
    if kind is dict:
        return "{" + ", ".join(f"{key!r}: {_spec_string(c)}" for key, c in children.items()) + "}"
    inner = ", ".join(_spec_string(c) for c in children)
    if kind is list:
        return f"[{inner}]"
    return f"({inner},)" if len(children) == 1 else f"({inner})"


def _require_tensors(spec, message):
    """torch's error for a non-tensor where a transform needs tensors."""
    found = first_constant(spec)
    if found is not None:
        raise message(type(found[0]))


def _not_a_tensor_input(kind):
    return ValueError(f"Thing passed to transform API must be Tensor, got {kind}")


def _not_a_tensor_output(kind):
    return RuntimeError("vjp(f, *primals): expected f(*primals) to return only tensors, got "
                        f"unsupported type {kind}")


def _prepare(args, argnums, name):
    """(args with stand-ins for the differentiated ones, their leaves, spec, nested flag)."""
    numbers = _argnums_tuple(argnums, len(args), name)
    chosen = tuple(args[n] for n in numbers)
    leaves, spec = tree_flatten(chosen if isinstance(argnums, tuple) else chosen[0])
    _require_tensors(spec, _not_a_tensor_input)
    nested = any(leaf.requires_grad for leaf in leaves)
    tracked = [_track(leaf) for leaf in leaves]
    rebuilt = tree_unflatten(tracked, spec)
    args = list(args)
    for position, n in enumerate(numbers):
        args[n] = rebuilt[position] if isinstance(argnums, tuple) else rebuilt
    return tuple(args), tracked, spec, nested


def _gradients(outputs, inputs, seeds, create_graph):
    """d(outputs·seeds)/d(inputs), zeros where an input is unused."""
    if ACTIVE_SIZES:
        return _batched_gradients(outputs, inputs, seeds, create_graph)
    live = [(o, s) for o, s in zip(outputs, seeds) if o.requires_grad]
    if not live:
        return [Tensor._make(xp.zeros_like(x._data)) for x in inputs]
    grads = autograd_grad([o for o, _ in live], inputs, [s for _, s in live], retain_graph=True,
                          create_graph=create_graph, allow_unused=True)
    return [Tensor._make(xp.zeros_like(x._data)) if g is None else g
            for g, x in zip(grads, inputs)]


def _batched_gradients(outputs, inputs, seeds, create_graph):
    """_gradients inside vmap: on the physical tensors, every batch element at once."""
    check_seed_levels(outputs, seeds)  # a vjp_fn of an outer graph: vmap loops instead
    live = [(batched_at_all_levels(o)[0], batched_at_all_levels(s)[0])
            for o, s in zip(outputs, seeds) if o.requires_grad]
    unwrapped = [unwrap_all(x) for x in inputs]
    if not live:
        return [rewrap(Tensor._make(xp.zeros_like(v._data)), levels) for v, levels in unwrapped]
    grads = autograd_grad([o for o, _ in live], [v for v, _ in unwrapped],
                          [s for _, s in live], retain_graph=True, create_graph=create_graph,
                          allow_unused=True)
    return [rewrap(Tensor._make(xp.zeros_like(v._data)) if g is None else g, levels)
            for g, (v, levels) in zip(grads, unwrapped)]


def _detached(tree, keep):
    return tree if keep else tree_map(lambda t: t.detach(), tree)


def _split_aux(output, has_aux, name):
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{name}(f)(*args): output of function f should be a tuple: "
                           "(output, aux) if has_aux is True")
    return output


# ---- grad -----------------------------------------------------------------------------------
def grad_and_value(func, argnums=0, has_aux=False):
    """f -> a function returning (gradient of f, f) (matches `torch.func.grad_and_value`)."""

    def wrapper(*args, **kwargs):
        with _transform() as inner:
            args, leaves, spec, nested = _prepare(args, argnums, "grad_and_value")
            keep = inner or nested
            output, aux = _split_aux(func(*args, **kwargs), has_aux, "grad_and_value")
            if not isinstance(output, Tensor):
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"Tensor, got {type(output)}")
            if output.dim() != 0:
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                    f"tensor with {output.dim()} dims. Maybe you wanted to use the vjp or "
                    "jacrev APIs instead?")
            seed = Tensor._make(xp.ones_like(output._data))
            grads = _gradients([output], leaves, [seed], keep)
        grads = _detached(tree_unflatten(grads, spec), keep)
        value = _detached(output, keep)
        return (grads, (value, _detached(aux, keep))) if has_aux else (grads, value)

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """f -> the function computing f's gradient (matches `torch.func.grad`)."""
    with_value = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        grads, value = with_value(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return wrapper


# ---- vjp and jvp ----------------------------------------------------------------------------
def vjp(func, *primals, has_aux=False):
    """(f(*primals), vjp_fn[, aux]): vjp_fn(cotangents) gives vᵀ·J per primal (`func.vjp`)."""
    with _transform() as inner:
        args, leaves, spec, nested = _prepare(primals, tuple(range(len(primals))), "vjp")
        keep = inner or nested
        output, aux = _split_aux(func(*args), has_aux, "vjp")
        out_leaves, out_spec = tree_flatten(output)
        _require_tensors(out_spec, _not_a_tensor_output)

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        seeds, seed_spec = tree_flatten(cotangents)
        if seed_spec != out_spec:
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of "
                f"outputs to the function. cotangents: {_spec_string(seed_spec)}, primal output: "
                f"{_spec_string(out_spec)}")
        for seed, out in zip(seeds, out_leaves):
            if seed.shape != out.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of "
                                   f"{seed.shape} and output[0] has a shape of {out.shape}.")
        with enable_grad():
            grads = _gradients(out_leaves, leaves, seeds, keep or bool(create_graph))
        return _detached(tree_unflatten(grads, spec), keep or bool(create_graph))

    result = (_detached(output, keep), vjp_fn)
    return result + (_detached(aux, keep),) if has_aux else result


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(f(*primals), J·tangents) by the double-backward trick (matches `torch.func.jvp`)."""
    for name, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, tuple):
            raise RuntimeError(f"jvp(f, primals, tangents): Expected {name} to be a tuple. E.g. "
                               "it should be valid to call f(*primals).")
    if len(primals) != len(tangents):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have "
                           "the same python structure.")
    with _transform() as inner:
        args, leaves, _, nested = _prepare(primals, tuple(range(len(primals))), "jvp")
        keep = inner or nested
        output, aux = _split_aux(func(*args), has_aux, "jvp")
        out_leaves, out_spec = tree_flatten(output)
        tangent_leaves, _ = tree_flatten(tangents)
        for tangent, leaf in zip(tangent_leaves, leaves):
            if tangent.shape != leaf.shape:  # (torch's words come from make_dual)
                raise RuntimeError(
                    "Trying to set a forward gradient that has a different size than that of "
                    "the original Tensor, this is not supported. Tensor is of size "
                    f"{list(leaf.shape)} while the given forward gradient is of size "
                    f"{list(tangent.shape)}.")
        dummies = [_track(Tensor._make(xp.zeros_like(o._data))) for o in out_leaves]
        transposed = _gradients(out_leaves, leaves, dummies, True)
        forward = _gradients(transposed, dummies, tangent_leaves, keep)
    result = (_detached(output, keep), _detached(tree_unflatten(forward, out_spec), keep))
    return result + (_detached(aux, keep),) if has_aux else result


# ---- Jacobians ------------------------------------------------------------------------------
def _basis_seed(out, k):
    """A cotangent for out: 1 at flat position k (k None: all zeros)."""
    flat = xp.zeros(out._data.size, dtype=out._data.dtype)
    if k is not None:
        flat[k] = 1
    return Tensor._make(flat.reshape(out._data.shape))


def _jacobian_rows(outs, leaves, keep):
    """d out / d leaf for every out and leaf, of shape out.shape + leaf.shape.

    One vjp per row of the Jacobian of all outputs flattened together, the other outputs seeded
    with zeros: torch's jacrev does the same, so a row's signed zeros come out as torch's."""
    jac = []
    for i, out in enumerate(outs):
        rows = [[] for _ in leaves]
        for k in range(out._data.size):
            seeds = [_basis_seed(o, k if j == i else None) for j, o in enumerate(outs)]
            for j, g in enumerate(_gradients(outs, leaves, seeds, keep)):
                rows[j].append(g.reshape(-1))
        per_leaf = []
        for j, leaf in enumerate(leaves):
            shape = tuple(out.shape) + tuple(leaf.shape)
            per_leaf.append(stack(rows[j]).reshape(shape) if rows[j] else
                            Tensor._make(xp.zeros(shape, dtype=leaf._data.dtype)))
        jac.append(per_leaf)
    return jac


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """f -> the function computing f's Jacobian by reverse mode (matches `torch.func.jacrev`)."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    def wrapper(*args, **kwargs):
        with _transform() as inner:
            args, leaves, spec, nested = _prepare(args, argnums, "jacrev")
            keep = inner or nested
            output, aux = _split_aux(func(*args, **kwargs), has_aux, "jacrev")
            out_leaves, out_spec = tree_flatten(output)
            _require_tensors(out_spec, _not_a_tensor_output)
            per_output = [tree_unflatten(rows, spec)
                          for rows in _jacobian_rows(out_leaves, leaves, keep)]
        jac = _detached(tree_unflatten(per_output, out_spec), keep)
        return (jac, _detached(aux, keep)) if has_aux else jac

    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """f -> the function computing f's Jacobian (matches `torch.func.jacfwd`; computed by
    rows in reverse mode, NOTE [Transforms on a tape])."""
    return jacrev(func, argnums, has_aux=has_aux)


def hessian(func, argnums=0):
    """f -> the function computing f's Hessian, jacfwd of jacrev (matches `torch.func.hessian`)."""
    return jacfwd(jacrev(func, argnums), argnums)
