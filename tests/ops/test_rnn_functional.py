"""torch.lstm / gru / rnn_tanh / rnn_relu: the padded and packed forms against torch's, on the
same flat weights, with gradients."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, to_ember

CASES = [  # (function, module kwargs, batch_first)
    ("lstm", dict(num_layers=2, bidirectional=True), False),
    ("lstm", dict(proj_size=3), True),
    ("gru", dict(num_layers=2), True),
    ("rnn_tanh", dict(bias=False, bidirectional=True), False),
    ("rnn_relu", dict(nonlinearity="relu"), False),
]


def _module(name, kwargs):
    kind = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}.get(name, torch.nn.RNN)
    torch.manual_seed(0)
    return kind(4, 6, **kwargs)


def _states(name, module, batch):
    rng = np.random.default_rng(0)
    layers = module.num_layers * (2 if module.bidirectional else 1)
    h = rng.standard_normal((layers, batch, module.proj_size or 6)).astype(np.float32)
    if name != "lstm":
        return torch.from_numpy(h)
    c = rng.standard_normal((layers, batch, 6)).astype(np.float32)
    return torch.from_numpy(h), torch.from_numpy(c)


@pytest.mark.parametrize("name, kwargs, batch_first", CASES)
def test_padded_form(name, kwargs, batch_first):
    module = _module(name, kwargs)
    params = [p.detach().requires_grad_() for p in module._flat_weights]
    x = torch.randn(3, 5, 4) if batch_first else torch.randn(5, 3, 4)
    hx = _states(name, module, 3)
    args = (module.bias, module.num_layers, 0.0, False, module.bidirectional, batch_first)
    t = getattr(torch, name)(x, hx, params, *args)
    e_params = to_ember(params)
    e = getattr(ember, name)(to_ember(x), to_ember(hx), e_params, *args)
    assert len(e) == len(t)
    for a, b in zip(e, t):
        assert_same(a, b, rtol=1e-5, atol=1e-5)
    sum(o.sum() for o in t).backward()
    sum(o.sum() for o in e).backward()
    for a, b in zip(e_params, params):
        assert_same(a.grad, b.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_packed_form(name):
    module = _module(name, dict(num_layers=2))
    x = torch.randn(5, 3, 4)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, [5, 4, 2])
    hx = _states(name, module, 3)
    args = (True, 2, 0.0, False, False)
    t = getattr(torch, name)(packed.data, packed.batch_sizes, hx, module._flat_weights, *args)
    e = getattr(ember, name)(to_ember(packed.data), to_ember(packed.batch_sizes), to_ember(hx),
                             to_ember([p.detach() for p in module._flat_weights]), *args)
    for a, b in zip(e, t):
        assert_same(a, b, rtol=1e-5, atol=1e-5)


def test_module_and_function_agree():
    ember.manual_seed(0)
    lstm = ember.nn.LSTM(4, 6, num_layers=2)
    x = ember.randn(5, 3, 4)
    h = (ember.zeros(2, 3, 6), ember.zeros(2, 3, 6))
    out, (hn, cn) = lstm(x, h)
    f_out, f_hn, f_cn = ember.lstm(x, h, lstm._flat_weights, True, 2, 0.0, False, False, False)
    assert ember.equal(out, f_out) and ember.equal(hn, f_hn) and ember.equal(cn, f_cn)
