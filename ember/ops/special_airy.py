"""torch.special.airy_ai as PyTorch computes it (Cephes' `airy`): SciPy's Ai inside, PyTorch's
own branches outside -- x > 103.892 gives 0, ±inf gives NaN, and below -2.09 the oscillating
asymptotic series, evaluated in the input's dtype (float32 included, where the phase of a large
|x| is far from float64's) with the C library's sin and cos. SciPy returns NaN for very large
|x| where PyTorch still returns the series' value.
"""

import math

from ember import _scipy
from ember._backend import xp
from ember._rng.libm import call_c

# Cephes' rational approximations of the modulus (AFN/AFD) and phase (AGN/AGD) corrections
_AFN = (-0.1316963234183318, -0.6264565444319123, -0.6931580360369335, -0.2797799815451191,
        -0.04919001326095003, -0.004062659235948854, -0.0001592764962392621,
        -2.776491081552329e-06, -1.6778769848911465e-08)
_AFD = (13.356042070655324, 32.682503279522464, 26.736704094149957, 9.187074029072596,
        1.4752914677166642, 0.11568717379518804, 0.004402916416152112, 7.547203482874142e-05,
        4.5185009297058035e-07)
_AGN = (0.01973399320916857, 0.39110302961568827, 1.0657989759959559, 0.9391692298166502,
        0.35146565610554764, 0.06338889196289255, 0.005858041130483885, 0.000282851600836737,
        6.98793669997261e-06, 8.117892395543892e-08, 3.415517847659236e-10)
_AGD = (9.30892908077442, 19.835292871831214, 15.564662893286462, 5.476860694229755,
        0.9542936116189619, 0.08645808263523921, 0.004126565238242226, 0.00010125908511650914,
        1.1716673321441352e-06, 4.9183457006293e-09)


def _horner(coefficients, w):
    """Σ cᵢ·w^(n-i) by Horner's rule, in w's dtype."""
    total = xp.zeros_like(w)
    for c in coefficients:
        total = total * w + w.dtype.type(c)
    return total


def _oscillating(x):
    """Ai(x) for x < -2.09: (1/√π)·|x|^(-1/4)·(sin t·(1 + z²·F(z²)) - cos t·z·G(z²)),
    t = ζ + π/4, ζ = 2|x|^(3/2)/3, z = 1/ζ (all in x's dtype)."""
    one = x.dtype.type
    root = xp.sqrt(-x)
    zeta = one(-2.0) * x * root / one(3.0)
    z = one(1.0) / zeta
    w = z * z
    modulus = one(1.0) + w * _horner(_AFN, w) / _horner(_AFD, w)
    phase = z * _horner(_AGN, w) / _horner(_AGD, w)
    t = zeta + one(0.25 * math.pi)
    return (one(5.64189583547756286948e-01) / xp.sqrt(root)
            * (call_c("sin", t) * modulus - call_c("cos", t) * phase))


def airy_ai_array(d):
    """PyTorch's Ai of a float32 or float64 array."""
    out = xp.asarray(_scipy.function("airy")(d)[0], dtype=d.dtype)
    out = xp.where(d > 103.892, 0, out)
    out = xp.where(xp.isinf(d), xp.nan, out)
    low = d < -2.09
    if low.any():
        out = xp.array(out, copy=True)
        out[low] = _oscillating(d[low])
    return out.astype(d.dtype, copy=False)
