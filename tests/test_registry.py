"""The op registry (`ember/_registry.py`): every declared face is one PyTorch has, and the
generated faces (in-place, reflected operators, `out=`) behave as torch's do."""

import numpy as np
import pytest
import torch

import ember
from ember import _registry
from tests.differential import assert_same, assert_same_error, both


def test_every_function_face_is_a_torch_function():
    """`@op` files only PyTorch names in the ember namespace, and all of them land there."""
    not_torch = sorted(name for name in _registry.FUNCTIONS if not hasattr(torch, name))
    assert not_torch == []
    missing = sorted(name for name, fn in _registry.FUNCTIONS.items()
                     if getattr(ember, name, None) is not fn)
    assert missing == []


def test_every_public_tensor_attribute_is_a_torch_tensor_attribute():
    """Tensor carries no leaked helper: each public name is one torch.Tensor has."""
    public = [name for name in dir(ember.Tensor) if not name.startswith("_")]
    assert sorted(name for name in public if not hasattr(torch.Tensor, name)) == []


def test_ember_namespace_holds_no_leaked_module_internals():
    """Star-import leaks (NumPy, op classes, helpers) stay out of the package namespace."""
    for name in ("np", "xp", "Op", "Add", "op", "tensor_method", "as_operand", "sum_to"):
        assert not hasattr(ember, name), name


@pytest.mark.parametrize("name", ["add", "mul", "div", "sub", "eq", "clamp", "matmul", "cat"])
def test_out_argument_writes_into_the_given_tensor(name):
    """`ember.<op>(..., out=t)` returns t holding the result, as torch does."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 3)).astype(np.float32)
    args = {"cat": lambda lib, x, y: ((x, y),), "clamp": lambda lib, x, y: (x, -0.5, 0.5)}
    results = []
    for lib in (ember, torch):
        x, y = lib.from_numpy(a.copy()), lib.from_numpy(b.copy())
        call_args = args.get(name, lambda lib, x, y: (x, y))(lib, x, y)
        expected = getattr(lib, name)(*call_args)
        out = lib.empty(0, dtype=expected.dtype)
        returned = getattr(lib, name)(*call_args, out=out)
        assert returned is out
        results.append(out)
    # a matrix product's last bit depends on the BLAS's summation order (NumPy's OpenBLAS,
    # torch's MKL, whose kernels depend on the CPU): the values within float32 rounding
    assert_same(*results, exact=name != "matmul")


def test_inplace_variant_and_alias_faces():
    """`x.sub_`, `x.subtract_` and `x -= y` write into x; `rsub` operators swap operands."""
    (ea, ta), (eb, tb) = both(np.arange(6.0).reshape(2, 3)), both(np.ones(3))
    for e, t in ((ea.sub_(eb), ta.sub_(tb)), (ea.subtract_(eb), ta.subtract_(tb))):
        assert_same(e, t)
    ea -= eb
    ta -= tb
    assert_same(ea, ta)
    assert_same(2.0 - ea, 2.0 - ta)
    assert_same(2.0 / (ea + 10), 2.0 / (ta + 10))


def test_inplace_variant_keeps_pytorchs_leaf_error():
    """The generated in-place face goes through `_inplace_update`, with torch's error for a leaf
    that requires grad."""
    assert_same_error(lambda lib: lib.ones(3, requires_grad=True).mul_(2), exact_type=True)


NOT_TENSORS = [None, "a", [1.0, 2.0]]


def _outcome(fn):
    try:
        return fn(), None
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return None, error


@pytest.mark.parametrize("value", NOT_TENSORS + [1.5])
@pytest.mark.parametrize("call", ["abs", "F.relu", "matmul", "cat", "add-other", "sum",
                                  "F.softmax", "eq-operator"])
def test_not_a_tensor_gives_torchs_type_error(call, value):
    """NOTE [Not a tensor is a TypeError]: the same exception class as torch, never a leak."""
    calls = {
        "abs": lambda lib: lib.abs(value), "F.relu": lambda lib: lib.nn.functional.relu(value),
        "matmul": lambda lib: lib.matmul(value, lib.ones(2)),
        "cat": lambda lib: lib.cat([lib.ones(1), value]),
        "add-other": lambda lib: lib.add(lib.ones(2), value), "sum": lambda lib: lib.sum(value),
        "F.softmax": lambda lib: lib.nn.functional.softmax(value, 0),
        "eq-operator": lambda lib: lib.ones(2) == value,
    }
    expected, torch_error = _outcome(lambda: calls[call](torch))
    result, ember_error = _outcome(lambda: calls[call](ember))
    if torch_error is None:
        assert ember_error is None, ember_error
        return
    # where torch leaks an AttributeError from its Python code (F.softmax("a")), ember's
    # TypeError is the better answer
    accepted = (type(torch_error),) + ((TypeError,) if isinstance(torch_error, AttributeError)
                                       else ())
    assert isinstance(ember_error, accepted), (ember_error, torch_error)
    assert not type(ember_error).__module__.startswith("numpy")



@pytest.mark.parametrize("call", [
    lambda m: m.add(m.ones(2), 1, out=m.empty(2, requires_grad=True)),
    lambda m: m.add(m.ones(2, requires_grad=True), 1, out=m.empty(2)),
    lambda m: m.exp(m.ones(2, requires_grad=True), out=m.empty(2)),
    lambda m: m.max(m.ones(2, 3, requires_grad=True), 0,
                    out=(m.empty(3), m.empty(3, dtype=m.long))),
    lambda m: m.cat([m.ones(2, requires_grad=True)], out=m.empty(2)),
    lambda m: m.zeros(2, out=m.empty(2, requires_grad=True)),
    lambda m: m.add(m.ones(2), 1, out=m.zeros(3, 1).expand(3, 2))])
def test_out_refuses_autograd_and_expanded_outputs(call):
    """out= with grad mode on and an input or out requiring grad raises torch's error naming
    the op; an expanded out raises the overlap error."""
    assert_same_error(call, same_message=True)


def test_out_requiring_grad_is_allowed_without_grad_mode_or_for_comparisons():
    """Under no_grad, and for a non-differentiable (bool) result, out= may require grad."""
    for m in (ember, torch):
        with m.no_grad():
            assert m.add(m.ones(2), 1, out=m.empty(2, requires_grad=True)).tolist() == [2, 2]
        out = m.empty(2, dtype=m.bool)
        assert m.eq(m.ones(2, requires_grad=True), 1, out=out).tolist() == [True, True]
