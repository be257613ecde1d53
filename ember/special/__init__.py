"""ember.special: the special functions of `torch.special` (matches `torch.special`).

Most are ops defined with their family in ember/ops (the gamma and Bessel functions in
`unary_special`, xlogy/zeta/igamma in `elementwise_ext`, erf in `unary`); this namespace gives
them torch.special's names (`gammaln` for `lgamma`, `expit` for `sigmoid`, ...) and `out=`.
Functions NumPy lacks need SciPy (`pip install ember[scipy]`, see ember/_scipy.py).
"""

import types as _types

from ember._registry import tensor_arguments as _tensor_arguments, with_out
from ember._tensor import short_name
from ember.ops import elementwise_ext as _binary
from ember.ops import unary as _unary
from ember.ops import unary_ext as _unary_ext
from ember.ops import unary_special as _sp
from ember.ops._out_rules import copied, nondifferentiable
from ember.ops.extrema import logsumexp as _logsumexp
from ember.ops.softmax import log_softmax as _log_softmax, softmax as _softmax
from ember.special._polynomials import polynomial as _polynomial

# ---- the erf and exp families ------------------------------------------------------------------
erf = with_out(_unary.erf)
erfc = with_out(_unary_ext.erfc)
erfcx = with_out(_sp.erfcx)
erfinv = with_out(_unary.erfinv)
exp2 = with_out(_unary_ext.exp2)
expm1 = with_out(_unary.expm1)
log1p = with_out(_unary.log1p)
expit = with_out(_unary.sigmoid)
logit = with_out(_unary_ext.logit)
sinc = with_out(_unary_ext.sinc)
entr = with_out(_sp.entr)


@with_out
def round(input, *, decimals=0):
    """Round half to even (matches `torch.special.round`); unlike `torch.round`, PyTorch has no
    kernel for integer or bool tensors here."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f'"round_vml_cpu" not implemented for \'{short_name(input.dtype)}\'')
    return _unary.round(input, decimals=decimals)



# ---- the normal distribution -------------------------------------------------------------------
ndtr = with_out(_sp.ndtr, copied())
ndtri = with_out(_sp.ndtri)
log_ndtr = with_out(_sp.log_ndtr)

# ---- the gamma family --------------------------------------------------------------------------
digamma = psi = with_out(_sp.digamma)
gammaln = with_out(_sp.lgamma)
polygamma = with_out(_sp.polygamma)
multigammaln = with_out(_sp.mvlgamma)
gammainc = with_out(_binary.igamma)
gammaincc = with_out(_binary.igammac)
zeta = with_out(_binary.zeta)
xlogy = with_out(_binary.xlogy)
xlog1py = with_out(_binary.xlog1py)

# ---- Bessel and Airy functions -----------------------------------------------------------------
i0 = with_out(_sp.i0)
i0e = with_out(_sp.i0e)
i1 = with_out(_sp.i1)
i1e = with_out(_sp.i1e)
airy_ai = with_out(_sp.airy_ai, nondifferentiable)
bessel_j0 = with_out(_sp.bessel_j0, nondifferentiable)
bessel_j1 = with_out(_sp.bessel_j1, nondifferentiable)
bessel_y0 = with_out(_sp.bessel_y0, nondifferentiable)
bessel_y1 = with_out(_sp.bessel_y1, nondifferentiable)
modified_bessel_i0 = with_out(_sp.modified_bessel_i0, nondifferentiable)
modified_bessel_i1 = with_out(_sp.modified_bessel_i1, nondifferentiable)
modified_bessel_k0 = with_out(_sp.modified_bessel_k0, nondifferentiable)
modified_bessel_k1 = with_out(_sp.modified_bessel_k1, nondifferentiable)
scaled_modified_bessel_k0 = with_out(_sp.scaled_modified_bessel_k0, nondifferentiable)
scaled_modified_bessel_k1 = with_out(_sp.scaled_modified_bessel_k1, nondifferentiable)
spherical_bessel_j0 = with_out(_sp.spherical_bessel_j0, nondifferentiable)


# ---- reductions along a dim --------------------------------------------------------------------
def softmax(input, dim, *, dtype=None):
    """exp(x)/Σexp(x) along dim (matches `torch.special.softmax`)."""
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """log(softmax(x)) along dim (matches `torch.special.log_softmax`)."""
    return _log_softmax(input, dim, dtype=dtype)


@with_out
def logsumexp(input, dim, keepdim=False):
    """log Σ exp(x) along dim (matches `torch.special.logsumexp`)."""
    return _logsumexp(input, dim, keepdim)


# ---- orthogonal polynomials --------------------------------------------------------------------
def _nondifferentiable_out(fn):
    """fn with `out=`, which may require grad: torch has no derivative for fn."""
    return with_out(fn, nondifferentiable)


@_nondifferentiable_out
def chebyshev_polynomial_t(input, n):
    """The Chebyshev polynomial of the first kind Tₙ(input) (matches
    `torch.special.chebyshev_polynomial_t`)."""
    return _polynomial("chebyshev_polynomial_t", input, n)


@_nondifferentiable_out
def chebyshev_polynomial_u(input, n):
    """The Chebyshev polynomial of the second kind Uₙ(input) (matches
    `torch.special.chebyshev_polynomial_u`)."""
    return _polynomial("chebyshev_polynomial_u", input, n)


@_nondifferentiable_out
def chebyshev_polynomial_v(input, n):
    """The Chebyshev polynomial of the third kind Vₙ(input) (matches
    `torch.special.chebyshev_polynomial_v`)."""
    return _polynomial("chebyshev_polynomial_v", input, n)


@_nondifferentiable_out
def chebyshev_polynomial_w(input, n):
    """The Chebyshev polynomial of the fourth kind Wₙ(input) (matches
    `torch.special.chebyshev_polynomial_w`)."""
    return _polynomial("chebyshev_polynomial_w", input, n)


@_nondifferentiable_out
def shifted_chebyshev_polynomial_t(input, n):
    """Tₙ(2·input - 1) (matches `torch.special.shifted_chebyshev_polynomial_t`)."""
    return _polynomial("chebyshev_polynomial_t", input, n, shifted=True)


@_nondifferentiable_out
def shifted_chebyshev_polynomial_u(input, n):
    """Uₙ(2·input - 1) (matches `torch.special.shifted_chebyshev_polynomial_u`)."""
    return _polynomial("chebyshev_polynomial_u", input, n, shifted=True)


@_nondifferentiable_out
def shifted_chebyshev_polynomial_v(input, n):
    """Vₙ(2·input - 1) (matches `torch.special.shifted_chebyshev_polynomial_v`)."""
    return _polynomial("chebyshev_polynomial_v", input, n, shifted=True)


@_nondifferentiable_out
def shifted_chebyshev_polynomial_w(input, n):
    """Wₙ(2·input - 1) (matches `torch.special.shifted_chebyshev_polynomial_w`)."""
    return _polynomial("chebyshev_polynomial_w", input, n, shifted=True)


@_nondifferentiable_out
def hermite_polynomial_h(input, n):
    """The physicists' Hermite polynomial Hₙ(input) (matches
    `torch.special.hermite_polynomial_h`)."""
    return _polynomial("hermite_polynomial_h", input, n)


@_nondifferentiable_out
def hermite_polynomial_he(input, n):
    """The probabilists' Hermite polynomial Heₙ(input) (matches
    `torch.special.hermite_polynomial_he`)."""
    return _polynomial("hermite_polynomial_he", input, n)


@_nondifferentiable_out
def laguerre_polynomial_l(input, n):
    """The Laguerre polynomial Lₙ(input) (matches `torch.special.laguerre_polynomial_l`)."""
    return _polynomial("laguerre_polynomial_l", input, n)


@_nondifferentiable_out
def legendre_polynomial_p(input, n):
    """The Legendre polynomial Pₙ(input) (matches `torch.special.legendre_polynomial_p`)."""
    return _polynomial("legendre_polynomial_p", input, n)


# A non-tensor input raises torch's TypeError (NOTE [Not a tensor is a TypeError]).
for _name, _fn in list(globals().items()):
    if not _name.startswith("_") and isinstance(_fn, _types.FunctionType):
        globals()[_name] = _tensor_arguments(_fn)
del _name, _fn
