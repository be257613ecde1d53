"""Max pooling and unpooling, ember/ops/pool.py (F.max_pool1d/2d/3d, *_with_indices,
F.max_unpool1d/2d/3d), against torch.

A table of max_pool calls drives the generic tests of tests/ops/_nn_tables.py (values, indices,
dtypes, gradients in float64 and float32, ties, finite differences, second derivatives, grad_fn
names); then integer inputs, NaN, unpooling and the errors. The layers (nn.MaxPool2d ...) are
tested in tests/nn/modules/test_pooling.py.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from ember.ops import pool_phases
from tests.differential import assert_same
from tests.ops import _nn_tables as tables

RNG = np.random.default_rng(1)

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
}


test_float64_values_and_grads = tables.forward_backward(RNG, CASES, np.float64, 1e-10)
test_float32_stays_float32 = tables.forward_backward(RNG, CASES, np.float32, 1e-5)
test_ties_send_grad_to_first_max = tables.forward_backward(RNG, CASES, np.float64, 1e-10,
                                                           draw=tables.ties)
test_gradcheck_float64 = tables.gradcheck_float64(RNG, CASES, ["max2d_stride_pad",
                                                               "max2d_overlap"])
test_double_backward_matches_torch = tables.input_double_backward(RNG, CASES, ["max2d_overlap"])
test_grad_fn_names_match_torch = tables.grad_fn_names(
    RNG, CASES, [c for c in CASES if "unbatched" not in c])


@pytest.mark.parametrize("call, shape", [
    (lambda F, x: F.max_pool1d_with_indices(x, 2), (2, 3, 8)),
    (lambda F, x: F.max_pool3d_with_indices(x, 2), (1, 2, 4, 4, 4)),
])
def test_with_indices_aliases(call, shape):
    tables.check_against_torch(RNG, call, [tables.positive(RNG, shape)], 1e-10)


def test_grad_fn_names():
    """max_pool2d's (and avg_pool2d's, tests/ops/test_pool_avg.py) grad_fn name."""
    x = ember.randn(1, 2, 4, 4, requires_grad=True)
    assert EF.max_pool2d(x, 2).grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    assert EF.avg_pool2d(x, 2).grad_fn.name() == "AvgPool2DBackward0"


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


# ---- errors -----------------------------------------------------------------------------------
ERRORS = {
    "too_small": lambda F, lib: F.max_pool2d(lib.ones(1, 4, 5, 5), 7),
    "pad_too_big": lambda F, lib: F.max_pool2d(lib.ones(1, 4, 5, 5), 3, padding=2),
    "rank2d": lambda F, lib: F.max_pool2d(lib.ones(4, 5), 3),
    "rank3d": lambda F, lib: F.max_pool3d(lib.ones(4, 5), 3),
    "rank1d": lambda F, lib: F.max_pool1d(lib.ones(4, 5, 5, 5), 3),
    "max1d_size": lambda F, lib: F.max_pool1d(lib.ones(1, 4, 2), 3),
    "zero_stride": lambda F, lib: F.max_pool2d(lib.ones(1, 1, 4, 4), 2, stride=0),
    "max1d_zero_dilation": lambda F, lib: F.max_pool1d(lib.ones(1, 2, 8), 2, dilation=0),
    "max1d_negative_dilation": lambda F, lib: F.max_pool1d(lib.ones(1, 2, 8), 2, dilation=-1),
    "max1d_zero_stride": lambda F, lib: F.max_pool1d(lib.ones(3, 3, 3), 1, stride=0),
    "max1d_zero_kernel": lambda F, lib: F.max_pool1d(lib.ones(1, 2, 8), 0),
    "max1d_negative_pad": lambda F, lib: F.max_pool1d(lib.ones(1, 2, 8), 2, padding=-1),
    "max2d_zero_dilation": lambda F, lib: F.max_pool2d(lib.ones(1, 2, 8, 8), 2, dilation=(1, 0)),
    "max3d_zero_dilation": lambda F, lib: F.max_pool3d(lib.ones(1, 2, 4, 4, 4), 2, dilation=0),
    "max2d_negative_pad": lambda F, lib: F.max_pool2d(lib.ones(1, 2, 8, 8), 2, padding=-1),
    "unpool_indices_shape": lambda F, lib: F.max_unpool2d(
        lib.ones(1, 1, 4, 4), lib.zeros(1, 1, 4, 3, dtype=lib.int64), 2),
    "unpool1d_indices_shape": lambda F, lib: F.max_unpool1d(
        lib.ones(8, 8), lib.zeros(8, 7, dtype=lib.int64), 3, 2),
}

test_errors_match_torch = tables.errors_match_torch(ERRORS)


# ---- overlapping windows: the gradient sums in torch's order ------------------------------------
@pytest.mark.parametrize("kwargs, shape", [
    ({"kernel_size": 3, "stride": 2, "padding": 1}, (2, 3, 9, 8)),
    ({"kernel_size": 3, "stride": 1}, (2, 2, 6, 7)),
    ({"kernel_size": (3, 2), "stride": (2, 1), "padding": 1, "dilation": (2, 1)}, (1, 2, 7, 6)),
    ({"kernel_size": 3, "stride": 2, "ceil_mode": True}, (2, 2, 8, 7)),
])
@pytest.mark.parametrize("return_indices", [False, True])
@pytest.mark.parametrize("phased", [False, True])
def test_overlapping_gradients_bit_for_bit(kwargs, shape, return_indices, phased, monkeypatch):
    """NOTE [Max pooling's scatter order]: float32 sums of overlapping windows' gradients equal
    torch's bits (ties and NaN included), with or without indices, on strided views or on the
    phases of NOTE [Pooling by phases] (taken from any size here)."""
    monkeypatch.setattr(pool_phases, "_PHASED_FROM", 0 if phased else 1 << 40)
    array = RNG.integers(-2, 3, shape).astype(np.float32)
    array[RNG.random(shape) < 0.1] = np.nan
    out_shape = tuple(TF.max_pool2d(torch.tensor(array), **kwargs).shape)
    g = RNG.standard_normal(out_shape).astype(np.float32)
    results = []
    for lib, F in ((ember, EF), (torch, TF)):
        x = lib.tensor(array, requires_grad=True)
        y = F.max_pool2d(x, return_indices=return_indices, **kwargs)
        y = y[0] if return_indices else y
        y.backward(lib.tensor(g))
        results.append((y.detach().numpy(), x.grad.numpy()))
    for e, t in zip(*results):
        np.testing.assert_array_equal(e, t)
        np.testing.assert_array_equal(np.signbit(e), np.signbit(t))


@pytest.mark.parametrize("kwargs", [{"kernel_size": 3, "stride": 2, "padding": 1},
                                    {"kernel_size": 2, "stride": 2, "ceil_mode": True},
                                    {"kernel_size": 3, "stride": 2, "padding": 1,
                                     "ceil_mode": True}])
def test_windows_of_padding_values_pick_inside_the_input(kwargs):
    """A window whose elements all equal the padding value (-inf, or an integer minimum) keeps
    its first position inside the input, as torch's scan does: never a padding position."""
    for array in (np.full((1, 2, 5, 4), -np.inf), np.full((1, 2, 5, 4), np.iinfo(np.int64).min)):
        array[0, 1, 1, 1] = 3
        float_input = array.dtype.kind == "f"
        results = []
        for lib, F in ((ember, EF), (torch, TF)):
            x = lib.tensor(array, requires_grad=float_input)
            y, idx = F.max_pool2d(x, return_indices=True, **kwargs)
            out = [y.detach().numpy(), idx.numpy()]
            if float_input:
                y.backward(lib.ones_like(y))
                out.append(x.grad.numpy())
            results.append(out)
        for e, t in zip(*results):
            np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize("nd, kwargs", [
    (1, {"kernel_size": 3, "stride": 2, "padding": 1}),
    (2, {"kernel_size": (3, 2), "stride": (3, 2), "padding": (1, 0), "dilation": (2, 1)}),
    (2, {"kernel_size": 2, "stride": (1, 2), "ceil_mode": True}),
    (3, {"kernel_size": 2, "stride": 2, "padding": 1}),
])
def test_pooling_by_phases_is_pooling_on_strided_views(nd, kwargs, monkeypatch):
    """NOTE [Pooling by phases]: the phases give the strided views' maxima, indices and
    gradients bit for bit (1-3 dims, strides that differ per dim, dilation, ceil_mode)."""
    shape = (2, 3) + (9, 8, 7)[:nd]
    array = RNG.integers(-3, 4, shape).astype(np.float32)
    array[RNG.random(shape) < 0.05] = np.nan
    pool = getattr(EF, f"max_pool{nd}d")
    out_shape = tuple(pool(ember.tensor(array), **kwargs).shape)
    g = ember.tensor(RNG.standard_normal(out_shape).astype(np.float32))
    results = []
    for threshold in (0, 1 << 40):
        monkeypatch.setattr(pool_phases, "_PHASED_FROM", threshold)
        x = ember.tensor(array, requires_grad=True)
        y, idx = pool(x, return_indices=True, **kwargs)
        y.backward(g)
        results.append((y.detach().numpy(), idx.numpy(), x.grad.numpy()))
    (y0, i0, g0), (y1, i1, g1) = results
    np.testing.assert_array_equal(y0, y1)
    np.testing.assert_array_equal(i0, i1)
    np.testing.assert_array_equal(g0.view(np.uint32), g1.view(np.uint32))
