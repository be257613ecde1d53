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


def _load_under_torch():
    """The same example with `torch` in place of ember: real PyTorch runs it unchanged."""
    source = EXAMPLE.read_text().replace("import ember as torch\n", "import torch\n")
    source = source.replace("from ember import", "from torch import")
    module = type(importlib)("word_language_model_torch")
    exec(compile(source, str(EXAMPLE), "exec"), module.__dict__)  # noqa: S102 - our own example
    return module


def test_word_language_model_loss_falls_as_under_torch():
    """Seeded alike, ember's random streams (#17) give the run torch gives: same init, same
    dropout masks, so the same losses up to float32 rounding."""
    arguments = dict(epochs=5, sentences=200, batch_size=8, lr=10.0, log_every=0)
    losses = _load().train(**arguments)
    assert np.isfinite(losses).all()
    assert losses[0] > 3.3  # about log(vocabulary size) at the start
    assert np.mean(losses[-5:]) < losses[0] - 0.3
    np.testing.assert_allclose(losses, _load_under_torch().train(**arguments), rtol=0, atol=1e-4)


def test_word_language_model_ties_weights():
    example = _load()
    model = example.RNNModel(20)
    assert model.decoder.weight is model.encoder.weight
    names = [name for name, _ in model.named_parameters()]
    assert "decoder.weight" not in names and "rnn.weight_hh_l1" in names
