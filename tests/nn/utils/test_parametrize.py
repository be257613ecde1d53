"""Parametrizations, weight norm (both APIs), spectral norm and pruning against torch: the
same state_dict keys, reprs, outputs and gradients after loading torch's state."""

import numpy as np
import pytest
import torch
import torch.nn.utils.fusion  # noqa: F401 - torch does not import these with torch.nn.utils
import torch.nn.utils.prune  # noqa: F401

import ember
from tests.differential import to_ember


def _sym(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(0, 1)

    return Symmetric()


REGISTER = {
    "symmetric": lambda lib, m: lib.nn.utils.parametrize.register_parametrization(
        m, "weight", _sym(lib)),
    "weight_norm": lambda lib, m: lib.nn.utils.parametrizations.weight_norm(m),
    "weight_norm_dim1": lambda lib, m: lib.nn.utils.parametrizations.weight_norm(m, dim=1),
    "spectral_norm": lambda lib, m: lib.nn.utils.parametrizations.spectral_norm(m),
    "old_weight_norm": lambda lib, m: lib.nn.utils.weight_norm(m),
    "old_spectral_norm": lambda lib, m: lib.nn.utils.spectral_norm(m),
}


def _pair(kind):
    reference, model = torch.nn.Linear(3, 3), ember.nn.Linear(3, 3)
    REGISTER[kind](torch, reference)
    REGISTER[kind](ember, model)
    model.load_state_dict({k: to_ember(v) for k, v in reference.state_dict().items()})
    return model, reference


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("kind", list(REGISTER))
def test_parametrized_module_matches_torch(kind):
    model, reference = _pair(kind)
    assert list(model.state_dict()) == list(reference.state_dict())
    assert [n for n, _ in model.named_parameters()] == \
        [n for n, _ in reference.named_parameters()]
    if not kind.startswith("old_"):
        assert repr(model) == repr(reference) and type(model).__name__ == "ParametrizedLinear"
    model.eval()
    reference.eval()
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    out, expected = model(ember.tensor(x)), reference(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    out.square().sum().backward()
    expected.square().sum().backward()
    for (name, ours), (_, theirs) in zip(model.named_parameters(), reference.named_parameters()):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-4,
                                   atol=1e-6, err_msg=name)


def test_remove_parametrizations_and_errors():
    for lib in (ember, torch):
        model = lib.nn.Linear(3, 3)
        lib.nn.utils.parametrize.register_parametrization(model, "weight", _sym(lib))
        value = model.weight.detach().clone()
        assert lib.nn.utils.parametrize.is_parametrized(model, "weight")
        lib.nn.utils.parametrize.remove_parametrizations(model, "weight")
        assert type(model).__name__ == "Linear" and list(model.state_dict()) == ["bias", "weight"]
        assert (model.weight - value).abs().max().item() == 0
        with pytest.raises(ValueError):
            lib.nn.utils.parametrize.remove_parametrizations(model, "weight")
        with pytest.raises(ValueError, match="shape"):
            lib.nn.utils.parametrize.register_parametrization(
                model, "weight", lib.nn.Flatten(0))
        # assigning goes through right_inverse, which a parametrization may not have
        lib.nn.utils.parametrize.register_parametrization(model, "weight", _sym(lib))
        with pytest.raises(RuntimeError, match="^parametrization Symmetric does not implement "
                                               "right_inverse.$"):
            model.weight = lib.eye(3)


def test_pruning_matches_torch():
    for lib in (ember, torch):
        model = lib.nn.Linear(4, 3)
        with lib.no_grad():
            model.weight.copy_(lib.arange(12.0).reshape(3, 4) - 5.5)
        lib.nn.utils.prune.l1_unstructured(model, "weight", amount=0.5)
        assert [n for n, _ in model.named_buffers()] == ["weight_mask"]
        assert int(model.weight_mask.sum()) == 6
        lib.nn.utils.prune.l1_unstructured(model, "weight", amount=2)  # among the 6 kept
        assert int(model.weight_mask.sum()) == 4
        with pytest.raises(ValueError, match="multidimensional"):
            lib.nn.utils.prune.ln_structured(model, "bias", amount=1, n=2, dim=0)
        assert lib.nn.utils.prune.is_pruned(model)
        out = model(lib.ones(1, 4))
        assert out.shape == (1, 3)
        lib.nn.utils.prune.remove(model, "weight")
        assert "weight" in dict(model.named_parameters())
    masks = []
    for lib in (ember, torch):
        conv = lib.nn.Conv2d(2, 4, 3)
        with lib.no_grad():
            signs = (-1.0) ** lib.arange(4.0).reshape(4, 1, 1, 1)
            conv.weight.copy_(lib.arange(72.0).reshape(4, 2, 3, 3).flip(0) * signs)
        lib.nn.utils.prune.ln_structured(conv, "weight", amount=0.5, n=1, dim=0)
        masks.append(conv.weight_mask.sum(dim=(1, 2, 3)).tolist())
    assert masks[0] == masks[1]
    masks = []
    for lib in (ember, torch):
        a, b = lib.nn.Linear(3, 3), lib.nn.Linear(3, 2)
        with lib.no_grad():
            a.weight.copy_(lib.arange(9.0).reshape(3, 3))
            b.weight.copy_(lib.arange(6.0).reshape(2, 3) + 0.5)
        lib.nn.utils.prune.global_unstructured([(a, "weight"), (b, "weight")],
                                               lib.nn.utils.prune.L1Unstructured, amount=5)
        masks.append((a.weight_mask.tolist(), b.weight_mask.tolist()))
    assert masks[0] == masks[1]


def test_data_parallel_on_a_cpu_build():
    for lib in (ember, torch):
        inner = lib.nn.Linear(2, 3)
        parallel = lib.nn.DataParallel(inner)
        assert parallel.module is inner and parallel.device_ids == []
        assert list(parallel.state_dict()) == ["module.weight", "module.bias"]
        assert parallel(lib.ones(1, 2)).shape == (1, 3)
    assert repr(ember.nn.DataParallel(ember.nn.Linear(2, 3))) == \
        repr(torch.nn.DataParallel(torch.nn.Linear(2, 3)))


@pytest.mark.parametrize("kind", ["conv", "conv_transpose", "linear"])
def test_fusing_batchnorm_matches_torch(kind):
    x = np.random.default_rng(5).normal(size=(2, 3, 5, 5) if kind != "linear" else (4, 3))
    x = x.astype(np.float32)
    outputs = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        layer = {"conv": lambda: lib.nn.Conv2d(3, 4, 3), "linear": lambda: lib.nn.Linear(3, 4),
                 "conv_transpose": lambda: lib.nn.ConvTranspose2d(3, 4, 3)}[kind]()
        bn = lib.nn.BatchNorm2d(4) if kind != "linear" else lib.nn.BatchNorm1d(4)
        outputs.append((layer, bn))
    (layer, bn), (t_layer, t_bn) = outputs
    t_bn.running_mean.uniform_(-1, 1)
    t_bn.running_var.uniform_(0.5, 2)
    t_bn.weight.data.uniform_(0.5, 1.5)
    layer.load_state_dict({k: to_ember(v) for k, v in t_layer.state_dict().items()})
    bn.load_state_dict({k: to_ember(v) for k, v in t_bn.state_dict().items()})
    for m in (layer, bn, t_layer, t_bn):
        m.eval()
    fuse = {"conv": "fuse_conv_bn_eval", "conv_transpose": "fuse_conv_bn_eval",
            "linear": "fuse_linear_bn_eval"}[kind]
    extra = {"transpose": True} if kind == "conv_transpose" else {}
    ours = getattr(ember.nn.utils.fusion, fuse)(layer, bn, **extra)
    theirs = getattr(torch.nn.utils.fusion, fuse)(t_layer, t_bn, **extra)
    np.testing.assert_allclose(ours(ember.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours(ember.tensor(x)).detach().numpy(),
                               bn(layer(ember.tensor(x))).detach().numpy(), rtol=1e-4, atol=1e-5)
