"""DDP's gradient buckets are torch's: the same parameters in the same buckets, in one process.

torch lays out its buckets again after the first iteration, in the order the gradients became
ready (reverse registration order for a plain model), with `bucket_cap_mb` (default 25 MB, the
first bucket of each dtype 1 MB unless bucket_cap_mb is given). ember lays them out that way from
the start; `torch.distributed._compute_bucket_assignment_by_size` given that order is the oracle.
Buckets left open at the end come out of a hash map in torch, so their order is compared as a set.
"""

import pytest
import torch

import ember
from ember.nn.parallel._reducer import Reducer

MB = 2 ** 20
SIZES = [1000, 30, 5000, 200, 70000, 10, 300000, 4, 12345, 200000, 150000]


def _params(lib, mixed):
    """Parameters of SIZES elements; every third float64 if mixed, else all float32."""
    return [lib.zeros(n, dtype=lib.float64 if mixed and i % 3 == 0 else lib.float32,
                      requires_grad=True) for i, n in enumerate(SIZES)]


def _torchs_buckets(params, bucket_cap_mb):
    """torch 2.13's rebuilt bucket assignment (indices of params), as DDP computes it."""
    cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * MB)
    first = MB if bucket_cap_mb is None else cap
    limits = [first, cap] if first < cap else [cap]
    order = list(range(len(params)))[::-1]  # gradient-ready order of a plain model
    buckets, _ = torch.distributed._compute_bucket_assignment_by_size(
        [params[i] for i in order], limits, [False] * len(params), order)
    return [list(b) for b in buckets]


def _embers_buckets(params, bucket_cap_mb):
    index = {id(p): i for i, p in enumerate(params)}
    reducer = Reducer(params, None, bucket_cap_mb)
    for handle in reducer.handles:
        handle.remove()
    return [[index[id(p)] for p in bucket.params] for bucket in reducer.buckets]


@pytest.mark.parametrize("mixed", [False, True])
@pytest.mark.parametrize("bucket_cap_mb", [None, 0.0001, 0.001, 0.02, 0.4, 1, 2, 25])
def test_buckets_are_torchs(bucket_cap_mb, mixed):
    theirs = _torchs_buckets(_params(torch, mixed), bucket_cap_mb)
    ours = _embers_buckets(_params(ember, mixed), bucket_cap_mb)
    assert sorted(map(sorted, ours)) == sorted(map(sorted, theirs))
    if not mixed:  # one dtype: one open bucket at the end, so the order is torch's too
        assert ours == theirs
    else:  # the buckets that filled up come first, in the order they filled; then at most
        # one open bucket per dtype (2 dtypes), in an order of torch's hash map
        assert ours[:len(theirs) - 2] == theirs[:len(theirs) - 2]
