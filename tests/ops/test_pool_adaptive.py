"""Adaptive pooling, ember/ops/pool_adaptive.py (F.adaptive_avg_pool1d/2d/3d,
F.adaptive_max_pool1d/2d, *_with_indices), against torch.

A table of adaptive pooling calls drives the generic tests of tests/ops/_nn_tables.py (values,
indices, dtypes, gradients in float64 and float32, ties, finite differences, second derivatives,
grad_fn names); then the errors. The layers (nn.AdaptiveAvgPool2d ...) are tested in
tests/nn/modules/test_pooling.py.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF

from tests.ops import _nn_tables as tables

RNG = np.random.default_rng(1)

# id -> (call(F, x), input shape)
CASES = {
    "adaptive_avg2d": (lambda F, x: F.adaptive_avg_pool2d(x, (3, 4)), (2, 3, 7, 6)),
    "adaptive_avg2d_1": (lambda F, x: F.adaptive_avg_pool2d(x, 1), (2, 3, 5, 4)),
    "adaptive_avg2d_none": (lambda F, x: F.adaptive_avg_pool2d(x, (None, 2)), (2, 3, 5, 5)),
    "adaptive_avg2d_up": (lambda F, x: F.adaptive_avg_pool2d(x, (5, 7)), (1, 2, 3, 4)),
    "adaptive_avg1d": (lambda F, x: F.adaptive_avg_pool1d(x, 4), (3, 10)),
    "adaptive_avg1d_1": (lambda F, x: F.adaptive_avg_pool1d(x, 1), (3, 10)),
    "adaptive_avg3d_1": (lambda F, x: F.adaptive_avg_pool3d(x, 1), (2, 3, 4, 3, 2)),
    "adaptive_avg3d": (lambda F, x: F.adaptive_avg_pool3d(x, (2, 3, 4)), (1, 2, 5, 6, 7)),
    "adaptive_max2d": (lambda F, x: F.adaptive_max_pool2d(x, (3, 4), return_indices=True),
                       (2, 3, 7, 6)),
    "adaptive_max2d_unbatched": (lambda F, x: F.adaptive_max_pool2d(x, 2), (3, 5, 5)),
    "adaptive_max1d": (lambda F, x: F.adaptive_max_pool1d(x, 4, return_indices=True),
                       (2, 3, 10)),
}

test_float64_values_and_grads = tables.forward_backward(RNG, CASES, np.float64, 1e-10)
test_float32_stays_float32 = tables.forward_backward(RNG, CASES, np.float32, 1e-5)
test_ties_send_grad_to_first_max = tables.forward_backward(RNG, CASES, np.float64, 1e-10,
                                                           draw=tables.ties)
test_gradcheck_float64 = tables.gradcheck_float64(RNG, CASES, ["adaptive_avg2d",
                                                               "adaptive_avg2d_1",
                                                               "adaptive_max2d"])
test_double_backward_matches_torch = tables.input_double_backward(
    RNG, CASES, ["adaptive_avg2d", "adaptive_avg2d_1", "adaptive_max2d"])
test_grad_fn_names_match_torch = tables.grad_fn_names(
    RNG, CASES, [c for c in CASES if "unbatched" not in c])


@pytest.mark.parametrize("call, shape", [
    (lambda F, x: F.adaptive_max_pool2d_with_indices(x, 3), (2, 3, 7, 6)),
])
def test_with_indices_alias(call, shape):
    tables.check_against_torch(RNG, call, [tables.positive(RNG, shape)], 1e-10)


ERRORS = {
    "adaptive_rank": lambda F, lib: F.adaptive_avg_pool2d(lib.ones(5), 3),
    "adaptive_max_rank": lambda F, lib: F.adaptive_max_pool2d(lib.ones(5), 3),
    # an output_size of the wrong length (each function words it its own way)
    "avg1d_size_length": lambda F, lib: F.adaptive_avg_pool1d(lib.ones(1, 2, 8), (2, 2)),
    "max1d_size_length": lambda F, lib: F.adaptive_max_pool1d(lib.ones(1, 2, 8), ()),
    "avg2d_size_length": lambda F, lib: F.adaptive_avg_pool2d(lib.ones(1, 2, 8, 8), (2, 2, 2)),
    "max2d_size_length": lambda F, lib: F.adaptive_max_pool2d(lib.ones(1, 2, 8, 8), (2, 2, 2)),
    "avg3d_size_length": lambda F, lib: F.adaptive_avg_pool3d(lib.ones(1, 2, 4, 4, 4), (2, 2)),
    "max3d_size_length": lambda F, lib: F.adaptive_max_pool3d(lib.ones(1, 2, 4, 4, 4), (2, 2)),
    "avg2d_size_longer_than_input": lambda F, lib: F.adaptive_avg_pool2d(lib.ones(2, 2), (2, 2)),
    "max3d_size_longer_than_input": lambda F, lib: F.adaptive_max_pool3d(
        lib.ones(2, 2, 2), (2, 2, 2)),
    "avg3d_negative_size": lambda F, lib: F.adaptive_avg_pool3d(
        lib.ones(1, 2, 4, 4, 4), (-1, 2, 2)),
}


@pytest.mark.parametrize("call, shape", [
    (lambda F, x: F.adaptive_avg_pool1d(x, 0), (1, 2, 8)),
    (lambda F, x: F.adaptive_avg_pool2d(x, (0, 3)), (1, 2, 8, 8)),
    (lambda F, x: F.adaptive_max_pool1d(x, 0), (1, 2, 8)),
    (lambda F, x: F.adaptive_max_pool2d(x, (None, 0)), (1, 2, 8, 8)),
])
def test_empty_output_size(call, shape):
    """An output size of 0 gives an empty result, as in PyTorch."""
    ye, yt = call(EF, ember.ones(*shape)), call(TF, torch.ones(*shape))
    assert tuple(ye.shape) == tuple(yt.shape) and ye.numel() == 0


@pytest.mark.parametrize("call, shape", [
    (lambda F, x: F.adaptive_avg_pool1d(x, 3), (2, 0, 5)),
    (lambda F, x: F.adaptive_avg_pool1d(x, 3), (0, 5)),
    (lambda F, x: F.adaptive_avg_pool2d(x, (2, 2)), (1, 0, 5, 7)),
    (lambda F, x: F.adaptive_avg_pool2d(x, (2, 0)), (0, 5, 7)),
])
def test_no_channels(call, shape):
    """PyTorch's 1-d and 2-d adaptive average pools accept an input without channels."""
    ye, yt = call(EF, ember.ones(*shape)), call(TF, torch.ones(*shape))
    assert tuple(ye.shape) == tuple(yt.shape) and ye.numel() == 0


def test_no_channels_3d_raises_as_torch():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError):
            lib.nn.functional.adaptive_avg_pool3d(lib.ones(1, 0, 5, 4, 3), 2)


def test_global_average_of_infinities_as_torch():
    """One window per plane (a sum, not matrix products): ±inf and NaN give torch's means."""
    x = RNG.standard_normal((2, 3, 4, 4)).astype(np.float32)
    x[0, 0, 1, 1], x[0, 1, 2, 2], x[0, 1, 3, 3], x[1, 2, 0, 0] = np.inf, np.inf, -np.inf, np.nan
    tables.check_against_torch(RNG, lambda F, t: F.adaptive_avg_pool2d(t, 1), [x], 1e-6)


ADAPTIVE_MAX_CASES = [((2, 3, 17), (5,)), ((2, 3, 11, 13), (5, 4)), ((2, 3, 32, 32), (5, 5)),
                      ((1, 2, 6, 6), (1, 1)), ((2, 3, 7, 9, 10), (3, 4, 6))]


@pytest.mark.parametrize("values", ["random", "ties", "nan"])
@pytest.mark.parametrize("case", ADAPTIVE_MAX_CASES, ids=str)
def test_adaptive_max_picks_torchs_element(case, values):
    """Values, indices and gradients as torch: the first maximum of each uneven window, the
    last NaN where there are NaNs (NOTE [Adaptive windows by gather])."""
    shape, out = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    if values == "ties":
        x = np.round(x).astype(np.float32)
    if values == "nan":
        x[rng.random(shape) < 0.05] = np.nan
    name = f"adaptive_max_pool{len(out)}d"
    results = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y, index = getattr(lib.nn.functional, name)(t, out, return_indices=True)
        y.sum().backward()
        results.append((y.detach().numpy(), index.numpy(), t.grad.numpy()))
    (ey, ei, eg), (ty, ti, tg) = results
    np.testing.assert_array_equal(ey, ty)
    np.testing.assert_array_equal(ei, ti)
    np.testing.assert_array_equal(eg, tg)
