"""Dynamic quantization of Linear layers against torch (FBGEMM, engine x86): outputs equal to
the bit, the quantized weights and their parameters, the printed model, state_dict keys and
versions, checkpoints torch reads, qconfig_spec forms, and torch's errors and warnings."""

import io
import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error

pytestmark = [pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor"),
              pytest.mark.filterwarnings("ignore:torch.ao.quantization is deprecated"),
              pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")]

RNG = np.random.default_rng(23)


def copy_weights(e_model, t_model):
    """t_model's float parameters and buffers into e_model (same structure)."""
    state = {k: ember.from_numpy(v.detach().numpy().copy()) for k, v in
             t_model.state_dict().items()}
    e_model.load_state_dict(state)


def assert_bits(e, t):
    """Same dtype and shape and the same float32 bit patterns (NaN payloads aside)."""
    e_array, t_array = e.detach().numpy(), t.detach().numpy()
    assert e_array.dtype == t_array.dtype and e_array.shape == t_array.shape
    np.testing.assert_array_equal(e_array.view(np.int32), t_array.view(np.int32))


def quantize_both(e_model, t_model, spec=None, **kwargs):
    e_spec = spec(ember) if callable(spec) else spec
    t_spec = spec(torch) if callable(spec) else spec
    return (ember.ao.quantization.quantize_dynamic(e_model, e_spec, **kwargs),
            torch.ao.quantization.quantize_dynamic(t_model, t_spec, **kwargs))


def linear_pair(in_features, out_features, bias, weight_scale):
    t = torch.nn.Linear(in_features, out_features, bias=bias)
    with torch.no_grad():
        t.weight.mul_(weight_scale)
        if bias:
            t.bias.mul_(weight_scale * 3)
    e = ember.nn.Linear(in_features, out_features, bias=bias)
    copy_weights(e, t)
    return e, t


def wrap(lib, layer):
    return lib.nn.Sequential(layer)


CASES = [((4, 16), 16, 8, True), ((1, 1), 1, 1, False), ((7, 33), 33, 70, True),
         ((2, 3, 64), 64, 31, True), ((2, 3, 4, 9), 9, 5, False), ((300, 200), 200, 96, True),
         ((0, 5), 5, 3, True), ((5, 1000), 1000, 17, True),
         ((3, 1500), 1500, 9, True)]  # K past 1032: the product's partial sums leave float32


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("spread", ["normal", "positive", "negative", "wide", "tiny", "zeros"])
def test_dynamic_linear_bits(case, spread):
    shape, k, n, bias = CASES[case]
    e_lin, t_lin = linear_pair(k, n, bias, float(RNG.uniform(0.05, 20)))
    eq, tq = quantize_both(wrap(ember, e_lin), wrap(torch, t_lin), {"0"})
    x = {"normal": RNG.standard_normal(shape), "positive": RNG.uniform(0, 5, shape),
         "negative": -RNG.uniform(0, 5, shape), "wide": RNG.standard_normal(shape) * 1e4,
         "tiny": RNG.standard_normal(shape) * 1e-6, "zeros": np.zeros(shape)}[spread]
    x = x.astype(np.float32)
    assert_bits(eq(ember.from_numpy(x)), tq(torch.from_numpy(x)))


def test_weights_and_parameters_match():
    e_lin, t_lin = linear_pair(50, 20, True, 2.0)
    eq, tq = quantize_both(wrap(ember, e_lin), wrap(torch, t_lin), {"0"})
    ew, tw = eq[0].weight(), tq[0].weight()
    assert (ew.q_scale(), ew.q_zero_point(), str(ew.qscheme()), str(ew.dtype)) == (
        tw.q_scale(), tw.q_zero_point(), str(tw.qscheme()), str(tw.dtype))
    assert_same(ew.int_repr(), tw.int_repr(), exact=True)
    assert_same(eq[0].bias(), tq[0].bias(), exact=True)
    assert repr(ew) == repr(tw)


def mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(20, 64), lib.nn.ReLU(), lib.nn.Linear(64, 32),
                             lib.nn.Tanh(), lib.nn.Linear(32, 10, bias=False))


@pytest.mark.parametrize("spec", [None, "set", "dict", "per_channel", "names"])
def test_quantize_dynamic_mlp(spec):
    torch.manual_seed(3)
    t_model = mlp(torch)
    e_model = mlp(ember)
    copy_weights(e_model, t_model)
    specs = {None: None, "set": lambda lib: {lib.nn.Linear},
             "dict": lambda lib: {lib.nn.Linear: lib.ao.quantization.default_dynamic_qconfig},
             "per_channel": lambda lib: {
                 lib.nn.Linear: lib.ao.quantization.per_channel_dynamic_qconfig},
             "names": {"0", "4"}}
    eq, tq = quantize_both(e_model, t_model, specs[spec])
    assert repr(eq) == repr(tq)
    assert list(eq.state_dict()) == list(tq.state_dict())
    assert eq.state_dict()._metadata == tq.state_dict()._metadata
    x = (RNG.standard_normal((8, 20)) * 2).astype(np.float32)
    # the ReLU and Tanh between layers are ember's: exact when ember's tanh is, so compare the
    # quantized layers one by one on torch's own inputs, then the whole model to float32 noise
    t_inputs = []
    hooks = [m.register_forward_hook(lambda m, i, o: t_inputs.append((m, i[0], o)))
             for m in tq if "Quantized" in m._get_name()]
    assert len(hooks) == (2 if spec == "names" else 3)
    t_out = tq(torch.from_numpy(x))
    for h in hooks:
        h.remove()
    for t_layer, t_in, t_layer_out in t_inputs:
        e_layer = eq[[i for i, m in enumerate(tq) if m is t_layer][0]]
        assert_bits(e_layer(ember.from_numpy(t_in.detach().numpy().copy())), t_layer_out)
    np.testing.assert_allclose(eq(ember.from_numpy(x)).detach().numpy(), t_out.detach().numpy(),
                               rtol=1e-5,
                               atol=2e-3)


def test_quantize_dynamic_leaves_originals_and_top_level():
    e_lin, t_lin = linear_pair(4, 3, True, 1.0)
    e_model = ember.nn.Sequential(e_lin)
    eq = ember.ao.quantization.quantize_dynamic(e_model, {ember.nn.Linear})
    assert type(e_model[0]) is ember.nn.Linear and e_model.training  # a copy was quantized
    assert not eq.training and eq[0].training  # as torch: the new module is in training mode
    assert not hasattr(eq, "qconfig") and not hasattr(eq[0], "qconfig")
    top = ember.ao.quantization.quantize_dynamic(e_lin, {ember.nn.Linear})
    ttop = torch.ao.quantization.quantize_dynamic(t_lin, {torch.nn.Linear})
    assert repr(top) == repr(ttop)  # the root itself is never swapped
    inplace = ember.ao.quantization.quantize_dynamic(e_model, {ember.nn.Linear}, inplace=True)
    assert inplace is e_model and type(e_model[0]).__name__ == "Linear"
    assert e_model[0]._get_name() == "DynamicQuantizedLinear"


def test_legacy_namespace_and_hooks():
    assert ember.quantization.quantize_dynamic is ember.ao.quantization.quantize_dynamic
    e_lin, t_lin = linear_pair(4, 3, True, 1.0)
    seen = []
    e_lin.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    eq = ember.quantization.quantize_dynamic(ember.nn.Sequential(e_lin), {ember.nn.Linear})
    eq(ember.ones(2, 4))
    assert seen == [ember.Size([2, 3])]  # hooks move to the quantized module, as in torch


def test_bert_style_model():
    """Self-attention and feed-forward blocks with nn.Linear layers (the BERT tutorial's case):
    every quantized Linear exact on torch's inputs, the whole model to float32 noise."""

    def block(lib):
        class Block(lib.nn.Module):
            def __init__(self, d=32, hidden=64):
                super().__init__()
                self.query, self.key, self.value = (lib.nn.Linear(d, d) for _ in range(3))
                self.dense = lib.nn.Linear(d, d)
                self.norm1, self.norm2 = lib.nn.LayerNorm(d), lib.nn.LayerNorm(d)
                self.intermediate, self.output = lib.nn.Linear(d, hidden), lib.nn.Linear(
                    hidden, d)

            def forward(self, x):
                q, k, v = self.query(x), self.key(x), self.value(x)
                attention = (q @ k.transpose(-1, -2) / 32 ** 0.5).softmax(-1) @ v
                x = self.norm1(x + self.dense(attention))
                return self.norm2(x + self.output(lib.nn.functional.gelu(self.intermediate(x))))
        return lib.nn.Sequential(lib.nn.Embedding(50, 32), Block(), Block())

    torch.manual_seed(5)
    t_model, e_model = block(torch), block(ember)
    copy_weights(e_model, t_model)
    eq, tq = quantize_both(e_model, t_model, lambda lib: {lib.nn.Linear})
    assert repr(eq) == repr(tq)
    assert list(eq.state_dict()) == list(tq.state_dict())
    ids = RNG.integers(0, 50, (3, 11))
    captured = {}
    for name, module in tq.named_modules():
        if type(module).__name__ == "Linear" and "dynamic" in type(module).__module__:
            module.register_forward_hook(
                lambda m, i, o, name=name: captured.update({name: (i[0], o)}))
    t_out = tq(torch.from_numpy(ids))
    e_modules = dict(eq.named_modules())
    assert len(captured) == 12
    for name, (t_in, t_layer_out) in captured.items():
        assert_bits(e_modules[name](ember.from_numpy(t_in.detach().numpy().copy())), t_layer_out)
    np.testing.assert_allclose(eq(ember.from_numpy(ids)).detach().numpy(), t_out.detach().numpy(),
                               atol=5e-4)


def test_state_dict_round_trips():
    torch.manual_seed(7)
    t_model, e_model = mlp(torch), mlp(ember)
    copy_weights(e_model, t_model)
    eq, tq = quantize_both(e_model, t_model, lambda lib: {lib.nn.Linear})
    buffer = io.BytesIO()
    ember.save(eq.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)  # ember's checkpoint, read by torch
    fresh = torch.ao.quantization.quantize_dynamic(mlp(torch), {torch.nn.Linear})
    fresh.load_state_dict(state)
    x = RNG.standard_normal((4, 20)).astype(np.float32)
    assert_bits(fresh(torch.from_numpy(x)), tq(torch.from_numpy(x)))
    other = ember.ao.quantization.quantize_dynamic(mlp(ember), {ember.nn.Linear})
    other.load_state_dict(eq.state_dict())  # ember to ember
    e_x = ember.from_numpy(x)
    assert_bits(other(e_x), eq(e_x))


def test_module_constructor_and_repr():
    e = ember.ao.nn.quantized.dynamic.Linear(3, 4)
    t = torch.ao.nn.quantized.dynamic.Linear(3, 4)
    assert repr(e) == repr(t)
    ew, tw = e.weight(), t.weight()  # torch's integers are uninitialised memory: not compared
    assert (tuple(ew.shape), ew.q_scale(), ew.q_zero_point(), str(ew.dtype)) == (
        tuple(tw.shape), tw.q_scale(), tw.q_zero_point(), str(tw.dtype))
    assert_same(e.bias(), t.bias(), exact=True)
    assert (e.scale, e.zero_point, e.version) == (t.scale, t.zero_point, t.version)
    assert_same_error(lambda lib: lib.ao.nn.quantized.dynamic.Linear(3, 4, dtype=lib.quint8),
                      same_message=True)


def test_float16_dynamic_linear():
    """dtype=torch.float16: the weight rounded to float16 (saturated beyond its range), the
    product in float32, the bias added in place (AddBackward0), state dict and errors."""
    def run(lib):
        lib.manual_seed(0)
        mlp = lib.nn.Sequential(lib.nn.Linear(5, 4), lib.nn.ReLU(), lib.nn.Linear(4, 3))
        with lib.no_grad():
            mlp[0].weight[0, 0] = 1e6
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            q = lib.ao.quantization.quantize_dynamic(mlp, {lib.nn.Linear}, dtype=lib.float16)
        y = q(lib.from_numpy(x.copy()))
        state = q.state_dict()["0._packed_params._packed_params"]
        return q, y, state
    x = np.random.default_rng(16).standard_normal((2, 6, 5)).astype(np.float32)
    (eq, ey, es), (tq, ty, ts) = run(ember), run(torch)
    assert repr(eq) == repr(tq)
    assert_same(ey, ty, rtol=1e-6, atol=1e-5)
    assert type(ey.grad_fn).__name__ == type(ty.grad_fn).__name__ == "AddBackward0"
    assert_same(es[0], ts[0], exact=True)  # the float16 values as float32, 1e6 saturated
    assert_same(es[1], ts[1], exact=True)
    for call in (lambda lib, m: m(lib.ones(3)), lambda lib, m: m(lib.ones(5)),
                 lambda lib, m: m(lib.ones(2, 6)), lambda lib, m: m(lib.tensor(1.0)),
                 lambda lib, m: m(lib.ones(3, dtype=lib.float64))):
        assert_same_error((lambda: call(ember, eq), lambda: call(torch, tq)), same_message=True)


LINEAR_ERRORS = [
    lambda lib, m: m(lib.ones(3)),
    lambda lib, m: m(lib.ones(2, 5)),
    lambda lib, m: m(lib.ones(2, 3, dtype=lib.float64)),
]


@pytest.mark.parametrize("index", range(len(LINEAR_ERRORS)))
def test_forward_errors(index):
    def call(lib):
        model = lib.ao.quantization.quantize_dynamic(lib.nn.Sequential(lib.nn.Linear(3, 4)),
                                                     {lib.nn.Linear})
        return LINEAR_ERRORS[index](lib, model)
    assert_same_error(call, same_message=True)


def test_quantize_dynamic_errors():
    assert_same_error(lambda lib: lib.ao.quantization.quantize_dynamic(
        lib.nn.Sequential(lib.nn.Linear(3, 4)), {lib.nn.Linear}, dtype=lib.qint32),
        same_message=True)
    assert_same_error(lambda lib: lib.ao.quantization.quantize_dynamic(
        lib.nn.Sequential(lib.nn.Linear(3, 4)), None, dtype=lib.qint32), same_message=True)
    assert_same_error(lambda lib: lib.ao.nn.quantized.dynamic.Linear.from_float(
        lib.nn.Linear(3, 4)), same_message=True)
    assert_same_error(lambda lib: lib.ao.quantization.QConfig(
        lib.ao.quantization.MinMaxObserver(), None), same_message=True)


def test_deprecation_warnings():
    for lib in (ember, torch):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            lib.ao.quantization.quantize_dynamic(lib.nn.Sequential(lib.nn.Linear(3, 4)),
                                                 {lib.nn.Linear})
        deprecations = [str(w.message) for w in record if w.category is DeprecationWarning]
        assert len(deprecations) == 2  # quantize_dynamic's and convert's
        assert deprecations[0].startswith("torch.ao.quantization is deprecated")
        if lib is ember:
            ember_messages = deprecations
    assert ember_messages == deprecations


def test_quantized_engine():
    e, t = ember.backends.quantized, torch.backends.quantized
    assert e.engine == t.engine == "x86"
    assert set(e.supported_engines) <= set(t.supported_engines)
    x = RNG.standard_normal((6, 10)).astype(np.float32)
    e_lin, t_lin = linear_pair(10, 7, True, 1.0)
    eq, tq = quantize_both(wrap(ember, e_lin), wrap(torch, t_lin), {"0"})
    try:
        t.engine = "fbgemm"
        e.engine = "fbgemm"
        assert e.engine == "fbgemm"
        assert_bits(eq(ember.from_numpy(x)), tq(torch.from_numpy(x)))  # FBGEMM's either way
    finally:
        t.engine = "x86"
        e.engine = "x86"
    assert_same_error(lambda lib: setattr(lib.backends.quantized, "engine", "bogus"),
                      same_message=True)
    with pytest.raises(RuntimeError, match="QNNPACK is not supported"):
        e.engine = "qnnpack"


def test_observers_match():
    w = (RNG.standard_normal((6, 5)) * 3).astype(np.float32)
    for make in (lambda lib: lib.ao.quantization.default_weight_observer(),
                 lambda lib: lib.ao.quantization.MinMaxObserver(),
                 lambda lib: lib.ao.quantization.MinMaxObserver(dtype=lib.qint8,
                                                                reduce_range=True),
                 lambda lib: lib.ao.quantization.default_per_channel_weight_observer(),
                 lambda lib: lib.ao.quantization.PerChannelMinMaxObserver(ch_axis=1),
                 lambda lib: lib.ao.quantization.MovingAverageMinMaxObserver(
                     averaging_constant=0.5)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e_obs, t_obs = make(ember), make(torch)
        e_obs(ember.from_numpy(w))
        t_obs(torch.from_numpy(w))
        e_obs(ember.from_numpy(w * 0.5 + 1))
        t_obs(torch.from_numpy(w * 0.5 + 1))
        for a, b in zip(e_obs.calculate_qparams(), t_obs.calculate_qparams()):
            assert_same(a, b, exact=True)
        assert (e_obs.quant_min, e_obs.quant_max) == (t_obs.quant_min, t_obs.quant_max)
        assert repr(e_obs) == repr(t_obs)


def test_torch_checkpoint_loads_into_ember():
    """A state_dict torch saved from its quantized model, loaded by ember.load (weights_only)
    into ember's quantized model: the same outputs, bit for bit."""
    torch.manual_seed(9)
    t_model = torch.ao.quantization.quantize_dynamic(mlp(torch), {torch.nn.Linear})
    buffer = io.BytesIO()
    torch.save(t_model.state_dict(), buffer)
    buffer.seek(0)
    e_model = ember.ao.quantization.quantize_dynamic(mlp(ember), {ember.nn.Linear})
    e_model.load_state_dict(ember.load(buffer))
    x = RNG.standard_normal((5, 20)).astype(np.float32)
    e_layer, t_layer = e_model[0], t_model[0]
    assert_bits(e_layer(ember.from_numpy(x)), t_layer(torch.from_numpy(x)))
    np.testing.assert_allclose(e_model(ember.from_numpy(x)).numpy(),
                               t_model(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=2e-3)
