"""Pooling (ember/ops/pool.py, ember/nn/modules/pooling.py) against torch.

A table of max / avg / adaptive pooling calls drives the generic tests (values, indices, dtypes,
gradients in float64 and float32, finite differences, second derivatives); then PyTorch's
conventions at ties, the seed's ceil_mode example, unpooling, errors and the layers' reprs.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from ember import nn
from tests.differential import assert_same, assert_same_error

RNG = np.random.default_rng(1)


def _run(call, lib, array, requires_grad=True):
    x = lib.tensor(array.copy(), requires_grad=requires_grad)
    return call(EF if lib is ember else TF, x), x


def check_against_torch(call, array, tol):
    """Same input into ember and torch: output (and indices), then the input's gradient."""
    ye, xe = _run(call, ember, array)
    yt, xt = _run(call, torch, array)
    if isinstance(yt, tuple):
        assert ye[1].dtype == ember.int64
        assert ye[1].tolist() == yt[1].tolist()
        ye, yt = ye[0], yt[0]
    assert_same(ye, yt, tol, tol)
    g = RNG.standard_normal(tuple(yt.shape)).astype(array.dtype)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    assert_same(xe.grad, xt.grad, tol, tol)


# id -> (call(F, x), input shape)
CASES = {
    "max2d": (lambda F, x: F.max_pool2d(x, 2), (2, 3, 6, 6)),
    "max2d_stride_pad": (lambda F, x: F.max_pool2d(x, 3, stride=2, padding=1), (2, 3, 7, 6)),
    "max2d_ceil": (lambda F, x: F.max_pool2d(x, 3, stride=2, ceil_mode=True), (2, 2, 8, 7)),
    "max2d_ceil_pad": (lambda F, x: F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
                       (1, 2, 6, 6)),
    "max2d_dilation": (lambda F, x: F.max_pool2d(x, (3, 2), stride=(2, 1), padding=1,
                                                 dilation=(2, 1), return_indices=True),
                       (2, 3, 7, 6)),
    "max2d_indices": (lambda F, x: F.max_pool2d(x, 2, return_indices=True), (2, 2, 5, 4)),
    "max2d_overlap": (lambda F, x: F.max_pool2d(x, 3, stride=1, return_indices=True),
                      (1, 2, 5, 5)),
    "max2d_unbatched": (lambda F, x: F.max_pool2d(x, 2, return_indices=True), (3, 4, 6)),
    "max2d_with_indices": (lambda F, x: F.max_pool2d_with_indices(x, 2, 1), (1, 2, 4, 4)),
    "max1d": (lambda F, x: F.max_pool1d(x, 3, stride=2, ceil_mode=True, return_indices=True),
              (2, 3, 9)),
    "max1d_unbatched": (lambda F, x: F.max_pool1d(x, 2, padding=1), (3, 7)),
    "max3d": (lambda F, x: F.max_pool3d(x, 2, stride=(1, 2, 3), padding=1,
                                        return_indices=True), (2, 2, 5, 6, 7)),
    "avg2d": (lambda F, x: F.avg_pool2d(x, 2), (2, 3, 6, 6)),
    "avg2d_pad_ceil": (lambda F, x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
                       (2, 3, 7, 6)),
    "avg2d_exclude_pad": (lambda F, x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                                    count_include_pad=False), (2, 3, 7, 6)),
    "avg2d_divisor": (lambda F, x: F.avg_pool2d(x, (3, 2), stride=(2, 3), padding=1,
                                                divisor_override=5), (2, 3, 7, 6)),
    "avg2d_overlap": (lambda F, x: F.avg_pool2d(x, 3, stride=1), (1, 2, 5, 6)),
    "avg2d_unbatched": (lambda F, x: F.avg_pool2d(x, 2, ceil_mode=True), (2, 5, 5)),
    "avg1d": (lambda F, x: F.avg_pool1d(x, 4, stride=3, padding=2, ceil_mode=True,
                                        count_include_pad=False), (3, 8)),
    "avg3d": (lambda F, x: F.avg_pool3d(x, 2, stride=(1, 2, 3), padding=1), (2, 2, 5, 6, 7)),
    "adaptive_avg2d": (lambda F, x: F.adaptive_avg_pool2d(x, (3, 4)), (2, 3, 7, 6)),
    "adaptive_avg2d_1": (lambda F, x: F.adaptive_avg_pool2d(x, 1), (2, 3, 5, 4)),
    "adaptive_avg2d_none": (lambda F, x: F.adaptive_avg_pool2d(x, (None, 2)), (2, 3, 5, 5)),
    "adaptive_avg2d_up": (lambda F, x: F.adaptive_avg_pool2d(x, (5, 7)), (1, 2, 3, 4)),
    "adaptive_avg1d": (lambda F, x: F.adaptive_avg_pool1d(x, 4), (3, 10)),
    "adaptive_avg3d": (lambda F, x: F.adaptive_avg_pool3d(x, (2, 3, 4)), (1, 2, 5, 6, 7)),
    "adaptive_max2d": (lambda F, x: F.adaptive_max_pool2d(x, (3, 4), return_indices=True),
                       (2, 3, 7, 6)),
    "adaptive_max2d_unbatched": (lambda F, x: F.adaptive_max_pool2d(x, 2), (3, 5, 5)),
    "adaptive_max1d": (lambda F, x: F.adaptive_max_pool1d(x, 4, return_indices=True),
                       (2, 3, 10)),
}


@pytest.mark.parametrize("case", CASES)
def test_float64_values_and_grads(case):
    call, shape = CASES[case]
    check_against_torch(call, RNG.standard_normal(shape), 1e-10)


@pytest.mark.parametrize("case", CASES)
def test_float32_stays_float32(case):
    call, shape = CASES[case]
    check_against_torch(call, RNG.standard_normal(shape).astype(np.float32), 1e-5)


@pytest.mark.parametrize("case", CASES)
def test_ties_send_grad_to_first_max(case):
    """Small integer values make many ties: the gradient must land where torch puts it."""
    call, shape = CASES[case]
    check_against_torch(call, RNG.integers(0, 3, shape).astype(np.float64), 1e-10)


@pytest.mark.parametrize("case", ["max2d_stride_pad", "max2d_overlap", "avg2d_exclude_pad",
                                  "avg2d_divisor", "adaptive_avg2d", "adaptive_max2d", "avg1d"])
def test_gradcheck_float64(case):
    call, shape = CASES[case]
    x = ember.tensor(RNG.standard_normal(shape), requires_grad=True)

    def values(t):
        y = call(EF, t)
        return y[0] if isinstance(y, tuple) else y

    assert ember.autograd.gradcheck(values, [x])


@pytest.mark.parametrize("case", ["max2d_overlap", "avg2d_pad_ceil", "adaptive_avg2d",
                                  "adaptive_max2d"])
def test_double_backward_matches_torch(case):
    call, shape = CASES[case]
    array = RNG.standard_normal(shape)
    results = []
    for lib in (ember, torch):
        y, x = _run(call, lib, array)
        y = y[0] if isinstance(y, tuple) else y
        (gx,) = lib.autograd.grad((y * y).sum(), [x], create_graph=True)
        v = lib.tensor(np.sin(np.arange(int(np.prod(shape)))).reshape(shape))
        results.append(lib.autograd.grad((gx * v).sum(), [x])[0])
    assert_same(results[0], results[1], 1e-10, 1e-10)


def test_integer_max_pool():
    x = RNG.integers(0, 9, (1, 2, 5, 5))
    ye, ie = EF.max_pool2d(ember.tensor(x), 2, return_indices=True)
    yt, it = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    assert ye.dtype == ember.int64 and ye.tolist() == yt.tolist() and ie.tolist() == it.tolist()


def test_nan_propagates_like_torch():
    x = RNG.standard_normal((1, 1, 4, 4))
    x[0, 0, 1, 2] = np.nan
    ye, ie = EF.max_pool2d(ember.tensor(x), 2, return_indices=True)
    yt, it = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(ye.numpy(), yt.numpy())
    assert ie.tolist() == it.tolist()


# ---- the seed's examples ----------------------------------------------------------------------
def test_seed_000_maxpool_ceil_mode():
    data = [[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]]
    x = ember.reshape(ember.tensor(data, dtype=ember.float32), (-1, 1, 5, 5))
    y = nn.MaxPool2d(kernel_size=3, ceil_mode=True)(x)
    assert y.tolist() == [[[[2.0, 3.0], [5.0, 1.0]]]]
    assert repr(y) == "tensor([[[[2., 3.],\n          [5., 1.]]]])"
    y = nn.MaxPool2d(kernel_size=3, ceil_mode=False)(x)
    assert y.tolist() == [[[[2.0]]]]


def test_seed_002_pool_shapes():
    x = ember.randn(1, 1, 4, 4)
    assert tuple(nn.MaxPool2d(kernel_size=2, stride=2)(x).shape) == (1, 1, 2, 2)
    assert tuple(nn.AvgPool2d(kernel_size=2, stride=2)(x).shape) == (1, 1, 2, 2)
    assert tuple(nn.AdaptiveAvgPool2d((1, 1))(ember.randn(2, 16, 8, 8)).shape) == (2, 16, 1, 1)


# ---- unpooling --------------------------------------------------------------------------------
@pytest.mark.parametrize("nd, shape, kwargs, output_size", [
    (2, (2, 3, 6, 6), {"kernel_size": 2}, None),
    (2, (1, 2, 7, 7), {"kernel_size": 2}, (7, 7)),
    (2, (1, 2, 7, 7), {"kernel_size": 3, "stride": 2, "padding": 1}, None),
    (1, (2, 3, 8), {"kernel_size": 2}, None),
    (1, (2, 9), {"kernel_size": 3, "stride": 3}, [1, 2, 9]),
])
def test_max_unpool_matches_torch(nd, shape, kwargs, output_size):
    array = RNG.standard_normal(shape)
    results = []
    for lib, F in ((ember, EF), (torch, TF)):
        x = lib.tensor(array, requires_grad=True)
        y, idx = getattr(F, f"max_pool{nd}d")(x, return_indices=True, **kwargs)
        z = getattr(F, f"max_unpool{nd}d")(y, idx, output_size=output_size, **kwargs)
        (z * lib.tensor(np.arange(float(z.numel())).reshape(tuple(z.shape)))).sum().backward()
        results.append((z, x.grad))
    for e, t in zip(*results):
        assert_same(e, t, 1e-12, 1e-12)


def test_max_unpool_layer_and_invalid_index():
    pool, unpool = nn.MaxPool2d(2, stride=2, return_indices=True), nn.MaxUnpool2d(2, stride=2)
    x = ember.tensor([[[[1.0, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]])
    y, idx = pool(x)
    assert unpool(y, idx).tolist() == [[[[0.0, 0, 0, 0], [0, 6, 0, 8], [0, 0, 0, 0],
                                         [0, 14, 0, 16]]]]
    with pytest.raises(RuntimeError) as expected:
        TF.max_unpool2d(torch.ones(1, 1, 2, 2), torch.tensor([[[[0, 1], [2, 30]]]]), 2)
    with pytest.raises(RuntimeError) as got:
        EF.max_unpool2d(ember.ones(1, 1, 2, 2), ember.tensor([[[[0, 1], [2, 30]]]]), 2)
    assert str(got.value) == str(expected.value)


# ---- errors -----------------------------------------------------------------------------------
ERRORS = {
    "too_small": lambda F, lib: F.max_pool2d(lib.ones(1, 4, 5, 5), 7),
    "pad_too_big": lambda F, lib: F.max_pool2d(lib.ones(1, 4, 5, 5), 3, padding=2),
    "avg_pad_too_big": lambda F, lib: F.avg_pool2d(lib.ones(1, 4, 5, 5), 3, padding=2),
    "rank2d": lambda F, lib: F.max_pool2d(lib.ones(4, 5), 3),
    "rank3d": lambda F, lib: F.max_pool3d(lib.ones(4, 5), 3),
    "rank1d": lambda F, lib: F.max_pool1d(lib.ones(4, 5, 5, 5), 3),
    "avg_rank1d": lambda F, lib: F.avg_pool1d(lib.ones(4, 5, 5, 5), 3),
    "avg_rank2d_low": lambda F, lib: F.avg_pool2d(lib.ones(4, 5), 3),
    "avg_rank2d_high": lambda F, lib: F.avg_pool2d(lib.ones(1, 1, 1, 4, 5), 3),
    "avg_empty_channels": lambda F, lib: F.avg_pool2d(lib.ones(1, 0, 4, 4), 2),
    "avg_rank3d": lambda F, lib: F.avg_pool3d(lib.ones(4, 5, 5), 3),
    "max1d_size": lambda F, lib: F.max_pool1d(lib.ones(1, 4, 2), 3),
    "avg_too_small": lambda F, lib: F.avg_pool2d(lib.ones(1, 4, 2, 2), 3),
    "zero_stride": lambda F, lib: F.max_pool2d(lib.ones(1, 1, 4, 4), 2, stride=0),
    "adaptive_rank": lambda F, lib: F.adaptive_avg_pool2d(lib.ones(5), 3),
    "adaptive_max_rank": lambda F, lib: F.adaptive_max_pool2d(lib.ones(5), 3),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_match_torch(case):
    assert_same_error((lambda: ERRORS[case](EF, ember), lambda: ERRORS[case](TF, torch)),
                      same_message=True)


# ---- layers -----------------------------------------------------------------------------------
LAYERS = [
    ("MaxPool2d", (3,), {"ceil_mode": True}),
    ("MaxPool2d", (2,), {"stride": 2}),
    ("MaxPool2d", ((3, 2),), {"stride": 1, "padding": 1, "dilation": (1, 2)}),
    ("MaxPool1d", (2,), {}),
    ("MaxPool3d", ((1, 2, 2),), {"return_indices": True}),
    ("AvgPool2d", (8,), {}),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
    ("AvgPool2d", (2,), {"ceil_mode": True, "divisor_override": 3}),
    ("AvgPool1d", (3,), {}),
    ("AvgPool1d", (4,), {"stride": 2, "padding": 1}),
    ("AvgPool3d", (2,), {"divisor_override": 3}),
    ("AdaptiveAvgPool2d", ((1, 1),), {}),
    ("AdaptiveAvgPool2d", (3,), {}),
    ("AdaptiveAvgPool1d", (3,), {}),
    ("AdaptiveAvgPool3d", ((2, None, 3),), {}),
    ("AdaptiveMaxPool2d", (2,), {"return_indices": True}),
    ("AdaptiveMaxPool1d", (3,), {}),
    ("MaxUnpool2d", (2,), {}),
    ("MaxUnpool1d", (2,), {"stride": 1}),
]


@pytest.mark.parametrize("name, args, kwargs", LAYERS)
def test_layer_repr_and_forward(name, args, kwargs):
    em, tm = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(em) == repr(tm)
    if name.startswith("MaxUnpool"):
        return
    nd = 1 if name.endswith("1d") else 3 if name.endswith("3d") else 2
    x = RNG.standard_normal((2, 3) + (9,) * nd).astype(np.float32)
    ye, yt = em(ember.tensor(x)), tm(torch.tensor(x))
    if isinstance(yt, tuple):
        assert ye[1].tolist() == yt[1].tolist()
        ye, yt = ye[0], yt[0]
    assert_same(ye, yt, 1e-5, 1e-5)


def test_layer_grad_fn_names():
    x = ember.randn(1, 2, 4, 4, requires_grad=True)
    assert EF.max_pool2d(x, 2).grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    assert EF.avg_pool2d(x, 2).grad_fn.name() == "AvgPool2DBackward0"


# ---- power-average pooling and the *_with_indices aliases ------------------------------------
@pytest.mark.parametrize("call, shape", [
    (lambda F, x: F.lp_pool2d(x, 2, 3), (2, 3, 7, 6)),
    (lambda F, x: F.lp_pool2d(x, 1.5, (2, 3), stride=1, ceil_mode=True), (1, 2, 5, 6)),
    (lambda F, x: F.lp_pool1d(x, 3, 2), (2, 3, 8)),
    (lambda F, x: F.max_pool1d_with_indices(x, 2), (2, 3, 8)),
    (lambda F, x: F.max_pool3d_with_indices(x, 2), (1, 2, 4, 4, 4)),
    (lambda F, x: F.adaptive_max_pool2d_with_indices(x, 3), (2, 3, 7, 6)),
])
def test_lp_pool_and_aliases(call, shape):
    check_against_torch(call, np.abs(RNG.standard_normal(shape)) + 0.1, 1e-10)


@pytest.mark.parametrize("args", [(2, 3), (1.5, (2, 3), 1, True)])
def test_lp_pool_layers(args):
    em, tm = nn.LPPool2d(*args), torch.nn.LPPool2d(*args)
    assert repr(em) == repr(tm)
    x = np.abs(RNG.standard_normal((2, 3, 7, 6))).astype(np.float32)
    assert_same(em(ember.tensor(x)), tm(torch.tensor(x)), 1e-5, 1e-5)


@pytest.mark.parametrize("case", [c for c in CASES if "unbatched" not in c])
def test_grad_fn_names_match_torch(case):
    call, shape = CASES[case]
    ye, _ = _run(call, ember, RNG.standard_normal(shape))
    yt, _ = _run(call, torch, RNG.standard_normal(shape))
    ye, yt = (ye[0], yt[0]) if isinstance(yt, tuple) else (ye, yt)
    assert ye.grad_fn.name() == yt.grad_fn.name()
