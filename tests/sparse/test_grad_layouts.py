"""The gradient layout a sparse leaf receives, against torch (NOTE [Dense gradients of sparse
tensors]): every op of ember's sparse set on a COO (coalesced or not), CSR and CSC leaf, with a
dense gradient arriving (`(y * w).sum()`) and a masked one (`(y.to_dense() * w).sum()`):
`.grad.layout`, its values and `to_dense()`; dense leaves through `to_sparse`; leaves whose
values require grad; accumulation, `.grad = None` and gradcheck through the dense faces."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, to_ember, to_torch

pytestmark = [pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta"),
              pytest.mark.filterwarnings("ignore:Sparse invariant checks")]

RNG = np.random.default_rng(11)
A = np.array([[1.5, 0, -2], [0, 0.5, 0], [3, 0, 0]])  # square: s @ s.t() and s + s work
W = RNG.standard_normal((3, 3))
M = RNG.standard_normal((3, 4))
V = RNG.standard_normal(3)
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}
LAYOUTS = {"coo": lambda t: t.to_sparse(), "csr": lambda t: t.to_sparse_csr(),
           "csc": lambda t: t.to_sparse_csc()}
UNCOALESCED = (np.array([[0, 2, 1, 0], [2, 0, 1, 0]]), np.array([-2.0, 3, 0.5, 1.5]))


def leaf(lib, layout, dtype):
    """A as a sparse leaf requiring grad, in `layout`."""
    convert = to_ember if lib is ember else to_torch
    if layout == "coo_uncoalesced":
        indices, values = UNCOALESCED
        return lib.sparse_coo_tensor(convert(indices), convert(values.astype(dtype)), (3, 3),
                                     requires_grad=True)
    dense = convert(A.astype(dtype))
    s = {"coo": dense.to_sparse, "csr": dense.to_sparse_csr, "csc": dense.to_sparse_csc}[layout]()
    return s.detach().requires_grad_(True)


def _w(lib, dtype, array=W):
    return (to_ember if lib is ember else to_torch)(array.astype(dtype))


# op name -> (function of (lib, s, dtype), layouts torch runs it on with a dense gradient)
OPS = {
    "to_dense": lambda lib, s, dt: s.to_dense(),
    "mul_dense": lambda lib, s, dt: s * _w(lib, dt),
    "rmul_dense": lambda lib, s, dt: _w(lib, dt) * s,
    "mul_scalar": lambda lib, s, dt: s * 2.5,
    "div_scalar": lambda lib, s, dt: s / 2.0,
    "neg": lambda lib, s, dt: -s,
    "sum": lambda lib, s, dt: s.sum(),
    "sparse.sum": lambda lib, s, dt: lib.sparse.sum(s),
    "sum(0)": lambda lib, s, dt: s.sum(0),
    "sum(1)": lambda lib, s, dt: s.sum(1),
    "sum((0, 1))": lambda lib, s, dt: s.sum((0, 1)),
    "mm": lambda lib, s, dt: lib.mm(s, _w(lib, dt, M)),
    "matmul": lambda lib, s, dt: s @ _w(lib, dt, M),
    "mv": lambda lib, s, dt: s @ _w(lib, dt, V),
    "rmm": lambda lib, s, dt: _w(lib, dt, M).t() @ s,
    "sparse.mm": lambda lib, s, dt: lib.sparse.mm(s, _w(lib, dt, M)),
    "sparse.addmm": lambda lib, s, dt: lib.sparse.addmm(_w(lib, dt, M), s, _w(lib, dt, M)),
    "dense+s": lambda lib, s, dt: _w(lib, dt) + s,
    "add(dense, s)": lambda lib, s, dt: lib.add(_w(lib, dt), s, alpha=2),
    "s+s": lambda lib, s, dt: s + s * 2.0,
    "t": lambda lib, s, dt: s.t(),
    "coalesce": lambda lib, s, dt: s.coalesce(),
    "values": lambda lib, s, dt: s.coalesce().values() if s.is_sparse else s.values(),
    "clone": lambda lib, s, dt: s.clone(),
    "double": lambda lib, s, dt: s.double(),
    "mm(s, s)": lambda lib, s, dt: lib.mm(s, s.detach().to_dense().t().to_sparse(
        layout=s.layout)),
    "softmax": lambda lib, s, dt: lib.sparse.softmax(s, 1),
    "log_softmax": lambda lib, s, dt: lib.sparse.log_softmax(s, 1),
    "sampled_addmm": lambda lib, s, dt: lib.sparse.sampled_addmm(
        s, _w(lib, dt, M), _w(lib, dt, M.T.copy()), beta=0.5, alpha=2.0),
}
COO = ("to_dense", "mul_dense", "rmul_dense", "mul_scalar", "div_scalar", "neg", "sum",
       "sparse.sum", "sum(0)", "sum(1)", "sum((0, 1))", "mm", "matmul", "mv", "rmm", "sparse.mm",
       "sparse.addmm", "dense+s", "add(dense, s)", "s+s", "t", "coalesce", "values", "clone",
       "double", "mm(s, s)", "softmax", "log_softmax")
CASES = ([(layout, op) for layout in ("coo", "coo_uncoalesced") for op in COO]
         + [("csr", op) for op in ("to_dense", "mul_dense", "rmul_dense", "mul_scalar", "sum",
                                   "mm", "matmul", "mv", "rmm", "sparse.mm", "values", "clone",
                                   "mm(s, s)", "sampled_addmm")]
         + [("csc", op) for op in ("sum", "mm", "matmul", "mv", "rmm")])
# torch's backward of a sparse softmax, and of a float32 COO tensor's .double(), refuse a dense
# gradient, and Tensor.sum(dim)'s a sparse one (ember's mask it / pass it on)
TORCH_REFUSES = {(op, through_dense, dtype) for dtype in (np.float32, np.float64)
                 for op, through_dense in (("softmax", False), ("log_softmax", False),
                                           ("sum(0)", True), ("sum(1)", True))}
TORCH_REFUSES.add(("double", False, np.float32))


def weighted_loss(lib, y, dtype, through_dense):
    """sum(y * w): a dense gradient reaches y; through `to_dense()` a masked one (y sparse)."""
    if through_dense:
        y = y.to_dense()
    w = (to_ember if lib is ember else to_torch)(
        np.random.default_rng(3).standard_normal(tuple(y.shape)).astype(dtype)).to(y.dtype)
    return (y * w).sum()


def run(lib, layout, op, dtype, through_dense):
    s = leaf(lib, layout, dtype)
    y = OPS[op](lib, s, dtype)
    if through_dense and y.layout == (ember.strided if lib is ember else torch.strided):
        return None
    weighted_loss(lib, y, dtype, through_dense).backward()
    return s.grad


def assert_same_grad(e, t, tol):
    """The same layout, values and dense form; compressed: the same index tensors too."""
    assert (e is None) == (t is None), (e, t)
    if t is None:
        return
    assert str(e.layout) == str(t.layout), (e.layout, t.layout)
    assert_same(e.to_dense(), t.to_dense(), **tol)
    if t.layout is torch.sparse_coo:
        et, tt = e.coalesce(), t.coalesce()
        assert_same(et.indices(), tt.indices(), exact=True)
        assert_same(et.values(), tt.values(), **tol)
    elif t.layout is torch.sparse_csr:
        assert_same(e.crow_indices(), t.crow_indices(), exact=True)
        assert_same(e.col_indices(), t.col_indices(), exact=True)
        assert_same(e.values(), t.values(), **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("through_dense", [False, True], ids=["dense_grad", "masked_grad"])
@pytest.mark.parametrize("layout, op", CASES)
def test_leaf_grad_layout(layout, op, through_dense, dtype):
    if (op, through_dense, dtype) in TORCH_REFUSES:
        with pytest.raises(RuntimeError):
            run(torch, layout, op, dtype, through_dense)
        assert run(ember, layout, op, dtype, through_dense) is not None
        return
    if op == "mm(s, s)" and through_dense:
        return test_known_pattern_gaps(layout, "mm(s, s)")
    t = run(torch, layout, op, dtype, through_dense)
    e = run(ember, layout, op, dtype, through_dense)
    assert_same_grad(e, t, TOL[dtype])


# ---- dense leaves through to_sparse, leaves of values, several uses ----------------------------
@pytest.mark.parametrize("make", ["to_sparse", "to_sparse_csr", "to_sparse_csc"])
@pytest.mark.parametrize("use", ["mul_sum", "mm", "to_dense"])
def test_dense_leaf_through_to_sparse(make, use):
    """torch passes a dense gradient back through to_sparse whole (off the nonzeros too)."""
    grads = []
    if make == "to_sparse_csc" and use == "mul_sum":  # torch 2.13 has no CSC * dense kernel
        for lib in (ember, torch):
            with pytest.raises(RuntimeError, match="format CSR"):
                getattr((to_ember if lib is ember else to_torch)(A), make)() * _w(lib, np.float64)
        return
    for lib in (ember, torch):
        x = (to_ember if lib is ember else to_torch)(A, requires_grad=True)
        s = getattr(x, make)()
        if use == "mul_sum":
            loss = (s * _w(lib, np.float64)).sum()
        elif use == "mm":
            loss = (lib.mm(s, _w(lib, np.float64, M)) ** 2).sum()
        else:
            loss = (s.to_dense() * _w(lib, np.float64)).sum()
        loss.backward()
        grads.append(x.grad)
    assert_same(grads[0], grads[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["mm", "sum", "mul_dense", "dense+s", "mm(s, s)"])
def test_values_leaf_gets_the_masked_gradient(op):
    """A sparse tensor built from values that require grad: torch masks the dense gradient."""
    grads = []
    indices, values = UNCOALESCED
    for lib in (ember, torch):
        convert = to_ember if lib is ember else to_torch
        v = convert(values, requires_grad=True)
        s = lib.sparse_coo_tensor(convert(indices), v, (3, 3))
        weighted_loss(lib, OPS[op](lib, s, np.float64), np.float64, False).backward()
        grads.append(v.grad)
    assert_same(grads[0], grads[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_mixed_uses_accumulate_dense(layout):
    """A masked and a dense gradient add up to a dense one (torch cannot add a dense gradient
    to a CSR one: there two dense uses); a second backward accumulates; `.grad = None` clears
    both."""
    grads = []
    for lib in (ember, torch):
        s = leaf(lib, layout, np.float64)
        w = _w(lib, np.float64)
        (s.to_dense() * w if layout == "coo" else s * w).sum().backward()
        first = s.grad.clone()
        ((s * w).sum() + (s.to_dense() ** 2 if layout == "coo" else s * 3.0).sum()).backward()
        both = s.grad
        s.grad = None
        cleared = s.grad
        lib.mm(s, _w(lib, np.float64, M)).sum().backward()
        grads.append((first, both, cleared, s.grad))
    for e, t in zip(*grads):
        assert_same_grad(e, t, TOL[np.float64])


@pytest.mark.parametrize("convert", ["dense->csr", "coo->csr", "csr->coo", "coo->csc"])
def test_converted_then_made_a_leaf(convert):
    """A conversion of a tensor that needs no grad, made a leaf with requires_grad_(): its own
    leaf, given torch's dense gradient."""
    source, target = convert.split("->")
    grads = []
    for lib in (ember, torch):
        x = (to_ember if lib is ember else to_torch)(A)
        x = x if source == "dense" else LAYOUTS[source](x)
        s = LAYOUTS[target](x).requires_grad_()
        (lib.mm(s, _w(lib, np.float64, M)) ** 2).sum().backward()
        grads.append(s.grad)
    assert_same_grad(grads[0], grads[1], TOL[np.float64])


def test_set_dense_grad():
    s = leaf(ember, "csr", np.float64)
    g = ember.ones(3, 3, dtype=ember.float64)
    s.grad = g
    assert s.grad is g
    s.sum().backward()
    assert_same(s.grad, torch.full((3, 3), 2.0, dtype=torch.float64))


def test_no_grad_and_values_leaf_keep_sparse_kernels():
    """Without a leaf to reach, torch.mm keeps its sparse node (no dense face is built)."""
    s = leaf(ember, "coo", np.float64)
    with ember.no_grad():
        assert s.sum().grad_fn is None
    v = to_ember(A[A != 0], requires_grad=True)
    built = ember.sparse_coo_tensor(s.detach()._indices(), v, (3, 3))
    out = ember.mm(built, to_ember(M))
    assert out.grad_fn.name().endswith("MmBackward0")
    assert s._dense_leaf is None and built._dense_leaf is None


def test_gradcheck_through_dense_faces():
    """Dense gradients through to_sparse, *, sampled_addmm and torch.mm, in float64."""
    w, m = to_ember(W), to_ember(M)

    def fn(x, a, b):
        s = ember.sparse.sampled_addmm(x.to_sparse_csr() * 1.5, a, b.t(), beta=0.5)
        return ember.mm(s, m) + (x.to_sparse() * w).sum()

    inputs = [to_ember(A, requires_grad=True), to_ember(M, requires_grad=True),
              to_ember(M, requires_grad=True)]
    assert ember.autograd.gradcheck(fn, inputs)
    assert ember.autograd.gradgradcheck(fn, inputs)


GAPS = {"coo->csr": lambda lib, s: s.to_sparse_csr(), "csr->coo": lambda lib, s: s.to_sparse(),
        "csr->csc": lambda lib, s: s.to_sparse_csc(),
        "mm(s, s)": lambda lib, s: OPS["mm(s, s)"](lib, s, None)}


@pytest.mark.parametrize("layout, case", [("coo", "coo->csr"), ("csr", "csr->coo"),
                                          ("coo", "mm(s, s)"), ("csr", "mm(s, s)")])
def test_known_pattern_gaps(layout, case):
    """Where torch's sparse gradient has entries off the leaf's pattern, ember gives the same
    layout with the pattern's entries (NOTE [Dense gradients of sparse tensors]): a layout
    conversion of a leaf with a dense gradient, torch.mm of two sparse leaves with a masked
    one."""
    grads = []
    for lib in (ember, torch):
        s = leaf(lib, layout, np.float64)
        y = GAPS[case](lib, s)
        weighted_loss(lib, y, np.float64, case == "mm(s, s)").backward()
        grads.append((s.grad, s.detach().to_dense() != 0))
    (e, pattern), (t, _) = grads
    assert str(e.layout) == str(t.layout)
    on_pattern = t.to_dense().numpy() * pattern.numpy()
    assert_same(e.to_dense(), torch.from_numpy(on_pattern), rtol=1e-12, atol=1e-12)
    assert (t.to_dense().numpy() * ~pattern.numpy()).any()  # the gap is real
