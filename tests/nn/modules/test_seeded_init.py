"""Modules built after the same `manual_seed` have PyTorch's exact parameters: every module's
`reset_parameters` makes torch's init calls in torch's order (NOTE [PyTorch's random streams]).

Each row builds a module in ember and in torch after `manual_seed(seed)`; every parameter (by
name, in order) must be equal bit for bit, and the default generator must end in the same state
(a float64 `exponential_` probe). Rows built only on `uniform_` (Linear, Conv, RNN, attention)
need `Tensor.uniform_` to be torch's; Embedding and a few others need `normal_` too.
"""

import pytest
import torch

import ember

SEEDS = (0, 42, 2026)

MODULES = {
    "Linear": lambda nn: nn.Linear(20, 7),
    "Linear_no_bias": lambda nn: nn.Linear(5, 3, bias=False),
    "Bilinear": lambda nn: nn.Bilinear(4, 5, 3),
    "Conv1d": lambda nn: nn.Conv1d(3, 4, 3),
    "Conv2d": lambda nn: nn.Conv2d(3, 8, 3),
    "Conv2d_groups": lambda nn: nn.Conv2d(4, 6, (3, 2), groups=2, bias=False),
    "Conv3d": lambda nn: nn.Conv3d(2, 3, 2),
    "ConvTranspose1d": lambda nn: nn.ConvTranspose1d(3, 2, 3),
    "ConvTranspose2d_groups": lambda nn: nn.ConvTranspose2d(4, 2, 3, groups=2),
    "ConvTranspose3d": lambda nn: nn.ConvTranspose3d(2, 3, 2),
    "RNN": lambda nn: nn.RNN(5, 7, 2),
    "LSTM_bidirectional": lambda nn: nn.LSTM(4, 6, num_layers=2, bidirectional=True),
    "LSTM_proj": lambda nn: nn.LSTM(4, 6, proj_size=3),
    "GRU": lambda nn: nn.GRU(3, 5, bias=False),
    "RNNCell": lambda nn: nn.RNNCell(3, 4),
    "LSTMCell": lambda nn: nn.LSTMCell(3, 4),
    "GRUCell": lambda nn: nn.GRUCell(3, 4),
    "MultiheadAttention": lambda nn: nn.MultiheadAttention(8, 2),
    "MultiheadAttention_kdim_bias_kv": lambda nn: nn.MultiheadAttention(
        8, 2, kdim=5, vdim=6, add_bias_kv=True),
    "TransformerEncoderLayer": lambda nn: nn.TransformerEncoderLayer(8, 2, 16),
    "TransformerDecoderLayer": lambda nn: nn.TransformerDecoderLayer(8, 2, 16),
    "Transformer": lambda nn: nn.Transformer(8, 2, 1, 1, 16),
    "norms_then_linear": lambda nn: nn.Sequential(
        nn.BatchNorm2d(3), nn.LayerNorm(4), nn.GroupNorm(1, 3), nn.PReLU(), nn.Linear(3, 2)),
    "cnn": lambda nn: nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2),
                                    nn.Flatten(), nn.Dropout(0.5), nn.Linear(4 * 13 * 13, 10)),
    # these also draw normal_ (Embedding) or a mix
    "Embedding": lambda nn: nn.Embedding(10, 4, padding_idx=1),
    "Embedding_odd": lambda nn: nn.Embedding(7, 3),
    "EmbeddingBag": lambda nn: nn.EmbeddingBag(10, 3),
}


def _parameters(module):
    return [(name, p.detach().numpy().copy()) for name, p in module.named_parameters()]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(MODULES))
def test_parameters_equal_torch(name, seed):
    """Same parameter names in the same order with the same values, bit for bit."""
    results = []
    for lib in (ember, torch):
        lib.manual_seed(seed)
        module = MODULES[name](lib.nn)
        probe = lib.empty(3, dtype=lib.float64).exponential_().tolist()
        results.append((_parameters(module), probe))
    (e_params, e_probe), (t_params, t_probe) = results
    assert [n for n, _ in e_params] == [n for n, _ in t_params]
    for (n, e), (_, t) in zip(e_params, t_params):
        assert e.dtype == t.dtype and e.shape == t.shape, n
        assert (e == t).all(), f"{n}: {(e != t).sum()} of {e.size} differ"
    assert e_probe == t_probe
