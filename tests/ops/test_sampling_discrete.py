"""torch's random streams for the samplers built on the generator's words (ember/ops/sampling.py,
ember/ops/_streams.py): after the same `manual_seed`, ember draws torch's numbers bit for bit.

Each call runs after `manual_seed(seed)` in both libraries; then a float64 `exponential_` probe
checks that both consumed the same number of words.
"""

import numpy as np
import pytest
import torch

import ember
from ember.ops import sampling
from tests.differential import assert_same, error_of

SEEDS = (0, 42, 2026)
_DATA = np.random.default_rng(7)
P32 = _DATA.random((5, 7)).astype(np.float32)
P64 = _DATA.random(37)
WEIGHTS = (_DATA.random((3, 11)) * (_DATA.random((3, 11)) > 0.2)).astype(np.float32) + 1e-3
X = _DATA.standard_normal((4, 9)).astype(np.float32)
RATES = np.concatenate([_DATA.uniform(0, 30, 60), [0.0, 9.99, 10.0, 250.0]]).astype(np.float32)
COUNTS = np.concatenate([_DATA.integers(0, 300, 60), [0, 5, 1000, 40]]).astype(np.float32)
PROBS = np.concatenate([_DATA.random(60), [0.5, 1.0, 0.3, 0.9]]).astype(np.float32)
ALPHAS = np.concatenate([_DATA.uniform(0.01, 6, 60), [1e-3, 0.5, 1.0, 80.0]]).astype(np.float32)


def _t(lib, array):
    return lib.tensor(array)


# name -> fn(lib) drawing from the default generator
CALLS = {
    "bernoulli_scalar_1": lambda m: m.empty(1).bernoulli_(0.3),
    "bernoulli_scalar_37_f64": lambda m: m.empty(37, dtype=m.float64).bernoulli_(0.7),
    "bernoulli_scalar_int": lambda m: m.empty(3, 5, dtype=m.int64).bernoulli_(0.5),
    "bernoulli_scalar_transposed": lambda m: m.empty(5, 3).t().bernoulli_(0.5),
    "bernoulli_tensor_f32": lambda m: m.bernoulli(_t(m, P32)),
    "bernoulli_tensor_f64": lambda m: m.bernoulli(_t(m, P64)),
    "bernoulli_p_float": lambda m: m.bernoulli(_t(m, P32), 0.25),
    "bernoulli__tensor_broadcast": lambda m: m.zeros(4, 5, 7).bernoulli_(_t(m, P32)),
    "exponential_f32": lambda m: m.empty(17).exponential_(0.7),
    "exponential_f64": lambda m: m.empty(3, 33, dtype=m.float64).exponential_(3.0),
    "cauchy_f32": lambda m: m.empty(40).cauchy_(0.1, 0.3),
    "cauchy_f64": lambda m: m.empty(40, dtype=m.float64).cauchy_(-1.0, 2.5),
    "geometric_f32": lambda m: m.empty(40).geometric_(0.3),
    "geometric_int": lambda m: m.empty(40, dtype=m.int64).geometric_(0.05),
    "log_normal_1": lambda m: m.empty(1).log_normal_(),
    "log_normal_odd_f64": lambda m: m.empty(33, dtype=m.float64).log_normal_(0.1, 0.3),
    "log_normal_then_cached": lambda m: m.cat([m.empty(3, dtype=m.float64).log_normal_(),
                                               m.empty(4, dtype=m.float64).log_normal_()]),
    "multinomial_one_1d": lambda m: m.multinomial(_t(m, WEIGHTS[0]), 1),
    "multinomial_one_2d": lambda m: m.multinomial(_t(m, WEIGHTS), 1, True),
    "multinomial_no_replacement": lambda m: m.multinomial(_t(m, WEIGHTS), 6),
    "multinomial_no_replacement_f64": lambda m: m.multinomial(_t(m, WEIGHTS.astype(float)), 11),
    "multinomial_replacement": lambda m: m.multinomial(_t(m, WEIGHTS), 25, True),
    "multinomial_replacement_1d_f64": lambda m: m.multinomial(_t(m, P64), 40, True),
    "rrelu_f32": lambda m: m.nn.functional.rrelu(_t(m, X), training=True),
    "rrelu_f64": lambda m: m.nn.functional.rrelu(_t(m, X.astype(float)), 0.2, 0.4, True),
    "rrelu_module": lambda m: m.nn.RReLU()(_t(m, X)),
    "poisson_f32": lambda m: m.poisson(_t(m, RATES)),
    "poisson_f64_2d": lambda m: m.poisson(_t(m, RATES.astype(float).reshape(4, 16))),
    "poisson_distribution": lambda m: m.distributions.Poisson(_t(m, RATES[:8])).sample((3,)),
    "binomial_f32": lambda m: m.distributions.Binomial(_t(m, COUNTS), _t(m, PROBS)).sample(),
    "binomial_f64": lambda m: m.distributions.Binomial(
        _t(m, COUNTS.astype(float)), _t(m, PROBS.astype(float))).sample((2,)),
    "binomial_op": lambda m: m.binomial(_t(m, COUNTS[:20].reshape(4, 5)), _t(m, PROBS[0])),
    # float16/bfloat16: the double draws rounded through float32 (c10::Half from a float)
    "exponential_f16": lambda m: m.empty(100003, dtype=m.float16).exponential_(),
    "cauchy_bf16": lambda m: m.empty(100003, dtype=m.bfloat16).cauchy_().float(),
    "log_normal_f16": lambda m: m.empty(1000, 100, dtype=m.float16).t().log_normal_(),
    # float16/bfloat16 weights: cumulative sums in float32; the keys' ties in topk's order
    "multinomial_replacement_f16": lambda m: m.multinomial(_t(m, WEIGHTS).half(), 300, True),
    "multinomial_replacement_bf16": lambda m: m.multinomial(_t(m, P64).bfloat16(), 300, True),
    "multinomial_no_replacement_bf16": lambda m: m.multinomial(
        m.arange(17).remainder(7).add(0.5).bfloat16(), 17),
    "multinomial_no_replacement_f16": lambda m: m.multinomial(
        m.arange(1000).remainder(7).add(0.5).half().reshape(2, 500), 100),
    "multinomial_no_replacement_transposed": lambda m: m.multinomial(_t(m, WEIGHTS).t(), 2),
    "rrelu_bf16": lambda m: m.nn.functional.rrelu(_t(m, X).bfloat16(), training=True).float(),
    "standard_gamma_op": lambda m: m._standard_gamma(_t(m, ALPHAS)),
    "standard_gamma_op_generator": lambda m: m._standard_gamma(
        _t(m, ALPHAS.astype(float)), generator=m.Generator().manual_seed(3)),
    "sample_dirichlet_op": lambda m: m._sample_dirichlet(_t(m, ALPHAS[:60].reshape(10, 6))),
    "gamma_f32": lambda m: m.distributions.Gamma(_t(m, ALPHAS), 1.0).sample(),
    "gamma_f64_after_cached_normal": lambda m: m.cat([
        m.empty(1, dtype=m.float64).log_normal_(),
        m.distributions.Gamma(_t(m, ALPHAS.astype(float)), 1.0).sample()]),
}


def _probe(lib):
    return lib.empty(5, dtype=lib.float64).exponential_()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(CALLS))
def test_same_numbers_as_torch(name, seed):
    """The call's values, dtype and shape are torch's, and the stream ends at the same word."""
    results = []
    for lib in (ember, torch):
        lib.manual_seed(seed)
        results.append((CALLS[name](lib), _probe(lib)))
    (e, e_probe), (t, t_probe) = results
    assert_same(e, t, exact=True)
    assert_same(e_probe, t_probe, exact=True)


@pytest.mark.parametrize("name", ["bernoulli_scalar_37_f64", "exponential_f64", "cauchy_f32",
                                  "multinomial_replacement", "log_normal_odd_f64"])
def test_explicit_generator(name):
    """A `generator=` argument draws from that generator and leaves the default one alone."""
    calls = {
        "bernoulli_scalar_37_f64": lambda m, g: m.empty(37, dtype=m.float64).bernoulli_(
            0.7, generator=g),
        "exponential_f64": lambda m, g: m.empty(33, dtype=m.float64).exponential_(
            3.0, generator=g),
        "cauchy_f32": lambda m, g: m.empty(40).cauchy_(generator=g),
        "multinomial_replacement": lambda m, g: m.multinomial(_t(m, WEIGHTS), 25, True,
                                                              generator=g),
        "log_normal_odd_f64": lambda m, g: m.empty(33, dtype=m.float64).log_normal_(
            generator=g),
    }
    results = []
    for lib in (ember, torch):
        lib.manual_seed(5)
        g = lib.Generator().manual_seed(123)
        results.append((calls[name](lib, g), _probe(lib)))
    (e, e_probe), (t, t_probe) = results
    assert_same(e, t, exact=True)
    assert_same(e_probe, t_probe, exact=True)


@pytest.mark.parametrize("module", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
                                    "AlphaDropout", "FeatureAlphaDropout"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [0.1, 0.5])
def test_dropout_masks(module, dtype, p):
    """Dropout modules drop the same units and scale them the same, value for value; the
    gradient is the same mask."""
    shape = {"Dropout": (4, 6, 5), "Dropout1d": (4, 6, 5), "Dropout2d": (3, 4, 5, 2),
             "Dropout3d": (2, 3, 2, 2, 2), "AlphaDropout": (4, 6, 5),
             "FeatureAlphaDropout": (3, 4, 5, 2)}[module]
    x = _DATA.standard_normal(shape).astype(dtype)
    results = []
    for lib in (ember, torch):
        lib.manual_seed(11)
        inp = lib.tensor(x, requires_grad=True)
        y = getattr(lib.nn, module)(p)(inp)
        y.sum().backward()
        results.append((y, inp.grad, _probe(lib)))
    for e, t in zip(*results):
        assert_same(e, t, exact=True)


@pytest.mark.filterwarnings("ignore:dropout2d")
@pytest.mark.parametrize("call", [
    lambda m, x: m.nn.functional.dropout(x, 0.3),
    lambda m, x: m.nn.functional.dropout(x, 0.3, inplace=True),
    lambda m, x: m.nn.functional.feature_alpha_dropout(x, 0.3, training=True),
    lambda m, x: m.nn.functional.dropout(x.transpose(1, 2), 0.4),  # mask in x's memory order
    lambda m, x: m.nn.functional.alpha_dropout(x.permute(2, 0, 1), 0.4, training=True),
    lambda m, x: m.nn.functional.dropout(x[:, ::2], 0.4),
    lambda m, x: m.nn.functional.dropout2d(x, 0.5),
    lambda m, x: m.nn.functional.alpha_dropout(x, 0.25, training=True),
])
def test_functional_dropout(call):
    """The functional forms (and the in-place one) draw the same masks."""
    x = _DATA.standard_normal((3, 4, 5)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        lib.manual_seed(3)
        results.append((call(lib, lib.tensor(x)), _probe(lib)))
    for e, t in zip(*results):
        assert_same(e, t, exact=True)


def test_attention_dropout_draws_torchs_mask():
    """scaled_dot_product_attention's dropout draws torch's mask (values to matmul rounding)."""
    q = _DATA.standard_normal((2, 3, 5, 4)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        lib.manual_seed(4)
        x = lib.tensor(q)
        out = lib.nn.functional.scaled_dot_product_attention(x, x, x, dropout_p=0.3)
        results.append((out, _probe(lib)))
    assert_same(results[0][0], results[1][0], rtol=1e-5, atol=1e-6)
    assert_same(results[0][1], results[1][1], exact=True)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_rnn_dropout_between_layers(cls, batch_first):
    """A multi-layer RNN built and run after the same seed has torch's weights and drops the
    same units between layers (outputs to float32 rounding, the stream exactly)."""
    x = _DATA.standard_normal((3, 6, 4)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        lib.manual_seed(2)
        net = getattr(lib.nn, cls)(4, 5, num_layers=3, dropout=0.5, batch_first=batch_first,
                                   bidirectional=True)
        results.append((net(lib.tensor(x))[0].detach(), _probe(lib)))
    assert_same(results[0][0], results[1][0], rtol=1e-5, atol=1e-6)
    assert_same(results[0][1], results[1][1], exact=True)


def test_gumbel_softmax_draws_torchs_noise():
    """gumbel_softmax draws torch's exponential noise (its float32 log may round apart)."""
    logits = _DATA.standard_normal((3, 6)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        lib.manual_seed(8)
        results.append((lib.nn.functional.gumbel_softmax(lib.tensor(logits), tau=0.5),
                        _probe(lib)))
    assert_same(results[0][0], results[1][0], rtol=1e-4, atol=1e-6)
    assert_same(results[0][1], results[1][1], exact=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dirichlet_array_is_torchs(dtype):
    """`dirichlet_array` draws torch._sample_dirichlet's Gamma variates; float32 results are
    torch's bit for bit, float64 ones to the last bit of torch's row sums (its vectorised
    summation order is not NumPy's)."""
    alpha = ALPHAS[:60].reshape(10, 6).astype(dtype)
    ember.manual_seed(6)
    torch.manual_seed(6)
    ours = sampling.dirichlet_array(alpha)
    theirs = torch._sample_dirichlet(torch.tensor(alpha)).numpy()
    if dtype == "float32":
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)
    assert_same(_probe(ember), _probe(torch), exact=True)


def test_rrelu_bfloat16_gradient_is_the_rounded_slope():
    """bfloat16 rrelu: x·r in float32 rounded once; the gradient is r rounded to bfloat16."""
    results = []
    for lib in (ember, torch):
        lib.manual_seed(9)
        x = lib.tensor(X).bfloat16().requires_grad_()
        y = lib.nn.functional.rrelu(x, training=True)
        y.sum().backward()
        results.append((y.float(), x.grad.float()))
    for e, t in zip(*results):
        assert_same(e, t, exact=True)


@pytest.mark.parametrize("call", [
    lambda m: m.nn.functional.rrelu(m.zeros(3, dtype=m.float16), training=True),
    lambda m: m.nn.functional.rrelu(m.zeros(0, dtype=m.float16), training=True),
    lambda m: m.nn.functional.rrelu(m.zeros(3, dtype=m.int64), training=True),
    lambda m: m.nn.functional.rrelu(m.zeros(3, dtype=m.int64)),
    lambda m: m.rrelu(m.zeros(3, dtype=m.bool)),
    lambda m: m.zeros(3, dtype=m.complex64).cauchy_(),
    lambda m: m.zeros(3, dtype=m.int8).cauchy_(),
    lambda m: m.zeros(3, dtype=m.complex128).bernoulli_(m.rand(3)),
    lambda m: m.zeros(3).bernoulli_(m.ones(3, dtype=m.int64)),
    lambda m: m._standard_gamma(m.ones(3, dtype=m.float16)),
    lambda m: m._sample_dirichlet(m.ones(3, dtype=m.int64)),
    lambda m: m.zeros(3, dtype=m.int32).bernoulli_(m.ones(3, dtype=m.bool)),
])
def test_error_messages(call):
    """torch's exception type and message (kernel names, C++ type names)."""
    errors = [error_of(lambda lib=lib: call(lib)) for lib in (ember, torch)]
    assert type(errors[0]) is type(errors[1])
    assert str(errors[0]) == str(errors[1])


def test_poisson_errors():
    """A negative rate raises torch's error."""
    with pytest.raises(RuntimeError, match="invalid Poisson rate"):
        ember.poisson(ember.tensor([1.0, -1.0]))


def test_bernoulli_errors():
    """torch's messages for probabilities outside [0, 1]."""
    with pytest.raises(RuntimeError, match=r"bernoulli_ expects p to be in \[0, 1\], but got"):
        ember.empty(3).bernoulli_(1.5)
    with pytest.raises(RuntimeError, match="p_in >= 0 && p_in <= 1"):
        ember.bernoulli(ember.tensor([0.5, 1.5]))
