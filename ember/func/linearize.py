"""linearize and functionalize (match `torch.func.linearize` / `torch.func.functionalize`).

linearize returns f(*primals) and a function computing J·tangents at those primals; torch traces
the forward-mode graph once with make_fx, ember evaluates `jvp` at the saved primals on each
call (the same values). functionalize removes mutations from a traced program; run eagerly, the
functionalized function computes what the function computes (mutated inputs included), so ember
returns a wrapper that calls it.
"""

import functools

from ember.func._pytree import tree_flatten
from ember.func.transforms import jvp

_REMOVE = ("mutations", "mutations_and_views")


def _check_tangents(flat_tangents, flat_primals):
    """torch's shape / device / dtype checks of each tangent against its primal."""
    for index, (tangent, primal) in enumerate(zip(flat_tangents, flat_primals)):
        for what in ("shape", "device", "dtype"):
            got, expected = getattr(tangent, what), getattr(primal, what)
            if got != expected:
                raise RuntimeError(f"tangent:{index} with {what} {got} in flattened pytree "
                                   f"doesn't match the {what} {expected} of the corresponding "
                                   "primal.")


def linearize(func, *primals):
    """(func(*primals), jvp_fn) where jvp_fn(*tangents) is the Jacobian of func at primals
    applied to the tangents (matches `torch.func.linearize`)."""
    output = func(*primals)
    flat_primals, primals_spec = tree_flatten(primals)
    saved = tuple(primals)

    def jvp_fn(*tangents):
        flat_tangents, tangents_spec = tree_flatten(tangents)
        if tangents_spec != primals_spec:
            raise RuntimeError(f"Expected the tangents {tangents_spec} to have the same argspec "
                               f"as the primals {primals_spec}")
        _check_tangents(flat_tangents, flat_primals)
        return jvp(func, saved, tuple(tangents))[1]

    return output, jvp_fn


def functionalize(func, *, remove: str = "mutations"):
    """func without mutations in its traced program; eagerly the same computation (matches
    `torch.func.functionalize`)."""
    if remove not in _REMOVE:
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}."
            " Valid options are:\n"
            "     remove='mutations': all inplace and out= operators will be removed from the "
            "program, and replaced with their out-of-place equivalents.\n"
            "     remove='mutations_and_views': In addition to the above, all aliasing operators "
            "{view} will be replaced with their non-aliasing counterparts, {view}_copy.\n")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapped
