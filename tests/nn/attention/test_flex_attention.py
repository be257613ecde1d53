"""flex_attention (ember/nn/attention/flex_attention.py) against torch's eager flex_attention.

Values are compared with torch's public `flex_attention` (which on CPU runs its reference
implementation through an eager-backend compile). torch refuses CPU inputs that require grad,
so gradients are compared with the same reference called directly: torch's flex_attention
higher-order op, whose eager autograd is `math_attention` plus its hand-written
`sdpa_dense_backward`; tensors a score_mod captures go to it as `score_mod_other_buffers`, the
way torch.compile lifts them. Its logsumexp is in base 2 (the public function multiplies by
ln 2, and so does `torch_reference`)."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.attention.flex_attention as tfa
from torch._higher_order_ops.flex_attention import flex_attention as torch_flex_hop

import ember
import ember.nn.attention.flex_attention as efa
from tests.differential import assert_same

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _quiet():
    """Both libraries warn once a process that flex_attention runs uncompiled."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ---- mods, written once for both libraries (operators and indexing only) ---------------------
def causal(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def sliding_window(b, h, q_idx, kv_idx):
    return (q_idx - kv_idx).abs() <= 2


def relative_position(score, b, h, q_idx, kv_idx):
    return score + (q_idx - kv_idx) * 0.25


def learned_bias(score, b, h, q_idx, kv_idx, table):
    return score + table[h, q_idx, kv_idx]


def alibi(score, b, h, q_idx, kv_idx, slopes):
    return score + slopes[h] * (kv_idx - q_idx)


def softcap(score, b, h, q_idx, kv_idx):
    return (score / 2.0).tanh() * 2.0


def torch_reference(q, k, v, score_mod=None, block_mask=None, scale=None, buffers=()):
    """(output, natural logsumexp) of torch's eager flex_attention computation, with autograd
    (see the module docstring)."""
    score_mod = tfa._identity if score_mod is None else score_mod
    block_mask = tfa._create_empty_block_mask(q, k) if block_mask is None else block_mask
    scale = 1.0 / math.sqrt(q.size(-1)) if scale is None else scale
    options = tfa._apply_kernel_options(q, k, v, True, None)
    out, lse, _ = torch_flex_hop(q, k, v, score_mod, block_mask.as_tuple(), scale, options,
                                 tuple(buffers), ())
    return out, lse * math.log(2)


def _arrays(q_shape, kv_shape, v_dim=None, dtype=np.float32):
    v_shape = kv_shape[:-1] + ((v_dim or kv_shape[-1]),)
    return [RNG.standard_normal(s).astype(dtype) for s in (q_shape, kv_shape, v_shape)]


def compare(q_shape, kv_shape, score_mod=None, mask_mod=None, *, buffers=(), block=128,
            scale=None, enable_gqa=False, v_dim=None, dtype=np.float32, public=False,
            lse_in_loss=True, rtol=1e-5, atol=1e-5):
    """flex_attention's output, logsumexp and the gradients of q, k, v and the buffers equal
    torch's; mask_mod: one for both, or (ember's, torch's); public: also compare with torch's
    public flex_attention (slower: it compiles)."""
    arrays = _arrays(q_shape, kv_shape, v_dim, dtype)
    buffers = [np.asarray(b) for b in buffers]
    grad_out = RNG.standard_normal(q_shape[:-1] + (v_dim or kv_shape[-1],)).astype(dtype)
    grad_lse = RNG.standard_normal(q_shape[:-1]).astype(dtype)
    B, H, L = q_shape[:3]
    S = kv_shape[2]
    results = {}
    for lib in (ember, torch):
        q, k, v = (lib.tensor(a, requires_grad=True) for a in arrays)
        bufs = [lib.tensor(b, requires_grad=b.dtype.kind == "f") for b in buffers]
        bm = None
        if mask_mod is not None:
            kwargs = {"device": "cpu"} if lib is torch else {}
            mod = mask_mod[lib is torch] if isinstance(mask_mod, tuple) else mask_mod
            bm = (efa if lib is ember else tfa).create_block_mask(mod, B, H, L, S,
                                                                 BLOCK_SIZE=block, **kwargs)
        if lib is ember:
            mod = score_mod if not bufs or score_mod is None else (
                lambda s, b, h, qi, ki: score_mod(s, b, h, qi, ki, *bufs))
            out, lse = efa.flex_attention(q, k, v, mod, bm, scale, enable_gqa, return_lse=True)
        else:
            out, lse = torch_reference(q, k, v, score_mod, bm, scale, bufs)
        loss = (out * lib.tensor(grad_out)).sum()
        if lse_in_loss:
            loss = loss + (lse * lib.tensor(grad_lse)).sum()
        loss.backward()
        results[lib] = (out, lse, [q, k, v] + bufs)
        if public and lib is torch:
            detached = [b.detach() for b in bufs]
            mod = score_mod if not bufs else (
                lambda s, b, h, qi, ki: score_mod(s, b, h, qi, ki, *detached))
            with torch.no_grad():
                results["public"] = tfa.flex_attention(q.detach(), k.detach(), v.detach(), mod,
                                                       bm, scale, enable_gqa, return_lse=True)
    (e_out, e_lse, e_leaves), (t_out, t_lse, t_leaves) = results[ember], results[torch]
    assert_same(e_out, t_out, rtol, atol)
    assert_same(e_lse, t_lse, rtol, atol)
    if public:
        assert_same(e_out, results["public"][0], rtol, atol)
        assert_same(e_lse, results["public"][1], rtol, atol)
    for e, t in zip(e_leaves, t_leaves):
        if t.grad is not None:
            assert_same(e.grad, t.grad, rtol, atol)
    return e_out, e_lse


def test_no_mods():
    compare((2, 3, 5, 8), (2, 3, 5, 8), public=True)


def test_causal_block_mask():
    compare((2, 2, 9, 8), (2, 2, 9, 8), mask_mod=causal, block=4, public=True)


def test_sliding_window_via_and_masks():
    compare((1, 2, 12, 4), (1, 2, 12, 4), mask_mod=(efa.and_masks(causal, sliding_window),
                                                     tfa.and_masks(causal, sliding_window)),
            block=4)


def test_relative_position_score_mod():
    compare((2, 2, 6, 8), (2, 2, 7, 8), score_mod=relative_position, public=True)


def test_learned_bias_gets_its_gradient():
    table = RNG.standard_normal((3, 5, 7)).astype(np.float32)
    compare((2, 3, 5, 4), (2, 3, 7, 4), score_mod=learned_bias, buffers=[table])


def test_alibi_per_head_slopes_with_causal_mask():
    slopes = RNG.standard_normal(4).astype(np.float32)
    compare((2, 4, 8, 8), (2, 4, 8, 8), score_mod=alibi, mask_mod=causal, buffers=[slopes],
            block=4, public=True)


def test_grouped_query_attention():
    """Query heads 2i and 2i+1 read kv head i; score_mod sees the query head."""
    slopes = RNG.standard_normal(4).astype(np.float32)
    compare((2, 4, 6, 8), (2, 2, 10, 8), score_mod=alibi, buffers=[slopes], enable_gqa=True)


def test_different_lengths_with_lower_right_causal_mask():
    def lower_right(b, h, q_idx, kv_idx):
        return q_idx + 4 >= kv_idx
    compare((1, 2, 6, 8), (1, 2, 10, 8), mask_mod=lower_right, block=4, public=True)


def test_scale_and_value_dim():
    compare((2, 2, 5, 8), (2, 2, 6, 8), score_mod=softcap, scale=0.7, v_dim=3)


def test_float64():
    compare((1, 2, 5, 4), (1, 2, 6, 4), score_mod=relative_position, mask_mod=causal,
            dtype=np.float64, rtol=1e-10, atol=1e-10)


def test_key_value_batch_broadcast():
    """A batch of 1 key/value serves every query batch when the block mask has their batch."""
    arrays = _arrays((3, 2, 4, 4), (1, 2, 4, 4))
    results = []
    for lib, fa, kwargs in ((ember, efa, {}), (torch, tfa, {"device": "cpu"})):
        q, k, v = (lib.tensor(a) for a in arrays)
        bm = fa.create_block_mask(causal, 3, 2, 4, 4, **kwargs)
        results.append(fa.flex_attention(q, k, v, block_mask=bm))
    assert_same(*results, atol=1e-6)


def test_fully_masked_rows_give_zeros_and_minus_inf_lse():
    def later_rows(b, h, q_idx, kv_idx):
        return (q_idx >= 2) & (kv_idx <= q_idx)
    out, lse = compare((1, 2, 5, 4), (1, 2, 5, 4), mask_mod=later_rows, lse_in_loss=False)
    assert (out[:, :, :2] == 0).all() and (lse[:, :, :2] == float("-inf")).all()


def test_document_mask_captures_an_index_tensor():
    doc = np.array([[0, 0, 1, 1, 1, 2], [0, 1, 1, 2, 2, 2]])
    arrays = _arrays((2, 1, 6, 4), (2, 1, 6, 4))
    results = []
    for lib, fa, kwargs in ((ember, efa, {}), (torch, tfa, {"device": "cpu"})):
        ids = lib.tensor(doc)

        def same_doc(b, h, q_idx, kv_idx):
            return ids[b, q_idx] == ids[b, kv_idx]
        bm = fa.create_block_mask(same_doc, 2, 1, 6, 6, BLOCK_SIZE=2, **kwargs)
        assert bm.mask_mod is same_doc
        results.append((fa.flex_attention(*(lib.tensor(a) for a in arrays), block_mask=bm),
                        bm.kv_num_blocks, bm.full_kv_num_blocks))
    for e, t in zip(*results):
        assert_same(e, t, atol=1e-6)


def test_return_aux():
    arrays = _arrays((1, 2, 4, 4), (1, 2, 4, 4))
    outs = []
    for lib, fa in ((ember, efa), (torch, tfa)):
        q, k, v = (lib.tensor(a) for a in arrays)
        out, aux = fa.flex_attention(q, k, v, return_aux=fa.AuxRequest(lse=True))
        assert type(aux).__name__ == "AuxOutput" and aux.max_scores is None
        none = fa.flex_attention(q, k, v, return_aux=fa.AuxRequest())[1]
        assert none.lse is None and none.max_scores is None
        outs.append((out, aux.lse))
    for e, t in zip(*outs):
        assert_same(e, t, atol=1e-6)


def test_flash_backend_option_returns_the_base_2_logsumexp_as_torch():
    """torch's eager path takes the reference's base-2 statistics for natural ones when
    BACKEND="FLASH" is asked for: its logsumexp comes out divided by ln 2."""
    arrays = _arrays((1, 1, 3, 4), (1, 1, 3, 4))
    results = []
    for lib, fa in ((ember, efa), (torch, tfa)):
        q, k, v = (lib.tensor(a) for a in arrays)
        results.append(fa.flex_attention(q, k, v, return_lse=True,
                                         kernel_options={"BACKEND": "FLASH"})[1])
    assert_same(*results, atol=1e-6)


def test_float16_forward():
    arrays = _arrays((1, 2, 4, 8), (1, 2, 5, 8), dtype=np.float16)
    results = []
    for lib, fa in ((ember, efa), (torch, tfa)):
        q, k, v = (lib.tensor(a) for a in arrays)
        results.append(fa.flex_attention(q, k, v, score_mod=relative_position,
                                         return_lse=True))
    for e, t in zip(*results):
        assert_same(e, t, rtol=2e-3, atol=2e-3)


# ---- warnings and errors ---------------------------------------------------------------------
def _warnings_of(fa, lib, call):
    """The (category, message) warnings of call(), with the once-a-process memory cleared."""
    fa._WARNINGS_SHOWN.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(lib)
        call(lib)  # a second call warns no more
    return [(w.category.__name__, str(w.message)) for w in caught]


@pytest.mark.parametrize("return_lse", [False, True])
def test_uncompiled_and_deprecation_warnings_once(return_lse):
    arrays = _arrays((1, 1, 2, 4), (1, 1, 2, 4))

    def call(lib):
        fa = efa if lib is ember else tfa
        fa.flex_attention(*(lib.tensor(a) for a in arrays), return_lse=return_lse)
    expected = _warnings_of(tfa, torch, call)
    assert _warnings_of(efa, ember, call) == expected
    assert len(expected) == 1 + return_lse


def test_debug_flag_silences_the_uncompiled_warning():
    arrays = _arrays((1, 1, 2, 4), (1, 1, 2, 4))
    efa._FLEX_ATTENTION_DISABLE_COMPILE_DEBUG = True
    try:
        found = _warnings_of(efa, ember, lambda lib: efa.flex_attention(
            *(lib.tensor(a) for a in arrays)))
    finally:
        efa._FLEX_ATTENTION_DISABLE_COMPILE_DEBUG = False
    assert found == []


def _same_error(call):
    """call(lib, fa) raises the same exception type and message in both libraries."""
    with pytest.raises(Exception) as expected:
        call(torch, tfa)
    with pytest.raises(expected.type) as raised:
        call(ember, efa)
    assert str(raised.value) == str(expected.value)


def _qkv(lib, q_shape=(2, 4, 8, 16), kv_shape=(2, 4, 8, 16)):
    """Operands for the error tests (their values don't matter)."""
    return (lib.ones(*q_shape), lib.ones(*kv_shape), lib.ones(*kv_shape))


@pytest.mark.parametrize("shapes, kwargs", [
    (((2, 4, 8, 16), (2, 4, 8, 8)), {}),                          # embedding dims differ
    (((4, 8, 16), (4, 8, 16)), {}),                               # 3-d: NYI
    (((2, 4, 8, 16), (2, 2, 8, 16)), {}),                         # heads without enable_gqa
    (((2, 4, 8, 16), (2, 3, 8, 16)), {"enable_gqa": True}),       # heads not a multiple
    (((2, 4, 8, 16), (1, 4, 8, 16)), {}),                         # batches without block mask
    (((2, 4, 8, 16), (2, 4, 8, 16)), {"return_lse": True, "lse_aux": True}),
    (((2, 4, 8, 16), (2, 4, 8, 16)), {"kernel_options": {"BACKEND": "X"}}),
    (((2, 4, 8, 16), (2, 4, 8, 16)), {"kernel_options": {"BACKEND": "AUTO",
                                                         "FORCE_USE_FLEX_ATTENTION": True}}),
    (((2, 4, 8, 16), (2, 4, 8, 16)), {"kernel_options": {"OUTPUT_LOGSUMEXP": True}}),
    (((2, 4, 8, 16), (2, 4, 8, 16)), {"max_scores": True}),
    (((2, 4, 8, 16), (2, 4, 8, 16)), {"max_scores": True, "kernel_options": {"BACKEND":
                                                                             "FLASH"}}),
])
def test_argument_errors(shapes, kwargs):
    kwargs = dict(kwargs)
    lse_aux, max_scores = kwargs.pop("lse_aux", False), kwargs.pop("max_scores", False)

    def call(lib, fa):
        if lse_aux or max_scores:
            kwargs["return_aux"] = fa.AuxRequest(lse=lse_aux, max_scores=max_scores)
        fa.flex_attention(*_qkv(lib, *shapes), **kwargs)
    _same_error(call)


def test_rank_error():
    _same_error(lambda lib, fa: fa.flex_attention(lib.ones(3), *_qkv(lib)[1:]))


@pytest.mark.parametrize("mask_batch, q_len, kv_len", [
    (1, 8, 8),      # block mask batch differs from the query's (key batch 1)
    (2, 16, 16),    # mask made for shorter sequences
    (2, 4, 8),      # mask made for longer ones
])
def test_block_mask_mismatch_errors(mask_batch, q_len, kv_len):
    def call(lib, fa):
        kwargs = {"device": "cpu"} if lib is torch else {}
        bm = fa.create_block_mask(causal, mask_batch, 4, 8, 8, **kwargs)
        fa.flex_attention(*_qkv(lib, (2, 4, q_len, 16), (1, 4, kv_len, 16)), block_mask=bm)
    _same_error(call)


def test_sliced_block_mask_error():
    def call(lib, fa):
        bm = fa.create_block_mask(causal, 2, 4, 8, 8, **({"device": "cpu"} if lib is torch
                                                         else {}))
        fa.flex_attention(*_qkv(lib, (1, 4, 8, 16), (1, 4, 8, 16)), block_mask=bm[0])
    _same_error(call)
    with pytest.raises(RuntimeError, match="Cannot use mask_mod from a sliced BlockMask"):
        efa.create_block_mask(causal, 2, 1, 4, 4)[0].mask_mod(*(ember.tensor(0),) * 4)


def test_mixed_kv_dtype_is_computed_in_the_query_dtype():
    """torch allows lower-precision key/value: scores in float32, weights·value in q's dtype."""
    arrays = _arrays((1, 2, 4, 8), (1, 2, 4, 8))
    results = []
    for lib, fa in ((ember, efa), (torch, tfa)):
        q, k, v = (lib.tensor(a) for a in arrays)
        results.append(fa.flex_attention(q, k.double(), v))
    assert_same(*results, atol=1e-6)


def test_backward_on_cpu_is_ember_s_own():
    """torch refuses CPU inputs that require grad; ember differentiates them (the gradients
    are checked against torch's reference above)."""
    with pytest.raises(NotImplementedError, match="does not support backward on CPU"):
        tfa.flex_attention(*(torch.ones(1, 1, 2, 4, requires_grad=True),) * 3)
    q = ember.ones(1, 1, 2, 4, requires_grad=True)
    efa.flex_attention(q, q, q).sum().backward()
    assert q.grad is not None
