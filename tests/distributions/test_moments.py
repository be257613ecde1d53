"""Every distribution of the table (tests/distributions/_cases.py) against torch.distributions:
entropy, perplexity, mean, variance, stddev and mode in float32 and float64, with their
gradients w.r.t. the parameters (or the same exception type where torch has none)."""

import pytest

from tests.distributions._methods import CASE_DTYPES, check_method_against_torch


@pytest.mark.parametrize("method", ["entropy", "perplexity", "mean", "variance", "stddev",
                                    "mode"])
@pytest.mark.parametrize("name, dtype", CASE_DTYPES)
def test_method_matches_torch(name, dtype, method):
    check_method_against_torch(name, dtype, method)
