"""Products of tensors: matmul (with all of PyTorch's 1-D and batched cases), mm, mv, bmm, dot,
vdot, inner, outer, addmm/addmv/baddbmm and trace. einsum and tensordot are in einsum.py.

Everything runs through `np.matmul` (BLAS) on whole arrays, never a loop over batch items, and
every backward is itself a product of ember tensors, so second derivatives work: for y = a·b,
ga = gy·bᵀ and gb = aᵀ·gy. Products need both operands of one dtype, as in PyTorch.
"""

import math

from ember import _dtype
from ember._autocast import lower_precision
from ember._backend import get_array_module, quiet, xp
from ember._registry import op, tensor_method
from ember.ops._out_rules import copied, dot_out, mv_out, tensordot_out
from ember._tensor import Tensor, short_name
from ember.autograd.function import Op
from ember.ops._gemm import bmm_product, folds_into_mm, product as _product  # (re-exported)
from ember.ops._bool_products import refuse_bool_matmul, refuse_bool_product
from ember.ops._node_names import vector_matrix_edges
from ember.ops._product_dtypes import check_addmv_dtypes, check_matmul_dtypes
from ember.ops._util import binary_operands, broadcast_error, c_type
from ember.ops._wirtinger import conj, conj_scalar
from ember.ops.broadcast import sum_to
from ember.ops.einsum import tensordot
from ember.ops.linalg_core import size_at


# ---- the two views a product's backward needs ------------------------------------------------
class MatrixTranspose(Op):
    """y = x with its last two axes swapped (a view);  gx = the same swap of gy."""

    node_name = "TransposeBackward0"

    @staticmethod
    def forward(ctx, x):
        return xp.swapaxes(x._data, -1, -2)

    @staticmethod
    def backward(ctx, gy):
        return MatrixTranspose.apply(gy)


class Reshape(Op):
    """y = x with a new shape and the same elements;  gx = gy reshaped back."""

    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x._data.shape
        return x._data.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return Reshape.apply(gy, ctx.input_shape), None


def _mT(x: Tensor) -> Tensor:
    return MatrixTranspose.apply(x)


def _mH(x: Tensor) -> Tensor:
    """The conjugate transpose: a product's backward uses it where a real one transposes
    (NOTE [Gradients of complex tensors] in ember/ops/complex.py)."""
    return conj(MatrixTranspose.apply(x))


def _reshape(x: Tensor, shape) -> Tensor:
    return x if x._data.shape == tuple(shape) else Reshape.apply(x, tuple(shape))


# ---- checks ----------------------------------------------------------------------------------
def _same_dtype(a: Tensor, b: Tensor):
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {c_type(a)} "
                           f"!= {c_type(b)}")


def _shape_text(shape) -> str:
    return "x".join(str(s) for s in shape)


def _check_mm(a: Tensor, b: Tensor):
    if a._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a._data.shape[1] != b._data.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({_shape_text(a._data.shape)} and {_shape_text(b._data.shape)})")
    _same_dtype(a, b)


def _check_1d_pair(a: Tensor, b: Tensor):
    na, nb = a._data.shape[0], b._data.shape[0]
    if na != nb:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{na}] and src [{nb}] to have the same "
            f"number of elements, but got {na} and {nb} elements respectively")


# ---- the products ----------------------------------------------------------------------------
class Mm(Op):
    """y = a·b for matrices;  ga = gy·bᴴ,  gb = aᴴ·gy (ᴴ: the conjugate transpose)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return _product(a._data, b._data)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        return ctx._function.grads(gy, a, b, *ctx.needs_input_grad)

    @classmethod
    def grads(cls, gy, a, b, need_a, need_b):
        """(ga, gb) for y = a·b; shared with addmm/baddbmm."""
        ga = cls.apply(gy, _mH(b)) if need_a else None
        gb = cls.apply(_mH(a), gy) if need_b else None
        return ga, gb


class Bmm(Mm):
    """y[i] = a[i]·b[i] for batches of matrices;  ga = gy·bᴴ,  gb = aᴴ·gy (per batch item)."""

    @staticmethod
    def forward(ctx, a, b):
        Mm.forward(ctx, a, b)  # (what to save)
        return bmm_product(a._data, b._data)  # NOTE [PyTorch's small bmm]


class Mv(Op):
    """y = A·v;  gA = gy ⊗ conj(v) (outer product),  gv = Aᴴ·gy."""

    @staticmethod
    def forward(ctx, a, v):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              v if ctx.needs_input_grad[0] else None)
        return _product(a._data, v._data)

    @staticmethod
    def backward(ctx, gy):
        a, v = ctx.saved_tensors
        return Mv.grads(gy, a, v, *ctx.needs_input_grad)

    @staticmethod
    def grads(gy, a, v, need_a, need_v):
        """(gA, gv) for y = A·v; shared with addmv."""
        ga = Outer.apply(gy, conj(v)) if need_a else None
        gv = Mv.apply(_mH(a), gy) if need_v else None
        return ga, gv


class Dot(Op):
    """y = Σ a_i·b_i;  ga = gy·conj(b),  gb = gy·conj(a)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return xp.asanyarray(_product(a._data, b._data))

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = gy * conj(b) if ctx.needs_input_grad[0] else None
        gb = gy * conj(a) if ctx.needs_input_grad[1] else None
        return ga, gb


class Vdot(Op):
    """y = Σ conj(a_i)·b_i;  ga = conj(gy)·b,  gb = gy·a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return xp.asanyarray(_product(xp.conj(a._data), b._data))

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = conj(gy) * b if ctx.needs_input_grad[0] else None
        gb = gy * a if ctx.needs_input_grad[1] else None
        return ga, gb


class Outer(Op):
    """y_ij = a_i·b_j;  ga = gy·conj(b),  gb = gyᵀ·conj(a)."""

    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return xp.multiply.outer(a._data, b._data)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = Mv.apply(gy, conj(b)) if ctx.needs_input_grad[0] else None
        gb = Mv.apply(_mT(gy), conj(a)) if ctx.needs_input_grad[1] else None
        return ga, gb


class Matmul(Op):
    """y = a @ b with 1-D operands promoted (and the added axis dropped) and batch axes
    broadcast;  ga = gy @ bᴴ,  gb = aᴴ @ gy, each summed back over broadcast batch axes.

    NOTE [matmul's node names]
    PyTorch's matmul is a composite: for batched and vector-matrix products it reshapes, runs
    bmm/mm and reshapes back, so the grad_fn users see is the last reshape's. ember runs one
    np.matmul and keeps those names (UnsafeViewBackward0, SqueezeBackward4 for vector·matrix,
    CloneBackward0 for matrix·batch) for compatibility.
    """

    node_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        ctx.shapes = (a._data.shape, b._data.shape)
        if folds_into_mm(a._data, b._data, b.requires_grad, a.requires_grad):
            return _product(a._data, b._data)
        return bmm_product(a._data, b._data)  # NOTE [PyTorch's small bmm]

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        a2_shape = a_shape if len(a_shape) > 1 else (1,) + a_shape
        b2_shape = b_shape if len(b_shape) > 1 else b_shape + (1,)
        batch = xp.broadcast_shapes(a2_shape[:-2], b2_shape[:-2])
        gy2 = _reshape(gy, batch + (a2_shape[-2], b2_shape[-1]))
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = matmul(gy2, _mH(_reshape(b, b2_shape)))
            ga = _reshape(sum_to(ga, a2_shape), a_shape)
        if ctx.needs_input_grad[1]:
            gb = matmul(_mH(_reshape(a, a2_shape)), gy2)
            gb = _reshape(sum_to(gb, b2_shape), b_shape)
        return ga, gb


class VecMat(Matmul):
    node_name = "SqueezeBackward4"

    torch_edges = staticmethod(vector_matrix_edges)


class MatBatch(Matmul):
    node_name = "CloneBackward0"


@op(method=True, out="exact")
@lower_precision
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Matrix product of two 2-D tensors (matches `torch.mm`)."""
    _check_mm(input, mat2)
    (m, k), n = input._data.shape, mat2._data.shape[1]
    refuse_bool_product("addmm_impl_cpu_", input, m * n, k)
    return Mm.apply(input, mat2)


@op(method=True, out=mv_out)
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product (matches `torch.mv`)."""
    size_at(input, 0)  # PyTorch reads the result's size first: a 0-d matrix is an IndexError
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, "
                           f"{vec._data.ndim}")
    if input._data.shape[1] != vec._data.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input._data.shape[0]}), mat "
                           f"({_shape_text(input._data.shape)}), vec ({vec._data.shape[0]})")
    check_addmv_dtypes(vec, input, vec)  # (mv's result, addmv's input, takes vec's dtype)
    refuse_bool_product("addmv_impl_cpu", input, *input._data.shape)
    return Mv.apply(input, vec)


@op(method=True, out="exact")
@lower_precision
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of two 3-D tensors (matches `torch.bmm`)."""
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    (n, _, k), (n2, k2, _) = input._data.shape, mat2._data.shape
    if (n, k) != (n2, k2):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{n}, {k}] but got: [{n2}, {k2}].")
    if input.dtype is not mat2.dtype:
        raise RuntimeError(f"expected scalar type {short_name(input.dtype)} but found "
                           f"{short_name(mat2.dtype)}")
    refuse_bool_product("bmm", input, n * input._data.shape[1] * mat2._data.shape[2], k)
    return Bmm.apply(input, mat2)


@op(method=True, out=dot_out)
def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Inner product of two 1-D tensors (matches `torch.dot`)."""
    _check_dot(input, tensor)
    refuse_bool_product("dot", input)
    return Dot.apply(input, tensor)


@op(method=True, out=dot_out)
def vdot(input: Tensor, other: Tensor) -> Tensor:
    """Σ conj(input_i)·other_i, the inner product conjugating the first vector (matches
    `torch.vdot`; the same as dot for real vectors)."""
    _check_dot(input, other)
    refuse_bool_product("dot", input)
    return Vdot.apply(input, other)


def _check_dot(input: Tensor, tensor: Tensor):
    """torch's errors of dot and vdot: two 1-D tensors of one dtype and length."""
    if input._data.ndim != 1 or tensor._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and "
                           f"{tensor._data.ndim}D tensors")
    if input.dtype is not tensor.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{_type_word(input)} and {_type_word(tensor)}")
    _check_1d_pair(input, tensor)


def _type_word(t: Tensor) -> str:
    return short_name(t.dtype)


@op(method=True, out=dot_out)
@lower_precision
def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with PyTorch's rules for 1-D and batched operands (matches `torch.matmul`).

    1-D·1-D is a dot product, 2-D·2-D mm, 2-D·1-D mv, 1-D·N-D treats the vector as a row, and
    N-D batches broadcast their leading axes.
    """
    na, nb = input._data.ndim, other._data.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{na}D and {nb}D")
    check_matmul_dtypes(input, other)
    if na == 1 and nb == 1:
        _check_1d_pair(input, other)
        refuse_bool_matmul(input, other)
        return Dot.apply(input, other)
    if na == 2 and nb == 2:
        _check_mm(input, other)
        refuse_bool_matmul(input, other)
        return Mm.apply(input, other)
    if na == 2 and nb == 1:
        return mv(input, other)
    _check_matmul(input._data.shape, other._data.shape)
    check_matmul_dtypes(input, other, shapes_checked=True)
    refuse_bool_matmul(input, other)
    if na == 1 and nb == 2:
        return VecMat.apply(input, other)
    return (MatBatch if na == 2 else Matmul).apply(input, other)


def _check_matmul(a_shape, b_shape):
    """PyTorch's errors for a batched product whose shapes do not fit.

    PyTorch folds batch axes into rows before calling mm/mv/bmm (and computes a matrix times a
    batch as (bᵀ·aᵀ)ᵀ), so its messages name the folded shapes; these reproduce them.
    """
    na, nb = len(a_shape), len(b_shape)
    k_a, k_b = a_shape[-1], b_shape[-2] if nb > 1 else b_shape[0]
    if na > 2 and nb > 2:
        try:
            batch = xp.broadcast_shapes(a_shape[:-2], b_shape[:-2])
        except ValueError:
            raise broadcast_error(a_shape[:-2], b_shape[:-2]) from None
        if k_a != k_b:
            n = int(xp.prod(batch))
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                               f"[{n}, {k_a}] but got: [{n}, {k_b}].")
        return
    if k_a == k_b:
        return
    if nb <= 2:  # a's batch axes folded into its rows
        rows, mat, other = int(xp.prod(a_shape[:-1])), k_a, b_shape
    else:  # computed as bᵀ·aᵀ with b's batch axes folded into rows
        rows, mat, other = int(xp.prod(b_shape[:-2])) * b_shape[-1], k_b, a_shape[::-1]
    if len(other) == 1:
        raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{mat}), "
                           f"vec ({other[0]})")
    raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{mat} and "
                       f"{_shape_text(other)})")


@op(method=True, aliases=("ger",), out=True)
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two vectors, y_ij = a_i·b_j (matches `torch.outer`)."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    a, b = binary_operands(input, vec2)
    return Outer.apply(a, b)


@op(method=True, out=copied(tensordot_out))
def inner(input: Tensor, other: Tensor) -> Tensor:
    """Inner product over the last axis (matches `torch.inner`)."""
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:  # tensordot alone would broadcast a size-1 dim
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, dims=([-1], [-1]))


class Trace(Op):
    """y = Σ_i x_ii;  gx = gy·I (the identity, rectangular if x is)."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x._data.shape
        with quiet():  # (np.trace's wrapper would warn of inf - inf, which torch does not)
            return xp.asanyarray(xp.trace(x._data))

    @staticmethod
    def backward(ctx, gy):
        return gy * Tensor._make(get_array_module(gy._data).eye(*ctx.shape, dtype=gy._data.dtype))


@op(method=True)
def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix (matches `torch.trace`)."""
    if input._data.dtype.kind == "b":  # refused before the shape is looked at
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        return Tensor._make(xp.asanyarray(xp.trace(input._data), dtype=xp.int64))
    return Trace.apply(input)


# ---- β·c + α·(a·b) ---------------------------------------------------------------------------
# NOTE [16-bit addmm]
# For float16 and bfloat16 PyTorch's CPU kernels accumulate the products and add β·c in float32
# ("opmath") and round once at the end; rounding the product first and adding in 16 bits can
# differ in the last bit. addmv (BLAS gemv) first rounds β and α to the dtype and scales c by β
# in the dtype, then adds α·(a·b) accumulated in float32.
def _is_half(dtype) -> bool:
    """A 16-bit floating dtype (float16, or ml_dtypes' bfloat16, whose NumPy kind is 'V')."""
    return dtype.itemsize == 2 and dtype.kind in "fV"


class Addmm(Op):
    """y = β·c + α·(a·b);  gc = β·gy (summed to c's shape),  ga = α·gy·bᵀ,  gb = α·aᵀ·gy.

    With β = 0, c is ignored (its NaNs do not propagate), as in PyTorch.
    """

    product = Mm

    @staticmethod
    def forward(ctx, c, a, b, beta, alpha):
        ctx.save_for_backward(a if ctx.needs_input_grad[2] else None,
                              b if ctx.needs_input_grad[1] else None)
        ctx.scales = (beta, alpha)
        ctx.c_shape = c._data.shape
        dtype = a._data.dtype
        a_data, b_data, c_data = a._data, b._data, c._data
        if _is_half(dtype):  # NOTE [16-bit addmm]
            if ctx._function.product is Mv:  # gemv: β, α and β·c in the 16-bit dtype
                beta, alpha = (float(xp.asarray(s, dtype=dtype)) for s in (beta, alpha))
                c_data = c_data * xp.asarray(beta, dtype=dtype) if beta not in (0, 1) else c_data
                beta = 1 if beta != 0 else 0
            a_data, b_data, c_data = (t.astype(xp.float32) for t in (a_data, b_data, c_data))
        y = (bmm_product if ctx._function.product is Bmm else _product)(a_data, b_data)
        if alpha != 1:
            y *= get_array_module(y).asarray(alpha, dtype=y.dtype)
        if beta != 0:
            if beta != 1:
                c_data = c_data * get_array_module(y).asarray(beta, dtype=y.dtype)
            y += c_data
        return y.astype(dtype) if y.dtype != dtype else y

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        gc, g = scaled_grads(ctx, gy)
        ga, gb = ctx._function.product.grads(g, a, b, *ctx.needs_input_grad[1:3])
        return gc, ga, gb, None, None


def scaled_grads(ctx, gy):
    """(gc, g) of y = β·c + α·product: gc = gy·conj(β) summed to c's shape (None unless
    needed), g = gy·conj(α), the gradient reaching the product (Wirtinger: conjugated scales)."""
    beta, alpha = (conj_scalar(s) for s in ctx.scales)
    gc = sum_to(gy * beta if beta != 1 else gy, ctx.c_shape) if ctx.needs_input_grad[0] else None
    return gc, gy * alpha if alpha != 1 else gy


class Addmv(Addmm):
    product = Mv


class Baddbmm(Addmm):
    product = Bmm


def _check_scalars_fit(dtype, *scalars):
    """β and α as numbers of a result of dtype: torch refuses a complex one with an
    imaginary part for a real result, and takes one without as its real part."""
    return tuple(_dtype.check_complex_fits(value, dtype) for value in scalars)


def _check_bias(c: Tensor, shape, a: Tensor):
    try:
        ok = xp.broadcast_shapes(c._data.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"The expanded size of the tensor must match the existing size: "
                           f"target sizes {list(shape)}, tensor sizes {list(c._data.shape)}")
    if a is not None:
        _same_dtype(c, a)


@op(method=True, inplace=True, out="exact")
@lower_precision
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """β·input + α·(mat1·mat2) (matches `torch.addmm`)."""
    for name, t in (("self", input), ("mat1", mat1)):  # (PyTorch's first checks)
        if t.dtype is not mat2.dtype:
            raise RuntimeError(f"{name} and mat2 must have the same dtype, but got "
                               f"{short_name(t.dtype)} and {short_name(mat2.dtype)}")
    _check_mm(mat1, mat2)
    _check_bias(input, (mat1._data.shape[0], mat2._data.shape[1]), mat1)
    (m, k), n = mat1._data.shape, mat2._data.shape[1]
    refuse_bool_product("addmm_impl_cpu_", mat1, m * n, k, beta)
    beta, alpha = _check_scalars_fit(mat1.dtype, beta, alpha)
    return Addmm.apply(input, mat1, mat2, beta, alpha)


@op(method=True, inplace=True, out="exact")
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """β·input + α·(mat·vec) (matches `torch.addmv`)."""
    if mat._data.ndim != 2 or vec._data.ndim != 1 or input._data.ndim > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input._data.ndim}, "
                           f"{mat._data.ndim}, {vec._data.ndim}")
    rows, columns = mat._data.shape
    if columns != vec._data.shape[0] or input._data.size not in (rows, 1):
        raise RuntimeError(f"size mismatch, got input ({input.size(0)}), mat "
                           f"({rows}x{columns}), vec ({vec._data.shape[0]})")
    check_addmv_dtypes(input, mat, vec)
    _check_bias(input, (rows,), mat)
    refuse_bool_product("addmv_impl_cpu", mat, *mat._data.shape)
    beta, alpha = _check_scalars_fit(mat.dtype, beta, alpha)
    return Addmv.apply(input, mat, vec, beta, alpha)


@op(method=True, inplace=True, out="exact")
@lower_precision
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """β·input + α·bmm(batch1, batch2) (matches `torch.baddbmm`)."""
    # PyTorch's order: the result's sizes read (an IndexError for a missing dim), input expanded
    # to them, the three dtypes, then each batch's rank and the batch sizes.
    bmm_shape = (size_at(batch1, 0), size_at(batch1, 1), size_at(batch2, 2))
    _check_bias(input, bmm_shape, None)
    if input.dtype is batch1.dtype is not batch2.dtype:
        raise RuntimeError(f"expected scalar type {short_name(input.dtype)} but found "
                           f"{short_name(batch2.dtype)}")
    if input.dtype is not batch1.dtype:
        raise RuntimeError(f"Input dtypes must be the same, got: input {c_type(input)}, "
                           f"batch1: {c_type(batch1)}, batch2: {c_type(batch2)}")
    for name, batch in (("batch1", batch1), ("batch2", batch2)):
        if batch._data.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    (n, _, k), (n2, k2, _) = batch1._data.shape, batch2._data.shape
    if (n, k) != (n2, k2):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{n}, {k}] but got: [{n2}, {k2}].")
    refuse_bool_product("baddbmm", input, math.prod(bmm_shape), k, beta)
    beta, alpha = _check_scalars_fit(input.dtype, beta, alpha)
    return Baddbmm.apply(input, batch1, batch2, beta, alpha)


# ---- the @ operator --------------------------------------------------------------------------
@tensor_method("__matmul__")
def _matmul_operator(self, other):
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(self, other)


@tensor_method("__rmatmul__")
def _rmatmul(self, other):
    if not isinstance(other, Tensor):
        return NotImplemented  # PyTorch: TypeError for ndarray @ Tensor
    return matmul(other, self)
