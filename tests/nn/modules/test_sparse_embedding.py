"""nn.Embedding / nn.EmbeddingBag (ember/nn/modules/sparse.py) checked further against torch:
PyTorch's module_db entries, and a table of padding_idx x max_norm x norm_type x
scale_grad_by_freq in float32 and float64 with dense gradients of the weight, the renormalized
weight after each of several steps, and bags with per-sample weights and max_norm."""

import numpy as np
import pytest
import torch
from torch.testing._internal.common_modules import module_db

import ember
from tests.differential import assert_same, copy_state, to_ember

RNG = np.random.default_rng(0)


def _module_db_cases():
    info = next(m for m in module_db if m.module_cls.__name__ == "Embedding")
    return [pytest.param(item, dtype, id=f"{dtype}-{i}-{item.desc}")
            for dtype in (torch.float32, torch.float64)
            for i, item in enumerate(info.module_inputs_func(
                info, device="cpu", dtype=dtype, requires_grad=True, training=True))]


@pytest.mark.parametrize("item,dtype", _module_db_cases())
def test_module_db(item, dtype):
    ctor = item.constructor_input
    t = torch.nn.Embedding(*ctor.args, **ctor.kwargs).to(dtype)
    e = ember.nn.Embedding(*ctor.args, **ctor.kwargs).to(to_ember(dtype))
    assert repr(e) == repr(t)
    copy_state(t, e)
    t_args = item.forward_input.args
    t_out, e_out = t(*t_args), e(*to_ember(t_args))
    assert_same(e_out, t_out, exact=True)
    gy = RNG.standard_normal(tuple(t_out.shape))
    t_out.backward(torch.tensor(gy, dtype=dtype))
    e_out.backward(ember.tensor(gy).to(to_ember(dtype)))
    assert_same(e.weight.grad, t.weight.grad, 1e-6, 1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
@pytest.mark.parametrize("max_norm,norm_type", [(None, 2.0), (1.0, 2.0), (0.8, 1.0),
                                                (1.2, 3.0)])
@pytest.mark.parametrize("padding_idx", [None, 0, 3, -2])
def test_embedding_table(padding_idx, max_norm, norm_type, scale_grad_by_freq, dtype):
    kwargs = {"padding_idx": padding_idx, "max_norm": max_norm, "norm_type": norm_type,
              "scale_grad_by_freq": scale_grad_by_freq}
    t = torch.nn.Embedding(7, 4, **kwargs).to(getattr(torch, np.dtype(dtype).name))
    e = ember.nn.Embedding(7, 4, **kwargs).to(getattr(ember, np.dtype(dtype).name))
    assert repr(e) == repr(t)
    copy_state(t, e)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    for step in range(3):  # renormalization changes the weight in place at every call
        idx = RNG.integers(0, 7, (3, 5))
        t_out, e_out = t(torch.tensor(idx)), e(ember.tensor(idx))
        assert_same(e_out, t_out, tol, tol)
        assert_same(e.weight, t.weight, tol, tol)
        gy = RNG.standard_normal((3, 5, 4)).astype(dtype)
        t_out.backward(torch.tensor(gy))
        e_out.backward(ember.tensor(gy))
        assert not t.weight.grad.is_sparse
        assert_same(e.weight.grad, t.weight.grad, tol, tol)


# PyTorch allows per_sample_weights with mode='sum' only
BAG_MODES = [("sum", False), ("sum", True), ("mean", False), ("max", False)]


@pytest.mark.parametrize("mode,per_sample", BAG_MODES)
@pytest.mark.parametrize("max_norm", [None, 1.0])
@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_bag_table(mode, per_sample, max_norm, padding_idx):
    kwargs = {"mode": mode, "max_norm": max_norm, "padding_idx": padding_idx}
    t = torch.nn.EmbeddingBag(9, 3, **kwargs).double()
    e = ember.nn.EmbeddingBag(9, 3, **kwargs).double()
    copy_state(t, e)
    indices = np.array([1, 4, 4, 8, 0, 1, 2, 7, 5])
    offsets = np.array([0, 3, 3, 6])
    weights = RNG.uniform(0.5, 2.0, len(indices)) if per_sample else None
    t_w = None if weights is None else torch.tensor(weights, requires_grad=True)
    e_w = None if weights is None else ember.tensor(weights, requires_grad=True)
    t_out = t(torch.tensor(indices), torch.tensor(offsets), per_sample_weights=t_w)
    e_out = e(ember.tensor(indices), ember.tensor(offsets), per_sample_weights=e_w)
    assert_same(e_out, t_out, 1e-12, 1e-12)
    assert_same(e.weight, t.weight, 1e-12, 1e-12)
    gy = RNG.standard_normal(tuple(t_out.shape))
    t_out.backward(torch.tensor(gy))
    e_out.backward(ember.tensor(gy))
    assert_same(e.weight.grad, t.weight.grad, 1e-12, 1e-12)
    if per_sample:
        assert_same(e_w.grad, t_w.grad, 1e-12, 1e-12)
