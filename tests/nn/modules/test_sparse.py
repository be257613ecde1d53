"""The layers of ember/nn/modules/sparse.py (nn.Embedding, nn.EmbeddingBag) against torch:
lookup, gradient scatter (repeated indices, padding_idx, scale_grad_by_freq), max_norm
renormalization, from_pretrained, repr, errors. F.embedding / embedding_bag / one_hot are
tested in tests/nn/test_functional.py."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, copy_state


@pytest.mark.parametrize("kwargs", [
    {}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
    {"max_norm": 1.0}, {"max_norm": 1.5, "norm_type": 1.0}, {"sparse": True},
])
def test_embedding_matches_torch(kwargs):
    t, e = torch.nn.Embedding(6, 3, **kwargs), ember.nn.Embedding(6, 3, **kwargs)
    assert repr(e) == repr(t)
    copy_state(t, e)
    idx = np.array([[0, 2, 2, 5], [1, 2, 0, 0]])
    t_out, e_out = t(torch.tensor(idx)), e(ember.tensor(idx))
    assert_same(e_out, t_out)
    assert_same(e.weight, t.weight)  # max_norm renormalizes the weight in place
    gy = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    t_out.backward(torch.tensor(gy))
    e_out.backward(ember.tensor(gy))
    assert e.weight.grad.is_sparse == t.weight.grad.is_sparse
    if t.weight.grad.is_sparse:  # (its entries: tests/sparse/test_sparse_gradients.py)
        assert_same(e.weight.grad.to_dense(), t.weight.grad.to_dense())
    else:
        assert_same(e.weight.grad, t.weight.grad)


def test_padding_row_initialized_to_zero():
    e = ember.nn.Embedding(5, 4, padding_idx=3)
    assert np.all(e.weight.detach().numpy()[3] == 0)
    assert e.weight.detach().numpy().std() > 0.5  # N(0, 1) elsewhere


def test_from_pretrained():
    weights = np.arange(12, dtype=np.float32).reshape(4, 3)
    t = torch.nn.Embedding.from_pretrained(torch.tensor(weights))
    e = ember.nn.Embedding.from_pretrained(ember.tensor(weights))
    assert repr(e) == repr(t)
    assert not e.weight.requires_grad
    assert_same(e(ember.tensor([3, 0])), t(torch.tensor([3, 0])))
    trainable = ember.nn.Embedding.from_pretrained(ember.tensor(weights), freeze=False)
    assert trainable.weight.requires_grad


def test_errors():
    e = ember.nn.Embedding(4, 2)
    with pytest.raises(IndexError, match="index out of range in self"):
        e(ember.tensor([4]))
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices'"):
        e(ember.tensor([1.0]))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        ember.nn.Embedding(4, 2, padding_idx=4)


BAGS = [  # (indices, offsets, include_last_offset)
    (np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 4, 4, 6]), False),
    (np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3, 8]), True),
    (np.array([[1, 2], [2, 2], [5, 9]]), None, False),
]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
@pytest.mark.parametrize("indices,offsets,include_last", BAGS)
def test_embedding_bag_matches_torch(indices, offsets, include_last, mode, padding_idx):
    kwargs = {"mode": mode, "padding_idx": padding_idx, "include_last_offset": include_last}
    t, e = torch.nn.EmbeddingBag(10, 3, **kwargs), ember.nn.EmbeddingBag(10, 3, **kwargs)
    assert repr(e) == repr(t)
    copy_state(t, e)
    t_off = None if offsets is None else torch.tensor(offsets)
    e_off = None if offsets is None else ember.tensor(offsets)
    t_out, e_out = t(torch.tensor(indices), t_off), e(ember.tensor(indices), e_off)
    assert_same(e_out, t_out)
    gy = np.random.default_rng(2).standard_normal(tuple(t_out.shape)).astype(np.float32)
    t_out.backward(torch.tensor(gy))
    e_out.backward(ember.tensor(gy))
    assert_same(e.weight.grad, t.weight.grad)


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "float32", "bool"])
def test_embedding_refuses_narrow_index_types_as_torch(dtype):
    assert_same_error(lambda lib: lib.nn.functional.embedding(
        lib.tensor([1, 0]).to(getattr(lib, dtype)), lib.ones(3, 2)))


def test_embedding_bag_max_of_no_indices_as_torch():
    results = []
    for lib in (ember, torch):
        weight = lib.ones(4, 2, requires_grad=True)
        out = lib.nn.functional.embedding_bag(lib.tensor([], dtype=lib.int64), weight,
                                              lib.tensor([0, 0]), mode="max")
        out.sum().backward()
        results.append((out, weight.grad))
    for e, t in zip(*results):
        assert_same(e.detach(), t.detach())
