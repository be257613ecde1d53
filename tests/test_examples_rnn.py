"""examples/word_language_model.py (Embedding -> 2-layer LSTM -> tied Linear, truncated BPTT
with detached hidden state, gradient clipping, hand-written SGD) trains and its loss falls."""

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "word_language_model.py"


def _load():
    spec = importlib.util.spec_from_file_location("word_language_model", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_word_language_model_loss_falls():
    example = _load()
    losses = example.train(epochs=5, sentences=200, batch_size=8, lr=10.0, log_every=0)
    assert np.isfinite(losses).all()
    assert losses[0] > 3.3  # about log(vocabulary size) at the start
    assert np.mean(losses[-5:]) < losses[0] - 0.8


def test_word_language_model_ties_weights():
    example = _load()
    model = example.RNNModel(20)
    assert model.decoder.weight is model.encoder.weight
    names = [name for name, _ in model.named_parameters()]
    assert "decoder.weight" not in names and "rnn.weight_hh_l1" in names
