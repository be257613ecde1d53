"""ember/ops/rnn_stack.py: stacked LSTM layers as one pipelined op (NOTE [Pipelined layers]) and
both directions of a bidirectional layer side by side (NOTE [Both directions at once]), against
torch and against ember's layer-after-layer, direction-after-direction path: outputs, final
states and the gradients of the input, the initial states and every weight, with and without
biases and dropout between the layers (torch's masks, from the same seed), float32 and float64;
which inputs take these ops; any number of blocks of time; first and second derivatives by
float64 finite differences; an error inside the pipeline."""

import numpy as np
import pytest
import torch

import ember
from ember.ops import rnn as ember_rnn
from ember.ops import rnn_stack
from tests.differential import assert_same, copy_state, gradcheck64, gradgradcheck64


@pytest.fixture(autouse=True)
def two_threads():
    """The stack runs only with more than one intra-op thread: make sure there are two."""
    old = ember.get_num_threads()
    ember.set_num_threads(2)
    yield
    ember.set_num_threads(old)


def _stack_calls(monkeypatch, op=rnn_stack.LSTMStack):
    calls = []
    forward = op.forward

    def counted(ctx, *args):
        calls.append(len(args))
        return forward(ctx, *args)
    monkeypatch.setattr(op, "forward", staticmethod(counted))
    return calls


def _run(lib, layers, dropout, bias, dtype, train=True, bidirectional=False):
    """A seeded LSTM stack's outputs and every gradient, in one library."""
    lib.manual_seed(0)
    lstm = lib.nn.LSTM(5, 7, num_layers=layers, dropout=dropout, bias=bias,
                       bidirectional=bidirectional).to(getattr(lib, np.dtype(dtype).name))
    lstm.train(train)
    x = lib.randn(9, 3, 5, dtype=lstm.weight_ih_l0.dtype, requires_grad=True)
    states = layers * (2 if bidirectional else 1)
    h0, c0 = (lib.randn(states, 3, 7, dtype=x.dtype, requires_grad=True) for _ in range(2))
    y, (h, c) = lstm(x, (h0, c0))
    weights = lib.linspace(-1, 1, y.numel(), dtype=x.dtype).reshape(y.shape)
    ((y * weights).sum() + 2 * h.sum() - (c * c).sum()).backward()
    return [y, h, c, x.grad, h0.grad, c0.grad] + [p.grad for p in lstm.parameters()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layers,dropout,bias", [(2, 0.0, True), (3, 0.0, False),
                                                 (2, 0.4, True), (4, 0.5, True), (2, 1.0, True)])
def test_stack_matches_torch(layers, dropout, bias, dtype, monkeypatch):
    calls = _stack_calls(monkeypatch)
    results = [_run(lib, layers, dropout, bias, dtype) for lib in (ember, torch)]
    assert calls, "the stack did not run"
    tol = 2e-5 if dtype == np.float32 else 1e-11
    for e, t in zip(*results):
        assert_same(e, t, tol, tol)


@pytest.mark.parametrize("blocks", [1, 2, 3, 9, 50])
def test_stack_equals_layer_after_layer(blocks, monkeypatch):
    """Every block count gives the layer-after-layer path's numbers (float64: the row blocks of
    the input projections sum each dot product alike)."""
    reference = _run(ember, 3, 0.3, True, np.float64)
    monkeypatch.setattr(rnn_stack, "_BLOCKS", blocks)
    calls = _stack_calls(monkeypatch)
    pipelined = _run(ember, 3, 0.3, True, np.float64)
    assert calls
    monkeypatch.setattr(ember_rnn, "fits_lstm_stack", lambda *args: False)
    layered = _run(ember, 3, 0.3, True, np.float64)
    for p, r, q in zip(pipelined, layered, reference):
        np.testing.assert_allclose(p.detach().numpy(), r.detach().numpy(), rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(q.detach().numpy(), r.detach().numpy(), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("case", ["one_layer", "bidirectional", "proj_size", "one_thread",
                                  "packed_shrinking"])
def test_other_stacks_take_the_layer_path(case, monkeypatch):
    calls = _stack_calls(monkeypatch)
    kwargs = {"num_layers": 1 if case == "one_layer" else 2,
              "bidirectional": case == "bidirectional", "proj_size": 3 * (case == "proj_size")}
    lstm = ember.nn.LSTM(4, 6, **kwargs)
    x = ember.randn(5, 2, 4)
    if case == "one_thread":
        ember.set_num_threads(1)
    if case == "packed_shrinking":
        x = ember.nn.utils.rnn.pack_padded_sequence(x, [5, 3])
    lstm(x)
    assert calls == []


def test_eval_mode_draws_no_dropout_and_matches_torch(monkeypatch):
    calls = _stack_calls(monkeypatch)
    results = [_run(lib, 3, 0.5, True, np.float64, train=False) for lib in (ember, torch)]
    assert calls
    for e, t in zip(*results):
        assert_same(e, t, 1e-11, 1e-11)
    assert ember.rand(3).tolist() == pytest.approx(torch.rand(3).tolist())  # streams in step


def test_gradcheck_and_gradgradcheck():
    """First and second derivatives of every input of the op (the create_graph path recomputes
    the lower layers with LSTMLayer ops), by float64 finite differences."""
    rng = np.random.default_rng(0)
    steps, batch, features, hidden, layers = 3, 2, 2, 2, 2
    shapes = [(steps * batch, features), (layers, batch, hidden), (layers, batch, hidden)]
    for k in range(layers):
        shapes += [(4 * hidden, features if k == 0 else hidden), (4 * hidden, hidden),
                   (4 * hidden,), (4 * hidden,)]
    arrays = [rng.standard_normal(s) * 0.5 for s in shapes]
    mask = (rng.random((steps * batch, hidden)) > 0.3) / 0.7

    def stack(x, h0, c0, *weights):
        y, h, c = rnn_stack.LSTMStack.apply(x, h0, c0, (mask,), steps, *weights)
        return y, h, c

    assert gradcheck64(stack, *arrays)
    assert gradgradcheck64(stack, *arrays)


def test_a_failing_layer_stops_the_pipeline(monkeypatch):
    """An error inside one layer's block is raised to the caller; no thread is left waiting."""
    run = rnn_stack.ForwardLoop.run

    def failing(self, start, stop):
        if start > 0 and self.w_ih.shape[0] == 7:  # the second layer, after its first block
            raise FloatingPointError("boom")
        return run(self, start, stop)
    monkeypatch.setattr(rnn_stack.ForwardLoop, "run", failing)
    lstm = ember.nn.LSTM(5, 7, num_layers=3)
    with pytest.raises(FloatingPointError, match="boom"):
        lstm(ember.randn(9, 3, 5))
    monkeypatch.setattr(rnn_stack.ForwardLoop, "run", run)
    y, _ = lstm(ember.randn(9, 3, 5))  # the pool still works
    assert y.shape == (9, 3, 7)


def test_copy_state_round_trip_with_torch_weights():
    """A torch LSTM's state_dict loaded into ember gives torch's output through the stack."""
    t_lstm, e_lstm = torch.nn.LSTM(4, 6, num_layers=2), ember.nn.LSTM(4, 6, num_layers=2)
    copy_state(t_lstm, e_lstm)
    x = np.random.default_rng(1).standard_normal((7, 2, 4)).astype(np.float32)
    assert_same(e_lstm(ember.tensor(x))[0], t_lstm(torch.tensor(x))[0], 2e-5, 2e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layers,dropout,bias", [(1, 0.0, True), (2, 0.0, False),
                                                 (3, 0.4, True)])
def test_bidirectional_matches_torch(layers, dropout, bias, dtype, monkeypatch):
    calls = _stack_calls(monkeypatch, rnn_stack.LSTMBidirectional)
    results = [_run(lib, layers, dropout, bias, dtype, bidirectional=True)
               for lib in (ember, torch)]
    assert len(calls) == layers
    tol = 2e-5 if dtype == np.float32 else 1e-11
    for e, t in zip(*results):
        assert_same(e, t, tol, tol)


def test_bidirectional_equals_direction_after_direction(monkeypatch):
    side_by_side = _run(ember, 2, 0.3, True, np.float64, bidirectional=True)
    monkeypatch.setattr(ember_rnn, "fits_lstm_bidirectional", lambda *args: False)
    one_by_one = _run(ember, 2, 0.3, True, np.float64, bidirectional=True)
    for a, b in zip(side_by_side, one_by_one):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_bidirectional_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(3)
    steps, batch, features, hidden = 3, 2, 2, 2
    shapes = [(steps * batch, features), (2, batch, hidden), (2, batch, hidden)]
    shapes += 2 * [(4 * hidden, features), (4 * hidden, hidden), (4 * hidden,), (4 * hidden,)]
    arrays = [rng.standard_normal(s) * 0.5 for s in shapes]

    def layer(x, h0, c0, *weights):
        return rnn_stack.LSTMBidirectional.apply(x, h0, c0, steps, *weights)

    assert gradcheck64(layer, *arrays)
    assert gradgradcheck64(layer, *arrays)
