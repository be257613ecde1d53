"""Batch norm's array kernels, ember/ops/nn_norm_kernels.py (NOTE [Batch norm in few passes]),
through F.batch_norm against torch: training and eval statistics, with and without affine
parameters, every subset of inputs requiring grad, 1-d/2-d/3-d inputs, an input whose mean
dwarfs its spread (two-pass statistics), batch blocks on one and two threads, gradcheck and
double backward. The sums run in another order than torch's, so float32 agrees to rounding.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from ember.ops import nn_norm_kernels
from tests.differential import assert_same

RNG = np.random.default_rng(3)
TOL = {np.float32: 2e-5, np.float64: 1e-10}


def _batch_norm(lib, arrays, training, needs, momentum=0.1):
    """F.batch_norm of (x, w, b, running mean, running var) arrays; its output, the leaves'
    grads for a fixed output gradient, and the running statistics after the call."""
    x, w, b, mean, var = (None if a is None else lib.tensor(a.copy()) for a in arrays)
    leaves = [t.requires_grad_(need) if t is not None else None
              for t, need in zip((x, w, b), needs)]
    F = EF if lib is ember else TF
    y = F.batch_norm(x, mean, var, w, b, training=training, momentum=momentum, eps=1e-5)
    if y.requires_grad:
        g = np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(arrays[0].dtype)
        y.backward(lib.tensor(g))
    grads = [None if t is None or not t.requires_grad else t.grad for t in leaves]
    return y, grads, (mean, var)


def _arrays(shape, dtype, affine=True, offset=0.0):
    c = shape[1]
    x = (RNG.standard_normal(shape) * 2 + offset).astype(dtype)
    w = np.linspace(0.5, 1.5, c).astype(dtype) if affine else None
    b = np.linspace(-1, 1, c).astype(dtype) if affine else None
    mean = RNG.standard_normal(c).astype(dtype)
    var = (RNG.random(c) + 0.5).astype(dtype)
    return [x, w, b, mean, var]


def _check(arrays, training, needs=(True, True, True), tol=None):
    tol = tol or TOL[arrays[0].dtype.type]
    ye, ge, se = _batch_norm(ember, arrays, training, needs)
    yt, gt, st = _batch_norm(torch, arrays, training, needs)
    assert_same(ye, yt, tol, tol)
    for e, t in zip(ge, gt):
        assert (e is None) == (t is None)
        if t is not None:
            assert_same(e, t, tol, tol)
    for e, t in zip(se, st):
        assert_same(e, t, tol, tol)


@pytest.mark.parametrize("shape", [(6, 3, 5), (4, 3, 5, 7), (2, 2, 3, 4, 5), (8, 16, 16, 16),
                                   (16, 64, 2, 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_matches_torch(shape, dtype, training, affine):
    _check(_arrays(shape, dtype, affine), training)


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False),
                                   (False, False, True), (False, True, True),
                                   (True, True, False)])
@pytest.mark.parametrize("training", [True, False])
def test_only_some_inputs_require_grad(needs, training):
    _check(_arrays((4, 3, 5, 6), np.float64), training, needs)


def test_no_grad_output_matches_torch():
    arrays = _arrays((4, 3, 5, 6), np.float32)
    for training in (True, False):
        ye, _, _ = _batch_norm(ember, arrays, training, (False, False, False))
        yt, _, _ = _batch_norm(torch, arrays, training, (False, False, False))
        assert_same(ye, yt, 2e-5, 2e-5)


@pytest.mark.parametrize("affine", [True, False])
def test_running_statistics_take_torchs_shift(affine):
    """With running statistics and no backward, y = x·α + β with PyTorch's β = b - μ·α: its
    FMA rounds once where NumPy rounds x·α first, so most outputs have torch's bits (60% did
    as (x - μ)·α + b) and the rest are an ulp of x·α away."""
    x, w, b, mean, var = _arrays((16, 8, 32, 32), np.float32, affine)
    ye, _, _ = _batch_norm(ember, [x, w, b, mean, var], False, (False, False, False))
    yt, _, _ = _batch_norm(torch, [x, w, b, mean, var], False, (False, False, False))
    ye, yt = ye.numpy(), yt.numpy()
    alpha = ((1 / np.sqrt(var + np.float32(1e-5))) * (1 if w is None else w)).reshape(1, -1, 1, 1)
    centred_first = (x - mean.reshape(1, -1, 1, 1)) * alpha + (0 if b is None else
                                                               b.reshape(1, -1, 1, 1))
    assert np.mean(ye == yt) > np.mean(centred_first == yt) + 0.05
    scale = np.abs(x * alpha) + np.abs(yt)
    assert np.all(np.abs(ye - yt) <= np.spacing(scale.astype(np.float32)))


def test_large_mean_keeps_float32_digits():
    """x = 1000 + N(0, 2²): E[x²] - E[x]² in float32 would lose the variance; two passes don't."""
    _check(_arrays((8, 4, 16, 16), np.float32, offset=1000.0), True, tol=2e-4)


@pytest.mark.parametrize("threads", [1, 2])
def test_batch_blocks_on_threads(threads, monkeypatch):
    """One image per block, on one or two threads: the same results."""
    monkeypatch.setattr(nn_norm_kernels, "_MIN_BLOCK_BYTES", 1)
    previous = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        for dtype in (np.float32, np.float64):
            for training in (True, False):
                _check(_arrays((5, 3, 4, 6), dtype), training)
    finally:
        ember.set_num_threads(previous)


@pytest.mark.parametrize("training", [True, False])
def test_short_rows_take_the_same_arithmetic(training, monkeypatch):
    """NOTE [Per-channel values over short rows]: per-channel values tiled along short rows give
    the very bits of a (C, 1) column (with given statistics: y and x's gradient), and the short
    rows' sums (images first, in float64) agree with the row sums to rounding."""
    arrays = _arrays((6, 32, 3, 3), np.float32)
    tiled = _batch_norm(ember, arrays, training, (True, True, True))
    monkeypatch.setattr(nn_norm_kernels, "_SHORT_ROW", 0)  # every row "long": columns
    columns = _batch_norm(ember, arrays, training, (True, True, True))
    pairs = [(tiled[0], columns[0])] + list(zip(tiled[1], columns[1]))
    for index, (mine, theirs) in enumerate(pairs):
        mine, theirs = mine.detach().numpy(), theirs.detach().numpy()
        if not training and index < 2:  # y = x·α + β and gx = gy·α: elementwise only
            np.testing.assert_array_equal(mine, theirs)
        else:
            np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-5)


def test_fits_rule():
    """The kernels take float32/float64 inputs of 3+ dims over dims (0, 2, ...) with
    parameters of the input's dtype; everything else keeps the general Normalize."""
    x = np.zeros((2, 3, 4), np.float32)
    w = np.ones(3, np.float32)
    assert nn_norm_kernels.fits(x, (0, 2), w, None)
    assert not nn_norm_kernels.fits(x, (0, 2), w.astype(np.float64), None)
    assert not nn_norm_kernels.fits(x.astype(np.float16), (0, 2), None, None)
    assert not nn_norm_kernels.fits(x[:, :, 0], (0,), None, None)
    assert not nn_norm_kernels.fits(x, (2,), None, None)
    assert not nn_norm_kernels.fits(x[:0], (0, 2), None, None)


def test_gradcheck_float64():
    x = ember.tensor(RNG.standard_normal((3, 2, 3, 2)), requires_grad=True)
    w = ember.tensor(RNG.standard_normal(2), requires_grad=True)
    b = ember.tensor(RNG.standard_normal(2), requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda x, w, b: EF.batch_norm(x, None, None, w, b, training=True), [x, w, b])


@pytest.mark.parametrize("training", [True, False])
def test_double_backward_matches_torch(training):
    """create_graph: the backward written with ember ops (no kernels) agrees with torch."""
    arrays = _arrays((3, 2, 4, 3), np.float64)
    results = []
    for lib, F in ((ember, EF), (torch, TF)):
        x, w, b, mean, var = (lib.tensor(a) for a in arrays)
        x.requires_grad_(True)
        w.requires_grad_(True)
        y = F.batch_norm(x, mean, var, w, b, training=training)
        gx, gw = lib.autograd.grad((y * y.detach().cos()).sum(), [x, w], create_graph=True)
        v = lib.tensor(np.sin(np.arange(gx.numel())).reshape(tuple(gx.shape)))
        results.append(lib.autograd.grad((gx * v).sum() + (gw * gw).sum(), [x, w]))
    for e, t in zip(*results):
        assert_same(e, t, 1e-8, 1e-8)


# issue #19's fuzz: NOTE [Batch norm's flat channels]: a channel whose spread is tiny next to
# its mean (a constant one above all) gets PyTorch's own roundings, so its output is torch's
# to float32 precision (a constant channel: exactly the bias, or an ulp of x·α off it)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape,spread", [((4, 1, 3), 0.0), ((4, 3, 2, 2), 1e-6),
                                          ((2, 2, 5), 1e-3), ((3, 2, 2, 2, 2), 0.0)])
def test_flat_channels_as_torch(shape, spread, training, dtype):
    rng = np.random.default_rng(5)
    c = shape[1]
    x = (-2.00001 + 90 * np.arange(c).reshape((1, c) + (1,) * (len(shape) - 2))
         + spread * rng.standard_normal(shape)).astype(dtype)
    w = np.array([-8.478373527526855, 3.1, 0.7][:c], dtype=dtype)
    b = np.array([-1.765825867652893, 2.0, -0.3][:c], dtype=dtype)
    stats = (np.mean(x, axis=(0,) + tuple(range(2, x.ndim))).astype(dtype),
             np.full(c, 1e-9, dtype=dtype))

    def run(lib):
        return lib.native_batch_norm(*(lib.tensor(a.copy()) for a in (x, w, b) + stats),
                                     training, 0.1, 1e-5)
    for e, t in zip(run(ember), run(torch)):
        assert_same(e, t, rtol=1e-4, atol=1e-5)
