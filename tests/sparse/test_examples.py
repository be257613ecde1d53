"""Sparse COO as PyTorch's graph-attention examples use it (pyGAT's sparse layer: edge scores
computed densely, made the values of a sparse adjacency, then `torch.sparse.mm` for the
row sums and the aggregation), side by side with torch: outputs and the gradients reaching
the features, the weights and the attention vector through the sparse values. Also the
refusal of complex dense → sparse conversions that require grad (torch has no derivative)."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, to_ember, to_torch

N, F_IN, F_OUT = 7, 4, 3


def _data(seed):
    rng = np.random.default_rng(seed)
    adj = (rng.uniform(size=(N, N)) > 0.6) | np.eye(N, dtype=bool)
    return (rng.standard_normal((N, F_IN)), rng.standard_normal((F_IN, F_OUT)),
            rng.standard_normal((1, 2 * F_OUT)), np.stack(np.nonzero(adj)))


def _sparse_gat_layer(lib, x, w, a, edge):
    """pyGAT's SpGraphAttentionLayer forward (dropout off), then a loss of everything."""
    h = x.mm(w)
    edge_h = lib.cat((h[edge[0, :], :], h[edge[1, :], :]), dim=1).t()
    edge_e = lib.exp(-lib.nn.functional.leaky_relu(a.mm(edge_h).squeeze(), 0.2))
    attention = lib.sparse_coo_tensor(edge, edge_e, lib.Size([N, N]))
    rowsum = lib.sparse.mm(attention, lib.ones(N, 1, dtype=x.dtype))
    out = lib.nn.functional.elu(lib.sparse.mm(attention, h).div(rowsum))
    loss = out.pow(2).sum() + lib.sparse.sum(attention) + (attention @ h).sum()
    return out, loss, attention.coalesce()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", [0, 1])
def test_sparse_graph_attention_layer(seed, dtype):
    x, w, a, edge = _data(seed)
    results = []
    for lib, convert in ((ember, to_ember), (torch, to_torch)):
        leaves = [convert(v.astype(dtype), requires_grad=True) for v in (x, w, a)]
        out, loss, attention = _sparse_gat_layer(lib, *leaves, convert(edge))
        loss.backward()
        results.append((out, loss, attention.indices(), attention.values(),
                        *[leaf.grad for leaf in leaves]))
    tol = 2e-5 if dtype == "float32" else 1e-10
    for e, t in zip(*results):
        assert_same(e, t, rtol=tol, atol=tol)


def test_graph_attention_gradcheck_float64():
    x, w, a, edge = _data(2)
    edge = ember.tensor(edge)

    def layer(*leaves):
        return _sparse_gat_layer(ember, *leaves, edge)[0]

    leaves = [ember.tensor(v, dtype=ember.float64, requires_grad=True) for v in (x, w, a)]
    assert ember.autograd.gradcheck(layer, leaves)


CONVERSIONS = {
    "to_sparse": lambda lib, t: t.to_sparse(),
    "to_sparse_csr": lambda lib, t: t.to_sparse_csr(),
    "to_sparse_csc": lambda lib, t: t.to_sparse_csc(),
    "to_sparse_layout_csr": lambda lib, t: t.to_sparse(layout=lib.sparse_csr),
}


@pytest.mark.parametrize("name", list(CONVERSIONS))
def test_complex_conversion_requiring_grad_raises_like_torch(name):
    z = np.array([[1 + 2j, 0], [0, 3 - 1j]], dtype=np.complex64)
    errors = []
    for lib, convert in ((ember, to_ember), (torch, to_torch)):
        t = convert(z, requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            CONVERSIONS[name](lib, t)
        errors.append(str(info.value))
        with lib.no_grad():  # without recording, the conversion is allowed
            assert str(CONVERSIONS[name](lib, t).layout) != "torch.strided"
    assert errors[0] == errors[1]
