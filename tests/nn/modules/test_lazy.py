"""Lazy modules against torch: the same repr before and after the first call, the class they
become, parameter names and shapes inferred from the input, outputs once torch's weights are
loaded, and loading a state_dict into a lazy module."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_error, to_ember

CASES = {
    "LazyLinear": ((3,), {}, (2, 5)),
    "LazyConv1d": ((4, 3), {"padding": 1}, (2, 3, 6)),
    "LazyConv2d": ((4, 3), {"stride": 2}, (2, 2, 7, 7)),
    "LazyConv2d-unbatched": ((4, 3), {}, (2, 5, 5)),
    "LazyConv3d": ((2, 2), {}, (1, 2, 4, 4, 4)),
    "LazyConvTranspose1d": ((4, 3), {"groups": 2}, (1, 2, 5)),
    "LazyConvTranspose2d": ((4, 3), {"output_padding": 1, "stride": 2}, (1, 2, 4, 4)),
    "LazyConvTranspose3d": ((2, 2), {}, (1, 3, 3, 3, 3)),
    "LazyBatchNorm1d": ((), {}, (4, 3)),
    "LazyBatchNorm2d": ((), {"momentum": 0.3}, (2, 3, 4, 4)),
    "LazyBatchNorm3d": ((), {"affine": False}, (2, 3, 2, 2, 2)),
    "LazyInstanceNorm1d": ((), {}, (2, 3, 5)),
    "LazyInstanceNorm2d": ((), {"track_running_stats": False}, (2, 3, 4, 4)),
    "LazyInstanceNorm3d": ((), {}, (1, 2, 3, 3, 3)),
}


def _make(lib, case):
    args, kwargs, _ = CASES[case]
    return getattr(lib.nn, case.split("-")[0])(*args, **kwargs)


@pytest.mark.parametrize("case", list(CASES))
def test_lazy_module_becomes_its_layer_like_torch(case):
    ours, theirs = _make(ember, case), _make(torch, case)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(0).normal(size=CASES[case][2]).astype(np.float32)
    ours(ember.tensor(x))
    theirs(torch.tensor(x))
    assert type(ours).__name__ == type(theirs).__name__ and repr(ours) == repr(theirs)
    shapes = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    assert shapes == {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    ours.load_state_dict({k: to_ember(v) for k, v in theirs.state_dict().items()})
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(ember.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", ["LazyLinear", "LazyConv2d", "LazyBatchNorm2d"])
def test_loading_a_state_dict_materializes_like_torch(case):
    eager = _make(torch, case)
    eager(torch.zeros(CASES[case][2]))
    ours, theirs = _make(ember, case), _make(torch, case)
    ours.load_state_dict({k: to_ember(v) for k, v in eager.state_dict().items()})
    theirs.load_state_dict(eager.state_dict())
    assert type(ours).__name__ == type(theirs).__name__
    x = np.ones(CASES[case][2], dtype=np.float32)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(ember.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    assert repr(ours) == repr(theirs)


def test_uninitialized_parameter_refuses_its_shape():
    ours = ember.nn.parameter.UninitializedParameter()
    theirs = torch.nn.parameter.UninitializedParameter()
    assert repr(ours) == repr(theirs) and ours.requires_grad == theirs.requires_grad
    for p in (ours, theirs):
        with pytest.raises(RuntimeError, match="uninitialized parameter"):
            p.shape  # noqa: B018 - the access is the test


@pytest.mark.parametrize("use", [
    lambda m, w: w.tolist(), lambda m, w: w + 1, lambda m, w: w.sum(), lambda m, w: m.exp(w),
    lambda m, w: w.numel(), lambda m, w: w.dim(), lambda m, w: w.zero_()])
def test_uninitialized_parameter_refuses_use(use):
    """Before the first forward a lazy parameter's data cannot be used: torch's ValueError."""
    assert_same_error(lambda m: use(m, m.nn.LazyLinear(3).weight), exact_type=True,
                      match="Attempted to use an uninitialized parameter in ")


def test_uninitialized_parameter_allowed_uses():
    """size(), dtype, requires_grad, repr and the module's repr still work before forward."""
    for m in (ember, torch):
        layer = m.nn.LazyLinear(3)
        w = layer.weight
        assert (list(w.size()), str(w.dtype), w.requires_grad, repr(w)) == (
            [0], f"{m.__name__}.float32".replace("ember", "torch"), True,
            "<UninitializedParameter>")
        assert str(layer) == "LazyLinear(in_features=0, out_features=3, bias=True)"
