"""ReLU, the Relu op of ember/ops/rectifier.py on ember/ops/relu_kernels.py, against torch bit
for bit: values and gradients with NaN and infinite inputs, the sign of zero gradients, small
and big (threaded, flat-block) tensors, non-contiguous inputs, float dtypes, double backward.
The generic unary tables (tests/ops/test_unary.py) cover the rest.
"""

import numpy as np
import pytest
import torch

import ember
from ember import _threads

RNG = np.random.default_rng(11)


def _same_bits(e, t):
    a, b = e.numpy(), t.numpy()
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


def _special(shape, dtype):
    a = RNG.standard_normal(shape)
    a[RNG.random(shape) < 0.1] = 0.0
    a[RNG.random(shape) < 0.1] = -0.0  # kept as -0 by torch's ReLU
    a[RNG.random(shape) < 0.05] = np.nan
    a[RNG.random(shape) < 0.05] = -np.nan
    a[RNG.random(shape) < 0.05] = np.inf
    a[RNG.random(shape) < 0.05] = -np.inf
    return a.astype(dtype)


def _check(array, g, view=lambda t: t):
    results = []
    for lib in (ember, torch):
        x = lib.tensor(array, requires_grad=True)
        y = lib.relu(view(x))
        y.backward(lib.tensor(g))
        results.append((y.detach(), x.grad))
    for e, t in zip(*results):
        _same_bits(e, t)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("shape", [(), (7,), (3, 5, 4), (1000,), (4, 3, 128, 128)])
def test_relu_matches_torch_bit_for_bit(dtype, shape):
    """A NaN input passes its gradient on (torch zeroes gy only where y <= 0); a negative gy
    where y <= 0 gives +0, not -0."""
    _check(_special(shape, dtype), RNG.standard_normal(shape).astype(dtype))


def test_non_contiguous_input_and_gradient():
    array = _special((6, 40, 30), np.float32)
    g = np.broadcast_to(RNG.standard_normal((30, 1)).astype(np.float32), (30, 40))
    _check(array, g.copy(), view=lambda t: t[::2, :, :].transpose(1, 2)[0])


@pytest.mark.parametrize("threads", [1, 2])
def test_flat_blocks_on_threads(threads, monkeypatch):
    monkeypatch.setattr(_threads, "FLAT_BLOCK", 5)
    previous = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        _check(_special((4, 9, 7), np.float32), RNG.standard_normal((4, 9, 7)).astype(
            np.float32))
    finally:
        ember.set_num_threads(previous)


def test_double_backward_matches_torch():
    array = RNG.standard_normal((3, 4))
    results = []
    for lib in (ember, torch):
        x = lib.tensor(array, requires_grad=True)
        y = lib.relu(x)
        (gx,) = lib.autograd.grad((y * y).sum(), [x], create_graph=True)
        results.append(lib.autograd.grad((gx * gx).sum(), [x])[0])
    _same_bits(*results)


def test_integer_relu():
    array = RNG.integers(-5, 5, (4, 5)).astype(np.int32)
    _same_bits(ember.relu(ember.tensor(array)), torch.relu(torch.tensor(array)))


def test_the_gradient_is_recorded_when_only_the_output_needs_it():
    """Under create_graph, relu's gradient of a constant gy depends on the saved output: torch
    records it (ThresholdBackwardBackward0) and its own gradient is zero, not an error."""
    array = _special((3, 5), np.float64)
    results = []
    for lib in (ember, torch):
        x = lib.tensor(array, requires_grad=True)
        (g,) = lib.autograd.grad(lib.relu(x).sum(), [x], create_graph=True)
        assert g.requires_grad and type(g.grad_fn).__name__ == "ThresholdBackwardBackward0"
        (gg,) = lib.autograd.grad((g * g).sum(), [x])
        results.append((g.detach(), gg))
    for e, t in zip(*results):
        _same_bits(e, t)


@pytest.mark.parametrize("shape", [(7,), (33, 5), (4, 3, 128, 128)])
def test_bfloat16_relu_keeps_signed_zeros(shape):
    array = _special(shape, np.float32)
    results = []
    for lib in (ember, torch):
        y = lib.relu(lib.tensor(array).to(lib.bfloat16)).to(lib.float32)
        results.append(y.numpy())
    e, t = results
    np.testing.assert_array_equal(e, t)  # (torch's float -> bfloat16 may flip a NaN's sign)
    np.testing.assert_array_equal(np.signbit(e[~np.isnan(e)]), np.signbit(t[~np.isnan(t)]))


def test_zero_operand_is_shared_and_read_only():
    """The zero arrays relu compares with are views of one read-only buffer per dtype."""
    from ember.ops import relu_kernels

    # (shapes no other test asks for: a view cached before the buffer grew would not share)
    a = relu_kernels.zeros_shaped(np.dtype(np.float32), (3, 4, 7, 11))
    b = relu_kernels.zeros_shaped(np.dtype(np.float32), (5, 13))
    assert a.shape == (3, 4, 7, 11) and not a.any() and not a.flags.writeable
    assert np.shares_memory(a, b)
