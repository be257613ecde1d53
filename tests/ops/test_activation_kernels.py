"""The chunked activation kernels of ember/ops/activation_kernels.py against torch: values on
big tensors with special values (±0, ±inf, NaN), their first-order gradients on arrays, the
same bits whatever the chunking and threads, and the float32 erf behind GELU."""

import math

import numpy as np
import pytest
import torch

import ember
from ember import _threads
from ember.ops import activation_kernels

RNG = np.random.default_rng(5)

# name -> (ember function, torch function, bit-exact): the formulas made of multiplies, adds,
# max/min and clips give PyTorch's bits; those with exp, tanh, log1p or erf are within ulps
CASES = {
    "sigmoid": (ember.sigmoid, torch.sigmoid, False),
    "silu": (ember.nn.functional.silu, torch.nn.functional.silu, False),
    "gelu": (ember.nn.functional.gelu, torch.nn.functional.gelu, False),
    "gelu_tanh": (lambda t: ember.nn.functional.gelu(t, approximate="tanh"),
                  lambda t: torch.nn.functional.gelu(t, approximate="tanh"), False),
    "leaky_relu": (lambda t: ember.nn.functional.leaky_relu(t, 0.2),
                   lambda t: torch.nn.functional.leaky_relu(t, 0.2), True),
    "leaky_relu_steep": (lambda t: ember.nn.functional.leaky_relu(t, 1.5),
                         lambda t: torch.nn.functional.leaky_relu(t, 1.5), True),
    "leaky_relu_negative": (lambda t: ember.nn.functional.leaky_relu(t, -0.3),
                            lambda t: torch.nn.functional.leaky_relu(t, -0.3), True),
    "leaky_relu_flat": (lambda t: ember.nn.functional.leaky_relu(t, 0.0),
                        lambda t: torch.nn.functional.leaky_relu(t, 0.0), True),
    "elu": (ember.nn.functional.elu, torch.nn.functional.elu, False),
    "selu": (ember.nn.functional.selu, torch.nn.functional.selu, False),
    "celu": (lambda t: ember.nn.functional.celu(t, 2.0),
             lambda t: torch.nn.functional.celu(t, 2.0), False),
    "softplus": (ember.nn.functional.softplus, torch.nn.functional.softplus, False),
    "softplus_beta": (lambda t: ember.nn.functional.softplus(t, 2.0, 5.0),
                      lambda t: torch.nn.functional.softplus(t, 2.0, 5.0), False),
    "mish": (ember.nn.functional.mish, torch.nn.functional.mish, False),
    "hardswish": (ember.nn.functional.hardswish, torch.nn.functional.hardswish, True),
    "hardtanh": (lambda t: ember.nn.functional.hardtanh(t, -2.0, 3.0),
                 lambda t: torch.nn.functional.hardtanh(t, -2.0, 3.0), True),
    "relu6": (ember.nn.functional.relu6, torch.nn.functional.relu6, True),
}


def _special(size, dtype):
    """Normal values spread over several scales, with zeros of both signs, infinities, NaN and
    the kinks of hardswish, hardtanh and relu6."""
    a = RNG.standard_normal(size) * RNG.choice([0.01, 1.0, 4.0, 30.0], size)
    for value, share in ((0.0, 0.02), (-0.0, 0.02), (np.inf, 0.01), (-np.inf, 0.01),
                         (np.nan, 0.01), (3.0, 0.01), (-3.0, 0.01), (1e-40, 0.005),
                         (-2.0, 0.01), (6.0, 0.01)):
        a[RNG.random(size) < share] = value
    return a.astype(dtype)


def _compare(e, t, exact, dtype):
    e, t = e.detach().numpy(), t.detach().numpy()
    assert e.dtype == t.dtype and e.shape == t.shape
    np.testing.assert_array_equal(np.isnan(e), np.isnan(t))
    if exact:  # (NaN payloads aside: PyTorch's vectorised max makes all-ones NaNs)
        numbers = ~np.isnan(e)
        np.testing.assert_array_equal(e[numbers].view(f"u{e.itemsize}"),
                                      t[numbers].view(f"u{t.itemsize}"))
        return
    # NumPy's float32 tanh/exp are an ulp off SLEEF's here and there, which the gradients'
    # x² factors magnify where tanh saturates: atol is for those
    tol = {"rtol": 4e-6, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-12,
                                                                    "atol": 1e-13}
    np.testing.assert_allclose(e, t, **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name, dtype):
    """Big enough for several chunks on both threads, an odd size for the ragged ends."""
    ember_fn, torch_fn, exact = CASES[name]
    x, g = _special(300_007, dtype), RNG.standard_normal(300_007).astype(dtype)
    if name == "gelu" and dtype == np.float32:
        x[np.isinf(x)] = 0  # torch's float32 gelu(inf) is NaN (its vectorised erf); ember's inf
    results = []
    for lib, fn in ((ember, ember_fn), (torch, torch_fn)):
        t = lib.tensor(x, requires_grad=True)
        y = fn(t)
        y.backward(lib.tensor(g))
        results.append((y, t.grad))
    (ey, egx), (ty, tgx) = results
    _compare(ey, ty, exact, dtype)
    finite = np.isfinite(x) & (np.abs(x) < 1e3)  # (gradients at ±inf follow each formula)
    _compare(egx[ember.tensor(finite)], tgx[torch.tensor(finite)], exact, dtype)


@pytest.mark.parametrize("name", sorted(CASES))
def test_signed_zeros_match_torch(name):
    ember_fn, torch_fn, _ = CASES[name]
    x = np.array([0.0, -0.0], dtype=np.float32)
    e, t = ember_fn(ember.tensor(x)).numpy(), torch_fn(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(e, t)
    np.testing.assert_array_equal(np.signbit(e), np.signbit(t))


@pytest.mark.parametrize("name", sorted(CASES))
def test_array_gradient_equals_op_level_gradient(name):
    """The first-order gradient on arrays and the create_graph one (built of ember ops) agree."""
    ember_fn = CASES[name][0]
    values = _special(999, np.float64)
    x = ember.tensor(values[np.isfinite(values)][:500], requires_grad=True)
    g = ember.tensor(RNG.standard_normal(x.shape[0]))
    (first,) = ember.autograd.grad(ember_fn(x), [x], g)
    (graph,) = ember.autograd.grad(ember_fn(x), [x], g, create_graph=True)
    np.testing.assert_allclose(first.numpy(), graph.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("threads", [1, 2])
def test_chunks_and_threads_give_the_same_bits(threads, monkeypatch):
    x = ember.tensor(_special((6, 50, 7), np.float32), requires_grad=True)
    whole = {name: CASES[name][0](x).detach().numpy() for name in CASES}
    monkeypatch.setattr(activation_kernels, "CHUNK", 13)
    monkeypatch.setattr(_threads, "FLAT_BLOCK", 40)
    previous = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        for name, (fn, _, _) in CASES.items():
            np.testing.assert_array_equal(fn(x).detach().numpy().view(np.uint32),
                                          whole[name].view(np.uint32), err_msg=name)
    finally:
        ember.set_num_threads(previous)


def test_non_contiguous_input():
    base = _special((40, 30), np.float32)
    for name, (ember_fn, torch_fn, exact) in CASES.items():
        _compare(ember_fn(ember.tensor(base)[::2].t()), torch_fn(torch.tensor(base)[::2].t()),
                 exact, np.float32)


def test_float32_erf_is_within_a_few_ulps():
    """GELU's erf (sign(v)·(1 - erfc|v|), erfc from a Chebyshev fit, in float32) is within
    4e-7 of erf everywhere (a float32 ulp of 1 is 6e-8), odd, and exactly ±1 far out."""
    v = np.concatenate([np.linspace(-9, 9, 200_001), [0.0, -0.0, 1e-30, -1e-30, 30, -30]])
    v32 = v.astype(np.float32)
    out = np.empty_like(v32)
    activation_kernels._erf32(out, v32)
    exact = np.array([math.erf(float(a)) for a in v32])
    assert np.max(np.abs(out - exact)) < 4e-7
    np.testing.assert_array_equal(np.signbit(out), np.signbit(v32))
    assert out[-2] == 1 and out[-1] == -1


KEEPING = {"gelu": ember.nn.functional.gelu,
           "gelu_tanh": lambda t: ember.nn.functional.gelu(t, approximate="tanh"),
           "silu": ember.nn.functional.silu, "mish": ember.nn.functional.mish}


@pytest.mark.parametrize("name", sorted(KEEPING))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_from_what_the_forward_kept(dtype, name):
    """NOTE [Kept for the backward]: the backward from the array the forward kept equals the
    one from x alone (the create_graph path, made of ember ops); the backward frees it."""
    fn = KEEPING[name]
    x = ember.tensor(_special(50_001, dtype), requires_grad=True)
    g = ember.tensor(RNG.standard_normal(50_001).astype(dtype))
    y = fn(x)
    assert y.grad_fn.kept.shape == (50_001,)
    (kept,) = ember.autograd.grad(y, [x], g)
    assert "kept" not in y.grad_fn.__dict__
    (graph,) = ember.autograd.grad(fn(x), [x], g, create_graph=True)
    finite = np.isfinite(x.detach().numpy())
    tol = {"rtol": 1e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-14}
    np.testing.assert_allclose(kept.numpy()[finite], graph.detach().numpy()[finite], **tol)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(300, 257), (2, 3, 70), (9,)])
def test_softmax_gradients_on_rows_match_torch(fn, shape):
    """The last-dim gradients on arrays against torch, and against ember's op-level ones."""
    x = (RNG.standard_normal(shape) * 3).astype(np.float32)
    g = RNG.standard_normal(shape).astype(np.float32)
    grads = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        getattr(lib, fn)(t, -1).backward(lib.tensor(g))
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-5)
    t = ember.tensor(x.astype(np.float64), requires_grad=True)
    (first,) = ember.autograd.grad(getattr(ember, fn)(t, -1), [t], ember.tensor(g))
    (graph,) = ember.autograd.grad(getattr(ember, fn)(t, -1), [t], ember.tensor(g),
                                   create_graph=True)
    np.testing.assert_allclose(first.numpy(), graph.detach().numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_rows_in_blocks_are_the_whole_array_formula(fn, threads, recwarn):
    """Past 4 chunks' worth, softmax/log_softmax over the last dim go in row blocks (on the
    threads): the same bits as the whole-array formula, an all -inf row NaN without a warning;
    and their gradients on rows match torch's."""
    from ember.ops import softmax as softmax_ops

    x = (RNG.standard_normal((2100, 257)) * 3).astype(np.float32)
    x[5] = -np.inf
    previous = ember.get_num_threads()
    try:
        ember.set_num_threads(threads)
        got = getattr(ember, fn)(ember.tensor(x), -1).numpy()
    finally:
        ember.set_num_threads(previous)
    whole = getattr(softmax_ops, f"_{fn}_whole")
    with np.errstate(all="ignore"):
        want = whole(x, (1,))
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[5]).all()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    finite = x[6:]
    np.testing.assert_allclose(getattr(ember, fn)(ember.tensor(finite), -1).numpy(),
                               getattr(torch, fn)(torch.tensor(finite), -1).numpy(),
                               rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_gradient_is_torchs_fused_bits(dtype):
    """tanh's gradient is torch's `tanh_backward`, gy·(1 - y²) with 1 - y² one fused
    multiply-add, to the bit (the backprop ninja compares: torch.all(dt == t.grad))."""
    values = RNG.standard_normal(4099).astype(dtype) * 2
    gy = RNG.standard_normal(4099).astype(dtype)
    x = ember.tensor(values, requires_grad=True)
    y = ember.tanh(x)  # (NumPy's tanh is an ulp off SLEEF's here and there: torch gets ember's)
    y.backward(ember.tensor(gy))
    expected = torch.ops.aten.tanh_backward(torch.tensor(gy), torch.tensor(y.detach().numpy()))
    np.testing.assert_array_equal(x.grad.numpy(), expected.numpy())
