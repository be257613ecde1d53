"""Average and power-average pooling, ember/ops/pool_avg.py (F.avg_pool1d/2d/3d,
F.lp_pool1d/2d), against torch.

A table of avg_pool calls drives the generic tests of tests/ops/_nn_tables.py (values, dtypes,
gradients in float64 and float32, ties, finite differences, second derivatives, grad_fn names);
then lp_pool and the errors. The layers (nn.AvgPool2d, nn.LPPool2d ...) are tested in
tests/nn/modules/test_pooling.py.
"""

import numpy as np
import pytest

from tests.ops import _nn_tables as tables

RNG = np.random.default_rng(1)

# id -> (call(F, x), input shape)
CASES = {
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
}

test_float64_values_and_grads = tables.forward_backward(RNG, CASES, np.float64, 1e-10)
test_float32_stays_float32 = tables.forward_backward(RNG, CASES, np.float32, 1e-5)
test_ties_send_grad_to_first_max = tables.forward_backward(RNG, CASES, np.float64, 1e-10,
                                                           draw=tables.ties)
test_gradcheck_float64 = tables.gradcheck_float64(RNG, CASES, ["avg2d_exclude_pad",
                                                               "avg2d_divisor", "avg1d"])
test_double_backward_matches_torch = tables.input_double_backward(RNG, CASES,
                                                                  ["avg2d_pad_ceil"])
test_grad_fn_names_match_torch = tables.grad_fn_names(
    RNG, CASES, [c for c in CASES if "unbatched" not in c])


@pytest.mark.parametrize("call, shape", [
    (lambda F, x: F.lp_pool2d(x, 2, 3), (2, 3, 7, 6)),
    (lambda F, x: F.lp_pool2d(x, 1.5, (2, 3), stride=1, ceil_mode=True), (1, 2, 5, 6)),
    (lambda F, x: F.lp_pool1d(x, 3, 2), (2, 3, 8)),
])
def test_lp_pool(call, shape):
    tables.check_against_torch(RNG, call, [tables.positive(RNG, shape)], 1e-10)


ERRORS = {
    "avg_pad_too_big": lambda F, lib: F.avg_pool2d(lib.ones(1, 4, 5, 5), 3, padding=2),
    "avg_rank1d": lambda F, lib: F.avg_pool1d(lib.ones(4, 5, 5, 5), 3),
    "avg_rank2d_low": lambda F, lib: F.avg_pool2d(lib.ones(4, 5), 3),
    "avg_rank2d_high": lambda F, lib: F.avg_pool2d(lib.ones(1, 1, 1, 4, 5), 3),
    "avg_empty_channels": lambda F, lib: F.avg_pool2d(lib.ones(1, 0, 4, 4), 2),
    "avg_rank3d": lambda F, lib: F.avg_pool3d(lib.ones(4, 5, 5), 3),
    "avg_too_small": lambda F, lib: F.avg_pool2d(lib.ones(1, 4, 2, 2), 3),
}

test_errors_match_torch = tables.errors_match_torch(ERRORS)
