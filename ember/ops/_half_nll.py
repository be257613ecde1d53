"""nll_loss's reduction for a float16/bfloat16 input, summed as PyTorch's CPU kernel sums it.

NOTE [nll_loss's 16-bit cascade]
PyTorch's `nll_loss_out_frame` reduces -w[y_n]·x[n, y_n] over the batch with a cascade of 8
partial sums kept in the input's dtype (each addition rounded to 16 bits). After adding row b
to level 0 it moves level j into level j + 1 while b's j-th group of p bits is zero
(p = max(4, ⌈log2 N⌉ / 8)): row 0 goes straight to the top level, then every 2^p rows level 0
is added into level 1, every 2^(2p) level 1 into level 2, ...; the result is the levels added
in order from 0. The weights are summed the same way (without class weights: N minus the
ignored rows, as a 16-bit value), and 'mean' divides the two in 16 bits. An ignored row is
skipped before the merge check, which then does not happen: such batches are walked row by
row.
"""

import math

from ember._backend import quiet, xp

_LEVELS = 8


def _sequential(rows, dtype):
    """The sums of each row of a 2-d array, added left to right in dtype."""
    total = xp.zeros(rows.shape[0], dtype=dtype)
    for k in range(rows.shape[1]):
        total = (total + rows[:, k]).astype(dtype)
    return total


def _cascade_vectorized(values, dtype, power):
    """The levels' final partial sums of a cascade over values (no row skipped)."""
    partial, step = [], 1 << power
    items = values[1:]
    for _ in range(_LEVELS - 1):
        full = items.size // step * step
        partial.append(_sequential(items[None, full:], dtype)[0])
        items = _sequential(items[:full].reshape(-1, step), dtype)
    partial.append(_sequential(xp.concatenate([values[:1], items])[None, :], dtype)[0])
    return partial


def _cascade_walked(values, counted, dtype, power):
    """The levels' final partial sums, walking the rows as PyTorch's loop (ignored rows
    skipped before the merge check)."""
    partial = [dtype.type(0)] * _LEVELS
    mask = (1 << power) - 1
    for b in range(values.size):
        if not counted[b]:
            continue
        partial[0] = dtype.type(partial[0] + values[b])
        for level in range(_LEVELS - 1):
            if b & (mask << (level * power)):
                break
            partial[level + 1] = dtype.type(partial[level + 1] + partial[level])
            partial[level] = dtype.type(0)
    return partial


def cascade_sum(values, counted, dtype):
    """Σ values[counted] in dtype as PyTorch's nll_loss kernel adds them (NOTE above)."""
    n = values.size
    power = max(4, (math.ceil(math.log2(n)) if n > 1 else 0) // _LEVELS)
    values = values.astype(dtype, copy=False)
    if bool(counted.all()):
        partial = _cascade_vectorized(values, dtype, power)
    else:
        partial = _cascade_walked(values, counted, dtype, power)
    total = dtype.type(0)
    for value in partial:
        total = dtype.type(total + value)
    return total


def half_nll_reduce(loss, target, weighted, reduction, dtype):
    """('sum' or 'mean' of nll_loss's per-row losses -w[y_n]·x[n, y_n] (16-bit), the total
    weight) as PyTorch computes them; weighted: whether class weights were given."""
    dtype = xp.dtype(dtype)
    total = cascade_sum(loss, target.valid, dtype)
    if weighted:
        count = cascade_sum(target.w_target, target.valid, dtype)
    else:
        count = dtype.type(int(xp.count_nonzero(target.valid)))
    if reduction == "mean":
        with quiet():  # (no counted row: 0/0 is NaN, as PyTorch's)
            total = dtype.type(xp.float32(total) / xp.float32(count))
    return xp.asarray(total, dtype=dtype), float(count)
