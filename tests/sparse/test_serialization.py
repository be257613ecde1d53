"""Sparse COO, CSR and CSC tensors through save/load in torch's checkpoint format: files from
ember.save load in torch (weights_only) and the other way round, with layouts, indices, values,
coalescing and requires_grad kept (torch pickles them with torch._utils._rebuild_sparse_tensor,
which both weights_only allow-lists accept)."""

import pickle

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, to_ember, to_torch

pytestmark = pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta",
                                        "ignore:Sparse invariant checks")

RNG = np.random.default_rng(6)
A = (RNG.standard_normal((3, 4)) * (RNG.random((3, 4)) < 0.5)).astype(np.float32)
LAYOUTS = {"coo": lambda t: t.to_sparse(), "csr": lambda t: t.to_sparse_csr(),
           "csc": lambda t: t.to_sparse_csc(),
           "coo_uncoalesced": lambda t: t.to_sparse() + t.to_sparse()}


def _check(e, t):
    assert str(e.layout) == str(t.layout)
    assert tuple(e.shape) == tuple(t.shape) and e._nnz() == t._nnz()
    assert e.requires_grad == t.requires_grad
    assert repr(e.detach()) == repr(t.detach())
    assert_same(e.to_dense(), t.to_dense())


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_ember_save_loads_in_torch(layout, tmp_path):
    e = LAYOUTS[layout](to_ember(A))
    ember.save({"s": e, "dense": to_ember(A)}, tmp_path / "e.pt")
    loaded = torch.load(tmp_path / "e.pt", weights_only=True)
    _check(e, loaded["s"])
    back = ember.load(tmp_path / "e.pt")
    _check(back["s"], loaded["s"])


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_torch_save_loads_in_ember(layout, tmp_path):
    t = LAYOUTS[layout](to_torch(A))
    torch.save([t], tmp_path / "t.pt")
    for weights_only in (True, False):
        _check(ember.load(tmp_path / "t.pt", weights_only=weights_only)[0], t)


def test_requires_grad_is_kept(tmp_path):
    e = to_ember(A).to_sparse().detach().requires_grad_()
    ember.save(e, tmp_path / "g.pt")
    t = torch.load(tmp_path / "g.pt", weights_only=True)
    assert t.requires_grad and ember.load(tmp_path / "g.pt").requires_grad


def test_invalid_indices_are_refused(tmp_path):
    t = torch.sparse_coo_tensor(torch.tensor([[0, 5]]), torch.tensor([1.0, 2.0]), (3,))
    torch.save(t, tmp_path / "bad.pt")
    with pytest.raises((RuntimeError, pickle.UnpicklingError)):
        ember.load(tmp_path / "bad.pt")
