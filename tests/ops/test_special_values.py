"""Elementwise ops, reductions and losses at NaN, ±inf, ±0 and subnormals, against torch.

Tensors are big enough for PyTorch's vectorised kernels (which decide NaN inputs), and the
incoming gradients hold inf and NaN too, so a backward that multiplies by a 0/1 mask where
PyTorch selects (or divides in another order) shows up as a NaN torch does not give. Values
are compared with NaN in the same places, exactly (and with the sign of zero) for ops whose
result is exact, else to float tolerance. gelu is left out: torch's vectorised gelu gives NaN
at +inf, ember its limit, inf.
"""

import itertools

import numpy as np
import pytest
import torch

import ember

SPECIAL = [np.nan, np.inf, -np.inf, 0.3, -0.7, 0.0, -0.0, 2.0, 0.5, -0.5, 1.0, -1.0, 1e-40,
           -3.0, 3.0, 100.0]
GRADIENTS = [1.0, np.inf, 2.0, np.nan, 1.0, -1.0, 1.0, np.inf, -np.inf, 3.0, 1.0, -2.0, 1.0,
             1.0, -np.inf, 0.5]


def _method(name, *args):
    return lambda lib, x: getattr(x, name)(*args)


def _functional(name, *args, **kwargs):
    return lambda lib, x: getattr(lib.nn.functional, name)(x, *args, **kwargs)


UNARY = {name: _method(name) for name in [
    "abs", "neg", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin",
    "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
    "sigmoid", "erf", "erfc", "erfinv", "reciprocal", "sign", "floor", "ceil", "round", "trunc",
    "frac", "relu", "square", "lgamma", "digamma", "deg2rad", "rad2deg", "nan_to_num", "logit",
    "i0", "sinc", "signbit", "isnan", "isinf", "isfinite", "sum", "mean", "prod", "amax",
    "amin", "max", "min", "norm", "std", "var", "argmax", "argmin", "nansum", "nanmean",
    "median", "nanmedian", "msort"]}
UNARY.update({
    "logsumexp": _method("logsumexp", 0), "cumsum": _method("cumsum", 0),
    "cumprod": _method("cumprod", 0), "logcumsumexp": _method("logcumsumexp", 0),
    "softmax": _method("softmax", 0), "log_softmax": _method("log_softmax", 0),
    "cummax": lambda lib, x: x.cummax(0)[0], "cummin": lambda lib, x: x.cummin(0)[0],
    "sort": lambda lib, x: x.sort()[0], "topk": lambda lib, x: x.topk(5)[0],
    "glu": lambda lib, x: lib.nn.functional.glu(x.reshape(2, -1), 0),
    "normalize": lambda lib, x: lib.nn.functional.normalize(x.reshape(16, -1), dim=1),
    "dropout_eval": _functional("dropout", 0.5, training=False),
    "rrelu_eval": _functional("rrelu", training=False),
    "max_pool2d": lambda lib, x: lib.nn.functional.max_pool2d(x.reshape(1, 4, 16, 16), 2),
    "max_pool2d_overlapping": lambda lib, x: lib.nn.functional.max_pool2d(
        x.reshape(1, 4, 16, 16), 3, 1, 1),
})
UNARY.update({name: _functional(name) for name in [
    "elu", "selu", "celu", "silu", "mish", "softplus", "softsign", "tanhshrink", "logsigmoid",
    "hardtanh", "relu6", "hardsigmoid", "hardswish", "leaky_relu", "hardshrink", "softshrink"]})

BINARY = {
    "add": lambda lib, a, b: a + b, "sub": lambda lib, a, b: a - b,
    "mul": lambda lib, a, b: a * b, "div": lambda lib, a, b: a / b,
    "pow": lambda lib, a, b: a ** b, "atan2": lambda lib, a, b: lib.atan2(a, b),
    "maximum": lambda lib, a, b: lib.maximum(a, b), "minimum": lambda lib, a, b: lib.minimum(a, b),
    "fmax": lambda lib, a, b: lib.fmax(a, b), "fmin": lambda lib, a, b: lib.fmin(a, b),
    "hypot": lambda lib, a, b: lib.hypot(a, b), "copysign": lambda lib, a, b: lib.copysign(a, b),
    "remainder": lambda lib, a, b: lib.remainder(a, b), "fmod": lambda lib, a, b: lib.fmod(a, b),
    "xlogy": lambda lib, a, b: lib.xlogy(a, b), "logaddexp": lambda lib, a, b: lib.logaddexp(a, b),
    "logaddexp2": lambda lib, a, b: lib.logaddexp2(a, b),
    "lerp": lambda lib, a, b: lib.lerp(a, b, 0.3),
    "lerp_tensor": lambda lib, a, b: lib.lerp(a, b, b),
    "clamp_min_tensor": lambda lib, a, b: a.clamp(min=b),
    "clamp_max_tensor": lambda lib, a, b: a.clamp(max=b),
    "where": lambda lib, a, b: lib.where(a > b, a, b),
    "div_floor": lambda lib, a, b: lib.div(a, b, rounding_mode="floor"),
    "div_trunc": lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
    "float_power": lambda lib, a, b: lib.float_power(a, b),
    "heaviside": lambda lib, a, b: lib.heaviside(a.detach(), b.detach()),
    "addcmul": lambda lib, a, b: lib.addcmul(a, a, b, value=0.5),
    "addcdiv": lambda lib, a, b: lib.addcdiv(a, a, b, value=0.5),
    "isclose": lambda lib, a, b: lib.isclose(a, b),
    "mse_loss": lambda lib, a, b: lib.nn.functional.mse_loss(a, b, reduction="none"),
    "l1_loss": lambda lib, a, b: lib.nn.functional.l1_loss(a, b, reduction="none"),
    "smooth_l1_loss": lambda lib, a, b: lib.nn.functional.smooth_l1_loss(a, b, reduction="none"),
    "huber_loss": lambda lib, a, b: lib.nn.functional.huber_loss(a, b, reduction="none"),
    "bce_with_logits": lambda lib, a, b: lib.nn.functional.binary_cross_entropy_with_logits(
        a, b.detach(), reduction="none"),
    "kl_div": lambda lib, a, b: lib.nn.functional.kl_div(a, b, reduction="none"),
    "cosine_similarity": lambda lib, a, b: lib.nn.functional.cosine_similarity(
        a.reshape(-1, 4), b.reshape(-1, 4)),
}
EXACT = {"abs", "neg", "sign", "floor", "ceil", "round", "trunc", "frac", "relu", "hardtanh",
         "relu6", "sum", "amax", "amin", "max", "min", "cumsum", "cummax", "cummin", "sort",
         "topk", "msort", "nan_to_num", "add", "sub", "mul", "div", "maximum", "minimum", "fmax",
         "fmin", "copysign", "remainder", "fmod", "clamp_min_tensor", "clamp_max_tensor",
         "where", "div_floor", "div_trunc", "heaviside", "hardshrink", "softshrink"}


def _assert_like_torch(e, t, exact, rtol=2e-5):
    """e (ember) as t (torch): dtype, shape, NaN places, then values (exact: with zero signs)."""
    assert (e is None) == (t is None)
    if t is None:
        return
    assert e.dtype == t.dtype and e.shape == t.shape
    if t.dtype.kind not in "fc":
        np.testing.assert_array_equal(e, t)
        return
    np.testing.assert_array_equal(np.isnan(e), np.isnan(t))
    number = ~np.isnan(t)
    if exact:
        np.testing.assert_array_equal(e[number], t[number])
        np.testing.assert_array_equal(np.signbit(e[number]), np.signbit(t[number]))
    else:
        np.testing.assert_allclose(e[number], t[number], rtol=rtol, atol=rtol / 10)


def _numpy(t):
    """A tensor's values as NumPy (16-bit floats widened to float32, exactly)."""
    t = t.detach()
    return (t.float() if t.is_floating_point() and t.element_size() == 2 else t).numpy()


def _run(lib, fn, dtype, inputs, gradients=GRADIENTS):
    """fn's output and the inputs' gradients (None where there is none) for one library, the
    incoming gradient cycling through `gradients`."""
    tensors = [lib.tensor(v, dtype=getattr(lib, dtype), requires_grad=True) for v in inputs]
    y = fn(lib, *tensors)
    grads = [None] * len(tensors)
    if y.requires_grad:
        upstream = np.resize(np.array(gradients), y.numel()).reshape(tuple(y.shape))
        y.backward(lib.tensor(upstream, dtype=getattr(lib, dtype)))
        grads = [None if t.grad is None else _numpy(t.grad) for t in tensors]
    return [_numpy(y)] + grads


# 16-bit floats: PyTorch computes most ops in float32 and rounds once; values to about two
# bfloat16 ulps. kl_div is left out there: its target gradient is PyTorch's composite
# (xlogy(t, t) - t·x) summed over three uses of t, each rounded in bfloat16 on the way.
TOLERANCE = {"float32": 2e-5, "float64": 2e-5, "float16": 4e-3, "bfloat16": 2e-2}
HALF_BINARY = sorted(set(BINARY) - {"kl_div"})


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_at_special_values(name, dtype):
    inputs = [SPECIAL * 64]
    for e, t in zip(_run(ember, UNARY[name], dtype, inputs),
                    _run(torch, UNARY[name], dtype, inputs)):
        _assert_like_torch(e, t, name in EXACT, TOLERANCE[dtype])


PAIRS = list(itertools.product(SPECIAL[:13], repeat=2))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_at_special_values(name, dtype):
    _check_binary(name, dtype)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", HALF_BINARY)
def test_binary_at_special_values_16_bit(name, dtype):
    _check_binary(name, dtype)


def _check_binary(name, dtype):
    inputs = [[a for a, _ in PAIRS] * 4, [b for _, b in PAIRS] * 4]
    # (exact but for the sign of a +0/-0 tie, which PyTorch's bfloat16 fmax/fmin give to
    # `other` while routing the gradient to `input`: ember gives both to `input`)
    exact = name in EXACT and not (dtype == "bfloat16" and name in ("fmax", "fmin"))
    for e, t in zip(_run(ember, BINARY[name], dtype, inputs),
                    _run(torch, BINARY[name], dtype, inputs)):
        _assert_like_torch(e, t, exact, TOLERANCE[dtype])


# ---- reductions, norms, scans and losses along a dim -----------------------------------------
def _slices():
    """(8, 16, 12) float64 data: random with special values sprinkled in; a slice of -inf, one
    with inf, one with NaN; constant slices (zero variance) and zeros."""
    rng = np.random.default_rng(0)
    base = rng.standard_normal((8, 16, 12))
    sprinkled = base.copy()
    sprinkled.reshape(-1)[rng.choice(base.size, 200, replace=False)] = rng.choice(SPECIAL, 200)
    infinite = base.copy()
    infinite[0], infinite[1, :, 0], infinite[2, 3] = -np.inf, np.inf, np.nan
    constant = base.copy()
    constant[3], constant[4, 2] = 1.5, 0.0
    return {"sprinkled": sprinkled, "infinite": infinite, "constant": constant}


def _f(lib):
    return lib.nn.functional


ALONG_DIM = {
    "sum": lambda lib, a: a.sum(1), "mean": lambda lib, a: a.mean(2),
    "prod": lambda lib, a: a.prod(1), "prod_all": lambda lib, a: a[5].prod(),
    "std": lambda lib, a: a.std(1), "var": lambda lib, a: a.var(2),
    "norm": lambda lib, a: a.norm(dim=2), "norm_1": lambda lib, a: a.norm(p=1, dim=1),
    "norm_3": lambda lib, a: a.norm(p=3, dim=1), "norm_half": lambda lib, a: a.norm(p=0.5, dim=2),
    "norm_inf": lambda lib, a: a.norm(p=float("inf"), dim=1),
    "logsumexp": lambda lib, a: a.logsumexp(2), "softmax": lambda lib, a: a.softmax(2),
    "log_softmax": lambda lib, a: a.log_softmax(2), "amax": lambda lib, a: a.amax(1),
    "max": lambda lib, a: a.max(2)[0], "min": lambda lib, a: a.min(1)[0],
    "median": lambda lib, a: a.median(2)[0], "mode": lambda lib, a: a.mode(2)[0],
    "cumsum": lambda lib, a: a.cumsum(1), "cumprod": lambda lib, a: a.cumprod(2),
    "logcumsumexp": lambda lib, a: a.logcumsumexp(1),
    "layer_norm": lambda lib, a: _f(lib).layer_norm(a, (12,)),
    "group_norm": lambda lib, a: _f(lib).group_norm(a, 4),
    "batch_norm": lambda lib, a: _f(lib).batch_norm(a, None, None, training=True),
    "instance_norm": lambda lib, a: _f(lib).instance_norm(a),
    "rms_norm": lambda lib, a: _f(lib).rms_norm(a, (12,)),
    "normalize": lambda lib, a: _f(lib).normalize(a, dim=2),
    "cross_entropy": lambda lib, a: _f(lib).cross_entropy(
        a, lib.zeros(8, 12, dtype=lib.long), reduction="none"),
    "max_pool1d": lambda lib, a: _f(lib).max_pool1d(a, 3),
    "avg_pool1d": lambda lib, a: _f(lib).avg_pool1d(a, 3),
    "topk": lambda lib, a: a.topk(3, dim=2)[0], "sort": lambda lib, a: a.sort(1)[0],
    "kthvalue": lambda lib, a: a.kthvalue(3, 2)[0], "nansum": lambda lib, a: a.nansum(1),
    "nanmean": lambda lib, a: a.nanmean(1), "unique": lambda lib, a: lib.unique(a.detach()),
    "cosine_similarity": lambda lib, a: _f(lib).cosine_similarity(a, a.flip(0), dim=2),
    "cdist": lambda lib, a: lib.cdist(a, a.flip(0)),
}


@pytest.mark.parametrize("data", ["sprinkled", "infinite", "constant"])
@pytest.mark.parametrize("name", sorted(ALONG_DIM))
def test_reductions_at_special_values(name, data):
    """float32; the incoming gradients here are finite (the tables above have inf and NaN
    ones). constant: PyTorch's instance_norm of a constant slice is rounding noise of ~1e-5."""
    inputs = [_slices()[data]]
    finite = [1.0, -0.5, 2.0, 0.25, 3.0]
    for e, t in zip(_run(ember, ALONG_DIM[name], "float32", inputs, finite),
                    _run(torch, ALONG_DIM[name], "float32", inputs, finite)):
        _assert_like_torch(e, t, False, 2e-4)


# ---- losses at their edges: every target ignored, zero weights, -inf/inf logits, empty input --
_LOGITS = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32)
_INFINITE_LOGITS = _LOGITS.copy()
_INFINITE_LOGITS[0, 1], _INFINITE_LOGITS[1], _INFINITE_LOGITS[2, 3] = -np.inf, -np.inf, np.inf
_TARGETS = [0, 1, 2, 3, 4, 1]

LOSS_EDGES = {
    "cross_entropy_all_ignored": lambda lib, x: _f(lib).cross_entropy(x, lib.full((6,), -100)),
    "cross_entropy_some_ignored": lambda lib, x: _f(lib).cross_entropy(
        x, lib.tensor([0, -100, 2, -100, 4, 1])),
    "cross_entropy_ignored_smoothed": lambda lib, x: _f(lib).cross_entropy(
        x, lib.tensor([0, -100, 2, -100, 4, 1]), label_smoothing=0.2),
    "cross_entropy_zero_weights": lambda lib, x: _f(lib).cross_entropy(
        x, lib.tensor(_TARGETS), weight=lib.zeros(5)),
    "cross_entropy_probabilities": lambda lib, x: _f(lib).cross_entropy(
        x, lib.tensor(_LOGITS).softmax(1), label_smoothing=0.3),
    "nll_all_ignored": lambda lib, x: _f(lib).nll_loss(
        x.log_softmax(1), lib.full((6,), 2), ignore_index=2),
    "multilabel_margin": lambda lib, x: _f(lib).multilabel_margin_loss(
        x, lib.tensor([[0, 1, -1, 0, 0]] * 6), reduction="none"),
    "multi_margin": lambda lib, x: _f(lib).multi_margin_loss(x, lib.tensor(_TARGETS)),
    "mse_empty": lambda lib, x: _f(lib).mse_loss(x[:0], x[:0].detach()),
    "cross_entropy_empty": lambda lib, x: _f(lib).cross_entropy(x[:0], lib.tensor(_TARGETS)[:0]),
    "huber_huge": lambda lib, x: _f(lib).huber_loss(x * 1e20, lib.zeros(6, 5), delta=1e19),
    "gaussian_nll_tiny_variance": lambda lib, x: _f(lib).gaussian_nll_loss(
        x, lib.zeros(6, 5), lib.full((6, 5), 1e-12)),
}


@pytest.mark.parametrize("data", ["finite", "infinite"])
@pytest.mark.parametrize("name", sorted(LOSS_EDGES))
def test_losses_at_their_edges(name, data):
    inputs = [_LOGITS if data == "finite" else _INFINITE_LOGITS]
    finite = [1.0]
    for e, t in zip(_run(ember, LOSS_EDGES[name], "float32", inputs, finite),
                    _run(torch, LOSS_EDGES[name], "float32", inputs, finite)):
        _assert_like_torch(e, t, False, 1e-4)
