"""Losses against torch: values and gradients (input and, where differentiable, target) for
each reduction, the seeds' exact values, reprs and errors."""

import numpy as np
import pytest
import torch

import ember
from ember.ops import loss_ops
from tests.differential import assert_same, assert_same_error, to_ember

RNG = np.random.default_rng(0)


def _f(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _p(*shape):
    return RNG.uniform(0.05, 0.95, size=shape).astype(np.float32)


def _sign(*shape):
    return np.where(RNG.random(shape) > 0.5, 1.0, -1.0).astype(np.float32)


def _idx(high, *shape):
    return RNG.integers(0, high, size=shape).astype(np.int64)


def _idx_ignored(high, *shape):
    t = _idx(high, *shape)
    t.reshape(-1)[::3] = -100
    return t


W4 = RNG.uniform(0.2, 2.0, size=4).astype(np.float32)

# (functional name, argument arrays, kwargs, which arrays are differentiable)
CASES = [
    ("l1_loss", (_f(3, 4), _f(3, 4)), {}, (0, 1)),
    ("mse_loss", (_f(3, 4), _f(3, 4)), {}, (0, 1)),
    ("smooth_l1_loss", (_f(3, 4) * 2, _f(3, 4)), {}, (0, 1)),
    ("smooth_l1_loss", (_f(3, 4) * 2, _f(3, 4)), {"beta": 0.5}, (0, 1)),
    ("smooth_l1_loss", (_f(3, 4) * 2, _f(3, 4)), {"beta": 0.0}, (0, 1)),
    ("huber_loss", (_f(3, 4) * 2, _f(3, 4)), {"delta": 0.7}, (0, 1)),
    ("cross_entropy", (_f(5, 4), _idx(4, 5)), {}, (0,)),
    ("cross_entropy", (_f(5, 4), _idx(4, 5)), {"weight": W4}, (0,)),
    ("cross_entropy", (_f(6, 4), _idx_ignored(4, 6)), {"weight": W4}, (0,)),
    ("cross_entropy", (_f(6, 4), _idx(4, 6)), {"ignore_index": 2}, (0,)),
    ("cross_entropy", (_f(5, 4), _idx(4, 5)), {"label_smoothing": 0.2}, (0,)),
    ("cross_entropy", (_f(6, 4), _idx_ignored(4, 6)), {"label_smoothing": 0.1, "weight": W4},
     (0,)),
    ("cross_entropy", (_f(2, 4, 3, 2), _idx(4, 2, 3, 2)), {}, (0,)),
    ("cross_entropy", (_f(2, 4, 5), _idx_ignored(4, 2, 5)), {"weight": W4}, (0,)),
    ("cross_entropy", (_f(4), np.array(2)), {}, (0,)),
    ("cross_entropy", (_f(5, 4), _p(5, 4)), {}, (0, 1)),
    ("cross_entropy", (_f(5, 4), _p(5, 4)), {"weight": W4, "label_smoothing": 0.3}, (0, 1)),
    ("cross_entropy", (_f(2, 4, 3), _p(2, 4, 3)), {}, (0, 1)),
    ("nll_loss", (_f(5, 4), _idx(4, 5)), {}, (0,)),
    ("nll_loss", (_f(6, 4), _idx_ignored(4, 6)), {"weight": W4}, (0,)),
    ("nll_loss", (_f(2, 4, 3, 3), _idx(4, 2, 3, 3)), {}, (0,)),
    ("nll_loss", (_f(4), np.array(1)), {}, (0,)),
    ("binary_cross_entropy", (_p(3, 4), _p(3, 4)), {}, (0, 1)),
    ("binary_cross_entropy", (_p(3, 4), _p(3, 4)), {"weight": _p(3, 4)}, (0, 1)),
    ("binary_cross_entropy", (_p(3, 4), _p(4)[None].repeat(3, 0)), {"weight": _p(4)}, (0,)),
    ("binary_cross_entropy_with_logits", (_f(3, 4) * 3, _p(3, 4)), {}, (0, 1)),
    ("binary_cross_entropy_with_logits", (_f(3, 4) * 3, _p(3, 4)),
     {"weight": _p(3, 4), "pos_weight": _p(4) * 3}, (0, 1)),
    ("kl_div", (np.log(_p(3, 4)), _p(3, 4)), {}, (0, 1)),
    ("kl_div", (np.log(_p(3, 4)), _p(3, 4)), {"reduction": "batchmean"}, (0, 1)),
    ("kl_div", (np.log(_p(3, 4)), np.log(_p(3, 4))), {"log_target": True}, (0, 1)),
    ("soft_margin_loss", (_f(3, 4), _sign(3, 4)), {}, (0,)),
    ("margin_ranking_loss", (_f(6), _f(6), _sign(6)), {"margin": 0.3}, (0, 1)),
    ("hinge_embedding_loss", (_f(3, 4), _sign(3, 4)), {"margin": 0.5}, (0,)),
    ("cosine_embedding_loss", (_f(5, 3), _f(5, 3), _sign(5)), {"margin": 0.2}, (0, 1)),
    ("triplet_margin_loss", (_f(4, 3), _f(4, 3), _f(4, 3)), {}, (0, 1, 2)),
    ("triplet_margin_loss", (_f(4, 3), _f(4, 3), _f(4, 3)), {"p": 1, "swap": True,
                                                             "margin": 2.0}, (0, 1, 2)),
    ("multilabel_soft_margin_loss", (_f(3, 4), (_p(3, 4) > 0.5).astype(np.float32)),
     {"weight": W4}, (0,)),
    ("multi_margin_loss", (_f(5, 4), _idx(4, 5)), {}, (0,)),
    ("multi_margin_loss", (_f(5, 4), _idx(4, 5)), {"p": 2, "margin": 0.5, "weight": W4}, (0,)),
    ("multilabel_margin_loss", (_f(3, 5), np.array([[3, 0, -1, 1, 1], [0, 1, 2, 3, 4],
                                                    [-1, 2, 2, 2, 2]])), {}, (0,)),
    ("multilabel_margin_loss", (_f(4), np.array([2, -1, 0, 0])), {}, (0,)),
    # a class listed twice before the -1 counts twice (PyTorch sums over the listed entries)
    ("multilabel_margin_loss", (_f(3, 5), np.array([[1, 1, 0, -1, 4], [4, 4, 4, 4, 4],
                                                    [0, 3, 0, 1, -1]])), {}, (0,)),
    ("multilabel_margin_loss", (_f(5), np.array([1, 1, 0, 1, 4])), {}, (0,)),
    ("poisson_nll_loss", (_f(3, 4), _p(3, 4) * 4), {}, (0,)),
    ("poisson_nll_loss", (_p(3, 4) * 3, _p(3, 4) * 4), {"log_input": False, "full": True},
     (0,)),
    # full=True: Stirling's term t·log t - t + ½log(2πt) (t > 1) is differentiable in the target
    ("poisson_nll_loss", (_f(3, 4), _p(3, 4) * 4), {"full": True}, (0, 1)),
    ("poisson_nll_loss", (_p(3, 4) * 3, _p(3, 4) * 4), {"log_input": False, "full": True,
                                                        "eps": 1e-3}, (0, 1)),
    ("gaussian_nll_loss", (_f(3, 4), _f(3, 4), _p(3, 4)), {}, (0, 1, 2)),
    ("gaussian_nll_loss", (_f(3, 4), _f(3, 4), _p(3)), {"full": True}, (0, 1, 2)),
    ("gaussian_nll_loss", (_f(3, 4), _f(3, 4), _p(3, 4) * 1e-7), {"eps": 1e-3}, (0, 1, 2)),
]

_TENSOR_KWARGS = ("weight", "pos_weight")


def _call(lib, name, arrays, kwargs, reduction, grads):
    tensors = []
    for i, a in enumerate(arrays):
        t = lib.from_numpy(np.array(a))
        if i in grads:
            t.requires_grad_(True)
        tensors.append(t)
    kw = {k: lib.from_numpy(v) if k in _TENSOR_KWARGS else v for k, v in kwargs.items()}
    if reduction is not None:
        kw["reduction"] = reduction
    return tensors, getattr(lib.nn.functional, name)(*tensors, **kw)


# every case with the default reduction, 'sum' and 'none' (unless it fixes its own)
REDUCED = [case + (reduction,) for case in CASES for reduction in (None, "sum", "none")
           if reduction is None or "reduction" not in case[2]]


@pytest.mark.parametrize("name,arrays,kwargs,grads,reduction", REDUCED)
def test_loss_matches_torch(name, arrays, kwargs, grads, reduction):
    t_in, t_out = _call(torch, name, arrays, kwargs, reduction, grads)
    e_in, e_out = _call(ember, name, arrays, kwargs, reduction, grads)
    assert_same(e_out, t_out, rtol=1e-5, atol=1e-6)
    gy = np.random.default_rng(1).uniform(0.5, 1.5, size=tuple(t_out.shape)).astype(np.float32)
    t_out.backward(torch.tensor(gy))
    e_out.backward(ember.tensor(gy))
    for i in grads:
        assert_same(e_in[i].grad, t_in[i].grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,kwargs", [
    ("cross_entropy", {"label_smoothing": 0.1}), ("nll_loss", {}),
    ("binary_cross_entropy_with_logits", {}), ("mse_loss", {}), ("smooth_l1_loss", {}),
])
def test_double_backward_matches_torch(name, kwargs):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3))
    if name in ("cross_entropy", "nll_loss"):
        target = rng.integers(0, 3, size=4)
    else:
        target = rng.uniform(0, 1, size=(4, 3))
    results = []
    for lib in (torch, ember):
        xt = lib.tensor(x, requires_grad=True)
        loss = getattr(lib.nn.functional, name)(xt * xt, lib.tensor(target), **kwargs)
        (g,) = lib.autograd.grad(loss, xt, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), xt)
        results.append((g.detach().numpy().copy(), gg.numpy().copy()))
    for e_arr, t_arr in zip(results[1], results[0]):
        np.testing.assert_allclose(e_arr, t_arr, rtol=1e-7, atol=1e-10)


def test_seed_000_values():
    nn = ember.nn
    inputs = ember.reshape(ember.tensor([1, 2, 3], dtype=ember.float32), (1, 1, 1, 3))
    targets = ember.reshape(ember.tensor([1, 2, 5], dtype=ember.float32), (1, 1, 1, 3))
    assert repr(nn.L1Loss()(inputs, targets)) == "tensor(0.6667)"
    assert repr(nn.L1Loss(reduction="sum")(inputs, targets)) == "tensor(2.)"
    assert repr(nn.MSELoss()(inputs, targets)) == "tensor(1.3333)"
    x = ember.reshape(ember.tensor([0.1, 0.2, 0.3]), (1, 3))
    assert repr(nn.CrossEntropyLoss()(x, ember.tensor([1]))) == "tensor(1.1019)"


def test_seed_003_bce_with_logits_graph():
    x, y = ember.ones(5), ember.zeros(3)
    w = ember.randn(5, 3, requires_grad=True)
    b = ember.randn(3, requires_grad=True)
    z = ember.matmul(x, w) + b
    loss = ember.nn.functional.binary_cross_entropy_with_logits(z, y)
    assert z.grad_fn.name() == "AddBackward0"
    assert loss.grad_fn.name() == "BinaryCrossEntropyWithLogitsBackward0"
    loss.backward()
    expected = torch.sigmoid(torch.tensor(z.detach().numpy())) / 3
    assert_same(b.grad, expected)
    assert_same(w.grad, expected.expand(5, 3))


def test_cross_entropy_grad_fn_name():
    out = ember.nn.functional.cross_entropy(ember.zeros(2, 3, requires_grad=True),
                                            ember.tensor([0, 1]))
    assert out.grad_fn.name() == "NllLossBackward0"


def test_all_ignored_mean_is_nan_like_torch():
    x = _f(3, 4)
    target = np.full(3, -100)
    t = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(target))
    e = ember.nn.functional.cross_entropy(ember.tensor(x), ember.tensor(target))
    assert np.isnan(float(t)) and np.isnan(float(e))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [{}, {"reduction": "none", "ignore_index": 3},
                                    {"reduction": "sum", "weight": True}])
def test_cross_entropy_on_big_logits_in_row_blocks(kwargs, dtype, monkeypatch):
    """Logits big enough to be done in blocks of rows on the intra-op threads: bit for bit the
    one-block result, and torch's loss and gradient."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((300, 513)) * 4).astype(dtype)
    assert x.size >= 2 * loss_ops._ROW_BLOCK
    target = rng.integers(0, 513, 300)
    target[::5] = 3
    kwargs = dict(kwargs)
    weight = rng.uniform(0.5, 2, 513).astype(dtype) if kwargs.pop("weight", False) else None

    def run(lib):
        xt = lib.tensor(x, requires_grad=True)
        w = None if weight is None else lib.tensor(weight)
        loss = lib.nn.functional.cross_entropy(xt, lib.tensor(target), weight=w, **kwargs)
        loss.backward(lib.ones_like(loss) if loss.dim() else None)
        return loss.detach().numpy(), xt.grad.numpy()

    blocked = run(ember)
    monkeypatch.setattr(loss_ops, "_ROW_BLOCK", 1 << 40)
    for a, b in zip(blocked, run(ember)):
        np.testing.assert_array_equal(a, b)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for e, t in zip(blocked, run(torch)):
        assert e.dtype == t.dtype
        np.testing.assert_allclose(e, t, rtol=tol, atol=tol)


# (class name, args, kwargs)
MODULES = [
    ("L1Loss", (), {}), ("MSELoss", (), {"reduction": "sum"}), ("CrossEntropyLoss", (), {}),
    ("CrossEntropyLoss", (), {"ignore_index": 1, "label_smoothing": 0.1}),
    ("NLLLoss", (), {}), ("BCELoss", (), {}), ("BCEWithLogitsLoss", (), {}),
    ("SmoothL1Loss", (), {"beta": 0.5}), ("HuberLoss", (), {"delta": 2.0}),
    ("KLDivLoss", (), {"reduction": "batchmean", "log_target": True}),
    ("SoftMarginLoss", (), {}), ("MarginRankingLoss", (0.5,), {}),
    ("HingeEmbeddingLoss", (), {}), ("CosineEmbeddingLoss", (), {}),
    ("TripletMarginLoss", (), {"margin": 0.5}), ("MultiLabelSoftMarginLoss", (), {}),
    ("MultiMarginLoss", (), {}), ("PoissonNLLLoss", (), {}), ("GaussianNLLLoss", (), {}),
    ("MultiLabelMarginLoss", (), {}),
    ("TripletMarginWithDistanceLoss", (), {}), ("TripletMarginWithDistanceLoss", (),
                                                {"margin": 2.0, "swap": True}),
    ("L1Loss", (), {"size_average": False}), ("MSELoss", (), {"reduce": False}),
]


@pytest.mark.parametrize("name,args,kwargs", MODULES)
def test_loss_modules(name, args, kwargs):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = getattr(torch.nn, name)(*args, **kwargs)
        e = getattr(ember.nn, name)(*args, **kwargs)
    assert repr(e) == repr(t)
    assert e.reduction == t.reduction
    assert list(e.state_dict()) == list(t.state_dict())


def test_loss_module_weight_buffers():
    w = torch.tensor(W4)
    t = torch.nn.CrossEntropyLoss(weight=w)
    e = ember.nn.CrossEntropyLoss(weight=to_ember(w))
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight"]
    x, y = _f(5, 4), _idx(4, 5)
    assert_same(e(ember.tensor(x), ember.tensor(y)), t(torch.tensor(x), torch.tensor(y)))
    tb = torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(4))
    eb = ember.nn.BCEWithLogitsLoss(pos_weight=ember.ones(4))
    assert list(eb.state_dict()) == list(tb.state_dict())


@pytest.mark.parametrize("call", [
    lambda F, lib: F.mse_loss(lib.zeros(3), lib.zeros(3), reduction="avg"),
    lambda F, lib: F.cross_entropy(lib.zeros(3, 4), lib.tensor([0, 1])),
    lambda F, lib: F.cross_entropy(lib.zeros(2, 4), lib.tensor([0, 4])),
    lambda F, lib: F.cross_entropy(lib.zeros(2, 4), lib.zeros(2, 3)),
    lambda F, lib: F.cross_entropy(lib.zeros(2, 4), lib.zeros(2, 4, dtype=lib.int64)),
    lambda F, lib: F.cross_entropy(lib.zeros(2, 4), lib.zeros(2, dtype=lib.int32)),
    lambda F, lib: F.cross_entropy(lib.zeros(2, 4), lib.zeros(2, 4), label_smoothing=1.5),
    lambda F, lib: F.nll_loss(lib.zeros(2, 3), lib.zeros(2)),
    lambda F, lib: F.nll_loss(lib.zeros(2, 4, 3), lib.zeros(2, 4, dtype=lib.int64)),
    lambda F, lib: F.nll_loss(lib.zeros(2, 4, 3, 3), lib.zeros(2, 3, dtype=lib.int64)),
    lambda F, lib: F.binary_cross_entropy(lib.zeros(3), lib.zeros(3, 1)),
    lambda F, lib: F.binary_cross_entropy(lib.tensor([1.5]), lib.zeros(1)),
    lambda F, lib: F.binary_cross_entropy_with_logits(lib.zeros(3), lib.zeros(2)),
    lambda F, lib: F.triplet_margin_loss(lib.zeros(2, 2), lib.zeros(2, 2), lib.zeros(2, 2),
                                         margin=0.0),
    lambda F, lib: F.gaussian_nll_loss(lib.zeros(2, 2), lib.zeros(2, 2), -lib.ones(2, 2)),
    lambda F, lib: F.gaussian_nll_loss(lib.zeros(2, 2), lib.zeros(2, 2), lib.ones(3)),
    lambda F, lib: F.huber_loss(lib.zeros(3), lib.zeros(3), delta=0.0),
    lambda F, lib: F.huber_loss(lib.zeros(3), lib.zeros(3), delta=-1.0),
    lambda F, lib: F.l1_loss(lib.zeros(5, 4), lib.zeros(5)),
    lambda F, lib: F.multilabel_margin_loss(lib.zeros(5, 0), lib.zeros(5, 4)),
    lambda F, lib: F.multilabel_margin_loss(lib.zeros(0), lib.zeros(0)),
    lambda F, lib: F.multilabel_margin_loss(lib.zeros(5, 4), lib.zeros(4)),
    lambda F, lib: F.multi_margin_loss(lib.zeros(5, 0), lib.zeros(5)),
    lambda F, lib: F.multi_margin_loss(lib.zeros(5, 4), lib.zeros(5, 4)),
    lambda F, lib: F.multi_margin_loss(lib.zeros(5, 4), lib.zeros(5)),
    lambda F, lib: F.multi_margin_loss(lib.zeros(5, 4), lib.zeros(5, dtype=lib.int64),
                                       weight=lib.ones(5, 4)),
    lambda F, lib: F.multi_margin_loss(lib.zeros(5, 4), lib.zeros(5, dtype=lib.int64),
                                       weight=lib.ones(5)),
    lambda F, lib: F.triplet_margin_with_distance_loss(lib.zeros(3, 4), lib.zeros(3, 4),
                                                       lib.zeros(3, 4), margin=-1.0),
    lambda F, lib: F.triplet_margin_with_distance_loss(lib.zeros(3), lib.zeros(3, 4),
                                                       lib.zeros(3, 4)),
])
def test_errors_match_torch(call):
    assert_same_error(lambda lib: call(lib.nn.functional, lib), same_message=True,
                      exact_type=True)


def test_mismatched_sizes_warn_and_broadcast():
    x, y = _f(3, 1), _f(3)
    with pytest.warns(UserWarning, match="Using a target size"):
        e = ember.nn.functional.mse_loss(ember.tensor(x), ember.tensor(y))
    with pytest.warns(UserWarning):
        t = torch.nn.functional.mse_loss(torch.tensor(x), torch.tensor(y))
    assert_same(e, t)


def test_float64_losses_keep_dtype():
    x = np.random.default_rng(3).standard_normal((4, 3))
    y = np.array([0, 2, 1, 1])
    e = ember.nn.functional.cross_entropy(ember.tensor(x, requires_grad=True), ember.tensor(y))
    t = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(y))
    assert_same(e, t, rtol=1e-12, atol=1e-12)
    assert ember.autograd.gradcheck(
        lambda a: ember.nn.functional.cross_entropy(a, ember.tensor(y), label_smoothing=0.2),
        (ember.tensor(x, requires_grad=True),))


def test_multilabel_margin_loss_gradcheck_with_padding():
    x = ember.tensor(np.random.default_rng(4).standard_normal((3, 5)), requires_grad=True)
    target = ember.tensor([[1, 1, 0, -1, 4], [3, -1, 2, 2, 2], [-1, 0, 1, 2, 3]])
    assert ember.autograd.gradcheck(
        lambda a: ember.nn.functional.multilabel_margin_loss(a, target, reduction="none"), (x,))


@pytest.mark.parametrize("shapes, kwargs", [
    (((4, 3), (5, 3), (4,)), {}),
    (((3,), (5, 3), ()), {"reduction": "sum", "label_smoothing": 0.1}),
    (((4, 3), (5, 2, 3), (4, 2)), {"linear_bias": (5, 2), "reduction": "none"}),
    (((4, 3), (5, 3), (4, 5)), {"linear_bias": (5,), "weight": (5,)}),   # probabilities
    (((4, 3), (5, 3), (4,)), {"ignore_index": 2}),
])
def test_linear_cross_entropy_matches_torch(shapes, kwargs):
    """cross_entropy of linear(input, linear_weight, linear_bias), values and gradients."""
    rng = np.random.default_rng(5)
    x, w, t_shape = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1]), shapes[2]
    probs = len(t_shape) == len(shapes[0]) and t_shape[-1] == shapes[1][0]
    target = rng.dirichlet(np.ones(t_shape[-1]), t_shape[:-1]) if probs else rng.integers(
        0, shapes[1][0], t_shape)
    extra = {k: rng.uniform(0.5, 1.5, v) if isinstance(v, tuple) else v
             for k, v in kwargs.items()}
    results = []
    for lib in (ember, torch):
        xs, ws = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        kw = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in extra.items()}
        loss = lib.nn.functional.linear_cross_entropy(xs, ws, lib.tensor(target), **kw)
        loss.sum().backward()
        results.append((loss, xs.grad, ws.grad))
    for e, t in zip(*results):
        assert_same(e, t, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call", [
    lambda F, lib: F.linear_cross_entropy(lib.zeros(2, 2, 3), lib.zeros(4, 3),
                                          lib.zeros(2, dtype=lib.int64)),
    lambda F, lib: F.linear_cross_entropy(lib.zeros(2, 3), lib.zeros(3),
                                          lib.zeros(2, dtype=lib.int64)),
    lambda F, lib: F.linear_cross_entropy(lib.zeros(2, 3), lib.zeros(4, 2),
                                          lib.zeros(2, dtype=lib.int64)),
    lambda F, lib: F.linear_cross_entropy(lib.zeros(2, 3), lib.zeros(4, 3),
                                          lib.zeros(2, dtype=lib.int64), linear_bias=lib.zeros(3)),
])
def test_linear_cross_entropy_errors_match_torch(call):
    assert_same_error(lambda lib: call(lib.nn.functional, lib), same_message=True)
