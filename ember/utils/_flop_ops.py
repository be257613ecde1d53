"""What PyTorch's FlopCounterMode would see of each ember op: the aten calls one call of the op
(and its node's backward) stands for.

NOTE [An ember op as aten calls]
PyTorch's counter is a dispatch mode: it sees the aten ops left after decomposition, below
autograd, in forward and backward, and counts the ones its registry has formulas for. ember's
ops are coarser (one `Linear` op where PyTorch runs `t` and `addmm`), their backward is often a
few NumPy calls, and some decompose otherwise (ember's batched matmul backward is a batched
matmul where PyTorch folds the batch into `mm`). So each op class whose FLOPs PyTorch counts
has a rule here: `forward(args, result)` gives the aten calls PyTorch makes for one call,
`(packet, args, kwargs, out)`, with `ShapeOnly` for operands PyTorch makes and ember does not (a
reshaped view, a gradient), and a memo from which `backward(memo, needs)` gives the calls of the
node's backward. The counter applies the registry's formulas to those calls, so `custom_mapping`
and `register_flop_formula` act on them as in PyTorch. PyTorch's choices are followed where they
change what it counts: `linear` is addmm only for a 2-d or contiguous input; `matmul` folds its
batch into mm/mv (`should_fold`: when the smaller operand requires grad, or when the larger one
folds without a copy) and else expands it into one bmm; `scaled_dot_product_attention` runs
the CPU flash kernel (which has no formula: nothing counted) when its checks pass, and else the
math composition, two bmm forward and up to four backward.
"""

from math import prod
from typing import NamedTuple

from ember.ops.attention import CausalAttention, ScaledDotProductAttention
from ember.ops.conv import Convolution, ConvTranspose, ConvWeight
from ember.ops.einsum import Einsum
from ember.ops.linalg import Addmm, Addmv, Baddbmm, Bmm, Matmul, Mm
from ember.ops.nn_ops import Linear
from ember.ops.rnn import GRUStep, LSTMStep, RecurrentInput, RNNStep
from ember.ops.scaled_mm import NoDerivative
from ember.ops.sparse import SparseMm
from ember._tensor import Tensor
from ember.utils._flop_formulas import ShapeOnly, aten_packet

_BROADCAST_ERROR = "shapes {} and {} do not broadcast"


def call(name, *args, out=None, **kwargs) -> tuple:
    """One aten call as the counter takes it: (packet, args, kwargs, output)."""
    return aten_packet(name), args, kwargs, out


def frozen(value):
    """A tensor as its ShapeOnly (a memo holds no tensor alive); other values as they are."""
    if isinstance(value, Tensor):
        return ShapeOnly(value.shape, value.dtype)
    return value


# ---- products ------------------------------------------------------------------------------
class Operand(NamedTuple):
    """What PyTorch's matmul looks at in an operand: shape, requires_grad, strides."""

    shape: tuple
    requires_grad: bool
    strides: tuple


class Product(NamedTuple):
    """One aten product: its name, operand and output shapes, and whose operands they are."""

    name: str
    first: tuple
    second: tuple
    out: tuple
    owners: tuple


def operand(t) -> Operand:
    """A tensor as a matmul operand (a tensor without strides as a contiguous one)."""
    try:
        strides = tuple(t.stride())
    except (AttributeError, RuntimeError, TypeError):
        return made(tuple(t.shape), bool(t.requires_grad))
    return Operand(tuple(t.shape), bool(t.requires_grad), strides)


def made(shape, requires_grad) -> Operand:
    """An operand PyTorch makes itself (contiguous strides)."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.insert(0, step)
        step *= max(n, 1)
    return Operand(tuple(shape), requires_grad, tuple(strides))


def _broadcast(a, b) -> tuple:
    """The broadcast of two batch shapes."""
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    if any(x != y and 1 not in (x, y) for x, y in zip(a, b)):
        raise RuntimeError(_BROADCAST_ERROR.format(list(a), list(b)))
    return tuple(max(x, y) if 0 not in (x, y) else 0 for x, y in zip(a, b))


def _should_fold(a: Operand, b: Operand) -> bool:
    """PyTorch's `should_fold`: whether matmul folds the larger operand's batch into rows."""
    if len(a.shape) >= len(b.shape):
        shape, strides, other = a.shape, a.strides, b
    else:  # the larger is b, transposed
        shape = b.shape[:-2] + (b.shape[-1], b.shape[-2])
        strides, other = b.strides[:-2] + (b.strides[-1], b.strides[-2]), a
    if not (len(shape) >= 3 and len(other.shape) <= 2):
        return False
    if other.requires_grad:
        return True
    if len(a.shape) == 2:
        return False
    if prod(shape) == 0:
        return True
    return all(strides[i] == strides[i + 1] * shape[i + 1] for i in range(len(shape) - 2))


def products(a: Operand, b: Operand, owners=(0, 1)) -> list:
    """The aten products PyTorch's matmul makes of a and b (owners name them for backward)."""
    sa, sb, (oa, ob) = a.shape, b.shape, owners
    na, nb = len(sa), len(sb)
    if na == 1 and nb == 1:
        return [Product("dot", sa, sb, (), owners)]
    if na == 2 and nb == 1:
        return [Product("mv", sa, sb, sa[:1], owners)]
    if na == 1 and nb == 2:
        return [Product("mm", (1,) + sa, sb, (1, sb[1]), owners)]
    if na == 2 and nb == 2:
        return [Product("mm", sa, sb, (sa[0], sb[1]), owners)]
    if _should_fold(a, b):
        return [_folded(sa, sb, oa, ob)]
    n, p = (sa[-2] if na > 1 else 1), (sb[-1] if nb > 1 else 1)
    batch = prod(_broadcast(sa[:-2], sb[:-2]))
    return [Product("bmm", (batch, n, sa[-1]), (batch, sb[-2] if nb > 1 else sb[0], p),
                    (batch, n, p), owners)]


def _folded(sa, sb, oa, ob) -> Product:
    """matmul's folded product: the larger operand's batch as rows, times the other (mm/mv)."""
    if len(sa) < len(sb):  # b's transpose folded, times a's transpose
        rows, inner = prod(sb[:-2]) * sb[-1], sb[-2]
        other = sa if len(sa) == 1 else (sa[1], sa[0])
        return _folded_product((rows, inner), other, ob, oa)
    return _folded_product((prod(sa[:-1]), sa[-1]), sb, oa, ob)


def _folded_product(rows, other, o_rows, o_other) -> Product:
    """mm of a folded matrix by a matrix, or mv by a vector."""
    if len(other) == 1:
        return Product("mv", rows, other, rows[:1], (o_rows, o_other))
    return Product("mm", rows, other, (rows[0], other[1]), (o_rows, o_other))


def product_calls(items, dtype=None) -> list:
    """The aten calls of some products."""
    return [call(p.name, ShapeOnly(p.first, dtype), ShapeOnly(p.second, dtype),
                 out=ShapeOnly(p.out, dtype)) for p in items]


def gradient_calls(items, needs, dtype=None) -> list:
    """The aten calls of the products' backward, last product first: the gradient of each
    operand whose owner needs one (`needs(owner)`), as PyTorch's mm/bmm/mv backward makes it."""
    calls = []
    for p in reversed(items):
        first, second = (needs(owner) for owner in p.owners)
        for shapes in _gradient_shapes(p, first, second):
            calls.append(call(p.name, *(ShapeOnly(s, dtype) for s in shapes[:2]),
                              out=ShapeOnly(shapes[2], dtype)))
    return calls


def _gradient_shapes(p: Product, first: bool, second: bool) -> list:
    """(operand, operand, output) shapes of each gradient product of p (PyTorch's backward of
    dot and of mv's matrix is an elementwise product: nothing counted)."""
    if p.name == "mv":
        rows, inner = p.first
        return [((inner, rows), (rows,), (inner,))] if second else []
    if p.name not in ("mm", "bmm"):
        return []
    *lead, m, k = p.first
    n, lead = p.second[-1], tuple(lead)
    shapes = []
    if first:  # g · secondᵀ
        shapes.append((lead + (m, n), lead + (n, k), lead + (m, k)))
    if second:  # firstᵀ · g
        shapes.append((lead + (k, m), lead + (m, n), lead + (k, n)))
    return shapes


# ---- the rules -----------------------------------------------------------------------------
def _mm(args, result):
    """mm, bmm: the op itself."""
    return [call("mm", args[0], args[1], out=result)], None


def _bmm(args, result):
    """bmm: the op itself."""
    return [call("bmm", args[0], args[1], out=result)], None


def _scaled(name):
    """addmm, baddbmm: the op, β and α passed when not 1 (as the dispatcher passes them)."""

    def rule(args, result):
        c, a, b, beta, alpha = args[:5]
        scales = {k: v for k, v in (("beta", beta), ("alpha", alpha)) if v != 1}
        return [call(name, c, a, b, out=result, **scales)], None

    return rule


def _linear(args, result):
    """linear: addmm of the rows for a 2-d or contiguous input with bias, else matmul + add."""
    x, w, b = args[:3]
    rows, k, n = prod(x.shape[:-1]), x.shape[-1], w.shape[0]
    w_t = Operand((k, n), bool(w.requires_grad), (1, k))
    if b is not None and (x.dim() == 2 or x.is_contiguous()):
        items = [Product("addmm", (rows, k), (k, n), (rows, n), (0, 1))]
        return [call("addmm", b, ShapeOnly((rows, k), x.dtype), ShapeOnly((k, n), w.dtype),
                     out=ShapeOnly((rows, n), x.dtype))], (items, x.dtype)
    items = products(operand(x), w_t)
    return product_calls(items, x.dtype), (items, x.dtype)


def _linear_backward(memo, needs):
    """The gradients of linear's product: mm (or the matmul's own products)."""
    items, dtype = memo
    items = [p._replace(name="mm") if p.name == "addmm" else p for p in items]
    return gradient_calls(items, lambda owner: needs[owner], dtype)


def _matmul(args, result):
    """matmul (batched or with a vector): PyTorch's folded mm/mv or its expanded bmm."""
    items = products(operand(args[0]), operand(args[1]))
    return product_calls(items, args[0].dtype), (items, args[0].dtype)


def _products_backward(memo, needs):
    """The gradients of matmul's products."""
    items, dtype = memo
    return gradient_calls(items, lambda owner: needs[owner], dtype)


def _einsum(args, result):
    """einsum: PyTorch's left-to-right pairwise contractions, each one bmm."""
    (inputs, out), operands = args[0], args[1:]
    items = einsum_products(inputs, out, [tuple(t.shape) for t in operands])
    return product_calls(items, operands[0].dtype), (items, operands[0].dtype)


def _einsum_backward(memo, needs):
    """The contractions' gradients: an accumulated operand needs one when any of its operands
    (needs[0] is the equation's) does."""
    items, dtype = memo
    return gradient_calls(items, lambda owners: any(needs[i + 1] for i in owners), dtype)


def einsum_products(inputs, out, shapes) -> list:
    """The bmm of each of PyTorch's einsum contractions (`sumproduct_pair`: dims of size 1 take
    no part; a dim summed away that only one side has is summed before the product; a pair
    with nothing to contract is an elementwise product)."""
    operands = [_labelled(sub, shape) for sub, shape in zip(inputs, shapes)]
    kept = set(out.replace("@", ""))
    if "@" in out:
        kept |= {label for o in operands for label in o if label[0] == "@"}
    left, items = operands[0] if operands else {}, []
    for i in range(1, len(operands)):
        right = operands[i]
        later = set().union(*operands[i + 1:])
        summed = (set(left) | set(right)) - kept - later
        batch, lo, ro, contracted = _pair_sizes(left, right, summed)
        if any(left.get(k, 1) > 1 and right.get(k, 1) > 1 for k in summed):  # (else a mul)
            items.append(Product("bmm", (batch, lo, contracted), (batch, contracted, ro),
                                 (batch, lo, ro), (tuple(range(i)), (i,))))
        left = {k: max(left.get(k, 1), right.get(k, 1))
                for k in set(left) | set(right) if k not in summed}
    return items


def _labelled(sub, shape) -> dict:
    """{label: size} of one operand's subscripts; its ellipsis dims labelled by their place
    from the right (so they broadcast as PyTorch aligns them)."""
    if "@" not in sub:
        return dict(zip(sub, shape)) if shape else {c: 1 for c in sub}
    before, after = sub.split("@")
    width = len(shape) - len(before) - len(after)
    labels = list(before) + [f"@{width - j}" for j in range(width)] + list(after)
    return dict(zip(labels, shape))


def _pair_sizes(left, right, summed) -> tuple:
    """(batch, left-only, right-only, contracted) sizes of one contraction."""
    batch = lo = ro = contracted = 1
    for label in set(left) | set(right):
        a, b = left.get(label, 1), right.get(label, 1)
        if label in summed:
            contracted *= a if a > 1 and b > 1 else 1
        elif a > 1 and b > 1:
            batch *= a
        elif a > 1:
            lo *= a
        elif b > 1:
            ro *= b
    return batch, lo, ro, contracted


def _convolution(transposed):
    """convolution (or its transpose): aten.convolution with the op's geometry."""

    def rule(args, result):
        x, w, b, geo = args[:4]
        geometry = (list(geo.stride), list(geo.lo), list(geo.dilation), transposed,
                    [0] * len(geo.stride), geo.groups)
        forward = call("convolution", x, w, b, *geometry, out=result)
        return [forward], (frozen(x), frozen(w), frozen(b), geometry, frozen(result))

    return rule


def _convolution_backward(memo, needs):
    """aten.convolution_backward with output_mask = which gradients are needed."""
    x, w, b, (stride, padding, dilation, transposed, output_padding, groups), y = memo
    mask = [bool(needs[0]), bool(needs[1]), bool(needs[2]) and b is not None]
    outs = tuple(t if m else None for t, m in zip((x, w, b), mask))
    return [call("convolution_backward", y, x, w, None if b is None else list(b.shape),
                 stride, padding, dilation, transposed, output_padding, groups, mask,
                 out=outs)]


def _conv_weight(args, result):
    """The weight gradient as an op (double backward): convolution_backward of the weight."""
    x, gy, kernel, geo = args[:4]
    nd = len(geo.stride)
    w = ShapeOnly((gy.shape[1], x.shape[1] // geo.groups) + tuple(kernel), x.dtype)
    return [call("convolution_backward", gy, x, w, None, list(geo.stride), list(geo.lo),
                 list(geo.dilation), False, [0] * nd, geo.groups, [False, True, False],
                 out=(None, result, None))], None


def _attention(args, result):
    """scaled_dot_product_attention: the CPU flash kernel when PyTorch picks it, else the math
    composition's products (MultiheadAttention's weights path: bmm, or baddbmm with a mask)."""
    q, k, v = args[:3]
    safe = args[8] if len(args) > 8 else True
    mask, bias, dropout_p = (args[3], args[4], args[6]) if len(args) > 8 else (None, None,
                                                                                args[4])
    groups = args[7] if len(args) > 8 else 1
    if safe and _flash_cpu(q, k, v, mask, bias, dropout_p, groups):
        shapes = _flash_shapes(q, k, v)
        flash = call("_scaled_dot_product_flash_attention_for_cpu", q, k, v, out=shapes[3:])
        return [flash], ("flash",) + shapes + (dropout_p,)
    items = attention_products(q, k, v, groups, mask)
    if not safe and (mask is not None or bias is not None):
        items[0] = items[0]._replace(name="baddbmm")
    calls = product_calls(items, q.dtype)
    if items[0].name == "baddbmm":
        packet, operands, kwargs, out = calls[0]
        calls[0] = (packet, (ShapeOnly(items[0].out, q.dtype),) + operands, kwargs, out)
    return calls, ("math", items, q.dtype)


def _attention_backward(memo, needs):
    """The flash kernel's backward (no formula) or the math products' gradients."""
    if memo[0] == "flash":  # (grad_out, q, k, v, out, logsumexp, dropout_p, is_causal)
        _, q, k, v, out, logsumexp, dropout_p = memo
        return [call("_scaled_dot_product_flash_attention_for_cpu_backward", out, q, k, v, out,
                     logsumexp, dropout_p, False, attn_mask=None, out=(q, k, v))]
    _, items, dtype = memo
    items = [p._replace(name="bmm") if p.name == "baddbmm" else p for p in items]
    has_mask = len(needs) > 8
    scores = bool(needs[0] or needs[1] or (has_mask and needs[3]))
    return gradient_calls(items, lambda owner: scores if owner == "s" else needs[owner], dtype)


def _flash_shapes(q, k, v) -> tuple:
    """(q, k, v, output, logsumexp) of the flash kernel, as shapes."""
    out = ShapeOnly(tuple(q.shape[:-1]) + (v.shape[-1],), q.dtype)
    return frozen(q), frozen(k), frozen(v), out, ShapeOnly(q.shape[:-1], q.dtype)


def attention_products(q, k, v, groups, mask=None) -> list:
    """The two products of the math composition: (q·c)·(kᵀ·c), then the weights times v
    (keys and values repeated per query head with grouped-query attention)."""
    ks, vs = tuple(k.shape), tuple(v.shape)
    if groups > 1:
        ks, vs = (s[:-3] + (s[-3] * groups,) + s[-2:] for s in (ks, vs))
    k_t = made(ks[:-2] + (ks[-1], ks[-2]), bool(k.requires_grad))
    first = products(made(tuple(q.shape), bool(q.requires_grad)), k_t, (0, 1))
    lead = _broadcast(tuple(q.shape)[:-2], ks[:-2])
    needs = q.requires_grad or k.requires_grad or (mask is not None and mask.requires_grad)
    weights = made(lead + (q.shape[-2], ks[-2]), bool(needs))
    return first + products(weights, made(vs, bool(v.requires_grad)), ("s", 2))


def _flash_cpu(q, k, v, mask, bias, dropout_p, groups) -> bool:
    """Whether PyTorch's CPU attention runs its flash kernel (`use_flash_attention_cpp`):
    no dropout, 4-d operands of one batch size and head count (or grouped heads), the same
    head dim, non-empty sequences, unit last strides, and a mask it can take."""
    if dropout_p > 0.0 or not q.dim() == k.dim() == v.dim() == 4:
        return False
    if not q.shape[0] == k.shape[0] == v.shape[0] or k.shape[1] != v.shape[1]:
        return False
    if q.shape[1] != k.shape[1] and (groups == 1 or q.shape[1] % k.shape[1]):
        return False
    if not q.shape[-1] == k.shape[-1] == v.shape[-1] or 0 in (q.shape[2], k.shape[2]):
        return False
    if any(t.stride(-1) != 1 for t in (q, k, v)):
        return False
    return _flash_mask(mask if mask is not None else bias, q, k)


def _flash_mask(mask, q, k) -> bool:
    """Whether the flash kernel takes this mask (`check_attn_mask_shape`)."""
    if mask is None:
        return True
    if getattr(mask, "requires_grad", False):
        return False
    shape = tuple(mask.shape)
    if shape[-2] not in (q.shape[2], 1) or shape[-1] not in (k.shape[2], 1):
        return False
    return len(shape) == 2 or (len(shape) == 4 and shape[0] in (1, q.shape[0])
                               and shape[1] in (1, q.shape[1]))


def _no_derivative(args, result):
    """An op without derivative (`_scaled_mm`): the aten op it names, on its tensors."""
    return [call(args[0], *args[2:], out=result)], None


def _sparse_mm(args, result):
    """sparse · dense (and dense · sparse, form "rmm"): mm of the shapes (PyTorch's formula
    reads shapes only)."""
    dense, n, form = args[1], args[4], (args[5] if len(args) > 5 else "mm")
    if form == "mv":
        return [call("mv", ShapeOnly((n, dense.shape[0])), dense, out=result)], None
    if form == "rmm":  # D·S, computed as (Sᵀ·Dᵀ)ᵀ: Sᵀ has n rows
        return [call("mm", dense, ShapeOnly((dense.shape[-1], n)), out=result)], None
    return [call("mm", ShapeOnly((n, dense.shape[0])), dense, out=result)], None


def _cell_step(h_at, w_at, b_at, tape_at):
    """A recurrent cell's hidden projection h·W_hhᵀ + b_hh: addmm (mm without bias), as
    PyTorch's cells compute it, also from a zero state (a step of a whole layer: nothing, ember
    fusing the layer where PyTorch's CPU LSTM runs oneDNN)."""

    def rule(args, result):
        if len(args) > tape_at and args[tape_at] is not None:
            return [], ()
        h, w, b = args[h_at], args[w_at], args[b_at]
        rows, size, gates = h.shape[0], h.shape[1], w.shape[0]
        operands = (ShapeOnly((rows, size), h.dtype), ShapeOnly((size, gates), w.dtype))
        out = ShapeOnly((rows, gates), h.dtype)
        if b is None:
            return [call("mm", *operands, out=out)], (rows, size, gates, h.dtype, h_at, w_at)
        return [call("addmm", b, *operands, out=out)], (rows, size, gates, h.dtype, h_at, w_at)

    return rule


def _cell_step_backward(memo, needs):
    """The hidden projection's gradients: mm for the state and for W_hh."""
    if not memo:
        return []
    rows, size, gates, dtype, h_at, w_at = memo
    item = Product("mm", (rows, size), (size, gates), (rows, gates), (h_at, w_at))
    return gradient_calls([item], lambda owner: needs[owner], dtype)


def _nothing(args, result):
    """An op PyTorch counts nothing for (an LSTM's input projection: aten.lstm's own kernel)."""
    return [], ()


def _nothing_backward(memo, needs):
    """Nothing counted, the node's inner ops not looked at."""
    return []


# op class -> (forward rule, backward rule or None); None: counted by its own aten name
RULES = {
    Mm: (_mm, None), Bmm: (_bmm, None), Addmm: (_scaled("addmm"), None),
    Baddbmm: (_scaled("baddbmm"), None), Addmv: None,
    Linear: (_linear, _linear_backward), Matmul: (_matmul, _products_backward),
    Einsum: (_einsum, _einsum_backward),
    Convolution: (_convolution(False), _convolution_backward),
    ConvTranspose: (_convolution(True), _convolution_backward),
    ConvWeight: (_conv_weight, None),
    ScaledDotProductAttention: (_attention, _attention_backward),
    CausalAttention: (_attention, _attention_backward),
    NoDerivative: (_no_derivative, None), SparseMm: (_sparse_mm, None),
    RecurrentInput: (_nothing, _nothing_backward),
    RNNStep: (_cell_step(1, 2, 3, 6), _cell_step_backward),
    GRUStep: (_cell_step(1, 2, 3, 5), _cell_step_backward),
    LSTMStep: (_cell_step(1, 3, 4, 7), _cell_step_backward),
}
_FOUND = {}


def rule_for(cls):
    """The rule of an op class (its own or its nearest base's), or None."""
    if cls not in _FOUND:
        found = None
        for klass in cls.__mro__:
            if klass in RULES:
                found = RULES[klass]
                break
        _FOUND[cls] = found
    return _FOUND[cls]
