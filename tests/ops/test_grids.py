"""meshgrid, cartesian_prod, combinations, tril_indices and triu_indices (ember/ops/grids.py)
against torch: values, dtypes, shapes, grad_fn names, gradients and double backward through the
grids; meshgrid's outputs are views of its inputs; the errors for bad inputs.
"""

import warnings

import numpy as np
import pytest
import torch

import ember
from ember import _warnings
from tests.differential import assert_same, assert_same_error, outputs

RNG = np.random.default_rng(0)
TOL = {"rtol": 1e-6, "atol": 1e-7}

# id -> call(lib, a, b, c) on 1-D tensors a (3,), b (2,), c (4,)
CALLS = {
    "meshgrid_ij": lambda m, a, b, c: m.meshgrid(a, b, c, indexing="ij"),
    "meshgrid_xy": lambda m, a, b, c: m.meshgrid(a, b, c, indexing="xy"),
    "meshgrid_xy_two": lambda m, a, b, c: m.meshgrid([a, c], indexing="xy"),
    "meshgrid_one": lambda m, a, b, c: m.meshgrid(b, indexing="xy"),
    "meshgrid_0d": lambda m, a, b, c: m.meshgrid(a, b[0], indexing="ij"),
    "cartesian_prod": lambda m, a, b, c: m.cartesian_prod(a, b, c),
    "cartesian_prod_two": lambda m, a, b, c: m.cartesian_prod(a, c * 2),
    "combinations": lambda m, a, b, c: m.combinations(c),
    "combinations_r3": lambda m, a, b, c: m.combinations(c, r=3),
    "combinations_replacement": lambda m, a, b, c: m.combinations(a, 2, with_replacement=True),
    "combinations_r1": lambda m, a, b, c: m.combinations(b, 1),
    "combinations_too_long": lambda m, a, b, c: m.combinations(b, 3),
}


def _run(name, dtype=np.float64, requires_grad=False):
    arrays = [RNG.standard_normal(n).astype(dtype) for n in (3, 2, 4)]
    results = []
    for m in (ember, torch):
        leaves = [m.from_numpy(a.copy()) for a in arrays]
        if requires_grad:
            for leaf in leaves:
                leaf.requires_grad_()
        results.append((leaves, outputs(CALLS[name](m, *leaves))))
    return results


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_values(name, dtype):
    (_, ye), (_, yt) = _run(name, dtype)
    assert len(ye) == len(yt)
    for a, b in zip(ye, yt):
        assert_same(a, b, **TOL)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_grad_fn_names_and_gradients(name):
    (xe, ye), (xt, yt) = _run(name, requires_grad=True)
    for a, b in zip(ye, yt):
        assert a.grad_fn.name() == b.grad_fn.name()
    seeds = [RNG.standard_normal(tuple(b.shape)) for b in yt]
    ember.autograd.backward(list(ye), [ember.from_numpy(s.copy()) for s in seeds])
    torch.autograd.backward(list(yt), [torch.from_numpy(s.copy()) for s in seeds])
    for a, b in zip(xe, xt):
        if b.grad is None:
            assert a.grad is None
        else:
            assert_same(a.grad, b.grad, **TOL)


@pytest.mark.parametrize("name", ["meshgrid_xy", "cartesian_prod", "combinations_r3"])
def test_gradcheck(name):
    leaves = [ember.from_numpy(RNG.standard_normal(n)).requires_grad_() for n in (3, 2, 4)]
    assert ember.autograd.gradcheck(lambda *xs: outputs(CALLS[name](ember, *xs))[0], leaves)


def test_meshgrid_outputs_are_views_and_warn_without_indexing(monkeypatch):
    """The warning is torch's TORCH_WARN_ONCE: the first call of the process only."""
    monkeypatch.setattr(_warnings, "_WARNED_ONCE", set())  # as in a fresh process
    a, b = ember.arange(3.0), ember.arange(2.0)
    with pytest.warns(UserWarning, match="indexing argument. \\(Triggered internally at "):
        grids = ember.meshgrid(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.meshgrid(a, b)
    assert grids[0]._base is a and grids[1]._base is b
    assert np.shares_memory(grids[0]._data, a._data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.meshgrid(torch.arange(3.0), torch.arange(2.0))
    for x, y in zip(grids, expected):
        assert_same(x, y, **TOL)


def test_cartesian_prod_of_one_tensor_is_that_tensor():
    for m in (ember, torch):
        a = m.arange(3.0)
        assert m.cartesian_prod(a) is a


def test_combinations_r0():
    for dtype in ("float32", "int64"):
        results = [m.combinations(m.arange(3, dtype=getattr(m, dtype)), r=0)
                   for m in (ember, torch)]
        assert_same(*results, exact=True)


@pytest.mark.parametrize("args", [(3, 4), (3, 4, 1), (4, 3, -1), (0, 3), (3, 0), (1, 1, 5),
                                  (5, 2, -10)], ids=str)
def test_triangle_indices(args):
    for name in ("tril_indices", "triu_indices"):
        assert_same(getattr(ember, name)(*args), getattr(torch, name)(*args), exact=True)
        assert_same(getattr(ember, name)(*args, dtype=ember.int32),
                    getattr(torch, name)(*args, dtype=torch.int32), exact=True)


ERRORS = [
    lambda m: m.meshgrid(m.ones(2), m.ones(3), indexing="foo"),
    lambda m: m.meshgrid(m.ones(2, 2), m.ones(3), indexing="ij"),
    lambda m: m.meshgrid(m.ones(2), m.ones(3, dtype=m.int64), indexing="ij"),
    lambda m: m.meshgrid(indexing="ij"),
    lambda m: m.cartesian_prod(m.ones(2, 2)),
    lambda m: m.combinations(m.ones(3, 2)),
    lambda m: m.combinations(m.ones(3), -1),
    lambda m: m.tril_indices(-1, 4),
    lambda m: m.triu_indices(3, -1),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors(index):
    assert_same_error(ERRORS[index], same_message=index != 1)
