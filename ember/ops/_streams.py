"""Helpers for the samplers built on torch's streams (NOTE [PyTorch's random streams] in
ember/random.py): the generator's uniforms as torch's distributions read them, glibc's functions
where NumPy's differ, and torch's order of visiting a tensor's elements.

The word -> number recipes themselves are ember/_rng/samplers.py's (the core of the stream):
- `uniform24`: `uniform_real_distribution<float>`, 24 bits of one 32-bit word, float32.
- `uniform53`: `uniform_real_distribution<double>`, 53 bits of one 64-bit word, float64. The
  "double" distributions (bernoulli with a scalar p, exponential, cauchy, geometric,
  log-normal, multinomial with replacement, rrelu, poisson, gamma) all draw these.
- `standard_normals64`: `normal_distribution<double>` (Box-Muller, second value cached).
- `fma`: a·b + c rounded once, as torch's FMA-contracted kernels compute it.
"""

import math

from ember import random
from ember._backend import quiet, xp
from ember._rng import samplers
from ember._rng.libm import glibc_log, per_element
from ember._rng.log1p import glibc_log1p
from ember._rng.mathfun import fma64 as fma  # noqa: F401 - re-exported for the samplers

generator_of = random._generator


def uniform24(generator, n: int):
    """n float32 uniforms in [0, 1) as `uniform_real_distribution<float>` draws them."""
    return samplers.uniform_float32(generator_of(generator), n)


def uniform53(generator, n: int):
    """n float64 uniforms in [0, 1) as `uniform_real_distribution<double>` draws them."""
    return samplers.uniform_float64(generator_of(generator), n)


def below_uniform53(generator, n: int, q: float):
    """The bools `uniform53(generator, n) < q`, without making the uniforms (a bernoulli(q))."""
    return samplers.below53(generator_of(generator), n, q)


def standard_normals64(generator, n: int):
    """n draws of `normal_distribution<double>(0, 1)`, using and refilling its cache."""
    return samplers.normal_scalar(generator_of(generator), n, 0.0, 1.0)


# NOTE [glibc's transcendental functions]
# torch's double samplers call glibc's log1p/log/tan/exp. NumPy's float64 versions (SIMD
# code of its own) differ from glibc's in the last bit for a few percent of inputs (log1p
# ~7%, exp ~5%), so a float64 result is computed through Python's `math` module, which calls
# glibc (about 0.07 µs an element); `log` is vectorised where that provably agrees (NOTE
# [glibc's log from a long-double log]). A float32 result is rounded from the double: a
# last-bit difference in the double changes it with probability ~2**-29, so NumPy's fast
# versions do.
_LIBM = {name: getattr(math, name) for name in ("log1p", "log", "tan", "exp")}


def libm(name: str, x, exact: bool):
    """glibc's `name` of a float64 array: through `math` when exact, else NumPy's."""
    if exact and x.size:
        if name in ("log", "log1p"):  # vectorised where provably equal (ember/_rng)
            return (glibc_log if name == "log" else glibc_log1p)(x)
        return per_element(_LIBM[name], xp.asarray(x, dtype=xp.float64))
    with quiet():
        return getattr(xp, name)(x)


def _memory_axes(array) -> list:
    """array's axes from the slowest- to the fastest-moving in memory, the order in which
    torch's TensorIterator visits an output's elements (innermost = smallest stride)."""
    return sorted(range(array.ndim), key=lambda d: -abs(array.strides[d]))


def in_memory_order(array, flat):
    """Place `flat`, values in the order torch visits array's memory, into array's shape."""
    axes = _memory_axes(array)
    if axes == list(range(array.ndim)):
        return flat.reshape(array.shape)
    permuted = flat.reshape([array.shape[d] for d in axes])
    return xp.transpose(permuted, xp.argsort(axes))


def flat_in_memory_order(values, array):
    """`values` broadcast to array's shape, flattened in the order torch visits array."""
    values = xp.broadcast_to(values, array.shape)
    return xp.transpose(values, _memory_axes(array)).reshape(-1)
