"""Products of tensors: matmul (with all of PyTorch's 1-D and batched cases), mm, mv, bmm, dot,
outer, addmm/addmv/baddbmm, einsum and tensordot.

Everything runs through `np.matmul` (BLAS) on whole arrays, never a loop over batch items, and
every backward is itself a product of ember tensors, so second derivatives work: for y = a·b,
ga = gy·bᵀ and gb = aᵀ·gy. Products need both operands of one dtype, as in PyTorch.
"""

import string

import numpy as np

from ember import _dtype
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops._util import binary_operands
from ember.ops.broadcast import expand_to, sum_to
from ember.ops.elementwise import _out

__all__ = [
    "addmm", "addmv", "baddbmm", "bmm", "dot", "einsum", "ger", "inner", "matmul", "mm", "mv",
    "outer", "tensordot", "trace", "vdot",
]


# ---- the two views a product's backward needs ------------------------------------------------
class MatrixTranspose(Op):
    """y = x with its last two axes swapped (a view);  gx = the same swap of gy."""

    node_name = "TransposeBackward0"

    @staticmethod
    def forward(ctx, x):
        return np.swapaxes(x._data, -1, -2)

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


def _reshape(x: Tensor, shape) -> Tensor:
    return x if x._data.shape == tuple(shape) else Reshape.apply(x, tuple(shape))


# ---- checks ----------------------------------------------------------------------------------
_SHORT = {"float16": "c10::Half", "float32": "float", "float64": "double", "int64": "long int",
          "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
          "bool": "bool"}


def _same_dtype(a: Tensor, b: Tensor):
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_SHORT[a.dtype.name]} != {_SHORT[b.dtype.name]}")


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
    """y = a·b for matrices;  ga = gy·bᵀ,  gb = aᵀ·gy."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return np.matmul(a._data, b._data)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        return ctx._function.grads(gy, a, b, *ctx.needs_input_grad)

    @classmethod
    def grads(cls, gy, a, b, need_a, need_b):
        """(ga, gb) for y = a·b; shared with addmm/baddbmm."""
        ga = cls.apply(gy, _mT(b)) if need_a else None
        gb = cls.apply(_mT(a), gy) if need_b else None
        return ga, gb


class Bmm(Mm):
    """y[i] = a[i]·b[i] for batches of matrices;  ga = gy·bᵀ,  gb = aᵀ·gy (per batch item)."""


class Mv(Op):
    """y = A·v;  gA = gy ⊗ v (outer product),  gv = Aᵀ·gy."""

    @staticmethod
    def forward(ctx, a, v):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              v if ctx.needs_input_grad[0] else None)
        return np.matmul(a._data, v._data)

    @staticmethod
    def backward(ctx, gy):
        a, v = ctx.saved_tensors
        return Mv.grads(gy, a, v, *ctx.needs_input_grad)

    @staticmethod
    def grads(gy, a, v, need_a, need_v):
        """(gA, gv) for y = A·v; shared with addmv."""
        ga = Outer.apply(gy, v) if need_a else None
        gv = Mv.apply(_mT(a), gy) if need_v else None
        return ga, gv


class Dot(Op):
    """y = Σ a_i·b_i;  ga = gy·b,  gb = gy·a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return np.asarray(np.dot(a._data, b._data))

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = gy * b if ctx.needs_input_grad[0] else None
        gb = gy * a if ctx.needs_input_grad[1] else None
        return ga, gb


class Outer(Op):
    """y_ij = a_i·b_j;  ga = gy·b,  gb = gyᵀ·a."""

    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return np.multiply.outer(a._data, b._data)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = Mv.apply(gy, b) if ctx.needs_input_grad[0] else None
        gb = Mv.apply(_mT(gy), a) if ctx.needs_input_grad[1] else None
        return ga, gb


class Matmul(Op):
    """y = a @ b with 1-D operands promoted (and the added axis dropped) and batch axes
    broadcast;  ga = gy @ bᵀ,  gb = aᵀ @ gy, each summed back over broadcast batch axes.

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
        return np.matmul(a._data, b._data)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        a2_shape = a_shape if len(a_shape) > 1 else (1,) + a_shape
        b2_shape = b_shape if len(b_shape) > 1 else b_shape + (1,)
        batch = np.broadcast_shapes(a2_shape[:-2], b2_shape[:-2])
        gy2 = _reshape(gy, batch + (a2_shape[-2], b2_shape[-1]))
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = matmul(gy2, _mT(_reshape(b, b2_shape)))
            ga = _reshape(sum_to(ga, a2_shape), a_shape)
        if ctx.needs_input_grad[1]:
            gb = matmul(_mT(_reshape(a, a2_shape)), gy2)
            gb = _reshape(sum_to(gb, b2_shape), b_shape)
        return ga, gb


class VecMat(Matmul):
    node_name = "SqueezeBackward4"


class MatBatch(Matmul):
    node_name = "CloneBackward0"


def mm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """Matrix product of two 2-D tensors (matches `torch.mm`)."""
    _check_mm(input, mat2)
    return _out(Mm.apply(input, mat2), out)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product (matches `torch.mv`)."""
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {vec._data.ndim}, "
                           f"{input._data.ndim}, {vec._data.ndim}")
    if input._data.shape[1] != vec._data.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input._data.shape[0]}), mat "
                           f"({_shape_text(input._data.shape)}), vec ({vec._data.shape[0]})")
    _same_dtype(input, vec)
    return Mv.apply(input, vec)


def bmm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """Batched matrix product of two 3-D tensors (matches `torch.bmm`)."""
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    (n, _, k), (n2, k2, _) = input._data.shape, mat2._data.shape
    if (n, k) != (n2, k2):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{n}, {k}] but got: [{n2}, {k2}].")
    _same_dtype(input, mat2)
    return _out(Bmm.apply(input, mat2), out)


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Inner product of two 1-D tensors (matches `torch.dot`)."""
    if input._data.ndim != 1 or tensor._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and "
                           f"{tensor._data.ndim}D tensors")
    if input.dtype is not tensor.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{_type_word(input)} and {_type_word(tensor)}")
    _check_1d_pair(input, tensor)
    return Dot.apply(input, tensor)


def _type_word(t: Tensor) -> str:
    from ember._tensor import short_name

    return short_name(t.dtype)


vdot = dot


def matmul(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Matrix product with PyTorch's rules for 1-D and batched operands (matches `torch.matmul`).

    1-D·1-D is a dot product, 2-D·2-D mm, 2-D·1-D mv, 1-D·N-D treats the vector as a row, and
    N-D batches broadcast their leading axes.
    """
    return _out(_matmul(input, other), out)


def _matmul(input: Tensor, other: Tensor) -> Tensor:
    na, nb = input._data.ndim, other._data.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{na}D and {nb}D")
    _same_dtype(input, other)
    if na == 1 and nb == 1:
        _check_1d_pair(input, other)
        return Dot.apply(input, other)
    if na == 2 and nb == 2:
        _check_mm(input, other)
        return Mm.apply(input, other)
    if na == 2 and nb == 1:
        return mv(input, other)
    _check_matmul(input._data.shape, other._data.shape)
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
            batch = np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
        except ValueError:
            from ember.ops._util import broadcast_error

            raise broadcast_error(a_shape[:-2], b_shape[:-2]) from None
        if k_a != k_b:
            n = int(np.prod(batch))
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                               f"[{n}, {k_a}] but got: [{n}, {k_b}].")
        return
    if k_a == k_b:
        return
    if nb <= 2:  # a's batch axes folded into its rows
        rows, mat, other = int(np.prod(a_shape[:-1])), k_a, b_shape
    else:  # computed as bᵀ·aᵀ with b's batch axes folded into rows
        rows, mat, other = int(np.prod(b_shape[:-2])) * b_shape[-1], k_b, a_shape[::-1]
    if len(other) == 1:
        raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{mat}), "
                           f"vec ({other[0]})")
    raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{mat} and "
                       f"{_shape_text(other)})")


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two vectors, y_ij = a_i·b_j (matches `torch.outer`)."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    a, b = binary_operands(input, vec2)
    return Outer.apply(a, b)


ger = outer


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Inner product over the last axis (matches `torch.inner`)."""
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    return tensordot(input, other, dims=([-1], [-1]))


class Trace(Op):
    """y = Σ_i x_ii;  gx = gy·I (the identity, rectangular if x is)."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x._data.shape
        return np.asarray(np.trace(x._data))

    @staticmethod
    def backward(ctx, gy):
        return gy * Tensor._make(np.eye(*ctx.shape, dtype=gy._data.dtype))


def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix (matches `torch.trace`)."""
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    if not input.dtype.is_floating_point:
        return Tensor._make(np.asarray(np.trace(input._data), dtype=np.int64))
    return Trace.apply(input)


# ---- β·c + α·(a·b) ---------------------------------------------------------------------------
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
        y = np.matmul(a._data, b._data)
        if alpha != 1:
            y *= np.asarray(alpha, dtype=y.dtype)
        if beta == 0:
            return y
        c_data = c._data if beta == 1 else c._data * np.asarray(beta, dtype=y.dtype)
        y += c_data
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        beta, alpha = ctx.scales
        need_c, need_a, need_b = ctx.needs_input_grad[:3]
        gc = sum_to(gy * beta if beta != 1 else gy, ctx.c_shape) if need_c else None
        g = gy * alpha if alpha != 1 else gy
        ga, gb = ctx._function.product.grads(g, a, b, need_a, need_b)
        return gc, ga, gb, None, None


class Addmv(Addmm):
    product = Mv


class Baddbmm(Addmm):
    product = Bmm


def _check_bias(c: Tensor, shape, a: Tensor):
    try:
        ok = np.broadcast_shapes(c._data.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"The expanded size of the tensor must match the existing size: "
                           f"target sizes {list(shape)}, tensor sizes {list(c._data.shape)}")
    _same_dtype(c, a)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """β·input + α·(mat1·mat2) (matches `torch.addmm`)."""
    _check_mm(mat1, mat2)
    _check_bias(input, (mat1._data.shape[0], mat2._data.shape[1]), mat1)
    return _out(Addmm.apply(input, mat1, mat2, beta, alpha), out)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """β·input + α·(mat·vec) (matches `torch.addmv`)."""
    if mat._data.ndim != 2 or vec._data.ndim != 1 or mat._data.shape[1] != vec._data.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input._data.shape}), mat "
                           f"({_shape_text(mat._data.shape)}), vec ({vec._data.shape})")
    _same_dtype(mat, vec)
    _check_bias(input, (mat._data.shape[0],), mat)
    return _out(Addmv.apply(input, mat, vec, beta, alpha), out)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1,
            out=None) -> Tensor:
    """β·input + α·bmm(batch1, batch2) (matches `torch.baddbmm`)."""
    bmm_shape = (batch1._data.shape[0], batch1._data.shape[1], batch2._data.shape[-1])
    if batch1._data.ndim != 3 or batch2._data.ndim != 3:
        raise RuntimeError("batch1 and batch2 must be 3D tensors")
    (n, _, k), (n2, k2, _) = batch1._data.shape, batch2._data.shape
    if (n, k) != (n2, k2):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{n}, {k}] but got: [{n2}, {k2}].")
    _same_dtype(batch1, batch2)
    _check_bias(input, bmm_shape, batch1)
    return _out(Baddbmm.apply(input, batch1, batch2, beta, alpha), out)


# ---- einsum, tensordot -----------------------------------------------------------------------
def _parse(equation: str, count: int):
    """'ij,jk->ik' as (['ij', 'jk'], 'ik'), with '...' written as '@' (one character)."""
    equation = equation.replace(" ", "").replace("...", "@")
    lhs, arrow, out = equation.partition("->")
    inputs = lhs.split(",")
    if len(inputs) > count:
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(inputs) < count:
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    if not arrow:
        letters = "".join(inputs).replace("@", "")
        out = ("@" if "@" in lhs else "") + "".join(
            sorted(ch for ch in set(letters) if letters.count(ch) == 1))
    return inputs, out


def _unparse(inputs, out) -> str:
    return (",".join(inputs) + "->" + out).replace("@", "...")


class Einsum(Op):
    """y = einsum(eq, x_1, ..., x_n);  g_i = einsum(gy and the other operands -> x_i's indices).

    NOTE [einsum's backward]
    The gradient for one operand is the same contraction with that operand swapped for gy.
    Two cases need more: an index that appears in no other operand nor in the output was summed
    away, so its gradient is gy broadcast back over it; an index repeated inside one operand
    (a diagonal, 'ii->i') gets a fresh name for each repetition plus an identity matrix linking
    the two names, which puts the gradient on the diagonal.
    """

    @staticmethod
    def forward(ctx, equation, *operands):
        arrays = [x._data for x in operands]
        ctx.equation = equation
        ctx.save_for_backward(*operands)
        if len(arrays) == 2:
            y = _einsum_as_matmul(*equation, *arrays)
            if y is not None:
                return y
        try:
            return np.asarray(np.einsum(_unparse(*equation), *arrays,
                                        optimize=len(arrays) > 1))
        except ValueError as error:
            raise RuntimeError(f"einsum(): {error}") from None


    @staticmethod
    def backward(ctx, gy):
        operands = ctx.saved_tensors
        grads = [None]
        for i, x in enumerate(operands):
            grads.append(_einsum_grad(ctx.equation, operands, i, gy)
                         if ctx.needs_input_grad[i + 1] else None)
        return tuple(grads)


def _einsum_as_matmul(inputs, out, a, b):
    """A two-operand einsum as one batched np.matmul (BLAS), or None if it does not fit.

    NOTE [einsum on BLAS]
    np.einsum contracts with BLAS only when there is no batch index; attention-style equations
    ('bhqd,bhkd->bhqk') fall to its slow C loops. Sorting the indices into batch (in both
    operands and the output), left, right and contracted ones turns the contraction into
    (batch, L, K) @ (batch, K, R). Ellipses, repeated indices and size-1 broadcasting of a
    non-batch index are left to np.einsum.
    """
    sa, sb = inputs
    if "@" in sa + sb or len(set(sa)) < len(sa) or len(set(sb)) < len(sb):
        return None
    if a.ndim != len(sa) or b.ndim != len(sb) or not set(out) <= set(sa + sb):
        return None
    # an index in one operand only and not in the output is summed away first
    summed_a = tuple(i for i, c in enumerate(sa) if c not in sb and c not in out)
    summed_b = tuple(i for i, c in enumerate(sb) if c not in sa and c not in out)
    if summed_a:
        a, sa = a.sum(axis=summed_a), "".join(c for c in sa if c in sb or c in out)
    if summed_b:
        b, sb = b.sum(axis=summed_b), "".join(c for c in sb if c in sa or c in out)
    size_a = dict(zip(sa, a.shape))
    size_b = dict(zip(sb, b.shape))
    batch = [c for c in out if c in sa and c in sb]
    contract = [c for c in sa if c in sb and c not in out]
    left = [c for c in sa if c not in sb]
    right = [c for c in sb if c not in sa]
    if any(size_a[c] != size_b[c] for c in contract):
        return None
    k = int(np.prod([size_a[c] for c in contract]))
    rows = int(np.prod([size_a[c] for c in left]))
    cols = int(np.prod([size_b[c] for c in right]))
    a3 = a.transpose([sa.index(c) for c in batch + left + contract]).reshape(
        [size_a[c] for c in batch] + [rows, k])
    b3 = b.transpose([sb.index(c) for c in batch + contract + right]).reshape(
        [size_b[c] for c in batch] + [k, cols])
    y = np.matmul(a3, b3)
    order = batch + left + right
    y = y.reshape(list(y.shape[:len(batch)]) + [size_a[c] for c in left]
                  + [size_b[c] for c in right])
    y = y.transpose([order.index(c) for c in out])
    return y if y.flags.c_contiguous else y.copy()


def _einsum_grad(equation, operands, i, gy):
    from ember.ops.reduction import expand_dims

    inputs, out = equation
    x = operands[i]
    used = set("".join(inputs) + out)
    fresh = (ch for ch in string.ascii_letters if ch not in used)
    ell = x._data.ndim - (len(inputs[i]) - 1) if "@" in inputs[i] else 0
    sizes, seen, target, deltas = {}, set(), "", []
    axis = 0
    for ch in inputs[i]:
        width = ell if ch == "@" else 1
        if ch != "@":
            sizes[ch] = x._data.shape[axis]
        if ch in seen and ch != "@":
            new = next(fresh)
            deltas.append((ch + new, sizes[ch]))
            ch = new
        seen.add(ch)
        target += ch
        axis += width
    sources = [out] + [s for j, s in enumerate(inputs) if j != i] + [d for d, _ in deltas]
    available = set("".join(sources))
    kept = "".join(ch for ch in target if ch in available)
    tensors = [gy] + [t for j, t in enumerate(operands) if j != i] + [
        Tensor._make(np.eye(n, dtype=x._data.dtype)) for _, n in deltas]
    g = einsum(_unparse(sources, kept), *tensors)
    if kept != target:  # indices summed away in forward: broadcast gy back over them
        g_ell = g._data.ndim - (len(kept) - 1) if "@" in kept else 0
        shape, axes, position, source_axis = [], [], 0, 0
        for ch in target:
            width = (g_ell if ch in kept else ell) if ch == "@" else 1
            if ch in kept:
                shape += g._data.shape[source_axis:source_axis + width]
                source_axis += width
            else:
                shape += [sizes.get(ch, 1)] if ch != "@" else list(x._data.shape[:ell])
                axes += range(position, position + width)
            position += width
        g = expand_dims(g, tuple(axes), False, tuple(shape))
    if g._data.shape != x._data.shape:  # size-1 indices broadcast one way or the other
        g = expand_to(g, np.broadcast_shapes(g._data.shape, x._data.shape))
    return sum_to(g, x._data.shape)


def einsum(equation: str, *operands) -> Tensor:
    """Sum of products over the indices an equation names (matches `torch.einsum`)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    dtype = _dtype.result_type(*operands)
    operands = tuple(o if o.dtype is dtype else o.to(dtype) for o in operands)
    return Einsum.apply(_parse(equation, len(operands)), *operands)


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Contract the given axes of a with those of b (matches `torch.tensordot`)."""
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        dims_a, dims_b = list(range(na - dims, na)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    letters = iter(string.ascii_letters)
    sub_a = [next(letters) for _ in range(na)]
    sub_b = [next(letters) for _ in range(nb)]
    for da, db in zip(dims_a, dims_b):
        if a._data.shape[da] != b._data.shape[db]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a._data.shape[da]} in dim {da} and second has size "
                               f"{b._data.shape[db]} in dim {db}")
        sub_b[db % nb] = sub_a[da % na]
    contracted = {sub_a[d % na] for d in dims_a}
    out_sub = [c for c in sub_a if c not in contracted] + [c for c in sub_b if c not in contracted]
    result = einsum("".join(sub_a) + "," + "".join(sub_b) + "->" + "".join(out_sub), a, b)
    return _out(result, out)


# ---- Tensor methods --------------------------------------------------------------------------
def _rmatmul(self, other):
    if not isinstance(other, Tensor):
        return NotImplemented  # PyTorch: TypeError for ndarray @ Tensor
    return matmul(other, self)


def _matmul_operator(self, other):
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(self, other)


Tensor.matmul = matmul
Tensor.__matmul__ = _matmul_operator
Tensor.__rmatmul__ = _rmatmul
Tensor.mm = mm
Tensor.mv = mv
Tensor.bmm = bmm
Tensor.dot = dot
Tensor.inner = inner
Tensor.outer = Tensor.ger = outer
Tensor.addmm = addmm
Tensor.addmv = addmv
Tensor.baddbmm = baddbmm
Tensor.tensordot = tensordot
Tensor.trace = trace
Tensor.addmm_ = lambda self, mat1, mat2, *, beta=1, alpha=1: self._inplace_update(
    addmm(self, mat1, mat2, beta=beta, alpha=alpha))
