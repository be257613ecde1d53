"""tile, repeat_interleave, block_diag and rot90 (ember/ops/tiling.py) against torch.

One table of cases drives the generic shape tests (tests/ops/_tables.py): values/dtypes/shapes,
grad_fn names, memory sharing (all are copies), gradients, float64 finite differences and double
backward. Then repeat_interleave's index form and output_size, block_diag's dtype rules, and the
errors for bad inputs.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same
from tests.ops import _tables

RNG = np.random.default_rng(0)
TOL = _tables.SHAPE_TOL


# id -> (expression on a module `m` and tensor `x`, input shape, view?)
CASES = {
    "tile": (lambda m, x: x.tile((2, 1)), (2, 3), False),
    "tile_short": (lambda m, x: m.tile(x, (2,)), (2, 3), False),
    "tile_long": (lambda m, x: x.tile((2, 1, 2)), (2, 3), False),
    "tile_0d": (lambda m, x: m.tile(x, (3,)), (), False),
    "repeat_interleave": (lambda m, x: x.repeat_interleave(2), (2, 3), False),
    "repeat_interleave_dim": (lambda m, x: m.repeat_interleave(x, 3, dim=1), (2, 3), False),
    "repeat_interleave_neg_dim": (lambda m, x: x.repeat_interleave(2, -2), (2, 3), False),
    "repeat_interleave_tensor": (lambda m, x: x.repeat_interleave(m.tensor([1, 0, 2]), dim=1),
                                 (2, 3), False),
    "repeat_interleave_one": (lambda m, x: x.repeat_interleave(m.tensor([2]), dim=0), (2, 3),
                              False),
    "repeat_interleave_0d": (lambda m, x: x.repeat_interleave(3), (), False),
    "repeat_interleave_size": (lambda m, x: m.repeat_interleave(x, m.tensor([2, 1]), 0,
                                                                output_size=3), (2, 3), False),
    "block_diag": (lambda m, x: m.block_diag(x, x[0], x[0, 0], x.t() * 2), (2, 3), False),
    "block_diag_one": (lambda m, x: m.block_diag(x), (2, 3), False),
    "block_diag_empty_piece": (lambda m, x: m.block_diag(x, x[:0]), (2, 3), False),
    "rot90": (lambda m, x: m.rot90(x), (2, 3), False),
    "rot90_k2": (lambda m, x: x.rot90(2), (2, 3), False),
    "rot90_neg": (lambda m, x: x.rot90(-1, [1, 2]), (2, 3, 4), False),
    "rot90_k3_neg_dims": (lambda m, x: m.rot90(x, 3, (-1, 0)), (2, 3), False),
    "rot90_k0": (lambda m, x: x.rot90(4), (2, 3), False),
}

test_forward = _tables.shape_forward(RNG, CASES)
test_shares_memory_like_torch = _tables.shape_shares_memory(RNG, CASES)
test_grad_fn_name = _tables.shape_grad_fn_name(RNG, CASES)
test_backward = _tables.shape_backward(RNG, CASES)
test_gradcheck = _tables.shape_gradcheck(RNG, CASES)
test_double_backward = _tables.shape_double_backward(
    RNG, CASES, ["tile", "repeat_interleave_dim", "repeat_interleave_tensor", "block_diag",
                 "rot90_neg"])


@pytest.mark.parametrize("repeats", [[1, 2, 0], [0], [], [3, 1]], ids=str)
def test_repeat_interleave_of_repeats(repeats):
    """torch.repeat_interleave(repeats): each index repeated repeats[i] times."""
    for dtype in ("int64", "int32"):
        results = [m.repeat_interleave(m.tensor(repeats, dtype=getattr(m, dtype)))
                   for m in (ember, torch)]
        assert_same(*results, exact=True)


@pytest.mark.parametrize("dtypes", [("int64", "float32"), ("bool", "int32"),
                                    ("float64", "float32")], ids=str)
def test_block_diag_promotes(dtypes):
    results = [m.block_diag(m.ones(2, dtype=getattr(m, dtypes[0])),
                            m.ones(1, 2, dtype=getattr(m, dtypes[1]))) for m in (ember, torch)]
    assert_same(*results, exact=True)
    assert_same(ember.block_diag(), torch.block_diag(), exact=True)


# ---- errors -------------------------------------------------------------------------------------
# (call(lib), same message as torch?): all raise torch's type.
ERRORS = [
    (lambda m: m.zeros(3, 4).tile((-1,)), True),
    (lambda m: m.zeros(3, 4).repeat_interleave(-1), True),
    (lambda m: m.zeros(3, 4).repeat_interleave(m.tensor([[1]])), True),
    (lambda m: m.zeros(3, 4).repeat_interleave(m.tensor([1, 2]), dim=0), True),
    (lambda m: m.zeros(3, 4).repeat_interleave(2, dim=0, output_size=5), True),
    (lambda m: m.zeros(3, 4).repeat_interleave(m.tensor([1, 2, 0]), 0, output_size=4), True),
    (lambda m: m.repeat_interleave(m.tensor([1, -1])), True),
    (lambda m: m.repeat_interleave(m.tensor([1.0, 1.0])), True),
    (lambda m: m.repeat_interleave(m.tensor(2)), True),
    (lambda m: m.zeros(3, 4).repeat_interleave(2, dim=2), True),
    (lambda m: m.block_diag(m.zeros(2, 2), m.zeros(2, 2, 2)), True),
    (lambda m: m.rot90(m.zeros(3, 4), 1, [0, 1, 2]), True),
    (lambda m: m.rot90(m.zeros(3, 4), 1, [0, 0]), True),
    (lambda m: m.rot90(m.zeros(3, 4), 1, [0, -2]), True),
    (lambda m: m.rot90(m.zeros(3), 1, [0, 0]), True),
    (lambda m: m.rot90(m.zeros(3, 4), 1, [0, 2]), True),
]
test_errors = _tables.shape_errors(ERRORS)
test_error_messages = _tables.shape_error_messages(ERRORS)
