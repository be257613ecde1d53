"""weight_norm, both the parametrization (ember/nn/utils/parametrizations.py) and the old
hook-based API (ember/nn/utils/weight_norm.py), against torch: g's shape and value, the weight,
and the gradients of g and v, for every layer kind and dim (including None: the whole tensor)."""

import warnings

import pytest
import torch

import ember
from tests.differential import assert_same, copy_state

LAYERS = {
    "linear": (lambda nn: nn.Linear(4, 3), (2, 4)),
    "conv1d": (lambda nn: nn.Conv1d(2, 3, 2), (2, 2, 5)),
    "conv2d": (lambda nn: nn.Conv2d(2, 3, 2), (2, 2, 4, 4)),
    "conv3d": (lambda nn: nn.Conv3d(2, 3, 2), (1, 2, 3, 3, 3)),
    "convT2d": (lambda nn: nn.ConvTranspose2d(2, 3, 2), (2, 2, 3, 3)),
}
DIMS = [0, 1, -1, -2, None]


def _pair(layer):
    """(ember module, torch module, ember input, torch input) with the same weights."""
    make, shape = LAYERS[layer]
    theirs, ours = make(torch.nn), make(ember.nn)
    copy_state(theirs, ours)
    x = torch.randn(*shape)
    return ours, theirs, ember.from_numpy(x.numpy().copy()), x


def _run(ours, theirs, x_e, x_t, g_name, v_name):
    """Forward and backward on both; compare outputs, g, v and their gradients."""
    out_e, out_t = ours(x_e), theirs(x_t)
    assert_same(out_e, out_t)
    (out_e ** 2).sum().backward()
    (out_t ** 2).sum().backward()
    for name in (g_name, v_name):
        e, t = ours.get_parameter(name), theirs.get_parameter(name)
        assert_same(e, t)
        assert_same(e.grad, t.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_parametrized_weight_norm_matches_torch(layer, dim):
    ours, theirs, x_e, x_t = _pair(layer)
    ember.nn.utils.parametrizations.weight_norm(ours, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(theirs, dim=dim)
    assert_same(ours.weight, theirs.weight)
    _run(ours, theirs, x_e, x_t, "parametrizations.weight.original0",
         "parametrizations.weight.original1")


@pytest.mark.parametrize("dim", DIMS, ids=str)
@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_hook_weight_norm_matches_torch(layer, dim):
    ours, theirs, x_e, x_t = _pair(layer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ember.nn.utils.weight_norm(ours, dim=dim)
        torch.nn.utils.weight_norm(theirs, dim=dim)
    assert_same(ours.weight, theirs.weight)
    _run(ours, theirs, x_e, x_t, "weight_g", "weight_v")
    ember.nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert sorted(n for n, _ in ours.named_parameters()) == sorted(
        n for n, _ in theirs.named_parameters())
    assert_same(ours.weight, theirs.weight)


def test_weight_norm_dim_none_is_a_scalar_magnitude():
    ours = ember.nn.utils.parametrizations.weight_norm(ember.nn.Linear(4, 3), dim=None)
    theirs = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(4, 3), dim=None)
    magnitudes = (ours.parametrizations.weight.original0, theirs.parametrizations.weight.original0)
    assert tuple(magnitudes[0].shape) == tuple(magnitudes[1].shape) == ()


def test_hook_weight_norm_warns_and_rejects_a_second_hook():
    for lib in (ember, torch):
        with pytest.warns(FutureWarning, match="is deprecated in favor of"):
            module = lib.nn.utils.weight_norm(lib.nn.Linear(2, 3))
        with pytest.warns(FutureWarning), pytest.raises(RuntimeError, match="two weight_norm"):
            lib.nn.utils.weight_norm(module)
        with pytest.raises(ValueError, match="weight_norm of 'bias' not found"):
            lib.nn.utils.remove_weight_norm(module, "bias")


def test_hook_weight_norm_rejects_uninitialized_parameters():
    for lib in (ember, torch):
        with pytest.warns(FutureWarning), pytest.raises(ValueError, match="uninitialized"):
            lib.nn.utils.weight_norm(lib.nn.LazyLinear(3))
