"""torch's CPU samplers on whole arrays of a generator's words (see ember/random.py).

Each function takes a `Generator` (its `_uint32` / `_uint64` words and its cached normal) and a
count `n`, draws exactly the words torch's kernel draws for n elements in memory order, and
returns a flat array: the uniform, normal and integer distributions of ATen's
DistributionsHelper.h / TransformationHelper.h and the CPU kernels of DistributionTemplates.h.
"""

import math

from ember._backend import xp
from ember._rng import libm
from ember._rng.log1p import glibc_log1p
from ember._rng.mathfun import fma32, fma64, normal_from_words, normal_rows
from ember._threads import parallel_blocks

_f32 = xp.float32
_f64 = xp.float64
_MASK24 = xp.uint32((1 << 24) - 1)
_MASK53 = xp.uint64((1 << 53) - 1)
_TWO_PI = 2.0 * 3.141592653589793
_CHUNK = 1 << 16  # words per chunk: the temporaries stay in the CPU's cache
_ROWS64 = 4096  # blocks of 16 per chunk of the float64 Box–Muller


# ---- uniform -------------------------------------------------------------------------------
def uniform_float32(gen, n: int):
    """n float32 uniforms in [0, 1): 24 bits of one word each (torch's `uniform_real<float>`)."""
    out = xp.empty(n, dtype=_f32)
    for start in range(0, n, _CHUNK):  # in cache-sized chunks: one pass over memory
        words = gen._uint32(min(_CHUNK, n - start))
        words &= _MASK24
        chunk = out[start:start + _CHUNK]
        chunk[...] = words.view(xp.int32)  # int32 converts faster than uint32
        chunk *= _f32(2.0 ** -24)
    return out


def uniform_float64(gen, n: int):
    """n float64 uniforms in [0, 1): 53 bits of one `random64()` each."""
    return (gen._uint64(n) & _MASK53).astype(_f64) * 2.0 ** -53


def below53(gen, n: int, q: float):
    """The bools `uniform_float64(gen, n) < q`, decided on the words: u = k·2⁻⁵³ exactly, with k
    the low 53 bits of a `random64()`, so u < q exactly when k < ⌈q·2⁵³⌉ (q·2⁵³ is exact). k's
    high 21 bits are the first word's low bits and its low 32 the second word: compare the high
    parts, and the second words only where those tie (2⁻²¹ of draws). No 64-bit or float array
    is made, which makes a dropout mask about twice as cheap."""
    bound = math.ceil(q * 2.0 ** 53) if q > 0 else 0
    words = gen._uint32(2 * int(n)).reshape(int(n), 2)
    high, bound_high = words[:, 0] & xp.uint32(0x1FFFFF), bound >> 32
    if bound_high > 0x1FFFFF:  # q >= 1: every draw is below
        return xp.ones(int(n), dtype=xp.bool_)
    keep = high < xp.uint32(bound_high)
    ties = xp.flatnonzero(high == xp.uint32(bound_high))
    keep[ties] = words[ties, 1] < xp.uint32(bound & 0xFFFFFFFF)
    return keep


def uniform(gen, n: int, dtype, low: float, high: float):
    """torch's `uniform_kernel`: fma(u, to - from, from) in float32 (float64 for double), cast
    to dtype; a value that rounding carried up to `to` becomes `from`."""
    dtype = xp.dtype(dtype)
    unit = low == 0 and high == 1  # fma(u, 1, 0) = u
    if dtype == _f64:
        values = uniform_float64(gen, n)
        values = values if unit else fma64(values, high - low, low)
    else:
        values = uniform_float32(gen, n)
        if not unit:
            values = fma32(values, _f32(high) - _f32(low), _f32(low))
        if dtype == _f32 and unit:
            return values  # u < 1 always
        values = values.astype(dtype, copy=False)
    values[values == dtype.type(high)] = dtype.type(low)
    return values


# ---- normal --------------------------------------------------------------------------------
def normal(gen, n: int, dtype, mean: float, std: float):
    """torch's `normal_kernel` for n contiguous elements of dtype: the Box–Muller of blocks of
    16 from 16 elements on (NOTE [The float32 normal kernel]), the scalar sampler below that."""
    dtype = xp.dtype(dtype)
    if n < 16:
        return from_double(normal_scalar(gen, n, mean, std), dtype)
    if dtype == _f64:
        return _normal_fill(gen, n, n, uniform_float64, lambda u: _box_muller64(u, mean, std))
    # float16 / bfloat16 compute in float32 block by block: only the blocks' uniforms are drawn
    return _normal_fill32(gen, n, n if dtype == _f32 else n // 16 * 16, mean, std).astype(
        dtype, copy=False)


def _normal_fill32(gen, n, drawn, mean, std):
    """`_normal_fill` for float32, straight from the words into one output array."""
    blocks = n // 16
    out = xp.empty(n, dtype=_f32)
    normal_rows(gen._uint32, blocks, mean, std, out[:blocks * 16].reshape(blocks, 16))
    if n % 16:
        gen._uint32(drawn - blocks * 16)  # the last partial block's words: drawn, then redone
        normal_from_words(gen._uint32(16).reshape(1, 16), mean, std, out[n - 16:].reshape(1, 16))
    return out


def from_double(values, dtype):
    """float64 values as torch's static_cast: to float16/bfloat16 through float32 (c10::Half
    and c10::BFloat16 are made from a float), so twice rounded."""
    dtype = xp.dtype(dtype)
    if dtype.itemsize == 2 and dtype.kind != "i" and dtype.kind != "u":
        return values.astype(_f32).astype(dtype)
    return values.astype(dtype)


def _normal_fill(gen, n, drawn, draw, transform):
    """torch's `normal_fill`: `drawn` uniforms (n, or only whole blocks), transformed in blocks
    of 16; when n % 16 != 0 the last 16 elements are redone from 16 new uniforms."""
    blocks = n // 16
    values = transform(draw(gen, drawn)[:blocks * 16].reshape(blocks, 16)).reshape(-1)
    if n % 16 == 0:
        return values
    tail = transform(draw(gen, 16).reshape(1, 16)).reshape(-1)
    return xp.concatenate([values[:n - 16], tail])


def _box_muller64(u, mean, std):
    """`NormalFill16<double>`: scalar libm log/cos/sin, fma(r·cos θ, std, mean); in chunks,
    on the intra-op threads (NumPy's log, cos and sin release the GIL)."""
    out = xp.empty_like(u)

    def block(start, stop):
        for first in range(start, stop, _ROWS64):
            rows = slice(first, min(first + _ROWS64, stop))
            radius = xp.sqrt(-2.0 * libm.glibc_log(1.0 - u[rows, :8]))
            theta = _TWO_PI * u[rows, 8:]
            out[rows, :8] = fma64(radius * xp.cos(theta), std, mean)
            out[rows, 8:] = fma64(radius * xp.sin(theta), std, mean)

    parallel_blocks(block, u.shape[0], _ROWS64)
    return out


def normal_scalar(gen, n: int, mean: float, std: float):
    """n samples of `at::normal_distribution<double>` in float64, with the generator's cache.

    Each pair of uniforms (u1, u2) gives r = sqrt(-2·log1p(-u2)), θ = 2π·u1 and two samples:
    r·cos θ is returned first and r·sin θ is kept in the generator for the next draw (torch's
    `next_double_normal_sample`, which `manual_seed` clears). Each becomes fma(x, std, mean).
    """
    cached = [] if gen._next_double_normal is None or n == 0 else [gen._next_double_normal]
    if cached and n:
        gen._next_double_normal = None
    pairs = (n - len(cached) + 1) // 2
    u = uniform_float64(gen, 2 * pairs).reshape(pairs, 2)
    radius = xp.sqrt(-2.0 * glibc_log1p(-u[:, 1]))
    theta = _TWO_PI * u[:, 0]
    drawn = xp.stack([radius * libm.call("cos", theta), radius * libm.call("sin", theta)], axis=1)
    samples = xp.concatenate([xp.asarray(cached, dtype=_f64), drawn.reshape(-1)])
    if samples.size > n:
        gen._next_double_normal = float(samples[n])
    return fma64(samples[:n], std, mean)


# ---- integers ------------------------------------------------------------------------------
def random_from_to(gen, n: int, range_: int, base: int):
    """torch's `uniform_int_from_to_distribution`: word % range + base as int64; one 32-bit word
    per element below a range of 2^28, one 64-bit word from 2^28 on."""
    if range_ < 2 ** 28:
        words = gen._uint32(n)
        words %= xp.uint32(range_)
        return words.astype(xp.int64) + base
    values = (gen._uint64(n) % xp.uint64(range_)) + xp.uint64(base % 2 ** 64)
    return values.view(xp.int64)


def random_full_range(gen, n: int):
    """`random_(-2^63)` with no `to`: each `random64()` read as an int64."""
    return gen._uint64(n).view(xp.int64)


# `random_()` without bounds: a 32-bit word (64-bit for int64 and float64) modulo the dtype's
# range: [0, max] for integers, [0, 2^digits] for floating point (torch's `uniform_int`).
_RANDOM_MODULUS = {"bool": 2, "uint8": 2 ** 8, "int8": 2 ** 7, "int16": 2 ** 15,
                   "int32": 2 ** 31, "int64": 2 ** 63, "float16": 2 ** 11 + 1,
                   "bfloat16": 2 ** 8 + 1, "float32": 2 ** 24 + 1, "float64": 2 ** 53 + 1}


def random_bits(gen, n: int, dtype):
    """torch's `random_()` for n elements of dtype (as int64 values to cast)."""
    name = xp.dtype(dtype).name
    wide = name in ("int64", "float64")
    words = gen._uint64(n) if wide else gen._uint32(n).astype(xp.uint64)
    return (words % xp.uint64(_RANDOM_MODULUS[name])).astype(xp.int64)


# ---- permutations --------------------------------------------------------------------------
def randperm(gen, n: int):
    """torch's `randperm_cpu`: below n = 2^32 // 20, for i in 0..n-2 swap slots i and i + z_i,
    z_i = random() % (n - i); from there on its "inside-out" shuffle, for i in 0..n-1 slot i
    takes what slot c_i holds and slot c_i takes i, c_i = random64() % (i + 1)
    (NOTE [randperm without a loop])."""
    if n < 2:
        return xp.arange(n, dtype=xp.int64)
    if n >= 2 ** 32:  # (32 GB of int64 and more: the steps' sort keys below need n < 2^32)
        raise RuntimeError(f"randperm: n = {n} is too large (ember handles n < 2^32)")
    if n >= _RANDPERM_INSIDE_OUT_FROM:
        return _inside_out(gen._uint64(n) % xp.arange(1, n + 1, dtype=xp.uint64))
    offsets = gen._uint32(n - 1) % xp.arange(n, 1, -1, dtype=xp.uint32)
    return _apply_swaps(xp.arange(n - 1, dtype=xp.int64) + offsets.astype(xp.int64))


# torch's randperm swaps forward with 32-bit words below this n (uint32's max // 20) and
# shuffles inside-out with 64-bit words from it on
_RANDPERM_INSIDE_OUT_FROM = (2 ** 32 - 1) // 20


def _by_target(target):
    """The steps 0..m-1 sorted by (target, step), as (targets, steps, the previous step with the
    same target or -1, whether each is its target's last), in an index dtype that holds m."""
    m = target.size
    index = xp.int32 if m < 2 ** 31 else xp.int64  # (int32: half the memory traffic)
    steps = _stable_order(target.astype(xp.uint32)).astype(index, copy=False)
    targets = target[steps].astype(index)
    same = targets[1:] == targets[:-1]
    previous = xp.full(m, -1, dtype=index)
    xp.copyto(previous[1:], steps[:-1], where=same)
    last = xp.ones(m, dtype=bool)
    last[:-1] = ~same
    return targets, steps, previous, last


def _stable_order(keys):
    """The stable argsort of uint32 keys by two least-significant-digit passes over 16-bit
    halves: NumPy's stable argsort of uint16 is a radix sort, 2.5x faster here than sorting
    64-bit (key, position) words."""
    order = xp.argsort((keys & xp.uint32(0xFFFF)).astype(xp.uint16), kind="stable")
    high = (keys >> xp.uint32(16)).astype(xp.uint16)[order]
    return order[xp.argsort(high, kind="stable")]


def _inside_out(choice):
    """The result of `for i: slot[i] = slot[c_i]; slot[c_i] = i` (c_i = choice[i] ≤ i), in
    O(n log n) array operations (NOTE [randperm without a loop]): slot p ends with the last
    step i > p that chose it, else with what step p put there, V(p): p itself when c_p = p,
    else what slot q = c_p held just before step p, the last step in (q, p) that chose q, or
    else V(q): pointers to earlier steps again."""
    n = choice.size
    targets, steps, previous, last = _by_target(choice)
    itself = steps == targets
    known = itself | (previous > targets)  # V(p) is p, or the step before p that chose q
    parent = xp.arange(n, dtype=steps.dtype)
    parent[steps[~known]] = targets[~known]
    value = xp.empty(n, dtype=steps.dtype)
    value[steps[known]] = xp.where(itself, steps, previous)[known]
    out = value[_roots(parent)]
    chosen_later = last & ~itself
    out[targets[chosen_later]] = steps[chosen_later]
    return out.astype(xp.int64)


def _apply_swaps(target):
    """The result of `for i: swap(slot[i], slot[target[i]])` on 0..n-1 (target[i] ≥ i), in
    O(n log n) array operations.

    NOTE [randperm without a loop]
    Step i fixes slot i for good (later steps touch only slots > i). Let v_i be what slot i
    holds just before step i: the value step k moved there, for the last k < i with
    target[k] = i, else i itself. That is a forest of pointers to earlier steps, so v is each
    step's root, found by pointer jumping. Slot i ends with what slot target[i] held before
    step i: v_k for the last earlier step k with the same target, else the untouched value
    target[i] (when target[i] = i that is v_i by the same rule). Sorting the steps by
    (target, step) puts each target's steps together in order, so "the last earlier step with
    the same target" is the neighbour before in that order. (Steps and targets are below
    n < 2^32: one unsigned 64-bit key each; indices in int32 while n fits.)
    """
    n = target.size + 1
    ts, ks, prev, last = _by_target(target)
    # the root pointer of slot T: the last step < T targeting T (T's own step excluded)
    pointer = xp.where(ks == ts, xp.where(prev >= 0, prev, ts), ks)
    parent = xp.arange(n, dtype=ks.dtype)
    parent[ts[last]] = pointer[last]
    roots = _roots(parent)
    out = xp.empty(n, dtype=ks.dtype)
    out[ks] = xp.where(prev >= 0, roots[xp.maximum(prev, 0)], ts)
    out[-1] = roots[-1]
    return out.astype(xp.int64)


def _roots(parent):
    """Each node's root in a forest of pointers to earlier nodes (a root points at itself):
    pointer jumping, on the nodes not yet pointing at a root only."""
    active = xp.flatnonzero(parent != xp.arange(parent.size, dtype=parent.dtype))
    while active.size:
        up = parent[active]
        hop = parent[up]
        parent[active] = hop
        active = active[hop != up]  # hop == up: up is a root, this node is done
    return parent
