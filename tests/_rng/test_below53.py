"""samplers.below53 (a Bernoulli draw decided on the generator's words) against the float path
it replaces, `uniform_float64(gen, n) < q`, on crafted words that hit every tie of the high
parts, and dropout masks against torch."""

import numpy as np
import pytest
import torch

import ember
from ember._rng import samplers


class Words:
    """A stand-in generator handing out fixed 32-bit words, as `Generator._uint32` does."""

    def __init__(self, words):
        self.words, self.at = np.asarray(words, dtype=np.uint32), 0

    def _uint32(self, n):
        out = self.words[self.at:self.at + n]
        self.at += n
        return out

    def _uint64(self, n):
        pairs = self._uint32(2 * n).astype(np.uint64).reshape(n, 2)
        return pairs[:, 0] << np.uint64(32) | pairs[:, 1]


QS = [0.0, 1.0, 0.5, 0.9, 0.1, 1 - 2.0 ** -53, 2.0 ** -53, 3 * 2.0 ** -53, 2.0 ** -60,
      0.7 + 2.0 ** -40, 1 - 2.0 ** -30, 0.3]


def _words_around(q, rng, n=4000):
    """Word pairs whose 53-bit value lies at, just below and just above ⌈q·2⁵³⌉, plus random
    ones, with random bits above bit 53 (which both paths must ignore)."""
    bound = int(np.ceil(q * 2.0 ** 53))
    near = [bound + d for d in (-2, -1, 0, 1, 2)] + [(bound >> 32 << 32) + d for d in (0, 1, 7)]
    values = [v % 2 ** 53 for v in near] + list(rng.integers(0, 2 ** 53, n, dtype=np.uint64))
    values = np.array(values, dtype=np.uint64) | (rng.integers(0, 2 ** 11, len(values),
                                                              dtype=np.uint64) << np.uint64(53))
    return np.stack([values >> np.uint64(32), values & np.uint64(0xFFFFFFFF)], 1).reshape(-1)


@pytest.mark.parametrize("q", QS)
def test_below53_equals_the_float_comparison(q):
    words = _words_around(q, np.random.default_rng(5))
    n = len(words) // 2
    expected = samplers.uniform_float64(Words(words), n) < q
    np.testing.assert_array_equal(samplers.below53(Words(words), n, q), expected)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.0, 0.3, 0.999])
@pytest.mark.parametrize("shape", [(7, 13), (20, 35, 128), (0, 3)])
def test_dropout_masks_equal_torchs(p, shape):
    torch.manual_seed(11)
    ember.manual_seed(11)
    expected = torch.nn.functional.dropout(torch.ones(shape), p)
    got = ember.nn.functional.dropout(ember.ones(shape), p)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
