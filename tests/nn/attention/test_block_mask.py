"""BlockMask, create_block_mask, create_mask and the mask combinators
(ember/nn/attention/_block_mask.py, flex_attention.py) against torch.nn.attention.flex_attention:
every tensor field (int32, exact), repr, str / to_string, sparsity, shape, slicing, _adjust,
from_kv_blocks and the dQ write order."""

import numpy as np
import pytest
import torch
import torch.nn.attention.flex_attention as tfa

import ember
import ember.nn.attention.flex_attention as efa
from tests.differential import assert_same

FIELDS = ["kv_num_blocks", "kv_indices", "full_kv_num_blocks", "full_kv_indices",
          "q_num_blocks", "q_indices", "full_q_num_blocks", "full_q_indices", "dq_write_order",
          "dq_write_order_full", "dq_kv_order"]


def causal(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def window(b, h, q_idx, kv_idx):
    return (q_idx - kv_idx).abs() < 5


def prefix_or_head(b, h, q_idx, kv_idx):
    return (kv_idx < 3) | ((h == 1) & (b == 0))


def nothing(b, h, q_idx, kv_idx):
    return q_idx < 0


def both_masks(*args, **kwargs):
    """(ember's, torch's) create_block_mask of the same arguments."""
    return (efa.create_block_mask(*args, **kwargs),
            tfa.create_block_mask(*args, device="cpu", **kwargs))


def assert_same_block_mask(e, t):
    """Every field, the statistics and the printed forms agree."""
    for name in FIELDS:
        a, b = getattr(e, name), getattr(t, name)
        assert (a is None) == (b is None), name
        if b is not None:
            assert_same(a, b, exact=True)
    assert e.seq_lengths == t.seq_lengths and e.BLOCK_SIZE == t.BLOCK_SIZE
    assert e.shape == t.shape and e.numel() == t.numel()
    assert e.sparsity() == t.sparsity()
    assert e.dq_kv_order_spt == t.dq_kv_order_spt
    assert repr(e) == repr(t)
    assert str(e) == str(t)
    assert_same(e.to_dense(), t.to_dense(), exact=True)


@pytest.mark.parametrize("mask_mod, B, H, L, S, kwargs", [
    (causal, 2, 3, 256, 384, {"BLOCK_SIZE": 64}),
    (causal, 1, 1, 5, 7, {}),                              # tiles overhang: negative sparsity
    (causal, None, None, 10, 10, {}),
    (window, 1, 2, 40, 33, {"BLOCK_SIZE": 8}),
    (window, 1, 1, 40, 33, {"BLOCK_SIZE": (16, 4)}),
    (prefix_or_head, 2, 2, 12, 12, {"BLOCK_SIZE": 4}),
    (causal, 1, 1, 256, 256, {"separate_full_blocks": False}),
    (nothing, 2, 2, 8, 8, {"BLOCK_SIZE": 4}),
    (efa.noop_mask, 1, 1, 300, 300, {}),
    (causal, 3, 2, 16, 16, {"BLOCK_SIZE": 4, "compute_dq_write_order": True}),
    (window, 1, 2, 16, 24, {"BLOCK_SIZE": 4, "compute_dq_write_order": True,
                            "dq_kv_order": False}),
])
def test_create_block_mask(mask_mod, B, H, L, S, kwargs):
    t_mod = tfa.noop_mask if mask_mod is efa.noop_mask else mask_mod
    e = efa.create_block_mask(mask_mod, B, H, L, S, **kwargs)
    t = tfa.create_block_mask(t_mod, B, H, L, S, device="cpu", **kwargs)
    assert_same_block_mask(e, t)
    assert e.mask_mod is mask_mod


def test_to_string_grid_and_limit():
    e, t = both_masks(causal, 3, 2, 64, 96, BLOCK_SIZE=8)
    for kwargs in ({}, {"grid_size": 2, "limit": 2}, {"grid_size": (3, 5)}, {"limit": 10},
                   {"grid_size": -1}):
        assert e.to_string(**kwargs) == t.to_string(**kwargs)


@pytest.mark.parametrize("index", [
    0, -1, (1, 2), (slice(None), -1), (slice(0, 2), slice(1, 2)), (1, slice(None), slice(1, 3)),
])
def test_slicing(index):
    e, t = both_masks(causal, 2, 3, 32, 48, BLOCK_SIZE=8)
    se, st = e[index], t[index]
    assert_same_block_mask(se, st)
    assert se.mask_mod.__name__ == st.mask_mod.__name__ == "_sliced_mask_mod_error"


def test_slicing_with_a_tensor_index():
    e, t = both_masks(causal, 2, 3, 32, 48, BLOCK_SIZE=8)
    assert_same_block_mask(e[0:2, 1:2, ember.tensor([1, 3], dtype=ember.int32)],
                           t[0:2, 1:2, torch.tensor([1, 3], dtype=torch.int32)])


def test_slicing_keeps_the_dq_write_order():
    e, t = both_masks(causal, 2, 2, 16, 16, BLOCK_SIZE=4, compute_dq_write_order=True)
    assert_same_block_mask(e[1], t[1])


@pytest.mark.parametrize("q_len, kv_len", [(128, 128), (20, 100), (256, 8)])
def test_adjust(q_len, kv_len):
    e, t = both_masks(causal, 2, 3, 256, 384, BLOCK_SIZE=64)
    assert_same_block_mask(e._adjust(q_len, kv_len), t._adjust(q_len, kv_len))


def test_from_kv_blocks():
    counts, indices = [[[1, 2]]], [[[[0, 1], [1, 0]]]]
    full_counts, full_indices = [[[1, 0]]], [[[[1, 0], [0, 1]]]]
    for kwargs in ({}, {"full": True}, {"BLOCK_SIZE": 2}, {"BLOCK_SIZE": (2, 3),
                                                           "seq_lengths": (3, 5)},
                   {"compute_q_blocks": False}, {"dq_kv_order": True}):
        kwargs = dict(kwargs)
        full = kwargs.pop("full", False)
        masks = []
        for lib, fa in ((ember, efa), (torch, tfa)):
            tensors = [lib.tensor(x, dtype=lib.int32) for x in (counts, indices) + (
                (full_counts, full_indices) if full else ())]
            masks.append(fa.BlockMask.from_kv_blocks(*tensors, **kwargs))
        assert_same_block_mask(*masks)


def test_as_tuple_and_to():
    e, t = both_masks(causal, 1, 2, 16, 16, BLOCK_SIZE=8)
    for flatten in (True, False):
        te, tt = e.as_tuple(flatten), t.as_tuple(flatten)
        assert len(te) == len(tt)
        for a, b in zip(te, tt):
            if isinstance(b, torch.Tensor):
                assert_same(a, b, exact=True)
            elif callable(b):
                assert a is b is causal
            else:
                assert a == b
    moved = e.to("cpu")
    assert_same_block_mask(moved, t.to("cpu"))
    assert moved.mask_mod is causal


def test_block_mask_errors():
    for lib, fa in ((ember, efa), (torch, tfa)):
        counts = lib.ones(3, dtype=lib.int32)
        with pytest.raises(RuntimeError, match="BlockMask must have at least 2 dimensions"):
            fa.BlockMask.from_kv_blocks(counts, lib.zeros(3, dtype=lib.int32))
        with pytest.raises(AssertionError, match="must be both provided or omitted"):
            fa.BlockMask.from_kv_blocks(counts, lib.zeros(3, 1, dtype=lib.int32), counts)
        with pytest.raises(ValueError, match="dq_kv_order must be a bool, Tensor, or None"):
            fa.BlockMask.from_kv_blocks(counts, lib.zeros(3, 1, dtype=lib.int32),
                                        dq_kv_order="x")


# ---- create_mask, and_masks, or_masks --------------------------------------------------------
def _both_create_mask(mod_e, mod_t, *sizes):
    return efa.create_mask(mod_e, *sizes), tfa.create_mask(mod_t, *sizes, device="cpu")


@pytest.mark.parametrize("mod", [causal, window, prefix_or_head])
def test_create_mask_of_mask_mods(mod):
    e, t = _both_create_mask(mod, mod, 2, 2, 6, 9)
    assert_same(e, t, exact=True)


def test_create_mask_of_a_score_mod_and_defaults():
    def minus_inf_above(lib):
        return lambda score, b, h, q_idx, kv_idx: lib.where(kv_idx > q_idx, float("-inf"),
                                                            score)
    assert_same(*_both_create_mask(minus_inf_above(ember), minus_inf_above(torch), None, None,
                                   3, 3), exact=True)
    assert_same(*_both_create_mask(efa.noop_mask, tfa.noop_mask, 1, 2, 2, 3), exact=True)


@pytest.mark.parametrize("combine", ["and_masks", "or_masks"])
def test_mask_combinators(combine):
    for mods in ((causal, window), (causal, window, prefix_or_head), ()):
        e, t = (getattr(fa, combine)(*mods) for fa in (efa, tfa))
        assert e.__name__ == t.__name__
        assert_same(*_both_create_mask(e, t, 2, 2, 8, 8), exact=True)


def test_mod_errors():
    for fa, kwargs in ((efa, {}), (tfa, {"device": "cpu"})):
        with pytest.raises(RuntimeError, match="All inputs should be callable mask_mods"):
            fa.or_masks(causal, 3)
        with pytest.raises(RuntimeError, match="All inputs should be callable mask_mods"):
            fa.and_masks(3)
        with pytest.raises(AssertionError, match="create-block_mask requires a mask_mod"):
            fa.create_block_mask(lambda s, b, h, q, k: s, 1, 1, 4, 4, **kwargs)
        with pytest.raises(AssertionError, match="^Expected 4 or 5 positional args, got 3$"):
            fa.create_block_mask(lambda b, h, q: q, 1, 1, 4, 4, **kwargs)
        with pytest.raises(ValueError, match="dq_kv_order must be a bool"):
            fa.create_block_mask(causal, 1, 1, 4, 4, dq_kv_order=None, **kwargs)


def test_compile_flag_warns_deprecation():
    with pytest.warns(DeprecationWarning, match="_compile flag on create_block_mask"):
        bm = efa.create_block_mask(causal, 1, 1, 8, 8, _compile=True)
    assert_same(bm.kv_num_blocks,
                tfa.create_block_mask(causal, 1, 1, 8, 8, device="cpu").kv_num_blocks,
                exact=True)


def test_signatures_and_public_names():
    assert sorted(efa.__all__) == sorted(tfa.__all__)
    assert all(hasattr(efa, name) for name in tfa.__all__)
    assert str(efa._mask_mod_signature).replace("ember._tensor.Tensor", "torch.Tensor") == \
        str(tfa._mask_mod_signature)
    assert efa.AuxRequest._fields == tfa.AuxRequest._fields
    assert efa.AuxOutput._fields == tfa.AuxOutput._fields
    assert set(efa.FlexKernelOptions.__annotations__) == \
        set(tfa.FlexKernelOptions.__annotations__)
    assert np.array_equal(efa.noop_mask(*(ember.tensor(0),) * 4).numpy(), True)
