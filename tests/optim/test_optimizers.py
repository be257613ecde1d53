"""Optimizers against PyTorch: same start, same gradients, 100 steps, same trajectory.

The loss f(p) = s·Σ a·(p - c)² + b·cos(p) has its gradient computed in NumPy from each library's
current parameter values, so the test exercises the optimizers alone (not autograd).
"""

import copy

import numpy as np
import pytest
import torch

import ember

SHAPES = [(3, 4), (5,)]


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    starts = [rng.normal(size=s).astype(np.float32) for s in SHAPES]
    coefficients = [(rng.uniform(0.5, 2.0, s), rng.normal(size=s), rng.uniform(0, 0.3, s))
                    for s in SHAPES]
    return starts, coefficients


def _grad(p, coefficient, sign):
    a, c, b = coefficient
    return (sign * 2 * a * (p - c) - b * np.sin(p)).astype(p.dtype)


def _loss(values, coefficients, sign):
    return sum(float((sign * a * (p - c) ** 2 + b * np.cos(p)).sum())
               for p, (a, c, b) in zip(values, coefficients))


class _Run:
    """The same optimizer and problem in one library (`lib` is torch or ember)."""

    def __init__(self, lib, name, kwargs, groups=False, sign=1.0, seed=0):
        starts, self.coefficients = _problem(seed)
        self.lib, self.sign = lib, sign
        self.params = [lib.tensor(s.copy(), requires_grad=True) for s in starts]
        if groups:
            spec = [{"params": [self.params[0]]},
                    {"params": [self.params[1]], "lr": kwargs["lr"] * 0.5}]
        else:
            spec = self.params
        self.opt = getattr(lib.optim, name)(spec, **kwargs)

    def values(self):
        return [p.detach().numpy().copy() for p in self.params]

    def set_grads(self):
        for p, coefficient in zip(self.params, self.coefficients):
            grad = _grad(p.detach().numpy(), coefficient, self.sign)
            p.grad = self.lib.tensor(grad)

    def closure(self):
        self.opt.zero_grad()
        self.set_grads()
        return self.lib.tensor(_loss(self.values(), self.coefficients, self.sign))

    def step(self):
        self.set_grads()
        self.opt.step()


CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "maximize": True}),
    ("Adam", {"lr": 0.02}),
    ("Adam", {"lr": 0.02, "amsgrad": True}),
    ("Adam", {"lr": 0.02, "weight_decay": 0.1, "betas": (0.8, 0.99)}),
    ("Adam", {"lr": 0.02, "maximize": True, "amsgrad": True}),
    ("Adam", {"lr": 0.02, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.02}),
    ("AdamW", {"lr": 0.02, "weight_decay": 0.3, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True, "weight_decay": 0.05}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.05,
                 "initial_accumulator_value": 0.1}),
    ("Adagrad", {"lr": 0.1, "maximize": True}),
    ("Adadelta", {"lr": 1.0}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.05, "maximize": True}),
    ("Adamax", {"lr": 0.02}),
    ("Adamax", {"lr": 0.02, "weight_decay": 0.05, "maximize": True}),
    ("NAdam", {"lr": 0.02}),
    ("NAdam", {"lr": 0.02, "weight_decay": 0.05, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.02, "weight_decay": 0.05, "decoupled_weight_decay": True, "maximize": True}),
    ("RAdam", {"lr": 0.02}),
    ("RAdam", {"lr": 0.02, "weight_decay": 0.05}),
    ("RAdam", {"lr": 0.02, "weight_decay": 0.05, "decoupled_weight_decay": True, "maximize": True}),
    ("Rprop", {"lr": 0.01}),
    ("Rprop", {"lr": 0.02, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.05), "maximize": True}),
    ("ASGD", {"lr": 0.02}),
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 20, "weight_decay": 0.05}),
    ("ASGD", {"lr": 0.05, "t0": 5, "maximize": True}),
    ("Adafactor", {"lr": 0.02}),
    ("Adafactor", {"lr": 0.05, "beta2_decay": -0.5, "eps": (1e-6, 1e-2), "d": 2.0,
                   "weight_decay": 0.05, "maximize": True}),
]


def _ids(case):
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


def _pair(name, kwargs, groups=False):
    sign = -1.0 if kwargs.get("maximize") else 1.0
    return (_Run(torch, name, kwargs, groups, sign), _Run(ember, name, kwargs, groups, sign))


def _assert_same(reference, run, atol=1e-5):
    for expected, actual in zip(reference.values(), run.values()):
        assert actual.dtype == expected.dtype
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=atol)


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
@pytest.mark.parametrize("groups", [False, True], ids=["one-group", "two-groups"])
def test_trajectory_matches_torch(case, groups):
    reference, run = _pair(*case, groups=groups)
    for _ in range(100):
        reference.step()
        run.step()
    _assert_same(reference, run)
    assert run.values()[0].tolist() != _problem()[0][0].tolist()  # the optimizer moved


def _structure(state_dict):
    """A state_dict with tensors replaced by (dtype, shape): what must equal PyTorch's."""
    def describe(value):
        if hasattr(value, "dtype") and hasattr(value, "shape"):
            return ("tensor", str(value.dtype), tuple(value.shape))
        return value

    state = {index: {k: describe(v) for k, v in entry.items()}
             for index, entry in state_dict["state"].items()}
    return {"state": state, "param_groups": state_dict["param_groups"]}


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_zero_dim_parameters_step_as_torch(case):
    """A 0-d parameter (a scalar to fit, e.g. a log-scale in maximum likelihood) steps as in
    torch, float64 and float32 (a NumPy ufunc on 0-d arrays answers a scalar, not an array)."""
    name, kwargs = case
    trajectories = []
    for lib in (torch, ember):
        params = [lib.tensor(0.7, dtype=lib.float64, requires_grad=True),
                  lib.tensor(-0.3, requires_grad=True)]
        opt = getattr(lib.optim, name)(params, **kwargs)
        for _ in range(5):
            opt.zero_grad()
            sum((p - 0.25) ** 2 + p.sin() for p in params).backward()
            opt.step()
        trajectories.append([(p.shape, p.dtype, p.item()) for p in params])
    assert [t[:2] for t in trajectories[0]] == [(torch.Size([]), torch.float64),
                                                (torch.Size([]), torch.float32)]
    for (_, _, expected), (shape, _, actual) in zip(*trajectories):
        assert shape == ember.Size([]) and actual == pytest.approx(expected, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_state_dict_structure_matches_torch(case):
    reference, run = _pair(*case, groups=True)
    for _ in range(3):
        reference.step()
        run.step()
    expected, actual = reference.opt.state_dict(), run.opt.state_dict()
    assert _structure(actual) == _structure(expected)
    assert [list(g) for g in actual["param_groups"]] == [list(g) for g in
                                                         expected["param_groups"]]
    for index, entry in expected["state"].items():
        assert list(actual["state"][index]) == list(entry)
        for key, value in entry.items():
            np.testing.assert_allclose(actual["state"][index][key].numpy(), value.numpy(),
                                       rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES[::3], ids=[_ids(c) for c in CASES[::3]])
def test_state_dict_round_trip_continues_identically(case):
    name, kwargs = case
    sign = -1.0 if kwargs.get("maximize") else 1.0
    first = _Run(ember, name, kwargs, sign=sign)
    for _ in range(10):
        first.step()
    second = _Run(ember, name, kwargs, sign=sign)
    for p, q in zip(second.params, first.params):
        p.detach().numpy()[...] = q.detach().numpy()
    # A deep copy, as a checkpoint is: load_state_dict shares the tensors it is given (as
    # PyTorch's does when no cast is needed), and the two runs must not share their state.
    second.opt.load_state_dict(copy.deepcopy(first.opt.state_dict()))
    for _ in range(10):
        first.step()
        second.step()
    for a, b in zip(first.values(), second.values()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", CASES[::2], ids=[_ids(c) for c in CASES[::2]])
def test_loads_torch_state_dict_and_continues_like_torch(case):
    reference, run = _pair(*case, groups=True)
    for _ in range(10):
        reference.step()
    for p, q in zip(run.params, reference.params):
        p.detach().numpy()[...] = q.detach().numpy()
    run.opt.load_state_dict(reference.opt.state_dict())
    for _ in range(20):
        reference.step()
        run.step()
    _assert_same(reference, run)


def test_loaded_state_is_a_copy_cast_to_the_param_dtype():
    p = ember.zeros(3, dtype=ember.float64, requires_grad=True)
    opt = ember.optim.Adam([p])
    saved = {"state": {0: {"step": ember.tensor(4.0), "exp_avg": ember.ones(3),
                           "exp_avg_sq": ember.ones(3)}},
             "param_groups": [dict(opt.state_dict()["param_groups"][0], lr=0.5)]}
    opt.load_state_dict(saved)
    state = opt.state[p]
    assert state["exp_avg"].dtype == ember.float64
    assert state["step"].dtype == ember.float32  # 'step' keeps its dtype, as in PyTorch
    assert state["exp_avg"] is not saved["state"][0]["exp_avg"]
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["params"][0] is p


def test_lbfgs_matches_torch():
    for line_search in (None, "strong_wolfe"):
        kwargs = {"lr": 0.5, "max_iter": 10, "history_size": 5, "line_search_fn": line_search}
        reference, run = _pair("LBFGS", kwargs)
        for _ in range(5):
            expected = reference.opt.step(reference.closure)
            actual = run.opt.step(run.closure)
            assert float(actual) == pytest.approx(float(expected), rel=1e-5)
        _assert_same(reference, run, atol=1e-4)
        state = run.opt.state_dict()["state"][0]
        assert set(state) == set(reference.opt.state_dict()["state"][0])
        assert state["func_evals"] == reference.opt.state_dict()["state"][0]["func_evals"]


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_complex_parameters_as_real_pairs(line_search):
    """LBFGS treats a complex parameter as its (re, im) pairs (torch.view_as_real): real dot
    products, a flat state of twice its size, the same trajectory as torch's."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 4)) + 1j * rng.standard_normal((6, 4))
    target = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    runs = []
    for lib in (torch, ember):  # (float64: float32 noise near the optimum changes the stops)
        p = lib.zeros(4, dtype=lib.complex128, requires_grad=True)
        w = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        A, b = lib.from_numpy(a.copy()), lib.from_numpy(a @ target)
        opt = lib.optim.LBFGS([p, w], history_size=5, line_search_fn=line_search)

        def closure():
            opt.zero_grad()
            loss = (A @ p - b).abs().pow(2).mean() + (w - 2).pow(2).sum()
            loss.backward()
            return loss
        losses = [float(opt.step(closure)) for _ in range(3)]
        state = opt.state[p]
        runs.append((losses, p.detach().numpy(), tuple(state["d"].shape), state["func_evals"]))
    (t_loss, t_p, t_shape, t_evals), (e_loss, e_p, e_shape, e_evals) = runs
    np.testing.assert_allclose(e_loss, t_loss, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(e_p, t_p, rtol=1e-8, atol=1e-10)
    assert e_shape == t_shape == (10,) and e_evals == t_evals


def test_zero_grad_and_closure():
    p = ember.ones(2, requires_grad=True)
    opt = ember.optim.SGD([p], lr=0.1)
    p.grad = ember.ones(2)
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None
    opt.step()  # no gradient: nothing happens
    assert p.tolist() == [1.0, 1.0]

    def closure():
        p.grad = ember.full((2,), 2.0)
        return ember.tensor(3.0)

    assert float(opt.step(closure)) == 3.0
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 0.8], rtol=1e-6)
    assert p.grad is not None


def test_argument_errors_match_torch():
    p = ember.ones(2, requires_grad=True)
    tp = torch.ones(2, requires_grad=True)
    cases = [("SGD", {"lr": -1.0}), ("SGD", {"lr": 0.1, "nesterov": True}),
             ("Adam", {"betas": (1.0, 0.9)}), ("Adam", {"eps": -1.0}),
             ("RMSprop", {"alpha": -1.0}), ("Adagrad", {"lr_decay": -1.0})]
    for name, kwargs in cases:
        with pytest.raises(ValueError) as expected:
            getattr(torch.optim, name)([tp], **kwargs)
        with pytest.raises(ValueError) as actual:
            getattr(ember.optim, name)([p], **kwargs)
        assert str(actual.value) == str(expected.value)
    with pytest.raises(ValueError, match="empty parameter list"):
        ember.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        ember.optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        ember.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


def test_add_param_group_fills_defaults():
    a, b = ember.ones(2, requires_grad=True), ember.ones(3, requires_grad=True)
    opt = ember.optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["lr"] == 0.01
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    assert opt.state_dict()["param_groups"][1]["params"] == [1]
    assert "Parameter Group 1" in repr(opt)


def test_step_hooks_run_around_the_most_derived_step():
    calls = []

    class Traced(ember.optim.SGD):
        def step(self, closure=None):
            calls.append("step")
            return super().step(closure)

    p = ember.ones(2, requires_grad=True)
    opt = Traced([p], lr=0.1)
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt)))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
    glob = ember.optim.optimizer.register_optimizer_step_pre_hook(
        lambda o, args, kwargs: calls.append("global"))
    p.grad = ember.ones(2)
    opt.step()
    assert calls == ["global", ("pre", True), "step", "post"]
    pre.remove()
    glob.remove()
    calls.clear()
    opt.step()
    assert calls == ["step", "post"]


# (module, optimizer, options): the optimizers whose big parameters go block by block
BIG = [("adam", "Adam", {"lr": 0.01}),
       ("adam", "Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
       ("adam", "AdamW", {"lr": 0.01, "maximize": True}),
       ("sgd", "SGD", {"lr": 0.1}), ("sgd", "SGD", {"lr": 0.05, "momentum": 0.9}),
       ("sgd", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-2}),
       ("sgd", "SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "maximize": True}),
       ("adadelta", "Adadelta", {"lr": 1.0}),
       ("adadelta", "Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": True})]


@pytest.mark.parametrize("case", BIG, ids=[f"{c[1]}-{_ids(c[1:])}" for c in BIG])
def test_big_parameters_go_block_by_block_unchanged(case, monkeypatch):
    """Big parameters are updated block by block on the intra-op threads (`update_in_blocks`):
    the same arithmetic per element, so bit for bit the one-block result (state included), and
    torch's within rounding."""
    module_name, name, kwargs = case
    module = getattr(ember.optim, module_name)
    block = ember.optim.optimizer._BLOCK
    rng = np.random.default_rng(1)
    shapes = [(5 * block // 64 + 3, 64), (7,)]  # not a multiple of a block
    starts = [rng.normal(size=s).astype(np.float32) for s in shapes]
    grads = [[rng.normal(size=s).astype(np.float32) for s in shapes] for _ in range(3)]

    def run(lib):
        params = [lib.tensor(s.copy(), requires_grad=True) for s in starts]
        opt = getattr(lib.optim, name)(params, **kwargs)
        for step_grads in grads:
            for p, g in zip(params, step_grads):
                p.grad = lib.tensor(g)
            opt.step()
        state = [v.numpy().copy() for p in params for k, v in sorted(opt.state[p].items())
                 if k != "step" and v is not None]
        return [p.detach().numpy().copy() for p in params] + state

    monkeypatch.setattr(module, "_MIN_PARALLEL", 2 * block)
    blocked = run(ember)
    monkeypatch.setattr(module, "_MIN_PARALLEL", 1 << 40)
    whole = run(ember)
    expected = run(torch)
    assert len(blocked) == len(expected)
    for a, b, t in zip(blocked, whole, expected):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, t, rtol=1e-5, atol=1e-6)


def test_adafactor_factors_the_last_two_dims_as_torch():
    """Adafactor on a 3-d, a 0-d and two one-column/one-row parameters: 30 steps as torch's,
    the row and column factors shaped as its state."""
    rng = np.random.default_rng(0)
    starts = [rng.standard_normal(s).astype(np.float32) for s in [(2, 3, 4), (), (6, 1), (1, 6)]]
    results = []
    for lib in (ember, torch):
        params = [lib.nn.Parameter(lib.tensor(s.copy())) for s in starts]
        opt = lib.optim.Adafactor(params, lr=0.05, weight_decay=0.01)
        for step in range(30):
            for p in params:
                p.grad = lib.tensor(np.sin(p.detach().numpy() * (step + 1)).astype(np.float32))
            opt.step()
        shapes = {k: tuple(v.shape) for k, v in opt.state_dict()["state"][0].items()}
        results.append(([p.detach().numpy() for p in params], shapes))
    for e, t in zip(results[0][0], results[1][0]):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-5)
    assert results[0][1] == results[1][1] == {"step": (), "row_var": (2, 3, 1),
                                              "col_var": (2, 1, 4)}


def test_adafactor_refuses_complex_parameters():
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.zeros(3, dtype=lib.complex64))
        p.grad = lib.ones(3, dtype=lib.complex64)
        with pytest.raises(RuntimeError, match="does not support complex"):
            lib.optim.Adafactor([p]).step()


MUON_CASES = [{}, {"nesterov": False, "adjust_lr_fn": "match_rms_adamw", "weight_decay": 0.0,
                   "lr": 0.02}, {"lr": 0.05, "momentum": 0.8, "ns_steps": 3}]


@pytest.mark.parametrize("kwargs", MUON_CASES, ids=str)
def test_muon_trajectory_matches_torch(kwargs):
    """Muon on tall, wide and square weights: 20 steps of its bfloat16 Newton–Schulz
    orthogonalisation as torch's, and its state's layout."""
    rng = np.random.default_rng(0)
    starts = [rng.standard_normal(s).astype(np.float32) for s in [(6, 4), (4, 9), (5, 5)]]
    results = []
    for lib in (ember, torch):
        params = [lib.nn.Parameter(lib.tensor(s.copy())) for s in starts]
        opt = lib.optim.Muon(params, **kwargs)
        for step in range(20):
            for p in params:
                p.grad = lib.tensor(np.sin(p.detach().numpy() * (step + 1)).astype(np.float32))
            opt.step()
        state = opt.state_dict()["state"][0]
        results.append(([p.detach().numpy() for p in params], sorted(state)))
    for e, t in zip(results[0][0], results[1][0]):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)
    assert results[0][1] == results[1][1] == ["momentum_buffer"]


def test_muon_refuses_what_torch_refuses():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="only supports 2D parameters"):
            lib.optim.Muon([lib.zeros(3, requires_grad=True)])
        with pytest.raises(ValueError, match="not supported"):
            lib.optim.Muon([lib.zeros(3, 3, requires_grad=True)], adjust_lr_fn="other")


# ---- differentiable=True ------------------------------------------------------------------------
def _meta_gradients(lib, name, options, steps, tensor_lr, tensor_betas=False):
    """PyTorch's differentiable-optimizer pattern: a cloned (non-leaf) parameter stepped with a
    gradient that requires grad, then the gradients of a function of the result (and the state)
    with respect to the start, the gradient and the hyperparameters."""
    lib.manual_seed(0)
    start = lib.randn(3, requires_grad=True)
    grad = lib.randn(3, requires_grad=True)
    hyper = {"lr": lib.tensor(0.1, requires_grad=True) if tensor_lr else 0.1}
    if tensor_betas:
        hyper["betas"] = (lib.tensor(0.8, requires_grad=True), lib.tensor(0.9, requires_grad=True))
    if options.pop("tensor_weight_decay", False):
        hyper["weight_decay"] = lib.tensor(0.05, requires_grad=True)
    param = start.clone()
    param.grad = grad
    opt = getattr(lib.optim, name)([param], differentiable=True, **options, **hyper)
    for _ in range(steps):
        opt.step()
    state = opt.state_dict()["state"].get(0, {})
    out = (param ** 2).sum() + sum(v.sum() * 0.5 for v in state.values()
                                   if isinstance(v, lib.Tensor) and v.requires_grad)
    out.backward()
    leaves = [start, grad] + [h for v in hyper.values()
                              for h in (v if isinstance(v, tuple) else (v,))
                              if isinstance(h, lib.Tensor)]
    return [param.detach().numpy()] + [None if leaf.grad is None else leaf.grad.numpy()
                                       for leaf in leaves]


@pytest.mark.parametrize("name, options, steps, tensor_lr", [
    ("SGD", {}, 3, True),
    ("SGD", {"momentum": 0.9}, 1, True),
    ("SGD", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}, 3, False),
    ("SGD", {"maximize": True, "tensor_weight_decay": True}, 3, True),
    ("Adam", {}, 3, False),
    ("Adam", {"amsgrad": True, "weight_decay": 0.1, "maximize": True}, 1, True),
    ("AdamW", {"weight_decay": 0.1}, 3, False),
    ("AdamW", {"amsgrad": True}, 1, True),
])
def test_differentiable_step_gives_torch_meta_gradients(name, options, steps, tensor_lr):
    """differentiable=True records the step on autograd's graph as PyTorch's single-tensor
    algorithm does: the same parameters and the same gradients for every input."""
    expected = _meta_gradients(torch, name, dict(options), steps, tensor_lr)
    actual = _meta_gradients(ember, name, dict(options), steps, tensor_lr)
    for e, t in zip(actual, expected):
        assert (e is None) == (t is None)
        if t is not None:
            np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-5)  # (float32 pow)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_differentiable_adam_with_tensor_betas(name):
    """Tensor betas that require grad: PyTorch's lerp branches, with gradients for both."""
    expected = _meta_gradients(torch, name, {}, 2, True, tensor_betas=True)
    actual = _meta_gradients(ember, name, {}, 2, True, tensor_betas=True)
    for e, t in zip(actual, expected):
        assert (e is None) == (t is None)
        if t is not None:
            np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-5)  # (float32 pow)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_differentiable_step_on_a_leaf_parameter_raises(name):
    """differentiable=True steps with grad mode on: an ordinary (leaf) parameter cannot be
    updated in place then, as in PyTorch."""
    def step(lib):
        param = lib.nn.Parameter(lib.ones(2))
        param.grad = lib.ones(2)
        getattr(lib.optim, name)([param], lr=0.1, differentiable=True).step()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad") as expected:
        step(torch)
    with pytest.raises(RuntimeError) as raised:
        step(ember)
    assert str(raised.value) == str(expected.value)


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 1e-2}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.01, "t0": 2, "weight_decay": 0.1})])
@pytest.mark.parametrize("exact", [True, False])
def test_float32_steps_bit_for_bit(name, kwargs, exact, monkeypatch):
    """With EXACT_STEPS on, float32 SGD, Adamax and ASGD round as PyTorch's single-tensor
    algorithms (each `add(..., alpha=)` and `lerp_` there is one fused multiply-add,
    `addcdiv_` is p + (v·m)/u): six steps on the same gradients give the very same bits.
    (Those that take a square root cannot: torch's float32 sqrt on this CPU is not correctly
    rounded.) Off (the default, NOTE [Optimizer steps and the FMA]), to float32 rounding."""
    monkeypatch.setattr(ember.optim.optimizer, "EXACT_STEPS", [exact])
    rng = np.random.default_rng(0)
    start = rng.standard_normal((64, 33)).astype(np.float32)
    grads = rng.standard_normal((6, 64, 33)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        param = lib.nn.Parameter(lib.tensor(start.copy()))
        opt = getattr(lib.optim, name)([param], **kwargs)
        for grad in grads:
            param.grad = lib.tensor(grad.copy())
            opt.step()
        results.append(param.detach().numpy())
    if exact:
        np.testing.assert_array_equal(*results)
    else:
        np.testing.assert_allclose(*results, rtol=1e-5, atol=1e-6)
