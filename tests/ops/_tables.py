"""Builders of the generic, table-driven tests that several tests/ops files share.

A test file owns its table (the cases for the ops of one ember/ops module) and gets the generic
tests by calling a builder, e.g. `test_forward = reduction_forward(RNG, CASES)`: each builder
returns one parametrised test function, which pytest collects under the name it is bound to.
`rng` is the test module's `RNG` (tests/conftest.py reseeds it for every test id).

- reductions (tests/ops/test_reduction.py, test_extrema.py, test_sort.py, test_softmax.py):
  cases `id -> (call(lib, x), input kind, shape)`, errors `(call(lib, x), shape, dtype)`.
- products (test_linalg.py, test_einsum.py): cases `id -> (call(lib, *xs), input shapes)`,
  errors `(call(lib, *xs), input shapes, same message?)`.
- shape ops (test_shape.py, test_joins.py): cases `id -> (call(lib, x), input shape, view?)`,
  errors `(call(lib), same message?)`.
- index ops (test_indexing.py, test_scatter.py): ops `id -> call(lib, x)` on one fixed input x,
  errors `call(lib, x)`.
- special values (test_unary.py, test_elementwise.py): `id -> call(lib, x)` that hit log(0),
  1/0, sqrt(-1), ...
"""

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import (assert_same, assert_same_error, assert_same_outputs, both,
                                outputs, sample)

REDUCTION_TOL = {"rtol": 1e-5, "atol": 1e-5}
PRODUCT_TOL = {"rtol": 1e-5, "atol": 1e-5}
SHAPE_TOL = {"rtol": 1e-6, "atol": 1e-7}
INDEX_TOL = {"rtol": 1e-6, "atol": 1e-7}


def _run1(call, array, requires_grad=False):
    """(ember input, torch input, ember result, torch result) of call on one array."""
    e, t = both(array, requires_grad)
    return e, t, call(ember, e), call(torch, t)


# ---- reductions: cases id -> (call(lib, x), input kind, shape) ---------------------------------
def reduction_forward(rng, cases):
    @pytest.mark.parametrize("case", sorted(cases))
    def test(case):
        call, kind, shape = cases[case]
        assert_same_outputs(*_run1(call, sample(rng, kind, shape, np.float32))[2:],
                            **REDUCTION_TOL)
    return test


def reduction_backward(rng, cases):
    @pytest.mark.parametrize("case", sorted(cases))
    def test(case):
        call, kind, shape = cases[case]
        e, t, ye, yt = _run1(call, sample(rng, kind, shape, np.float32), requires_grad=True)
        outs_e = [o for o in outputs(ye) if o.requires_grad]
        outs_t = [o for o in outputs(yt) if o.requires_grad]
        assert len(outs_e) == len(outs_t)
        if not outs_t:
            return
        for oe, ot in zip(outs_e, outs_t):
            assert oe.grad_fn.name() == ot.grad_fn.name()
        seeds = [rng.standard_normal(tuple(o.shape)).astype(o.detach().numpy().dtype)
                 for o in outs_t]
        ember.autograd.backward(outs_e, [ember.from_numpy(s) for s in seeds])
        torch.autograd.backward(outs_t, [torch.from_numpy(s) for s in seeds])
        if t.grad is None:  # PyTorch leaves some gradients undefined (the 0-norm's)
            assert e.grad is None
            return
        assert_same(e.grad, t.grad, rtol=1e-4, atol=1e-5)
    return test


def reduction_zero_dim(rng, cases, names):
    """The calls `names` on a 0-d input."""
    @pytest.mark.filterwarnings("ignore:.*degrees of freedom")
    @pytest.mark.parametrize("case", names)
    def test(case):
        assert_same_outputs(*_run1(cases[case][0], sample(rng, "randn", (), np.float32))[2:],
                            **REDUCTION_TOL)
    return test


def reduction_empty(rng, cases, shapes):
    """The calls in `shapes` (id -> empty input shape) on an empty input."""
    @pytest.mark.filterwarnings("ignore:.*degrees of freedom")
    @pytest.mark.parametrize("case", sorted(shapes))
    def test(case):
        array = sample(rng, "randn", shapes[case], np.float32)
        assert_same_outputs(*_run1(cases[case][0], array)[2:], **REDUCTION_TOL)
    return test


def reduction_empty_backward(rng, cases, names, shapes):
    """Gradients through the calls `names` on an empty input (shapes[id], default (0, 3))."""
    @pytest.mark.parametrize("case", names)
    def test(case):
        array = sample(rng, "randn", shapes.get(case, (0, 3)), np.float32)
        e, t, ye, yt = _run1(cases[case][0], array, requires_grad=True)
        outputs(ye)[0].sum().backward()
        outputs(yt)[0].sum().backward()
        assert_same(e.grad, t.grad, **REDUCTION_TOL)
    return test


def reduction_gradcheck(rng, cases, names):
    """float64 finite differences of the first output of the calls `names`."""
    @pytest.mark.parametrize("case", names)
    def test(case):
        call, _, shape = cases[case]
        x = ember.from_numpy(sample(rng, "randn", shape, np.float64)).requires_grad_()
        assert ember.autograd.gradcheck(lambda x: outputs(call(ember, x))[0], (x,))
    return test


def reduction_double_backward(rng, cases, names):
    """d/dx of <dL/dx, v> with L = Σ w·f(x)²: second derivatives against torch's."""
    @pytest.mark.parametrize("case", names)
    def test(case):
        call, kind, shape = cases[case]
        array = sample(rng, kind, shape, np.float64)
        results = []
        for lib in (ember, torch):
            x = lib.from_numpy(array.copy()).requires_grad_()
            y = outputs(call(lib, x))[0]
            w = lib.from_numpy(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)))
            (g,) = lib.autograd.grad((y * w * y).sum(), x, create_graph=True)
            v = lib.from_numpy(np.linspace(0.5, 1.5, x.numel()).reshape(shape))
            (gg,) = lib.autograd.grad((g * v).sum(), x)
            results.append((g, gg))
        (g_e, gg_e), (g_t, gg_t) = results
        assert_same(g_e, g_t, rtol=1e-6, atol=1e-8)
        assert_same(gg_e, gg_t, rtol=1e-6, atol=1e-8)
    return test


def reduction_integer_dtypes(rng, calls):
    """calls(lib, x) on int64/int32/uint8/bool inputs: torch's values and dtypes, or its error."""
    @pytest.mark.parametrize("call", calls)
    @pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
    def test(call, dtype):
        array = (sample(rng, "int", (4, 3), np.float32).astype(dtype) if dtype is not np.bool_
                 else sample(rng, "bool", (4, 3), np.float32))
        e, t = both(array)
        try:
            expected = call(torch, t)
        except (RuntimeError, NotImplementedError) as error:
            with pytest.raises(type(error)):
                call(ember, e)
            return
        assert_same_outputs(call(ember, e), expected, **REDUCTION_TOL)
    return test


def reduction_errors(errors):
    """errors: (call(lib, x), shape, dtype) on zeros. The same type; the same message for
    IndexErrors, repeated dims and vector_norm's."""
    @pytest.mark.parametrize("index", range(len(errors)))
    def test(index):
        call, shape, dtype = errors[index]
        raised, expected = assert_same_error(call, np.zeros(shape, dtype=dtype))
        if type(expected) is IndexError or "appears multiple" in str(expected) or (
                "vector_norm" in str(expected)):
            assert str(raised) == str(expected)
    return test


# ---- products: cases id -> (call(lib, *xs), input shapes) --------------------------------------
def product_arrays(rng, shapes, dtype=np.float32):
    """Standard normal inputs of the given shapes."""
    return [np.asarray(rng.standard_normal(s), dtype=dtype) for s in shapes]


def _run_product(rng, cases, case, dtype=np.float32, requires_grad=False):
    call, shapes = cases[case]
    pairs = [both(a, requires_grad) for a in product_arrays(rng, shapes, dtype)]
    inputs_e, inputs_t = [p[0] for p in pairs], [p[1] for p in pairs]
    return inputs_e, inputs_t, call(ember, *inputs_e), call(torch, *inputs_t)


def product_forward(rng, cases):
    @pytest.mark.parametrize("case", sorted(cases))
    def test(case):
        _, _, ye, yt = _run_product(rng, cases, case)
        assert_same(ye, yt, **PRODUCT_TOL)
    return test


def product_backward(rng, cases, named=None):
    """Gradients of every input; named: id -> the grad_fn name ember and torch agree on."""
    named = named or {}

    @pytest.mark.parametrize("case", sorted(cases))
    def test(case):
        inputs_e, inputs_t, ye, yt = _run_product(rng, cases, case, requires_grad=True)
        if case in named:
            assert ye.grad_fn.name() == yt.grad_fn.name() == named[case]
        seed = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
        ye.backward(ember.from_numpy(seed))
        yt.backward(torch.from_numpy(seed))
        for xe, xt in zip(inputs_e, inputs_t):
            assert_same(xe.grad, xt.grad, rtol=1e-4, atol=1e-5)
    return test


def product_gradcheck(rng, cases, names):
    @pytest.mark.parametrize("case", names)
    def test(case):
        call, shapes = cases[case]
        inputs = [ember.from_numpy(a).requires_grad_()
                  for a in product_arrays(rng, shapes, np.float64)]
        assert ember.autograd.gradcheck(lambda *xs: call(ember, *xs), inputs)
    return test


def product_double_backward(rng, cases, names):
    """Second derivatives of L = Σ w·f(x)² through create_graph, against torch's."""
    @pytest.mark.parametrize("case", names)
    def test(case):
        call, shapes = cases[case]
        arrays = product_arrays(rng, shapes, np.float64)
        results = []
        for lib in (ember, torch):
            xs = [lib.from_numpy(a.copy()).requires_grad_() for a in arrays]
            y = call(lib, *xs)
            w = lib.from_numpy(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)))
            grads = lib.autograd.grad((y * y * w).sum(), xs, create_graph=True)
            total = sum((g * g).sum() for g in grads)
            results.append((grads, lib.autograd.grad(total, xs)))
        for first_e, first_t in zip(results[0][0], results[1][0]):
            assert_same(first_e, first_t, rtol=1e-6, atol=1e-8)
        for second_e, second_t in zip(results[0][1], results[1][1]):
            assert_same(second_e, second_t, rtol=1e-6, atol=1e-8)
    return test


def product_errors(rng, errors):
    """errors: (call(lib, *xs), input shapes, same message?)."""
    @pytest.mark.parametrize("index", range(len(errors)))
    def test(index):
        call, shapes, same_message = errors[index]
        assert_same_error(call, *product_arrays(rng, shapes), same_message=same_message)
    return test


# ---- shape ops: cases id -> (call(lib, x), input shape, view?) ---------------------------------
def _run_shape(rng, cases, name, dtype=np.float32, requires_grad=False):
    fn, shape, _ = cases[name]
    return _run1(fn, rng.standard_normal(shape).astype(dtype), requires_grad)


def shape_forward(rng, cases):
    @pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
    @pytest.mark.parametrize("name", sorted(cases))
    def test(name, dtype):
        _, _, ye, yt = _run_shape(rng, cases, name, dtype)
        ye, yt = outputs(ye), outputs(yt)
        assert len(ye) == len(yt)
        for a, b in zip(ye, yt):
            assert_same(a, b, **SHAPE_TOL)
    return test


def shape_shares_memory(rng, cases):
    """Results share memory with the input exactly when torch's do; views record their base."""
    @pytest.mark.parametrize("name", sorted(cases))
    def test(name):
        e, t, ye, yt = _run_shape(rng, cases, name)
        for a, b in zip(outputs(ye), outputs(yt)):
            torch_shares = b.numel() > 0 and np.shares_memory(b.detach().numpy(), t.numpy())
            assert np.shares_memory(a._data, e._data) == torch_shares
            assert cases[name][2] == (a._base is e)
    return test


def shape_grad_fn_name(rng, cases):
    @pytest.mark.parametrize("name", sorted(cases))
    def test(name):
        _, _, ye, yt = _run_shape(rng, cases, name, requires_grad=True)
        for a, b in zip(outputs(ye), outputs(yt)):
            assert a.grad_fn.name() == b.grad_fn.name()
    return test


def shape_backward(rng, cases):
    @pytest.mark.parametrize("name", sorted(cases))
    def test(name):
        e, t, ye, yt = _run_shape(rng, cases, name, requires_grad=True)
        ye, yt = outputs(ye), outputs(yt)
        grads = [rng.standard_normal(tuple(b.shape)).astype(np.float32) for b in yt]
        ember.autograd.backward(ye, [ember.from_numpy(g.copy()) for g in grads])
        torch.autograd.backward(yt, [torch.from_numpy(g.copy()) for g in grads])
        assert_same(e.grad, t.grad, **SHAPE_TOL)
    return test


def shape_gradcheck(rng, cases):
    @pytest.mark.parametrize("name", sorted(cases))
    def test(name):
        fn, shape, _ = cases[name]
        x = ember.from_numpy(rng.standard_normal(shape)).requires_grad_()
        assert ember.autograd.gradcheck(lambda v: fn(ember, v), (x,))
    return test


def shape_double_backward(rng, cases, names):
    """f = op(x·x): d/dx and d/dg of <df/dx(g), v> match torch (backward is itself an op)."""
    @pytest.mark.parametrize("name", names)
    def test(name):
        fn, shape, _ = cases[name]
        array = rng.standard_normal(shape)
        results = []
        for m in (ember, torch):
            x = m.from_numpy(array.copy()).requires_grad_()
            ys = outputs(fn(m, x * x))
            seed = np.random.default_rng(1)
            gs = [m.from_numpy(seed.standard_normal(tuple(y.shape))).requires_grad_()
                  for y in ys]
            (gx,) = m.autograd.grad(ys, [x], gs, create_graph=True)
            v = m.from_numpy(seed.standard_normal(shape))
            second = m.autograd.grad([gx], [x] + gs, [v])
            results.append([gx] + list(second))
        for a, b in zip(*results):
            assert_same(a, b, **SHAPE_TOL)
    return test


def shape_errors(errors):
    """errors: (call(lib), same message?). The same type; the same message for view errors."""
    @pytest.mark.parametrize("index", range(len(errors)))
    def test(index):
        raised, expected = assert_same_error(errors[index][0])
        if type(expected) is RuntimeError and "view" in str(expected):
            assert str(raised) == str(expected)
    return test


def shape_error_messages(errors):
    """The errors marked `same message` have torch's message exactly."""
    @pytest.mark.parametrize("index", [i for i, (_, same) in enumerate(errors) if same])
    def test(index):
        assert_same_error(errors[index][0], same_message=True)
    return test


# ---- index ops: id -> call(lib, x) on one input x ---------------------------------------------
def index_ops_forward_and_backward(rng, x, ops, names_differ=()):
    """Values, grad_fn names (but for names_differ: ember composes those) and gradients."""
    @pytest.mark.parametrize("name", sorted(ops))
    def test(name):
        e, t, ye, yt = _run1(ops[name], x, requires_grad=True)
        assert_same(ye, yt, **INDEX_TOL)
        assert ye.grad_fn.name() == yt.grad_fn.name() or name in names_differ
        g = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
        ye.backward(ember.from_numpy(g.copy()))
        yt.backward(torch.from_numpy(g.copy()))
        assert_same(e.grad, t.grad, **INDEX_TOL)
    return test


def index_ops_gradcheck_and_double_backward(x, ops):
    @pytest.mark.parametrize("name", sorted(ops))
    def test(name):
        leaf = ember.from_numpy(x.astype(np.float64)).requires_grad_()
        assert ember.autograd.gradcheck(lambda v: ops[name](ember, v), (leaf,))
        results = []
        for m in (ember, torch):
            leaf = m.from_numpy(x.astype(np.float64)).requires_grad_()
            y = ops[name](m, leaf * leaf)
            g = m.from_numpy(np.random.default_rng(1).standard_normal(tuple(y.shape)))
            (gx,) = m.autograd.grad([y], [leaf], [g.requires_grad_()], create_graph=True)
            results.append([gx, *m.autograd.grad([gx], [leaf, g], [m.ones_like(leaf)])])
        for a, b in zip(*results):
            assert_same(a, b, **INDEX_TOL)
    return test


def index_op_errors(x, errors):
    """errors: call(lib, x); the same type and message as torch."""
    @pytest.mark.parametrize("index", range(len(errors)))
    def test(index):
        assert_same_error(errors[index], x, same_message=True)
    return test


# ---- special values: id -> call(lib, x) hitting log(0), 1/0, sqrt(-1), 0**-1 ------------------
def special_values_without_warnings(cases):
    """PyTorch computes these silently; ember gives the same values and leaks no NumPy
    warnings."""
    @pytest.mark.parametrize("name", sorted(cases))
    def test(name):
        values = np.array([0.0, -1.0, 2.0], dtype=np.float32)
        expected = cases[name](torch, torch.tensor(values)).numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            actual = cases[name](ember, ember.tensor(values)).numpy()
        np.testing.assert_allclose(actual, expected, equal_nan=True)
    return test


# ---- bad calls (issue #19's fuzz): name -> call(lib) ----------------------------------------
def result_or_error(cases):
    """torch's result (values, dtype, shape; tuples output by output), or (a subclass of)
    torch's exception class."""
    @pytest.mark.parametrize("name", sorted(cases))
    def test(name):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                expected = cases[name](torch)
            except Exception as error:  # noqa: BLE001 - the class is what is compared
                with pytest.raises(type(error)):
                    cases[name](ember)
                return
            assert_same_outputs(cases[name](ember), expected)
    return test
