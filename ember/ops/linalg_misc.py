"""The rest of torch.linalg and the top-level products: matrix_exp, matrix_power, multi_dot
(chain_matmul), householder_product, cross, vecdot, vander (linalg's and torch's), kron, cdist,
addr and addbmm.

matrix_exp and cross are ops with their own backward; the others are compositions of ember ops
(matmul, cumprod, norms, ...), which gives their gradients.
"""

import math

from ember._warnings import warn_once
from ember import _dtype
from ember._autocast import float32_inputs, lower_precision
from ember._backend import get_array_module, xp
from ember._registry import op
from ember.ops._out_rules import addbmm_out
from ember._schemas import Parser
from ember._tensor import Tensor, short_name, wrap_dim
from ember.autograd.function import Op
from ember.ops._bool_products import refuse_bool_product
from ember.ops._util import alpha_check, as_operand, broadcast_error
from ember.ops.broadcast import sum_to
from ember.ops.comparison import where
from ember.ops.joins import cat
from ember.ops.linalg import _check_scalars_fit, matmul, outer, scaled_grads
from ember.ops.linalg_expm import expm
from ember.ops.linalg_core import check_float, check_square, identity_like, mH, size_at
from ember.ops.linalg_norms import vector_norm
from ember.ops.linalg_solve import inv
from ember.ops.reduction import cumprod

# ---- matrix exponential ----------------------------------------------------------------------
class MatrixExp(Op):
    """Y = exp(A);  gA = the top-right block of exp([[Aᴴ, gY], [0, Aᴴ]]) (the Fréchet derivative
    of exp at Aᴴ in the direction gY, Mathias 1996)."""

    node_name = "LinalgMatrixExpBackward0"

    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        return expm(A._data)  # NOTE [PyTorch's matrix exponential] (ops/linalg_expm.py)

    @staticmethod
    def backward(ctx, gy):
        (A,) = ctx.saved_tensors
        n = A._data.shape[-1]
        at = mH(A)
        top = cat((at, gy), -1)
        bottom = cat((at.new_zeros(at.shape), at), -1)
        return MatrixExp.apply(cat((top, bottom), -2))[..., :n, n:]


@op(method=True)
def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential of each square matrix (matches `torch.linalg.matrix_exp`)."""
    if A.dtype.is_floating_point and A._data.dtype.itemsize == 2:  # torch has 16-bit kernels
        if A._data.ndim < 2:
            raise RuntimeError("linalg.matrix_exp: The input tensor A must have at least 2 "
                               "dimensions.")
        if A._data.shape[-1] != A._data.shape[-2]:
            raise RuntimeError(f"linalg.matrix_exp: A must be batches of square matrices, but "
                               f"they are {A._data.shape[-2]} by {A._data.shape[-1]} matrices")
    else:
        check_square(A, "linalg.matrix_exp", complex_ok=True)
    return MatrixExp.apply(A)


# ---- powers and chains of products -----------------------------------------------------------
@op(method=True, out=True)
def matrix_power(A: Tensor, n: int) -> Tensor:
    """A to the integer power n, by repeated squaring; negative n inverts first (matches
    `torch.linalg.matrix_power`)."""
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 "
                           "dimensions.")
    rows, cols = A._data.shape[-2:]
    if rows != cols:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they "
                           f"are {rows} by {cols} matrices")
    if n == 0:  # PyTorch copies I into a clone of A: A's gradient is zeros
        eye = identity_like(A, rows).expand(A._data.shape)
        return _constant_of(eye.clone(), A)
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def _chain_order(dims):
    """The cheapest parenthesisation of a matrix chain: split[i][j] for the product i..j."""
    count = len(dims) - 1
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain_product(mats, split, i, j):
    if i == j:
        return mats[i]
    k = split[i][j]
    return matmul(_chain_product(mats, split, i, k), _chain_product(mats, split, k + 1, j))


def multi_dot(tensors) -> Tensor:
    """The product of a chain of matrices in the cheapest order; the first and last may be
    vectors (matches `torch.linalg.multi_dot`)."""
    tensors = list(tensors)
    count = len(tensors)
    if count < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {count}")
    for i, t in enumerate(tensors):
        ndim = t._data.ndim
        if i in (0, count - 1) and ndim not in (1, 2):
            which = "first" if i == 0 else "last"
            raise RuntimeError(f"multi_dot(): the {which} tensor must be 1D or 2D but got "
                               f"{ndim}D")
        if 0 < i < count - 1 and ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {ndim}D")
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor "
                               f"0 is {tensors[0].dtype.name.replace('32', '')} and tensor {i} "
                               f"{_ctype(t)}")
    first_vector, last_vector = tensors[0]._data.ndim == 1, tensors[-1]._data.ndim == 1
    mats = list(tensors)
    if first_vector:
        mats[0] = mats[0][None, :]
    if last_vector:
        mats[-1] = mats[-1][:, None]
    for i in range(count - 1):
        a, b = mats[i]._data.shape, mats[i + 1]._data.shape
        if a[1] != b[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(a)} and "
                               f"{list(b)} cannot be multiplied")
    dims = [m._data.shape[0] for m in mats] + [mats[-1]._data.shape[1]]
    y = _chain_product(mats, _chain_order(dims), 0, count - 1)
    if first_vector and last_vector:
        return y[0, 0]
    return y[0] if first_vector else y[:, 0] if last_vector else y


def _ctype(t: Tensor) -> str:
    """C++ type names in multi_dot's message (float, double, long int, ...)."""
    return {"float32": "float", "float64": "double"}.get(t.dtype.name, t.dtype.name)


@op(out=True)
def chain_matmul(*matrices) -> Tensor:
    """The product of 2-D matrices (matches `torch.chain_matmul`, deprecated in PyTorch)."""
    warn_once(  # (TORCH_WARN_ONCE)
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
        "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather "
        "than multiple parameters. (Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/"
        "native/LinearAlgebra.cpp:1102.)", UserWarning, stacklevel=2)
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    for t in matrices:
        if t._data.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {t._data.ndim}, expected 2 instead.")
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(matrices)


def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first n columns of H₁·H₂·…·H_k, H_i = I - τ_i·v_i·v_iᴴ with v_i the i-th column of
    A's strict lower part and a unit i-th entry (matches `torch.linalg.householder_product`)."""
    name = "torch.linalg.householder_product"
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    m, n = A._data.shape[-2:]
    if m < n:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    k = size_at(tau, -1)
    if n < k:
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    if tau._data.ndim != A._data.ndim - 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got "
                           f"tau.ndim equal to {tau._data.ndim} and input.ndim is equal to "
                           f"{A._data.ndim}")
    if tau._data.shape[:-1] != A._data.shape[:-2]:
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {list(tau._data.shape[:-1])}")
    if tau.dtype is not A.dtype:
        raise RuntimeError(f"{name}: tau dtype {short_name(tau.dtype)} does not match input "
                           f"dtype {short_name(A.dtype)}")
    if A.dtype.name not in ("float32", "float64", "complex64", "complex128"):
        raise NotImplementedError(f'"orgqr_cpu" not implemented for \'{short_name(A.dtype)}\'')
    module = get_array_module(A._data)
    v = A.tril(-1) + Tensor._make(module.eye(m, n, dtype=A._data.dtype))
    q = Tensor._make(xp.broadcast_to(module.eye(m, n, dtype=A._data.dtype),
                                     A._data.shape).copy())
    if k == 0:
        return _constant_of(q, A)
    for i in range(k - 1, -1, -1):
        vi = v[..., :, i:i + 1]
        q = q - (tau[..., i, None, None] * vi) * matmul(mH(vi), q)
    return q


# ---- cross, vecdot, vander, diagonal ---------------------------------------------------------
class Cross(Op):
    """y = a × b along `axis` (batch dims broadcast);  ga = conj(b) × gy,  gb = gy × conj(a)."""

    node_name = "LinalgCrossBackward0"

    @staticmethod
    def forward(ctx, a, b, axis):
        ctx.axis = axis
        ctx.save_for_backward(a, b)
        return xp.cross(a._data, b._data, axis=axis)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = sum_to(Cross.apply(b.conj(), gy, ctx.axis), a._data.shape) \
            if ctx.needs_input_grad[0] else None
        gb = sum_to(Cross.apply(gy, a.conj(), ctx.axis), b._data.shape) \
            if ctx.needs_input_grad[1] else None
        return ga, gb, None


def _cross(input: Tensor, other: Tensor, dim: int, name: str) -> Tensor:
    """torch's checks in its order: the shapes, then the kernel's (no bool input, whatever
    other's dtype; then the same dtype), then Cross."""
    a, b = input, other
    if a._data.ndim != b._data.ndim:
        raise RuntimeError(f"{name}: inputs must have the same number of dimensions.")
    axis = wrap_dim(dim, a._data.ndim)
    if a._data.shape[axis] != 3 or b._data.shape[axis] != 3:
        raise RuntimeError(f"{name}: inputs dimension {dim} must have length 3. Got "
                           f"{a._data.shape[axis]} and {b._data.shape[axis]}")
    try:
        xp.broadcast_shapes(a._data.shape, b._data.shape)
    except ValueError:
        raise broadcast_error(a._data.shape, b._data.shape) from None
    if a.dtype.name == "bool":
        raise NotImplementedError("\"cross\" not implemented for 'Bool'")
    _same_dtype_pair(a, b)
    return Cross.apply(a, b, axis)


def _same_dtype_pair(a: Tensor, b: Tensor):
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected scalar type {short_name(a.dtype)} but found "
                           f"{short_name(b.dtype)}")
    return a, b


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The 3-vector cross product along dim, broadcasting (matches `torch.linalg.cross`)."""
    return _cross(input, other, dim, "linalg.cross")


@op(method=True, out="exact")
def cross(input: Tensor, other: Tensor, dim=None) -> Tensor:
    """The cross product along dim, by default the first dim of size 3 (matches
    `torch.cross`)."""
    if dim is None:
        shape = xp.broadcast_shapes(input._data.shape, other._data.shape)
        sizes = [d for d, size in enumerate(shape) if size == 3]
        if not sizes:
            raise RuntimeError("no dimension of size 3 in input")
        warn_once("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                  "either pass the dim explicitly or simply use torch.linalg.cross.\nThe "
                  "default value of dim will change to agree with that of linalg.cross in a "
                  "future release. (Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/"
                  "native/Cross.cpp:63.)", UserWarning, stacklevel=2)
        dim = sizes[0]
    return _cross(input, other, dim, "linalg.cross")


@lower_precision
def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """Σ conj(x)·y along dim, broadcasting (matches `torch.linalg.vecdot`)."""
    if x.dtype.name != "float16":  # torch's vecdot has a float16 kernel
        check_float(x, "linalg.vecdot", complex_ok=True)
    if x.dtype is not y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found "
                           f"x of type {short_name(x.dtype)} and y of type {short_name(y.dtype)} "
                           "instead")
    if x._data.ndim == 1 and y._data.ndim == 1 and x._data.shape != y._data.shape:
        nx, ny = x._data.shape[0], y._data.shape[0]
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{nx}] and src [{ny}] to "
                           f"have the same number of elements, but got {nx} and {ny} elements "
                           "respectively")
    return (x.conj() * y).sum(dim)


def linalg_vander(x: Tensor, N=None) -> Tensor:
    """The Vandermonde matrix [1, x, x², …, x^(N-1)] of each vector (matches
    `torch.linalg.vander`)."""
    if x.dtype.name == "bool":
        raise RuntimeError("linalg.vander supports floating point, complex, and integer "
                           "tensors, but got Bool")
    if x._data.ndim == 0:
        x = x.reshape(1)
    N = x._data.shape[-1] if N is None else N
    if N <= 1:
        raise RuntimeError("N must be greater than 1.")
    column = x[..., None]
    powers = cumprod(column.expand(x._data.shape + (N - 1,)), -1)
    return cat((column.new_ones(column.shape), powers), -1)


@op
def vander(x: Tensor, N=None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a vector: columns x^(N-1), …, x, 1 (x⁰ first with
    increasing=True); integers and bools give int64 (matches `torch.vander`)."""
    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    N = x._data.shape[0] if N is None else int(N)
    if N < 0:
        raise RuntimeError("N must be non-negative.")
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.long()
    column = x[:, None]
    powers = [column.new_ones(column.shape)] if N else []
    if N > 1:
        powers.append(cumprod(column.expand(x._data.shape + (N - 1,)), -1))
    out = cat(powers, -1) if powers else x.new_empty((x._data.shape[0], 0))
    return out if increasing else out.flip(-1)


# ---- products --------------------------------------------------------------------------------
@op(method=True, out=True)
def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product (matches `torch.kron`)."""
    ndim = max(input._data.ndim, other._data.ndim)
    a_shape = (1,) * (ndim - input._data.ndim) + input._data.shape
    b_shape = (1,) * (ndim - other._data.ndim) + other._data.shape
    a = input.reshape(tuple(s for size in a_shape for s in (size, 1)))
    b = other.reshape(tuple(s for size in b_shape for s in (1, size)))
    return (a * b).reshape(tuple(p * q for p, q in zip(a_shape, b_shape)))


_COMPUTE_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                  "donot_use_mm_for_euclid_dist")
# torch.cdist is Python code handing its arguments to the C-bound _VF.cdist, whose argument
# parser takes p as a float (NOTE [torch's argument parser]): a tensor of several elements, one
# that requires grad, None or a string is its TypeError
_CDIST_ARGUMENTS = Parser(("cdist(Tensor x1, Tensor x2, double p=2, int64_t? compute_mode=None)",))


@op
@float32_inputs
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distance between each row of x1 and each row of x2, batched (matches
    `torch.cdist`)."""
    if compute_mode not in _COMPUTE_MODES:  # torch.functional.cdist's Python check, first
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if type(p) not in (float, int):  # the common case passes unparsed
        p = _CDIST_ARGUMENTS.parse((x1, x2, p), {})[0][0][2]
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: "
                               f"{t._data.ndim}D")
        if not t.dtype.is_floating_point:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{short_name(t.dtype)}")
    c1, c2 = x1._data.shape[-1], x2._data.shape[-1]
    if c1 != c2:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {c1} X2: {c2}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    r1, r2 = x1._data.shape[-2], x2._data.shape[-2]
    mode = _COMPUTE_MODES.index(compute_mode)
    if p == 2 and x1._data.size and x2._data.size and (mode == 1 or mode == 0 and
                                                       (r1 > 25 or r2 > 25)):
        return _euclidean_cdist(x1, x2)
    diff = x1[..., :, None, :] - x2[..., None, :, :]
    if p == 0:  # a count: PyTorch's gradient is zeros, not undefined
        return _constant_of(vector_norm(diff, 0, -1), diff.sum(-1))
    return vector_norm(diff, p, -1)


def _euclidean_cdist(x1: Tensor, x2: Tensor) -> Tensor:
    """cdist with p = 2 as PyTorch computes it past 25 rows: batches expanded and flattened,
    EuclideanDist, the result viewed to the output's shape."""
    batch = tuple(xp.broadcast_shapes(x1._data.shape[:-2], x2._data.shape[:-2]))
    (r1, c), r2 = x1._data.shape[-2:], x2._data.shape[-2]
    e1 = x1.expand(batch + (r1, c)).reshape(-1, r1, c)
    e2 = x2.expand(batch + (r2, c)).reshape(-1, r2, c)
    return EuclideanDist.apply(e1, e2).view(batch + (r1, r2))


class EuclideanDist(Op):
    """y = √max(|a|² - 2a·b + |b|², 0) for the rows a of x1 and b of x2: one matrix product
    of [-2a, |a|², 1] and [b, 1, |b|²] (PyTorch's _euclidean_dist, O(r1·r2·c) multiplies in
    one GEMM instead of an (r1, r2, c) difference; it cancels where a ≈ b, as PyTorch's does);
    with r = gy/y (0 where y = 0):  g1 = x1·Σ_j r - r·x2,  g2 = x2·Σ_i r - rᵀ·x1."""

    @staticmethod
    def forward(ctx, x1, x2):
        a, b = x1._data, x2._data
        module = get_array_module(a)
        a_norm, b_norm = (a * a).sum(-1, keepdims=True), (b * b).sum(-1, keepdims=True)
        a_rows = module.concatenate([a * a.dtype.type(-2), a_norm, module.ones_like(a_norm)], -1)
        b_rows = module.concatenate([b, module.ones_like(b_norm), b_norm], -1)
        y = xp.matmul(a_rows, xp.swapaxes(b_rows, -1, -2))
        xp.maximum(y, a.dtype.type(0), out=y)
        y = Tensor._make(xp.sqrt(y, out=y))
        ctx.save_for_backward(x1, x2, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x1, x2, y = ctx.saved_tensors
        ratio = (gy / y).masked_fill(y == 0, 0)  # (a zero distance: a zero subgradient)
        g1 = x1 * ratio.sum(-1, keepdim=True) - ratio.matmul(x2) if ctx.needs_input_grad[0] \
            else None
        g2 = x2 * ratio.sum(-2).unsqueeze(-1) - ratio.mT.matmul(x1) if ctx.needs_input_grad[1] \
            else None
        return g1, g2


def _constant_of(value: Tensor, source: Tensor) -> Tensor:
    """value, as a function of source with a zero gradient (PyTorch's copy-into-input idiom)."""
    if not source.requires_grad:
        return value
    return where(Tensor._make(xp.ones(value._data.shape, dtype=bool)), value, source)


def _scalar_of(value, t: Tensor):
    """β or α as PyTorch's addr kernel holds it: rounded to t's floating dtype."""
    if not t.dtype.is_floating_point:
        return value
    return Tensor._make(xp.asarray(value, dtype=t._data.dtype))


def _addr_scalar(value, dtype, name: str):
    """β or α checked against addr's result dtype as PyTorch checks them: a bool only for a bool
    result, a float or complex only for a floating or complex one."""
    if isinstance(value, Tensor):
        value = value.item()
    alpha_check(value, dtype, name)
    return _dtype.check_complex_fits(value, dtype)


def _boolean_addr(input: Tensor, vec1: Tensor, vec2: Tensor, beta, alpha) -> Tensor:
    """addr of bool tensors: (β ∧ input) ∨ (α ∧ vec1[i] ∧ vec2[j]), input ignored for β false."""
    product = vec1.reshape(-1, 1) & vec2 if alpha else Tensor._make(
        xp.zeros(input._data.shape, dtype=bool))
    return input | product if beta else product


@op(method=True, inplace=True, out=True)
def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """β·input + α·(vec1 ⊗ vec2) (matches `torch.addr`).

    input is expanded (not broadcast) to the outer product's shape, then the three operands
    are promoted to one dtype, as in PyTorch: a 0-d float64 input makes a float64 result.
    """
    for name, t in (("vec1", vec1), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    shape = (vec1._data.shape[0], vec2._data.shape[0])
    if input._data.shape != shape:
        input = input.expand(shape)  # torch's errors for an input that does not expand
    dtype = _dtype.promote_types(input.dtype, _dtype.promote_types(vec1.dtype, vec2.dtype))
    beta, alpha = _addr_scalar(beta, dtype, "beta"), _addr_scalar(alpha, dtype, "alpha")
    input, vec1, vec2 = (as_operand(t, dtype) for t in (input, vec1, vec2))
    if dtype is _dtype.bool:
        return _boolean_addr(input, vec1, vec2, beta, alpha)
    # PyTorch's kernel computes (α·vec1[i])·vec2[j] + β·input in the dtype, op by op: in
    # float16/bfloat16 the order of the roundings shows
    product = outer(vec1 * _scalar_of(alpha, vec1) if alpha != 1 else vec1, vec2)
    if beta == 0:
        return product
    return (input * _scalar_of(beta, input) if beta != 1 else input) + product


class Addbmm(Op):
    """y = β·c + α·Σ_b a_b·b_b;  gc = β·gy (summed to c's shape),  ga_b = α·gy·b_bᵀ,
    gb_b = α·a_bᵀ·gy.

    NOTE [addbmm adds one batch at a time]
    PyTorch adds the batches into the result one addmm at a time (β only on the first). In
    float16/bfloat16 each addmm accumulates in float32 and rounds, so the result is rounded
    after every batch; ember repeats that loop for 16-bit dtypes (other dtypes: one sum).
    """

    @staticmethod
    def forward(ctx, c, a, b, beta, alpha):
        ctx.save_for_backward(a if ctx.needs_input_grad[2] else None,
                              b if ctx.needs_input_grad[1] else None)
        ctx.scales, ctx.c_shape = (beta, alpha), c._data.shape
        dtype = a._data.dtype
        shape = (a._data.shape[1], b._data.shape[2])
        half = dtype.itemsize == 2 and dtype.kind in "fV"
        work = xp.float32 if half else dtype
        x, w = a._data.astype(work), b._data.astype(work)
        y = xp.zeros(shape, dtype=work) if beta == 0 else xp.broadcast_to(
            c._data.astype(work) * xp.asarray(beta, dtype=work), shape).copy()
        if not half:
            return (y + xp.asarray(alpha, dtype=work) * xp.matmul(x, w).sum(0, dtype=work)
                    ).astype(dtype)
        for x_b, w_b in zip(x, w):  # 16-bit only: round after each batch, as PyTorch
            y = (y + xp.float32(alpha) * xp.matmul(x_b, w_b)).astype(dtype).astype(work)
        return y.astype(dtype)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        gc, g = scaled_grads(ctx, gy)
        g = g.unsqueeze(0)  # every batch's product received the same gradient
        ga = matmul(g, b.mH) if ctx.needs_input_grad[1] else None
        gb = matmul(a.mH, g) if ctx.needs_input_grad[2] else None
        return gc, ga, gb, None, None


def _check_addbmm(input: Tensor, batch1: Tensor, batch2: Tensor):
    """PyTorch's shape and dtype errors of addbmm."""
    size_at(batch1, 1), size_at(batch2, 2)  # the result's size is read first: IndexError
    if batch1._data.ndim != 3 or batch2._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if batch1._data.ndim != 3 else
                           "batch2 must be a 3D tensor")
    (n, rows, k), (n2, k2, cols) = batch1._data.shape, batch2._data.shape
    if n != n2:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {n} and "
                           f"{n2}")
    if k != k2:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({rows}x{k} and {k2}x{cols})")
    for name, t in (("mat1", batch1), ("self", input)):
        if t.dtype != batch2.dtype:
            raise RuntimeError(f"{name} and mat2 must have the same dtype, but got "
                               f"{short_name(t.dtype)} and {short_name(batch2.dtype)}")
    try:
        ok = xp.broadcast_shapes(input._data.shape, (rows, cols)) == (rows, cols)
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"The expanded size of the tensor must match the existing size: "
                           f"target sizes {[rows, cols]}, tensor sizes "
                           f"{list(input._data.shape)}")


@op(method=True, inplace=True, out=addbmm_out)
@lower_precision
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """β·input + α·Σ_b batch1[b]·batch2[b] (matches `torch.addbmm`)."""
    _check_addbmm(input, batch1, batch2)
    b, m, k = batch1._data.shape
    # NOTE [No bool matrix products]: torch adds the batches with addmm_ (an int beta of 1)
    refuse_bool_product("addmm_impl_cpu_", batch1, m * batch2._data.shape[2], k if b else 0,
                        1 if b else beta)
    beta, alpha = _check_scalars_fit(input.dtype, beta, alpha)
    return Addbmm.apply(input, batch1, batch2, beta, alpha)
