"""GradScaler against torch.amp.GradScaler("cpu"): the same scale sequence, growth tracker,
skipped steps, parameters and state_dict over iterations that overflow now and then."""

import math

import numpy as np
import pytest
import torch

import ember


def _run(lib, steps, overflow_at, growth_interval):
    """Train a 3-weight model with a scaler; some iterations get an inf gradient."""
    weight = lib.nn.Parameter(lib.tensor(np.array([1.0, -2.0, 0.5], dtype=np.float32)))
    optimizer = lib.optim.SGD([weight], lr=0.1)
    scaler = lib.amp.GradScaler("cpu", init_scale=2.0**4, growth_interval=growth_interval)
    scales, trackers = [], []
    for step in range(steps):
        optimizer.zero_grad()
        loss = (weight * weight).sum()
        if step in overflow_at:
            loss = loss * math.inf
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        scales.append(scaler.get_scale())
        trackers.append(scaler.state_dict()["_growth_tracker"])
    return scales, trackers, weight.detach().numpy().copy(), scaler.state_dict()


@pytest.mark.parametrize("overflow_at", [(), (0,), (1, 2, 7), (3, 4, 5)])
@pytest.mark.parametrize("growth_interval", [1, 3])
def test_scaling_sequence_matches_torch(overflow_at, growth_interval):
    ours = _run(ember, 10, overflow_at, growth_interval)
    theirs = _run(torch, 10, overflow_at, growth_interval)
    assert ours[0] == theirs[0] and ours[1] == theirs[1]
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-6)
    assert ours[3] == theirs[3]


def test_unscale_then_step_and_errors_match_torch():
    for lib in (ember, torch):
        weight = lib.nn.Parameter(lib.ones(2))
        optimizer = lib.optim.SGD([weight], lr=1.0)
        scaler = lib.amp.GradScaler("cpu", init_scale=8.0)
        scaler.scale(weight.sum()).backward()
        scaler.unscale_(optimizer)
        assert weight.grad.tolist() == [1.0, 1.0]  # unscaled in place, as clipping needs
        with pytest.raises(RuntimeError, match="already been called"):
            scaler.unscale_(optimizer)
        scaler.step(optimizer)
        with pytest.raises(RuntimeError, match="already been called since the last update"):
            scaler.step(optimizer)
        scaler.update()
        with pytest.raises(AssertionError, match="No inf checks"):
            scaler.update()


def test_disabled_scaler_is_transparent_and_state_dicts_round_trip():
    scaler = ember.amp.GradScaler("cpu", enabled=False)
    loss = ember.ones(1)
    assert scaler.scale(loss) is loss and scaler.state_dict() == {} and scaler.get_scale() == 1.0
    source = torch.amp.GradScaler("cpu", init_scale=128.0, growth_interval=7)
    target = ember.amp.GradScaler("cpu")
    target.load_state_dict(source.state_dict())
    assert target.state_dict() == source.state_dict()
    with pytest.raises(RuntimeError, match="state dict is empty"):
        target.load_state_dict({})
    with pytest.raises(AssertionError, match="growth factor"):
        ember.amp.GradScaler("cpu", growth_factor=0.5)


def test_scale_of_nested_outputs():
    scaler = ember.amp.GradScaler("cpu", init_scale=4.0)
    a, b = ember.ones(1), ember.full((2,), 2.0)
    scaled = scaler.scale([a, (b,)])
    assert scaled[0].tolist() == [4.0] and scaled[1][0].tolist() == [8.0, 8.0]
    with pytest.raises(ValueError):
        scaler.scale(3)


def _float32_scales(lib):
    """The scales of a scaler whose scale is not a power of two and grows past float32's range
    (growth_interval 1), then set by update() and load_state_dict()."""
    param = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([param], lr=0.0)
    scaler = lib.amp.GradScaler("cpu", init_scale=2.0 ** 125 / 3, growth_interval=1,
                                growth_factor=3.0, backoff_factor=0.3)
    scales = [scaler.get_scale()]
    for _ in range(4):
        opt.zero_grad()
        scaler.scale((param * 1e-30).sum()).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    scaler.update(0.1)
    scales.append(scaler.get_scale())
    scaler.load_state_dict(dict(scaler.state_dict(), scale=0.3))
    return scales + [scaler.get_scale()]


def test_scale_is_kept_in_float32_as_torch():
    """torch keeps the scale in a float32 tensor: each new scale rounded to float32, and one
    grown past float32's range is inf, so the scale stays (no spurious overflow after)."""
    assert _float32_scales(ember) == _float32_scales(torch)
