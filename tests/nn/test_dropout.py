"""Dropout layers: eval is identity, training zeroes with probability p and rescales kept
values by 1/(1-p), channel variants zero whole channels, the gradient uses the same mask."""

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


def test_dropout_statistics_and_gradient():
    ember.manual_seed(0)
    x = ember.ones(200, 500, requires_grad=True)
    y = F.dropout(x, p=0.3)
    values = y.detach().numpy()
    kept = values != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(values[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)
    assert y.grad_fn.name() == "NativeDropoutBackward0"


def test_dropout_edge_probabilities():
    x = ember.randn(4, 5)
    assert np.array_equal(F.dropout(x, 0.0).numpy(), x.numpy())
    assert np.all(F.dropout(x, 1.0).numpy() == 0)
    assert F.dropout(x, 0.5, training=False) is x
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout(x, 1.5)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        ember.nn.Dropout(-0.1)


@pytest.mark.parametrize("fn,shape", [(F.dropout1d, (8, 50, 7)), (F.dropout2d, (8, 50, 3, 3)),
                                      (F.dropout3d, (4, 50, 2, 2, 2)), (F.dropout1d, (50, 7))])
def test_channel_dropout_zeroes_whole_channels(fn, shape):
    ember.manual_seed(1)
    y = fn(ember.ones(*shape), p=0.5).numpy()
    lead = 2 if len(shape) in (3, 4, 5) and shape[0] != 50 else 1
    per_channel = y.reshape(int(np.prod(shape[:lead])), -1)
    assert np.all((per_channel == 0).all(1) | (per_channel == 2).all(1))
    assert 0.3 < (per_channel[:, 0] == 0).mean() < 0.7


def test_dropout2d_on_3d_input_warns():
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input"):
        F.dropout2d(ember.ones(2, 3, 4))


def test_inplace_dropout():
    x = ember.ones(10, 10)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and (x.numpy() == 0).any()


def test_alpha_dropout_keeps_mean_and_variance():
    ember.manual_seed(2)
    x = ember.randn(400, 400)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02


def test_feature_alpha_dropout_drops_whole_channels():
    ember.manual_seed(3)
    x = ember.ones(4, 200, 3, 3)
    y = F.feature_alpha_dropout(x, 0.5, training=True).numpy().reshape(800, 9)
    assert np.all(y.min(1) == y.max(1))  # constant over each channel
    assert len(np.unique(y[:, 0])) == 2
    assert repr(ember.nn.FeatureAlphaDropout(0.2)) == repr(torch.nn.FeatureAlphaDropout(0.2))


def test_gumbel_softmax():
    ember.manual_seed(4)
    logits = ember.tensor(np.log(np.array([[0.1, 0.2, 0.7]] * 4000, dtype=np.float32)),
                          requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.detach().numpy().sum(1), 1, rtol=1e-5)
    hard = F.gumbel_softmax(logits, hard=True)
    values = hard.detach().numpy()
    assert set(np.unique(values)) == {0.0, 1.0} and np.all(values.sum(1) == 1)
    np.testing.assert_allclose(values.mean(0), [0.1, 0.2, 0.7], atol=0.03)  # Gumbel-max
    (hard * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0
