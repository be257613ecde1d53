"""CSR and CSC matrices against torch: conversions from dense and COO and between layouts,
construction, index accessors and their errors, printing, to_dense and its gradient, and
Tensor.sparse_mask."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, to_ember, to_torch

pytestmark = pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")

RNG = np.random.default_rng(4)
A = RNG.standard_normal((4, 5)) * (RNG.random((4, 5)) < 0.45)
A[2] = 0  # an empty row
LAYOUTS = {"csr": lambda t: t.to_sparse_csr(), "csc": lambda t: t.to_sparse_csc(),
           "coo": lambda t: t.to_sparse()}
ACCESSORS = {"csr": ("crow_indices", "col_indices"), "csc": ("ccol_indices", "row_indices")}


def assert_same_compressed(e, t, rtol=1e-9):
    assert str(e.layout) == str(t.layout)
    assert tuple(e.shape) == tuple(t.shape) and e._nnz() == t._nnz()
    assert (e.is_sparse, e.is_sparse_csr) == (t.is_sparse, t.is_sparse_csr)
    for name in ACCESSORS[str(t.layout)[-3:]]:
        assert_same(getattr(e, name)(), getattr(t, name)(), exact=True)
    assert_same(e.values(), t.values(), rtol=rtol)
    assert_same(e.to_dense(), t.to_dense(), rtol=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("source", ["dense", "coo", "csr", "csc"])
@pytest.mark.parametrize("target", ["csr", "csc"])
def test_conversions(target, source, dtype):
    e, t = to_ember(A.astype(dtype)), to_torch(A.astype(dtype))
    if source != "dense":
        e, t = LAYOUTS[source](e), LAYOUTS[source](t)
    assert_same_compressed(LAYOUTS[target](e), LAYOUTS[target](t))
    back_e, back_t = LAYOUTS[target](e).to_sparse(), LAYOUTS[target](t).to_sparse()
    assert str(back_e.layout) == "torch.sparse_coo"
    assert_same(back_e.to_dense(), back_t.to_dense())
    assert_same(back_e._indices(), back_t._indices(), exact=True)


@pytest.mark.parametrize("layout", ["csr", "csc"])
def test_to_sparse_with_layout_and_repr(layout):
    name = f"sparse_{layout}"
    e = to_ember(A).to_sparse(layout=getattr(ember, name))
    t = to_torch(A).to_sparse(layout=getattr(torch, name))
    assert_same_compressed(e, t)
    assert repr(e) == repr(t)
    small_e = ember.tensor([[0.0, 1.5], [2.0, 0.0]]).to_sparse(layout=getattr(ember, name))
    small_t = torch.tensor([[0.0, 1.5], [2.0, 0.0]]).to_sparse(layout=getattr(torch, name))
    assert repr(small_e) == repr(small_t) and str(small_e) == str(small_t)
    leaf_e = small_e.detach().requires_grad_()
    leaf_t = small_t.detach().requires_grad_()
    assert repr(leaf_e) == repr(leaf_t)


@pytest.mark.parametrize("size", [None, (3, 6)])
@pytest.mark.parametrize("layout", ["csr", "csc"])
def test_construction(layout, size):
    compressed, plain, values = [0, 2, 2, 3], [0, 4, 1], [1.0, 2.0, 3.0]
    build = f"sparse_{layout}_tensor"
    sizes = () if size is None or layout == "csc" else (size,)
    e = getattr(ember, build)(ember.tensor(compressed), ember.tensor(plain),
                              ember.tensor(values, dtype=ember.float64), *sizes)
    t = getattr(torch, build)(torch.tensor(compressed), torch.tensor(plain),
                              torch.tensor(values, dtype=torch.float64), *sizes)
    assert_same_compressed(e, t)
    assert repr(e) == repr(t)


def test_construction_with_lists_dtype_and_requires_grad():
    args = ([0, 1, 3], [1, 0, 2], [4.0, 5.0, 6.0])
    e = ember.sparse_csr_tensor(*args, dtype=ember.float64, requires_grad=True)
    t = torch.sparse_csr_tensor(*args, dtype=torch.float64, requires_grad=True)
    assert_same_compressed(e, t)
    assert e.requires_grad and e.is_leaf and repr(e) == repr(t)


@pytest.mark.parametrize("layout", ["csr", "csc", "coo", "dense"])
@pytest.mark.parametrize("accessor", ["crow_indices", "col_indices", "ccol_indices",
                                      "row_indices"])
def test_accessor_errors(accessor, layout):
    if layout in ACCESSORS and accessor in ACCESSORS[layout]:
        return  # the right layout: tested above
    convert = LAYOUTS.get(layout, lambda t: t)
    assert_same_error(lambda lib, a: getattr(convert(a), accessor)(), A, same_message=True,
                      exact_type=True)


def test_numpy_refuses_sparse_layouts():
    for layout in LAYOUTS:
        assert_same_error(lambda lib, a, layout=layout: LAYOUTS[layout](a).numpy(), A,
                          same_message=True, exact_type=True)


@pytest.mark.parametrize("layout", ["csr", "csc"])
def test_to_dense_gradient_reaches_values(layout):
    grads = []
    weights = RNG.standard_normal(A.shape)
    for lib in (ember, torch):
        convert = to_ember if lib is ember else to_torch
        s = LAYOUTS[layout](convert(A))
        values = s.values().detach().requires_grad_()
        s = getattr(lib, f"sparse_{layout}_tensor")(
            *[getattr(s, name)() for name in ACCESSORS[layout]], values, s.shape)
        (s.to_dense() * convert(weights)).sum().backward()
        grads.append(values.grad)
    assert_same(grads[0], grads[1])


def test_gradient_through_conversion_to_csc():
    grads = []
    for lib in (ember, torch):
        d = (to_ember if lib is ember else to_torch)(A, requires_grad=True)
        (d.to_sparse().to_sparse_csc().to_dense() ** 2).sum().backward()
        grads.append(d.grad)
    assert_same(grads[0], grads[1])


# ---- sparse_mask ----------------------------------------------------------------------------
@pytest.mark.parametrize("mask_layout", ["coo", "csr"])
def test_sparse_mask_values_and_gradient(mask_layout):
    dense = RNG.standard_normal(A.shape)
    results = []
    for lib in (ember, torch):
        convert = to_ember if lib is ember else to_torch
        d = convert(dense, requires_grad=True)
        masked = d.sparse_mask(LAYOUTS[mask_layout](convert(A)))
        results.append(masked)
        if mask_layout == "coo":  # torch cannot backward through a CSR sparse_mask
            (masked.to_dense() ** 2).sum().backward()
            results.append(d.grad)
    e, t = results[0], results[len(results) // 2]
    assert str(e.layout) == str(t.layout)
    assert_same(e.to_dense(), t.to_dense())
    if mask_layout == "coo":
        assert_same(e._indices(), t._indices(), exact=True)
        assert_same(results[1], results[3])
    else:
        assert_same_compressed(e, t)


def test_sparse_mask_of_a_sparse_tensor_and_errors():
    other = RNG.standard_normal(A.shape) * (RNG.random(A.shape) < 0.5)
    e = to_ember(other).to_sparse().sparse_mask(to_ember(A).to_sparse())
    t = to_torch(other).to_sparse().sparse_mask(to_torch(A).to_sparse())
    assert_same(e.to_dense(), t.to_dense())
    assert_same_error(lambda lib, a: lib.ones(3, 3).sparse_mask(a.to_sparse()), A,
                      same_message=True, exact_type=True)
    assert_same_error(lambda lib, a: a.sparse_mask(a), A, exact_type=True)


def test_csc_times_dense_raises_like_torch():
    assert_same_error(lambda lib, a: a.to_sparse_csc() * a, A, same_message=True,
                      exact_type=True)


@pytest.mark.parametrize("layout", ["csr"])
def test_mul_by_dense_and_number_then_sum(layout):
    """Values against torch; torch has no backward here, so the dense operand's gradient is
    checked against its closed form (d/dw Σ s·w = s)."""
    weights = RNG.standard_normal(A.shape)
    results = []
    for lib in (ember, torch):
        convert = to_ember if lib is ember else to_torch
        s = LAYOUTS[layout](convert(A))
        w = convert(weights, requires_grad=lib is ember)
        product, scaled = s * w, 2.0 * s
        total = product.sum() + scaled.sum()
        assert str(product.layout) == f"torch.sparse_{layout}"
        results.append((product.to_dense(), scaled.to_dense(), total))
        if lib is ember:
            total.backward()
            np.testing.assert_allclose(w.grad.numpy(), A, rtol=1e-12)
    for e, t in zip(*results):
        assert_same(e, t, rtol=1e-9)
