"""softmax and log_softmax (ember/ops/softmax.py) against torch.

A table of calls drives the generic tests (tests/ops/_tables.py), as in test_reduction.py: values,
dtypes, grad_fn names, gradients, 0-d and empty inputs, finite differences, second derivatives,
integer inputs and errors.
"""

import numpy as np

from tests.ops import _tables

RNG = np.random.default_rng(0)

# ---- the table ---------------------------------------------------------------------------------
# id -> (call, input kind, shape). `call(lib, x)` must mean the same thing in ember and torch.
CASES = {
    "softmax": (lambda m, x: x.softmax(1), "randn", (3, 4)),
    "softmax_neg": (lambda m, x: m.softmax(x, -3), "randn", (2, 3, 4)),
    "softmax_large": (lambda m, x: m.softmax(x * 1000, 0), "randn", (3, 4)),
    "softmax_dtype": (lambda m, x: m.softmax(x, 1, dtype=m.float64), "randn", (3, 4)),
    "log_softmax": (lambda m, x: x.log_softmax(1), "randn", (3, 4)),
    "log_softmax_large": (lambda m, x: m.log_softmax(x * 1000, 0), "randn", (3, 4)),
    # on 0-d inputs
    "softmax_0d": (lambda m, x: x.softmax(0), "randn", ()),
    "log_softmax_0d": (lambda m, x: m.log_softmax(x, -1), "randn", ()),
}
ZERO_DIM = ["softmax_0d", "log_softmax_0d"]
EMPTY = {"softmax": (0, 3), "log_softmax": (2, 0)}

test_forward = _tables.reduction_forward(RNG, CASES)
test_backward = _tables.reduction_backward(RNG, CASES)
test_zero_dim = _tables.reduction_zero_dim(RNG, CASES, ZERO_DIM)
test_empty = _tables.reduction_empty(RNG, CASES, EMPTY)

# ---- finite differences and second derivatives -------------------------------------------------
test_gradcheck_float64 = _tables.reduction_gradcheck(RNG, CASES, ["softmax_neg", "log_softmax"])
test_double_backward = _tables.reduction_double_backward(RNG, CASES, ["softmax", "log_softmax"])

# ---- dtype rules -------------------------------------------------------------------------------
test_integer_and_bool_dtypes = _tables.reduction_integer_dtypes(RNG, [
    lambda m, x: x.softmax(0, dtype=m.float64),
])

# ---- errors ------------------------------------------------------------------------------------
test_errors_match_torch = _tables.reduction_errors([
    (lambda m, x: x.softmax(0), (3,), np.int64),
    (lambda m, x: x.softmax(-3), (2, 3), np.float32),
])
