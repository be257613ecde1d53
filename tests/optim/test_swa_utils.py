"""torch.optim.swa_utils in ember (ember/optim/swa_utils.py) against torch: SWA and EMA
averages of a small training run, the SWALR schedule, update_bn, state_dicts, errors."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_error


def _net(lib):
    lib.manual_seed(0)  # (the same initial weights in both: torch's streams, #17)
    return lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.BatchNorm1d(8), lib.nn.ReLU(),
                             lib.nn.Linear(8, 2))


def _train(lib, averaged_kwargs, steps=12, swa_start=4):
    """A short SGD run feeding an AveragedModel from step `swa_start`, SWALR from there."""
    model = _net(lib)
    averaged = lib.optim.swa_utils.AveragedModel(model, **averaged_kwargs(lib))
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    swa = lib.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=3)
    rng = np.random.default_rng(1)
    lrs = []
    for step in range(steps):
        x = lib.tensor(rng.standard_normal((16, 4)).astype(np.float32))
        y = lib.tensor(rng.standard_normal((16, 2)).astype(np.float32))
        opt.zero_grad()
        lib.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        if step >= swa_start:
            averaged.update_parameters(model)
            swa.step()
        lrs.append(opt.param_groups[0]["lr"])
    data = [lib.tensor(rng.standard_normal((16, 4)).astype(np.float32)) for _ in range(3)]
    lib.optim.swa_utils.update_bn([(x, None) for x in data], averaged)
    state = {k: v.numpy().copy() for k, v in averaged.state_dict().items()}
    return state, lrs, swa.state_dict()


AVERAGES = {
    "swa": lambda lib: {},
    "ema_multi": lambda lib: {"multi_avg_fn": lib.optim.swa_utils.get_ema_multi_avg_fn(0.9)},
    "ema_single": lambda lib: {"avg_fn": lib.optim.swa_utils.get_ema_avg_fn(0.9)},
    "swa_single": lambda lib: {"avg_fn": lib.optim.swa_utils.get_swa_avg_fn()},
    "swa_buffers": lambda lib: {"use_buffers": True},
}


@pytest.mark.parametrize("name", sorted(AVERAGES))
def test_averaged_model_swalr_and_update_bn_as_torch(name):
    (e_state, e_lrs, e_sched), (t_state, t_lrs, t_sched) = (
        _train(lib, AVERAGES[name]) for lib in (ember, torch))
    assert list(e_state) == list(t_state)  # module.*, n_averaged, in torch's order
    for key in t_state:
        assert e_state[key].dtype == t_state[key].dtype, key
        np.testing.assert_allclose(e_state[key], t_state[key], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(e_lrs, t_lrs, rtol=1e-12)
    assert sorted(e_sched) == sorted(t_sched)


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 5])
def test_swalr_schedule_as_torch(strategy, anneal_epochs):
    lrs = []
    for lib in (ember, torch):
        opt = lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=1.0)
        sched = lib.optim.swa_utils.SWALR(opt, swa_lr=[0.1], anneal_epochs=anneal_epochs,
                                          anneal_strategy=strategy)
        values = []
        for _ in range(8):
            opt.step()
            sched.step()
            values.append(sched.get_last_lr()[0])
        lrs.append(values)
    np.testing.assert_allclose(lrs[0], lrs[1], rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda lib: lib.optim.swa_utils.get_ema_multi_avg_fn(1.5),
    lambda lib: lib.optim.swa_utils.SWALR(
        lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=1), 0.1, anneal_strategy="exp"),
    lambda lib: lib.optim.swa_utils.SWALR(
        lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=1), 0.1, anneal_epochs=-1),
], ids=["decay", "strategy", "epochs"])
def test_swa_errors_as_torch(call):
    assert_same_error(call, same_message=True, exact_type=True)
