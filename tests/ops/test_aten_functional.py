"""The aten-level top-level functions (ember/ops/aten_functional.py, aten_losses.py,
aten_utilities.py) against torch: `torch.dropout`, `torch.embedding`, `torch.batch_norm`, the
integer-reduction losses, `torch.convolution`, `torch.range`, the switches and flags. Each call
runs in both libraries on the same inputs (random ops after the same `manual_seed`): values,
dtypes, shapes, gradients, in-place identity, warnings, and the errors with torch's words."""

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error

RNG = np.random.default_rng(0)


def _draw(*shape, dtype=np.float32, kind="normal"):
    """A fixed array: normal, uniform [0, 1) ("prob") or ±1 ("sign")."""
    if kind == "prob":
        return RNG.random(shape).astype(dtype)
    if kind == "sign":
        return np.sign(RNG.standard_normal(shape)).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def _t(lib, array, grad=False):
    """A fresh tensor of lib holding a copy of array (a leaf requiring grad if grad)."""
    tensor = lib.from_numpy(np.array(array, copy=True))
    return tensor.requires_grad_() if grad else tensor


def run(fn, seed=0):
    """(fn(ember), fn(torch)), each after manual_seed(seed)."""
    results = []
    for lib in (ember, torch):
        lib.manual_seed(seed)
        results.append(fn(lib))
    return results


def check(fn, seed=0, **tolerance):
    """fn(lib) gives the same outputs (a tensor, or a tuple of tensors and plain values) in
    both libraries."""
    e, t = run(fn, seed)
    _same(e, t, **tolerance)


def check_or_same_error(fn, **tolerance):
    """fn(lib)'s outputs agree, or both libraries raise torch's error with its message."""
    try:
        fn(torch)
    except Exception:  # noqa: BLE001 - whatever torch raises, ember must raise
        assert_same_error(fn, same_message=True)
        return
    check(fn, **tolerance)


def _same(e, t, **tolerance):
    if isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)) and len(e) == len(t), (e, t)
        for a, b in zip(e, t):
            _same(a, b, **tolerance)
    elif isinstance(t, torch.Tensor) and t.dtype is torch.bfloat16:  # (NumPy has none)
        assert str(e.dtype) == str(t.dtype)
        assert_same(e.float(), t.float(), **tolerance)
    elif isinstance(t, torch.Tensor):
        assert_same(e, t, **tolerance)
    else:
        assert e == t or (e != e and t != t), (e, t)


def forward_backward(fn, *arrays, grads=None, node=True):
    """fn(lib, *leaves) with float arrays as leaves requiring grad (those in grads, if given;
    other arguments passed as they are): (output, leaf gradients, node name) after a backward
    of a fixed weighting of the output. node=False leaves the node name out (where ember's
    differs from torch's: see the callers)."""

    def call(lib):
        leaves = [_t(lib, a, grad=a.dtype.kind == "f" and (grads is None or i in grads))
                  if isinstance(a, np.ndarray) else a for i, a in enumerate(arrays)]
        out = fn(lib, *leaves)
        first = out[0] if isinstance(out, tuple) else out
        if first.requires_grad:
            weight = np.linspace(-1, 1, first.numel()).reshape(tuple(first.shape))
            (first * _t(lib, weight.astype(arrays[0].dtype))).sum().backward()
        gradients = [leaf.grad for leaf in leaves
                     if isinstance(leaf, lib.Tensor) and leaf.requires_grad]
        return out, gradients, type(first.grad_fn).__name__ if node else None

    return call


# ---- dropout family -------------------------------------------------------------------------
DROPOUTS = ["dropout", "alpha_dropout", "feature_dropout", "feature_alpha_dropout"]
X3 = _draw(4, 3, 5)


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("p", [0.0, 0.3, 0.8, 1.0])
@pytest.mark.parametrize("name", DROPOUTS)
def test_dropout_values_and_gradients(name, p, train):
    """Masks drawn from torch's stream bit for bit, scaled as torch scales them."""
    check(forward_backward(lambda lib, x: getattr(lib, name)(x, p, train), X3.astype(np.float64)))


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("name", DROPOUTS)
def test_dropout_in_place(name, p):
    """The `_` forms return the input itself, modified, with its version bumped."""

    def call(lib):
        x = _t(lib, X3)
        before = x._version
        result = getattr(lib, name + "_")(x, p, True)
        return result is x, x, x._version > before or p == 0

    check(call)


@pytest.mark.parametrize("name", DROPOUTS)
def test_dropout_not_training_returns_the_input(name):
    e, t = run(lambda lib: (lambda x: getattr(lib, name)(x, 0.5, False) is x)(_t(lib, X3)))
    assert e is t is True


@pytest.mark.parametrize("name", DROPOUTS + [n + "_" for n in DROPOUTS])
@pytest.mark.parametrize("call", [
    lambda f, lib: f(_t(lib, X3), 1.5, True),  # aten's RuntimeError, not F's ValueError
    lambda f, lib: f(_t(lib, X3), -0.5, False),
    lambda f, lib: f(_t(lib, X3), 0.5),
    lambda f, lib: f(_t(lib, X3)),
    lambda f, lib: f(_t(lib, X3), 0.5, 1),
    lambda f, lib: f(_t(lib, X3), 0.5, None),
    lambda f, lib: f(3.0, 0.5, True),
    lambda f, lib: f(lib.arange(6).reshape(2, 3), 0.5, True),  # 1/(1-p) into an integer
    lambda f, lib: f(_t(lib, X3[0, 0]), 0.5, True),  # feature dropout of a 1-D input
])
def test_dropout_errors(name, call):
    check_or_same_error(lambda lib: call(getattr(lib, name), lib))


@pytest.mark.parametrize("name", DROPOUTS)
def test_dropout_p_one_zeroes_any_rank(name):
    """p = 1 multiplies by a zero before the rank or dtype is looked at."""
    check(lambda lib: getattr(lib, name)(_t(lib, X3[0, 0]), 1.0, True))
    check(lambda lib: getattr(lib, name)(lib.arange(6).reshape(2, 3), 1.0, True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("p", [0.0, 0.25, 1.0])
@pytest.mark.parametrize("train", [True, None, False])
def test_native_dropout(train, p, dtype):
    """(output, bool mask); the backward is native_dropout_backward's."""
    grads = None if dtype is not np.float16 else ()
    check(forward_backward(lambda lib, x: lib.native_dropout(x, p, train), X3.astype(dtype),
                           grads=grads), rtol=1e-3 if dtype is np.float16 else 1e-5)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("p", [0.1, 0.3, 0.7])
def test_native_dropout_16_bit_values_exactly(p, dtype):
    """The scale is rounded to the 16-bit dtype before the product, as torch's mul_ does."""
    values = _draw(400)

    def call(lib):
        x = _t(lib, values).to(getattr(lib, str(dtype).split(".")[-1]))
        return lib.native_dropout(x, p, True)[0].float()

    check(call, rtol=0, atol=0)


def test_native_dropout_edges():
    empty = run(lambda lib: (lambda x: (lambda r: (r[0] is x, r[1]))(
        lib.native_dropout(x, 0.5, True)))(lib.ones(0, 3)))
    _same(*empty)
    check(lambda lib: lib.native_dropout(lib.arange(6), 0.5, False))
    for call in (lambda lib: lib.native_dropout(_t(lib, X3), 1.5, True),
                 lambda lib: lib.native_dropout(lib.arange(6), 0.5, True),
                 lambda lib: lib.native_dropout(_t(lib, X3), 0.5),
                 lambda lib: lib.native_dropout(_t(lib, X3), 0.5, 1)):
        assert_same_error(call, same_message=True)


# ---- embedding ------------------------------------------------------------------------------
W = _draw(6, 3)
IDX = np.array([[0, 2], [4, 1], [5, 5]])


@pytest.mark.parametrize("scale", [False, True])
@pytest.mark.parametrize("padding_idx", [-1, 0, 5, -3, 9])
def test_embedding(padding_idx, scale):
    """aten's padding_idx: a row index, or (negative, out of range) no row."""
    check(forward_backward(lambda lib, w, i: lib.embedding(w, i, padding_idx, scale), W, IDX))


def test_embedding_int32_indices_and_sparse_gradient():
    check(forward_backward(lambda lib, w, i: lib.embedding(w, i), W, IDX.astype(np.int32)))

    def sparse(lib):
        w = _t(lib, W, grad=True)
        lib.embedding(w, _t(lib, IDX), 2, False, True).sum().backward()
        return w.grad.to_dense()

    check(sparse)


@pytest.mark.parametrize("call", [
    lambda lib: lib.embedding(_t(lib, W), _t(lib, IDX.astype(np.float32))),
    lambda lib: lib.embedding(_t(lib, W), _t(lib, IDX.astype(np.int16))),
    lambda lib: lib.embedding(_t(lib, W[0]), _t(lib, IDX.astype(np.float32))),  # weight first
    lambda lib: lib.embedding(_t(lib, W), _t(lib, np.array([6]))),
    lambda lib: lib.embedding(_t(lib, W), _t(lib, IDX), None),
    lambda lib: lib.embedding(_t(lib, W)),
    lambda lib: lib.embedding(_t(lib, IDX), _t(lib, W)),
])
def test_embedding_errors(call):
    assert_same_error(call, same_message=True)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 0.0, float("inf"), 3.5])
@pytest.mark.parametrize("indices", [[0, 1, 1], [-1, 5], [3, 0, 3, -6], [7, 0], [-7, 0], []])
def test_embedding_renorm_(indices, norm_type):
    """Rows renormed once each in sorted order, in place; an index out of range stops the loop
    where aten's does."""

    def call(lib):
        weight = _t(lib, W * 3)
        try:
            result = lib.embedding_renorm_(weight, _t(lib, np.array(indices, np.int64)), 1.0,
                                           norm_type)
        except IndexError as error:
            return str(error), weight
        return result is weight, weight

    check(call)


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
def test_embedding_renorm_scales_in_the_weights_dtype(dtype):
    check(lambda lib: lib.embedding_renorm_(_t(lib, (W * 3).astype(dtype)),
                                            _t(lib, np.array([0, 1, 2])), 0.5, 2.0))


@pytest.mark.parametrize("call", [
    lambda lib: lib.embedding_renorm_(_t(lib, W), _t(lib, np.array([0.0])), 1.0, 2.0),
    lambda lib: lib.embedding_renorm_(_t(lib, W[0]), _t(lib, np.array([0])), 1.0, 2.0),
    lambda lib: lib.embedding_renorm_(_t(lib, W, grad=True), _t(lib, np.array([0])), 1e9, 2.0),
    lambda lib: lib.embedding_renorm_(lib.arange(6).reshape(3, 2), _t(lib, np.array([0])), 1.0,
                                      2.0),
    lambda lib: lib.embedding_renorm_(_t(lib, W), _t(lib, np.array([0])), 1.0),
])
def test_embedding_renorm_errors(call):
    assert_same_error(call, same_message=True)


BAG_INDICES = np.array([0, 2, 4, 1, 5, 2, 3])
BAG_OFFSETS = np.array([0, 2, 2, 5])


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_bag(dtype, mode, padding_idx, requires_grad):
    """All four outputs: the bags, offset2bag (empty on the fast sum path), bag_size and
    max_indices, and the weight's gradient."""
    check(forward_backward(
        lambda lib, w, i, o: lib.embedding_bag(w, i, o, False, mode, False, None, False,
                                               padding_idx),
        W.astype(dtype), BAG_INDICES, BAG_OFFSETS, grads=(0,) if requires_grad else (),
        node=False))  # (F.embedding_bag's nodes are ember's own, not EmbeddingBagBackward0)


@pytest.mark.parametrize("padding_idx", [None, 3])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_embedding_bag_per_sample_weights_and_last_offset(requires_grad, padding_idx):
    offsets = np.append(BAG_OFFSETS, len(BAG_INDICES))
    weights = _draw(7, kind="prob")
    check(forward_backward(
        lambda lib, w, i, o, s: lib.embedding_bag(w, i, o, False, 0, False, s, True, padding_idx),
        W, BAG_INDICES, offsets, weights, grads=(0, 3) if requires_grad else (), node=False))
    for mode in (1, 2):
        check(forward_backward(
            lambda lib, w, i, o: lib.embedding_bag(w, i, o, False, mode, False, None, True),
            W, BAG_INDICES, offsets, grads=(0,) if requires_grad else (), node=False))


def test_embedding_bag_edges():
    w, i, o = W, BAG_INDICES, BAG_OFFSETS
    ties = W.copy()
    ties[4] = ties[5] = 9
    for call in (
            lambda lib: lib.embedding_bag(_t(lib, w), _t(lib, i.astype(np.int32)),
                                          _t(lib, o.astype(np.int32)), False, 2),
            lambda lib: lib.embedding_bag(_t(lib, w), _t(lib, i.astype(np.int32)), _t(lib, o),
                                          False, 1),
            lambda lib: lib.embedding_bag(_t(lib, w), _t(lib, i), _t(lib, o[:0]), False, 1),
            lambda lib: lib.embedding_bag(_t(lib, w), _t(lib, i[:0]), _t(lib, o[:2] * 0), False,
                                          2),
            lambda lib: lib.embedding_bag(_t(lib, ties), _t(lib, np.array([4, 5, 5, 4])),
                                          _t(lib, o[:1]), False, 2),
            lambda lib: lib.embedding_bag(_t(lib, w.astype(np.float64)), _t(lib, i), _t(lib, o),
                                          False, 1, False, None, True),  # last bag to the end
            lambda lib: lib.embedding_bag(_t(lib, w), _t(lib, i), _t(lib, o[:1]), False, 1,
                                          False, None, True),
            lambda lib: lib.embedding_bag(_t(lib, w), _t(lib, i), _t(lib, o), True, 2)):
        check(call)
    check(lambda lib: lib.embedding_bag(_t(lib, w.astype(np.float16)), _t(lib, i), _t(lib, o),
                                        False, 1), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("call", [
    lambda lib: lib.embedding_bag(_t(lib, W), _t(lib, BAG_INDICES), _t(lib, np.array([1, 2]))),
    lambda lib: lib.embedding_bag(_t(lib, W), _t(lib, BAG_INDICES), _t(lib, np.array([0, 9]))),
    lambda lib: lib.embedding_bag(_t(lib, W), _t(lib, np.array([0, 9])), _t(lib, np.array([0])),
                                  False, 1),
    lambda lib: lib.embedding_bag(_t(lib, W), _t(lib, BAG_INDICES), _t(lib, BAG_OFFSETS), False,
                                  3),
    lambda lib: lib.embedding_bag(_t(lib, W), _t(lib, BAG_INDICES), _t(lib, BAG_OFFSETS), False,
                                  1, False, _t(lib, _draw(7))),
    lambda lib: lib.embedding_bag(_t(lib, W), _t(lib, BAG_INDICES), _t(lib, BAG_OFFSETS), False,
                                  0, False, None, False, 6),
    lambda lib: lib.embedding_bag(_t(lib, W), _t(lib, BAG_INDICES), _t(lib, BAG_OFFSETS), False,
                                  0, False, None, False, -7),
    lambda lib: lib.embedding_bag(_t(lib, W), _t(lib, BAG_INDICES), _t(lib, BAG_OFFSETS[:0]),
                                  False, 1, False, None, True),
    lambda lib: lib.embedding_bag(_t(lib, W), _t(lib, BAG_INDICES), _t(lib, BAG_OFFSETS),
                                  padding_idx=1),
    lambda lib: lib.embedding_bag(_t(lib, W), _t(lib, BAG_INDICES)),
    lambda lib: lib.embedding_bag(_t(lib, W), _t(lib, BAG_INDICES), None),
    lambda lib: lib.embedding_bag(_t(lib, W), _t(lib, BAG_INDICES.astype(np.float32)),
                                  _t(lib, BAG_OFFSETS)),
    lambda lib: lib.embedding_bag(_t(lib, BAG_INDICES.reshape(7, 1)), _t(lib, BAG_INDICES),
                                  _t(lib, BAG_OFFSETS)),
])
def test_embedding_bag_errors(call):
    assert_same_error(call, same_message=True)


# ---- normalisation --------------------------------------------------------------------------
NORM_SHAPES = [(4, 3), (2, 3, 5), (1, 3), (1, 3, 1, 1), (2, 3, 1), (3,), (0, 3), (1, 1)]


def _normed(name, shape, training, stats, affine):
    channels = shape[1] if len(shape) > 1 else 3

    def call(lib, x, *params):
        weight, bias = params if affine else (None, None)
        mean = _t(lib, np.zeros(channels, np.float32)) if stats else None
        var = _t(lib, np.ones(channels, np.float32)) if stats else None
        return getattr(lib, name)(x, weight, bias, mean, var, training, 0.1, 1e-5, False), \
            mean, var

    arrays = [_draw(*shape)] + ([np.linspace(0.5, 1.5, channels).astype(np.float32),
                                 np.linspace(-1, 1, channels).astype(np.float32)] if affine
                                else [])
    return forward_backward(call, *arrays)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("stats", [True, False])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", NORM_SHAPES)
@pytest.mark.parametrize("name", ["batch_norm", "instance_norm"])
def test_batch_and_instance_norm(name, shape, training, stats, affine):
    """aten's argument order; one value per channel (or instance) is normalised, its running
    variance becoming NaN, where F refuses it; the errors of the others are torch's."""
    check_or_same_error(_normed(name, shape, training, stats, affine), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("call", [
    lambda lib: lib.batch_norm(lib.tensor(1.0), None, None, None, None, True, 0.1, 1e-5, False),
    lambda lib: lib.batch_norm(lib.tensor(1.0), None, None, lib.zeros(3), lib.ones(3), True,
                               0.1, 1e-5, False),
    lambda lib: lib.batch_norm(lib.ones(2, 3), None, None, None, None, True, 0.1, 1e-5),
    lambda lib: lib.batch_norm(lib.ones(2, 3), None, None, None, None, 1, 0.1, 1e-5, False),
    lambda lib: lib.instance_norm(lib.tensor(1.0), None, None, None, None, True, 0.1, 1e-5,
                                  False),
    lambda lib: lib.instance_norm(lib.ones(3), None, None, None, None, True, 0.1, 1e-5, False),
    lambda lib: lib.instance_norm(lib.ones(2, 3, 4), None, None, None, None, False, 0.1, 1e-5,
                                  False),
    lambda lib: lib.instance_norm(lib.ones(2, 3, dtype=lib.int64), None, None, None, None, True,
                                  0.1, 1e-5, False),
    lambda lib: lib.instance_norm(lib.ones(2, 3), lib.ones(4), None, None, None, True, 0.1, 1e-5,
                                  False),
])
def test_norm_errors(call):
    assert_same_error(call, same_message=True)


# ---- losses ---------------------------------------------------------------------------------
X, Y = _draw(3, 4), _draw(3, 4, kind="prob")
LOSSES = {  # name -> (arrays, call(lib, *tensors, reduction), indices of the leaves)
    "kl_div": ([X, Y], lambda lib, x, y, r: lib.kl_div(x, y, r), (0,)),
    "kl_div_log_target": ([X, _draw(3, 4)],
                          lambda lib, x, y, r: lib.kl_div(x, y, r, log_target=True), (0, 1)),
    "hinge_embedding_loss": ([X, _draw(3, 4, kind="sign")],
                             lambda lib, x, y, r: lib.hinge_embedding_loss(x, y, 0.5, r), (0,)),
    "cosine_embedding_loss": (
        [X, _draw(3, 4), _draw(3, kind="sign")],
        lambda lib, a, b, y, r: lib.cosine_embedding_loss(a, b, y, 0.2, r), (0, 1)),
    "margin_ranking_loss": (
        [_draw(5), _draw(5), _draw(5, kind="sign")],
        lambda lib, a, b, y, r: lib.margin_ranking_loss(a, b, y, 0.3, r), (0, 1)),
    "margin_ranking_loss_broadcast": (  # ranks F refuses, aten broadcasts
        [X, _draw(4), _draw(1, kind="sign")],
        lambda lib, a, b, y, r: lib.margin_ranking_loss(a, b, y, 0.3, r), (0, 1)),
    "poisson_nll_loss": ([_draw(3, 4, kind="prob") + 0.1, _draw(3, 4, kind="prob") * 4],
                         lambda lib, x, y, r: lib.poisson_nll_loss(x, y, True, False, 1e-8, r),
                         (0,)),
    "poisson_nll_loss_full": (
        [_draw(3, 4, kind="prob") + 0.1, _draw(3, 4, kind="prob") * 4],
        lambda lib, x, y, r: lib.poisson_nll_loss(x, y, False, True, 1e-8, r), (0,)),
    "triplet_margin_loss": (
        [X, _draw(3, 4), _draw(3, 4)],
        lambda lib, a, p, n, r: lib.triplet_margin_loss(a, p, n, 1.0, 2, 1e-6, False, r),
        (0, 1, 2)),
    "triplet_margin_loss_swap_negative_margin": (  # a margin F refuses
        [X, _draw(3, 4), _draw(3, 4)],
        lambda lib, a, p, n, r: lib.triplet_margin_loss(a, p, n, -0.5, 1, 1e-6, True, r),
        (0, 1, 2)),
    "binary_cross_entropy_with_logits": (
        [X, Y], lambda lib, x, y, r: lib.binary_cross_entropy_with_logits(x, y, reduction=r),
        (0,)),
    "binary_cross_entropy_with_logits_weights": (
        [X, Y, _draw(3, 4, kind="prob"), _draw(4, kind="prob")],
        lambda lib, x, y, w, pw, r: lib.binary_cross_entropy_with_logits(x, y, w, pw, r),
        (0,)),
}


@pytest.mark.parametrize("reduction", [0, 1, 2, 5])
@pytest.mark.parametrize("name", LOSSES)
def test_loss(name, reduction):
    """The reduction as aten's enum (an unknown value reduces nothing), and no warning."""
    arrays, fn, leaves = LOSSES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check(forward_backward(lambda lib, *ts: _no_node_name(fn(lib, *ts, reduction)), *arrays,
                               grads=leaves))


def _no_node_name(loss):
    """ember's clamp_min node is ClampBackward1 where torch's is ClampMinBackward0: the losses
    ending in clamp_min are compared without their node name."""
    return loss.clone() if type(loss.grad_fn).__name__.startswith("Clamp") else loss


def test_binary_cross_entropy_with_logits_broadcasts_into_the_target():
    """An input broadcasting into the target's shape is taken (the forward: torch's backward
    of it fails); one that does not is refused as aten refuses it."""
    check(lambda lib: lib.binary_cross_entropy_with_logits(_t(lib, X[0]), _t(lib, Y), reduction=0))
    for target in (Y[0], _draw(5, kind="prob")):
        assert_same_error(lambda lib: lib.binary_cross_entropy_with_logits(
            _t(lib, X), _t(lib, target)), same_message=True)


LOG_PROBS = np.log(RNG.dirichlet(np.ones(5), size=(12, 3))).astype(np.float32)
TARGETS = RNG.integers(1, 5, (3, 4))


@pytest.mark.parametrize("tensor_lengths", [False, True])
@pytest.mark.parametrize("reduction", [0, 1, 2, 7])
def test_ctc_loss(reduction, tensor_lengths):
    lengths = ([12, 10, 12], [4, 2, 3])
    if tensor_lengths:
        lengths = tuple(np.array(n) for n in lengths)
    check(forward_backward(lambda lib, lp, tg, *ls: lib.ctc_loss(lp, tg, *ls, 0, reduction),
                           LOG_PROBS, TARGETS, *lengths), rtol=1e-4)


@pytest.mark.parametrize("call", [
    lambda lib: lib.kl_div(_t(lib, X), _t(lib, Y), "mean"),
    lambda lib: lib.kl_div(_t(lib, X), _t(lib, Y), 1, True),
    lambda lib: lib.kl_div(lib.ones(3, dtype=lib.int64), _t(lib, Y[0, :3])),
    lambda lib: lib.poisson_nll_loss(_t(lib, X), _t(lib, Y), True, False, 1e-8),
    lambda lib: lib.triplet_margin_loss(_t(lib, X), _t(lib, X[0]), _t(lib, X)),
    lambda lib: lib.cosine_embedding_loss(_t(lib, X), _t(lib, X), _t(lib, X[:, :1])),
    lambda lib: lib.ctc_loss(_t(lib, LOG_PROBS), _t(lib, TARGETS), [12, 10, 12], [4, 2, 3], 0,
                             "mean"),
    lambda lib: lib.ctc_loss(_t(lib, LOG_PROBS), _t(lib, TARGETS), [12, 10, 12],
                             _t(lib, np.array([4, 2, 3]))),
])
def test_loss_errors(call):
    assert_same_error(call, same_message=True)


# ---- convolution ----------------------------------------------------------------------------
IMAGE, KERNEL, KERNEL_T = _draw(2, 4, 5, 5), _draw(6, 2, 3, 3), _draw(4, 3, 3, 3)
CONVOLUTIONS = {  # name -> (input, weight, bias, stride, padding, dilation, transposed,
    #                        output_padding, groups)
    "2d_groups": (IMAGE, KERNEL, _draw(6), [1, 1], [0, 0], [1, 1], False, [0, 0], 2),
    "single_values": (IMAGE, KERNEL, _draw(6), [1], [1], [1], False, [0], 2),
    "strided_dilated": (IMAGE, KERNEL, None, [2, 1], [1, 2], [2, 1], False, [0], 2),
    "transposed": (IMAGE, KERNEL_T, None, [2, 2], [1, 1], [1, 1], True, [1, 1], 2),
    "transposed_bias": (IMAGE, KERNEL_T, _draw(6), [2, 2], [1, 1], [1, 1], True, [1, 0], 2),
    "transposed_one_group": (IMAGE, KERNEL_T, None, [2, 2], [1, 1], [1, 1], True, [1], 1),
    "1d": (_draw(2, 4, 7), _draw(3, 4, 2), _draw(3), [1], [0], [1], False, [0], 1),
    "1d_transposed": (_draw(2, 4, 7), _draw(4, 3, 2), _draw(3), [2], [0], [1], True, [1], 1),
    "3d": (_draw(2, 4, 5, 3, 3), _draw(3, 4, 2, 2, 2), None, [1], [0], [1], False, [0], 1),
    "3d_transposed": (_draw(2, 4, 5, 3, 3), _draw(4, 3, 2, 2, 2), None, [2], [0], [1], True,
                      [1], 1),
}


@pytest.mark.parametrize("name", CONVOLUTIONS)
def test_convolution(name):
    """Any spatial rank by the weight's, every parameter a list (one value for all dims)."""
    x, w, b, *params = CONVOLUTIONS[name]
    arrays = (x, w) if b is None else (x, w, b)

    def call(lib, x, w, b=None):
        return lib.convolution(x, w, b, *params)

    check(forward_backward(call, *arrays), rtol=1e-4, atol=1e-5)


def test_convolution_ignores_output_padding_when_not_transposed():
    """(its forward: torch's backward then refuses the output_padding)"""
    check(lambda lib: lib.convolution(_t(lib, IMAGE), _t(lib, KERNEL), None, [1, 1], [0, 0],
                                      [1, 1], False, [5, 5], 2), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("args", [
    (IMAGE, KERNEL, None, 1, 1, 1, False, 0, 2),
    (IMAGE, KERNEL, None, [1, 1, 1], [0, 0], [1, 1], False, [0, 0], 2),
    (IMAGE, KERNEL, None, [1, 1], [0, 0], [1, 1], False, [0, 0, 0], 2),
    (IMAGE, KERNEL, None, [1, 1], [0, 0], [1, 1], False, [], 2),
    (IMAGE[0], KERNEL, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 2),
    (IMAGE, KERNEL, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 3),
    (IMAGE, KERNEL, None, [0, 2], [1, 1], [1, 1], False, [0, 0], 2),
    (IMAGE, KERNEL, None, [1, 1], [-1, 1], [1, 1], False, [0, 0], 2),
    (IMAGE, KERNEL, None, [1, 1], [1, 1], [0, 1], False, [0, 0], 2),
    (IMAGE, KERNEL, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 0),
    (IMAGE, KERNEL_T, None, [2, 2], [1, 1], [1, 1], True, [2, 2], 2),
    (IMAGE, KERNEL_T, None, [2, 2], [1, 1], [1, 1], True, [-1, 0], 2),
    (_draw(2, 4), _draw(3, 4), None, [], [], [], False, [], 1),
    (_draw(2, 4, 3), _draw(3, 4, 1), None, [], [], [], False, [], 1),
    (_draw(1, 1, 3, 3, 3, 3), _draw(1, 1, 2, 2, 2, 2), None, [1], [0], [1], False, [0], 1),
    (IMAGE, KERNEL, None, [1, 1], [0, 0], [1, 1], False, [0, 0]),
])
def test_convolution_errors(args):
    assert_same_error(lambda lib: lib.convolution(
        *(_t(lib, a) if isinstance(a, np.ndarray) else a for a in args)), same_message=True)


# ---- spatial transformers -------------------------------------------------------------------
GRID_2D = _draw(2, 5, 5, 2, kind="prob") * 2 - 1
GRID_3D = _draw(2, 3, 3, 3, 3, kind="prob") * 2 - 1


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", [0, 1, 2])
@pytest.mark.parametrize("interpolation_mode", [0, 1, 2])
def test_grid_sampler(interpolation_mode, padding_mode, align_corners):
    """grid_sampler_2d for a 4-D input, grid_sampler_3d otherwise (no bicubic there)."""
    args = (interpolation_mode, padding_mode, align_corners)
    check(forward_backward(lambda lib, x, g: lib.grid_sampler(x, g, *args), _draw(2, 3, 4, 4),
                           GRID_2D), rtol=1e-4, atol=1e-5)
    if interpolation_mode < 2:
        check(forward_backward(lambda lib, x, g: lib.grid_sampler(x, g, *args),
                               _draw(2, 3, 4, 4, 4), GRID_3D), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("arrays, modes", [
    ((_draw(2, 3, 4), _draw(2, 3, 2)), (1, 1, True)),
    ((_draw(2, 3, 4, 4, 4), GRID_3D), (2, 1, True)),
    ((_draw(2, 3, 4, 4), GRID_3D), (0, 0, False)),
    ((_draw(), GRID_2D), (0, 0, False)),
])
def test_grid_sampler_errors(arrays, modes):
    assert_same_error(lambda lib: lib.grid_sampler(*(_t(lib, a) for a in arrays), *modes),
                      same_message=True)


THETA = _draw(2, 2, 3)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("theta, size", [
    (THETA, [2, 3, 4, 5]), (THETA, (2, 3, 1, 5)), (THETA, [2, 3, 0, 5]), (THETA, [2, 3, 1, 1]),
    (THETA.astype(np.float64), [2, 3, 4, 5]), (_draw(2, 3, 4), (2, 3, 4, 5, 2))])
def test_affine_grid_generator(theta, size, align_corners):
    """No check of theta or of the size's values, as F.affine_grid makes (its node is a view,
    not torch's AffineGridGeneratorBackward0)."""
    check(forward_backward(lambda lib, t: lib.affine_grid_generator(t, size, align_corners),
                           theta, node=False))


@pytest.mark.parametrize("theta, size, align_corners", [
    (THETA, [2, 3, 4], True), (THETA, [2, 3, 4, 5, 6], True), (THETA, [3, 3, 4, 5], True),
    (_draw(2, 2, 4), (2, 3, 4, 5), True), (_draw(2, 3, 3), (2, 3, 4, 5), True),
    (_draw(2, 3), (2, 3, 4, 5), True), (THETA, [2, 3, 4, 5], None)])
def test_affine_grid_generator_errors(theta, size, align_corners):
    assert_same_error(lambda lib: lib.affine_grid_generator(_t(lib, theta), size, align_corners),
                      same_message=True)


# ---- norms ----------------------------------------------------------------------------------
SPARSE = np.array([[0, 2.0, 0], [3, 0, -4]], np.float32)


@pytest.mark.parametrize("args", [(), (1,), (0,), (float("inf"),), (2, [0, 1], False, None),
                                  (None, [], False, None), (3, [-1, 0], False, None)])
def test_native_norm_of_sparse_tensors(args):
    check(lambda lib: lib.native_norm(_t(lib, SPARSE).to_sparse(), *args))


@pytest.mark.parametrize("args", [(2, [1], False, None), (2, [0, 0], False, None),
                                  (2, [0, 1], True, None), (2, [0, 1], False, "float64"),
                                  (None,), ("fro",)])
def test_native_norm_errors(args):
    def call(lib):
        given = [getattr(lib, a) if a == "float64" else a for a in args]
        return lib.native_norm(_t(lib, SPARSE).to_sparse(), *given)

    assert_same_error(call, same_message=True)
    assert_same_error(lambda lib: lib.native_norm(lib.tensor([[0, 2], [3, 0]]).to_sparse()),
                      same_message=True)
    assert_same_error(lambda lib: lib.native_norm(_t(lib, SPARSE)),
                      match="Could not run 'aten::native_norm' with arguments from the 'CPU'")


@pytest.mark.parametrize("shape, pow, dim", [
    ((3, 4, 5), 2, 0), ((3, 4, 5), 2, 1), ((3, 4, 5), 2, -1), ((3, 4, 5), 2, 2),
    ((3, 4, 5), 3, 0), ((3, 4, 5), 2, -2), ((3, 4, 5), 1, 0), ((), 2, -1), ((4,), 2, 0),
    ((2, 3), 2, 1)])
def test_norm_except_dim(shape, pow, dim):
    """(dim -1's node is ember's vector norm's, not torch's NormBackward0)"""
    check(forward_backward(lambda lib, v: lib.norm_except_dim(v, pow, dim), _draw(*shape),
                           node=dim != -1), rtol=1e-4)


@pytest.mark.parametrize("call", [
    lambda lib: lib.norm_except_dim(_t(lib, _draw(3, 4, 5)), 2, 5),
    lambda lib: lib.norm_except_dim(_t(lib, _draw()), 2, 0),
    lambda lib: lib.norm_except_dim(lib.arange(4), 2, 0),
    lambda lib: lib.norm_except_dim(_t(lib, _draw(3, 4)), 2.5, 0),
])
def test_norm_except_dim_errors(call):
    assert_same_error(call, same_message=True)


# ---- Tensor methods as functions ------------------------------------------------------------
def test_detach_and_detach_():
    def call(lib):
        y = _t(lib, X, grad=True) * 2
        detached = lib.detach(y)
        same = lib.detach_(y) is y
        leaf = _t(lib, X, grad=True)
        return detached, detached.requires_grad, same, y.requires_grad, y.grad_fn is None, \
            lib.detach_(leaf) is leaf, leaf.requires_grad

    check(call)
    assert_same_error(lambda lib: lib.detach_(_t(lib, X)[0]), same_message=True)
    assert_same_error(lambda lib: lib.detach(3), same_message=True)


@pytest.mark.parametrize("dtype, value", [
    ("float32", 2), ("float32", "tensor"), ("int64", 2.7), ("bool", 2), ("float32", 1 + 2j),
    ("float32", "vector")])
def test_fill_(dtype, value):
    def call(lib):
        t = lib.zeros(3, dtype=getattr(lib, dtype))
        fill = {"tensor": lib.tensor(2.5), "vector": lib.tensor([2.5, 1.0])}.get(value, value)
        return lib.fill_(t, fill) is t, t

    check_or_same_error(call)


def test_fill_errors():
    assert_same_error(lambda lib: lib.fill_(lib.zeros(3, requires_grad=True), 1),
                      same_message=True)
    for value in (None, "a"):  # (ember's parser lists the signatures without torch's reasons)
        assert_same_error(lambda lib: lib.fill_(lib.zeros(3), value),
                          match="fill_\\(\\) received an invalid combination of arguments")


@pytest.mark.parametrize("values", [[1.0], [0.0], [0j], [float("nan")], 0, [], [1, 2]])
def test_is_nonzero(values):
    check_or_same_error(lambda lib: lib.is_nonzero(lib.tensor(values)))


@pytest.mark.parametrize("dtype", ["uint8", "int8", "bool", "float16", "bfloat16", "complex64",
                                   "uint16", "int64"])
def test_is_signed(dtype):
    check(lambda lib: lib.is_signed(lib.zeros(1, dtype=getattr(lib, dtype))))


def test_tensor_predicates_and_get_device():
    check(lambda lib: (lib.is_inference(lib.ones(2)), lib.is_distributed(lib.ones(2)),
                       lib.get_device(lib.ones(2)), lib.get_device(input=lib.ones(2))))
    for call in (lambda lib: lib.get_device(3), lambda lib: lib.get_device(),
                 lambda lib: lib.get_device(lib.ones(2), 1), lambda lib: lib.is_signed(1),
                 lambda lib: lib.is_inference()):
        assert_same_error(call, same_message=True)


def test_conj_physical_():
    for values in ([1 + 2j, 3 - 1j], [1.0, 2.0]):
        check(lambda lib: (lambda t: (lib.conj_physical_(t) is t, t))(lib.tensor(values)))


DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128", "uint16"]


@pytest.mark.parametrize("source", DTYPES)
def test_can_cast(source):
    check(lambda lib: [lib.can_cast(getattr(lib, source), getattr(lib, target))
                       for target in DTYPES])


def test_can_cast_python_types_and_errors():
    check(lambda lib: (lib.can_cast(float, int), lib.can_cast(int, float),
                       lib.can_cast(bool, int), lib.can_cast(from_=lib.float, to=lib.int)))
    for call in (lambda lib: lib.can_cast(lib.float, "a"), lambda lib: lib.can_cast(lib.float)):
        assert_same_error(call, same_message=True)


@pytest.mark.parametrize("form", ["plain", "keywords", "deprecated_4", "deprecated_5"])
def test_addmv_(form):
    """In place into input; the deprecated scalar-first forms warn (every time under
    set_warn_always(True), as torch's once-only warning then does)."""
    mat, vec = _draw(2, 3), _draw(3)

    def call(lib):
        t = lib.zeros(2)
        m, v = _t(lib, mat), _t(lib, vec)
        args, kwargs = {"plain": ((t, m, v), {}), "keywords": ((t, m, v), dict(beta=2, alpha=3)),
                        "deprecated_4": ((2, t, m, v), {}),
                        "deprecated_5": ((2, t, 3, m, v), {})}[form]
        lib.set_warn_always(True)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = lib.addmv_(*args, **kwargs)
        finally:
            lib.set_warn_always(False)
        return result is t, t, [str(w.message).split(" (Triggered")[0] for w in caught]

    check(call)


# ---- switches, flags and range --------------------------------------------------------------
def test_anomaly_switches():
    def call(lib):
        seen = [lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled()]
        try:
            for args, kwargs in (((True,), {}), ((True, False), {}),
                                 ((), dict(enabled=False, check_nan=True))):
                seen += [lib.set_anomaly_enabled(*args, **kwargs), lib.is_anomaly_enabled(),
                         lib.is_anomaly_check_nan_enabled()]
        finally:
            lib.set_anomaly_enabled(False)
        return seen

    check(call)


def test_warn_always_switch():
    check(lambda lib: [lib.is_warn_always_enabled(), lib.set_warn_always(True),
                       lib.is_warn_always_enabled(), lib.set_warn_always(False),
                       lib.is_warn_always_enabled()])


@pytest.mark.parametrize("call", [
    lambda lib: lib.set_anomaly_enabled(), lambda lib: lib.set_anomaly_enabled(1),
    lambda lib: lib.set_anomaly_enabled(True, 1), lambda lib: lib.set_anomaly_enabled(None),
    lambda lib: lib.set_anomaly_enabled(True, False, 3), lambda lib: lib.is_anomaly_enabled(1),
    lambda lib: lib.is_anomaly_check_nan_enabled(1), lambda lib: lib.is_anomaly_enabled(a=1),
    lambda lib: lib.is_warn_always_enabled(1), lambda lib: lib.set_warn_always(),
    lambda lib: lib.set_warn_always(1), lambda lib: lib.set_warn_always(None),
    lambda lib: lib.set_warn_always(b=True), lambda lib: lib.set_flush_denormal(),
    lambda lib: lib.set_flush_denormal(1), lambda lib: lib.set_flush_denormal(mode=True),
    lambda lib: lib.set_flush_denormal(True, 2),
])
def test_switch_errors(call):
    assert_same_error(call, same_message=True)


def test_set_flush_denormal_answers_unsupported():
    """NumPy cannot flush denormals: ember answers False (torch on a CPU without the mode)."""
    assert ember.set_flush_denormal(True) is False
    assert ember.set_flush_denormal(False) is False


def test_build_flags():
    check(lambda lib: (lib.has_lapack, lib.has_mkl, lib.has_openmp, lib.has_spectral))


RANGES = [((0, 5), {}), ((0, 5, 2), {}), ((1, 4, 0.5), {}), ((0, 1, 0.1), {}), ((5, 0, -1), {}),
          ((0, 5), {"dtype": "int64"}), ((0.5, 3.7), {"dtype": "int64"}),
          ((0, 5), {"dtype": "float64"}), ((0, 1, 0.1), {"dtype": "float16"}),
          ((0, 1, 0.1), {"dtype": "bfloat16"}), ((0, 5), {"dtype": "int8"}),
          ((0, 5), {"dtype": "uint8"}), ((0, 5), {"requires_grad": True}),
          ((0, 5), {"step": 2}), ((-3, 3, 1.5), {}), ((0, 0), {}),
          ((0, 2.5, 1), {"dtype": "int32"}), ((0, 5, 2), {"dtype": "float32"})]


@pytest.mark.parametrize("args, kwargs", RANGES)
def test_range(args, kwargs):
    """End included, the default float dtype, values start + i·step in aten's accumulate
    type; a UserWarning each call."""

    def call(lib):
        given = {k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = lib.range(*args, **given)
        return result, result.requires_grad, [(w.category, str(w.message)) for w in caught]

    check(call)


def test_range_out_and_errors():
    def out(lib):
        target = lib.zeros(2, dtype=lib.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return lib.range(0, 3, out=target) is target, target

    check(out)
    for args, kwargs in [((0, 5, 0), {}), ((5, 0), {}), ((0, float("inf")), {}),
                         ((float("nan"), 1), {}), ((0,), {}), ((0, 5), {"dtype": "bool"}),
                         ((0, 5), {"dtype": "complex64"}), ((0, float("inf")), {"dtype": "int64"}),
                         ((float("nan"), 3), {"dtype": "int32"}),
                         ((0, 5), {"dtype": "float32", "out": "float64"})]:
        def call(lib, args=args, kwargs=kwargs):
            given = {k: getattr(lib, v) for k, v in kwargs.items()}
            if "out" in given:
                given["out"] = lib.zeros(2, dtype=given["out"])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return lib.range(*args, **given)

        assert_same_error(call, same_message=True)


def test_range_warning_points_at_the_caller():
    with pytest.warns(UserWarning, match="torch.range is deprecated") as caught:
        ember.range(0, 2)
    assert caught[0].filename == __file__


@pytest.mark.parametrize("name", [n + "_" for n in DROPOUTS])
def test_dropout_in_place_and_autograd(name):
    """On a leaf requiring grad: torch's refusal; on an intermediate: the gradient through the
    written tensor."""
    assert_same_error(lambda lib: getattr(lib, name)(_t(lib, X3, grad=True), 0.5, True),
                      same_message=True)

    def call(lib):
        x = _t(lib, X3.astype(np.float64), grad=True)
        y = x * 1.5
        getattr(lib, name)(y, 0.4, True)
        y.sum().backward()
        return y, x.grad, type(y.grad_fn).__name__

    check(call)
