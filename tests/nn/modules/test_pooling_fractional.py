"""FractionalMaxPool2d/3d against torch with the same random samples: outputs, argmax indices,
input gradients, node names, output_size and output_ratio, unbatched inputs, and errors."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_error

CASES = [  # (input shape, kernel, options)
    ((2, 3, 9, 8), 3, {"output_size": (4, 5)}),
    ((1, 2, 10, 10), 2, {"output_ratio": 0.5}),
    ((3, 7, 7), (2, 3), {"output_size": 4}),
    ((1, 2, 7, 6, 5), 2, {"output_size": (3, 3, 2)}),
    ((2, 1, 6, 6, 6), (2, 3, 2), {"output_ratio": (0.5, 0.4, 0.6)}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,kernel,options", CASES)
def test_fractional_max_pool_matches_torch(shape, kernel, options, dtype):
    rng = np.random.default_rng(0)
    nd = 3 if len(shape) == 5 or (len(shape) == 4 and isinstance(kernel, tuple)
                                  and len(kernel) == 3) else 2
    batch = shape[:-nd - 1] or (1,)
    x = rng.normal(size=shape).astype(dtype)
    samples = rng.random(size=(batch[0], shape[-nd - 1], nd)).astype(dtype)
    results = []
    for lib in (ember, torch):
        pool = getattr(lib.nn, f"FractionalMaxPool{nd}d")(
            kernel, return_indices=True, _random_samples=lib.tensor(samples), **options)
        t = lib.tensor(x, requires_grad=True)
        out, indices = pool(t)
        out.square().sum().backward()
        results.append((out.detach().numpy(), indices.numpy(), t.grad.numpy(),
                        out.grad_fn.name(), repr(pool)))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    np.testing.assert_allclose(results[0][2], results[1][2], rtol=1e-6, atol=1e-6)
    assert results[0][3:] == results[1][3:]


def test_fractional_max_pool_errors_match_torch():
    cases = [
        lambda lib: lib.nn.FractionalMaxPool2d(3),
        lambda lib: lib.nn.FractionalMaxPool2d(3, output_ratio=1.5),
        lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(1, 1, 4, 4), 3,
                                                            output_size=3),
        lambda lib: lib.nn.functional.fractional_max_pool2d(lib.ones(4, 4), 2, output_size=2),
    ]
    for case in cases:
        assert_same_error(case)


def test_fractional_max_pool_draws_its_own_samples():
    out = ember.nn.FractionalMaxPool2d(2, output_size=3)(ember.randn(2, 3, 8, 8))
    assert out.shape == (2, 3, 3, 3)
