"""Optimizer hooks, repr and load_state_dict sharing against PyTorch."""

import importlib

import numpy as np
import pytest
import torch

import ember


def _adam(lib, groups=1):
    """An Adam on `groups` groups of one (2,) parameter each, stepped once."""
    params = [lib.nn.Parameter(lib.tensor(np.full(2, i + 1.0, np.float32)))
              for i in range(groups)]
    opt = lib.optim.Adam([{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)])
    for p in params:
        p.grad = lib.ones(2)
    opt.step()
    return params, opt


def _both(fn):
    """fn(lib) run with torch and with ember: the results must be equal."""
    expected, actual = fn(torch), fn(ember)
    assert actual == expected
    return actual


# ---- step hooks ---------------------------------------------------------------------------------
def _step_hook_log(lib):
    """The (hook, args, kwargs) every step hook sees, global and per optimizer."""
    optimizer_module = importlib.import_module(lib.__name__ + ".optim.optimizer")
    (p,), opt = _adam(lib)
    log = []

    def hook(tag):
        return lambda o, args, kwargs: log.append(
            (tag, o is opt, len(args), args[0] is opt, sorted(kwargs)))

    handles = [optimizer_module.register_optimizer_step_pre_hook(hook("global pre")),
               optimizer_module.register_optimizer_step_post_hook(hook("global post")),
               opt.register_step_pre_hook(hook("pre")), opt.register_step_post_hook(hook("post"))]
    try:
        opt.step()
        opt.step(closure=lambda: 1.0)
        opt.step(lambda: 2.0)
    finally:
        for handle in handles:
            handle.remove()
    opt.step()  # removed: nothing logged
    return log


def test_step_hooks_get_torch_args_and_order():
    """args is step's whole positional tuple, the optimizer first; global post hooks last."""
    log = _both(_step_hook_log)
    assert log[:4] == [("global pre", True, 1, True, []), ("pre", True, 1, True, []),
                       ("post", True, 1, True, []), ("global post", True, 1, True, [])]


def _pre_hook_replacing_args(lib):
    (p,), opt = _adam(lib)
    calls = []
    opt.register_step_pre_hook(lambda o, args, kwargs: ((o, lambda: calls.append(1)), {}))
    opt.step()
    return calls


def test_step_pre_hook_may_replace_args():
    assert _both(_pre_hook_replacing_args) == [1]


# ---- state_dict hooks ---------------------------------------------------------------------------
def _state_dict_hook_log(lib):
    (p,), opt = _adam(lib)
    log = []
    opt.register_state_dict_pre_hook(lambda o: log.append(("pre a", o is opt)))
    opt.register_state_dict_pre_hook(lambda o: log.append(("pre b", o is opt)), prepend=True)
    opt.register_state_dict_post_hook(lambda o, sd: log.append(("post a", sorted(sd))))
    handle = opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1}, prepend=True)
    first = sorted(opt.state_dict())
    handle.remove()
    second = sorted(opt.state_dict())
    return log, first, second


def test_state_dict_hooks_order_prepend_return_and_remove():
    log, first, second = _both(_state_dict_hook_log)
    assert log[:3] == [("pre b", True), ("pre a", True), ("post a", ["extra", "param_groups",
                                                                      "state"])]
    assert first == ["extra", "param_groups", "state"] and second == ["param_groups", "state"]


def _load_state_dict_hook_log(lib):
    (p,), opt = _adam(lib)
    saved = opt.state_dict()
    log = []

    def pre(o, sd):
        log.append(("pre", sd is saved, sorted(sd)))
        sd = dict(sd)
        sd["param_groups"] = [dict(g, lr=0.5) for g in sd["param_groups"]]
        return sd

    opt.register_load_state_dict_pre_hook(pre)
    opt.register_load_state_dict_pre_hook(lambda o, sd: log.append(("first", o is opt)),
                                          prepend=True)
    opt.register_load_state_dict_post_hook(lambda o: log.append(("post", o is opt)))
    handle = opt.register_load_state_dict_post_hook(lambda o: log.append(("post 0", 0)), True)
    opt.load_state_dict(saved)
    handle.remove()
    opt.load_state_dict(saved)
    return log, opt.param_groups[0]["lr"], saved["param_groups"][0]["lr"]


def test_load_state_dict_hooks_get_a_shallow_copy_and_may_replace_it():
    log, lr, saved_lr = _both(_load_state_dict_hook_log)
    assert log[:4] == [("first", True), ("pre", False, ["param_groups", "state"]),
                       ("post 0", 0), ("post", True)]
    assert lr == 0.5 and saved_lr == pytest.approx(0.1)


# ---- load_state_dict shares state tensors, as PyTorch's does --------------------------------
def _sharing(lib):
    (p,), opt = _adam(lib)
    other = lib.optim.Adam([p])
    other.load_state_dict(opt.state_dict())
    shared = {k: other.state[p][k] is v for k, v in opt.state[p].items()}
    q = lib.nn.Parameter(lib.ones(2, dtype=lib.float64))
    cast = lib.optim.Adam([q], fused=True)  # a cast state tensor is a new one
    cast.load_state_dict(opt.state_dict())
    cast_state = {k: (str(v.dtype), v is opt.state[p][k]) for k, v in cast.state[q].items()}
    return shared, cast_state


def test_load_state_dict_shares_tensors_that_need_no_cast():
    shared, cast_state = _both(_sharing)
    assert all(shared.values())
    assert cast_state["step"] == ("torch.float32", True)  # (fused: the step as float32)
    assert cast_state["exp_avg"] == ("torch.float64", False)


# ---- repr -----------------------------------------------------------------------------------
@pytest.mark.parametrize("groups", [1, 2, 3])
def test_repr_matches_torch(groups):
    """Groups after the first are set off by a blank line."""
    _both(lambda lib: repr(_adam(lib, groups)[1]))


# ---- parameter groups ---------------------------------------------------------------------------
def _group_error(groups):
    """fn(lib) making an SGD on `groups(lib)`; the error it raises, as (type name, message)."""
    def make(lib):
        try:
            lib.optim.SGD(groups(lib), lr=0.1)
        except (TypeError, ValueError) as error:
            return type(error).__name__, str(error)
        return None
    return make


@pytest.mark.parametrize("groups", [
    lambda lib: [{"params": [("w", lib.nn.Parameter(lib.ones(1)))]},
                 {"params": [lib.nn.Parameter(lib.ones(1))]}],
    lambda lib: [{"params": [lib.nn.Parameter(lib.ones(1))]},
                 {"params": [("w", lib.nn.Parameter(lib.ones(1)))]}],
    lambda lib: [("w", lib.nn.Parameter(lib.ones(1))), lib.nn.Parameter(lib.ones(1))],
    lambda lib: [1.0],
    lambda lib: [[lib.nn.Parameter(lib.ones(1))]],
], ids=["named-then-unnamed", "unnamed-then-named", "some-unnamed", "float", "nested-list"])
def test_named_and_unnamed_groups_refused_as_torch(groups):
    """All groups (and all parameters of a group) with names or all without, as PyTorch
    checks; a non-tensor is named by torch.typename."""
    assert _both(_group_error(groups)) is not None


def test_non_leaf_that_retains_grad_is_optimized():
    """A non-leaf tensor that retains its gradient may be optimized (PyTorch's check)."""
    def run(lib):
        x = lib.ones(2, requires_grad=True) * 2
        x.retain_grad()
        opt = lib.optim.SGD([x], lr=0.1)
        (x ** 2).sum().backward()
        opt.step()
        return x.tolist()
    _both(run)
    assert _both(_group_error(lambda lib: [lib.ones(2, requires_grad=True) * 2])) is not None
