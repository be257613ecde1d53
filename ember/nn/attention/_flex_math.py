"""flex_attention's eager computation: PyTorch's reference ("math") implementation, which its
uncompiled flex_attention runs (`torch._higher_order_ops.flex_attention.math_attention`).

NOTE [score_mod and mask_mod by broadcasting]
PyTorch calls score_mod(score, b, h, q_idx, kv_idx) and mask_mod(b, h, q_idx, kv_idx) through
four nested vmaps, so each call sees 0-d tensors. ember calls each once, with the index tensors
shaped to broadcast against the (B, H, L, S) scores: b (B, 1, 1, 1), h (1, H, 1, 1), q_idx
(1, 1, L, 1), kv_idx (1, 1, 1, S), int64 as PyTorch's aranges. Elementwise ops, comparisons,
torch.where and indexing a captured tensor with the indices (`bias[h, q_idx, kv_idx]`) give
the same values, and autograd reaches the captured tensors directly. What a mod does beyond
elementwise work (reading its inputs' shapes, Python control flow on values) can differ, as it
fails under vmap in PyTorch.
"""

import math

from ember import _dtype
from ember._tensor import Tensor
from ember.ops.comparison import where
from ember.ops.creation import arange, tensor

_LN2 = math.log(2)


def index_grids(batch: int, heads: int, q_len: int, kv_len: int, device=None) -> tuple:
    """b, h, q_idx, kv_idx as int64 tensors that broadcast to (B, H, L, S) (NOTE above)."""
    return (arange(batch, device=device).reshape(batch, 1, 1, 1),
            arange(heads, device=device).reshape(1, heads, 1, 1),
            arange(q_len, device=device).reshape(1, 1, q_len, 1),
            arange(kv_len, device=device).reshape(1, 1, 1, kv_len))


def as_tensor(value) -> Tensor:
    """A mod's result as a tensor (a mod may answer with a plain Python value)."""
    return value if isinstance(value, Tensor) else tensor(value)


def _broadcast_kv(query, key, value) -> tuple:
    """key and value with query's heads (each kv head repeated for its group of query heads,
    as repeat_interleave does) and batch (a batch of 1 expanded)."""
    groups = query.shape[1] // key.shape[1]
    if groups > 1:
        key = key.repeat_interleave(groups, dim=1)
        value = value.repeat_interleave(groups, dim=1)
    b_q, b_kv = query.shape[0], key.shape[0]
    if not (b_q == b_kv or (b_q > 1 and b_kv == 1)):
        raise RuntimeError(f"Bq and Bkv must broadcast. Got Bq={b_q} and Bkv={b_kv}")
    return key.expand((b_q, *key.shape[1:])), value.expand((b_q, *value.shape[1:]))


def _modded_scores(query, key, score_mod, mask_mod, scale):
    """The scores after scale, score_mod and mask_mod (-inf where masked), in float32 (float64
    for float64 queries)."""
    work = _dtype.float64 if query.dtype == _dtype.float64 else _dtype.float32
    scores = query.to(work).matmul(key.to(work).transpose(-2, -1))
    scores = (scores * scale).to(work)
    grids = index_grids(*scores.shape)
    allowed = as_tensor(mask_mod(*grids))
    post = where(allowed, as_tensor(score_mod(scores, *grids)), float("-inf"))
    if post.shape != scores.shape:  # mods that ignore some of their inputs
        post = post.expand(scores.shape)
    return post


def math_attention(query, key, value, score_mod, mask_mod, scale, want_lse: bool) -> tuple:
    """(output, logsumexp / ln 2 or None): softmax of the modded scores times value, rows with
    no allowed key giving zeros and a -inf logsumexp (PyTorch's kernels work in base 2, so its
    reference divides by ln 2 and flex_attention multiplies back)."""
    key, value = _broadcast_kv(query, key, value)
    post = _modded_scores(query, key, score_mod, mask_mod, scale)
    dead = (post == float("-inf")).all(-1, keepdim=True)  # rows with nothing to attend
    safe = where(dead, 0.0, post)  # no all -inf row reaches softmax (NaN, and NaN gradients)
    weights = where(dead, 0.0, safe.softmax(-1))
    out = weights.to(query.dtype).matmul(value.to(query.dtype))
    if not want_lse:
        return out, None
    lse = where(dead.squeeze(-1), float("-inf"), safe.logsumexp(-1))
    return out, lse / _LN2
