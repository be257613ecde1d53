"""linear_cross_entropy, LinearCrossEntropyLoss and LinearCrossEntropyOptions against torch.

Values and the gradients of input, linear_weight and linear_bias, on the reference path
(options=None) and on the chunked path (NOTE [Chunked linear_cross_entropy] in
ember/nn/_functional_linear_cross_entropy.py) with several chunk sizes; the options' fields,
validation, resolution and repr; the module's parameters, state_dict, seeded init and repr;
warnings and errors.
"""

import dataclasses
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.nn._functional_linear_cross_entropy import linear_cross_entropy
from ember.nn.modules.linear_cross_entropy import (
    LinearCrossEntropyLoss, LinearCrossEntropyOptions)
from tests.differential import assert_same, assert_same_error, copy_state

RNG = np.random.default_rng(0)
N, F_IN, C = 7, 4, 6  # batch, in_features, classes

# chunk settings: None is the reference path; {} is the default ("auto") chunking
OPTIONS = [None, {}, {"batch_chunk_size": 1}, {"batch_chunk_size": 3},
           {"batch_chunk_size": 100}, {"chunking_method": "aspect_ratio"},
           {"chunking_method": None}, {"allow_retain_graph": True, "acc_policy": "accurate"}]
REDUCTIONS = ["mean", "sum", "none"]


def api(lib):
    """(linear_cross_entropy, LinearCrossEntropyOptions, LinearCrossEntropyLoss) of lib."""
    if lib is ember:
        return linear_cross_entropy, LinearCrossEntropyOptions, LinearCrossEntropyLoss
    return (torch.nn.functional.linear_cross_entropy, torch.nn.LinearCrossEntropyOptions,
            torch.nn.LinearCrossEntropyLoss)


def _floats(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def _targets(*shape, ignored=0):
    """Class indices with `ignored` entries set to -100."""
    target = RNG.integers(0, C, shape)
    target.reshape(-1)[:ignored] = -100
    return target


def _probabilities(*shape):
    """Rows of class probabilities along dim 1."""
    p = RNG.uniform(0.1, 1.0, shape).astype(np.float32)
    return p / p.sum(axis=1, keepdims=True)


def _run(lib, arrays, options=None, grad_seed=1, **kwargs):
    """The loss and the gradients of input, linear_weight, linear_bias (upstream gradient: a
    seeded normal sample) of one call in lib; arrays: input, weight, target, bias, class
    weight (None where absent)."""
    fn, options_cls, _ = api(lib)
    x, w, target, bias, class_weight = arrays
    leaves = [lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True),
              None if bias is None else lib.tensor(bias, requires_grad=True)]
    loss = fn(leaves[0], leaves[1], lib.tensor(target), linear_bias=leaves[2],
              weight=None if class_weight is None else lib.tensor(class_weight),
              options=None if options is None else options_cls(**options), **kwargs)
    upstream = np.random.default_rng(grad_seed).standard_normal(tuple(loss.shape))
    loss.backward(lib.tensor(upstream.astype(x.dtype)))
    return [loss] + [None if leaf is None else leaf.grad for leaf in leaves]


def _compare(arrays, options=None, rtol=1e-5, atol=1e-6, **kwargs):
    """ember's loss and gradients equal torch's for the same call."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the options-ignored warning: tested on its own)
        got = _run(ember, arrays, options, **kwargs)
        expected = _run(torch, arrays, options, **kwargs)
    for e, t in zip(got, expected):
        if t is None:
            assert e is None
        else:
            assert_same(e, t, rtol, atol)
    return got, expected


# ---- values and gradients ---------------------------------------------------------------------
@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", ["plain", "bias_weight", "default_ignore", "explicit_ignore"])
def test_class_indices_match_torch(case, reduction, options):
    """Class-index targets: every reduction, chunk size, bias / class weight / ignore_index."""
    target = _targets(N, ignored=2 if case == "default_ignore" else 0)
    bias = _floats(C) if case in ("bias_weight", "explicit_ignore") else None
    class_weight = RNG.uniform(0.5, 2.0, C).astype(np.float32) if case != "plain" else None
    kwargs = {"ignore_index": int(target[0])} if case == "explicit_ignore" else {}
    _compare((_floats(N, F_IN), _floats(C, F_IN), target, bias, class_weight), options,
             reduction=reduction, **kwargs)


@pytest.mark.parametrize("options", [None, {}, {"batch_chunk_size": 2}])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_float64_matches_torch(reduction, options):
    arrays = (_floats(N, F_IN, dtype=np.float64), _floats(C, F_IN, dtype=np.float64),
              _targets(N, ignored=1), _floats(C, dtype=np.float64), None)
    _compare(arrays, options, rtol=1e-12, atol=1e-12, reduction=reduction)


@pytest.mark.parametrize("options", [None, {}, {"batch_chunk_size": 1}])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_input_matches_torch(reduction, options):
    """An (in_features,) input and a 0-d target (a batch of one on the chunked path)."""
    arrays = (_floats(F_IN), _floats(C, F_IN), np.array(3), _floats(C), None)
    (loss, *_), _ = _compare(arrays, options, reduction=reduction)
    assert loss.shape == ()


@pytest.mark.parametrize("options", [None, {}])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_probability_targets_match_torch(smoothing, reduction, options):
    """Float class-probability targets (the options are ignored: the reference path)."""
    arrays = (_floats(N, F_IN), _floats(C, F_IN), _probabilities(N, C), _floats(C),
              RNG.uniform(0.5, 2.0, C).astype(np.float32))
    _compare(arrays, options, reduction=reduction, label_smoothing=smoothing)


@pytest.mark.parametrize("options", [None, {"batch_chunk_size": 2}])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore_index", [None, 1])
def test_label_smoothing_matches_torch(ignore_index, reduction, options):
    target = _targets(N, ignored=2)
    target[target == -100] = -100 if ignore_index is None else ignore_index
    arrays = (_floats(N, F_IN), _floats(C, F_IN), target, None,
              RNG.uniform(0.5, 2.0, C).astype(np.float32))
    _compare(arrays, options, reduction=reduction, label_smoothing=0.2,
             ignore_index=ignore_index)


@pytest.mark.parametrize("options", [None, {}])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("out_features", [(3,), (2, 3)])
@pytest.mark.parametrize("probabilities", [False, True])
def test_k_dimensional_out_features_match_torch(probabilities, out_features, reduction,
                                                options):
    """A (C, *out_features, in_features) weight: logits (N, C, *out_features)."""
    target = (_probabilities(N, C, *out_features) if probabilities
              else _targets(N, *out_features, ignored=3))
    arrays = (_floats(N, F_IN), _floats(C, *out_features, F_IN), target,
              _floats(C, *out_features), None)
    (loss, *_), _ = _compare(arrays, options, reduction=reduction)
    assert tuple(loss.shape) == (((N,) + out_features) if reduction == "none" else ())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("settings", [{}, {"batch_chunk_size": 2}, {"batch_chunk_size": 5}])
def test_chunked_path_agrees_with_the_reference_path(settings, reduction):
    """Within float32 tolerance, ember's chunked loss and gradients are its reference ones (and
    torch's reference ones)."""
    arrays = (_floats(33, 8), _floats(50, 8), _targets(33, ignored=4), _floats(50),
              RNG.uniform(0.5, 2.0, 50).astype(np.float32))
    chunked = _run(ember, arrays, settings, reduction=reduction)
    reference = _run(ember, arrays, None, reduction=reduction)
    torch_reference = _run(torch, arrays, None, reduction=reduction)
    for c, r, t in zip(chunked, reference, torch_reference):
        assert_same(c, r.detach(), rtol=1e-5, atol=1e-6)
        assert_same(c, t, rtol=1e-5, atol=1e-6)


def test_a_large_chunked_batch_matches_torch():
    """Many chunks of a wide class dimension (the default aspect-ratio chunking)."""
    classes = 300
    target = RNG.integers(0, classes, 257)
    arrays = (_floats(257, 16), _floats(classes, 16) * 0.3, target, _floats(classes), None)
    _compare(arrays, {}, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_all_targets_ignored(reduction):
    """Chunked mean: NaN loss and NaN gradients (its row factors divide by a zero weight sum);
    the reference path's gradients are 0 there. ember follows each path."""
    arrays = (_floats(N, F_IN), _floats(C, F_IN), np.full(N, -100), _floats(C), None)
    for options in (None, {}, {"batch_chunk_size": 2}):
        got, _ = _compare(arrays, options, reduction=reduction)
        if reduction == "mean":
            assert bool(got[0].isnan())
            assert bool(got[1].isnan().all()) == (options is not None)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_batch_with_options(reduction):
    """N = 0: a NaN mean, a zero sum, an empty none; zero weight and bias gradients."""
    arrays = (_floats(0, F_IN), _floats(C, F_IN), np.zeros(0, np.int64), _floats(C), None)
    _compare(arrays, {}, reduction=reduction)


@pytest.mark.parametrize("target,kwargs", [
    ([3, 0, 1, 5, 5, 2, 1], {}),
    ([3, -100, 1, -100], {}),
    ([3, 0, 1, 2], {"weight": np.array([0.5, 1.0, 2.0, 3.0, 1.5, 0.7], np.float32)}),
])
def test_a_target_longer_than_the_batch_on_the_chunked_path(target, kwargs):
    """torch's chunked op reads only the batch's rows, but its mean divides by the weight of
    the whole target."""
    x, w = _floats(2, F_IN), _floats(C, F_IN)

    def call(lib):
        kw = {k: lib.tensor(v) for k, v in kwargs.items()}
        leaf = lib.tensor(x, requires_grad=True)
        loss = api(lib)[0](leaf, lib.tensor(w), lib.tensor(target),
                           options=api(lib)[1](batch_chunk_size=1), **kw)
        return loss, lib.autograd.grad(loss, leaf)[0]

    for e, t in zip(call(ember), call(torch)):
        assert_same(e, t)


@pytest.mark.parametrize("requires", [(False, True, True), (True, False, False),
                                      (False, False, True)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_only_some_leaves_require_grad(requires, reduction):
    """Gradients reach exactly the leaves that require them, on the chunked path."""
    arrays = (_floats(N, F_IN), _floats(C, F_IN), _floats(C))
    target = _targets(N, ignored=1)
    results = []
    for lib in (ember, torch):
        leaves = [lib.tensor(a, requires_grad=r) for a, r in zip(arrays, requires)]
        loss = api(lib)[0](leaves[0], leaves[1], lib.tensor(target), linear_bias=leaves[2],
                           reduction=reduction, options=api(lib)[1](batch_chunk_size=3))
        loss.sum().backward()
        results.append([loss] + [leaf.grad for leaf in leaves])
    for e, t in zip(*results):
        assert (e is None) == (t is None)
        if t is not None:
            assert_same(e, t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_no_grad_gives_a_plain_tensor(reduction):
    arrays = (_floats(N, F_IN), _floats(C, F_IN), _targets(N))
    results = []
    for lib in (ember, torch):
        with lib.no_grad():
            results.append(api(lib)[0](
                *(lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays),
                reduction=reduction, options=api(lib)[1]()))
    assert not results[0].requires_grad and not results[1].requires_grad
    assert_same(*results)


@pytest.mark.parametrize("options", [None, {}, {"batch_chunk_size": 2}])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_grad_fn_names_match_torch(reduction, options):
    """The chunked ops' nodes carry the names of torch's generated custom-op backward nodes."""
    arrays = (_floats(N, F_IN), _floats(C, F_IN), _targets(N), None, None)
    losses = [_run(lib, arrays, options, reduction=reduction)[0] for lib in (ember, torch)]
    names = [type(loss.grad_fn).__name__ for loss in losses]
    assert names[0] == names[1]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("allow_retain_graph", [False, True])
@pytest.mark.parametrize("retain_graph", [False, True])
def test_a_second_backward(retain_graph, allow_retain_graph, reduction):
    """mean / sum consume their precomputed gradients unless allow_retain_graph; none
    recomputes from saved inputs (so it needs retain_graph); the gradients accumulate."""
    x, w, target = _floats(N, F_IN), _floats(C, F_IN), _targets(N)
    outcomes = []
    for lib in (ember, torch):
        leaf = lib.tensor(x, requires_grad=True)
        loss = api(lib)[0](leaf, lib.tensor(w), lib.tensor(target), reduction=reduction,
                           options=api(lib)[1](allow_retain_graph=allow_retain_graph,
                                               batch_chunk_size=3)).sum()
        loss.backward(retain_graph=retain_graph)
        try:
            loss.backward()
            outcomes.append(("ok", leaf.grad))
        except RuntimeError as error:
            outcomes.append((str(error), leaf.grad))
    assert outcomes[0][0] == outcomes[1][0]
    assert_same(outcomes[0][1], outcomes[1][1])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("policy", ["auto", "accurate", "balanced", "compact"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_16_bit_inputs_match_torch_to_16_bit_precision(reduction, policy, dtype):
    """16-bit inputs accumulate in float32 (acc_dtype's default): torch's dtypes, its values
    to 16-bit precision."""
    arrays = (_floats(9, 6), _floats(11, 6), RNG.integers(0, 11, 9), _floats(11))
    results = []
    for lib in (ember, torch):
        half = getattr(lib, dtype)
        x, w, bias = (lib.tensor(a).to(half).requires_grad_() for a in
                      (arrays[0], arrays[1], arrays[3]))
        loss = api(lib)[0](x, w, lib.tensor(arrays[2]), linear_bias=bias, reduction=reduction,
                           options=api(lib)[1](batch_chunk_size=4, acc_policy=policy))
        loss.sum().backward()
        results.append((loss, x.grad, w.grad, bias.grad))
    for e, t in zip(*results):
        assert str(e.dtype) == str(t.dtype)
        assert_same(e.float(), t.float(), rtol=2e-2, atol=2e-2)


def test_torch_options_objects_are_accepted():
    """ember reads torch's own LinearCrossEntropyOptions (its fields, acc_dtype by name)."""
    arrays = (_floats(N, F_IN), _floats(C, F_IN), _targets(N))
    options = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=2, acc_dtype=torch.float32)
    e = linear_cross_entropy(*(ember.tensor(a) for a in arrays), options=options)
    t = torch.nn.functional.linear_cross_entropy(*(torch.tensor(a) for a in arrays),
                                                 options=options)
    assert_same(e, t)


# ---- warnings -----------------------------------------------------------------------------
def _warnings_of(call):
    """[(category, message)] of the warnings call() emits (an error it raises is ignored)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call()
        except (RuntimeError, ValueError):
            pass
    return [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("call", [
    lambda lib, F, Opt: F(lib.ones(2, 3), lib.ones(4, 3), lib.tensor([1, 2]),
                        label_smoothing=0.1, options=Opt()),
    lambda lib, F, Opt: F(lib.ones(2, 3), lib.ones(4, 3), lib.ones(2, 4) / 4, options=Opt()),
    lambda lib, F, Opt: F(lib.ones(2, 3), lib.ones(4, 3), lib.tensor([1, 2]).int(), options=Opt()),
    lambda lib, F, Opt: F(lib.ones(2, 3), lib.ones(4, 5, 3), lib.zeros(2, 5, dtype=lib.int64),
                        linear_bias=lib.ones(4, 5), options=Opt(batch_chunk_size=1)),
    lambda lib, F, Opt: F(lib.ones(2, 3), lib.ones(4, 3), lib.tensor([1, 2]),
                        reduction="batchmean", options=Opt()),
    lambda lib, F, Opt: F(lib.ones(2, 3), lib.ones(4, 3), lib.tensor([1, 2]), options=Opt()),
    lambda lib, F, Opt: F(lib.ones(2, 3), lib.ones(4, 3), lib.tensor([1, 2]),
                        label_smoothing=0.1),
])
def test_options_ignored_warning_matches_torch(call):
    """torch warns (UserWarning, the same words) when the chunked path cannot take the call."""
    got, expected = (_warnings_of(lambda lib=lib: call(lib, *api(lib)[:2]))
                     for lib in (ember, torch))
    assert got == expected


# ---- errors -------------------------------------------------------------------------------
def _z(*shape, dtype="float32"):
    return lambda lib: lib.zeros(*shape, dtype=getattr(lib, dtype))


def _i(*values):
    return lambda lib: lib.tensor(list(values), dtype=lib.int64)


ERRORS = [
    ((_z(2, 2, 3), _z(4, 3), _i(0, 1)), {}),
    ((_z(), _z(4, 3), _i(0)), {}),
    ((_z(2, 3), _z(3), _i(0, 1)), {}),
    ((_z(2, 3), _z(4, 2), _i(0, 1)), {}),
    ((_z(2, 3), _z(4, 3), _i(0, 1)), {"linear_bias": _z(3)}),
    ((_z(2, 3), _z(4, 2, 3), _z(2, 2, dtype="int64")), {"linear_bias": _z(4)}),
    ((_z(3), _z(4, 2, 3), _i(0)), {}),
    ((_z(2, 3), _z(4, 3), _z(2, 4)), {"ignore_index": 1}),
    ((_z(2, 3), _z(4, 3), _i(0, 7)), {}),
    ((_z(2, 3), _z(4, 3), _i(0, 1)), {"reduction": "batchmean"}),
    ((_z(2, 3), _z(4, 3, dtype="float64"), _i(0, 1)), {}),
]

CHUNKED_ERRORS = ERRORS + [
    ((_z(2, 3), _z(4, 3), _i(0, 7)), {"options": {"batch_chunk_size": 1}}),
    ((_z(2, 3), _z(4, 3), _i(0, -5)), {"options": {}}),
    ((_z(2, 3), _z(4, 3), _i(0, 7)), {"options": {}, "weight": _z(4)}),
    ((_z(2, 3), _z(4, 3), _i(1)), {"options": {"batch_chunk_size": 1}}),
    ((_z(2, 3), _z(4, 3), _i(1)), {"options": {"batch_chunk_size": 2}}),
    ((_z(3, 3), _z(4, 3), _i(1)), {"options": {"batch_chunk_size": 1}}),
    ((_z(2, 3), _z(4, 3), lambda lib: lib.tensor(1)), {"options": {}}),
    ((_z(2, 3), _z(4, 3), lambda lib: lib.tensor([[1, 2]])), {"options": {}}),
    ((_z(3), _z(4, 3), _i(2)), {"options": {}}),
    ((_z(2, 3), _z(4, 3), _i(0, 1)), {"options": {"acc_dtype": "float64"}}),
    ((_z(2, 3, dtype="float16"), _z(4, 3, dtype="float16"), _i(0, 1)),
     {"options": {"acc_dtype": "float64"}}),
    ((_z(2, 3), _z(4, 3), _i(0, 1)),
     {"options": {"batch_chunk_size": 2, "chunking_method": "aspect_ratio"}}),
    ((_z(2, 3, dtype="int64"), _z(4, 3), _i(0, 1)), {"options": {}}),
    ((_z(2, 3, dtype="float64"), _z(4, 3), _i(0, 1)), {"options": {}}),
    ((_z(2, 0), _z(4, 0), _i(0, 1)), {"options": {}}),
]


def _call(lib, makers, kwargs, reduction):
    """linear_cross_entropy of lib on tensors made by makers (options' acc_dtype by name)."""
    fn, options_cls, _ = api(lib)
    kw = {k: v(lib) if callable(v) else v for k, v in kwargs.items()}
    if "options" in kw:
        settings = dict(kw["options"])
        if "acc_dtype" in settings:
            settings["acc_dtype"] = getattr(lib, settings["acc_dtype"])
        kw["options"] = options_cls(**settings)
    kw.setdefault("reduction", reduction)
    return fn(*(make(lib) for make in makers), **kw)


@pytest.mark.parametrize("makers,kwargs", CHUNKED_ERRORS)
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_errors_match_torch(makers, kwargs, reduction):
    """The same exception type and message as torch, on both paths."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_error(lambda lib: _call(lib, makers, kwargs, reduction), exact_type=True,
                          same_message=True)


# ---- options ------------------------------------------------------------------------------
OPTION_SETTINGS = [
    {}, {"allow_retain_graph": True}, {"batch_chunk_size": 8}, {"chunking_method": None},
    {"chunking_method": "aspect_ratio"}, {"chunking_method": "aspect_ratio:4"},
    {"acc_policy": "compact"}, {"acc_policy": "balanced", "acc_dtype": "float32"},
    {"acc_dtype": "bfloat16"}, {"acc_dtype": "float64", "batch_chunk_size": 3},
]


def _options(lib, settings):
    settings = dict(settings)
    if isinstance(settings.get("acc_dtype"), str):
        settings["acc_dtype"] = getattr(lib, settings["acc_dtype"])
    return api(lib)[1](**settings)


@pytest.mark.parametrize("settings", OPTION_SETTINGS)
def test_options_fields_and_repr_match_torch(settings):
    e, t = (_options(lib, settings) for lib in (ember, torch))
    assert repr(e) == repr(t)
    assert str(e) == str(t)
    assert [f.name for f in dataclasses.fields(e)] == [f.name for f in dataclasses.fields(t)]
    assert e == _options(ember, settings) and hash(e) == hash(_options(ember, settings))


def test_options_defaults_and_frozenness_match_torch():
    e, t = LinearCrossEntropyOptions(), torch.nn.LinearCrossEntropyOptions()
    for name in ("allow_retain_graph", "batch_chunk_size", "chunking_method", "acc_policy",
                 "acc_dtype"):
        assert getattr(e, name) == getattr(t, name)
    assert_same_error(lambda lib: setattr(api(lib)[1](), "batch_chunk_size", 3),
                      exact_type=True, same_message=True)
    assert_same_error(lambda lib: api(lib)[1](batch_size=3), exact_type=True,
                      same_message=True)
    assert LinearCrossEntropyOptions.__slots__ == torch.nn.LinearCrossEntropyOptions.__slots__


@pytest.mark.parametrize("settings", [
    {"acc_policy": "fast"}, {"acc_policy": "AUTO"}, {"chunking_method": "ratio"},
    {"chunking_method": "aspect_ratio:0"}, {"chunking_method": "aspect_ratio:x"},
    {"chunking_method": "aspect_ratio:"}, {"batch_chunk_size": 0},
    {"batch_chunk_size": -3}, {"batch_chunk_size": 2.0}, {"acc_dtype": "int32"},
    {"acc_dtype": "complex64"}, {"acc_dtype": 3},
])
def test_invalid_options_match_torch(settings):
    assert_same_error(lambda lib: _options(lib, settings), exact_type=True, same_message=True)


@pytest.mark.parametrize("settings", OPTION_SETTINGS + [
    {"batch_chunk_size": 1, "chunking_method": "aspect_ratio:2"},
    {"batch_chunk_size": 1000},
])
@pytest.mark.parametrize("shape", [(100, 16, 1000), (7, 4, 6), (1, 8, 3), (0, 16, 10),
                                   (33, 100, 50)])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64"])
@pytest.mark.parametrize("device", [None, "cpu"])
def test_options_resolution_matches_torch(settings, shape, dtype, device):
    """_adjust: the concrete policy, chunking method, chunk size and acc_dtype of a call (or
    torch's ValueError for a chunk size that disagrees with the method)."""
    def adjust(lib):
        where = None if device is None else lib.device(device)
        return repr(_options(lib, settings)._adjust(*shape, getattr(lib, dtype), where))

    try:
        expected = adjust(torch)
    except ValueError:
        assert_same_error(adjust, exact_type=True, same_message=True)
        return
    assert adjust(ember) == expected


# ---- the module ---------------------------------------------------------------------------
MODULE_SETTINGS = [
    {}, {"bias": True}, {"out_features": (2, 3), "bias": True},
    {"reduction": "sum", "ignore_index": 2, "label_smoothing": 0.25},
    {"reduction": "none", "options": {"batch_chunk_size": 2}, "bias": True},
    {"options": {"acc_dtype": "float32", "allow_retain_graph": True}},
    {"weight": True, "out_features": [3], "options": {}},
    {"dtype": "float64", "bias": True},
]


def _module(lib, settings, in_features=F_IN, classes=C):
    """LinearCrossEntropyLoss of lib from settings (weight: a fixed class weight)."""
    kw = dict(settings)
    if "options" in kw:
        kw["options"] = _options(lib, kw["options"])
    if kw.get("weight"):
        kw["weight"] = lib.tensor(np.linspace(0.5, 2.0, classes, dtype=np.float32))
    if "dtype" in kw:
        kw["dtype"] = getattr(lib, kw["dtype"])
    return api(lib)[2](in_features, classes, **kw)


@pytest.mark.parametrize("settings", MODULE_SETTINGS)
def test_module_repr_and_state_dict_match_torch(settings):
    e, t = (_module(lib, settings) for lib in (ember, torch))
    assert repr(e) == repr(t)
    e_state, t_state = e.state_dict(), t.state_dict()
    assert list(e_state) == list(t_state)
    for key in t_state:
        assert tuple(e_state[key].shape) == tuple(t_state[key].shape)
        assert str(e_state[key].dtype) == str(t_state[key].dtype)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    for name in ("num_classes", "out_features", "reduction", "ignore_index", "label_smoothing"):
        assert getattr(e, name) == getattr(t, name)
    assert repr(e.options) == repr(t.options)
    assert e.__constants__ == t.__constants__


@pytest.mark.parametrize("seed", [0, 5, 1234])
@pytest.mark.parametrize("settings", MODULE_SETTINGS[:3])
def test_module_initial_parameters_match_torch_after_manual_seed(settings, seed):
    modules = []
    for lib in (ember, torch):
        lib.manual_seed(seed)
        modules.append(_module(lib, settings))
    e_state, t_state = (m.state_dict() for m in modules)
    for key in t_state:
        assert_same(e_state[key], t_state[key], exact=True)


@pytest.mark.parametrize("settings", MODULE_SETTINGS)
def test_module_forward_and_backward_match_torch(settings):
    """Same weights, same inputs: the loss and the gradients of input and parameters."""
    modules = [_module(lib, settings) for lib in (ember, torch)]
    copy_state(modules[1], modules[0])
    out_features = tuple(settings.get("out_features", ()))
    dtype = np.float64 if settings.get("dtype") == "float64" else np.float32
    x, target = _floats(N, F_IN, dtype=dtype), _targets(N, *out_features)
    if "ignore_index" in settings:
        target[:2] = settings["ignore_index"]
    results = []
    for lib, module in zip((ember, torch), modules):
        leaf = lib.tensor(x, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss = module(leaf, lib.tensor(target))
        loss.sum().backward()
        results.append([loss, leaf.grad] + [p.grad for _, p in module.named_parameters()])
    for e, t in zip(*results):
        assert_same(e, t)


@pytest.mark.parametrize("kwargs", [
    {"weight": _z(5)}, {"weight": _z(2, 3)}, {"label_smoothing": -0.1},
    {"label_smoothing": 1.5},
])
def test_module_construction_errors_match_torch(kwargs):
    def build(lib):
        kw = {k: v(lib) if callable(v) else v for k, v in kwargs.items()}
        return api(lib)[2](3, 4, **kw)

    assert_same_error(build, exact_type=True, same_message=True)


def test_module_forward_errors_match_torch():
    """Errors of the functional form surface through the module (an unbatched K-dim input)."""
    assert_same_error(lambda lib: api(lib)[2](3, 4, out_features=(2,))(
        lib.zeros(3), lib.tensor(0)), exact_type=True, same_message=True)
