"""ember.distributions.transforms against torch's: forward, inverse and log|det J| values and
gradients in float32 and float64, domains/codomains (event dims), sign, caching, equality,
shapes and reprs; ComposeTransform of parts with different event dims."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, to_ember, to_torch

RNG = np.random.default_rng(3)
X = RNG.standard_normal((2, 3))
LOC, SCALE = RNG.standard_normal(3), RNG.uniform(0.5, 2.0, 3)

# name -> (make(T, params), x values in the domain, params)
TRANSFORMS = {
    "exp": (lambda T, p: T.ExpTransform(), X, {}),
    "exp_inv": (lambda T, p: T.ExpTransform().inv, np.exp(X), {}),
    "sigmoid": (lambda T, p: T.SigmoidTransform(), X, {}),
    "tanh": (lambda T, p: T.TanhTransform(), X, {}),
    "abs": (lambda T, p: T.AbsTransform(), X, {}),
    "power": (lambda T, p: T.PowerTransform(p["e"]), np.exp(X), {"e": np.array(1.7)}),
    "affine_tensor": (lambda T, p: T.AffineTransform(p["loc"], p["scale"]), X,
                      {"loc": LOC, "scale": SCALE}),
    "affine_number": (lambda T, p: T.AffineTransform(1.0, -2.0), X, {}),
    "affine_event": (lambda T, p: T.AffineTransform(p["loc"], p["scale"], event_dim=1), X,
                     {"loc": LOC, "scale": SCALE}),
    "softmax": (lambda T, p: T.SoftmaxTransform(), X, {}),
    "compose": (lambda T, p: T.ComposeTransform(
        [T.AffineTransform(p["loc"], p["scale"]), T.SigmoidTransform()]), X,
        {"loc": LOC, "scale": SCALE}),
    "compose_event": (lambda T, p: T.ComposeTransform(
        [T.ExpTransform(), T.AffineTransform(p["loc"], p["scale"], event_dim=1)]), X,
        {"loc": LOC, "scale": SCALE}),
    "compose_empty": (lambda T, p: T.ComposeTransform([]), X, {}),
    "independent": (lambda T, p: T.IndependentTransform(T.TanhTransform(), 1), X, {}),
    "softplus": (lambda T, p: T.SoftplusTransform(), X, {}),
    "stick_breaking": (lambda T, p: T.StickBreakingTransform(), X, {}),
    "lower_cholesky": (lambda T, p: T.LowerCholeskyTransform(), RNG.standard_normal((2, 3, 3)),
                       {}),
    "positive_definite": (lambda T, p: T.PositiveDefiniteTransform(),
                          RNG.standard_normal((2, 3, 3)), {}),
    "reshape": (lambda T, p: T.ReshapeTransform((3,), (3, 1)), X, {}),
    "normal_cdf": (lambda T, p: T.CumulativeDistributionTransform(T.Normal(p["loc"], p["scale"])),
                   X, {"loc": LOC, "scale": SCALE}),
    "cat": (lambda T, p: T.CatTransform([T.ExpTransform(), T.AffineTransform(p["loc"][:2],
                                                                              p["scale"][:2])],
                                        dim=-1, lengths=[1, 2]), X, {"loc": LOC, "scale": SCALE}),
    "cat_batch_dim": (lambda T, p: T.CatTransform([T.ExpTransform(), T.TanhTransform()],
                                                  dim=0), X, {}),
    "stack": (lambda T, p: T.StackTransform([T.ExpTransform(), T.SigmoidTransform(),
                                             T.TanhTransform()], dim=-1), X, {}),
    "corr_cholesky": (lambda T, p: T.CorrCholeskyTransform(), RNG.standard_normal((2, 6)), {}),
    "corr_cholesky_2x2": (lambda T, p: T.CorrCholeskyTransform(), RNG.standard_normal((3, 1)),
                          {}),
    "compose_inv": (lambda T, p: T.ComposeTransform(
        [T.ExpTransform(), T.AffineTransform(0.5, 3.0)]).inv, np.exp(X) + 1.0, {}),
}
TOL = {"float32": dict(rtol=3e-5, atol=3e-6), "float64": dict(rtol=1e-9, atol=1e-12)}


def _make(lib, name, dtype):
    make, x, params = TRANSFORMS[name]
    convert = to_ember if lib is ember else to_torch
    tensors = {k: convert(v.astype(dtype), requires_grad=True) for k, v in params.items()}
    x = convert(x.astype(dtype), requires_grad=True)
    return make(lib.distributions, tensors), x, tensors


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transform_matches_torch(name, dtype):
    """y, f⁻¹(y), log|det J| and their gradients w.r.t. x and the parameters."""
    e_t, e_x, e_params = _make(ember, name, dtype)
    t_t, t_x, t_params = _make(torch, name, dtype)
    e_y, t_y = e_t(e_x), t_t(t_x)
    assert_same(e_y, t_y, **TOL[dtype])
    assert_same(e_t.inv(e_y), t_t.inv(t_y), **TOL[dtype])
    outputs = [(e_y, t_y)]
    try:
        t_ladj = t_t.log_abs_det_jacobian(t_x, t_y)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            e_t.log_abs_det_jacobian(e_x, e_y)
    else:
        e_ladj = e_t.log_abs_det_jacobian(e_x, e_y)
        assert_same(e_ladj, t_ladj, **TOL[dtype])
        outputs.append((e_ladj, t_ladj))
    e_leaves, t_leaves = [e_x] + list(e_params.values()), [t_x] + list(t_params.values())
    e_total = sum((e * (i + 1)).sum() for i, (e, _) in enumerate(outputs))
    t_total = sum((t * (i + 1)).sum() for i, (_, t) in enumerate(outputs))
    t_grads = torch.autograd.grad(t_total, t_leaves, allow_unused=True)
    e_grads = ember.autograd.grad(e_total, e_leaves, allow_unused=True)
    for e_grad, t_grad in zip(e_grads, t_grads):
        if t_grad is None:
            assert e_grad is None or not e_grad.numpy().any()
        else:
            assert_same(e_grad, t_grad, rtol=TOL[dtype]["rtol"] * 10,
                        atol=TOL[dtype]["atol"] * 10)


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_structure_matches_torch(name):
    """domain/codomain reprs and event dims, bijective, sign, shapes, repr."""
    e_t, _, _ = _make(ember, name, "float64")
    t_t, _, _ = _make(torch, name, "float64")
    assert repr(e_t.domain) == repr(t_t.domain)
    assert repr(e_t.codomain) == repr(t_t.codomain)
    assert e_t.domain.event_dim == t_t.domain.event_dim
    assert e_t.codomain.event_dim == t_t.codomain.event_dim
    assert e_t.bijective == t_t.bijective
    assert tuple(e_t.forward_shape((5, 3))) == tuple(t_t.forward_shape((5, 3)))
    image = t_t.forward_shape((5, 3))
    assert tuple(e_t.inverse_shape(image)) == tuple(t_t.inverse_shape(image))
    try:
        t_sign = t_t.sign
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            e_t.sign  # noqa: B018 - the property raises
    else:
        e_sign = e_t.sign
        e_sign = e_sign.detach().numpy() if hasattr(e_sign, "numpy") else e_sign
        t_sign = t_sign.detach().numpy() if hasattr(t_sign, "numpy") else t_sign
        assert np.array_equal(np.asarray(e_sign), np.asarray(t_sign))
    if not name.startswith(("affine", "cat", "stack")) and name not in (
            "power", "compose", "compose_event", "normal_cdf"):
        assert repr(e_t) == repr(t_t)  # tensors parameters print differently


CONSTRAINED = {
    "positive": lambda C: C.positive, "nonnegative": lambda C: C.nonnegative,
    "greater_than": lambda C: C.greater_than(1.5), "less_than": lambda C: C.less_than(-1.0),
    "unit_interval": lambda C: C.unit_interval, "interval": lambda C: C.interval(-1.0, 2.0),
    "half_open_interval": lambda C: C.half_open_interval(0.0, 3.0),
    "real": lambda C: C.real, "real_vector": lambda C: C.real_vector,
    "independent_positive": lambda C: C.independent(C.positive, 1),
    "simplex": lambda C: C.simplex, "lower_cholesky": lambda C: C.lower_cholesky,
    "boolean": lambda C: C.boolean,
    "positive_definite": lambda C: C.positive_definite,
    "corr_cholesky": lambda C: C.corr_cholesky,
    "cat": lambda C: C.cat([C.positive, C.real, C.unit_interval], dim=-1),
    "stack": lambda C: C.stack([C.positive, C.real, C.interval(-2.0, 2.0)], dim=-1),
}


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", list(CONSTRAINED))
def test_constraint_registry_matches_torch(name, registry):
    """The same transform (repr, values, log|det J|) onto each constraint, or the same
    NotImplementedError; its outputs satisfy the constraint."""
    x = RNG.standard_normal((2, 3, 3) if name in ("lower_cholesky", "positive_definite")
                            else (2, 6) if name == "corr_cholesky" else (2, 3))
    try:
        t_t = getattr(torch.distributions, registry)(CONSTRAINED[name](
            torch.distributions.constraints))
    except NotImplementedError as error:
        with pytest.raises(NotImplementedError, match=str(error)):
            getattr(ember.distributions, registry)(CONSTRAINED[name](
                ember.distributions.constraints))
        return
    constraint = CONSTRAINED[name](ember.distributions.constraints)
    e_t = getattr(ember.distributions, registry)(constraint)
    assert repr(e_t) == repr(t_t)
    e_y, t_y = e_t(to_ember(x)), t_t(to_torch(x))
    assert_same(e_y, t_y, rtol=1e-9)
    assert bool(constraint.check(e_y).all())
    if t_t.bijective:
        assert_same(e_t.log_abs_det_jacobian(to_ember(x), e_y),
                    t_t.log_abs_det_jacobian(to_torch(x), t_y), rtol=1e-9)


def test_reshape_errors_match_torch():
    for fn in (lambda T: T.ReshapeTransform((3,), (2, 2)),
               lambda T: T.ReshapeTransform((3,), (3, 1)).forward_shape((5, 4)),
               lambda T: T.ReshapeTransform((2, 3), (6,)).forward_shape((3,))):
        assert_same_error(lambda lib: fn(lib.distributions), same_message=True)


def test_cache_and_equality():
    T = ember.distributions
    cached = T.ExpTransform(cache_size=1)
    x = ember.randn(3)
    y = cached(x)
    assert cached(x) is y
    assert cached.inv(y) is x
    assert T.ExpTransform() == T.ExpTransform()
    assert T.ExpTransform().inv == T.ExpTransform().inv
    assert T.ExpTransform() != T.SigmoidTransform()
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0)
    assert T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    assert T.ExpTransform().inv.inv == T.ExpTransform()
    assert T.SoftmaxTransform().event_dim == torch.distributions.SoftmaxTransform().event_dim


def test_transformed_distribution_event_dims_follow_the_transforms():
    """A Normal batch pushed through an event_dim=1 affine map becomes an event (as torch)."""
    for lib in (ember, torch):
        D = lib.distributions
        base = D.Normal(lib.zeros(4, 3), lib.ones(4, 3))
        dist = D.TransformedDistribution(base, [D.AffineTransform(lib.zeros(3), lib.ones(3),
                                                                  event_dim=1)])
        assert tuple(dist.batch_shape) == (4,) and tuple(dist.event_shape) == (3,)
        assert type(dist.base_dist).__name__ == "Independent"
        assert repr(dist.support) == "IndependentConstraint(Real(), 1)"
