"""Scaled dot-product attention as one fused op: scores, mask, softmax, dropout and the
weighted sum of values forward, and all their gradients backward, on whole arrays.

NOTE [Attention shapes]
query (..., Hq, L, E), key (..., Hk, S, E), value (..., Hk, S, Ev); the leading dims broadcast
as in matmul. Masks broadcast to the scores (..., Hq, L, S). With grouped-query attention
(enable_gqa) each key/value head serves G = Hq / Hk query heads: query head h reads key head
h // G (PyTorch's `repeat_interleave` of the key heads). Instead of copying the keys G times, the
op views query as (..., Hk, G, L, E) and key/value as (..., Hk, 1, S, E), so matmul broadcasts
over the group axis and the backward sums over it.

NOTE [16-bit attention]
PyTorch's CPU attention computes float16/bfloat16 query, key and value in float32 (its math
path widens them; the flash kernel accumulates in float32) and rounds the output and weights to
the input dtype once; `attention` does the same, so the gradients are rounded once too.

NOTE [Rows with no allowed key]
When a mask blocks every key of a query row, PyTorch's scaled_dot_product_attention gives that
row zero weights, zero output and zero gradient (its "safe softmax"). Multi-head attention's
weights path (`need_weights=True`) uses a plain softmax instead and returns NaN there; the op
takes a `safe` flag for the two behaviours.
"""

import math

from ember._autocast import lower_precision
from ember._backend import get_array_module, quiet, xp
from ember._dtype import _SHORT
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.autograd.function import EXPORT_HOOK, VMAP_HOOK, Op
from ember.ops._node_names import attention_node  # NOTE [grad_fn names of composite ops]
from ember.ops._opmath import is_half
from ember.ops.broadcast import _sum_to_shape, sum_to
from ember.ops.comparison import where
from ember.ops.softmax import softmax
from ember.ops.sampling import dropout_noise

_state = grad_mode._state

_TYPE_WORDS = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
               "int32": "int", "bool": "bool", "bfloat16": "c10::BFloat16"}


def _const(array) -> Tensor:
    return Tensor._make(xp.asanyarray(array))


def _grouped_shape(shape, groups: int, is_query: bool):
    """(..., H, L, E) as (..., H/G, G, L, E) (query, masks) or (..., H, 1, S, E) (key, value);
    NOTE [Attention shapes]."""
    shape = (1,) * (3 - len(shape)) + tuple(shape)
    *lead, heads, rows, cols = shape
    if not is_query or heads == 1:
        return tuple(lead) + (heads, 1, rows, cols)
    return tuple(lead) + (heads // groups, groups, rows, cols)


def _group_heads(array, groups: int, is_query: bool):
    """array viewed with the group axis of grouped-query attention (unchanged if G = 1)."""
    if groups == 1:
        return array
    return array.reshape(_grouped_shape(array.shape, groups, is_query))


def _softmax_rows(scores, safe: bool):
    """softmax over the last axis, in place; fully blocked rows give 0 (safe) or NaN."""
    top = scores.max(axis=-1, keepdims=True)
    if safe:
        top[top == -xp.inf] = 0
    with quiet():
        scores -= top
        xp.exp(scores, out=scores)
        total = scores.sum(axis=-1, keepdims=True)
        if safe:
            total[total == 0] = 1
        scores /= total
    return scores


class ScaledDotProductAttention(Op):
    """s = c·q·kᵀ + m + b;  p = softmax(s);  p̃ = p·D (dropout);  y = p̃·v;  returns (y, p̃).

    m is a float mask (a differentiable input), b the constant bias of bool / causal masks, c the
    scale, D the kept/(1-p) dropout mask. With ĝ = gy·vᵀ + gp̃ (the weights' own gradient):
    gv = p̃ᵀ·gy,  gs = p·(ĝD - Σ_j ĝD·p),  gq = c·gs·k,  gk = c·gsᵀ·q,  gm = gs,
    each summed back to its input's shape over broadcast and group axes.
    """

    node_name = "ScaledDotProductAttentionBackward0"

    @staticmethod
    def forward(ctx, q, k, v, mask, bias, scale, dropout_p, groups, safe):
        ctx.set_materialize_grads(False)
        q5, k5, v5 = (_group_heads(t._data, groups, i == 0) for i, t in enumerate((q, k, v)))
        scores = xp.matmul(q5, xp.swapaxes(k5, -1, -2))
        scores *= xp.asarray(scale, dtype=scores.dtype)
        if mask is not None:
            scores = scores + _group_heads(mask._data, groups, True)
        if bias is not None:
            scores = scores + _group_heads(bias, groups, True)
        p = _softmax_rows(scores, safe)
        keep = None
        if dropout_p > 0.0:
            module = get_array_module(p)
            keep = module.zeros(p.shape, dtype=p.dtype) if dropout_p >= 1.0 else (
                dropout_noise(p.shape, dropout_p, p.dtype))  # torch's dropout draws
        weights = p if keep is None else p * keep
        y = xp.matmul(weights, v5)
        out_shape = y.shape if groups == 1 else y.shape[:-4] + (-1,) + y.shape[-2:]
        ctx.p, ctx.keep, ctx.scale, ctx.groups, ctx.bias = p, keep, scale, groups, bias
        ctx.save_for_backward(q, k, v, mask)
        weights_shape = weights.shape if groups == 1 else out_shape[:-1] + weights.shape[-1:]
        return y.reshape(out_shape), weights.reshape(weights_shape)

    @staticmethod
    def backward(ctx, gy, gw):
        q, k, v, mask = ctx.saved_tensors
        if not _state["enabled"]:
            return _attention_backward_arrays(ctx, gy, gw, q, k, v, mask)
        return _attention_backward_tensors(ctx, gy, gw, q, k, v, mask)


def _attention_backward_arrays(ctx, gy, gw, q, k, v, mask):
    """The backward on arrays, for ordinary (first-order) backward passes."""
    groups, p, keep = ctx.groups, ctx.p, ctx.keep
    q5, k5, v5 = (_group_heads(t._data, groups, i == 0) for i, t in enumerate((q, k, v)))
    weights = p if keep is None else p * keep
    g = None if gy is None else gy._data.reshape(weights.shape[:-1] + gy.shape[-1:])
    gq = gk = gv = gm = None
    if ctx.needs_input_grad[2] and g is not None:
        gv = _sum_to_shape(xp.matmul(xp.swapaxes(weights, -1, -2), g), v5.shape)
        gv = Tensor._make(gv.reshape(v._data.shape))
    ghat = xp.zeros_like(p) if g is None else xp.matmul(g, xp.swapaxes(v5, -1, -2))
    if gw is not None:
        ghat = ghat + gw._data.reshape(p.shape)
    if keep is not None:
        ghat *= keep
    gs = ghat - (ghat * p).sum(axis=-1, keepdims=True)
    gs *= p
    if ctx.needs_input_grad[3]:
        gm = _sum_to_shape(gs, _group_heads(mask._data, groups, True).shape)
        gm = Tensor._make(gm.reshape(mask._data.shape))
    gs = gs * xp.asarray(ctx.scale, dtype=gs.dtype)  # not in place: gm may be gs itself
    if ctx.needs_input_grad[0]:
        gq = Tensor._make(_sum_to_shape(xp.matmul(gs, k5), q5.shape).reshape(q._data.shape))
    if ctx.needs_input_grad[1]:
        gk = _sum_to_shape(xp.matmul(xp.swapaxes(gs, -1, -2), q5), k5.shape)
        gk = Tensor._make(gk.reshape(k._data.shape))
    return gq, gk, gv, gm, None, None, None, None, None


def _group_tensor(t: Tensor, groups: int, is_query: bool) -> Tensor:
    """`_group_heads` for Tensors (a differentiable reshape)."""
    if groups == 1:
        return t
    return t.reshape(_grouped_shape(t.shape, groups, is_query))


def _attention_backward_tensors(ctx, gy, gw, q, k, v, mask):
    """The same backward with ember ops, recomputing p from q and k so that create_graph=True
    can differentiate it again."""
    groups, keep = ctx.groups, ctx.keep
    q5, k5, v5 = (_group_tensor(t, groups, i == 0) for i, t in enumerate((q, k, v)))
    scores = q5.matmul(k5.transpose(-1, -2)) * ctx.scale
    if mask is not None:
        scores = scores + _group_tensor(mask, groups, True)
    if ctx.bias is not None:
        scores = scores + _const(_group_heads(ctx.bias, groups, True))
    blocked = _const(ctx.p.sum(axis=-1, keepdims=True) == 0)
    p = where(blocked, 0.0, softmax(scores, -1))
    weights = p if keep is None else p * _const(keep)
    ghat = None
    gq = gk = gv = gm = None
    if gy is not None:
        g = gy.reshape(weights.shape[:-1] + gy.shape[-1:])
        if ctx.needs_input_grad[2]:
            gv = sum_to(weights.transpose(-1, -2).matmul(g), v5.shape).reshape(v.shape)
        ghat = g.matmul(v5.transpose(-1, -2))
    if gw is not None:
        gw = gw.reshape(p.shape)
        ghat = gw if ghat is None else ghat + gw
    if keep is not None:
        ghat = ghat * _const(keep)
    gs = p * (ghat - (ghat * p).sum(-1, keepdim=True))
    if ctx.needs_input_grad[3]:
        gm = sum_to(gs, _group_tensor(mask, groups, True).shape).reshape(mask.shape)
    gs = gs * ctx.scale
    if ctx.needs_input_grad[0]:
        gq = sum_to(gs.matmul(k5), q5.shape).reshape(q.shape)
    if ctx.needs_input_grad[1]:
        gk = sum_to(gs.transpose(-1, -2).matmul(q5), k5.shape).reshape(k.shape)
    return gq, gk, gv, gm, None, None, None, None, None


# ---- causal attention by blocks ---------------------------------------------------------------
# NOTE [Causal attention by blocks]
# With is_causal, query row i attends to keys 0..i only, so half of the (L, L) scores are -inf
# before the softmax and half of the weights are 0 after it; computing them all (the general
# op above) spends half the matrix products and memory passes on nothing. PyTorch's CPU flash
# kernel skips them; here the query rows go in blocks of `rows`, and block [r0, r1) is
# multiplied with the keys and values 0..r1 - 1 only, the -inf bias applied to its last
# columns. Forward and backward are the general op's formulas restricted to those columns, so
# the results agree with it to float32 rounding (sums over fewer zero terms; the key and value
# gradients accumulated block by block). Dropout draws the whole (L, L) noise first, as the
# general op does, so the kept weights are PyTorch's draws. With create_graph the backward
# falls back to the general op's (recomputing the scores). Taken for equal query and key
# lengths of at least two blocks, matching leading dims, no other mask, float32/float64.
_MIN_BLOCK = 64


def block_rows(query, key, value, attn_mask, is_causal, groups) -> int:
    """The rows per block for a causal attention of these operands, or 0 where the blocked
    path does not apply (NOTE above)."""
    q, k, v = query._data, key._data, value._data
    length = q.shape[-2]
    if EXPORT_HOOK[0] is not None or VMAP_HOOK[0] is not None:  # (they know the general op)
        return 0
    if (not is_causal or attn_mask is not None or groups != 1 or q.dtype.char not in "fd"
            or q.ndim < 3 or not q.shape[:-2] == k.shape[:-2] == v.shape[:-2]
            or k.shape[-2] != length or length < 2 * _MIN_BLOCK):
        return 0
    return max(_MIN_BLOCK, length // 8)


def _blocks(length, rows):
    """The (start, stop) of each block of query rows."""
    return [(start, min(start + rows, length)) for start in range(0, length, rows)]


class CausalAttention(Op):
    """y = softmax(c·q·kᵀ + causal)·D·v by blocks of query rows (NOTE [Causal attention by
    blocks]); gradients as ScaledDotProductAttention's, block by block."""

    node_name = "ScaledDotProductAttentionBackward0"

    @staticmethod
    def forward(ctx, q, k, v, scale, dropout_p, rows):
        qd, kd, vd = q._data, k._data, v._data
        length, module = qd.shape[-2], get_array_module(qd)
        keep = None
        if dropout_p > 0.0:
            shape = qd.shape[:-1] + (length,)
            keep = module.zeros(shape, dtype=qd.dtype) if dropout_p >= 1.0 else (
                dropout_noise(shape, dropout_p, qd.dtype))
        y = module.empty(qd.shape[:-1] + vd.shape[-1:], dtype=qd.dtype)
        bias = xp.where(module.tri(rows, dtype=bool), qd.dtype.type(0), qd.dtype.type(-xp.inf))
        weights = []
        for start, stop in _blocks(length, rows):
            scores = xp.matmul(qd[..., start:stop, :], xp.swapaxes(kd[..., :stop, :], -1, -2))
            scores *= xp.asarray(scale, dtype=scores.dtype)
            scores[..., start:] += bias[:stop - start, :stop - start]
            p = _softmax_rows(scores, True)
            weights.append(p)
            kept = p if keep is None else p * keep[..., start:stop, :stop]
            xp.matmul(kept, vd[..., :stop, :], out=y[..., start:stop, :])
        ctx.weights, ctx.keep, ctx.scale, ctx.rows = weights, keep, scale, rows
        ctx.save_for_backward(q, k, v)
        return y

    @staticmethod
    def backward(ctx, gy):
        q, k, v = ctx.saved_tensors
        if _state["enabled"]:  # create_graph: the general op's backward, as ops
            return _general_backward(ctx, gy, q, k, v)
        qd, kd, vd, g = q._data, k._data, v._data, gy._data
        module = get_array_module(qd)
        gq = module.empty(qd.shape, dtype=qd.dtype)
        gk, gv = module.zeros(kd.shape, dtype=kd.dtype), module.zeros(vd.shape, dtype=vd.dtype)
        scale = xp.asarray(ctx.scale, dtype=qd.dtype)
        for (start, stop), p in zip(_blocks(qd.shape[-2], ctx.rows), ctx.weights):
            keep = None if ctx.keep is None else ctx.keep[..., start:stop, :stop]
            rows = g[..., start:stop, :]
            kept = p if keep is None else p * keep
            gv[..., :stop, :] += xp.matmul(xp.swapaxes(kept, -1, -2), rows)
            ghat = xp.matmul(rows, xp.swapaxes(vd[..., :stop, :], -1, -2))
            if keep is not None:
                ghat *= keep
            ghat -= (ghat * p).sum(axis=-1, keepdims=True)
            ghat *= p
            ghat *= scale
            xp.matmul(ghat, kd[..., :stop, :], out=gq[..., start:stop, :])
            gk[..., :stop, :] += xp.matmul(xp.swapaxes(ghat, -1, -2), qd[..., start:stop, :])
        needs = ctx.needs_input_grad
        return tuple(Tensor._make(a) if need else None
                     for a, need in zip((gq, gk, gv), needs)) + (None, None, None)


def _general_backward(ctx, gy, q, k, v):
    """The backward of create_graph: ScaledDotProductAttention's op-level one, given the
    whole causal bias and no blocked rows (a causal row always sees its own key)."""
    length, module = q._data.shape[-2], get_array_module(q._data)
    ctx.groups, ctx.bias = 1, xp.where(module.tri(length, dtype=bool), q._data.dtype.type(0),
                                       q._data.dtype.type(-xp.inf))
    ctx.p = module.ones(q._data.shape[:-1] + (1,), dtype=q._data.dtype)  # (no row all -inf)
    grads = _attention_backward_tensors(ctx, gy, None, q, k, v, None)
    return grads[:3] + (None, None, None)


# ---- checks and the public function -----------------------------------------------------------
def _word(t: Tensor) -> str:
    return _TYPE_WORDS.get(t.dtype.name, t.dtype.name)


def _check_operands(query, key, value, attn_mask):
    """PyTorch's first checks (ranks and dtypes), in its order, with its messages."""
    _check_validated(query, key, value, attn_mask)
    _check_kernel_dtype(query)


def _check_validated(query, key, value, attn_mask):
    """validate_sdpa_input's checks: ranks, matching dtypes, the mask's dtype."""
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
            f"{query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead.")
    if not (query.dtype is key.dtype is value.dtype):
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_word(query)} key.dtype: {_word(key)} and value.dtype: {_word(value)} instead.")
    if attn_mask is not None and attn_mask.dtype.name not in ("bool", "float32") \
            and attn_mask.dtype is not query.dtype:
        raise RuntimeError(
            "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
            f"attn_mask.dtype: {_word(attn_mask)} and  query.dtype: {_word(query)} instead.")


def _check_kernel_dtype(query):
    """The dtypes the math kernel has no kernel for (checked once a backend is chosen)."""
    if query.dtype.is_complex:  # (torch gets as far as its softmax kernel)
        raise NotImplementedError('"softmax_lastdim_kernel_impl" not implemented for '
                                  f"'{_SHORT[query.dtype.name]}'")
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"expected scalar type Float but found {_SHORT[query.dtype.name]}")


def _check_inputs(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa):
    """PyTorch's checks, in its order, with its messages.

    NOTE [attn_mask with is_causal]
    Only torch's math kernel refuses an explicit attn_mask with is_causal=True (after
    validate_sdpa_input, before its kernels' dtype errors). The CPU flash kernel takes both
    and applies the mask plus the causal one: ember.nn.attention._sdp folds the two into one
    mask when torch would choose flash, so reaching here with both means the math path."""
    _check_validated(query, key, value, attn_mask)
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    _check_kernel_dtype(query)
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"Expected query, key and value to have matching feature and sequence sizes, but got "
            f"query {list(query.shape)}, key {list(key.shape)} and value {list(value.shape)}")


def _groups(query, key, value, enable_gqa):
    """(key, value, G): G query heads per key/value head (1 without grouped-query attention)."""
    if not enable_gqa or min(query.ndim, key.ndim, value.ndim) < 3:
        return key, value, 1
    heads, k_heads, v_heads = query.shape[-3], key.shape[-3], value.shape[-3]
    if heads % k_heads or heads % v_heads:
        raise RuntimeError("Number of heads in key and value must divide the number of heads in ")
    if k_heads != v_heads:  # rare: PyTorch repeats key and value heads separately
        key = key.repeat_interleave(heads // k_heads, -3)
        value = value.repeat_interleave(heads // v_heads, -3)
        return key, value, 1
    return key, value, heads // k_heads


def _broadcast_shape(*shapes):
    """Broadcast shapes, raising PyTorch's message when two sizes disagree."""
    ndim = max(len(s) for s in shapes)
    result = [1] * ndim
    for shape in shapes:
        padded = (1,) * (ndim - len(shape)) + tuple(shape)
        for i, size in enumerate(padded):
            if size != 1 and result[i] != 1 and size != result[i]:
                raise RuntimeError(f"The size of tensor a ({result[i]}) must match the size of "
                                   f"tensor b ({size}) at non-singleton dimension {i}")
            result[i] = max(result[i], size) if size != 1 else result[i]
    return tuple(result)


def _mask_bias(attn_mask, is_causal, length, source, dtype, module):
    """The constant additive bias of a bool mask or of is_causal (None for none)."""
    if is_causal:  # PyTorch aligns the causal mask top-left: row i sees keys 0..i
        allowed = module.tri(length, source, dtype=bool)
    elif attn_mask is not None and attn_mask.dtype.name == "bool":
        allowed = attn_mask._data
    else:
        return None
    return xp.where(allowed, dtype.type(0), dtype.type(-xp.inf))


def attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None, dropout_p=0.0,
              is_causal=False, scale=None, enable_gqa=False, safe=True):
    """(output, weights after dropout) of scaled dot-product attention, after PyTorch's checks
    (weights None from the causal blocks' path)."""
    _check_inputs(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa)
    if is_half(query.dtype):  # NOTE [16-bit attention]
        if attn_mask is not None and is_half(attn_mask.dtype):
            attn_mask = attn_mask.float()
        output, weights = attention(query.float(), key.float(), value.float(), attn_mask,
                                    dropout_p, is_causal, scale, enable_gqa, safe)
        return output.to(query.dtype), None if weights is None else weights.to(query.dtype)
    key, value, groups = _groups(query, key, value, enable_gqa)
    if attn_mask is not None and attn_mask.dtype.name != "bool":
        attn_mask = attn_mask.to(query.dtype)
    length, source = query.shape[-2], key.shape[-2]
    q_lead, k_lead, v_lead = query.shape[:-2], key.shape[:-2], value.shape[:-2]
    if groups > 1:
        k_lead = k_lead[:-1] + (q_lead[-1],)
        v_lead = v_lead[:-1] + (q_lead[-1],)
    scores_shape = _broadcast_shape(q_lead, k_lead, v_lead) + (length, source)
    if attn_mask is not None:
        full = _broadcast_shape(scores_shape, attn_mask.shape)
        if full != scores_shape:
            raise RuntimeError(f"output with shape {list(scores_shape)} doesn't match the "
                               f"broadcast shape {list(full)}")
    if query.shape[-1] == 0:  # PyTorch's 1/sqrt(0) = inf scales two empty operands: the scores
        scale = 1.0             # are exact zeros whatever the scale
    elif scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    scale = float(scale)
    rows = block_rows(query, key, value, attn_mask, is_causal, groups) if safe else 0
    if rows:  # NOTE [Causal attention by blocks]: no weights (callers that want them aren't causal)
        op = attention_node(CausalAttention, query.ndim, dropout_p)
        return op.apply(query, key, value, scale, float(dropout_p), rows), None
    dtype = query._data.dtype
    bias = _mask_bias(attn_mask, is_causal, length, source, dtype,
                      get_array_module(query._data))
    mask = attn_mask if attn_mask is not None and attn_mask.dtype.name != "bool" else None
    return attention_node(ScaledDotProductAttention, query.ndim, dropout_p).apply(
        query, key, value, mask, bias, scale, float(dropout_p), groups, safe)



def _nothing_to_attend(query, key, value, attn_mask):
    """No query rows or an empty value: PyTorch answers zeros of shape (*query[:-1], Ev) right
    after its first checks, whatever the shapes of key and value (no broadcasting), the mask,
    is_causal or dropout_p; the sums of query, key and value times 0 keep it connected to them
    in the graph (and make it NaN where one of them holds a NaN or an inf)."""
    _check_operands(query, key, value, attn_mask)
    zeros = query.new_zeros((*query.shape[:-1], value.shape[-1]))
    return zeros + (query.sum() + key.sum() + value.sum()) * 0


@lower_precision
def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale=None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(q·kᵀ·scale + mask)·v over the last two dims, with dropout on the weights, as
    one op (matches `torch.nn.functional.scaled_dot_product_attention`)."""
    if isinstance(query, Tensor) and isinstance(key, Tensor) and isinstance(value, Tensor) \
            and query.ndim >= 2 and value.ndim >= 2 \
            and (query.shape[-2] == 0 or math.prod(value.shape) == 0):
        return _nothing_to_attend(query, key, value, attn_mask)
    return attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)[0]
