"""The `*_copy` ops (ember/ops/copies.py) against torch: each view op's result as a new tensor.

One table of cases drives the generic shape tests (tests/ops/_tables.py): values/dtypes/shapes,
grad_fn names (`PermuteBackward0_copy` ...), that no result shares memory with its input,
gradients, float64 finite differences and double backward. Then out=, detach_copy and the errors
the view ops raise.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same
from tests.ops import _tables

RNG = np.random.default_rng(0)
TOL = _tables.SHAPE_TOL


# id -> (expression on a module `m` and tensor `x`, input shape, view?)
CASES = {
    "view_copy": (lambda m, x: m.view_copy(x, (4, -1)), (2, 3, 2), False),
    "permute_copy": (lambda m, x: m.permute_copy(x, (2, 0, 1)), (2, 3, 2), False),
    "transpose_copy": (lambda m, x: m.transpose_copy(x, 0, -1), (2, 3, 2), False),
    "t_copy": (lambda m, x: m.t_copy(x), (2, 3), False),
    "t_copy_1d": (lambda m, x: m.t_copy(x), (3,), False),
    "expand_copy": (lambda m, x: m.expand_copy(x, (2, 3, 4)), (3, 1), False),
    "squeeze_copy": (lambda m, x: m.squeeze_copy(x), (1, 3, 1), False),
    "squeeze_copy_dim": (lambda m, x: m.squeeze_copy(x, 0), (1, 3, 1), False),
    "squeeze_copy_dims": (lambda m, x: m.squeeze_copy(x, (0, 2)), (1, 3, 1), False),
    "unsqueeze_copy": (lambda m, x: m.unsqueeze_copy(x, 1), (2, 3), False),
    "select_copy": (lambda m, x: m.select_copy(x, 1, -1), (2, 3), False),
    "select_copy_1d": (lambda m, x: m.select_copy(x, 0, 1), (3,), False),
    "slice_copy": (lambda m, x: m.slice_copy(x, 1, 1, 4, 2), (2, 5), False),
    "slice_copy_defaults": (lambda m, x: m.slice_copy(x), (2, 5), False),
    "diagonal_copy": (lambda m, x: m.diagonal_copy(x, 1), (3, 4), False),
    "alias_copy": (lambda m, x: m.alias_copy(x), (2, 3), False),
    "unbind_copy": (lambda m, x: m.unbind_copy(x, 1), (2, 3), False),
    "unbind_copy_1d": (lambda m, x: m.unbind_copy(x), (3,), False),
    "split_copy": (lambda m, x: m.split_copy(x, 2, 1), (2, 5), False),
    "split_with_sizes_copy": (lambda m, x: m.split_with_sizes_copy(x, [1, 3]), (4, 2), False),
    "unfold_copy": (lambda m, x: m.unfold_copy(x, 1, 2, 1), (2, 4), False),
    "as_strided_copy": (lambda m, x: m.as_strided_copy(x, (2, 2), (1, 1), 1), (3, 4), False),
    "narrow_copy": (lambda m, x: m.narrow_copy(x, 0, 1, 1), (2, 4), False),
}

test_forward = _tables.shape_forward(RNG, CASES)
test_shares_memory_like_torch = _tables.shape_shares_memory(RNG, CASES)
test_grad_fn_name = _tables.shape_grad_fn_name(RNG, CASES)
test_backward = _tables.shape_backward(RNG, CASES)
test_gradcheck = _tables.shape_gradcheck(RNG, CASES)
test_double_backward = _tables.shape_double_backward(
    RNG, CASES, ["permute_copy", "expand_copy", "select_copy", "unbind_copy", "unfold_copy",
                 "as_strided_copy"])


@pytest.mark.parametrize("name", ["permute_copy", "unbind_copy", "expand_copy"])
def test_out(name):
    array = RNG.standard_normal((3, 1)).astype(np.float32)
    call = {"permute_copy": lambda m, x, out: m.permute_copy(x, (1, 0), out=out),
            "unbind_copy": lambda m, x, out: m.unbind_copy(x, 0, out=out),
            "expand_copy": lambda m, x, out: m.expand_copy(x, (2, 3, 2), out=out)}[name]
    results = []
    for m in (ember, torch):
        out = [m.zeros(1) for _ in range(3)] if name == "unbind_copy" else m.zeros(0)
        call(m, m.from_numpy(array.copy()), out)
        results.append(out if isinstance(out, list) else [out])
    for a, b in zip(*results):
        assert_same(a, b, **TOL)


def test_detach_copy():
    """A copy whose node is torch's NotImplemented: backward through it raises."""
    results = []
    for m in (ember, torch):
        x = m.ones(2, 3, requires_grad=True)
        y = m.detach_copy(x)
        results.append((y, y.requires_grad, y.grad_fn.name()))
        with pytest.raises(RuntimeError, match="not implemented"):
            y.sum().backward()
    assert_same(results[0][0], results[1][0], **TOL)
    assert results[0][1:] == results[1][1:]


def test_view_copy_dtype():
    array = RNG.standard_normal((2, 4)).astype(np.float32)
    results = [m.view_copy(m.from_numpy(array.copy()), m.int32) for m in (ember, torch)]
    assert_same(*results, exact=True)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_view_as_real_copy_and_back(dtype):
    results = []
    for m in (ember, torch):
        z = m.tensor([1 + 2j, 3 - 1j, 0.5j], dtype=getattr(m, dtype), requires_grad=True)
        y = m.view_as_real_copy(z)
        y.backward(m.arange(6.0, dtype=y.dtype).reshape(3, 2))
        back = m.view_as_complex_copy(y.detach() * 2)
        results.append((y, z.grad, back, y.grad_fn.name()))
    for a, b in zip(results[0][:3], results[1][:3]):
        assert_same(a, b, exact=True)
    assert results[0][3] == results[1][3]


# ---- errors -------------------------------------------------------------------------------------
# (call(lib), same message as torch?): all raise torch's type.
ERRORS = [
    (lambda m: m.view_copy(m.zeros(3, 4), (5, 3)), False),
    (lambda m: m.permute_copy(m.zeros(3, 4), (0, 0)), False),
    (lambda m: m.t_copy(m.zeros(2, 3, 4)), True),
    (lambda m: m.expand_copy(m.zeros(3, 4), (3, 5)), True),
    (lambda m: m.select_copy(m.zeros(3, 4), 0, 3), True),
    (lambda m: m.slice_copy(m.zeros(3, 4), 0, 0, 2, 0), False),
    (lambda m: m.diagonal_copy(m.zeros(3, 4), 0, 1, 1), True),
    (lambda m: m.unbind_copy(m.zeros(3, 4), 2), True),
    (lambda m: m.split_copy(m.zeros(3, 4), [1, 2]), True),
    (lambda m: m.split_with_sizes_copy(m.zeros(3, 4), [1, 1]), True),
    (lambda m: m.unfold_copy(m.zeros(3, 4), 1, 5, 1), True),
    (lambda m: m.as_strided_copy(m.zeros(3, 4), (20,), (1,)), True),
    (lambda m: m.squeeze_copy(m.zeros(3, 4), 2), False),
    (lambda m: m.view_as_real_copy(m.zeros(2)), True),
    (lambda m: m.view_as_complex_copy(m.zeros(2, 3)), True),
    (lambda m: m.view_as_complex_copy(m.zeros(2, 2).t()), True),
    (lambda m: m.view_as_complex_copy(m.zeros(2, 2, requires_grad=True)), True),
]
test_errors = _tables.shape_errors(ERRORS)
test_error_messages = _tables.shape_error_messages(ERRORS)


@pytest.mark.parametrize("shape, dims", [((), (0, 0)), ((), (-1, 0)), ((2, 3), (1, 1))])
def test_transpose_copy_of_one_dim_as_torch(shape, dims):
    x = np.arange(float(np.prod(shape))).reshape(shape)
    assert_same(ember.transpose_copy(ember.tensor(x), *dims),
                torch.transpose_copy(torch.tensor(x), *dims))
