"""PyTorch's approximations of the reparameterised gradients of Gamma and Beta draws
(aten/src/ATen/native/Distributions.h: `standard_gamma_grad_one`, `dirichlet_grad_one`).

NOTE [Reparameterised gradients of Gamma and Beta draws]
A draw x = F⁻¹(u; α) at fixed u has dx/dα = -∂F(x; α)/∂α / p(x; α), which has no closed form.
torch's CPU kernels approximate it per element by regions: for Gamma a Taylor series for small
x, a Rice saddle-point expansion for large α and a fitted bivariate rational function
elsewhere; for Beta (the Dirichlet's marginals) Taylor series near x = 0 and x = 1, a saddle
point for large α and β and a rational correction of an analytic approximation elsewhere.
Their error is up to ~1e-3 relative, so an exact gradient is not torch's: ember evaluates the
same formulas on whole arrays, each region's where it applies. torch computes them in double
(a few of the Beta ones in the input's dtype: computed here in double, as accurate or more).
"""

from ember._backend import quiet, xp

_f64 = xp.float64
_F32 = {v: float(xp.float32(v)) for v in (0.8, 0.9, 1.1)}  # torch's float literals (0.8f)
_PSI_10 = 2.25175258906672110764
_DIGAMMA_A = (8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
              -4.16666666666666666667E-3, 3.96825396825396825397E-3,
              -8.33333333333333333333E-3, 8.33333333333333333333E-2)
_GAMMA_UV = ((0.16009398, -0.094634809, 0.025146376, -0.0030648343,
              1, 0.32668115, 0.10406089, 0.0014179084),
             (0.53487893, 0.1298071, 0.065735949, -0.0015649758,
              0.16639465, 0.020070113, -0.0035938915, -0.00058392623),
             (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777,
              0.017050642, -0.0021309326, 0.00085092367, -1.5247877e-07))
_BETA_C = xp.array([
    [[[1.003668233, -0.01061107488, -0.0657888334, 0.01201642863],
      [0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033],
      [-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013]],
     [[0.221950385, -0.3187676331, 0.01799915743, 0.01074823814],
      [-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057],
      [0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05]],
     [[-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565],
      [0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181],
      [0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05]]],
    [[[1, -0.02924021934, -0.04438342661, 0.007285809825],
      [0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521],
      [-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149]],
     [[0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273],
      [0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956],
      [-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05]],
     [[0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05],
      [0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05],
      [-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06]]]])


def digamma(x, dtype=_f64):
    """torch's `digamma_one<dtype, double>` of positive values: recurrence up to 10 (x and
    1/x in dtype, the sum in double), then the asymptotic series (ψ(10) exactly at 10)."""
    x = xp.array(x, dtype=dtype)
    result = xp.zeros(x.shape, dtype=_f64)
    for _ in range(10):  # (x > 0 reaches 10 in at most ten steps)
        low = x < 10
        if not low.any():
            break
        result[low] -= 1 / x[low]
        x[low] += 1
    z = 1.0 / (x * x).astype(_f64)
    series = xp.full_like(z, _DIGAMMA_A[0])
    for a in _DIGAMMA_A[1:]:
        series = series * z + a
    y = xp.where(x < 1e17, z * series, 0.0)
    out = result + _log(x) - (0.5 / x) - y
    return xp.where(x == 10, result + _PSI_10, out).astype(dtype)


def _log(x):
    """log of x in its dtype, float32 as glibc's logf rounds it (through double: NumPy's own
    float32 log is a last bit off at times, which the digamma differences amplify)."""
    return xp.log(x) if x.dtype == _f64 else xp.log(x.astype(_f64)).astype(x.dtype)


def _pow(x, y):
    """x**y in x's dtype, float32 as glibc's powf rounds it (through double)."""
    if x.dtype == _f64:
        return x ** y
    return (x.astype(_f64) ** xp.asarray(y, dtype=x.dtype).astype(_f64)).astype(x.dtype)


def _no_nan(values):
    """torch's `isnan(result) ? 0 : result` of the series regions."""
    return xp.where(xp.isnan(values), 0.0, values)


# ---- Gamma ---------------------------------------------------------------------------------
def standard_gamma_grad(alpha, x):
    """dx/dα of Gamma(α, 1) draws x, in alpha's dtype (torch's `_standard_gamma_grad`)."""
    a, v = xp.asarray(alpha, dtype=_f64), xp.asarray(x, dtype=_f64)
    with quiet():
        result = xp.where(v < _F32[0.8], _gamma_small_x(a, v),
                          xp.where(a > 8, _gamma_large_alpha(a, v), _gamma_rational(a, v)))
    return result.astype(xp.asarray(alpha).dtype)


def _gamma_small_x(a, v):
    """A Taylor series of the CDF for small x."""
    numer, denom = xp.ones_like(v), a.copy()
    series1, series2 = 1 / denom, 1 / (denom * denom)
    for i in range(1, 6):
        numer = numer * (-v / i)
        denom = denom + 1
        series1 = series1 + numer / denom
        series2 = series2 + numer / (denom * denom)
    pow_x_alpha = v ** a
    pdf = v ** (a - 1) * xp.exp(-v)
    cdf = pow_x_alpha * series1
    cdf_alpha = (xp.log(v) - digamma(a)) * cdf - pow_x_alpha * series2
    return _no_nan(-cdf_alpha / pdf)


def _gamma_large_alpha(a, v):
    """Rice's saddle-point expansion for α > 8 (its own form within 10% of α)."""
    numer_1 = 1 + 24 * a * (1 + 12 * a)
    numer_2 = 1440 * (a * a) + 6 * v * (53 - 120 * v) - 65 * v * v / a + a * (107 + 3600 * v)
    near = numer_1 * numer_2 / (1244160 * (a * a) * (a * a))
    denom = xp.sqrt(8 * a)
    term2 = denom / (a - v)
    term3 = (v - a - a * xp.log(v / a)) ** -1.5
    term23 = xp.where(v < a, term2 - term3, term2 + term3)
    term1 = xp.log(v / a) * term23 - xp.sqrt(2 / a) * (a + v) / ((a - v) * (a - v))
    stirling = 1 + 1 / (12 * a) * (1 + 1 / (24 * a))
    far = -stirling * (v * term1) / denom
    return xp.where((_F32[0.9] * a <= v) & (v <= _F32[1.1] * a), near, far)


def _gamma_rational(a, v):
    """The fitted rational function of (log(x/α), log α)."""
    u, w = xp.log(v / a), xp.log(a)
    c = [_GAMMA_UV[0][i] + u * (_GAMMA_UV[1][i] + u * _GAMMA_UV[2][i]) for i in range(8)]
    p = c[0] + w * (c[1] + w * (c[2] + w * c[3]))
    q = c[4] + w * (c[5] + w * (c[6] + w * c[7]))
    return xp.exp(p / q)


# ---- Beta (Dirichlet) ----------------------------------------------------------------------
def dirichlet_grad(x, alpha, total):
    """-∂I(x; α, β)/∂α / p(x; α, β) / (1 - x) for Beta(α, total - α) draws x, in x's dtype
    (torch's `_dirichlet_grad`)."""
    dtype = xp.asarray(x).dtype
    xs, as_, ts = (xp.asarray(t, dtype=dtype) for t in (x, alpha, total))
    beta_s = ts - as_
    boundary = ts * xs * (1 - xs)  # (the regions are chosen in the input's dtype)
    near0 = (xs <= 0.5) & (boundary < 2.5)
    near1 = ~near0 & (xs >= 0.5) & (boundary < 0.75)
    mid = ~near0 & ~near1 & (as_ > 6) & (beta_s > 6)
    v, a, t = (xp.asarray(s, dtype=_f64) for s in (xs, as_, ts))
    with quiet():  # the series near 0 and 1 in x's dtype, the others in double (as torch)
        result = xp.where(near0, _beta_grad_alpha_small(xs, as_, beta_s),
                          xp.where(near1, -_beta_grad_beta_small(1 - xs, beta_s, as_),
                                   xp.where(mid, _beta_grad_alpha_mid(v, a, t - a),
                                            _beta_rational(v, a, t, t - a, dtype))))
    return result.astype(dtype)


def _beta_grad_alpha_small(v, a, b):
    """A Taylor expansion for x near 0."""
    factor = digamma(a, v.dtype) - digamma(a + b, v.dtype) - _log(v)
    numer = xp.ones_like(v)
    series = numer / a * (factor + 1 / a)
    for i in range(1, 11):
        numer = numer * ((i - b) * v / i)
        denom = a + i
        series = series + numer / denom * (factor + 1 / denom)
    return _no_nan(v * _pow(1 - v, -b) * series)


def _beta_grad_beta_small(v, a, b):
    """The gradient in β for x near 0 (torch's form for x near 1, reflected)."""
    factor = digamma(a + b, v.dtype) - digamma(b, v.dtype)
    numer, betas, dbetas = xp.ones_like(v), xp.ones_like(v), xp.zeros_like(v)
    series = factor / a
    for i in range(1, 9):
        numer = numer * (-v / i)
        dbetas = dbetas * (b - i) + betas
        betas = betas * (b - i)
        series = series + numer / (a + i) * (dbetas + factor * betas)
    return _no_nan(-_pow(1 - v, 1 - b) * series)


def _beta_grad_alpha_mid(v, a, b):
    """Rice's saddle point for large α and β (a polynomial within 0.1 std of the mean)."""
    total = a + b
    mean = a / total
    std = xp.sqrt(a * b / (total + 1)) / total
    poly = 47 * v * (b * b) * (b * b) + a * (
        (43 + 20 * (16 + 27 * b) * v) * (b * b) * b + a * (
            3 * (59 + 180 * b - 90 * v) * (b * b) + a * (
                (453 + 1620 * b * (1 - v) - 455 * v) * b + a * (8 * (1 - v) * (135 * b - 11)))))
    prefactor_num = (1 + 12 * a) * (1 + 12 * b) / (total * total)
    prefactor_den = 12960 * a * a * a * b * b * (1 + 12 * total)
    at_mean = prefactor_num / (1 - v) * poly / prefactor_den
    prefactor = -v / xp.sqrt(2 * a * b / total)
    stirling = ((1 + 1 / (12 * a) + 1 / (288 * a * a)) * (1 + 1 / (12 * b) + 1 / (288 * b * b))
                / (1 + 1 / (12 * total) + 1 / (288 * total * total)))
    term1_num = 2 * (a * a) * (v - 1) + a * b * (v - 1) - v * (b * b)
    axbx = a * (v - 1) + b * v
    term1 = term1_num / (xp.sqrt(2 * a / b) * total ** 1.5 * axbx * axbx)
    term2 = 0.5 * xp.log(a / (total * v))
    term3 = xp.sqrt(8 * a * b / total) / (b * v + a * (v - 1))
    term4 = (b * xp.log(b / (total * (1 - v))) + a * xp.log(a / (total * v))) ** -1.5
    term1234 = term1 + term2 * (term3 + xp.where(v < mean, term4, -term4))
    near = (mean - 0.1 * std <= v) & (v <= mean + 0.1 * std)
    return xp.where(near, at_mean, stirling * prefactor * term1234)


def _beta_rational(v, a, t, b, dtype):
    """A rational correction (in log x, log α - log x, log total - that) of an analytic
    approximation (its digammas in the input's dtype, as torch's)."""
    u = xp.log(v)
    la = xp.log(a) - u
    lb = xp.log(t) - la
    powers_u, powers_a = (1, u, u * u), (1, la, la * la)
    p = q = 0.0
    for i in range(3):
        for j in range(3):
            ua = powers_u[i] * powers_a[j]
            cp, cq = _BETA_C[0, i, j], _BETA_C[1, i, j]
            p = p + ua * (cp[0] + lb * (cp[1] + lb * (cp[2] + lb * cp[3])))
            q = q + ua * (cq[0] + lb * (cq[1] + lb * (cq[2] + lb * cq[3])))
    approx = v * (digamma(t, dtype).astype(_f64) - digamma(a, dtype).astype(_f64)) / b
    return p / q * approx
