"""The top-level linear-algebra functions outside torch.linalg that torch 2.13 still has
(`torch.vander`, the deprecated `torch.frobenius_norm` / `torch.nuclear_norm`, `torch.is_neg`)
and `torch.svd` on complex input, against torch: values, dtypes, shapes, gradients, errors and
float64 gradcheck."""

import warnings

import numpy as np
import pytest
import torch

import ember
from ember import _warnings
from ember.ops import linalg_norms
from tests.differential import assert_same, assert_same_error, to_ember, to_torch

RNG = np.random.default_rng(15)
VEC = np.array([1.5, -2.0, 3.0, 0.5])
MAT = RNG.standard_normal((3, 4))
BATCH = RNG.standard_normal((2, 3, 3))

# name -> (call(lib, x), input array, dtype name, input requires grad). torch 2.13's own
# torch.vander backward raises (an in-place write into a saved tensor: "one of the variables
# needed for gradient computation has been modified"), so vander's gradients are compared with
# torch.linalg.vander's (REFERENCE) and held to gradcheck.
CASES = {
    "vander": (lambda L, x: L.vander(x), VEC, "float64", True),
    "vander_N2_increasing": (lambda L, x: L.vander(x, N=2, increasing=True), VEC, "float64", True),
    "vander_N6": (lambda L, x: L.vander(x, 6), VEC, "float32", True),
    "vander_N1": (lambda L, x: L.vander(x, 1), VEC, "float64", True),
    "vander_N0": (lambda L, x: L.vander(x, 0), VEC, "int64", False),
    "vander_int": (lambda L, x: L.vander(x), np.array([1, 2, 3]), "int32", False),
    "vander_bool": (lambda L, x: L.vander(x), np.array([True, False]), "bool", False),
    "vander_empty": (lambda L, x: L.vander(x), np.zeros(0), "float32", False),
    "vander_complex": (lambda L, x: L.vander(x.to(L.complex128), 3), VEC, "float64", False),
    "frobenius_norm_dims": (lambda L, x: L.frobenius_norm(x, dim=(0, 1)), MAT, "float64", True),
    "frobenius_norm_one_dim": (lambda L, x: L.frobenius_norm(x, (0,)), MAT, "float32", True),
    "frobenius_norm_int_dim": (lambda L, x: L.frobenius_norm(x, 1, keepdim=True), MAT,
                               "float64", True),
    "frobenius_norm_all": (lambda L, x: L.frobenius_norm(x, dim=()), MAT, "float64", True),
    "frobenius_norm_complex": (lambda L, x: L.frobenius_norm(x.to(L.complex64), (0, 1)), MAT,
                               "float32", False),
    "nuclear_norm": (lambda L, x: L.nuclear_norm(x), MAT, "float64", True),
    "nuclear_norm_keepdim_positional": (lambda L, x: L.nuclear_norm(x, True), MAT, "float32",
                                        True),
    "nuclear_norm_batched": (lambda L, x: L.nuclear_norm(x), BATCH, "float64", True),
    "nuclear_norm_dims": (lambda L, x: L.nuclear_norm(x, dim=(0, 2), keepdim=True), BATCH,
                          "float64", True),
    "is_neg": (lambda L, x: L.tensor(L.is_neg(x)), VEC, "float32", False),
}
REFERENCE = {
    "vander": lambda x: torch.linalg.vander(x).flip(-1),
    "vander_N2_increasing": lambda x: torch.linalg.vander(x, N=2),
    "vander_N6": lambda x: torch.linalg.vander(x, N=6).flip(-1),
}


def _inputs(array, dtype, grad):
    array = array.astype(dtype)
    return to_ember(array, requires_grad=grad), to_torch(array, requires_grad=grad)


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_torch(name):
    call, array, dtype, grad = CASES[name]
    e_x, t_x = _inputs(array, dtype, grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e, t = call(ember, e_x), call(torch, t_x)
    tol = 1e-5 if dtype == "float32" else 1e-10
    assert_same(e, t, rtol=tol, atol=tol)
    assert e.requires_grad == t.requires_grad
    if t.requires_grad:
        if name in REFERENCE:
            t = REFERENCE[name](t_x)
        w = RNG.standard_normal(tuple(t.shape)).astype(dtype)
        (t * to_torch(w)).sum().backward()
        (e * to_ember(w)).sum().backward()
        assert_same(e_x.grad, t_x.grad, rtol=10 * tol, atol=10 * tol)


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c[3] and n != "vander_N1"])
def test_gradcheck_float64(name):
    call, array, _, _ = CASES[name]
    x = ember.tensor(array, dtype=ember.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ember.autograd.gradcheck(lambda t: call(ember, t), [x])


ERRORS = {
    "vander_2d": lambda L, x: L.vander(x),
    "vander_negative_N": lambda L, x: L.vander(x[0], -1),
    "frobenius_three_dims": lambda L, x: L.frobenius_norm(x, dim=(0, 1, 2)),
    "frobenius_integer": lambda L, x: L.frobenius_norm(x.long(), dim=(0, 1)),
    "nuclear_vector": lambda L, x: L.nuclear_norm(x[0, 0]),
    "nuclear_one_dim": lambda L, x: L.nuclear_norm(x[0], dim=(0,)),
    "nuclear_int_dim": lambda L, x: L.nuclear_norm(x[0], dim=1),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_error(ERRORS[name], BATCH, same_message=True, exact_type=True)


@pytest.mark.parametrize("name", ["frobenius_norm", "nuclear_norm"])
def test_deprecation_warning_once_like_torch(name, monkeypatch):
    """torch's TORCH_WARN_ONCE: the first call of the process warns, later ones do not."""
    monkeypatch.setattr(linalg_norms, "_WARNED", set())
    with pytest.warns(UserWarning, match=f"at::{name} is deprecated and it is just left for JIT "
                                         "compatibility") as caught:
        getattr(ember, name)(to_ember(MAT), (0, 1))
    line = {"frobenius_norm": 3175, "nuclear_norm": 3229}[name]
    assert str(caught[0].message).endswith(f"native/LinearAlgebra.cpp:{line}.)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(ember, name)(to_ember(MAT), (0, 1))


@pytest.mark.parametrize("call, text", [
    (lambda lib, a: lib.triangular_solve(lib.ones(3, 1), a), "torch.triangular_solve is "
     "deprecated in favor of torch.linalg.solve_triangularand will be removed"),
    (lambda lib, a: a.triangular_solve(a), "torch.triangular_solve is deprecated"),
    (lambda lib, a: lib.chain_matmul(a, a), "torch.chain_matmul is deprecated and will be "
     "removed in a future PyTorch release. Use torch.linalg.multi_dot instead"),
    (lambda lib, a: lib.lu(a), "torch.lu is deprecated in favor of torch.linalg.lu_factor"),
])
def test_deprecated_products_warn_once_like_torch(call, text, monkeypatch):
    """torch.triangular_solve, torch.chain_matmul and torch.lu warn (TORCH_WARN_ONCE) the
    first time."""
    monkeypatch.setattr(_warnings, "_WARNED_ONCE", set())
    a = ember.tensor(MAT[:3, :3]).triu() + 3 * ember.eye(3, dtype=ember.float64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(ember, a)
        call(ember, a)
    assert [str(w.message)[:len(text)] for w in caught] == [text]
    assert str(caught[0].message).endswith(
        ".cpp:2273.)" if "triangular" in text else ".cpp:1102.)" if "chain" in text else
        "BatchLinearAlgebra.cpp:2073.)")


@pytest.mark.parametrize("some", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5)])
def test_svd_complex(shape, some):
    """torch.svd of complex input: V (not Vᴴ), S real; the gauge-invariant U·diag(S)·Vᴴ and
    the gradients of a gauge-invariant loss match torch."""
    a = (RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)).astype(np.complex128)
    e_a, t_a = to_ember(a, requires_grad=True), to_torch(a, requires_grad=True)
    results = []
    for lib, x in ((ember, e_a), (torch, t_a)):
        u, s, v = lib.svd(x, some=some)
        k = s.shape[-1]
        rebuilt = (u[..., :k] * s[..., None, :].to(u.dtype)) @ v[..., :k].mH
        loss = (rebuilt.abs() ** 2).sum() + s.sum() + (u[..., :k] @ v[..., :k].mH).real.sum()
        loss.backward()
        results.append((u.shape, s, v.shape, v.dtype, rebuilt))
    (eu, es, ev, evd, er), (tu, ts, tv, tvd, tr) = results
    assert (tuple(eu), tuple(ev), str(evd)) == (tuple(tu), tuple(tv), str(tvd))
    assert_same(es, ts, rtol=1e-10, atol=1e-10)
    assert_same(er, tr, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(er.detach().numpy(), a, atol=1e-10)
    assert_same(e_a.grad, t_a.grad, rtol=1e-8, atol=1e-8)


def test_svd_complex_gradcheck():
    a = RNG.standard_normal((3, 2)) + 1j * RNG.standard_normal((3, 2))
    x = ember.tensor(a, dtype=ember.complex128, requires_grad=True)

    def invariant(t):
        u, s, v = ember.svd(t)
        return s, u @ v.mH

    assert ember.autograd.gradcheck(invariant, [x])


def test_svd_complex_without_uv():
    a = RNG.standard_normal((3, 2)) + 1j * RNG.standard_normal((3, 2))
    e, t = ember.svd(to_ember(a), compute_uv=False), torch.svd(to_torch(a), compute_uv=False)
    for x, y in zip(e, t):
        assert_same(x, y.resolve_conj(), rtol=1e-12, atol=1e-12)  # torch's V: a conj view
