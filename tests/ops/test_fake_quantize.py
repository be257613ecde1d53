"""torch.fake_quantize_per_tensor_affine / per_channel_affine: values, straight-through
gradients, grad_fn names and errors against torch."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error

X = np.array([[-1.3, 0.2, 0.51, 2.7, 100.0], [0.05, 0.15, -0.25, 7.0, -3.3]], dtype=np.float32)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("qparams", [(0.1, 3, -128, 127), (0.25, 0, -4, 4), (-0.1, 3, -8, 7)])
def test_per_tensor(dtype, qparams):
    results = []
    for lib in (ember, torch):
        x = lib.from_numpy(X.astype(dtype)).requires_grad_()
        y = lib.fake_quantize_per_tensor_affine(x, *qparams)
        (y * lib.arange(10.0, dtype=y.dtype).view(2, 5)).sum().backward()
        results.append((y, x.grad, y.grad_fn.name()))
    (e, e_grad, e_node), (t, t_grad, t_node) = results
    assert_same(e, t, exact=True)
    assert_same(e_grad, t_grad, exact=True)
    assert e_node == t_node


def test_per_tensor_with_tensor_qparams():
    results = []
    for lib in (ember, torch):
        x = lib.from_numpy(X.copy()).requires_grad_()
        y = lib.fake_quantize_per_tensor_affine(x, lib.tensor(0.1),
                                                lib.tensor(3, dtype=lib.int32), 0, 255)
        results.append((y, y.grad_fn.name()))
    assert_same(results[0][0], results[1][0], exact=True)
    assert results[0][1] == results[1][1]


@pytest.mark.parametrize("axis, zero_point_dtype", [(0, "int32"), (1, "int32"), (1, "float32")])
def test_per_channel(axis, zero_point_dtype):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    scale = rng.uniform(0.05, 0.3, w.shape[axis]).astype(np.float32)
    zero = rng.integers(-2, 3, w.shape[axis]).astype(zero_point_dtype)
    results = []
    for lib in (ember, torch):
        x = lib.from_numpy(w.copy()).requires_grad_()
        y = lib.fake_quantize_per_channel_affine(x, *to_lib(lib, scale, zero), axis, -8, 7)
        (y * lib.arange(12.0).view(3, 4)).sum().backward()
        results.append((y, x.grad, y.grad_fn.name()))
    assert_same(results[0][0], results[1][0], exact=True)
    assert_same(results[0][1], results[1][1], exact=True)
    assert results[0][2] == results[1][2]


def to_lib(lib, *arrays):
    return [lib.from_numpy(a.copy()) for a in arrays]


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.fake_quantize_per_tensor_affine(x, 0.1, 3, 10, 5),
    lambda lib, x: lib.fake_quantize_per_tensor_affine(x, 0.1, 300, 0, 255),
    lambda lib, x: lib.fake_quantize_per_tensor_affine(x.long(), 0.1, 3, -128, 127),
    lambda lib, x: lib.fake_quantize_per_channel_affine(
        x, lib.full((5,), 0.1), lib.zeros(5, dtype=lib.long), 1, 0, 255),
    lambda lib, x: lib.fake_quantize_per_channel_affine(
        x, lib.full((5,), 0.1, dtype=lib.float64), lib.zeros(5, dtype=lib.int32), 1, 0, 255),
    lambda lib, x: lib.fake_quantize_per_channel_affine(
        x, lib.full((4,), 0.1), lib.zeros(4, dtype=lib.int32), 1, 0, 255),
    lambda lib, x: lib.fake_quantize_per_channel_affine(
        x, lib.full((5,), 0.1), lib.full((5,), 300, dtype=lib.int32), 1, 0, 255),
    lambda lib, x: lib.fake_quantize_per_channel_affine(
        x, lib.full((5,), 0.1), lib.zeros(5, dtype=lib.int32), 2, 0, 255),
    lambda lib, x: lib.fake_quantize_per_channel_affine(
        x, lib.full((5,), 0.1), lib.zeros(5, dtype=lib.int32), -1, 0, 255),
])
def test_errors(call):
    assert_same_error(call, X, same_message=True, exact_type=True)
