"""The layers of ember/nn/modules/flatten.py (nn.Flatten, nn.Unflatten) against torch: outputs,
gradients, reprs."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_error, check_fn


@pytest.mark.parametrize("args,shape", [((), (2, 3, 4, 5)), ((0,), (2, 3, 4)),
                                        ((1, 2), (2, 3, 4, 5)), ((-3, -2), (2, 3, 4, 5))])
def test_flatten_matches_torch(args, shape):
    t, e = torch.nn.Flatten(*args), ember.nn.Flatten(*args)
    assert repr(e) == repr(t)
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    check_fn(t, e, x)


@pytest.mark.parametrize("dim,sizes,shape", [(1, (2, 3), (4, 6)), (-1, [2, 2, 2], (3, 8)),
                                             (0, (2, -1), (6, 2))])
def test_unflatten_matches_torch(dim, sizes, shape):
    t, e = torch.nn.Unflatten(dim, sizes), ember.nn.Unflatten(dim, sizes)
    assert repr(e) == repr(t)
    x = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
    check_fn(t, e, x)


@pytest.mark.parametrize("dim,sizes", [(1, 6), (1, (2, 3.0)), (1, ((2, 3),)), ("x", ("C", 2))])
def test_unflatten_size_errors_match_torch(dim, sizes):
    """unflattened_size must be a tuple/list of ints: torch's TypeError and message."""
    assert_same_error(lambda lib: lib.nn.Unflatten(dim, sizes), same_message=True,
                      exact_type=True)
