"""The Bessel functions J0, J1, Y0, Y1 as torch computes them, float32 phase included.

NOTE [torch's float32 Bessel functions]
torch evaluates bessel_j0/j1/y0/y1 with cephes's algorithm, for a float32 tensor in float32
arithmetic. Beyond |x| = 5 that algorithm is an amplitude times the cosine or sine of a phase
ξ = x - φ (φ = π/4 for order 0, 3π/4 for order 1), and in float32 ξ is rounded to float32:
off by up to half an ulp of x (0.5 at x = 1e7), so torch's float32 values there drift from the
function's (by 20% near 1e7). SciPy gives the double values J, Y at the double phase ξ; the
same amplitude and phase terms with ξ moved by δ = ξ32 - ξ give torch's:
    J32 = J·cos δ - Y·sin δ,    Y32 = Y·cos δ + J·sin δ
(J0 is even and J1 odd: torch evaluates them at |x|; Y of a negative x is NaN either way).
"""

from ember import _scipy
from ember._backend import xp

_PHASE = {"j0": 0.785398163397448309616, "y0": 0.785398163397448309616,
          "j1": 2.35619449019234492885, "y1": 2.35619449019234492885}
_PARTNER = {"j0": "y0", "y0": "j0", "j1": "y1", "y1": "j1"}


def bessel_array(name: str):
    """SciPy's `name` (j0, j1, y0, y1) of an array, with torch's float32 phase for float32."""
    def array_fn(d):
        value = _scipy.function(name)(d)
        if d.dtype != xp.float32:
            return value
        x = xp.abs(d) if name[0] == "j" else d
        far = (x > 5) & xp.isfinite(x)
        if not far.any():
            return value
        return _phase_shifted(name, value, d, x, far)
    return array_fn


def _phase_shifted(name, value, d, x, far):
    """value with its entries at `far` as torch's float32 phase gives them (see NOTE)."""
    xf = x[far]
    wide = xf.astype(xp.float64)
    delta = (xf - xp.float32(_PHASE[name])).astype(xp.float64) - (wide - _PHASE[name])
    own = _scipy.function(name)(wide)
    partner = _scipy.function(_PARTNER[name])(wide)
    turn = -1.0 if name[0] == "j" else 1.0
    shifted = own * xp.cos(delta) + turn * partner * xp.sin(delta)
    if name == "j1":
        shifted = shifted * xp.sign(d[far])
    value = xp.array(value, copy=True)
    value[far] = shifted
    return value
