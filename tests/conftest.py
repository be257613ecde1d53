"""Shared fixtures for every test: a per-test seeded RNG (tests/differential.py is the harness)."""

import numpy as np
import pytest

from tests.differential import reseed


@pytest.fixture(autouse=True)
def _seed_module_rng(request):
    """A test module's `RNG` draws the same values however the tests are selected or ordered."""
    rng = getattr(request.module, "RNG", None)
    if isinstance(rng, np.random.Generator):
        reseed(rng, request.node.nodeid)


@pytest.fixture
def rng(request):
    """A NumPy Generator seeded from the test's node id."""
    generator = np.random.default_rng()
    reseed(generator, request.node.nodeid)
    return generator
