"""ember.distributions.constraints against torch's: check() on values inside, on the boundary
and outside each constraint, the event_dim / is_discrete flags, and the reprs."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, to_ember, to_torch

SCALARS = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, np.nan, np.inf])
VECTORS = np.array([[0.25, 0.75], [0.5, 0.6], [-0.5, 1.5], [1.0, 0.0], [0.0, 0.0],
                    [2.0, 3.0]])
MATRICES = np.array([[[2.0, 0.0], [1.0, 3.0]], [[2.0, 1.0], [1.0, 3.0]],
                     [[1.0, 2.0], [2.0, 1.0]], [[-1.0, 0.0], [0.5, 1.0]],
                     [[0.6, 0.0], [0.6, 0.8]], [[0.0, 0.0], [0.0, 0.0]]])

# name -> (make(constraints module), values)
CONSTRAINTS = {
    "real": (lambda c: c.real, SCALARS),
    "positive": (lambda c: c.positive, SCALARS),
    "nonnegative": (lambda c: c.nonnegative, SCALARS),
    "unit_interval": (lambda c: c.unit_interval, SCALARS),
    "boolean": (lambda c: c.boolean, SCALARS),
    "nonnegative_integer": (lambda c: c.nonnegative_integer, SCALARS),
    "positive_integer": (lambda c: c.positive_integer, SCALARS),
    "greater_than": (lambda c: c.greater_than(0.5), SCALARS),
    "greater_than_eq": (lambda c: c.greater_than_eq(0.5), SCALARS),
    "less_than": (lambda c: c.less_than(1.0), SCALARS),
    "interval": (lambda c: c.interval(-1.0, 1.0), SCALARS),
    "half_open_interval": (lambda c: c.half_open_interval(-1.0, 1.0), SCALARS),
    "integer_interval": (lambda c: c.integer_interval(0, 2), SCALARS),
    "real_vector": (lambda c: c.real_vector, VECTORS),
    "independent_positive": (lambda c: c.independent(c.positive, 1), VECTORS),
    "simplex": (lambda c: c.simplex, VECTORS),
    "one_hot": (lambda c: c.one_hot, VECTORS),
    "multinomial": (lambda c: c.multinomial(3), VECTORS),
    "lower_triangular": (lambda c: c.lower_triangular, MATRICES),
    "lower_cholesky": (lambda c: c.lower_cholesky, MATRICES),
    "corr_cholesky": (lambda c: c.corr_cholesky, MATRICES),
    "square": (lambda c: c.square, MATRICES),
    "symmetric": (lambda c: c.symmetric, MATRICES),
    "positive_definite": (lambda c: c.positive_definite, MATRICES[1:2]),
    "not_positive_definite": (lambda c: c.positive_definite, MATRICES[2:3]),
    "positive_semidefinite": (lambda c: c.positive_semidefinite, MATRICES[1:3]),
    "cat": (lambda c: c.cat([c.positive, c.real], dim=-1, lengths=[1, 1]), VECTORS),
    "stack": (lambda c: c.stack([c.positive, c.unit_interval], dim=-1), VECTORS),
}


@pytest.mark.parametrize("name", list(CONSTRAINTS))
def test_check_flags_and_repr_match_torch(name):
    make, values = CONSTRAINTS[name]
    e_constraint = make(ember.distributions.constraints)
    t_constraint = make(torch.distributions.constraints)
    assert_same(e_constraint.check(to_ember(values)), t_constraint.check(to_torch(values)),
                exact=True)
    assert e_constraint.event_dim == t_constraint.event_dim
    assert e_constraint.is_discrete == t_constraint.is_discrete
    assert repr(e_constraint) == repr(t_constraint)


def test_dependent_constraints():
    C = ember.distributions.constraints
    assert C.is_dependent(C.dependent)
    assert not C.is_dependent(C.real)
    with pytest.raises(ValueError, match="Cannot determine validity of dependent constraint"):
        C.dependent.check(ember.tensor(0.0))
    with pytest.raises(NotImplementedError):
        C.dependent.event_dim  # noqa: B018 - the property raises
    placeholder = C.dependent(is_discrete=True, event_dim=1)
    assert placeholder.is_discrete and placeholder.event_dim == 1
    support = ember.distributions.Uniform(0.0, 2.0).support
    assert repr(support) == repr(torch.distributions.Uniform(0.0, 2.0).support)
    assert C.is_dependent(type(ember.distributions.Uniform(0.0, 1.0)).support)


def test_all_names_are_exported():
    assert sorted(ember.distributions.constraints.__all__) == sorted(
        torch.distributions.constraints.__all__)
