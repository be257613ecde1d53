"""Optimizers against PyTorch on complex parameters, LBFGS's line search, constructor checks."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error

# Every option that changes the arithmetic, per optimizer, on complex parameters.
COMPLEX_CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.3, "maximize": True}),
    ("Adam", {"lr": 0.1}),
    ("Adam", {"lr": 0.1, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.1, "amsgrad": True, "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.9, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "centered": True, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1,
                 "initial_accumulator_value": 0.5, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.1, "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {"lr": 0.1, "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.1, "weight_decay": 0.1, "maximize": True}),
    ("ASGD", {"lr": 0.1, "weight_decay": 0.1, "maximize": True}),
    ("Rprop", {"lr": 0.1, "maximize": True}),
]


def _complex_run(lib, name, kwargs, steps=6):
    """A complex (2, 3) parameter and a complex 0-d one, stepped on |q - target|³."""
    rng = np.random.default_rng(0)
    start = (rng.normal(size=(2, 3)) + 1j * rng.normal(size=(2, 3))).astype(np.complex64)
    target = (rng.normal(size=(2, 3)) + 1j * rng.normal(size=(2, 3))).astype(np.complex64)
    q = lib.nn.Parameter(lib.tensor(start))
    r = lib.nn.Parameter(lib.tensor(np.complex128(0.5 - 1.5j)))
    opt = getattr(lib.optim, name)([q, r], **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((q - lib.tensor(target)).abs() ** 3).sum() + (r.abs() ** 2).real
        loss.backward()
        opt.step()
    return (q, r), opt


@pytest.mark.parametrize("case", COMPLEX_CASES,
                         ids=[f"{n}-{'-'.join(k)}" for n, k in COMPLEX_CASES])
def test_complex_parameters_update_real_and_imaginary_parts_independently(case):
    (eq, er), e_opt = _complex_run(ember, *case)
    (tq, tr), t_opt = _complex_run(torch, *case)
    for e, t in ((eq, tq), (er, tr)):
        assert_same(e.detach(), t.detach(), rtol=1e-4, atol=1e-6)
        e_state, t_state = e_opt.state[e], t_opt.state[t]
        assert list(e_state) == list(t_state)
        for key, value in t_state.items():  # complex state stays complex, as PyTorch's
            assert_same(e_state[key], value, rtol=1e-4, atol=1e-6)


def test_adam_complex_second_moment_is_per_part():
    """The reported case: exp_avg_sq holds g_re² + i·g_im², not the complex g²."""
    for lib in (ember, torch):
        q = lib.nn.Parameter(lib.tensor([1 + 2j, -0.5 + 0.25j]))
        opt = lib.optim.Adam([q], lr=0.1)
        (q.abs() ** 2).sum().backward()
        opt.step()
        np.testing.assert_allclose(q.detach().numpy(), [0.9 + 1.9j, -0.4 + 0.15j], rtol=1e-5)
        np.testing.assert_allclose(opt.state[q]["exp_avg_sq"].numpy(),
                                   [0.004 + 0.016j, 0.001 + 0.00025j], rtol=1e-5)


# ---- LBFGS --------------------------------------------------------------------------------------
def _lbfgs_run(lib, line_search_fn, lr):
    w = lib.nn.Parameter(lib.tensor(np.array([1.5, -0.5, 2.0], dtype=np.float32)))
    opt = lib.optim.LBFGS([w], lr=lr, max_iter=5, line_search_fn=line_search_fn)

    def closure():
        opt.zero_grad()
        loss = ((w - 1) ** 4).sum() + (w ** 2).sum()
        loss.backward()
        return loss

    losses = [opt.step(closure).item() for _ in range(2)]
    return w, opt.state[w], losses


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("lr", [1, 0.5])
def test_lbfgs_matches_torch_with_and_without_line_search(line_search_fn, lr):
    """The closure runs with grad enabled inside the line search too; the state's scalars
    keep PyTorch's types (an int lr=1 gives an int t)."""
    ew, e_state, e_losses = _lbfgs_run(ember, line_search_fn, lr)
    tw, t_state, t_losses = _lbfgs_run(torch, line_search_fn, lr)
    assert_same(ew.detach(), tw.detach(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(e_losses, t_losses, rtol=1e-6)
    assert list(e_state) == list(t_state)
    for key in ("func_evals", "n_iter", "t", "prev_loss"):
        assert type(e_state[key]) is type(t_state[key]), key
        assert e_state[key] == pytest.approx(t_state[key], rel=1e-6), key
    assert_same(e_state["H_diag"], t_state["H_diag"], rtol=1e-3)  # (float32 sums)


# ---- constructor checks -------------------------------------------------------------------------
def _construct(name, **options):
    """fn(lib) making optimizer `name` on one parameter; "lr_tensor" and "betas_tensor" become
    the library's tensors."""

    def make(lib):
        kwargs = dict(options)
        if "lr_tensor" in kwargs:
            kwargs["lr"] = lib.tensor(kwargs.pop("lr_tensor"))
        if "betas_tensor" in kwargs:
            kwargs["betas"] = tuple(lib.tensor(b) for b in kwargs.pop("betas_tensor"))
        return getattr(lib.optim, name)([lib.nn.Parameter(lib.ones(2))], **kwargs)

    return make


@pytest.mark.parametrize("name", ["Adam", "AdamW", "SGD", "Adagrad"])
def test_fused_refuses_foreach_and_differentiable(name):
    assert_same_error(_construct(name, fused=True, foreach=True), same_message=True,
                      exact_type=True)
    assert_same_error(_construct(name, fused=True, differentiable=True), same_message=True,
                      exact_type=True)


@pytest.mark.parametrize("options", [
    {"lr_tensor": 0.01, "foreach": True},
    {"betas_tensor": (0.9, 0.99), "foreach": True},
    {"betas_tensor": ([0.9, 0.8], 0.99)},
    {"betas": (0, 0.9)},
], ids=["lr-tensor-foreach", "betas-tensor-foreach", "betas-2-elements", "int-beta"])
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_tensor_hyperparameter_checks(name, options):
    assert_same_error(_construct(name, **options), same_message=True, exact_type=True)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "SGD", "Adagrad", "RMSprop", "Adadelta",
                                  "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_lr_tensor_checks(name):
    assert_same_error(_construct(name, lr_tensor=[0.1, 0.2]), same_message=True,
                      exact_type=True)
    for lib in (ember, torch):  # a 1-element lr tensor is accepted (foreach unset)
        _construct(name, lr_tensor=0.01)(lib)


@pytest.mark.parametrize("foreach", [False, True], ids=["single", "foreach"])
@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "Adadelta", "ASGD", "NAdam",
                                  "RAdam", "RMSprop", "Rprop"])
def test_capturable_step_refused_on_cpu(name, foreach):
    """capturable=True is for CUDA graphs: a step with a gradient raises PyTorch's
    AssertionError (its wording per optimizer and path); one without gradients does not."""
    def step(lib):
        param = lib.nn.Parameter(lib.ones(2))
        opt = getattr(lib.optim, name)([param], capturable=True, foreach=foreach)
        opt.step()
        param.grad = lib.ones(2)
        opt.step()
    assert_same_error(step, same_message=True, exact_type=True)
