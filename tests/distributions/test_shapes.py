"""Every distribution of the table (tests/distributions/_cases.py) against torch.distributions:
batch/event shapes, flags, repr, expand, enumerate_support, and the shapes and dtypes of
sample/rsample for several sample shapes."""

import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_result_or_error, to_ember, to_torch
from tests.distributions._cases import CASES, inputs


@pytest.mark.parametrize("name", list(CASES))
def test_shapes_expand_and_repr_match_torch(name):
    """batch/event shapes, flags, repr, expand (shapes and log_prob) and enumerate_support."""
    case = CASES[name]
    params, values, _ = inputs(name, case.dtypes[-1])
    t_dist = case.build(torch, to_torch(params))
    e_dist = case.build(ember, to_ember(params))
    assert tuple(e_dist.batch_shape) == tuple(t_dist.batch_shape)
    assert tuple(e_dist.event_shape) == tuple(t_dist.event_shape)
    assert e_dist.has_rsample == t_dist.has_rsample
    assert e_dist.has_enumerate_support == t_dist.has_enumerate_support
    assert repr(e_dist) == repr(t_dist)
    assert repr(e_dist.support) == repr(t_dist.support)
    new_batch = (5,) + tuple(t_dist.batch_shape)
    t_big, e_big = t_dist.expand(new_batch), e_dist.expand(new_batch)
    assert type(e_big).__name__ == type(t_big).__name__
    assert tuple(e_big.batch_shape) == tuple(t_big.batch_shape)
    assert tuple(e_big.event_shape) == tuple(t_big.event_shape)
    value = values[:1]
    assert_same(e_big.log_prob(to_ember(value)), t_big.log_prob(to_torch(value)), rtol=1e-6)
    if t_dist.has_enumerate_support:
        for expand in (True, False):
            assert_same_result_or_error(lambda: e_dist.enumerate_support(expand),
                                        lambda: t_dist.enumerate_support(expand), 0, 0)


@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 3)])
@pytest.mark.parametrize("name", list(CASES))
def test_sample_shapes_and_dtypes_match_torch(name, sample_shape):
    """sample/rsample give sample_shape + batch_shape + event_shape in torch's dtype; sample
    carries no gradient, rsample does."""
    case = CASES[name]
    params, _, _ = inputs(name, "float32")
    t_dist = case.build(torch, to_torch(params, requires_grad=True))
    e_dist = case.build(ember, to_ember(params, requires_grad=True))
    t_sample, e_sample = t_dist.sample(sample_shape), e_dist.sample(sample_shape)
    assert tuple(e_sample.shape) == tuple(t_sample.shape)
    assert str(e_sample.dtype) == str(t_sample.dtype)
    assert not e_sample.requires_grad
    assert bool(e_dist.support.check(e_sample).all())
    if t_dist.has_rsample:
        t_r, e_r = t_dist.rsample(sample_shape), e_dist.rsample(sample_shape)
        assert tuple(e_r.shape) == tuple(t_r.shape)
        assert str(e_r.dtype) == str(t_r.dtype)
        assert e_r.requires_grad == t_r.requires_grad
    else:
        with pytest.raises(NotImplementedError):
            e_dist.rsample(sample_shape)
