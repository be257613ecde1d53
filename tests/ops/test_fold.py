"""unfold / fold, ember/ops/fold.py (F.unfold, F.fold), against torch.

A table of calls drives the generic tests of tests/ops/_nn_tables.py: values, gradients,
float32 staying float32, float64 finite differences, grad_fn names; then the errors. The layers
(nn.Unfold, nn.Fold) are tested in tests/nn/modules/test_fold.py.
"""

import numpy as np

from tests.ops import _nn_tables as tables

RNG = np.random.default_rng(0)

# id -> (call(F, x), input shape)
CASES = {
    "unfold": (lambda F, x: F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
               [(2, 3, 6, 7)]),
    "unfold_unbatched": (lambda F, x: F.unfold(x, 2), [(2, 4, 3)]),
    "fold": (lambda F, x: F.fold(x, (5, 6), (2, 3), padding=1, stride=(2, 1)), [(2, 12, 18)]),
    "fold_overlap": (lambda F, x: F.fold(x, 4, 2, dilation=1), [(1, 8, 9)]),
}

test_float64_values_and_grads = tables.forward_backward(RNG, CASES, np.float64, 1e-9)
test_float32_stays_float32 = tables.forward_backward(RNG, CASES, np.float32, 2e-4)
test_gradcheck_float64 = tables.gradcheck_float64(RNG, CASES, ["unfold", "fold"],
                                                  tables.batch_one_shapes(keep=("unfold",
                                                                                "fold")))
test_grad_fn_names_match_torch = tables.grad_fn_names(
    RNG, CASES, [c for c in CASES if c != "unfold_unbatched"])

ERRORS = {
    "fold_blocks": lambda F, lib: F.fold(lib.ones(1, 12, 10), (5, 6), (2, 3)),
}

test_errors_match_torch = tables.errors_match_torch(ERRORS)
