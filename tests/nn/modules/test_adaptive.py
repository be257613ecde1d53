"""nn.AdaptiveLogSoftmaxWithLoss (ember/nn/modules/adaptive.py) against torch: forward output
and loss, gradients of the input and of every parameter, log_prob, predict (each of its three
branches), seeded initialization, state_dict, repr, attributes, and torch's errors.

Each module pair gets torch's parameters (copied through the state_dict), so values are
compared up to float rounding; seeded construction is compared bit for bit.
"""

import warnings

import numpy as np
import pytest
import torch

import ember
from ember.nn import AdaptiveLogSoftmaxWithLoss
from tests.differential import assert_same, assert_same_error, copy_state

RNG = np.random.default_rng(0)  # reseeded per test (tests/conftest.py)

# (in_features, n_classes, cutoffs, div_value, head_bias, dtype name); every tail cluster
# has a hidden size >= 1 (a 0-wide one: test_zero_width_cluster_*)
CONFIGS = [
    (8, 10, [4], 4.0, False, "float32"),
    (8, 10, [1], 1.0, True, "float32"),
    (16, 20, [4, 10], 4.0, True, "float32"),
    (16, 20, [4, 10], 4.0, False, "float64"),
    (16, 30, [3, 8, 20], 1.0, False, "float32"),
    (16, 30, [3, 8, 20], 2.0, True, "float64"),
    (12, 25, [2, 5, 9, 24], 1.5, True, "float32"),
]
CONFIG_IDS = [f"{c[0]}-{c[1]}-{'_'.join(map(str, c[2]))}-div{c[3]}-bias{c[4]}-{c[5]}"
              for c in CONFIGS]


def _module(lib, config, seed=0):
    """The module of `config` in lib, built after lib.manual_seed(seed)."""
    in_features, n_classes, cutoffs, div_value, head_bias, dtype = config
    lib.manual_seed(seed)
    cls = AdaptiveLogSoftmaxWithLoss if lib is ember else torch.nn.AdaptiveLogSoftmaxWithLoss
    return cls(in_features, n_classes, cutoffs, div_value=div_value, head_bias=head_bias,
               dtype=getattr(lib, dtype))


def _pair(config, seed=0):
    """(ember, torch) modules of config holding torch's parameters."""
    t = _module(torch, config, seed)
    e = _module(ember, config, seed + 1)  # a different draw: the copy must overwrite it
    copy_state(t, e)
    return e, t


def _leaf_pair(array):
    """(ember, torch) leaves requiring grad, holding copies of array."""
    return (ember.tensor(array.copy(), requires_grad=True),
            torch.tensor(array.copy(), requires_grad=True))


def _clusters(cutoffs, n_classes):
    """[(low, high)] of the shortlist and each tail cluster."""
    bounds = [0] + list(cutoffs) + [n_classes]
    return list(zip(bounds[:-1], bounds[1:]))


def _targets(kind, cutoffs, n_classes):
    """Targets of one kind: head_only, every_cluster (both ends of each, repeats), tail_only,
    skip (the shortlist and the last cluster only), one_row (a batch of 1, the last class)."""
    clusters = _clusters(cutoffs, n_classes)
    if kind == "head_only":
        values = list(RNG.integers(0, cutoffs[0], 5)) + [cutoffs[0] - 1]
    elif kind == "every_cluster":
        values = [v for lo, hi in clusters for v in (lo, hi - 1, RNG.integers(lo, hi))]
    elif kind == "tail_only":
        values = [v for lo, hi in clusters[1:] for v in (lo, hi - 1)]
    elif kind == "skip":
        (lo, hi), (last_lo, last_hi) = clusters[0], clusters[-1]
        values = [lo, last_hi - 1, hi - 1, last_lo, last_lo]
    else:
        values = [n_classes - 1]
    return RNG.permutation(np.array(values, dtype=np.int64))


def _compare_parameter_grads(e, t, rtol=1e-5, atol=1e-6):
    """Every parameter's .grad (by name) matches torch's; names in the same order."""
    t_params = dict(t.named_parameters())
    assert [n for n, _ in e.named_parameters()] == list(t_params)
    for name, p in e.named_parameters():
        assert (p.grad is None) == (t_params[name].grad is None), name
        if p.grad is not None:
            assert_same(p.grad, t_params[name].grad, rtol, atol)


def _forward_backward(e, t, x, y, dtype):
    """Run both modules on (x, y); compare output, loss, and the gradients of
    loss + sum(output * g) (g random: per-sample weights, not only the mean)."""
    ex, tx = _leaf_pair(x)
    e_res, t_res = e(ex, ember.tensor(y)), t(tx, torch.tensor(y))
    assert type(e_res).__name__ == "_ASMoutput" and e_res._fields == ("output", "loss")
    assert_same(e_res.output, t_res.output)
    assert_same(e_res.loss, t_res.loss)
    assert_same(e_res[0], e_res.output, exact=True)  # a tuple: (output, loss)
    g = RNG.standard_normal(tuple(t_res.output.shape)).astype(dtype)
    (e_res.loss + (e_res.output * ember.tensor(g)).sum()).backward()
    (t_res.loss + (t_res.output * torch.tensor(g)).sum()).backward()
    assert_same(ex.grad, tx.grad)
    _compare_parameter_grads(e, t)


@pytest.mark.parametrize("kind", ["head_only", "every_cluster", "tail_only", "skip", "one_row"])
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_forward_backward_batched(config, kind):
    in_features, n_classes, cutoffs, _, _, dtype = config
    e, t = _pair(config)
    y = _targets(kind, cutoffs, n_classes)
    x = RNG.standard_normal((len(y), in_features)).astype(dtype)
    _forward_backward(e, t, x, y, dtype)


@pytest.mark.parametrize("which", ["first", "shortlist_end", "cluster_start", "last"])
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_forward_backward_unbatched(config, which):
    """A 1-D input and a 0-D target: a 0-D output."""
    in_features, n_classes, cutoffs, _, _, dtype = config
    target = {"first": 0, "shortlist_end": cutoffs[0] - 1, "cluster_start": cutoffs[0],
              "last": n_classes - 1}[which]
    e, t = _pair(config)
    x = RNG.standard_normal(in_features).astype(dtype)
    _forward_backward(e, t, x, np.array(target), dtype)


def test_empty_batch():
    """No rows: an empty output and a nan loss, as torch."""
    e, t = _pair(CONFIGS[2])
    ex, tx = _leaf_pair(np.zeros((0, 16), np.float32))
    y = np.zeros(0, np.int64)
    e_res, t_res = e(ex, ember.tensor(y)), t(tx, torch.tensor(y))
    assert_same(e_res.output, t_res.output)
    assert_same(e_res.loss, t_res.loss)
    assert np.isnan(e_res.loss.item())


def test_int32_target():
    """An int32 target (torch's gather takes int32 indices) gives the same result."""
    e, t = _pair(CONFIGS[2])
    y = np.array([0, 5, 12, 19, 3], np.int32)
    x = RNG.standard_normal((5, 16)).astype(np.float32)
    _forward_backward(e, t, x, y, "float32")


def test_inputs_not_modified():
    """forward writes into its own buffers, never into input or target."""
    e, _ = _pair(CONFIGS[4])
    x = RNG.standard_normal((6, 16)).astype(np.float32)
    y = np.array([0, 3, 8, 29, 2, 20])
    ex, ey = ember.tensor(x), ember.tensor(y)
    e(ex, ey)
    np.testing.assert_array_equal(ex.numpy(), x)
    np.testing.assert_array_equal(ey.numpy(), y)


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_log_prob(config):
    """log_prob's values and its gradients (input and every parameter)."""
    in_features, _, _, _, _, dtype = config
    e, t = _pair(config)
    ex, tx = _leaf_pair(RNG.standard_normal((5, in_features)).astype(dtype))
    e_out, t_out = e.log_prob(ex), t.log_prob(tx)
    assert_same(e_out, t_out)
    # a distribution over the n_classes: its probabilities sum to 1
    np.testing.assert_allclose(np.exp(e_out.detach().numpy()).sum(1), 1, rtol=1e-5)
    g = RNG.standard_normal(tuple(t_out.shape)).astype(dtype)
    e_out.backward(ember.tensor(g))
    t_out.backward(torch.tensor(g))
    assert_same(ex.grad, tx.grad)
    _compare_parameter_grads(e, t)


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_output_is_log_prob_of_target(config):
    """forward's output is log_prob gathered at the target (checked in torch and in ember)."""
    in_features, n_classes, cutoffs, _, _, dtype = config
    e, _ = _pair(config)
    y = _targets("every_cluster", cutoffs, n_classes)
    x = ember.tensor(RNG.standard_normal((len(y), in_features)).astype(dtype))
    full = e.log_prob(x).detach().numpy()
    expected = full[np.arange(len(y)), y]
    np.testing.assert_allclose(e(x, ember.tensor(y)).output.detach().numpy(), expected,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_predict_random_weights(config):
    in_features, _, _, _, _, dtype = config
    e, t = _pair(config)
    x = RNG.standard_normal((20, in_features)).astype(dtype)
    e_out, t_out = e.predict(ember.tensor(x)), t.predict(torch.tensor(x))
    assert_same(e_out, t_out, exact=True)


def _predict_pair():
    """Modules (8 features, 12 classes, cutoffs [3, 6]) whose head logits are x[:, :5]: the
    head argmax of a row is chosen by its input."""
    e, t = _pair((8, 12, [3, 6], 2.0, False, "float32"))
    with torch.no_grad():
        t.head.weight.copy_(torch.eye(5, 8))
    copy_state(t, e)
    return e, t


def _rows(columns):
    """Inputs whose head argmax is columns[i] (value 3.0 there, 0 elsewhere)."""
    x = np.zeros((len(columns), 8), np.float32)
    x[np.arange(len(columns)), columns] = 3.0
    return x


PREDICT_INPUTS = {
    "all_in_shortlist": _rows([0, 1, 2, 2]),
    "none_in_shortlist": _rows([3, 4, 4, 3]),
    "mixed": _rows([0, 3, 1, 4, 2]),
}


@pytest.mark.parametrize("case", sorted(PREDICT_INPUTS))
def test_predict_branches(case):
    """predict's three paths: every head argmax in the shortlist, none, some."""
    e, t = _predict_pair()
    x = PREDICT_INPUTS[case]
    e_out, t_out = e.predict(ember.tensor(x)), t.predict(torch.tensor(x))
    assert_same(e_out, t_out, exact=True)
    # predict is log_prob's argmax (torch's documented equivalence), in ember as well
    assert_same(e_out, e.log_prob(ember.tensor(x)).argmax(1), exact=True)


def test_predict_cluster_logit_wins_head_but_not_overall():
    """A row whose head argmax is a cluster's logit, but whose best class is in the shortlist
    (the cluster splits its mass over 3 classes): predict answers the shortlist class."""
    e, t = _predict_pair()
    x = np.zeros((3, 8), np.float32)
    x[:, 0] = 3.0
    x[:, 3] = 3.1  # cluster 1's logit just above class 0's
    x[1, 3] = 0.0  # row 1: plainly class 0
    with torch.no_grad():  # tail 0 nearly uniform: each of its classes gets ~ 3.1 - log 3
        t.tail[0][1].weight.mul_(1e-3)
    copy_state(t, e)
    t_out = t.predict(torch.tensor(x))
    assert t_out.tolist() == [0, 0, 0]  # the scenario holds in torch
    assert_same(e.predict(ember.tensor(x)), t_out, exact=True)


@pytest.mark.parametrize("seed", [0, 7, 2026])
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_seeded_init_equals_torch(config, seed):
    """After manual_seed(seed), construction gives torch's parameters bit for bit, and leaves
    the generator in torch's state (the same number of draws)."""
    results = []
    for lib in (ember, torch):
        module = _module(lib, config, seed)
        probe = lib.rand(4, dtype=lib.float64).tolist()
        results.append(([(n, p.detach().numpy().copy()) for n, p in module.named_parameters()],
                        probe))
    (e_params, e_probe), (t_params, t_probe) = results
    assert [n for n, _ in e_params] == [n for n, _ in t_params]
    for (name, ep), (_, tp) in zip(e_params, t_params):
        assert ep.dtype == tp.dtype and ep.shape == tp.shape, name
        np.testing.assert_array_equal(ep, tp, err_msg=name)
    assert e_probe == t_probe


@pytest.mark.parametrize("config", CONFIGS[2:4], ids=CONFIG_IDS[2:4])
def test_reset_parameters_equals_torch(config):
    """reset_parameters re-draws in torch's order: the same weights after the same seed."""
    e, t = _pair(config)
    ember.manual_seed(11)
    torch.manual_seed(11)
    e.reset_parameters()
    t.reset_parameters()
    for (name, ep), (_, tp) in zip(e.state_dict().items(), t.state_dict().items()):
        np.testing.assert_array_equal(ep.numpy(), tp.numpy(), err_msg=name)


def _warnings_of(fn):
    """(result of fn(), the messages of the warnings it raised)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    return result, [str(w.message) for w in caught]


# 16 features, div_value 4: the third cluster's hidden size is 16 // 64 == 0
ZERO_WIDTH = (16, 20, [4, 10, 15], 4.0, True, "float32")


def test_zero_width_cluster_init_and_forward():
    """A 0-wide projection: torch's weights and init warnings, and forward's values (its
    cluster is uniform: log 1/5)."""
    e_mod, e_warn = _warnings_of(lambda: _module(ember, ZERO_WIDTH))
    t_mod, t_warn = _warnings_of(lambda: _module(torch, ZERO_WIDTH))
    assert e_warn == t_warn and len(t_warn) == 2
    assert [(k, tuple(v.shape)) for k, v in e_mod.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t_mod.state_dict().items()]
    for (name, ep), (_, tp) in zip(e_mod.state_dict().items(), t_mod.state_dict().items()):
        np.testing.assert_array_equal(ep.numpy(), tp.numpy(), err_msg=name)
    x = RNG.standard_normal((4, 16)).astype(np.float32)
    y = np.array([0, 15, 19, 12])
    e_res, t_res = e_mod(ember.tensor(x), ember.tensor(y)), t_mod(torch.tensor(x),
                                                                   torch.tensor(y))
    assert_same(e_res.output, t_res.output)
    assert_same(e_res.loss, t_res.loss)
    assert_same(e_mod.log_prob(ember.tensor(x)), t_mod.log_prob(torch.tensor(x)))


def test_zero_width_cluster_backward():
    e, t = _warnings_of(lambda: _pair(ZERO_WIDTH))[0]
    x = RNG.standard_normal((4, 16)).astype(np.float32)
    _forward_backward(e, t, x, np.array([0, 15, 19, 12]), "float32")


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_state_dict_and_attributes(config):
    """state_dict keys, shapes and dtypes, and the public attributes, are torch's."""
    e, t = _module(ember, config), _module(torch, config)
    assert [(k, tuple(v.shape), str(v.dtype)) for k, v in e.state_dict().items()] == \
        [(k, tuple(v.shape), str(v.dtype)) for k, v in t.state_dict().items()]
    for attr in ("in_features", "n_classes", "cutoffs", "div_value", "head_bias",
                 "shortlist_size", "n_clusters", "head_size"):
        assert getattr(e, attr) == getattr(t, attr), attr
        assert type(getattr(e, attr)) is type(getattr(t, attr)), attr
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    # torch's state_dict loads into ember strictly (no missing or unexpected keys)
    result = copy_state(t, e)
    assert not result.missing_keys and not result.unexpected_keys


@pytest.mark.parametrize("config", CONFIGS + [ZERO_WIDTH], ids=CONFIG_IDS + ["zero_width"])
def test_repr(config):
    e, t = _warnings_of(lambda: (_module(ember, config), _module(torch, config)))[0]
    assert repr(e) == repr(t)


def test_cutoffs_any_sequence():
    """A tuple, a range or an array of cutoffs is copied into a list; the argument is kept."""
    for cutoffs in ((3, 8), range(3, 9, 5), np.array([3, 8])):
        e = AdaptiveLogSoftmaxWithLoss(16, 20, cutoffs)
        t = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 20, cutoffs)
        assert e.cutoffs == t.cutoffs == [3, 8, 20]
    cutoffs = [3, 8]
    AdaptiveLogSoftmaxWithLoss(16, 20, cutoffs)
    assert cutoffs == [3, 8]


def test_device_and_dtype_arguments():
    for lib in (ember, torch):
        cls = AdaptiveLogSoftmaxWithLoss if lib is ember else torch.nn.AdaptiveLogSoftmaxWithLoss
        m = cls(16, 20, [4, 10], device="cpu", dtype=lib.float64)
        assert all(str(p.dtype) == "torch.float64" for p in m.parameters())
        assert all(str(p.device) == "cpu" for p in m.parameters())


def _make(lib, *args, **kwargs):
    """lib's AdaptiveLogSoftmaxWithLoss(*args, **kwargs)."""
    cls = AdaptiveLogSoftmaxWithLoss if lib is ember else torch.nn.AdaptiveLogSoftmaxWithLoss
    return cls(*args, **kwargs)


@pytest.mark.parametrize("cutoffs", [
    [], [5, 3], [3, 3], [3, 20], [3, 25], [0, 3], [-1, 3], [2.5, 5], [3, 8, 8], [1, "a"],
    None, 5,
], ids=["empty", "unsorted", "duplicate", "eq_n_classes", "gt_n_classes", "zero",
        "negative", "non_int", "duplicate_last", "non_number", "none", "scalar"])
def test_bad_cutoffs(cutoffs):
    """torch's ValueError (or the TypeError of list() / sorted()), message and all."""
    assert_same_error(lambda lib: _make(lib, 16, 20, cutoffs), same_message=True,
                      exact_type=True)


def test_div_value_zero():
    assert_same_error(lambda lib: _make(lib, 16, 20, [4], div_value=0.0), same_message=True,
                      exact_type=True)


def test_float_cutoff_type():
    """An integral float cutoff passes the check; the Linear built from it raises TypeError."""
    assert_same_error(lambda lib: _make(lib, 16, 20, [2.0, 5]), exact_type=True)


def test_float_cutoff_message():
    assert_same_error(lambda lib: _make(lib, 16, 20, [2.0, 5]), same_message=True)


X4 = np.arange(64, dtype=np.float32).reshape(4, 16) / 64

FORWARD_ERRORS = {  # (input, target)
    "3d_input": (np.zeros((4, 16, 2), np.float32), np.array([0, 1, 2, 3])),
    "1d_input_1d_target": (np.zeros(4, np.float32), np.array([0, 1, 2, 3])),
    "2d_input_0d_target": (X4, np.array(3)),
    "2d_target": (X4, np.array([[3], [4], [5], [6]])),
    "batch_mismatch": (X4, np.array([3, 4])),
    "batch_mismatch_3d_input": (np.zeros((2, 16, 2), np.float32), np.array([0, 1, 2])),
    "target_eq_n_classes": (X4, np.array([0, 20, 5, 1])),
    "target_negative": (X4, np.array([0, -1, 5, 1])),
    "target_all_out": (X4, np.array([-4, 25, 30, 21])),
    "unbatched_target_out": (X4[0], np.array(-3)),
    "float_target": (X4, np.array([0.0, 1, 5, 1])),
    "bool_target": (X4, np.array([True, False, True, True])),
    "uint8_target": (X4, np.array([0, 1, 5, 1], np.uint8)),
    "in_features_head": (X4[:, :15], np.array([0, 1, 2, 1])),
    "in_features_tail": (X4[:, :15], np.array([0, 1, 12, 1])),
    "float64_input": (X4.astype(np.float64), np.array([0, 1, 12, 1])),
    "int_input": (np.zeros((4, 16), np.int64), np.array([0, 1, 2, 1])),
}


@pytest.mark.parametrize("case", sorted(FORWARD_ERRORS))
def test_forward_errors(case):
    """torch's exception type and message for bad shapes, targets and inputs."""
    x, y = FORWARD_ERRORS[case]
    assert_same_error(lambda lib: _make(lib, 16, 20, [4, 10])(lib.tensor(x), lib.tensor(y)),
                      same_message=True, exact_type=True)


def _zero_dim_input(lib):
    """A 0-D input with a 1-D target: torch's size(0) of the input raises IndexError."""
    return _make(lib, 4, 20, [4, 10], div_value=2.0)(lib.tensor(1.0), lib.tensor([0]))


def test_zero_dim_input_type():
    assert_same_error(_zero_dim_input, exact_type=True)


def test_zero_dim_input_message():
    assert_same_error(_zero_dim_input, same_message=True)


@pytest.mark.parametrize("method", ["log_prob", "predict"])
def test_log_prob_predict_1d_input(method):
    """log_prob and predict take (N, in_features): a 1-D input raises torch's IndexError."""
    x = np.ones(16, np.float32)
    assert_same_error(lambda lib: getattr(_make(lib, 16, 20, [4, 10]), method)(lib.tensor(x)),
                      same_message=True, exact_type=True)


def test_log_prob_3d_input():
    x = np.ones((2, 2, 16), np.float32)
    assert_same_error(lambda lib: _make(lib, 16, 20, [4, 10]).log_prob(lib.tensor(x)),
                      same_message=True, exact_type=True)


@pytest.mark.parametrize("cutoffs", [[4, 10], [1, 10]])
def test_predict_3d_input(cutoffs):
    """predict does not check the rank: a 3-D input takes argmax over dim 1 of the head's
    output, as in torch, whose result or error ember reproduces."""
    t = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 20, cutoffs, div_value=2.0)
    e = AdaptiveLogSoftmaxWithLoss(16, 20, cutoffs, div_value=2.0)
    copy_state(t, e)
    x = RNG.standard_normal((2, 3, 16)).astype(np.float32)
    try:
        expected = t.predict(torch.tensor(x))
    except Exception as error:  # noqa: BLE001 - ember must raise the same
        with pytest.raises(type(error)) as raised:
            e.predict(ember.tensor(x))
        assert str(raised.value) == str(error)
        return
    assert_same(e.predict(ember.tensor(x)), expected, exact=True)
