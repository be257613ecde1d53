"""ember/ops/rnn_layer.py (a whole LSTM layer as one op, NOTE [One op per layer]) against torch
and against ember's per-step path: outputs, final states and the gradients of the input, the
initial states and every weight, both directions, with and without biases, float32 and float64;
which inputs take the fused path; a second backward with retain_graph; an output changed in
place; no_grad; float64 finite differences of first and second order."""

import numpy as np
import pytest
import torch

import ember
from ember.ops import rnn as ember_rnn
from ember.ops import rnn_layer
from tests.differential import assert_same, copy_state, gradcheck64, gradgradcheck64

RNG = np.random.default_rng(0)


def _leaves(lib, arrays):
    return [lib.tensor(a, requires_grad=True) for a in arrays]


def _arrays(steps, batch, features, hidden, directions, dtype):
    x = RNG.standard_normal((steps, batch, features)).astype(dtype)
    h0, c0 = (RNG.standard_normal((directions, batch, hidden)).astype(dtype) for _ in range(2))
    return x, h0, c0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_layer_matches_torch(bidirectional, bias, dtype):
    directions = 2 if bidirectional else 1
    t_lstm = torch.nn.LSTM(5, 7, bidirectional=bidirectional, bias=bias).to(
        getattr(torch, np.dtype(dtype).name))
    e_lstm = ember.nn.LSTM(5, 7, bidirectional=bidirectional, bias=bias).to(
        getattr(ember, np.dtype(dtype).name))
    copy_state(t_lstm, e_lstm)
    arrays = _arrays(6, 3, 5, 7, directions, dtype)
    results = []
    for lib, lstm in ((ember, e_lstm), (torch, t_lstm)):
        x, h0, c0 = _leaves(lib, arrays)
        y, (h, c) = lstm(x, (h0, c0))
        weights = lib.tensor(np.linspace(-1, 1, y.numel()).reshape(y.shape).astype(dtype))
        ((y * weights).sum() + 2 * h.sum() - c.sum()).backward()
        results.append([y, h, c, x.grad, h0.grad, c0.grad] +
                       [p.grad for p in lstm.parameters()])
    tol = 1e-5 if dtype == np.float32 else 1e-11
    for e, t in zip(*results):
        assert_same(e, t, tol, tol)


def test_padded_lstm_is_one_node_per_layer_and_direction():
    lstm = ember.nn.LSTM(4, 3, num_layers=2, bidirectional=True)
    y, _ = lstm(ember.randn(5, 2, 4))
    names, stack = set(), [y.grad_fn]
    while stack:
        node = stack.pop()
        names.add(node.name())
        stack.extend(n for n, _ in node.next_functions if n is not None)
    assert "MkldnnRnnLayerBackward0" in names
    assert "LSTMStepBackward0" not in names


@pytest.mark.parametrize("case", ["proj_size", "shrinking_batch", "gru"])
def test_other_layers_take_the_per_step_path(case):
    x = ember.randn(5, 4)
    state = (ember.zeros(2, 3), ember.zeros(2, 3))
    weights = (ember.randn(12, 4), ember.randn(12, 3), None, None, None)
    sizes = [2] * 5
    if case == "proj_size":
        weights = weights[:4] + (ember.randn(3, 3),)
    if case == "shrinking_batch":
        x, sizes = ember.randn(4, 4), [2, 1, 1]
    mode = "GRU" if case == "gru" else "LSTM"
    assert not rnn_layer.fits_lstm_layer(mode, x, sizes, state, weights)
    assert rnn_layer.fits_lstm_layer("LSTM", ember.randn(10, 4), [2] * 5, state,
                                     weights[:4] + (None,))


@pytest.mark.parametrize("reverse", [False, True])
def test_fused_layer_equals_the_per_step_ops(reverse, monkeypatch):
    """The same function as the per-step LSTMStep path (which stays in use for packed batches
    that shrink), values and gradients, in float64."""
    steps, batch, features, hidden = 4, 3, 5, 6
    arrays = [RNG.standard_normal(s) for s in ((steps * batch, features), (4 * hidden, features),
                                               (4 * hidden, hidden), (4 * hidden,),
                                               (4 * hidden,), (batch, hidden), (batch, hidden))]
    results = []
    for fused in (True, False):
        x, w_ih, w_hh, b_ih, b_hh, h0, c0 = _leaves(ember, arrays)
        weights = (w_ih, w_hh, b_ih, b_hh, None)
        if fused:
            y, (h, c) = rnn_layer.lstm_layer(x, weights, (h0, c0), steps, reverse)
        else:
            monkeypatch.setattr(ember_rnn, "fits_lstm_layer", lambda *args: False)
            y, (h, c) = ember_rnn.run_direction("LSTM", x, [batch] * steps, (h0, c0), weights,
                                                reverse)
        (y.sin().sum() + h.sum() * 3 + c.cos().sum()).backward()
        results.append([y, h, c] + [t.grad for t in (x, w_ih, w_hh, b_ih, b_hh, h0, c0)])
    for fused, per_step in zip(*results):
        assert_same(fused, per_step, 1e-12, 1e-12)


def test_retain_graph_backward_twice_matches_torch():
    arrays = _arrays(5, 2, 3, 4, 1, np.float32)
    grads = []
    t_lstm, e_lstm = torch.nn.LSTM(3, 4), ember.nn.LSTM(3, 4)
    copy_state(t_lstm, e_lstm)
    for lib, lstm in ((ember, e_lstm), (torch, t_lstm)):
        x, h0, c0 = _leaves(lib, arrays)
        y, (h, c) = lstm(x, (h0, c0))
        loss = (y * y).sum() + c.sum()
        loss.backward(retain_graph=True)
        first = x.grad.clone()
        loss.backward()
        grads.append((first, x.grad))
    for e, t in zip(*grads):
        assert_same(e, t, 1e-5, 1e-6)


def test_output_changed_in_place_leaves_the_gradient_alone():
    """The op returns a copy of its hidden-state buffer, so `y.mul_(2)` cannot reach the
    states saved for the backward (torch gives the same gradient)."""
    arrays = _arrays(5, 2, 3, 4, 1, np.float64)
    t_lstm, e_lstm = torch.nn.LSTM(3, 4).double(), ember.nn.LSTM(3, 4).double()
    copy_state(t_lstm, e_lstm)
    grads = []
    for lib, lstm in ((ember, e_lstm), (torch, t_lstm)):
        x, h0, c0 = _leaves(lib, arrays)
        y, (h, _) = lstm(x, (h0, c0))
        y.mul_(2)
        (y.sum() + h.sum()).backward()
        grads.append(x.grad)
    assert_same(grads[0], grads[1], 1e-10, 1e-12)


def test_no_grad_forward_matches_torch():
    arrays = _arrays(5, 2, 3, 4, 2, np.float32)
    t_lstm = torch.nn.LSTM(3, 4, bidirectional=True)
    e_lstm = ember.nn.LSTM(3, 4, bidirectional=True)
    copy_state(t_lstm, e_lstm)
    outputs = []
    for lib, lstm in ((ember, e_lstm), (torch, t_lstm)):
        with lib.no_grad():
            y, (h, c) = lstm(*[lib.tensor(a) for a in arrays[:1]],
                             tuple(lib.tensor(a) for a in arrays[1:]))
        assert not y.requires_grad
        outputs.append((y, h, c))
    for e, t in zip(*outputs):
        assert_same(e, t, 1e-5, 1e-6)


@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck_and_gradgradcheck(reverse):
    """First and second derivatives (the create_graph path recomputes the steps with ember ops)
    by float64 finite differences, with respect to every input of the op."""
    steps, batch, features, hidden = 3, 2, 2, 2
    shapes = ((steps * batch, features), (4 * hidden, features), (4 * hidden, hidden),
              (4 * hidden,), (4 * hidden,), (batch, hidden), (batch, hidden))
    arrays = [RNG.standard_normal(s) * 0.5 for s in shapes]

    def layer(x, w_ih, w_hh, b_ih, b_hh, h0, c0):
        y, (h, c) = rnn_layer.lstm_layer(x, (w_ih, w_hh, b_ih, b_hh, None), (h0, c0), steps,
                                         reverse)
        return y, h, c

    assert gradcheck64(layer, *arrays)
    assert gradgradcheck64(layer, *arrays)


@pytest.mark.parametrize("reverse", [False, True])
def test_factors_in_blocks_of_steps_match_one_block_and_torch(reverse, monkeypatch):
    """The backward's factors computed in blocks of steps on the intra-op threads (forced here
    for a small layer: a block per step): bit for bit the one-block result, and torch's values
    and gradients."""
    steps, batch, features, hidden = 7, 3, 5, 6
    arrays = _arrays(steps, batch, features, hidden, 2 if reverse else 1, np.float32)
    t_lstm = torch.nn.LSTM(features, hidden, bidirectional=reverse)
    e_lstm = ember.nn.LSTM(features, hidden, bidirectional=reverse)
    copy_state(t_lstm, e_lstm)

    def run(lib, lstm):
        x, h0, c0 = _leaves(lib, arrays)
        y, (h, c) = lstm(x, (h0, c0))
        weights = lib.tensor(np.linspace(-1, 1, y.numel()).reshape(y.shape).astype(np.float32))
        ((y * weights).sum() + h.sum() - 2 * c.sum()).backward()
        return [y, h, c, x.grad, h0.grad, c0.grad] + [p.grad for p in lstm.parameters()]

    monkeypatch.setattr(rnn_layer, "_FACTOR_BLOCK", 1)
    blocked = run(ember, e_lstm)
    e_lstm.zero_grad()
    monkeypatch.setattr(rnn_layer, "_FACTOR_BLOCK", 1 << 40)
    for a, b in zip(blocked, run(ember, e_lstm)):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    for e, t in zip(blocked, run(torch, t_lstm)):
        assert_same(e, t, 1e-5, 1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hidden_products_in_column_blocks_match_one_matmul_and_torch(dtype, monkeypatch):
    """Batch 20, hidden 128: both step products (20, 128)·(128, 512) and (20, 512)·(512, 128)
    run as column blocks (NOTE [Thin matmuls in column blocks]); the same values and gradients
    as one matmul per product, within rounding, and as torch."""
    steps, batch, features, hidden = 5, 20, 8, 128
    assert rnn_layer._column_blocks(np.zeros((hidden, 4 * hidden)), batch,
                                    np.zeros((steps, batch, 4 * hidden)))[0].ndim == 3
    assert rnn_layer._column_blocks(np.zeros((4 * hidden, hidden)), batch,
                                    np.zeros((1, batch, hidden)))[0].ndim == 3
    arrays = _arrays(steps, batch, features, hidden, 1, dtype)
    t_lstm = torch.nn.LSTM(features, hidden).to(getattr(torch, np.dtype(dtype).name))
    e_lstm = ember.nn.LSTM(features, hidden).to(getattr(ember, np.dtype(dtype).name))
    copy_state(t_lstm, e_lstm)

    def run(lib, lstm):
        x, h0, c0 = _leaves(lib, arrays)
        y, (h, c) = lstm(x, (h0, c0))
        weights = lib.tensor(np.linspace(-1, 1, y.numel()).reshape(y.shape).astype(dtype))
        ((y * weights).sum() + h.sum() - 2 * c.sum()).backward()
        return [y, h, c, x.grad, h0.grad, c0.grad] + [p.grad for p in lstm.parameters()]

    blocked = run(ember, e_lstm)
    e_lstm.zero_grad()
    monkeypatch.setattr(rnn_layer, "_SMALL_PRODUCT", 1 << 62)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(blocked, run(ember, e_lstm)):
        assert_same(a, b, tol, tol)
    for e, t in zip(blocked, run(torch, t_lstm)):
        assert_same(e, t, tol, tol)
