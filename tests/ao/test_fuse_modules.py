"""Module fusion (ember/ao/quantization/fuse_modules.py, fuser_method_mappings.py and
ember/ao/nn/intrinsic) against torch: the fused model's repr, outputs and state, QAT fusion,
hooks carried over, and the errors."""

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, copy_state


def _model(lib):
    """Conv-BN-ReLU, Conv-ReLU, Linear-BN1d and BN-ReLU blocks, one nested."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 1)
            self.bn = nn.BatchNorm2d(4)
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(self.bn(self.conv(x)))

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 4, 3)
            self.bn1 = nn.BatchNorm2d(4)
            self.relu1 = nn.ReLU()
            self.conv2 = nn.Conv2d(4, 4, 1)
            self.relu2 = nn.ReLU()
            self.block = Block()
            self.fc = nn.Linear(4, 2)
            self.bn2 = nn.BatchNorm1d(2)

        def forward(self, x):
            x = self.relu2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
            return self.bn2(self.fc(self.block(x).mean((2, 3))))

    return M()


GROUPS = [["conv1", "bn1", "relu1"], ["conv2", "relu2"], ["block.conv", "block.bn"],
          ["fc", "bn2"]]


def _pair():
    """The same model (weights and running statistics) in ember and torch, evaluating."""
    torch.manual_seed(0)
    t = _model(torch)
    for m in t.modules():
        if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    e = _model(ember)
    copy_state(t, e)
    return e.eval(), t.eval()


def test_fuse_modules_for_inference():
    e, t = _pair()
    fe = ember.ao.quantization.fuse_modules(e, GROUPS)
    ft = torch.ao.quantization.fuse_modules(t, GROUPS)
    assert repr(fe) == repr(ft)
    assert fe is not e and e.bn1 is not fe.bn1 and isinstance(e.bn1, ember.nn.BatchNorm2d)
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    assert_same(fe(ember.from_numpy(x)), ft(torch.from_numpy(x)), rtol=1e-5, atol=1e-6)
    assert_same(fe(ember.from_numpy(x)), e(ember.from_numpy(x)), rtol=1e-5, atol=1e-5)
    assert list(fe.state_dict()) == list(ft.state_dict())
    for name in fe.state_dict():
        assert_same(fe.state_dict()[name], ft.state_dict()[name], rtol=1e-6, atol=1e-7)
    assert type(fe.conv1).__module__ == "ember.ao.nn.intrinsic.modules.fused"
    assert isinstance(fe.conv1, ember.ao.nn.intrinsic._FusedModule)
    assert fe.bn1.training == ft.bn1.training


def test_fuse_in_place_single_list_and_hooks():
    """One list of names, inplace=True; the first module's pre-hooks and the last one's hooks
    move to the fused module (the folded conv, a deep copy, keeps its own copy of the pre-hook
    too: torch calls it twice)."""
    seen = []
    for lib in (ember, torch):
        m = _model(lib).eval()
        calls = []
        m.conv1.register_forward_pre_hook(lambda mod, inp: calls.append("pre"))
        m.relu1.register_forward_hook(lambda mod, inp, out: calls.append("post"))
        assert lib.ao.quantization.fuse_modules(m, ["conv1", "bn1", "relu1"], inplace=True) is m
        m(lib.ones(1, 3, 5, 5))
        seen.append(calls)
        assert type(m.conv1).__name__ == "ConvReLU2d" and len(m.conv1._forward_pre_hooks) == 1
    assert seen[0] == seen[1] == ["pre", "pre", "post"]


def test_fuse_modules_qat_keeps_batch_norm():
    reprs = []
    for lib in (ember, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = lib.ao.quantization.fuse_modules_qat(_model(lib).train(), GROUPS)
        reprs.append(repr(m))
    assert reprs[0] == reprs[1]
    assert "ConvBnReLU2d" in reprs[0] and "LinearBn1d" in reprs[0]


@pytest.mark.parametrize("case", [
    lambda lib: lib.ao.quantization.fuse_modules(_model(lib).train(), GROUPS),
    lambda lib: lib.ao.quantization.fuse_modules(_model(lib).eval(), ["conv1", "relu2", "bn1"]),
    lambda lib: lib.ao.quantization.fuse_modules(_set_bn_mode(_model(lib)), [["conv1", "bn1"]]),
    lambda lib: lib.ao.nn.intrinsic.ConvReLU2d(lib.nn.Conv1d(1, 1, 1), lib.nn.ReLU()),
    lambda lib: lib.ao.nn.intrinsic.ConvBnReLU2d(lib.nn.Conv2d(1, 1, 1), lib.nn.BatchNorm1d(1),
                                                 lib.nn.ReLU()),
    lambda lib: lib.ao.quantization.fuse_modules_qat(
        lib.nn.Sequential(lib.nn.ConvTranspose2d(1, 1, 1), lib.nn.BatchNorm2d(1)), ["0", "1"]),
], ids=["train", "unknown", "mixed_modes", "types2", "types3", "qat_transpose"])
def test_fusion_errors_match_torch(case):
    errors = []
    for lib in (ember, torch):
        with pytest.raises(Exception) as info:
            case(lib)
        errors.append(info.value)
    assert type(errors[0]) is type(errors[1])
    assert str(errors[0]).replace("ember", "torch") == str(errors[1])


def _set_bn_mode(m):
    m.eval()
    m.bn1.train()
    return m


def test_legacy_namespace_has_fusion():
    assert ember.quantization.fuse_modules is ember.ao.quantization.fuse_modules
    assert ember.ao.quantization.get_fuser_method(
        (ember.nn.Conv2d, ember.nn.BatchNorm2d)) is ember.ao.quantization.fuse_conv_bn
