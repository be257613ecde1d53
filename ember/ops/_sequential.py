"""torch's samplers that draw element after element: Poisson and binomial counts, Gamma
variates.

NOTE [Sequential draws]
Each element consumes a data-dependent number of uniforms (and normals) from the one stream,
and the next element starts where the last stopped, so these samplers are inherently
sequential: a Python loop over elements, on scalars, with glibc's log/exp/pow/lgamma through
`math` (as torch's double arithmetic; no FMA in these kernels). The uniforms are drawn ahead
in a buffer; afterwards the generator is rewound and advanced by exactly the number used,
and the Box-Muller cache (torch's `next_double_normal_sample`) is left as torch leaves it.
"""

import math

from ember._backend import xp
from ember.ops._streams import uniform53

_THIRD_F32 = float(xp.float32(1.0 / 3.0))  # torch writes 1.0f / 3.0f
_C_F32 = float(xp.float32(0.0331))         # and 0.0331f


def poisson_counts(rates, gen) -> list:
    """torch's `sample_poisson` for each rate in turn (rate < 10: multiply uniforms until the
    product drops to e^-rate; rate >= 10: Hörmann's transformed rejection)."""
    with _Draws(gen, int(sum(r + 1 for r in rates if r < 10)) + 3 * len(rates)) as draws:
        return [_poisson_one(r, draws.uniform) if r > 0 else 0 for r in rates]


def gamma_variates(alphas, gen, single: bool) -> list:
    """torch's `sample_gamma` (Marsaglia-Tsang) for each alpha in turn; `single` when the
    tensor is float32 (then torch does a few steps in float32)."""
    with _Draws(gen, 4 * len(alphas)) as draws:
        return [_gamma_one(a, draws, single) for a in alphas]


def binomial_counts(counts, probs, gen, single: bool) -> list:
    """torch's `sample_binomial` for each (count, prob) in turn: inversion by geometric jumps
    when count·min(p, 1-p) < 10, else Hörmann's BTRS; `single` for float32 tensors."""
    with _Draws(gen, 4 * len(counts)) as draws:
        return [_binomial_one(n, p, draws.uniform, single) for n, p in zip(counts, probs)]


class _Draws:
    """A session of sequential draws from a generator: 53-bit uniforms drawn ahead and handed
    out one at a time, normals from torch's `normal_distribution<double>` with its cache.
    On exit the generator holds exactly torch's state after the same draws."""

    def __init__(self, gen, size):
        self.gen, self.size, self.used = gen, max(size, 16), 0

    def __enter__(self):
        self.state, self.cache = self.gen.get_state(), self.gen._next_double_normal
        self.values = uniform53(self.gen, self.size).tolist()
        return self

    def __exit__(self, *exc):
        self.gen.set_state(self.state)
        self.gen._uint64(self.used)
        self.gen._next_double_normal = self.cache
        return False

    def uniform(self) -> float:
        if self.used == len(self.values):
            self.values += uniform53(self.gen, len(self.values)).tolist()
        self.used += 1
        return self.values[self.used - 1]

    def normal(self) -> float:
        """Box-Muller as torch: θ = 2π·u1, r = √(-2·log1p(-u2)); r·cos θ now, r·sin θ cached."""
        if self.cache is not None:
            value, self.cache = self.cache, None
            return value
        u1, u2 = self.uniform(), self.uniform()
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self.cache = r * math.sin(theta)
        return r * math.cos(theta)


def _f32(value: float) -> float:
    return float(xp.float32(value))


def _gamma_one(alpha: float, draws, single: bool) -> float:
    """One Gamma(alpha, 1) variate, exactly as torch's `sample_gamma` (alpha < 1 is boosted to
    alpha + 1 and scaled by u^(1/alpha)); double arithmetic except the float32 steps torch
    takes on a float32 alpha."""
    round_ = _f32 if single else float
    scale = 1.0
    if alpha < 1.0:
        if alpha == 0.0:
            return 0.0
        scale *= math.pow(1 - draws.uniform(), round_(1.0 / alpha))
        alpha = round_(alpha + 1.0)
    d = round_(alpha - _THIRD_F32)
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        while True:
            x = draws.normal()
            y = 1.0 + c * x
            if y > 0:
                break
        v = y * y * y
        u = 1 - draws.uniform()
        xx = x * x
        if u < 1.0 - _C_F32 * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def _poisson_one(rate: float, uniform) -> int:
    """One Poisson(rate) count, exactly as torch's `sample_poisson` (double arithmetic, glibc's
    log and lgamma)."""
    if rate < 10:
        threshold, product, count = math.exp(-rate), 1.0, 0
        while True:
            product *= uniform()
            if product <= threshold:
                return count
            count += 1
    slam, loglam = math.sqrt(rate), math.log(rate)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = uniform() - 0.5
        v = uniform()
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + rate + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
                <= -rate + k * loglam - math.lgamma(k + 1)):
            return k




# Stirling's series tail log(k!) - [(k + 1/2)·log(k + 1) - (k + 1) + log(2π)/2] for k <= 9
_STIRLING_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983,
                  0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
                  0.0118967099458917, 0.0104112652619720, 0.00925546218271273,
                  0.00833056343336287)


def _stirling_tail(k: float) -> float:
    if k <= 9:
        return _STIRLING_TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _binomial_one(count: float, prob: float, uniform, single: bool) -> float:
    """One Binomial(count, prob) count as torch's `sample_binomial` (small means by inversion,
    large by BTRS on the smaller of p and 1-p)."""
    f = _f32 if single else float
    if count <= 0.0 or prob <= 0.0:
        return 0.0
    if prob >= 1.0:
        return count
    if prob <= 0.5:
        if f(count * prob) >= 10.0:
            return _btrs(count, prob, uniform, f)
        return _binomial_inversion(count, prob, uniform, f)
    if prob > 0.5:
        q = f(1.0 - prob)
        if f(count * q) >= 10.0:
            return f(count - _btrs(count, q, uniform, f))
        return f(count - _binomial_inversion(count, q, uniform, f))
    return math.nan


def _binomial_inversion(count, prob, uniform, f) -> float:
    """Count geometric(prob) waiting times until they pass count (log1p(-p) in the tensor's
    precision, the rest in double)."""
    logprob = f(math.log1p(-prob))
    total, successes = 0.0, 0.0
    while True:
        total += math.ceil(math.log(uniform()) / logprob)
        if total > count:
            return successes
        successes += 1


def _btrs(count, prob, uniform, f) -> float:
    """Hörmann's transformed rejection with squeeze (BTRS), as torch writes it: the products
    of count and prob in the tensor's precision (f), the rest in double."""
    stddev = f(math.sqrt(f(f(count * prob) * f(1 - prob))))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = f(count * prob) + 0.5
    v_r = 0.92 - 4.2 / b
    r = f(prob / f(1 - prob))
    alpha = (2.83 + 5.1 / b) * stddev
    m = math.floor(f(f(count + 1) * prob))
    while True:
        u = uniform() - 0.5
        v = uniform()
        us = 0.5 - abs(u)
        k = f(math.floor((2 * a / us + b) * u + c))
        if k < 0 or k > count:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = math.log(v * alpha / (a / (us * us) + b))
        upper = ((m + 0.5) * math.log((m + 1) / (r * (count - m + 1)))
                 + f(count + 1) * math.log((count - m + 1) / f(f(count - k) + 1))
                 + (k + 0.5) * math.log(r * f(f(count - k) + 1) / f(k + 1))
                 + _stirling_tail(m) + _stirling_tail(count - m)
                 - _stirling_tail(k) - _stirling_tail(f(count - k)))
        if v <= upper:
            return k
