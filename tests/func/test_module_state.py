"""torch.func's helpers around the transforms, against torch.func: stack_module_state (the
model-ensembling recipe: stacked parameters and buffers under vmap + functional_call, forward and
gradients), replace_all_batch_norm_modules_, linearize and functionalize, with their errors."""

import copy

import numpy as np
import pytest
import torch
import torch.func

import ember
import ember.func
from tests.differential import assert_same, assert_same_error, to_ember, to_torch

RNG = np.random.default_rng(15)
X = RNG.standard_normal((3, 4))
BATCHES = RNG.standard_normal((3, 5, 6)).astype(np.float32)


def _models(lib, count=3, cls="mlp"):
    """count models with torch's initial weights (made in torch, copied into ember)."""
    torch.manual_seed(0)
    t_models = [_build(torch, cls) for _ in range(count)]
    if lib is torch:
        return t_models
    e_models = [_build(ember, cls) for _ in range(count)]
    for t, e in zip(t_models, e_models):
        e.load_state_dict({k: to_ember(v.detach().numpy()) for k, v in t.state_dict().items()})
    return e_models


def _build(lib, cls):
    nn = lib.nn
    if cls == "mlp":
        return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    return nn.Linear(6, 2)


@pytest.mark.parametrize("in_dims", [(0, 0, 0), (0, 0, None)])
@pytest.mark.parametrize("train", [True, False])
def test_ensemble_with_vmap(in_dims, train):
    results = []
    for lib, convert in ((ember, to_ember), (torch, to_torch)):
        models = _models(lib)
        for m in models:
            m.train(train)
        params, buffers = lib.func.stack_module_state(models)
        base = copy.deepcopy(models[0])

        def fmodel(p, b, x, base=base, lib=lib):
            return lib.func.functional_call(base, (p, b), (x,))

        data = convert(BATCHES if in_dims[2] == 0 else BATCHES[0])
        out = lib.func.vmap(fmodel, in_dims=in_dims, randomness="different")(params, buffers,
                                                                             data)
        weights = np.arange(out.numel(), dtype=np.float32).reshape(tuple(out.shape)) / 10
        (out * convert(weights)).sum().backward()
        results.append((out, list(params), list(buffers),
                        [p.grad for p in params.values()],
                        [(p.is_leaf, p.requires_grad) for p in params.values()],
                        [(b.shape, b.requires_grad) for b in buffers.values()]))
    (eo, ep, eb, eg, eflags, ebuf), (to, tp, tb, tg, tflags, tbuf) = results
    assert_same(eo, to, rtol=1e-5, atol=1e-5)
    assert (ep, eb, eflags) == (tp, tb, tflags)
    assert [(tuple(s), r) for s, r in ebuf] == [(tuple(s), r) for s, r in tbuf]
    for e, t in zip(eg, tg):
        assert_same(e, t, rtol=1e-4, atol=1e-5)


def test_stacked_parameters_are_new_leaves():
    models = _models(ember, 2, "linear")
    params, _ = ember.func.stack_module_state(models)
    params["weight"].sum().backward()
    assert models[0].weight.grad is None
    assert_same(params["weight"], torch.stack([to_torch(m.weight.detach().numpy())
                                               for m in models]))


def _mixed_modes(lib):
    models = _models(lib, 2, "linear")
    models[1].eval()
    return lib.func.stack_module_state(models)


def _mixed_classes(lib):
    return lib.func.stack_module_state([lib.nn.Linear(2, 2), lib.nn.ReLU()])


def _mixed_requires_grad(lib):
    models = _models(lib, 2, "linear")
    models[1].weight.requires_grad_(False)
    return lib.func.stack_module_state(models)


@pytest.mark.parametrize("call", [lambda lib: lib.func.stack_module_state([]), _mixed_modes,
                                  _mixed_classes, _mixed_requires_grad],
                         ids=["empty", "modes", "classes", "requires_grad"])
def test_stack_module_state_errors(call):
    assert_same_error(call, same_message=True, exact_type=True)


def test_replace_all_batch_norm_modules_():
    states = []
    for lib in (ember, torch):
        nn = lib.nn
        root = nn.Sequential(nn.BatchNorm2d(3), nn.Sequential(nn.BatchNorm1d(2)),
                             nn.InstanceNorm1d(2, track_running_stats=True))
        assert lib.func.replace_all_batch_norm_modules_(root) is root
        states.append([(m.running_mean is None, m.running_var is None,
                        getattr(m, "num_batches_tracked", 0) is None, m.track_running_stats)
                       for m in (root[0], root[1][0], root[2])])
    assert states[0] == states[1]


LINEARIZE = {
    "sin": (lambda lib, x: x.sin() * x, (X,), (np.ones_like(X),)),
    "two_inputs": (lambda lib, x, y: (x * y.exp(), (x ** 2).sum()), (X, X[::-1].copy()),
                   (X * 0.5, np.ones_like(X))),
    "pytree_output": (lambda lib, x: {"a": x.tanh(), "b": [x.sum(0)]}, (X,), (X,)),
}


@pytest.mark.parametrize("name", list(LINEARIZE))
def test_linearize(name):
    fn, primals, tangents = LINEARIZE[name]
    results = []
    for lib, convert in ((ember, to_ember), (torch, to_torch)):
        output, jvp_fn = lib.func.linearize(lambda *a, lib=lib: fn(lib, *a),
                                            *[convert(p) for p in primals])
        first = jvp_fn(*[convert(t) for t in tangents])
        second = jvp_fn(*[convert(2 * t) for t in tangents])
        results.append((output, first, second))
    _same_tree(results[0], results[1])


def _same_tree(e, t):
    if isinstance(t, dict):
        assert e.keys() == t.keys()
        for key in t:
            _same_tree(e[key], t[key])
    elif isinstance(t, (tuple, list)):
        assert type(e) is type(t) and len(e) == len(t)
        for a, b in zip(e, t):
            _same_tree(a, b)
    else:
        assert_same(e, t, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("bad", ["shape", "dtype"])
def test_linearize_tangent_errors(bad):
    def call(lib, x):
        _, jvp_fn = lib.func.linearize(lambda t: t * 2, x)
        return jvp_fn(x[0] if bad == "shape" else x.float())

    assert_same_error(call, X, same_message=bad == "dtype", exact_type=True)


def test_linearize_structure_error():
    def call(lib, x):
        _, jvp_fn = lib.func.linearize(lambda t: t * 2, x)
        return jvp_fn(x, x)

    error, _ = assert_same_error(call, X, exact_type=True, match="to have the same argspec as")
    assert str(error).startswith("Expected the tangents")


def test_functionalize_computes_the_function():
    results = []
    for lib, convert in ((ember, to_ember), (torch, to_torch)):
        x = convert(X)

        def f(t):
            y = t.clone()
            y.add_(1)
            t.mul_(2)  # a mutated input is still mutated by the functionalized function
            return y.view(-1)

        out = lib.func.functionalize(f, remove="mutations_and_views")(x)
        results.append((out, x))
    _same_tree(results[0], results[1])


def test_functionalize_invalid_remove():
    assert_same_error(lambda lib: lib.func.functionalize(lambda t: t, remove="views"),
                      same_message=True, exact_type=True)
