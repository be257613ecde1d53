"""LR schedulers against PyTorch: the same options give the same learning rates, step by step."""

import math
import warnings

import numpy as np
import pytest
import torch

import ember


def _optimizer(lib, name="SGD"):
    a = lib.tensor(np.ones(2, np.float32), requires_grad=True)
    b = lib.tensor(np.ones(3, np.float32), requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    if name == "SGD":
        return lib.optim.SGD(groups, lr=0.1, momentum=0.9)
    return lib.optim.Adam(groups, lr=0.1)


def _schedulers(lib, opt):
    s = lib.optim.lr_scheduler
    return {
        "LambdaLR": lambda: s.LambdaLR(opt, lambda e: 0.95 ** e),
        "LambdaLR-list": lambda: s.LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
        "MultiplicativeLR": lambda: s.MultiplicativeLR(opt, lambda e: 0.97),
        "StepLR": lambda: s.StepLR(opt, step_size=7, gamma=0.5),
        "MultiStepLR": lambda: s.MultiStepLR(opt, milestones=[5, 20, 20, 60], gamma=0.3),
        "ConstantLR": lambda: s.ConstantLR(opt, factor=0.25, total_iters=9),
        "LinearLR": lambda: s.LinearLR(opt, start_factor=0.1, end_factor=0.9, total_iters=30),
        "ExponentialLR": lambda: s.ExponentialLR(opt, gamma=0.97),
        "PolynomialLR": lambda: s.PolynomialLR(opt, total_iters=40, power=2.0),
        "CosineAnnealingLR": lambda: s.CosineAnnealingLR(opt, T_max=15, eta_min=0.001),
        "CosineAnnealingWarmRestarts": lambda: s.CosineAnnealingWarmRestarts(
            opt, T_0=7, T_mult=2, eta_min=0.002),
        "CyclicLR-triangular": lambda: s.CyclicLR(opt, 0.01, 0.1, step_size_up=6,
                                                  step_size_down=9),
        "CyclicLR-triangular2": lambda: s.CyclicLR(opt, [0.01, 0.02], 0.1, step_size_up=5,
                                                   mode="triangular2"),
        "CyclicLR-exp_range": lambda: s.CyclicLR(opt, 0.01, 0.1, step_size_up=4,
                                                 mode="exp_range", gamma=0.97,
                                                 cycle_momentum=False),
        "OneCycleLR-cos": lambda: s.OneCycleLR(opt, max_lr=0.5, total_steps=120),
        "OneCycleLR-linear-3phase": lambda: s.OneCycleLR(
            opt, max_lr=[0.5, 0.2], epochs=10, steps_per_epoch=12, anneal_strategy="linear",
            three_phase=True, pct_start=0.25),
        "SequentialLR": lambda: s.SequentialLR(
            opt, [s.LinearLR(opt, start_factor=0.1, total_iters=10),
                  s.ExponentialLR(opt, gamma=0.95), s.StepLR(opt, step_size=5)],
            milestones=[10, 50]),
        "ChainedScheduler": lambda: s.ChainedScheduler(
            [s.ConstantLR(opt, factor=0.5, total_iters=20), s.ExponentialLR(opt, gamma=0.98),
             s.MultiStepLR(opt, milestones=[30, 70])]),
    }


NAMES = list(_schedulers(ember, None))


def _history(lib, name, steps=110, optimizer="SGD"):
    opt = _optimizer(lib, optimizer)
    scheduler = _schedulers(lib, opt)[name]()
    history = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(steps):
            opt.step()
            scheduler.step()
            group = opt.param_groups[0]
            history.append((scheduler.get_last_lr(), group.get("momentum"), group.get("betas")))
    return history, scheduler


@pytest.mark.parametrize("name", NAMES)
def test_lr_sequence_matches_torch(name):
    expected, _ = _history(torch, name)
    actual, _ = _history(ember, name)
    for step, (e, a) in enumerate(zip(expected, actual)):
        assert a[0] == pytest.approx(e[0], rel=1e-12, abs=1e-15), f"step {step}"
        assert a[1] == pytest.approx(e[1], rel=1e-12)


@pytest.mark.parametrize("name", ["CyclicLR-triangular", "OneCycleLR-cos"])
def test_momentum_cycling_uses_adam_beta1(name):
    expected, _ = _history(torch, name, steps=60, optimizer="Adam")
    actual, _ = _history(ember, name, steps=60, optimizer="Adam")
    np.testing.assert_allclose([a[2] for a in actual], [e[2] for e in expected], rtol=1e-12)


def _assert_same_state(actual, expected, where):
    """Equal structure and values; floats within a relative 1e-12 (nested lists and dicts)."""
    if isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)) and len(actual) == len(expected), where
        for a, e in zip(actual, expected):
            _assert_same_state(a, e, where)
    elif isinstance(expected, dict):
        assert set(actual) == set(expected), where
        for k in expected:
            _assert_same_state(actual[k], expected[k], f"{where}.{k}")
    elif isinstance(expected, float) and not isinstance(expected, bool):
        assert math.isclose(actual, expected, rel_tol=1e-12), where
    else:
        assert actual == expected, where


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_keys_match_torch_and_resume(name):
    _, expected = _history(torch, name, steps=25)
    _, scheduler = _history(ember, name, steps=25)
    expected_state, state = expected.state_dict(), scheduler.state_dict()
    assert set(state) == set(expected_state)
    for key, value in expected_state.items():
        if isinstance(value, (int, float, list)) and key != "_schedulers":
            _assert_same_state(state[key], value, key)

    # A fresh scheduler loading the state continues exactly like the original.
    opt = _optimizer(ember)
    fresh = _schedulers(ember, opt)[name]()
    fresh.load_state_dict(scheduler.state_dict())
    for group, old in zip(opt.param_groups, scheduler.optimizer.param_groups):
        group.update({k: v for k, v in old.items() if k != "params"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(20):
            scheduler.step()
            fresh.step()
            assert fresh.get_last_lr() == scheduler.get_last_lr()


def test_reduce_lr_on_plateau_matches_torch():
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.94, 0.96, 0.97, 0.5, 0.5, 0.5, 0.5, 0.6] * 6
    for kwargs in [{"patience": 2}, {"mode": "max", "factor": 0.5, "patience": 1, "cooldown": 2},
                   {"threshold_mode": "abs", "threshold": 0.02, "patience": 0,
                    "min_lr": [0.01, 0.02]},
                   {"mode": "max", "threshold_mode": "abs", "patience": 3, "eps": 0.05}]:
        runs = []
        for lib in (torch, ember):
            opt = _optimizer(lib)
            scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
            lrs = []
            for value in metrics:
                scheduler.step(value)
                lrs.append(scheduler.get_last_lr())
            runs.append((lrs, scheduler.state_dict()))
        (expected, expected_state), (actual, state) = runs
        np.testing.assert_allclose(actual, expected, rtol=1e-12)
        assert set(state) == set(expected_state)
        assert {k: state[k] for k in ("best", "num_bad_epochs", "cooldown_counter",
                                      "last_epoch")} == \
            {k: expected_state[k] for k in ("best", "num_bad_epochs", "cooldown_counter",
                                            "last_epoch")}


def test_step_with_epoch_uses_closed_form_and_warns():
    for lib in (torch, ember):
        opt = _optimizer(lib)
        scheduler = lib.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        opt.step()
        with pytest.warns(UserWarning, match="epoch parameter"):
            scheduler.step(7)
        assert scheduler.get_last_lr() == pytest.approx([0.1 * 0.25, 0.05 * 0.25])


def test_warns_when_scheduler_steps_before_optimizer():
    opt = _optimizer(ember)
    scheduler = ember.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        scheduler.step()
    assert math.isclose(scheduler.get_last_lr()[0], 0.05)


def test_errors_match_torch():
    for lib_name, lib in (("torch", torch), ("ember", ember)):
        opt = _optimizer(lib)
        s = lib.optim.lr_scheduler
        with pytest.raises(ValueError, match="T_0"):
            s.CosineAnnealingWarmRestarts(opt, T_0=0)
        with pytest.raises(ValueError, match="total_steps"):
            s.OneCycleLR(opt, max_lr=0.1)
        with pytest.raises(TypeError, match="is not an Optimizer"):
            s.StepLR(object(), step_size=2)
        with pytest.raises(ValueError, match="Factor should be < 1.0"):
            s.ReduceLROnPlateau(opt, factor=2.0)


def _get_lr_warnings(lib, name):
    """The warnings of the schedule's steps, then of a get_lr() called by hand, and its values."""
    opt = _optimizer(lib)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scheduler = _schedulers(lib, opt)[name]()
        for _ in range(3):
            opt.step()
            scheduler.step()
        in_steps = [str(w.message) for w in caught]
        del caught[:]
        try:
            values = [float(v) for v in scheduler.get_lr()]
        except NotImplementedError:  # (the containers have no get_lr of their own)
            values = None
    return in_steps, [(w.category, str(w.message)) for w in caught], values


@pytest.mark.parametrize("name", NAMES)
def test_get_lr_outside_step_warns_as_torch(name):
    expected, actual = _get_lr_warnings(torch, name), _get_lr_warnings(ember, name)
    assert actual[:2] == expected[:2]
    assert actual[2] == pytest.approx(expected[2], rel=1e-12)
    if expected[2] is not None:
        assert expected[1] == [(UserWarning, "To get the last learning rate computed by the "
                                             "scheduler, please use `get_last_lr()`.")]


def test_resuming_without_initial_lr_raises_torch_key_error():
    errors = []
    for lib in (torch, ember):
        with pytest.raises(KeyError) as raised:
            lib.optim.lr_scheduler.StepLR(_optimizer(lib), step_size=2, last_epoch=3)
        errors.append(str(raised.value))
    assert errors[1] == errors[0]


def test_schedulers_live_in_one_module_as_torch():
    """Every scheduler class reports torch's single module, lr_scheduler (reprs, pickles)."""
    for name in torch.optim.lr_scheduler.__all__:
        cls = getattr(torch.optim.lr_scheduler, name)
        if isinstance(cls, type) and hasattr(ember.optim.lr_scheduler, name):
            ours = getattr(ember.optim.lr_scheduler, name)
            assert ours.__module__.replace("ember", "torch") == cls.__module__, name
