"""The matrix exponential kernel, on arrays: PyTorch's algorithm, step for step.

NOTE [PyTorch's matrix exponential]
PyTorch does not use the classic Padé approximant: it evaluates optimized Taylor polynomials of
degree 1, 2, 4, 8, 12 or 18 (Bader, Blanes and Casas, "Computing the matrix exponential with an
optimized Taylor polynomial approximation", Mathematics 7, 2019), picked per matrix by its
1-norm, with scaling and squaring above the degree-18 bound; all of it in the input's dtype.
In float32 the rounding errors of an algorithm are amplified by the squarings, so a more
accurate algorithm (double-precision Padé) gives visibly different float32 results: ember
repeats PyTorch's steps, in the same dtype and order, to give its values.

Linear combinations of the powers accumulate term by term (`out += c_j·A_j`, zero
coefficients included), as PyTorch's kernel does.

PyTorch's float16/bfloat16 results are not meaningful: its float16 exp(0) is -21072·I and
ordinary matrices come out all NaN. Its source runs the double-precision scheme on 16-bit
tensors and wraps the double coefficient tables with `from_blob` in the tensor's dtype, so
they are read as 16-bit words; ember does the same, which gives PyTorch's NaN for ordinary
inputs but not its values for tiny norms.
"""

from ember._backend import get_array_module, quiet, xp

# 1-norm bounds up to which each Taylor degree (1, 2, 4, 8, 12, 18) is accurate
_THETAS = {
    4: (1.192092800768788e-07, 5.978858893805233e-04, 5.116619363445086e-02,
        5.800524627688768e-01, 1.461661507209034e+00, 3.010066362817634e+00),
    8: (2.220446049250313e-16, 2.580956802971767e-08, 3.397168839976962e-04,
        4.991228871115323e-02, 2.996158913811580e-01, 1.090863719290036e+00),
}



def _t8_coeffs(real):
    """x1, x2, x3, x4, x5, x6, x7, y2 of the degree-8 scheme. PyTorch declares √177 and x3 in
    the working precision and derives the rest from them (in double), so in float32 they
    carry float32's rounding of √177 (y2 by 3e-4 relative). x7 has the second x3 that
    PyTorch's fix of its degree-8 scheme added (pytorch/pytorch#196658)."""
    sqrt_177, x3 = 0.1330413469565007072504e+2, 2.0 / 3.0
    if real.itemsize == 4:
        sqrt_177, x3 = float(xp.float32(sqrt_177)), float(xp.float32(x3))
    return (x3 * ((1.0 + sqrt_177) / 88.0), x3 * ((1.0 + sqrt_177) / 352.0), x3,
            (-271.0 + 29.0 * sqrt_177) / (315.0 * x3), (-11.0 + 11.0 * sqrt_177) / (1260.0 * x3),
            (-99.0 + 11.0 * sqrt_177) / (5040.0 * x3), (89.0 - sqrt_177) / (5040.0 * x3 * x3),
            (857.0 - 58.0 * sqrt_177) / 630.0)


_T12 = ((9.0198e-16, 0.46932117595418237389, -0.20099424927047284052, -0.04623946134063071740),
        (5.31597895759871264183, 1.19926790417132231573, 0.01179296240992997031,
         0.01108844528519167989),
        (0.18188869982170434744, 0.05502798439925399070, 0.09351590770535414968,
         0.00610700528898058230),
        (-2.0861320e-13, -0.13181061013830184015, -0.02027855540589259079,
         -0.00675951846863086359))
_T18 = ((0.0, -1.00365581030144618291e-01, -8.02924648241156932449e-03,
         -8.92138498045729985177e-04, 0.0),
        (0.0, 3.97849749499645077844e-01, 1.36783778460411720168e+00,
         4.98289622525382669416e-01, -6.37898194594723280150e-04),
        (-1.09676396052962061844e+01, 1.68015813878906206114e+00, 5.71779846478865511061e-02,
         -6.98210122488052056106e-03, 3.34975017086070470649e-05),
        (-9.04316832390810593223e-02, -6.76404519071381882256e-02, 6.75961301770459654925e-02,
         2.95552570429315521194e-02, -1.39180257516060693404e-05),
        (0.0, 0.0, -9.23364619367118555360e-02, -1.69364939002081722752e-02,
         -1.40086798182036094347e-05))


# NOTE [Small bmm sums in order]
# PyTorch's CPU bmm multiplies small matrices (k·n·m < 400) with a plain loop that adds the
# products in order, k = 0, 1, ..., without fused multiply-adds; larger ones go to BLAS, whose
# fused sums NumPy's matmul gives bit for bit. Every product of the matrix exponential,
# squarings included, is such a batched product, and the squarings amplify each rounding
# difference, so the kernel takes the same route as PyTorch.
class _Kernel:
    """The arithmetic of one dtype: its coefficient reading, products and sums."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.real = xp.empty(0, dtype=dtype).real.dtype
        self.half = self.real.itemsize == 2

    def coeffs(self, values):
        """The coefficients as PyTorch holds them (16-bit: the doubles' bytes reread)."""
        doubles = xp.asarray(values, dtype=xp.float64)
        if self.half:
            return doubles.reshape(-1).view(self.real)[:doubles.size].reshape(doubles.shape)
        return doubles.astype(self.real)

    def matmul(self, a, b):
        """a @ b through BLAS (NumPy's matmul); 16-bit dtypes accumulate in float32 and round
        once."""
        if self.half:
            return xp.matmul(a.astype(xp.float32), b.astype(xp.float32)).astype(self.dtype)
        return xp.matmul(a, b)

    def bmm(self, a, b):
        """a @ b of batches of matrices (PyTorch's bmm; NOTE [Small bmm sums in order])."""
        n, k, m = a.shape[-2], a.shape[-1], b.shape[-1]
        if n * k * m >= 400:
            return self.matmul(a, b)
        work = xp.float32 if self.half else self.dtype
        a, b = a.astype(work), b.astype(work)
        out = xp.zeros(a.shape[:-1] + (m,), dtype=work)
        for j in range(k):
            out = out + a[..., :, j:j + 1] * b[..., j:j + 1, :]
        return out.astype(self.dtype)

    def total(self, terms):
        """Σ terms (a sum reduction: 16-bit dtypes accumulate in float32 and round once)."""
        work = xp.float32 if self.half else self.dtype
        out = terms[0].astype(work)
        for t in terms[1:]:
            out = out + t.astype(work)
        return out.astype(self.dtype)

    def combine(self, powers, coeffs):
        """Σ_j coeffs[j]·powers[j], one term at a time, for each row of coeffs."""
        rows = []
        for row in xp.atleast_2d(coeffs):
            out = xp.zeros_like(powers[0])
            for c, p in zip(row, powers):
                out = out + c * p
            rows.append(out)
        return rows


def _powers(k, a, count):
    """[I, A, A², A³, A⁶][:count]."""
    eye = xp.broadcast_to(get_array_module(a).eye(a.shape[-1], dtype=a.dtype), a.shape)
    out = [eye, a]
    if count > 2:
        out.append(k.bmm(a, a))
    if count > 3:
        out.append(k.bmm(a, out[2]))
    if count > 4:
        out.append(k.bmm(out[3], out[3]))
    return out


def _t1(k, a):
    return k.total(_powers(k, a, 2))


def _t2(k, a):
    eye, a1, a2 = _powers(k, a, 3)
    return k.total([eye, a1, a2 / a.dtype.type(2.0)])


def _t4(k, a):
    p = _powers(k, a, 3)
    (inner,) = k.combine(p, k.coeffs([1 / 2.0, 1 / 6.0, 1 / 24.0]))
    p.append(k.bmm(p[2], inner))
    (out,) = k.combine(p, k.coeffs([1.0, 1.0, 0.0, 1.0]))
    return out


def _t8(k, a):
    x1, x2, x3, x4, x5, x6, x7, y2 = _t8_coeffs(k.real)
    p = _powers(k, a, 3)
    (mix,) = k.combine(p[1:3], k.coeffs([x1, x2]))
    p.append(k.bmm(p[2], mix))  # A4
    (left,) = k.combine(p[2:4], k.coeffs([x3, 1.0]))
    (right,) = k.combine(p[:4], k.coeffs([x4, x5, x6, x7]))
    p.append(k.bmm(left, right))  # A8
    (out,) = k.combine(p, k.coeffs([1.0, 1.0, y2, 0.0, 1.0]))
    return out


def _t12(k, a):
    b = k.combine(_powers(k, a, 4), k.coeffs(_T12))
    b[2] = b[2] + k.bmm(b[3], b[3])
    return b[0] + k.bmm(b[1] + b[2], b[2])


def _t18(k, a):
    b = k.combine(_powers(k, a, 5), k.coeffs(_T18))
    b[3] = b[3] + k.bmm(b[0], b[4])
    return b[1] + k.bmm(b[2] + b[3], b[3])


def _t18_scaled(k, a, norm, theta):
    """exp(A) = T18(A / 2^s)^(2^s), s the least power that brings the norm under theta."""
    with xp.errstate(divide="ignore"):
        s = xp.maximum(0, xp.ceil(xp.log2(norm / norm.dtype.type(theta)))).astype(xp.int64)
    r = _t18(k, a / (2 ** s)[:, None, None].astype(a.dtype))
    for step in range(int(xp.max(s, initial=0))):
        r = xp.where((step < s)[:, None, None], k.bmm(r, r), r)
    return r


def expm(a):
    """exp(A) of each square matrix of a (..., n, n) array, as PyTorch computes it."""
    with quiet():  # large norms overflow to inf and NaN, as in PyTorch
        return _expm(a)


def _expm(a):
    if a.size == 0:
        return a.copy()
    if a.shape[-1] == 1:
        return xp.exp(a)
    k = _Kernel(a.dtype)
    flat = a.reshape((-1,) + a.shape[-2:])
    thetas = _THETAS[8 if k.real.itemsize == 8 else 4]
    sums = xp.sum(xp.abs(flat), axis=-2, dtype=xp.float32 if k.half else None)
    norm = xp.max(sums.astype(k.real), axis=-1)
    out = xp.full_like(flat, xp.nan)  # a NaN norm matches no degree (PyTorch: uninitialised)
    low = -1.0
    for theta, degree in zip(thetas[:5], (_t1, _t2, _t4, _t8, _t12)):
        pick = (norm > low) & (norm <= theta)
        if pick.any():
            out[pick] = degree(k, flat[pick])
        low = theta
    pick = norm >= thetas[4]
    if pick.any():
        out[pick] = _t18_scaled(k, flat[pick], norm[pick], thetas[5])
    return out.reshape(a.shape)

