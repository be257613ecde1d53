"""einsum and tensordot: contractions named by index letters, with their gradient helpers.

Two-operand contractions run as one batched `matmul` (BLAS) when they can (see NOTE [einsum on
BLAS]), the rest through `einsum`. The backward of a contraction is itself a contraction of
ember tensors (see NOTE [einsum's backward]), so second derivatives work.
"""

import math
import string

from ember import _dtype
from ember._backend import get_array_module, xp
from ember._registry import op
from ember.ops._out_rules import copied, tensordot_out
from ember._tensor import Tensor, wrap_dim
from ember.autograd.function import Op
from ember.ops._bool_products import refuse_bool_tensordot
from ember.ops._wirtinger import conj
from ember.ops.broadcast import expand_to, sum_to
from ember.ops.reduction import expand_dims


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
        dtype = operands[0]._data.dtype
        arrays = [x._data for x in operands]
        if dtype.itemsize == 2 and dtype.kind not in "iub":  # NumPy's einsum has no bfloat16
            arrays = [a.astype(xp.float32) for a in arrays]
        ctx.equation = equation
        ctx.save_for_backward(*operands)
        y = _einsum_as_matmul(*equation, *arrays) if len(arrays) == 2 else None
        if y is None:
            try:
                y = xp.asanyarray(xp.einsum(_unparse(*equation), *arrays,
                                            optimize=len(arrays) > 1))
            except ValueError as error:
                raise RuntimeError(f"einsum(): {error}") from None
        return y if y.dtype == dtype else y.astype(dtype)  # half products round back

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
    k = int(xp.prod([size_a[c] for c in contract]))
    rows = int(xp.prod([size_a[c] for c in left]))
    cols = int(xp.prod([size_b[c] for c in right]))
    a3 = a.transpose([sa.index(c) for c in batch + left + contract]).reshape(
        [size_a[c] for c in batch] + [rows, k])
    b3 = b.transpose([sb.index(c) for c in batch + contract + right]).reshape(
        [size_b[c] for c in batch] + [k, cols])
    y = xp.matmul(a3, b3)
    order = batch + left + right
    y = y.reshape(list(y.shape[:len(batch)]) + [size_a[c] for c in left]
                  + [size_b[c] for c in right])
    y = y.transpose([order.index(c) for c in out])
    return y if y.flags.c_contiguous else y.copy()


def _einsum_grad(equation, operands, i, gy):
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
    # multilinear, so holomorphic in each operand: the other operands enter conjugated
    tensors = [gy] + [conj(t) for j, t in enumerate(operands) if j != i] + [
        Tensor._make(get_array_module(x._data).eye(n, dtype=x._data.dtype)) for _, n in deltas]
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
        g = expand_to(g, xp.broadcast_shapes(g._data.shape, x._data.shape))
    return sum_to(g, x._data.shape)


def _subscript(n) -> str:
    """One entry of einsum's sublist format: 0-25 are A-Z, 26-51 a-z, Ellipsis '...'."""
    if n is Ellipsis:
        return "..."
    if isinstance(n, Tensor) and n._data.size != 1:  # PyTorch's `n >= 0` on such a tensor
        count = "more than one value" if n._data.size else "no values"
        raise RuntimeError(f"einsum(): Boolean value of Tensor with {count} is ambiguous (a "
                           "subscript list holds a tensor)")
    if 0 <= n < 26:
        return chr(ord("A") + n)
    if 26 <= n < 52:
        return chr(ord("a") + n - 26)
    raise ValueError("einsum(): subscript in subscript list is not within the valid range "
                     "[0, 52)")


def _einsum_arguments(args) -> tuple:
    """(equation, operands) of `einsum(equation, *operands)`, `einsum(equation, [operands])`
    or the sublist format `einsum(op1, sublist1, op2, sublist2, ..., [output sublist])`."""
    if len(args) < 2:
        raise ValueError("einsum(): must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    if isinstance(args[0], Tensor):
        equation = ",".join("".join(_subscript(n) for n in sub) for sub in args[1::2])
        if len(args) % 2:
            equation += "->" + "".join(_subscript(n) for n in args[-1])
        operands = args[:-1:2] if len(args) % 2 else args[::2]
    else:
        equation, operands = args[0], args[1:]
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError("einsum(): argument 'equation' (position 1) must be str, not "
                        f"{type(equation).__name__}")
    for i, operand in enumerate(operands):
        if not isinstance(operand, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got "
                            f"{type(operand).__name__}")
    return equation, tuple(operands)


def _spell_ellipsis(inputs, out, operands) -> tuple:
    """(inputs, out) with an ellipsis the output leaves out (summed away: `'...->'`) spelled
    as unused letters, the same letter for the same dim counted from the right: NumPy's einsum
    cannot sum an ellipsis away, PyTorch's can."""
    if "@" in out or not any("@" in sub for sub in inputs):
        return inputs, out
    widths = [x._data.ndim - (len(sub) - 1) for sub, x in zip(inputs, operands) if "@" in sub]
    if min(widths) < 0:
        return inputs, out  # too few dims: einsum's own error
    used = set("".join(inputs))
    letters = "".join(c for c in string.ascii_letters if c not in used)[:max(widths)]
    return [sub.replace("@", letters[len(letters) - x._data.ndim + len(sub) - 1:])
            for sub, x in zip(inputs, operands)], out


@op
def einsum(*args) -> Tensor:
    """Sum of products over the indices an equation names (matches `torch.einsum`)."""
    equation, operands = _einsum_arguments(args)
    parsed = _spell_ellipsis(*_parse(equation, len(operands)), operands)
    dtype = _dtype.result_type(*operands)
    if len(operands) == 1 and not (dtype.is_floating_point or dtype.is_complex) and (
            set(parsed[0][0]) - set(parsed[1])):
        dtype = _dtype.int64  # a sum over indices: PyTorch's sum gives integers as int64
    operands = tuple(o if o.dtype is dtype else o.to(dtype) for o in operands)
    return Einsum.apply(parsed, *operands)


def _tensordot_dims(a: Tensor, b: Tensor, dims) -> tuple:
    """(dims of a, dims of b) to contract, read as torch.tensordot's Python front does."""
    if isinstance(dims, Tensor):
        if dims._data.size > 1:
            if dims._data.shape[0] != 2:
                raise AssertionError(
                    f"dims tensor must have size 2 in first dimension, got {dims._data.shape[0]}")
            return dims[0].tolist(), dims[1].tolist()
        dims = int(dims.item())
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        return list(range(-dims, 0)), list(range(dims))
    if isinstance(dims, (tuple, list)):
        dims_a, dims_b = dims
        for d in (dims_a, dims_b):
            if isinstance(d, int):
                raise TypeError("tensordot(): argument 'dims_self' (position 3) must be tuple of "
                                "ints, not int")
        return list(dims_a), list(dims_b)
    if not isinstance(dims, int):
        raise RuntimeError("tensordot expects dims to be int or tuple[list[int], list[int]] or "
                           f"list[list[int]] containing two lists, but got dims={dims}")
    if dims < 0:
        raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
    if dims > min(a._data.ndim, b._data.ndim):
        raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
    return list(range(-dims, 0)), list(range(dims))


@op(out=copied(tensordot_out))
def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Contract the given axes of a with those of b (matches `torch.tensordot`)."""
    dims_a, dims_b = _tensordot_dims(a, b, dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    na, nb = a._data.ndim, b._data.ndim
    shape_a, shape_b = a._data.shape, b._data.shape
    csize = 1  # the number of elements contracted
    for da, db in zip(dims_a, dims_b):
        # NOTE [tensordot broadcasts size 1]: PyTorch contracts a size-1 dim with a size-n
        # dim by summing the size-n side over that dim first (a's side when both are 1).
        size_a, size_b = shape_a[wrap_dim(da, na)], shape_b[wrap_dim(db, nb)]
        if size_b == 1:
            a = a.sum(da, keepdim=True)
        elif size_a == 1:
            b = b.sum(db, keepdim=True)
        elif size_a != size_b:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{size_a} in dim {da} and second has size {size_b} in dim {db}")
        else:
            csize *= size_a
    wrapped_a, wrapped_b = [wrap_dim(d, na) for d in dims_a], [wrap_dim(d, nb) for d in dims_b]
    for wrapped in (wrapped_a, wrapped_b):
        for d in wrapped:
            if wrapped.count(d) > 1:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    free_a = [d for d in range(na) if d not in wrapped_a]
    free_b = [d for d in range(nb) if d not in wrapped_b]
    out_shape = [a._data.shape[d] for d in free_a] + [b._data.shape[d] for d in free_b]
    size1, size2 = math.prod(out_shape[:len(free_a)]), math.prod(out_shape[len(free_a):])
    if a._data.dtype.kind == "b":  # NOTE [No bool matrix products]
        refuse_bool_tensordot(a, size1, size2, csize)
    # PyTorch's algorithm (so its graph: permute, reshape, mm, view): a full contraction is a
    # dot of the flattened operands when both are contiguous after the permutation, else a
    # sum of their product; anything else one matrix product.
    t1, t2 = a.permute(free_a + wrapped_a), b.permute(wrapped_b + free_b)
    if size1 != 1 or size2 != 1:
        return t1.reshape(size1, csize).mm(t2.reshape(csize, size2)).reshape(out_shape)
    if t1.is_contiguous() and t2.is_contiguous():
        return t1.flatten().dot(t2.flatten()).reshape(out_shape)
    return (t1.squeeze() * t2.squeeze()).sum(dtype=t1.dtype).reshape(out_shape)
