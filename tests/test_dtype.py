"""dtypes and PyTorch's type promotion: every pair of the nine dtypes, checked against torch."""

import itertools
import operator

import numpy as np
import pytest
import torch

import ember

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
PAIRS = list(itertools.product(NAMES, NAMES))
OPS = {"add": operator.add, "mul": operator.mul, "truediv": operator.truediv}
SCALARS = [True, 3, 2.5]


def _values(name, shape):
    """Small positive values valid in every dtype (no zeros, so division is defined)."""
    array = np.arange(1, 1 + int(np.prod(shape, dtype=int))).reshape(shape) % 3 + 1
    return array.astype(np.bool_ if name == "bool" else name)


def _pair(name, shape):
    array = np.asarray(_values(name, shape))
    return ember.from_numpy(array.copy()), torch.from_numpy(array.copy())


def _assert_same(e, t):
    assert str(e.dtype) == str(t.dtype)
    assert e.shape == tuple(t.shape)
    np.testing.assert_allclose(e.numpy().astype(np.float64), t.numpy().astype(np.float64),
                               rtol=1e-3)


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("a,b", PAIRS)
def test_tensor_tensor(a, b, op):
    ea, ta = _pair(a, (2, 3))
    eb, tb = _pair(b, (2, 3))
    _assert_same(OPS[op](ea, eb), OPS[op](ta, tb))


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("a,b", PAIRS)
def test_tensor_zero_dim(a, b, op):
    ea, ta = _pair(a, (2, 3))
    eb, tb = _pair(b, ())
    _assert_same(OPS[op](ea, eb), OPS[op](ta, tb))
    _assert_same(OPS[op](eb, ea), OPS[op](tb, ta))


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("a,b", PAIRS)
def test_zero_dim_zero_dim(a, b, op):
    ea, ta = _pair(a, ())
    eb, tb = _pair(b, ())
    _assert_same(OPS[op](ea, eb), OPS[op](ta, tb))


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("a", NAMES)
def test_tensor_python_scalar(a, scalar, op):
    ea, ta = _pair(a, (2, 3))
    _assert_same(OPS[op](ea, scalar), OPS[op](ta, scalar))
    _assert_same(OPS[op](scalar, ea), OPS[op](scalar, ta))


@pytest.mark.parametrize("a,b", PAIRS)
def test_promote_types(a, b):
    assert str(ember.promote_types(getattr(ember, a), getattr(ember, b))) == str(
        torch.promote_types(getattr(torch, a), getattr(torch, b)))


@pytest.mark.parametrize("a,b", PAIRS)
def test_result_type_tensors(a, b):
    ea, ta = _pair(a, (2,))
    eb, tb = _pair(b, ())
    assert str(ember.result_type(ea, eb)) == str(torch.result_type(ta, tb))
    assert str(ember.result_type(eb, ea)) == str(torch.result_type(tb, ta))


@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("a", NAMES)
def test_result_type_scalar(a, scalar):
    ea, ta = _pair(a, (2,))
    assert str(ember.result_type(ea, scalar)) == str(torch.result_type(ta, scalar))


@pytest.mark.parametrize("name", NAMES)
def test_dtype_attributes(name):
    e, t = getattr(ember, name), getattr(torch, name)
    assert repr(e) == repr(t) == str(t)
    assert e.is_floating_point == t.is_floating_point
    assert e.is_signed == t.is_signed
    assert e.itemsize == t.itemsize


@pytest.mark.parametrize("alias,name", [("float", "float32"), ("double", "float64"),
                                        ("half", "float16"), ("long", "int64"),
                                        ("int", "int32"), ("short", "int16")])
def test_dtype_aliases(alias, name):
    assert getattr(ember, alias) is getattr(ember, name)


@pytest.mark.parametrize("default", ["float64", "float16", "float32"])
def test_default_dtype_get_set(default):
    ember.set_default_dtype(getattr(ember, default))
    torch.set_default_dtype(getattr(torch, default))
    try:
        assert str(ember.get_default_dtype()) == str(torch.get_default_dtype())
        for data in ([1.5, 2.0], 2.5, [1, 2], [True]):
            assert str(ember.tensor(data).dtype) == str(torch.tensor(data).dtype)
        assert str(ember.zeros(2).dtype) == str(torch.zeros(2).dtype)
        assert str(ember.arange(3.0).dtype) == str(torch.arange(3.0).dtype)
        i = ember.tensor([1, 2])
        assert str((i / 2).dtype) == str((torch.tensor([1, 2]) / 2).dtype)
        assert str((i * 2.5).dtype) == str((torch.tensor([1, 2]) * 2.5).dtype)
    finally:
        ember.set_default_dtype(ember.float32)
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("bad", ["int64", "bool", "uint8"])
def test_set_default_dtype_rejects_non_float(bad):
    with pytest.raises(TypeError):
        torch.set_default_dtype(getattr(torch, bad))
    with pytest.raises(TypeError):
        ember.set_default_dtype(getattr(ember, bad))
    assert ember.get_default_dtype() is ember.float32


def test_float32_stays_float32_with_float64_zero_dim():
    x = ember.ones(3)
    assert (x + ember.tensor(2.0, dtype=ember.float64)).dtype is ember.float32
    assert (x * np.float64(2.0)).dtype is ember.float32
    assert (ember.tensor([1, 2]) / ember.tensor([2, 4])).dtype is ember.float32


@pytest.mark.parametrize("name", NAMES)
def test_to_and_type_names(name):
    e, t = _pair("float32", (3,))
    converted_e, converted_t = e.to(getattr(ember, name)), t.to(getattr(torch, name))
    _assert_same(converted_e, converted_t)
    assert e.to(getattr(ember, name)).type() == t.to(getattr(torch, name)).type()


# ---- bfloat16, the limited unsigned types, finfo / iinfo ------------------------------------
EXTRA = ["bfloat16", "uint16", "uint32", "uint64"]


@pytest.mark.parametrize("a", EXTRA + NAMES)
@pytest.mark.parametrize("b", EXTRA)
def test_promote_types_extra(a, b):
    """promote_types with bfloat16 and uint16/32/64: the dtype, or RuntimeError, as torch."""
    def run(m):
        try:
            return str(m.promote_types(getattr(m, a), getattr(m, b)))
        except RuntimeError:
            return RuntimeError
    assert run(ember) == run(torch)


@pytest.mark.parametrize("op", ["add", "mul", "truediv", "exp", "sum"])
def test_bfloat16_arithmetic(op):
    """bfloat16 results round like torch's (computed in float32, rounded to bfloat16)."""
    values = np.random.default_rng(0).uniform(-2, 2, (3, 3)).astype(np.float32)
    fns = {"add": lambda x: x + x * 0.37, "mul": lambda x: x * x, "truediv": lambda x: x / 3,
           "exp": lambda x: x.exp(), "sum": lambda x: x.sum(dim=0)}
    e = fns[op](ember.from_numpy(values.copy()).bfloat16())
    t = fns[op](torch.from_numpy(values.copy()).bfloat16())
    assert str(e.dtype) == str(t.dtype) == "torch.bfloat16"
    np.testing.assert_allclose(e.float().numpy(), t.float().numpy(), rtol=1e-2, atol=1e-2)


def test_bfloat16_repr_and_grad():
    """bfloat16 tensors print as torch's and carry gradients in bfloat16."""
    outs = []
    for m in (ember, torch):
        x = m.tensor([1.1, 2.5, -3.0], dtype=m.bfloat16, requires_grad=True)
        (x * 2).exp().sum().backward()
        outs.append((repr(x), repr(x.grad)))
    assert outs[0] == outs[1]


@pytest.mark.parametrize("name", ["uint16", "uint32", "uint64"])
def test_unsigned_storage_and_casts(name):
    """uint16/32/64 tensors: creation, repr, casts to float, comparisons."""
    outs = []
    for m in (ember, torch):
        x = m.tensor([1, 2, 60000], dtype=getattr(m, name))
        outs.append((repr(x), x.float().tolist(), (x == 2).tolist(), x.element_size()))
    assert outs[0] == outs[1]


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "complex64",
                                  "complex128", None])
def test_finfo(name):
    """finfo's fields and repr match torch's (None: the default dtype)."""
    e = ember.finfo() if name is None else ember.finfo(getattr(ember, name))
    t = torch.finfo() if name is None else torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution",
                  "dtype"):
        assert getattr(e, field) == getattr(t, field), field
        assert type(getattr(e, field)) is type(getattr(t, field)), field
    assert repr(e) == repr(t)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64", "uint16",
                                  "uint32", "uint64"])
def test_iinfo(name):
    """iinfo's fields and repr match torch's."""
    e, t = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    assert (e.bits, e.min, e.max, e.dtype, repr(e)) == (t.bits, t.min, t.max, t.dtype, repr(t))


def test_finfo_iinfo_errors():
    """finfo of an integer type, iinfo of a float or bool: TypeError, as torch."""
    for m in (ember, torch):
        for call in (lambda: m.finfo(m.int32), lambda: m.iinfo(m.float32),
                     lambda: m.iinfo(m.bool)):
            with pytest.raises(TypeError):
                call()


def test_ml_dtypes_loads_on_first_use():
    """NOTE [ml_dtypes loads on first use]: importing ember, training in float32 and printing
    leave ml_dtypes unloaded; the first bfloat16 / float8 use loads it and works."""
    import subprocess
    import sys
    program = (
        "import sys, numpy as np, ember\n"
        "m = ember.nn.Linear(3, 2); loss = m(ember.randn(4, 3)).sum(); loss.backward()\n"
        "print(m.weight.grad); ember.tensor(np.ones(2, np.float32))\n"
        "assert 'ml_dtypes' not in sys.modules\n"
        "x = ember.tensor([1.0, 2.5]).bfloat16()\n"
        "assert 'ml_dtypes' in sys.modules\n"
        "assert x.dtype is ember.bfloat16 and x.tolist() == [1.0, 2.5]\n"
        "assert ember.from_numpy(np.zeros(2, x._data.dtype)).dtype is ember.bfloat16\n"
        "eight = ember.ones(2, dtype=ember.float8_e4m3fn)\n"
        "assert str(eight).endswith('dtype=torch.float8_e4m3fn)')\n")
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("other", ["complex64 0-d", "complex128 0-d", "python complex"])
@pytest.mark.parametrize("op", ["add", "mul", "sub", "eq"])
def test_bfloat16_with_a_complex_scalar_promotes_to_complex64(op, other):
    """bfloat16 has no complex form: a complex 0-d tensor or Python complex lifts a bfloat16
    tensor to complex64, as torch's promote_types (float16 would go to complex32, which
    ember does not have)."""
    results = []
    for lib in (ember, torch):
        a = lib.tensor([1.5, -2.0, 0.0]).to(lib.bfloat16)
        b = 1 + 2j if other == "python complex" else lib.tensor(
            1 + 2j, dtype=getattr(lib, other.split()[0]))
        y = getattr(operator, op)(a, b)
        results.append((str(y.dtype), y.numpy().tolist()))
    assert results[0] == results[1]


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_double_to_16_bit_rounds_through_float32(name):
    """PyTorch narrows a float64 to float16/bfloat16 through float32 (two roundings, where
    NumPy rounds once): .to, .type, copy_ and as_tensor give its values bit for bit."""
    values = np.random.default_rng(1).standard_normal(200000) * 3

    def casts(lib):
        dtype = getattr(lib, name)
        source = lib.tensor(values)
        made = [source.to(dtype), source.type(dtype), lib.as_tensor(values, dtype=dtype),
                lib.zeros(len(values), dtype=dtype).copy_(source), lib.tensor(values, dtype=dtype)]
        return [m.float().numpy() for m in made]
    for e, t in zip(casts(ember), casts(torch)):
        np.testing.assert_array_equal(e, t)
