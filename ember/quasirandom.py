"""Sobol' quasi-random sequences (matches `torch.quasirandom.SobolEngine`, bit for bit).

NOTE [Sobol' points as PyTorch draws them]
Dimension d of the sequence has 30 direction numbers v[d, j] (`sobolstate`, MAXBIT = 30 bits,
stored as v[d, j] << (29 - j)), made from Joe & Kuo's table new-joe-kuo-6.21201 (a primitive
polynomial and the first direction numbers of each dimension) with Bratley & Fox's recurrence
(ACM TOMS Algorithm 659). Points follow Antonov & Saleev's Gray-code order: point i + 1 is
point i XOR v[:, l], where l is the index of the rightmost zero bit of i, and a point is its
integer `quasi` times 2^-30. PyTorch's kernels (aten/src/ATen/native/SobolEngineOps.cpp) walk
that one point at a time; here a draw of n points takes the n indices l at once and XORs the
chosen columns cumulatively down the draw (`bitwise_xor.accumulate`), and a fast-forward only
needs how often each column is chosen, which has a closed form.

Scrambling (Owen, 1998: linear matrix scrambling with a digital shift) draws, from torch's
generator exactly as `torch.quasirandom` does, a random shift (the first point) and one random
lower-triangular binary matrix per dimension, which multiplies every direction number's bits
over GF(2).

PyTorch compiles the Joe & Kuo table into C++; ember reads the same table from SciPy's
`scipy/stats/_sobol_direction_numbers.npz` (without importing `scipy.stats`), so the engine
needs the optional SciPy extra, like ember/_scipy.py's functions.
"""

import importlib.util
import operator
import os

from ember import _dtype
from ember._backend import xp
from ember._registry import FUNCTIONS
from ember._tensor import Tensor, short_name
from ember.random import Generator

__all__ = ["SobolEngine"]

MAXBIT = 30
MAXDIM = 21201
_TABLE_FILE = os.path.join("stats", "_sobol_direction_numbers.npz")
_CACHE = {}  # "poly", "vinit": Joe & Kuo's table; "state": the largest unscrambled state made
_SCRAMBLE_BLOCK = 2048  # dimensions per batched matrix product (bounds the float32 temporaries)


# ---- the direction numbers ------------------------------------------------------------------
def _table_path() -> str:
    """Where SciPy keeps its copy of Joe & Kuo's table (found without importing SciPy)."""
    spec = importlib.util.find_spec("scipy")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = os.path.join(folder, _TABLE_FILE)
        if os.path.exists(path):
            return path
    raise ImportError("SobolEngine reads Joe & Kuo's direction numbers from SciPy, an optional "
                      "dependency of ember: pip install ember[scipy]")


def _joe_kuo():
    """The table's (poly, vinit): per dimension a primitive polynomial and its first m_j."""
    if "poly" not in _CACHE:
        with xp.load(_table_path()) as table:
            _CACHE["vinit"] = xp.asarray(table["vinit"], dtype=xp.int64)
            _CACHE["poly"] = xp.asarray(table["poly"], dtype=xp.int64)
    return _CACHE["poly"], _CACHE["vinit"]


def _recurrence(v, poly, degree: int) -> None:
    """Fill v[:, degree:] of the dimensions whose polynomial has this degree, in place.

    Bratley & Fox (Algorithm 659, p. 90), as PyTorch's `_sobol_engine_initialize_state_`:
    v_j = v_{j-m} ^ XOR_k a_k 2^(k+1) v_{j-k-1}, a_k the polynomial's bit m-1-k.
    """
    taken = [((poly >> (degree - 1 - k)) & 1).astype(bool) for k in range(degree)]
    for j in range(degree, MAXBIT):
        new = v[:, j - degree].copy()
        for k in range(degree):
            new ^= xp.where(taken[k], v[:, j - k - 1] << (k + 1), 0)
        v[:, j] = new


def _direction_state(dimension: int):
    """sobolstate of the first `dimension` dimensions: v[d, j] << (29 - j), int64."""
    poly, vinit = _joe_kuo()
    poly, vinit = poly[:dimension], vinit[:dimension]
    degree = xp.frexp(poly.astype(xp.float64))[1] - 1  # bit_length(poly) - 1, exact here
    v = xp.zeros((dimension, MAXBIT), dtype=xp.int64)
    v[0] = 1  # the first dimension is van der Corput's sequence: every direction number 1
    for m in range(1, int(degree.max()) + 1):
        rows = xp.flatnonzero(degree == m)
        rows = rows[rows > 0]
        if rows.size:
            block = xp.zeros((rows.size, MAXBIT), dtype=xp.int64)
            block[:, :m] = vinit[rows, :m]
            _recurrence(block, poly[rows], m)
            v[rows] = block
    return v << xp.arange(MAXBIT - 1, -1, -1, dtype=xp.int64)


def _initial_state(dimension: int):
    """A fresh copy of the unscrambled state; rows do not depend on the dimension, so the
    largest state made so far is kept and sliced."""
    state = _CACHE.get("state")
    if state is None or state.shape[0] < dimension:
        state = _CACHE["state"] = _direction_state(dimension)
    return state[:dimension].copy()


# ---- drawing ---------------------------------------------------------------------------------
def _check_range(start: int, n: int) -> None:
    """Refuse counters past 2^30 - 2: their rightmost zero is bit 30, beyond sobolstate (where
    PyTorch's kernel reads out of bounds)."""
    if n > 0 and start + n > 2 ** MAXBIT - 1:
        raise RuntimeError(f"SobolEngine: a Sobol' sequence of {MAXBIT} bits has 2**{MAXBIT} "
                           "points; this draw or fast-forward would go past them")


def _rightmost_zero(counters):
    """Index of each counter's rightmost zero bit (0 for negative counters, as PyTorch's
    `rightmost_zero` loop `z % 2 == 1` stops at once for them)."""
    lowest = ~counters & (counters + 1)  # the rightmost zero bit, alone
    index = xp.frexp(lowest.astype(xp.float64))[1] - 1  # log2 of a power of two, exactly
    return xp.where(counters < 0, 0, index)


def _walk(quasi, sobolstate, start: int, n: int):
    """The n states after quasi (counters start..start+n-1), as an (n, dimension) array."""
    _check_range(start, n)
    columns = _rightmost_zero(xp.arange(start, start + n, dtype=xp.int64))
    # states have 30 bits: int32 halves the memory traffic of the (n, dimension) work (int64
    # only if someone wrote wider numbers into sobolstate or quasi)
    narrow = all(a.size == 0 or (a.min() >= 0 and a.max() < 2 ** 31) for a in (quasi, sobolstate))
    table = xp.ascontiguousarray(sobolstate.T, dtype=xp.int32 if narrow else xp.int64)
    steps = table[columns]  # row i: the column point i flips
    if n:
        steps[0] ^= quasi.astype(table.dtype)
    return xp.bitwise_xor.accumulate(steps, axis=0, out=steps)


def _column_parity(start: int, n: int):
    """Whether each column is XORed an odd number of times by counters start..start+n-1.

    Counter c flips column k when c = 2^k - 1 (mod 2^(k+1)); [0, N) holds
    (N + 2^k) // 2^(k+1) such counters. Negative counters flip column 0.
    """
    _check_range(start, n)
    k = xp.arange(MAXBIT, dtype=xp.int64)
    stop = start + max(n, 0)
    low, high = max(start, 0), max(stop, 0)
    counts = (high + (1 << k)) // (2 << k) - (low + (1 << k)) // (2 << k)
    counts[0] += max(min(stop, 0) - start, 0)
    return (counts & 1).astype(bool)


def _check_int(value, name: str, op: str) -> int:
    """value as an int, or the TypeError PyTorch's binding of `op` raises for it."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{op}(): argument '{name}' (position 2) must be int, "
                        f"not {type(value).__name__}")
    return operator.index(value)


def _scalar_name(dtype) -> str:
    """PyTorch's ScalarType name of a dtype (Half, Long, Float8_e5m2, ...)."""
    try:
        return short_name(dtype)
    except KeyError:
        return dtype.name[0].upper() + dtype.name[1:]


def _draw(quasi: Tensor, n, sobolstate: Tensor, dimension: int, start: int, dtype):
    """PyTorch's `_sobol_engine_draw`: (n points in dtype, the state after them)."""
    n = _check_int(n, "n", "_sobol_engine_draw")
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError("_sobol_engine_draw(): argument 'dtype' must be torch.dtype, "
                        f"not {type(dtype).__name__}")
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: "
                           f"[{n}, {dimension}]")
    if dtype.name not in ("float32", "float64"):  # AT_DISPATCH_FLOATING_TYPES
        raise NotImplementedError(
            f"\"_sobol_engine_draw\" not implemented for '{_scalar_name(dtype)}'")
    states = _walk(xp.asarray(quasi._data), xp.asarray(sobolstate._data), start, n)
    points = states.astype(dtype.numpy)  # integer -> float rounds to nearest, as the kernel
    points *= dtype.numpy.type(2.0 ** -MAXBIT)  # a power of two: exact
    after = states[-1].astype(xp.int64) if n else xp.array(quasi._data, dtype=xp.int64)
    return Tensor._make(points), Tensor._make(after)


def _scramble_state(state, ltm):
    """Each direction number's bits (most significant first) times its dimension's random
    lower-triangular matrix, diagonal set to 1, over GF(2) (PyTorch's `_sobol_engine_scramble_`).

    Bit 29 - p of the new v is the parity of row p of the matrix AND v's bits (29 - i for
    column i); the 0/1 products are summed by a batched float32 matmul (sums <= 30: exact).
    """
    lower = xp.tril(ltm)
    diagonal = xp.arange(MAXBIT)
    lower[:, diagonal, diagonal] = 1
    shifts = xp.arange(MAXBIT - 1, -1, -1, dtype=xp.int64)
    scrambled = xp.empty_like(state)
    for first in range(0, state.shape[0], _SCRAMBLE_BLOCK):
        block = slice(first, first + _SCRAMBLE_BLOCK)
        bits = ((state[block, :, None] >> shifts) & 1).astype(xp.float32)  # [d, j, i]
        sums = xp.matmul(bits, lower[block].transpose(0, 2, 1).astype(xp.float32))  # [d, j, p]
        scrambled[block] = ((sums.astype(xp.int64) & 1) << shifts).sum(axis=-1)
    return scrambled


# ---- the engine ------------------------------------------------------------------------------
class SobolEngine:
    r"""An engine for (scrambled) Sobol' sequences of up to 21201 dimensions, with Joe & Kuo's
    direction numbers (search criterion D(6)); matches `torch.quasirandom.SobolEngine`.

    Args:
        dimension (Int): The dimensionality of the sequence to be drawn
        scramble (bool, optional): draw scrambled Sobol' points. Default: ``False``.
        seed (Int, optional): the seed of the scrambling's random numbers; if None, they come
            from the default generator. Default: ``None``
    """

    MAXBIT = MAXBIT
    MAXDIM = MAXDIM

    def __init__(self, dimension, scramble=False, seed=None):
        """The state of `dimension` sequences, scrambled by a generator seeded with seed."""
        if dimension > self.MAXDIM or dimension < 1:
            raise ValueError("Supported range of dimensionality "
                             f"for SobolEngine is [1, {self.MAXDIM}]")
        self.seed = seed
        self.scramble = scramble
        self.dimension = dimension
        # ember.zeros as torch calls it: its TypeErrors for a dimension that is not an int
        self.sobolstate = FUNCTIONS["zeros"](dimension, self.MAXBIT, dtype=_dtype.int64)
        self.sobolstate = Tensor._make(_initial_state(self.sobolstate.shape[0]))
        if not self.scramble:
            self.shift = FUNCTIONS["zeros"](self.dimension, dtype=_dtype.int64)
        else:
            self._scramble()
        self.quasi = self.shift.clone()
        # in the default dtype of the moment, later cast: a float64 draw's first scrambled
        # point has float32's precision when the engine was made under float32, as in torch
        self._first_point = (self.quasi / 2 ** self.MAXBIT).reshape(1, -1)
        self.num_generated = 0

    def draw(self, n=1, out=None, dtype=None) -> Tensor:
        """The next n points, an (n, dimension) tensor of dtype (the default dtype if None)."""
        if dtype is None:
            dtype = _dtype.get_default_dtype()
        if self.num_generated == 0:
            if n == 1:
                result = self._first_point.to(dtype)
            else:
                result, self.quasi = _draw(self.quasi, n - 1, self.sobolstate, self.dimension,
                                           self.num_generated, dtype)
                first = self._first_point.to(dtype)
                result = Tensor._make(xp.concatenate((first._data, result._data), axis=-2))
        else:
            result, self.quasi = _draw(self.quasi, n, self.sobolstate, self.dimension,
                                       self.num_generated - 1, dtype)
        self.num_generated += n
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m, out=None, dtype=None) -> Tensor:
        """The next 2**m points; the total drawn must stay a power of 2 (balance)."""
        n = 2 ** m
        total_n = self.num_generated + n
        if not (total_n & (total_n - 1) == 0):
            raise ValueError(
                "The balance properties of Sobol' points require "
                f"n to be a power of 2. {self.num_generated} points have been "
                f"previously generated, then: n={self.num_generated}+2**{m}={total_n}. "
                "If you still want to do this, please use "
                "'SobolEngine.draw()' instead.")
        return self.draw(n=n, out=out, dtype=dtype)

    def reset(self) -> "SobolEngine":
        """Back to the first point (the shift), as if nothing had been drawn."""
        self.quasi.copy_(self.shift)
        self.num_generated = 0
        return self

    def fast_forward(self, n) -> "SobolEngine":
        """Skip n points, as drawing them would (in place on `quasi`, like torch)."""
        if self.num_generated == 0:
            self._skip(n - 1, self.num_generated)
        else:
            self._skip(n, self.num_generated - 1)
        self.num_generated += n
        return self

    def _skip(self, n, start: int) -> None:
        """PyTorch's `_sobol_engine_ff_`: XOR into quasi the columns flipped an odd number of
        times by counters start..start+n-1."""
        n = _check_int(n, "n", "_sobol_engine_ff_")
        odd = _column_parity(start, n)
        flips = xp.bitwise_xor.reduce(xp.asarray(self.sobolstate._data)[:, odd], axis=1)
        self.quasi.bitwise_xor_(Tensor._make(flips))

    def _scramble(self) -> None:
        """Draw the shift and the lower-triangular matrices (the same calls, in the same order,
        as torch) and scramble the direction numbers with them."""
        g = None
        if self.seed is not None:
            g = Generator()
            g.manual_seed(self.seed)
        randint = FUNCTIONS["randint"]
        shift_bits = randint(2, (self.dimension, self.MAXBIT), generator=g)
        powers = xp.arange(self.MAXBIT, dtype=xp.int64)
        self.shift = Tensor._make((shift_bits._data << powers).sum(axis=-1))  # bit k: column k
        ltm = randint(2, (self.dimension, self.MAXBIT, self.MAXBIT), generator=g)
        state = _scramble_state(xp.asarray(self.sobolstate._data), ltm._data)
        self.sobolstate = Tensor._make(state)

    def __repr__(self):
        """SobolEngine(dimension=..., scramble=True, seed=...), as torch prints it."""
        fmt_string = [f"dimension={self.dimension}"]
        if self.scramble:
            fmt_string += ["scramble=True"]
        if self.seed is not None:
            fmt_string += [f"seed={self.seed}"]
        return self.__class__.__name__ + "(" + ", ".join(fmt_string) + ")"
