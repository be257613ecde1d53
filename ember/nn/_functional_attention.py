"""Attention in ember.nn.functional: scaled_dot_product_attention (the fused op of
`ember.ops.attention`) and multi_head_attention_forward (matches `torch.nn.functional`).

NOTE [Multi-head attention works batch-first]
PyTorch's multi_head_attention_forward takes (L, N, E) inputs and folds batch and heads into one
dim (N·H, L, D). ember computes in the layout the attention op wants, (N, H, L, D), reached from
(N, L, E) by a reshape and one transpose: the functional transposes seq-first inputs once, and
`nn.MultiheadAttention(batch_first=True)` skips even that. Masks stay broadcastable 4-D arrays,
(L, S), (N, H, L, S) or (N, 1, 1, S), and are never expanded. The arithmetic, the masks' merge and
the errors are PyTorch's.
"""


from ember._warnings import warn as _warn
from ember._tensor import Tensor
from ember.ops import nn_ops as _nn
from ember.nn.attention import _sdp
from ember.ops.attention import attention
from ember.ops.comparison import where
from ember.ops.creation import zeros
from ember.ops.joins import cat

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale=None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(q·kᵀ·scale + mask)·v over the last two dims, with dropout on the weights
    (matches `torch.nn.functional.scaled_dot_product_attention`): a mask that dispatches
    attention itself (`nn.attention.bias.CausalBias`) does so, and the backends that
    `nn.attention.sdpa_kernel` disabled are refused as PyTorch refuses them."""
    if isinstance(attn_mask, _sdp.SelfDispatchingMask):
        return attn_mask._dispatch(query, key, value, attn_mask, dropout_p=dropout_p,
                                   is_causal=is_causal, scale=scale, enable_gqa=enable_gqa)
    # warnings point at the caller, past this function (its face is not counted: NOTE
    # [Warnings point at the caller] in ember/_warnings.py)
    return _sdp.scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal,
                                             scale, enable_gqa, stacklevel=3)


def _canonical_mask(mask, mask_name: str, other_type, other_name: str, target_type,
                    check_other: bool = True):
    """A bool mask as a float mask (-inf where True), float masks as they are (matches
    `torch.nn.functional._canonical_mask`)."""
    if mask is None:
        return None
    is_float = mask.dtype.is_floating_point
    if mask.dtype.name != "bool" and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype is not other_type:
        _warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      "same type for both instead.", stacklevel=2)  # (the caller's line)
    if is_float:
        return mask
    return where(mask, float("-inf"), zeros(mask.shape, dtype=target_type))


def _none_or_dtype(input):
    """input's dtype, or None (matches `torch.nn.functional._none_or_dtype`)."""
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """Whether the input is batched, after PyTorch's rank checks (AssertionError)."""
    if query.ndim not in (2, 3):
        raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                             f"{query.ndim}-D query tensor")
    batched = query.ndim == 3
    rank, word = (3, "batched (3-D)") if batched else (2, "unbatched (2-D)")
    if key.ndim != rank or value.ndim != rank:
        raise AssertionError(f"For {word} `query`, expected `key` and `value` to be {rank}-D but "
                             f"found {key.ndim}-D and {value.ndim}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != rank - 1:
        raise AssertionError(f"For {word} `query`, expected `key_padding_mask` to be `None` or "
                             f"{rank - 1}-D but found {key_padding_mask.ndim}-D tensor instead")
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise AssertionError(f"For {word} `query`, expected `attn_mask` to be `None`, 2-D or "
                                 f"3-D but found {attn_mask.ndim}-D tensor instead")
        expected = (num_heads, query.shape[0], key.shape[0])
        if not batched and attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
            raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                 f"{attn_mask.shape}")
    return batched


def _in_projection(query, key, value, embed_dim, in_proj_weight, in_proj_bias, separate,
                   q_proj_weight, k_proj_weight, v_proj_weight):
    """q, k, v = the three input projections, one matmul when query, key and value are one."""
    if not separate:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        if query is key and key is value:
            packed = _linear_rows(query, in_proj_weight, in_proj_bias)
            return packed.unflatten(-1, (3, embed_dim)).unbind(-2)
        weights = in_proj_weight.split(embed_dim)
    else:
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight "
                                     "is None")
        weights = (q_proj_weight, k_proj_weight, v_proj_weight)
        for name, w, x in zip(("query", "key", "value"), weights, (query, key, value)):
            if tuple(w.shape) != (embed_dim, x.shape[-1]):
                raise AssertionError(f"expecting {name} weights shape of "
                                     f"{(embed_dim, x.shape[-1])}, but got {w.shape}")
    biases = (None,) * 3 if in_proj_bias is None else in_proj_bias.split(embed_dim)
    return tuple(_linear_rows(x, w, b) for x, w, b in zip((query, key, value), weights, biases))


def _linear_rows(x, weight, bias):
    """linear on (N, L, E) as one (N·L, E) matrix product (NumPy's batched matmul with a 2-D
    operand runs one small GEMM per batch item, which is slower)."""
    rows = _nn.linear(x.reshape(-1, x.shape[-1]), weight, bias)
    return rows.reshape(tuple(x.shape[:-1]) + (weight.shape[0],))


def _check_attn_mask(attn_mask, batch, num_heads, length, source):
    """attn_mask as a broadcastable (L, S) or (N, H, L, S) mask, after PyTorch's shape checks."""
    if attn_mask.ndim == 2:
        if tuple(attn_mask.shape) != (length, source):
            raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should "
                               f"be {(length, source)}.")
        return attn_mask
    if tuple(attn_mask.shape) != (batch * num_heads, length, source):
        raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                           f"{(batch * num_heads, length, source)}.")
    return attn_mask.reshape(batch, num_heads, length, source)


def _pad_key(mask):
    """One more (allowed) key position at the end of a float mask."""
    if mask is None:
        return None
    return cat([mask, zeros(tuple(mask.shape[:-1]) + (1,), dtype=mask.dtype)], -1)


def _static(static, batch, num_heads, head_dim, name):
    if static.shape[0] != batch * num_heads:
        raise AssertionError(f"expecting {name}.size(0) of {batch * num_heads}, but got "
                             f"{static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static.reshape(batch, num_heads, static.shape[1], head_dim)


def _mha_batch_first(query, key, value, embed_dim_to_check, num_heads, in_proj_weight,
                     in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight,
                     out_proj_bias, training, key_padding_mask, need_weights, attn_mask,
                     use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight,
                     static_k, static_v, average_attn_weights, is_causal):
    """multi_head_attention_forward on batched (N, L, E) inputs (NOTE above)."""
    batch, length, embed_dim = query.shape
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint replaces the mask, as in PyTorch
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight and key.shape[:2] != value.shape[:2]:
        raise AssertionError(f"key's sequence and batch dims {_seq_first(key.shape)[:2]} do not "
                             f"match value's {_seq_first(value.shape)[:2]}")
    if not use_separate_proj_weight and key.shape != value.shape:
        raise AssertionError(f"key shape {_seq_first(key.shape)} does not match value shape "
                             f"{_seq_first(value.shape)}")
    q, k, v = _in_projection(query, key, value, embed_dim, in_proj_weight, in_proj_bias,
                             use_separate_proj_weight, q_proj_weight, k_proj_weight,
                             v_proj_weight)
    if attn_mask is not None:
        attn_mask = _check_attn_mask(attn_mask, batch, num_heads, length, key.shape[1])
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.reshape(1, 1, embed_dim).expand(batch, 1, embed_dim)], 1)
        v = cat([v, bias_v.reshape(1, 1, embed_dim).expand(batch, 1, embed_dim)], 1)
        attn_mask, key_padding_mask = _pad_key(attn_mask), _pad_key(key_padding_mask)
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    q = q.reshape(batch, length, num_heads, head_dim).transpose(1, 2)
    k = k.reshape(batch, k.shape[1], num_heads, head_dim).transpose(1, 2) if static_k is None \
        else _static(static_k, batch, num_heads, head_dim, "static_k")
    v = v.reshape(batch, v.shape[1], num_heads, head_dim).transpose(1, 2) if static_v is None \
        else _static(static_v, batch, num_heads, head_dim, "static_v")
    if add_zero_attn:
        k = cat([k, zeros((batch, num_heads, 1, head_dim), dtype=k.dtype)], 2)
        v = cat([v, zeros((batch, num_heads, 1, head_dim), dtype=v.dtype)], 2)
        attn_mask, key_padding_mask = _pad_key(attn_mask), _pad_key(key_padding_mask)
    source = k.shape[2]
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != batch:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {batch}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != source:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {source}, but got "
                                 f"{key_padding_mask.shape[1]}")
        key_padding_mask = key_padding_mask.reshape(batch, 1, 1, source)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0
    output, weights = attention(q, k, v, attn_mask, dropout_p, is_causal and not need_weights,
                                safe=not need_weights)
    # the output projection on rows in (L, N) order, as PyTorch's: the result is (L, N, E) in
    # memory whatever batch_first says, and a dropout after it draws its mask in that order
    output = output.permute(2, 0, 1, 3).reshape(length * batch, embed_dim)
    output = _nn.linear(output, out_proj_weight, out_proj_bias).reshape(length, batch, -1)
    if not need_weights:
        return output, None
    return output, weights.mean(1) if average_attn_weights else weights


def _seq_first(shape):
    """A batch-first shape as PyTorch, which works seq-first, prints it."""
    return type(shape)((shape[1], shape[0]) + tuple(shape[2:]))


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor,
                                 embed_dim_to_check: int, num_heads: int, in_proj_weight,
                                 in_proj_bias, bias_k, bias_v, add_zero_attn: bool,
                                 dropout_p: float, out_proj_weight: Tensor, out_proj_bias,
                                 training: bool = True, key_padding_mask=None,
                                 need_weights: bool = True, attn_mask=None,
                                 use_separate_proj_weight: bool = False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights: bool = True,
                                 is_causal: bool = False, batch_first: bool = False):
    """Multi-head attention on (L, N, E) or unbatched (L, E) inputs; returns (output,
    weights or None) (matches `torch.nn.functional.multi_head_attention_forward`; batch_first
    is ember's: (N, L, E) inputs and output)."""
    batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = _identical(query.unsqueeze(0), query, key, value, 0)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    elif not batch_first:
        query, key, value = _identical(query.transpose(0, 1), query, key, value, 1)
    output, weights = _mha_batch_first(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k,
        bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training,
        key_padding_mask, need_weights, attn_mask, use_separate_proj_weight, q_proj_weight,
        k_proj_weight, v_proj_weight, static_k, static_v, average_attn_weights, is_causal)
    if not batched:
        return output.squeeze(1), None if weights is None else weights.squeeze(0)
    if batch_first:  # a transposed view, as PyTorch's module returns
        output = output.transpose(0, 1)
    return output, weights


def _identical(new_query, query, key, value, dim):
    """Make key and value batch-first like new_query, keeping the `is` identities PyTorch uses
    to choose the packed projection."""
    def move(t):
        return t.unsqueeze(0) if dim == 0 else t.transpose(0, 1)
    new_key = new_query if key is query else move(key)
    new_value = new_key if value is key else move(value)
    return new_query, new_key, new_value
