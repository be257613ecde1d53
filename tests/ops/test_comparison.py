"""Comparison, logical and bitwise ops, float classification, isclose, where, clamp and
maximum/minimum (ember/ops/comparison.py) against torch."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, both, error_of, sample

RNG = np.random.default_rng(0)
SHAPE_PAIRS = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((2, 3), ()),
               ((), ()), ((0, 3), (3,)), ((4, 1, 3), (2, 1)), ((1,), (0,))]


# ---- comparison, logical, bitwise ---------------------------------------------------------------
COMPARE = ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
           "not_equal", "less", "less_equal", "greater", "greater_equal"]


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int64", "float32"),
                                    ("bool", "int8"), ("float64", "int32")], ids=str)
@pytest.mark.parametrize("name", COMPARE)
def test_comparisons(name, dtypes, shapes):
    a = sample(RNG, "int", shapes[0]).astype(dtypes[0])
    b = sample(RNG, "int", shapes[1]).astype(dtypes[1])
    ea, ta = both(a)
    eb, tb = both(b)
    assert_same(getattr(ember, name)(ea, eb), getattr(torch, name)(ta, tb))
    assert_same(getattr(ea, name)(eb), getattr(ta, name)(tb))


@pytest.mark.parametrize("op", ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"])
@pytest.mark.parametrize("scalar", [0, 0.5, True], ids=repr)
def test_comparison_operators_with_scalars(op, scalar):
    e, t = both(sample(RNG, "int", (2, 3)))
    assert_same(getattr(e, op)(scalar), getattr(t, op)(scalar))


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
@pytest.mark.parametrize("dtypes", [("int64", "int64"), ("bool", "bool"), ("uint8", "int16"),
                                    ("bool", "int32")], ids=str)
def test_bitwise(name, dtypes):
    ea, ta = both(sample(RNG, "int", (2, 3)).astype(dtypes[0]))
    eb, tb = both(sample(RNG, "int", (3,)).astype(dtypes[1]))
    assert_same(getattr(ember, name)(ea, eb), getattr(torch, name)(ta, tb))
    op = {"bitwise_and": "__and__", "bitwise_or": "__or__", "bitwise_xor": "__xor__"}[name]
    assert_same(getattr(ea, op)(eb), getattr(ta, op)(tb))


@pytest.mark.parametrize("dtype", ["int64", "bool", "uint8", "int8"])
def test_bitwise_not_and_logical_not(dtype):
    e, t = both(sample(RNG, "int", (2, 3)).astype(dtype))
    assert_same(~e, ~t)
    assert_same(ember.bitwise_not(e), torch.bitwise_not(t))
    assert_same(ember.logical_not(e), torch.logical_not(t))


def test_bitwise_on_floats_raises():
    e, t = both(sample(RNG, "any", (2,)))
    with pytest.raises(TypeError):
        _ = ~t
    with pytest.raises(TypeError):
        _ = ~e
    with pytest.raises(RuntimeError):
        t & t
    with pytest.raises(RuntimeError):
        e & e


SPECIALS = np.array([0.0, -0.0, 1.0, np.nan, np.inf, -np.inf, 1e-30], np.float32)


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite"])
def test_float_classification(name):
    e, t = both(SPECIALS)
    assert_same(getattr(ember, name)(e), getattr(torch, name)(t))
    assert_same(getattr(e, name)(), getattr(t, name)())


@pytest.mark.parametrize("kwargs", [{}, {"rtol": 0.1}, {"atol": 1e-3}, {"equal_nan": True}],
                         ids=str)
def test_isclose_allclose_equal(kwargs):
    a = np.array([1.0, 2.0, np.nan, 1e-4, 3.0])
    b = a + np.array([1e-6, 0.05, 0.0, 2e-4, 1.0])
    ea, ta = both(a)
    eb, tb = both(b)
    assert_same(ember.isclose(ea, eb, **kwargs), torch.isclose(ta, tb, **kwargs))
    assert ember.allclose(ea, eb, **kwargs) == torch.allclose(ta, tb, **kwargs)
    assert ember.equal(ea, ea) == torch.equal(ta, ta)
    assert ember.equal(ember.ones(2), ember.ones(3)) is torch.equal(torch.ones(2),
                                                                    torch.ones(3)) is False


# ---- where, clamp, maximum/minimum ---------------------------------------------------------------
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), ()),
                                    ((2, 1), (1, 3), (2, 3)), ((), (), ())], ids=str)
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int64", "float64"),
                                    ("float32", "float64")], ids=str)
def test_where_forward_backward(shapes, dtypes):
    condition = sample(RNG, "bool", shapes[0], np.bool_)
    ea, ta = both(sample(RNG, "any", shapes[1]).astype(dtypes[0]))
    eb, tb = both(sample(RNG, "any", shapes[2]).astype(dtypes[1]))
    ec, tc = both(condition)
    assert_same(ember.where(ec, ea, eb), torch.where(tc, ta, tb))
    assert_same(ea.where(ec, eb), ta.where(tc, tb))


def test_where_scalar_operands_and_nonzero_form():
    e, t = both(sample(RNG, "any", (2, 3)).astype(np.float32))
    assert_same(ember.where(e > 0, e, 0.0), torch.where(t > 0, t, 0.0))
    assert_same(ember.where(e > 0, 1.0, 0.0), torch.where(t > 0, 1.0, 0.0))
    for ie, it in zip(ember.where(e > 0), torch.where(t > 0)):
        assert_same(ie, it)


def test_where_requires_bool_condition():
    e, t = both(sample(RNG, "any", (3,)))
    with pytest.raises(RuntimeError):
        torch.where(t, t, t)
    with pytest.raises(RuntimeError):
        ember.where(e, e, e)


@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (None, 0.0), (0.0, None), (1, 2), (0.5, -0.5)],
                         ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_clamp(bounds, dtype):
    lo, hi = bounds
    array = np.array([-1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 2.0, 3.0]).astype(dtype)
    e, t = both(array)
    assert_same(ember.clamp(e, lo, hi), torch.clamp(t, lo, hi))
    assert_same(e.clip(lo, hi), t.clip(lo, hi))
    if lo is not None:
        assert_same(ember.clamp_min(e, lo), torch.clamp_min(t, lo))
    if hi is not None:
        assert_same(ember.clamp_max(e, hi), torch.clamp_max(t, hi))


def test_clamp_without_bounds_raises():
    with pytest.raises(RuntimeError):
        torch.clamp(torch.ones(2))
    with pytest.raises(RuntimeError):
        ember.clamp(ember.ones(2))


def test_maximum_splits_ties_evenly():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = ember.tensor([1.0, 3.0], requires_grad=True)
    ember.maximum(a, b).backward(ember.ones(2))
    assert a.grad.tolist() == [0.5, 0.0] and b.grad.tolist() == [0.5, 1.0]


def test_clamp_passes_gradient_at_bounds():
    x = ember.tensor([0.0, 1.0, 2.0], requires_grad=True)
    ember.clamp(x, 0.0, 1.0).backward(ember.ones(3))
    assert x.grad.tolist() == [1.0, 1.0, 0.0]


# ---- Python numbers where tensors are needed, in-place comparisons ------------------------------
# op -> which operands must be tensors: "input" (torch.eq(1, t) raises), "both"
# (torch.maximum(t, 2) raises), "one" (at least one: torch.bitwise_and(1, 2) raises)
TENSOR_ARGS = {
    "eq": "input", "ne": "input", "lt": "input", "le": "input", "gt": "input", "ge": "input",
    "clamp_min": "input", "clamp_max": "input", "maximum": "both", "minimum": "both",
    "fmax": "both", "fmin": "both", "logical_and": "both", "logical_or": "both",
    "logical_xor": "both", "isclose": "both", "bitwise_and": "one", "bitwise_or": "one",
    "bitwise_xor": "one",
}


@pytest.mark.parametrize("name", sorted(TENSOR_ARGS))
def test_python_numbers_as_operands(name):
    """Which of (t, 2), (2, t), (2, 3) torch refuses with TypeError; ember refuses the same."""
    for a, b in (("t", 2), (2, "t"), (2, 3)):
        results = []
        for m in (ember, torch):
            t = m.tensor([1, 2, 3])
            args = [t if v == "t" else v for v in (a, b)]
            try:
                getattr(m, name)(*args)
                results.append(None)
            except TypeError:
                results.append(TypeError)
        assert results[0] == results[1], (name, a, b, results)


def test_isclose_negative_tolerances_and_dtypes():
    """isclose refuses negative rtol/atol and mixed dtypes with RuntimeError, as torch does."""
    for m in (ember, torch):
        x = m.ones(3)
        for kwargs in ({"rtol": -0.1}, {"atol": -0.1}):
            assert type(error_of(lambda: m.isclose(x, x, **kwargs))) is RuntimeError
        assert type(error_of(lambda: m.isclose(x, x.double()))) is RuntimeError


INPLACE_COMPARE = ["eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "less_equal_",
                   "not_equal_", "logical_and_", "bitwise_not_"]


@pytest.mark.parametrize("name, dtype", [
    (n, d) for n in INPLACE_COMPARE for d in ("float32", "int64", "bool")
    if (n, d) != ("bitwise_not_", "float32")])  # torch has no bitwise_not for floats
def test_inplace_comparisons(name, dtype):
    """x.eq_(y) writes the comparison into x in x's own dtype, in place."""
    a, b = RNG.integers(0, 3, (2, 3)), RNG.integers(0, 3, (2, 3))
    outs = []
    for m in (ember, torch):
        x = m.from_numpy(a.copy()).to(getattr(m, dtype))
        args = () if name == "bitwise_not_" else (m.from_numpy(b.copy()).to(x.dtype),)
        out = getattr(x, name)(*args)
        assert out is x
        outs.append(x)
    assert_same(*outs, exact=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("low,high", [(0, None), (None, 0), (-0.5, None), (None, 0.5), (-1, 1),
                                      (0.0, 0.0)])
def test_clamp_keeps_negative_zero_and_nan_as_torch(low, high, dtype):
    """A clamp to one bound keeps -0 where it is inside (NumPy's one-bound clip made it +0)."""
    x = np.random.default_rng(2).standard_normal(1003).astype(dtype)
    x[::7], x[::13], x[::17] = -0.0, np.nan, -np.inf
    e = ember.clamp(ember.tensor(x), low, high).numpy()
    t = torch.clamp(torch.tensor(x), low, high).numpy()
    np.testing.assert_array_equal(e, t)
    np.testing.assert_array_equal(np.signbit(e), np.signbit(t))


@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin"])
def test_extremes_refuse_a_complex_other_as_torch(name):
    """torch refuses complex operands on either side of maximum/minimum/fmax/fmin."""
    errors = []
    for lib in (ember, torch):
        with pytest.raises(RuntimeError) as info:
            getattr(lib, name)(lib.tensor([1.0, 2.0]), lib.tensor([1 + 1j, 2.0]))
        errors.append(str(info.value))
    assert errors[0] == errors[1]


def _isclose_operands(rng, dtype, n=60):
    """Pairs near the tolerance boundary, with NaN/inf (floats) or huge values (int64)."""
    if dtype == "bool":
        return rng.random(n) < 0.5, rng.random(n) < 0.5
    if dtype in ("int64", "int32", "uint8"):
        high = {"int64": 2 ** 62, "int32": 2 ** 31 - 1, "uint8": 255}[dtype]
        a = rng.integers(0, high, n, dtype=dtype)
        b = (a + rng.integers(-3, 4, n)).astype(dtype)
        return a, b
    if dtype == "complex64":
        a = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dtype)
        return a, (a * (1 + rng.standard_normal(n) * 1e-5)).astype(dtype)
    a = rng.standard_normal(n).astype(dtype)
    b = (a * (1 + rng.standard_normal(n) * 1e-5) + rng.standard_normal(n) * 1e-8).astype(dtype)
    a[:3], b[:3] = [np.nan, np.inf, np.inf], [np.nan, np.inf, -np.inf]
    return a, b


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "uint8",
                                   "bool", "complex64"])
@pytest.mark.parametrize("rtol, atol, equal_nan", [(1e-5, 1e-8, False), (1e-5, 1e-8, True),
                                                   (0, 0, False), (1e-3, 0, False),
                                                   (0, 1e-3, True)])
def test_isclose_boundary_as_torch(dtype, rtol, atol, equal_nan):
    """torch's isclose works in the tensors' dtype (integers in the default float dtype), not
    NumPy's float64: the same verdict on every pair near the boundary."""
    rng = np.random.default_rng([len(dtype), ord(dtype[-1]), int(rtol * 1e5), int(atol * 1e3)])
    for _ in range(10):
        a, b = _isclose_operands(rng, dtype)
        assert_same(ember.isclose(ember.tensor(a), ember.tensor(b), rtol, atol, equal_nan),
                    torch.isclose(torch.tensor(a), torch.tensor(b), rtol, atol, equal_nan))


@pytest.mark.parametrize("call", ["clamp_min", "clamp_max", "clamp_min_tensor",
                                  "clamp_max_tensor", "clamp_min_"])
def test_clamp_min_max_node_names_as_torch(call):
    names = []
    for lib in (ember, torch):
        a = lib.ones(3, requires_grad=True)
        out = {"clamp_min": lambda: a.clamp_min(0.5), "clamp_max": lambda: a.clamp_max(0.5),
               "clamp_min_tensor": lambda: a.clamp_min(lib.zeros(3)),
               "clamp_max_tensor": lambda: a.clamp_max(lib.zeros(3)),
               "clamp_min_": lambda: (a * 1).clamp_min_(0.2)}[call]()
        names.append(out.grad_fn.name())
    assert names[0] == names[1]


@pytest.mark.parametrize("call", [
    lambda m: m.ones(2) & m.ones(2), lambda m: m.ones(2, dtype=m.float64) | m.ones(2),
    lambda m: m.bitwise_not(m.ones(2, dtype=m.bfloat16)),
    lambda m: m.ones(2, dtype=m.complex64) ^ 1,
    lambda m: m.bitwise_not(m.ones(2, dtype=m.complex128)),
    lambda m: ~m.ones(2, dtype=m.complex64),
    lambda m: m.where(m.ones(2, dtype=m.int64), m.ones(2), m.zeros(2)),
    lambda m: m.where(m.ones(2, dtype=m.float16), m.ones(2), m.zeros(2))])
def test_dtype_refusals_name_the_dtype_as_torch(call):
    """'not implemented for 'Float'', 'dtype Long': c10's names of the dtype, not NumPy's."""
    expected, raised = error_of(lambda: call(torch)), error_of(lambda: call(ember))
    assert (type(raised), str(raised)) == (type(expected), str(expected))


@pytest.mark.parametrize("call", [
    lambda m: m.where(m.ones(2, dtype=m.bool), m.ones(3), 0.0),
    lambda m: m.where(m.ones(3, dtype=m.bool), m.ones(3), m.zeros(2)),
    lambda m: m.where(m.ones(3, 1, dtype=m.bool), m.ones(2, 4), m.zeros(3)),
    lambda m: m.where(m.ones(2, dtype=m.bool), m.ones(2, 3), m.zeros(4, 1)),
    lambda m: m.ones(2, 3).where(m.ones(3, dtype=m.bool), m.zeros(4)),
    lambda m: m.ones(3).masked_fill(m.ones(2, dtype=m.bool), 0.0),
    lambda m: m.ones(2, 3).masked_fill(m.ones(4, 1, dtype=m.bool), 0.0),
    lambda m: m.nn.functional.cosine_embedding_loss(m.ones(3, 4), m.ones(3, 4), m.ones(2))])
def test_shapes_that_do_not_broadcast_are_named_as_torch(call):
    """where / masked_fill: 'The size of tensor a (2) must match the size of tensor b (3) at
    non-singleton dimension 0', the operands broadcast in torch's order."""
    expected, raised = error_of(lambda: call(torch)), error_of(lambda: call(ember))
    assert (type(raised), str(raised)) == (type(expected), str(expected))
