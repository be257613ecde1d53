"""Products with sparse operands against torch: sparse × sparse for every pair of COO, CSR and
CSC layouts through torch.sparse.mm, torch.mm and @ (result layouts, values, nnz, or torch's
error), gradients of COO × COO, compressed × dense, torch.sparse.sampled_addmm and the row
reductions of torch.sparse.mm(csr, dense, reduce)."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, to_ember, to_torch

pytestmark = pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")

RNG = np.random.default_rng(5)
A = RNG.standard_normal((4, 5)) * (RNG.random((4, 5)) < 0.45)
B = RNG.standard_normal((5, 3)) * (RNG.random((5, 3)) < 0.5)
LAYOUTS = {"coo": lambda t: t.to_sparse(), "csr": lambda t: t.to_sparse_csr(),
           "csc": lambda t: t.to_sparse_csc(), "dense": lambda t: t}
PRODUCTS = {"sparse.mm": lambda lib, a, b: lib.sparse.mm(a, b),
            "mm": lambda lib, a, b: lib.mm(a, b), "@": lambda lib, a, b: a @ b,
            "matmul": lambda lib, a, b: lib.matmul(a, b)}
PAIRS = [(la, lb) for la in ("coo", "csr", "csc", "dense") for lb in ("coo", "csr", "csc",
                                                                        "dense")
         if (la, lb) != ("dense", "dense") and not (la == "dense" and lb != "coo")]


@pytest.mark.parametrize("product", list(PRODUCTS))
@pytest.mark.parametrize("la, lb", PAIRS)
def test_product_layouts_and_values(la, lb, product):
    if (la, lb, product) == ("csc", "csc", "sparse.mm"):
        pytest.skip("torch 2.13 returns an empty CSC matrix here; see test_csc_csc_sparse_mm")
    def run(lib, a, b):
        return PRODUCTS[product](lib, LAYOUTS[la](a), LAYOUTS[lb](b))
    try:
        t = run(torch, to_torch(A), to_torch(B))
    except RuntimeError:
        assert_same_error(run, A, B, same_message=True, exact_type=True)
        return
    e = run(ember, to_ember(A), to_ember(B))
    assert str(e.layout) == str(t.layout)
    assert_same(e.to_dense(), t.to_dense(), rtol=1e-9)
    if t.layout != torch.strided:
        assert e._nnz() == t._nnz()
    if t.layout == torch.sparse_coo:
        assert e.is_coalesced() == t.is_coalesced()
        assert_same(e._indices(), t._indices(), exact=True)


def test_csc_csc_sparse_mm():
    """torch.sparse.mm(csc, csc) in torch 2.13 returns a CSC matrix with no entries (a torch
    bug); ember returns the product, in CSC as torch's layout rule says."""
    e = ember.sparse.mm(to_ember(A).to_sparse_csc(), to_ember(B).to_sparse_csc())
    assert str(e.layout) == "torch.sparse_csc"
    np.testing.assert_allclose(e.to_dense().numpy(), A @ B, rtol=1e-12, atol=1e-12)


def test_sparse_sparse_errors():
    for fn in (lambda lib, a, b: lib.sparse.mm(a.to_sparse(), b[:2].to_sparse()),
               lambda lib, a, b: lib.sparse.mm(a.to_sparse(), b.float().to_sparse()),
               lambda lib, a, b: a.to_sparse_csr() @ b[:3].to_sparse_csr()):
        assert_same_error(fn, A, B, same_message=True, exact_type=True)


@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_sparse_sparse_gradients(layout):
    """Gradients reach both operands' values (torch's gradient masked to their patterns;
    torch has no CSR × CSR backward, so CSR is checked against torch's COO gradients)."""
    weights = RNG.standard_normal((4, 3))
    results = []
    for lib in (ember, torch):
        convert = to_ember if lib is ember else to_torch
        layout = layout if lib is ember else "coo"
        a = LAYOUTS[layout](convert(A)).detach().requires_grad_()
        b = LAYOUTS[layout](convert(B)).detach().requires_grad_()
        out = lib.sparse.mm(a, b)
        (out.to_dense() * convert(weights)).sum().backward()
        results.append((a.grad.to_dense(), b.grad.to_dense()))
    for e, t in zip(*results):
        assert_same(e, t, rtol=1e-9)


def test_sparse_sparse_gradcheck_and_second_order():
    a_idx, b_idx = to_ember(A).to_sparse()._indices(), to_ember(B).to_sparse()._indices()

    def fn(a_values, b_values):
        a = ember.sparse_coo_tensor(a_idx, a_values, A.shape)
        b = ember.sparse_coo_tensor(b_idx, b_values, B.shape)
        return ember.sparse.mm(a, b).to_dense()
    a_values = to_ember(A).to_sparse()._values().detach().requires_grad_()
    b_values = to_ember(B).to_sparse()._values().detach().requires_grad_()
    assert ember.autograd.gradcheck(fn, [a_values, b_values])
    assert ember.autograd.gradgradcheck(fn, [a_values, b_values])


@pytest.mark.parametrize("layout", ["csr", "csc"])
def test_compressed_dense_gradients(layout):
    """torch.sparse.mm's gradients: the dense operand's, and the values' masked to the sparse
    pattern (torch.sparse.mm's masked gradient; NOTE [Dense gradients of sparse tensors])."""
    results = []
    for lib in (ember, torch):
        convert = to_ember if lib is ember else to_torch
        # torch has no CSC backward: its CSR gradients are the reference for both
        a = LAYOUTS[layout if lib is ember else "csr"](convert(A)).detach().requires_grad_()
        d = convert(B, requires_grad=True)
        out = lib.sparse.mm(a, d)
        (out ** 2).sum().backward()
        results.append((out, d.grad, a.grad.to_dense()))
    for e, t in zip(*results):
        assert_same(e, t, rtol=1e-9)


# ---- sampled_addmm --------------------------------------------------------------------------
@pytest.mark.parametrize("beta, alpha", [(1.0, 1.0), (0.5, 2.0), (0.0, -1.0)])
def test_sampled_addmm(beta, alpha):
    pattern = RNG.standard_normal((4, 3)) * (RNG.random((4, 3)) < 0.5)
    m1, m2 = RNG.standard_normal((4, 5)), RNG.standard_normal((5, 3))
    results = []
    for lib in (ember, torch):
        convert = to_ember if lib is ember else to_torch
        values = convert(pattern).to_sparse_csr().values().detach().requires_grad_()
        csr = convert(pattern).to_sparse_csr()
        s = lib.sparse_csr_tensor(csr.crow_indices(), csr.col_indices(), values, csr.shape)
        x, y = convert(m1, requires_grad=True), convert(m2, requires_grad=True)
        out = lib.sparse.sampled_addmm(s, x, y, beta=beta, alpha=alpha)
        (out.values() ** 2).sum().backward()
        results.append((out.to_dense(), out.crow_indices(), values.grad, x.grad, y.grad))
    for e, t in zip(*results):
        assert_same(e, t, rtol=1e-9)


def test_sampled_addmm_errors():
    for fn in (lambda lib, a, b: lib.sparse.sampled_addmm(a[:, :3].to_sparse(), a, b),
               lambda lib, a, b: lib.sparse.sampled_addmm(a[:, :3], a, b),
               lambda lib, a, b: lib.sparse.sampled_addmm(a[:, :3].to_sparse_csr(), a, b[:2])):
        assert_same_error(fn, A, B, exact_type=True)


# ---- mm with reduce -------------------------------------------------------------------------
@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin"])
def test_mm_reduce(reduce):
    results = []
    for lib in (ember, torch):
        convert = to_ember if lib is ember else to_torch
        values = convert(A).to_sparse_csr().values().detach().requires_grad_()
        csr = convert(A).to_sparse_csr()
        s = lib.sparse_csr_tensor(csr.crow_indices(), csr.col_indices(), values, csr.shape)
        d = convert(B, requires_grad=True)
        out = lib.sparse.mm(s, d, reduce)
        (out * convert(np.arange(12.0).reshape(4, 3))).sum().backward()
        results.append((out, values.grad, d.grad))
    for e, t in zip(*results):
        assert_same(e, t, rtol=1e-9)


def test_mm_reduce_errors():
    for fn in (lambda lib, a, b: lib.sparse.mm(a.to_sparse_csr(), b, "foo"),
               lambda lib, a, b: lib.sparse.mm(a.to_sparse_csr(), b, "prod"),
               lambda lib, a, b: lib.sparse.mm(a.to_sparse_csc(), b, "sum")):
        assert_same_error(fn, A, B, same_message=True, exact_type=True)
    assert_same_error(lambda lib, a, b: lib.sparse.mm(a.to_sparse(), b, "sum"), A, B,
                      exact_type=True)


@pytest.mark.filterwarnings("ignore:Sparse CSR")
@pytest.mark.parametrize("call", [
    # torch.sparse.mm is the C-bound _sparse_mm: its parser wants a str reduce, two tensors
    lambda lib, a, b: lib.sparse.mm(a.to_sparse_csr(), b, None),
    lambda lib, a, b: lib.sparse.mm(a.to_sparse_csr(), b, reduce=None),
    lambda lib, a, b: lib.sparse.mm(a.to_sparse_csr(), b, 1.5),
    lambda lib, a, b: lib.sparse.mm(a.to_sparse_csr(), b, lib.ones(1)),
    lambda lib, a, b: lib.sparse.mm([1.0, 2.0], b, "sum"),
    lambda lib, a, b: lib.sparse.mm(a.to_sparse_csr(), 2, "sum"),
    # sparse_mm_reduce's own checks, in its order: dtype, size(0) of a 0-d tensor, shape
    lambda lib, a, b: lib.sparse.mm(a.to_sparse_csr(), lib.tensor(1.0, dtype=b.dtype), "sum"),
    lambda lib, a, b: lib.sparse.mm(a.to_sparse_csr(), lib.tensor(1), "sum"),
    lambda lib, a, b: lib.sparse.mm(a.to_sparse_csr(), b[0], "sum"),
    lambda lib, a, b: lib.sparse.mm(a.to_sparse_csr(), b[:1], "amax")])
def test_mm_reduce_argument_errors(call):
    assert_same_error(call, A, B, exact_type=True)


# ---- hspmm, smm, sspaddmm, spmm ---------------------------------------------------------------
_S = np.array([[0, 1.], [2, 0], [0, 0]])
_D = np.random.default_rng(4).standard_normal((2, 3))


def _rows_calls(lib):
    s, d = lib.tensor(_S).to_sparse(), lib.tensor(_D)
    repeated = lib.sparse_coo_tensor(lib.tensor([[1, 1, 0], [0, 0, 1]]),
                                     lib.tensor([1., 2., 3.], dtype=lib.float64), (3, 2))
    ones = lib.ones(3, 3, dtype=lib.float64).to_sparse()
    return {
        "hspmm": lambda: lib.hspmm(s, d), "smm": lambda: lib.smm(s, d),
        "smm_method": lambda: s.smm(d), "hspmm_uncoalesced": lambda: lib.hspmm(repeated, d),
        "smm_uncoalesced": lambda: lib.smm(repeated, d),
        "sspaddmm": lambda: lib.sspaddmm(ones, s, d, beta=2, alpha=3),
        "sspaddmm_method": lambda: ones.sspaddmm(s, d, alpha=0.5),
        "spmm": lambda: lib.spmm(s, d), "spmm_dense": lambda: lib.spmm(lib.tensor(_S), d),
        "hspmm_dense_error": lambda: lib.hspmm(s.to_dense(), d),
        "hspmm_shape_error": lambda: lib.hspmm(s, d[:1]),
        "smm_dense_error": lambda: lib.smm(s.to_dense(), d),
        "smm_shape_error": lambda: lib.smm(s, d[:1]),
        "sspaddmm_shape_error": lambda: lib.sspaddmm(ones, s, d[:1]),
        "sspaddmm_input_error": lambda: lib.sspaddmm(ones.to_dense()[:2, :2].to_sparse(), s, d),
        "hspmm_dtype_error": lambda: lib.hspmm(s, d.float()),
        "hspmm_sparse_error": lambda: lib.hspmm(s, d.to_sparse()),
    }


@pytest.mark.parametrize("name", list(_rows_calls(torch)))
def test_row_products_match_torch(name):
    """The printed result (indices in torch's order, values, coalesced or not), or the error
    type and message."""
    outcomes = []
    for lib in (ember, torch):
        try:
            outcomes.append(repr(_rows_calls(lib)[name]()))
        except (RuntimeError, NotImplementedError) as error:
            outcomes.append(f"{type(error).__name__}: {str(error)[:60]}")
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("slot", [0, 1, 2])
@pytest.mark.parametrize("value", [None, 1.5, [1.0, 2.0]])
def test_sampled_addmm_refuses_non_tensors(slot, value):
    """torch's parser refuses a non-tensor input, mat1 or mat2 with TypeError (issue #19)."""
    def call(lib):
        args = [lib.ones(2, 2).to_sparse_csr(), lib.ones(2, 2), lib.ones(2, 2)]
        args[slot] = value
        return lib.sparse.sampled_addmm(*args)
    assert_same_error(call, exact_type=True)
