"""Max pooling over tiling windows, ember/ops/pool_tiles.py (NOTE [Max pooling over tiles]):
F.max_pool1d/2d/3d with kernel == stride, no padding, no dilation and no indices asked for.

Max pooling is exact, so values, indices and gradients must equal torch's bit for bit (the
sign of zero too), in both paths: the tiles and the general windows (the same call with
`tiles_input` patched off), with ties, NaN, infinities, odd sizes (cropped windows), one and
two threads. Overlapping windows (general path only) are in tests/ops/test_pool.py.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from ember.ops import pool, pool_tiles

RNG = np.random.default_rng(7)

# id -> (kernel_size, input shape)
CASES = {
    "2d_k2": (2, (3, 4, 8, 8)),
    "2d_k2_odd": (2, (2, 3, 7, 9)),
    "2d_k3": (3, (2, 2, 9, 10)),
    "2d_k2x3": ((2, 3), (2, 3, 6, 7)),
    "2d_k1x2": ((1, 2), (2, 2, 3, 6)),
    "2d_k3x1": ((3, 1), (2, 2, 7, 3)),
    "1d_k2": (2, (3, 4, 9)),
    "3d_k2": (2, (2, 2, 4, 5, 6)),
    "2d_unbatched": (2, (3, 6, 6)),
}


def _draw(kind, shape, dtype):
    """Inputs that exercise the exact-tie rules."""
    if kind == "randn":
        return RNG.standard_normal(shape).astype(dtype)
    if kind == "relu":  # many windows of equal zeros
        return np.maximum(RNG.standard_normal(shape), 0).astype(dtype)
    if kind == "ties":
        return RNG.integers(0, 3, shape).astype(dtype)
    if kind == "nan":  # NaN windows (some with several NaNs) beside ties
        a = RNG.integers(-1, 2, shape).astype(dtype)
        a[RNG.random(shape) < 0.2] = np.nan
        return a
    a = RNG.standard_normal(shape).astype(dtype)  # infinities
    a[RNG.random(shape) < 0.3] = -np.inf
    a[RNG.random(shape) < 0.05] = np.inf
    return a


def _pool(F, x, kernel, nd, return_indices=False):
    return getattr(F, f"max_pool{nd}d")(x, kernel, return_indices=return_indices)


def _same_bits(a, b):
    """Equal values, NaN where NaN, and the same sign of every zero."""
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


def _case(case):
    kernel, shape = CASES[case]
    nd = 2 if case == "2d_unbatched" else (len(kernel) if isinstance(kernel, tuple)
                                           else int(case[0]))
    return kernel, shape, nd


def _pool_run(lib, array, kernel, nd, return_indices, g=None):
    F = EF if lib is ember else TF
    x = lib.tensor(array, requires_grad=True)
    y = _pool(F, x, kernel, nd, return_indices)
    values = y[0] if return_indices else y
    if g is None:
        g = np.linspace(-1, 1, values.numel()).reshape(tuple(values.shape))
        g = g.astype(array.dtype)
    values.backward(lib.tensor(g))
    out = [values.detach().numpy(), x.grad.numpy()]
    return out + [y[1].numpy()] if return_indices else out


def _check(case, kind, dtype, g=None):
    """Tiles and general windows (tiles_input patched off), with and without indices."""
    kernel, shape, nd = _case(case)
    array = _draw(kind, shape, dtype)
    for return_indices in (False, True):
        expected = _pool_run(torch, array, kernel, nd, return_indices, g)
        results = [_pool_run(ember, array, kernel, nd, return_indices, g)]
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(pool, "tiles_input", lambda *args: False)
            results.append(_pool_run(ember, array, kernel, nd, return_indices, g))
        for result in results:
            for e, t in zip(result, expected):
                assert e.dtype == t.dtype
                _same_bits(e, t)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("kind", ["randn", "relu", "ties", "nan", "inf"])
def test_tiles_match_torch_bit_for_bit(case, kind):
    _check(case, kind, np.float32)


@pytest.mark.parametrize("case", ["2d_k2_odd", "3d_k2"])
@pytest.mark.parametrize("kind", ["ties", "nan"])
def test_float64(case, kind):
    _check(case, kind, np.float64)


@pytest.mark.parametrize("threads", [1, 2])
def test_batch_blocks_on_threads(threads, monkeypatch):
    """Tiny blocks (one image each) on one or two threads give the same bits."""
    monkeypatch.setattr(pool_tiles, "_MIN_BLOCK_BYTES", 1)
    previous = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        _check("2d_k2_odd", "nan", np.float32)
        _check("2d_k2", "relu", np.float32)
    finally:
        ember.set_num_threads(previous)


def test_tiles_input_rule():
    """Tiles: kernel == stride, no padding, dilation only where the kernel is 1, and the
    windows inside the input (ceil_mode may add a window past the end)."""
    assert pool_tiles.tiles_input((1, 1, 6, 6), (2, 2), (2, 2), (0, 0), (1, 1), (3, 3))
    assert pool_tiles.tiles_input((1, 1, 7, 6), (2, 2), (2, 2), (0, 0), (1, 1), (3, 3))
    assert not pool_tiles.tiles_input((1, 1, 7, 6), (2, 2), (2, 2), (0, 0), (1, 1), (4, 3))
    assert not pool_tiles.tiles_input((1, 1, 6, 6), (2, 2), (1, 2), (0, 0), (1, 1), (5, 3))
    assert not pool_tiles.tiles_input((1, 1, 6, 6), (2, 2), (2, 2), (1, 0), (1, 1), (4, 3))
    assert not pool_tiles.tiles_input((1, 1, 6, 6), (2, 2), (2, 2), (0, 0), (2, 1), (2, 3))


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_ceil_mode_odd_sizes(ceil_mode):
    """ceil_mode with an odd size has a window past the input: the general path (same bits)."""
    array = _draw("ties", (2, 3, 7, 5), np.float32)
    results = []
    for lib, F in ((ember, EF), (torch, TF)):
        x = lib.tensor(array, requires_grad=True)
        y = F.max_pool2d(x, 2, ceil_mode=ceil_mode)
        (y * lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy()))
    for e, t in zip(*results):
        _same_bits(e, t)


def test_output_changed_in_place_before_backward():
    """torch keeps indices, so changing the output in place (an inplace ReLU after the pool)
    leaves the gradient alone; ember finds the maxima again from the input."""
    array = RNG.standard_normal((2, 3, 6, 6)).astype(np.float32)
    grads = []
    for lib, F in ((ember, EF), (torch, TF)):
        x = lib.tensor(array, requires_grad=True)
        y = F.max_pool2d(x * 1, 2)
        F.relu(y, inplace=True).sum().backward()
        grads.append(x.grad.numpy())
    _same_bits(*grads)


def test_input_changed_in_place_raises_like_torch():
    for lib, F in ((ember, EF), (torch, TF)):
        x = lib.tensor(RNG.standard_normal((1, 1, 4, 4)), requires_grad=True)
        h = x * 1
        y = F.max_pool2d(h, 2)
        h.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_double_backward_matches_torch():
    """create_graph: the backward is the differentiable scatter at the maxima' indices."""
    array = _draw("ties", (2, 2, 6, 6), np.float64)
    results = []
    for lib, F in ((ember, EF), (torch, TF)):
        x = lib.tensor(array, requires_grad=True)
        y = F.max_pool2d(x, 2)
        (gx,) = lib.autograd.grad((y * y).sum(), [x], create_graph=True)
        v = lib.tensor(np.sin(np.arange(gx.numel())).reshape(tuple(gx.shape)))
        results.append(lib.autograd.grad((gx * v).sum(), [x])[0].numpy())
    _same_bits(*results)


def test_gradcheck_float64():
    x = ember.tensor(RNG.standard_normal((1, 2, 4, 6)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: EF.max_pool2d(t, 2), [x])


def test_no_grad_forward_and_integers():
    """Without grad no indices are made; integer inputs pool through the tiles too."""
    array = RNG.integers(-5, 5, (2, 3, 6, 8))
    with ember.no_grad():
        ye = EF.max_pool2d(ember.tensor(array), 2)
    yt = TF.max_pool2d(torch.tensor(array), 2)
    assert ye.dtype == ember.int64
    np.testing.assert_array_equal(ye.numpy(), yt.numpy())


def test_tiles_path_is_taken(monkeypatch):
    """The cases above do run the tiles (forward and backward), with indices or without."""
    calls = []
    for name in ("tile_max", "tile_max_backward"):
        original = getattr(pool, name)
        monkeypatch.setattr(pool, name, lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a))
    x = ember.tensor(RNG.standard_normal((2, 3, 6, 6)), requires_grad=True)
    EF.max_pool2d(x, 2).sum().backward()
    assert calls == ["tile_max", "tile_max_backward"]
    EF.max_pool2d(x, 2, return_indices=True)[0].sum().backward()
    assert calls == ["tile_max", "tile_max_backward"] * 2
    EF.max_pool2d(x, 2, stride=1).sum().backward()
    assert len(calls) == 4


def test_negative_zero_gradient_arrives_as_plus_zero():
    """torch adds gy into zeros, so a -0 gy arrives as +0."""
    g = -np.zeros((2, 3, 3, 4), np.float32)
    g[0, 0, 0, 0] = -1.0
    _check("2d_k2_odd", "randn", np.float32, g=g)
