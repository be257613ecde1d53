"""The dropout layers, ember/nn/modules/dropout.py (nn.Dropout, Dropout1d/2d/3d, AlphaDropout,
FeatureAlphaDropout): reprs, eval is identity, argument errors. The functional forms are tested
in tests/nn/test_functional.py (two tests below check a layer with its functional twin)."""

import numpy as np
import pytest
import torch

import ember

F = ember.nn.functional


@pytest.mark.parametrize("name,args", [("Dropout", ()), ("Dropout", (0.2, True)),
                                       ("Dropout1d", ()), ("Dropout2d", (0.3,)),
                                       ("Dropout3d", ()), ("AlphaDropout", (0.1,))])
def test_repr_and_eval_identity(name, args):
    e, t = getattr(ember.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(e) == repr(t)
    e.eval()
    shape = {"Dropout1d": (2, 3, 4), "Dropout3d": (2, 3, 4, 5, 6)}.get(name, (2, 3, 4, 5))
    x = ember.randn(*shape)
    assert np.array_equal(e(x).numpy(), x.numpy())


def test_dropout_edge_probabilities():
    """F.dropout at p = 0 and 1 and in eval, and the probability check of F.dropout and
    nn.Dropout."""
    x = ember.randn(4, 5)
    assert np.array_equal(F.dropout(x, 0.0).numpy(), x.numpy())
    assert np.all(F.dropout(x, 1.0).numpy() == 0)
    assert F.dropout(x, 0.5, training=False) is x
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout(x, 1.5)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        ember.nn.Dropout(-0.1)


def test_feature_alpha_dropout_drops_whole_channels():
    """F.feature_alpha_dropout, and nn.FeatureAlphaDropout's repr."""
    ember.manual_seed(3)
    x = ember.ones(4, 200, 3, 3)
    y = F.feature_alpha_dropout(x, 0.5, training=True).numpy().reshape(800, 9)
    assert np.all(y.min(1) == y.max(1))  # constant over each channel
    assert len(np.unique(y[:, 0])) == 2
    assert repr(ember.nn.FeatureAlphaDropout(0.2)) == repr(torch.nn.FeatureAlphaDropout(0.2))


@pytest.mark.parametrize("name, shape", [("Dropout2d", (30, 40)), ("Dropout3d", (30, 4, 5))])
def test_channel_dropout_layer_on_another_rank_warns(name, shape):
    """As in PyTorch: a deprecation warning, then (N, C) slices dropped (elements of a 2-D
    input; an unbatched Dropout3d input is one sample whose channels are dim 0)."""
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match="Received a"):
            y = getattr(lib.nn, name)(0.5)(lib.ones(*shape)).numpy()
        slices = y.reshape(30 if name == "Dropout3d" else 30 * 40, -1)
        assert np.all((slices == 0).all(1) | (slices == 2).all(1))
        assert 0.2 < (slices[:, 0] == 0).mean() < 0.8
