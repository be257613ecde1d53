"""Layer and group norm by rows (ember/ops/_rows_norm.py, NOTE [Layer norm by rows]) against
torch: values and gradients with and without affine parameters, several normalised dims, the
same bits whatever the chunks and threads, and an output changed in place."""

import numpy as np
import pytest
import torch

import ember
from ember.ops import _rows_norm

RNG = np.random.default_rng(9)


def _run(lib, x, g, shape, affine, dtype):
    t = lib.tensor(x, requires_grad=True)
    w = lib.tensor(RNG_W[: int(np.prod(shape))].reshape(shape).astype(dtype),
                   requires_grad=True) if affine in ("both", "weight") else None
    b = lib.tensor(RNG_B[: int(np.prod(shape))].reshape(shape).astype(dtype),
                   requires_grad=True) if affine in ("both", "bias") else None
    y = lib.nn.functional.layer_norm(t, shape, w, b)
    y.backward(lib.tensor(g))
    return [a for a in (y.detach(), t.grad, None if w is None else w.grad,
                        None if b is None else b.grad)]


RNG_W, RNG_B = RNG.standard_normal(4096), RNG.standard_normal(4096)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("shape,normalized", [((300, 257), (257,)), ((4, 6, 5, 7), (5, 7)),
                                              ((3, 2), (2,))])
def test_layer_norm_matches_torch(shape, normalized, affine, dtype):
    x = (RNG.standard_normal(shape) * 3 + 1).astype(dtype)
    g = RNG.standard_normal(shape).astype(dtype)
    tol = {"rtol": 1e-5, "atol": 2e-5} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-10}
    for e, t in zip(_run(ember, x, g, normalized, affine, dtype),
                    _run(torch, x, g, normalized, affine, dtype)):
        assert (e is None) == (t is None)
        if e is not None:
            assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype)
            np.testing.assert_allclose(e.numpy(), t.numpy(), **tol)


def test_group_norm_matches_torch():
    x = RNG.standard_normal((6, 12, 9, 7)).astype(np.float32)
    g = RNG.standard_normal(x.shape).astype(np.float32)
    results = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.group_norm(t, 4)
        y.backward(lib.tensor(g))
        results.append((y.detach().numpy(), t.grad.numpy()))
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=2e-5)


def test_chunks_and_threads(monkeypatch):
    """Small chunks give the whole-array values to float32 rounding (gw sums in another
    order), and the same bits on one thread or two."""
    x = ember.tensor(RNG.standard_normal((37, 11)).astype(np.float32), requires_grad=True)
    w = ember.tensor(RNG.standard_normal(11).astype(np.float32), requires_grad=True)
    g = ember.tensor(RNG.standard_normal((37, 11)).astype(np.float32))

    def run():
        x.grad = w.grad = None
        y = ember.nn.functional.layer_norm(x, (11,), w)
        y.backward(g)
        return [a.detach().numpy().copy() for a in (y, x.grad, w.grad)]

    whole = run()
    monkeypatch.setattr(_rows_norm, "CHUNK", 30)  # chunks of 2 rows
    previous = ember.get_num_threads()
    try:
        by_threads = []
        for threads in (1, 2):
            ember.set_num_threads(threads)
            by_threads.append(run())
    finally:
        ember.set_num_threads(previous)
    for a, b in zip(by_threads[0], whole):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(by_threads[0][0], whole[0])  # y row by row: the same bits
    for a, b in zip(*by_threads):
        np.testing.assert_array_equal(a, b)


def test_output_changed_in_place_keeps_the_gradient():
    """x̂ is kept apart from y: y.mul_() after the forward must not change x's gradient."""
    x = RNG.standard_normal((8, 16)).astype(np.float32)
    grads = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.layer_norm(t, (16,))
        y.mul_(3)
        (y * y).sum().backward()
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-5)
