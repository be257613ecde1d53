"""einsum and tensordot: contractions named by index letters, with their gradient helpers.

Two-operand contractions run as one batched `matmul` (BLAS) when they can (see NOTE [einsum on
BLAS]), the rest through `einsum`. The backward of a contraction is itself a contraction of
ember tensors (see NOTE [einsum's backward]), so second derivatives work.
"""

import string

from ember import _dtype
from ember._backend import get_array_module, xp
from ember._registry import op
from ember._tensor import Tensor
from ember.autograd.function import Op
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


@op
def einsum(equation: str, *operands) -> Tensor:
    """Sum of products over the indices an equation names (matches `torch.einsum`)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    dtype = _dtype.result_type(*operands)
    operands = tuple(o if o.dtype is dtype else o.to(dtype) for o in operands)
    return Einsum.apply(_parse(equation, len(operands)), *operands)


@op(out=True)
def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
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
        # NOTE [tensordot broadcasts size 1]: PyTorch contracts a size-1 dim with a size-n
        # dim by summing the size-n side over that dim first.
        size_a, size_b = a._data.shape[da], b._data.shape[db]
        if size_a == 1 and size_b != 1:
            b = b.sum(db, keepdim=True)
        elif size_b == 1 and size_a != 1:
            a = a.sum(da, keepdim=True)
        elif size_a != size_b:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a._data.shape[da]} in dim {da} and second has size "
                               f"{b._data.shape[db]} in dim {db}")
        sub_b[db % nb] = sub_a[da % na]
    contracted = {sub_a[d % na] for d in dims_a}
    out_sub = [c for c in sub_a if c not in contracted] + [c for c in sub_b if c not in contracted]
    return einsum("".join(sub_a) + "," + "".join(sub_b) + "->" + "".join(out_sub), a, b)
