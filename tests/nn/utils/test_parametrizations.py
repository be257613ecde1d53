"""parametrizations.orthogonal (ember/nn/utils/_orthogonal.py) against torch: the weight, its
gradient, state_dict keys, assignment and errors, for every map."""

import numpy as np
import pytest
import torch
from torch.nn.utils import parametrizations as torch_param

import ember
from ember.nn.utils import parametrizations as ember_param


def _pair(shape, dtype="float64", seed=0):
    """A torch Linear and an ember Linear with the same weight of `shape` (out, in)."""
    rng = np.random.default_rng(seed)
    weight = rng.normal(size=shape)
    theirs = torch.nn.Linear(shape[1], shape[0], bias=False).to(getattr(torch, dtype))
    ours = ember.nn.Linear(shape[1], shape[0], bias=False).to(getattr(ember, dtype))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(weight))
    with ember.no_grad():
        ours.weight.copy_(ember.tensor(weight))
    return ours, theirs


# Square weights and use_trivialization=False draw no random numbers: results must agree.
CASES = [((4, 4), None, True), ((4, 4), "cayley", True), ((4, 4), "householder", True),
         ((5, 3), "householder", False), ((3, 5), "householder", False),
         ((4, 4), "matrix_exp", True), ((2, 3, 3), None, True)]


@pytest.mark.parametrize("shape, orthogonal_map, trivial", CASES, ids=str)
def test_orthogonal_weight_and_gradient_match_torch(shape, orthogonal_map, trivial):
    if len(shape) == 3:  # a batch of matrices: a buffer-free module holding one parameter
        ours, theirs = ember.nn.Module(), torch.nn.Module()
        value = np.random.default_rng(1).normal(size=shape)
        ours.weight = ember.nn.Parameter(ember.tensor(value))
        theirs.weight = torch.nn.Parameter(torch.tensor(value))
    else:
        ours, theirs = _pair(shape)
    ember_param.orthogonal(ours, orthogonal_map=orthogonal_map, use_trivialization=trivial)
    torch_param.orthogonal(theirs, orthogonal_map=orthogonal_map, use_trivialization=trivial)
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    weights = np.random.default_rng(2).normal(size=shape)
    (ours.weight * ember.tensor(weights)).sum().backward()
    (theirs.weight * torch.tensor(weights)).sum().backward()
    original_ours = ours.parametrizations.weight.original
    original_theirs = theirs.parametrizations.weight.original
    np.testing.assert_allclose(original_ours.grad.numpy(), original_theirs.grad.numpy(),
                               rtol=1e-9, atol=1e-12)
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("shape", [(5, 3), (3, 5)])
def test_rectangular_weights_with_trivialization_stay_orthogonal(shape):
    ours, _ = _pair(shape, "float32")
    ember_param.orthogonal(ours)
    W = ours.weight
    gram = W @ W.mT if shape[0] < shape[1] else W.mT @ W
    np.testing.assert_allclose(gram.detach().numpy(), np.eye(min(shape)), atol=1e-5)
    optimizer = ember.optim.SGD(ours.parameters(), lr=0.1)
    ours.weight.sum().backward()
    optimizer.step()
    W = ours.weight
    gram = W @ W.mT if shape[0] < shape[1] else W.mT @ W
    np.testing.assert_allclose(gram.detach().numpy(), np.eye(min(shape)), atol=1e-5)


def test_assigning_an_orthogonal_matrix_matches_torch():
    q = np.linalg.qr(np.random.default_rng(3).normal(size=(4, 4)))[0]
    for lib, param in ((ember, ember_param), (torch, torch_param)):
        layer = lib.nn.Linear(4, 4, bias=False).double()
        param.orthogonal(layer)
        layer.weight = lib.tensor(q)
        np.testing.assert_allclose(layer.weight.detach().numpy(), q, atol=1e-12)


@pytest.mark.parametrize("make, error", [
    (lambda lib, p: p.orthogonal(lib.nn.Linear(3, 3), orthogonal_map="qr"), ValueError),
    (lambda lib, p: p.orthogonal(lib.nn.BatchNorm1d(3)), ValueError),
    (lambda lib, p: p.orthogonal(lib.nn.Linear(3, 3), name="nope"), ValueError),
    (lambda lib, p: p.orthogonal(lib.nn.Linear(3, 3).to(lib.complex64),
                                 orthogonal_map="householder"), ValueError),
    (lambda lib, p: setattr(p.orthogonal(lib.nn.Linear(3, 3), use_trivialization=False),
                            "weight", lib.eye(3)), NotImplementedError),
    (lambda lib, p: setattr(p.orthogonal(lib.nn.Linear(3, 3)), "weight", lib.eye(2)),
     ValueError),
])
def test_errors_match_torch(make, error):
    with pytest.raises(error) as theirs:
        make(torch, torch_param)
    with pytest.raises(error) as ours:
        make(ember, ember_param)
    assert str(ours.value).split(" ")[:4] == str(theirs.value).split(" ")[:4]


@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
def test_orthogonal_map_is_torchs_enum(orthogonal_map):
    # torch keeps the map as an _OrthMaps member: printed as `_OrthMaps.cayley`
    reprs = []
    for lib, p in ((torch, torch_param), (ember, ember_param)):
        module = p.orthogonal(lib.nn.Linear(4, 3), orthogonal_map=orthogonal_map)
        chosen = module.parametrizations.weight[0].orthogonal_map
        reprs.append((str(chosen), repr(chosen), chosen.name, chosen is p._OrthMaps[chosen.name]))
    assert reprs[1] == reprs[0]
