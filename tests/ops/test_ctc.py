"""ember/ops/ctc.py (the fused CTC loss), F.ctc_loss and nn.CTCLoss against torch: a table over
reductions, zero_infinity, blank, the two target layouts and the ways lengths are given, with
feasible and impossible alignments, in float32 and float64: losses and PyTorch's gradient with
respect to log_probs (and through log_softmax to the logits); unbatched input; float64 finite
differences; PyTorch's module_db entries; errors."""

import warnings

import numpy as np
import pytest
import torch
from torch.testing._internal.common_modules import module_db

import ember
from tests.differential import assert_same, assert_same_error, gradcheck64, to_ember

RNG = np.random.default_rng(0)
T, N, C = 12, 4, 6


def _problem(blank, impossible):
    """(targets padded (N, U), input lengths, target lengths) avoiding the blank label."""
    labels = [k for k in range(C) if k != blank]
    target_lengths = np.array([4, 2, 0, 5])
    input_lengths = np.array([12, 7, 3, 11])
    targets = RNG.choice(labels, size=(N, 6))
    targets[0, :4] = targets[0, 0]  # repeats need a blank between them
    if impossible:  # 5 labels with 4 repeats need 9 frames; give 6
        targets[3, :5] = labels[0]
        input_lengths[3] = 6
    return targets, input_lengths, target_lengths


def _layout(targets, target_lengths, layout):
    if layout == "padded":
        return targets
    return np.concatenate([targets[n, :length] for n, length in enumerate(target_lengths)])


def _lengths(lib, values, kind):
    if kind == "tensor":
        return lib.tensor(values)
    if kind == "int32_tensor":
        return lib.tensor(values.astype(np.int32))
    return tuple(int(v) for v in values) if kind == "tuple" else [int(v) for v in values]


def _loss(lib, logits, targets, input_lengths, target_lengths, through_softmax, **kwargs):
    leaf = lib.tensor(logits, requires_grad=True)
    log_probs = leaf.log_softmax(-1) if through_softmax else leaf
    loss = lib.nn.functional.ctc_loss(log_probs, lib.tensor(targets), input_lengths,
                                      target_lengths, **kwargs)
    return leaf, loss


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("through_softmax", [True, False], ids=["logits", "log_probs"])
@pytest.mark.parametrize("impossible", [False, True], ids=["feasible", "impossible"])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_matches_torch(reduction, zero_infinity, impossible, through_softmax, dtype):
    _check_case(reduction, zero_infinity, impossible, through_softmax, dtype, 0, "padded",
                "tensor")


@pytest.mark.parametrize("blank", [0, C - 1, 2])
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
@pytest.mark.parametrize("lengths", ["tensor", "int32_tensor", "tuple", "list"])
def test_layouts_blank_and_lengths(blank, layout, lengths):
    _check_case("none", False, False, True, np.float64, blank, layout, lengths)


def _check_case(reduction, zero_infinity, impossible, through_softmax, dtype, blank, layout,
                lengths):
    targets, input_lengths, target_lengths = _problem(blank, impossible)
    targets = _layout(targets, target_lengths, layout)
    logits = RNG.standard_normal((T, N, C)).astype(dtype)
    kwargs = {"blank": blank, "reduction": reduction, "zero_infinity": zero_infinity}
    results = [_loss(lib, logits, targets, _lengths(lib, input_lengths, lengths),
                     _lengths(lib, target_lengths, lengths), through_softmax, **kwargs)
               for lib in (ember, torch)]
    (e_leaf, e_loss), (t_leaf, t_loss) = results
    tol = 2e-5 if dtype == np.float32 else 1e-10
    assert_same(e_loss, t_loss, tol, tol)
    gy = RNG.uniform(0.5, 1.5, tuple(t_loss.shape)).astype(dtype)
    e_loss.backward(ember.tensor(gy))
    t_loss.backward(torch.tensor(gy))
    assert_same(e_leaf.grad, t_leaf.grad, tol * 10, tol)  # NaNs (impossible, no zeroing) too


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_unbatched(reduction):
    logits = RNG.standard_normal((T, C))
    targets = np.array([1, 2, 2, 3])
    results = []
    for lib in (ember, torch):
        leaf = lib.tensor(logits, requires_grad=True)
        loss = lib.nn.functional.ctc_loss(leaf.log_softmax(-1), lib.tensor(targets),
                                          lib.tensor(10), lib.tensor(4), reduction=reduction)
        loss.sum().backward()
        results.append((loss, leaf.grad))
    assert_same(results[0][0], results[1][0], 1e-10, 1e-12)
    assert_same(results[0][1], results[1][1], 1e-10, 1e-12)


def test_gradcheck_float64_through_log_softmax():
    """Through log_softmax PyTorch's CTC gradient is the true one (NOTE in ember/ops/ctc.py)."""
    targets, input_lengths, target_lengths = _problem(0, False)
    logits = RNG.standard_normal((T, N, C))
    il, tl = ember.tensor(input_lengths), ember.tensor(target_lengths)

    def loss(x):
        return ember.nn.functional.ctc_loss(x.log_softmax(-1), ember.tensor(targets), il, tl,
                                            reduction="none")

    assert gradcheck64(loss, logits)


def test_one_fused_node():
    targets, input_lengths, target_lengths = _problem(0, False)
    x = ember.randn(T, N, C, requires_grad=True)
    loss = ember.nn.functional.ctc_loss(x, ember.tensor(targets), ember.tensor(input_lengths),
                                        ember.tensor(target_lengths), reduction="none")
    assert loss.grad_fn.name() == "CtcLossBackward0"


def test_module_matches_functional_and_repr():
    for kwargs in ({}, {"blank": 3, "reduction": "sum", "zero_infinity": True}):
        assert repr(ember.nn.CTCLoss(**kwargs)) == repr(torch.nn.CTCLoss(**kwargs))
        module = ember.nn.CTCLoss(**kwargs)
        assert (module.blank, module.reduction, module.zero_infinity) == (
            kwargs.get("blank", 0), kwargs.get("reduction", "mean"),
            kwargs.get("zero_infinity", False))


def _module_db_cases():
    info = next(m for m in module_db if m.module_cls.__name__ == "CTCLoss")
    cases = []
    for dtype in (torch.float32, torch.float64):
        items = info.module_inputs_func(info, device="cpu", dtype=dtype, requires_grad=True,
                                        training=True)
        for i, item in enumerate(items[:20]):  # the list repeats itself after 20
            cases.append(pytest.param(item, dtype, id=f"{dtype}-{i}-{item.desc}"))
    return cases


@pytest.mark.parametrize("item,dtype", _module_db_cases())
def test_module_db(item, dtype):
    ctor = item.constructor_input
    t = torch.nn.CTCLoss(*ctor.args, **ctor.kwargs)
    e = ember.nn.CTCLoss(*ctor.args, **ctor.kwargs)
    t_args = item.forward_input.args
    e_args = to_ember(t_args)
    t_out, e_out = t(*t_args), e(*e_args)
    tol = 5e-5 if dtype == torch.float32 else 1e-10
    assert_same(e_out, t_out, tol, tol)
    (t_grad,) = torch.autograd.grad(t_out.sum(), t_args[0])  # log_probs is not a leaf there
    e_out.sum().backward()
    assert_same(e_args[0].grad, t_grad, tol * 10, tol)


def _error_cases():
    targets, input_lengths, target_lengths = _problem(0, False)
    lp = RNG.standard_normal((T, N, C))
    return {
        "input_too_long": (lp, targets, input_lengths + 1, target_lengths, {}),
        "negative_input": (lp, targets, input_lengths - 4, target_lengths, {}),
        "negative_target": (lp, targets, input_lengths, target_lengths - 1, {}),
        "input_lengths_size": (lp, targets, input_lengths[:3], target_lengths, {}),
        "target_lengths_size": (lp, targets, input_lengths, target_lengths[:3], {}),
        "float_lengths": (lp, targets, input_lengths.astype(float), target_lengths, {}),
        "padded_too_short": (lp, targets[:, :3], input_lengths, target_lengths, {}),
        "concatenated_size": (lp, targets.reshape(-1)[:7], input_lengths, target_lengths, {}),
        "blank": (lp, targets, input_lengths, target_lengths, {"blank": C}),
        "rank": (lp[None], targets, input_lengths, target_lengths, {}),
        "unbatched_target_size": (lp[:, 0], targets[0, :3], input_lengths[:1], target_lengths[:1],
                                  {}),
        "reduction": (lp, targets, input_lengths, target_lengths, {"reduction": "avg"}),
    }


@pytest.mark.parametrize("name", list(_error_cases()))
def test_errors_match_torch(name):
    lp, targets, input_lengths, target_lengths, kwargs = _error_cases()[name]

    def call(lib, lp, targets, input_lengths, target_lengths):
        return lib.nn.functional.ctc_loss(lp, targets, input_lengths, target_lengths, **kwargs)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        error, expected = assert_same_error(call, lp, targets, input_lengths, target_lengths,
                                            exact_type=True)
    assert str(error) == str(expected)


# issue #19's fuzz: F.ctc_loss hands its arguments to torch.ctc_loss, whose parser takes the
# lengths as two tensors or two int lists (never one of each), blank as an int and
# zero_infinity as a bool: anything else is its TypeError, before any check of the values
_PARSED = {
    "tensor_and_list": lambda lib, a: (a[2], [3, 2]),
    "list_and_tensor": lambda lib, a: ([6, 5], a[3]),
    "none": lambda lib, a: (None, a[3]),
    "float": lambda lib, a: (1.5, [3, 2]),
    "int_and_tensor": lambda lib, a: (2, a[3]),
    "float_list": lambda lib, a: ([6, 5], [1.0, 2.0]),
}


def _small(lib):
    rng = np.random.default_rng(1)
    lp = lib.tensor(np.log(rng.dirichlet(np.ones(5), size=(6, 2))).astype(np.float32))
    return lp, lib.tensor(rng.integers(1, 5, (2, 3))), lib.tensor([6, 5]), lib.tensor([3, 2])


@pytest.mark.parametrize("name", list(_PARSED))
def test_lengths_refused_by_the_parser(name):
    def call(lib):
        a = _small(lib)
        return lib.nn.functional.ctc_loss(a[0], a[1], *_PARSED[name](lib, a))
    assert_same_error(call, exact_type=True)


@pytest.mark.parametrize("extra", [(0.5,), (True,), (0, "mean", 1)])
def test_blank_and_zero_infinity_refused_by_the_parser(extra):
    def call(lib):
        return lib.nn.functional.ctc_loss(*_small(lib), *extra)
    assert_same_error(call, exact_type=True)


def test_elementwise_mean_is_mean_with_a_warning():
    with pytest.warns(UserWarning, match="elementwise_mean"):
        e = ember.nn.functional.ctc_loss(*_small(ember), reduction="elementwise_mean")
    assert_same(e, torch.nn.functional.ctc_loss(*_small(torch), reduction="mean"))
