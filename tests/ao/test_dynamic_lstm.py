"""Dynamic quantization of LSTMs against torch, on the word-language-model tutorial's model:
the printed model, state_dict keys and versions, the quantized weights (exact), and the outputs
(NOTE [The quantized LSTM's steps]: the quantized products are FBGEMM's to the bit, but ember's
sigmoid and tanh differ from ATen's vectorized ones in the last place, so hidden and cell
states agree to a few float32 ulps; the decoder's quantized input absorbs those differences)."""

import io
import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error

pytestmark = [pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor"),
              pytest.mark.filterwarnings("ignore:torch.ao.quantization is deprecated"),
              pytest.mark.filterwarnings("ignore:dropout option adds dropout"),
              pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")]

RNG = np.random.default_rng(31)
NTOKEN, NINP, NHID = 120, 24, 40


def word_language_model(lib, nlayers=2, bidirectional=False, batch_first=False):
    """The tutorial's LSTMModel (encoder, dropout, LSTM, decoder)."""

    class LSTMModel(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = lib.nn.Dropout(0.5)
            self.encoder = lib.nn.Embedding(NTOKEN, NINP)
            self.rnn = lib.nn.LSTM(NINP, NHID, nlayers, dropout=0.5, batch_first=batch_first,
                                   bidirectional=bidirectional)
            self.decoder = lib.nn.Linear(NHID * (2 if bidirectional else 1), NTOKEN)
            self.nlayers, self.nhid = nlayers, NHID

        def forward(self, input, hidden):
            emb = self.drop(self.encoder(input))
            output, hidden = self.rnn(emb, hidden)
            return self.decoder(self.drop(output)), hidden

        def init_hidden(self, bsz):
            weight = next(self.parameters())
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))

    return LSTMModel()


def quantized_pair(**kwargs):
    torch.manual_seed(int(RNG.integers(1000)))
    t_model, e_model = word_language_model(torch, **kwargs), word_language_model(ember, **kwargs)
    e_model.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy())
                             for k, v in t_model.state_dict().items()})
    tq = torch.quantization.quantize_dynamic(t_model, {torch.nn.LSTM, torch.nn.Linear},
                                             dtype=torch.qint8)
    eq = ember.quantization.quantize_dynamic(e_model, {ember.nn.LSTM, ember.nn.Linear},
                                             dtype=ember.qint8)
    return eq, tq


def assert_close_ulps(e, t, ulps=8):
    """e within a few float32 ulps of t's magnitude (ember's sigmoid / tanh differ by ulps)."""
    e_array, t_array = e.detach().numpy(), t.detach().numpy()
    assert e_array.shape == t_array.shape and e_array.dtype == t_array.dtype
    tolerance = ulps * np.finfo(np.float32).eps * max(1.0, float(np.abs(t_array).max()))
    np.testing.assert_allclose(e_array, t_array, rtol=0, atol=tolerance)


@pytest.mark.parametrize("kwargs", [{}, {"nlayers": 1}, {"bidirectional": True},
                                    {"batch_first": True, "nlayers": 3}])
def test_word_language_model(kwargs):
    eq, tq = quantized_pair(**kwargs)
    assert repr(eq) == repr(tq)
    assert list(eq.state_dict()) == list(tq.state_dict())
    assert eq.state_dict()._metadata == tq.state_dict()._metadata
    for name in ("get_weight", "get_bias"):
        e_dict, t_dict = getattr(eq.rnn, name)(), getattr(tq.rnn, name)()
        assert list(e_dict) == list(t_dict)
        for key in t_dict:
            if name == "get_weight":
                assert repr(e_dict[key]) == repr(t_dict[key])
                assert_same(e_dict[key].int_repr(), t_dict[key].int_repr(), exact=True)
            else:
                assert_same(e_dict[key], t_dict[key], exact=True)
    shape = (7, 30) if kwargs.get("batch_first") else (30, 7)
    ids = RNG.integers(0, NTOKEN, shape)
    layers = kwargs.get("nlayers", 2) * (2 if kwargs.get("bidirectional") else 1)
    hidden = (RNG.standard_normal((2, layers, 7, NHID)) * 0.5).astype(np.float32)
    with torch.no_grad():
        t_out, (t_h, t_c) = tq(torch.from_numpy(ids), tuple(torch.from_numpy(h) for h in hidden))
    e_out, (e_h, e_c) = eq(ember.from_numpy(ids), tuple(ember.from_numpy(h) for h in hidden))
    assert_close_ulps(e_h, t_h)
    assert_close_ulps(e_c, t_c)
    assert_close_ulps(e_out, t_out, ulps=64)


def test_zero_initial_state_and_evaluation_loop():
    """The tutorial's evaluate(): init_hidden, batches of 35 steps, the loss summed."""
    eq, tq = quantized_pair()
    data = RNG.integers(0, NTOKEN, (141, 4))
    totals = []
    for lib, model in ((ember, eq), (torch, tq)):
        model.eval()
        hidden, total = model.init_hidden(4), 0.0
        with lib.no_grad():
            for i in range(0, data.shape[0] - 1, 35):
                seq = min(35, data.shape[0] - 1 - i)
                x = lib.from_numpy(data[i:i + seq].copy())
                target = lib.from_numpy(data[i + 1:i + 1 + seq].reshape(-1).copy())
                output, hidden = model(x, hidden)
                hidden = tuple(h.detach() for h in hidden)
                loss = lib.nn.functional.cross_entropy(output.view(-1, NTOKEN), target)
                total += seq * loss.item()
        totals.append(total)
    assert abs(totals[0] - totals[1]) <= 1e-5 * abs(totals[1])
    e_out, _ = eq(ember.from_numpy(data[:5]), None)  # no hidden state: zeros
    with torch.no_grad():
        t_out, _ = tq(torch.from_numpy(data[:5]), None)
    assert_close_ulps(e_out, t_out, ulps=64)


def test_outputs_outside_no_grad_carry_the_fallback_node():
    """Outside no_grad the embedding's output requires grad: PyTorch's quantized LSTM and
    Linear have no autograd formula, so their outputs get the "warn" fallback node, which lists
    the tensor inputs and warns (giving no gradient) on backward."""
    eq, tq = quantized_pair()
    data = RNG.integers(0, NTOKEN, (6, 2))
    seen = []
    for lib, model in ((ember, eq), (torch, tq)):
        model.eval()
        out, (h, c) = model.rnn(model.encoder(lib.from_numpy(data.copy())), None)
        decoded = model.decoder(out)
        nodes = [(t.grad_fn.name(), [type(n).__name__ for n, _ in t.grad_fn.next_functions],
                  repr(t).split("grad_fn=")[1]) for t in (out, h, c, decoded)]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            decoded.sum().backward(retain_graph=True)
            out.sum().backward()
        seen.append((nodes, model.encoder.weight.grad,
                     [str(w.message).split(":")[0] for w in caught]))
    assert seen[0] == seen[1]


def test_quantized_state_dict_saves():
    """print_size_of_model: the quantized model's state_dict goes through torch.save."""
    eq, tq = quantized_pair()
    sizes = []
    for lib, model in ((ember, eq), (torch, tq)):
        buffer = io.BytesIO()
        lib.save(model.state_dict(), buffer)
        sizes.append(len(buffer.getvalue()))
    float_buffer = io.BytesIO()
    ember.save(word_language_model(ember).state_dict(), float_buffer)
    assert sizes[0] < len(float_buffer.getvalue()) / 2  # int8 weights: a smaller file
    assert abs(sizes[0] - sizes[1]) < 0.25 * sizes[1]  # about torch's


def test_module_repr_and_constructor():
    e = ember.ao.nn.quantized.dynamic.LSTM(3, 4, 2, batch_first=True, bidirectional=True)
    t = torch.ao.nn.quantized.dynamic.LSTM(3, 4, 2, batch_first=True, bidirectional=True)
    assert repr(e) == repr(t)
    e_param, t_param = e._all_weight_values[0].param, t._all_weight_values[0].param
    assert str(e_param) == str(t_param)
    assert repr(e_param).split(" at ")[0] == repr(t_param).split(" at ")[0]
    assert list(e.state_dict()) == list(t.state_dict())


LSTM_ERRORS = [
    lambda lib, m: m(lib.ones(2, 3)),
    lambda lib, m: m(lib.ones(0, 2, 3)),
    lambda lib, m: m(lib.ones(5, 2, 4)),
    lambda lib, m: m(lib.ones(5, 2, 3, dtype=lib.float64)),
    lambda lib, m: m(lib.ones(5, 2, 3), (lib.zeros(1, 3, 4), lib.zeros(1, 2, 4))),
    lambda lib, m: m(lib.ones(5, 2, 3), (lib.zeros(1, 2, 4), lib.zeros(2, 2, 4))),
]


@pytest.mark.parametrize("index", range(len(LSTM_ERRORS)))
def test_lstm_errors(index):
    def call(lib):
        model = lib.ao.quantization.quantize_dynamic(lib.nn.Sequential(lib.nn.LSTM(3, 4)),
                                                     {lib.nn.LSTM})
        return LSTM_ERRORS[index](lib, model[0])
    assert_same_error(call, same_message=True)


def test_what_ember_does_not_quantize_says_so():
    for name in ("GRU", "LSTMCell", "RNNCell", "GRUCell"):
        layer = getattr(ember.nn, name)(3, 4)
        with pytest.raises(NotImplementedError, match=f"dynamic quantization of nn.{name}"):
            ember.ao.quantization.quantize_dynamic(ember.nn.Sequential(layer))
    with pytest.raises(NotImplementedError, match="float16"):
        ember.ao.quantization.quantize_dynamic(ember.nn.Sequential(ember.nn.LSTM(3, 4)),
                                               {ember.nn.LSTM}, dtype=ember.float16)
