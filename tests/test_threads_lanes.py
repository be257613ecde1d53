"""parallel_lanes and lane_blocks (ember/_threads.py, NOTE [Lanes]): lanes share blocks
equally, call BLAS on one thread each and restore BLAS's count; convolutions computed in lanes
give the one-thread results."""

import threading

import numpy as np
import pytest

import ember
from ember import _threads
from ember._threads import lane_blocks, parallel_lanes

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads():
    """The thread count of NumPy's BLAS (SciPy or torch may have loaded others)."""
    blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    numpy_blas = [i for i in blas if "numpy" in i["filepath"]] or blas
    return numpy_blas[0]["num_threads"]


class _Threads:
    """ember.set_num_threads(n) for a with-block, BLAS's and ember's counts restored after."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        self.old, self.blas = ember.get_num_threads(), _blas_threads()
        ember.set_num_threads(self.n)

    def __exit__(self, *exc):
        ember.set_num_threads(self.old)
        threadpoolctl.threadpool_limits(self.blas, user_api="blas")


@pytest.mark.parametrize("n", [1, 2, 3, 7, 100, 257])
@pytest.mark.parametrize("step", [1, 5, 26, 1000])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_lane_blocks_cover_the_batch_in_equal_slices(n, step, threads):
    with _Threads(threads):
        big = lane_blocks(n, step, item_bytes=1 << 22)  # shareable work
        small = lane_blocks(n, step, item_bytes=1)  # too little to share
    for blocks in (big, small):
        assert blocks[0].start == 0 and blocks[-1].stop == n
        assert all(a.stop == b.start for a, b in zip(blocks, blocks[1:]))
        sizes = [b.stop - b.start for b in blocks]
        assert max(sizes) <= max(step, -(-n // len(blocks))) and max(sizes) - min(sizes) <= 1
    assert len(small) == min(n, -(-n // step))
    lanes = min(threads, n)
    if lanes > 1 and -(-(-(-n // step)) // lanes) * lanes <= n:  # (else one item per block)
        assert len(big) % lanes == 0


def test_lanes_run_blas_on_one_thread_each_and_restore_it():
    with _Threads(2):
        threadpoolctl.threadpool_limits(2, user_api="blas")
        seen = parallel_lanes(lambda a, b: (a, b, _blas_threads(), threading.get_ident()), 10)
        assert [(a, b) for a, b, _, _ in seen] == [(0, 5), (5, 10)]
        assert {blas for _, _, blas, _ in seen} == {1}
        assert len({ident for *_, ident in seen}) == 2
        assert _blas_threads() == 2
        # under a lane's worth of work, or one thread: one call, BLAS untouched
        assert parallel_lanes(lambda a, b: (a, b, _blas_threads()), 10, work_bytes=1000) == [
            (0, 10, 2)]
    with _Threads(1):
        assert parallel_lanes(lambda a, b: (a, b), 10) == [(0, 10)]


def test_without_threadpoolctl_one_call(monkeypatch):
    monkeypatch.setitem(_threads._blas, "checked", True)
    monkeypatch.setitem(_threads._blas, "controller", None)
    with _Threads(2):
        assert parallel_lanes(lambda a, b: (a, b, threading.get_ident()), 10) == [
            (0, 10, threading.get_ident())]


# (batch, Cin, Cout, size, kernel, stride, groups, dtype): im2col with each kind of columns,
# the spectral route, a stride-2 layer (col2im for its input gradient), a 1x1 layer, Winograd's
# route (wide 3x3), groups and float64
_LAYERS = [(64, 3, 16, 32, 3, 1, 1, "float32"), (64, 16, 32, 16, 3, 1, 1, "float32"),
           (64, 32, 32, 16, 5, 1, 1, "float32"), (64, 16, 32, 32, 3, 2, 1, "float32"),
           (64, 32, 64, 16, 1, 1, 1, "float32"), (8, 128, 128, 8, 3, 1, 1, "float32"),
           (32, 16, 32, 16, 3, 2, 4, "float64"), (32, 8, 8, 24, 3, 1, 2, "float64")]


def _takes_spectral_route(x_shape, w_shape, stride, groups, dtype="float32"):
    """Whether conv2d(x, w, stride, padding=k//2, groups) of a training step is spectral."""
    from ember.ops._conv_kernels import _Geometry
    from ember.ops._conv_spectral import _fits_spectral

    k = w_shape[2]
    geo = _Geometry((stride,) * 2, (1, 1), (k // 2,) * 2, (k // 2,) * 2, groups)
    out = tuple((s + 2 * (k // 2) - k) // stride + 1 for s in x_shape[2:])
    return _fits_spectral(x_shape, np.dtype(dtype), w_shape[2:], geo, out, w_shape[0])


def test_the_layers_take_both_routes():
    """The table holds spectral layers and others (so both comparisons below run)."""
    routes = {_takes_spectral_route((n, cin, size, size), (cout, cin // groups, k, k), stride,
                                    groups, dtype)
              for n, cin, cout, size, k, stride, groups, dtype in _LAYERS}
    assert routes == {True, False}


@pytest.mark.parametrize("layer", _LAYERS, ids=str)
def test_convolution_in_lanes_equals_one_thread(layer):
    n, cin, cout, size, k, stride, groups, dtype = layer
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, cin, size, size)).astype(dtype)
    w = (rng.standard_normal((cout, cin // groups, k, k)) / (cin * k * k) ** 0.5).astype(dtype)

    def run(threads):
        with _Threads(threads):
            xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
            y = ember.nn.functional.conv2d(xt, wt, stride=stride, padding=k // 2, groups=groups)
            (y * y).sum().backward()
            # and the transposed convolution's forward (col2im or a flipped convolution)
            z = ember.nn.functional.conv_transpose2d(y.detach(), wt.detach(), stride=stride,
                                                     padding=k // 2, groups=groups)
        return y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), z.numpy()

    one, lanes = run(1), run(2)
    if _takes_spectral_route(x.shape, w.shape, stride, groups, dtype):
        # each image alone too, but its per-frequency products are GEMMs whose row count is
        # the block's image count, which decides OpenBLAS's kernel: float32 rounding apart
        for index in (0, 1, 3):
            np.testing.assert_allclose(lanes[index], one[index], rtol=1e-5,
                                       atol=1e-5 * np.abs(one[index]).max())
    else:  # each image's output and input gradient are computed alone: the same dot products
        # (the same bits with OpenBLAS's SkylakeX kernel; its Haswell kernel picks its summation
        # order by the GEMM's row count, which a lane's block changes: float32 rounding apart)
        for index in (0, 1, 3):
            np.testing.assert_allclose(lanes[index], one[index], rtol=1e-5,
                                       atol=1e-5 * np.abs(one[index]).max())
    # the weight gradient sums over the batch in another grouping: float32 rounding apart
    np.testing.assert_allclose(lanes[2], one[2], rtol=1e-4, atol=1e-4 * np.abs(one[2]).max())


# (Cin, kernel, stride, dilation, padding): NOTE [One GEMM per image]'s few-row layers
_FEW_ROW_LAYERS = [(3, 3, 1, 1, 1), (1, 3, 2, 1, 0), (3, 3, 2, 2, 2), (1, 5, 1, 1, 2),
                   (2, 4, 1, 1, 1)]


@pytest.mark.parametrize("layer", _FEW_ROW_LAYERS, ids=str)
def test_one_gemm_per_image_in_lanes(layer, monkeypatch):
    from ember.ops import _conv_kernels

    cin, k, stride, dilation, padding = layer
    rng = np.random.default_rng(2)
    x = rng.standard_normal((400, cin, 30, 28)).astype(np.float32)  # (enough work for lanes)
    w = rng.standard_normal((16, cin, k, k)).astype(np.float32)
    geo = _conv_kernels._Geometry((stride,) * 2, (dilation,) * 2, (padding,) * 2,
                                  (padding,) * 2, 1)
    out = tuple((s + 2 * padding - dilation * (k - 1) - 1) // stride + 1 for s in (30, 28))
    gy = rng.standard_normal((400, 16) + out).astype(np.float32)
    taken = []
    real = _conv_kernels._per_image
    monkeypatch.setattr(_conv_kernels, "_per_image", lambda *a: taken.append(real(*a)) or
                        taken[-1])
    with _Threads(2):
        y = _conv_kernels._conv_forward_columns(x, w, geo, out)
        gw = _conv_kernels._conv_weight(x, gy, (k, k), geo)
    assert taken == [True, True]  # (C·∏K ≤ 32, in lanes)
    with _Threads(1):  # no lanes: the blocked GEMMs
        y1 = _conv_kernels._conv_forward_columns(x, w, geo, out)
        gw1 = _conv_kernels._conv_weight(x, gy, (k, k), geo)
    assert taken[2:] == [False, False]
    # each output is one dot product either way (bit for bit with OpenBLAS's SkylakeX kernel;
    # its Haswell kernel's order depends on the row count: float32 rounding apart)
    np.testing.assert_allclose(y, y1, rtol=1e-5, atol=1e-5 * np.abs(y1).max())
    np.testing.assert_allclose(gw, gw1, rtol=1e-4, atol=1e-4 * np.abs(gw1).max())
