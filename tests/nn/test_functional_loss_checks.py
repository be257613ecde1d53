"""Bad calls of the losses, linear/bilinear, the softmax family, glu, one_hot, embedding_bag and
cosine_similarity against torch (issue #19's fuzz findings): the exception type and message
torch gives, or its values, dtypes and gradients where it computes."""

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error


def _i(*values):
    return lambda lib: lib.tensor(list(values), dtype=lib.int64)


def _z(*shape, dtype="float32"):
    return lambda lib: lib.zeros(*shape, dtype=getattr(lib, dtype))


# (function name, argument makers, keyword arguments); each call raises in torch
ERRORS = [
    # cross_entropy / nll_loss: NOTE [nll_loss's checks in PyTorch's order]
    ("cross_entropy", (_z(3), _i(0, 1)), {}),
    ("cross_entropy", (_z(0, dtype="bool"), _i(0, 1)), {}),
    ("cross_entropy", (_z(), _i(0, 1)), {}),
    ("cross_entropy", (_z(2, 3), _z(0, dtype="float64")), {}),
    ("cross_entropy", (_z(2, 3), lambda lib: lib.tensor(0)), {}),
    ("cross_entropy", (_z(2, 3), _z(1, 3, dtype="int64")), {}),
    ("cross_entropy", (_z(4, 1, 3), _z(2, dtype="int64")), {}),
    ("cross_entropy", (_z(4, 1, 3), _z(4, 2)), {}),
    ("cross_entropy", (_z(4, 1, 3), _z(4, 3)), {}),
    ("cross_entropy", (_z(2, 3, 4, 5), _z(2, 4, 6)), {}),
    ("cross_entropy", (_z(2, 3, 4, dtype="int64"), _z(2, 4, dtype="int64")), {}),
    ("cross_entropy", (_z(2, 3, dtype="int64"), _z(2, 3, dtype="int64")), {}),
    ("cross_entropy", (_z(2, 3), _z(2, 3)), {"weight": _z(1, 3)}),
    ("cross_entropy", (_z(2, 3), _z(2, 4)), {}),
    ("nll_loss", (_z(3), _i(0, 1)), {"weight": _z(4)}),
    ("nll_loss", (_z(2, 3, dtype="int64"), _i(0, 1)), {}),
    ("nll_loss", (_z(2, 3, dtype="int64"), _i(0, 1)), {"weight": _z(4)}),
    ("nll_loss", (_z(2, 3), _i(0, 1)), {"weight": _z(3, dtype="float64")}),
    ("nll_loss", (_z(2, 3), _i(0, 1)), {"weight": _z(1, 3)}),
    ("nll_loss", (_z(2, 3, 4, 5), _z(2, 4, dtype="int64")), {}),
    ("nll_loss", (_z(2, 3, 4, 5), _z(2, 4, 6, dtype="int64")), {}),
    ("nll_loss", (_z(2, 3, 4, 5), _z(2, 4, 5, dtype="int64")), {"weight": _z(4)}),
    ("nll_loss", (_z(2, 3, 4), _z(2, 4, dtype="int64")), {"weight": _z(4)}),
    ("nll_loss", (_z(2, 3, 4, 5, dtype="int64"), _z(2, 4, 5, dtype="int64")), {}),
    ("nll_loss", (_z(), _z(dtype="int64")), {}),
    # the pointwise losses: NOTE [Pointwise loss dtypes]
    ("mse_loss", (_z(2, 3, dtype="int64"), _z(2, 3, dtype="int64")), {}),
    ("mse_loss", (_z(2, 3, dtype="bool"), _z(2, 3, dtype="bool")), {}),
    ("mse_loss", (_z(2, 3), _z(4, dtype="bool")), {}),
    ("smooth_l1_loss", (_z(2, 3, dtype="bool"), _z(2, 3, dtype="int64")), {}),
    ("huber_loss", (_z(2, 3, dtype="int64"), _z(2, 3)), {}),
    ("huber_loss", (_z(2, 3, dtype="bool"), _z(2, 3, dtype="int64")), {}),
    ("huber_loss", (_z(2, 3, dtype="int64"), _z(2, 3, dtype="bool")), {}),
    ("l1_loss", (_z(2, 3, dtype="int64"), _z(2, 3, dtype="int64")), {}),
    ("l1_loss", (_z(2, 3, dtype="bool"), _z(2, 3, dtype="bool")), {}),
    ("l1_loss", (_z(2, 3), _z(4, dtype="bool")), {}),
    ("soft_margin_loss", (_z(2, 3, dtype="bool"), _z(2, 3)), {}),
    ("soft_margin_loss", (_z(2, 3, dtype="int64"), _z(2, 3, dtype="int64")), {}),
    ("soft_margin_loss", (_z(2, 3, dtype="int64"), _z(2, 3, dtype="float64")), {}),
    # the margin losses
    ("cosine_embedding_loss", (_z(5, 5), _z(5, 5), _z()), {}),
    ("cosine_embedding_loss", (_z(5), _z(5), _z(1)), {}),
    ("cosine_embedding_loss", (_z(), _z(5, 5), _z(5)), {}),
    ("cosine_embedding_loss", (_z(2, 5, 5), _z(2, 5, 5), _z(2, 5)), {}),
    ("cosine_embedding_loss", (_z(5, 5), _z(5, 5), lambda lib: None), {}),
    ("cosine_embedding_loss", (_z(5, 5), lambda lib: 1.5, _z(5)), {}),
    ("triplet_margin_loss", (_z(3, 5), _z(5), _z(3, 5)), {}),
    ("multi_margin_loss", (_z(3, dtype="int64"), _i(0)), {}),
    ("multi_margin_loss", (_z(1, 3, dtype="bool"), _i(0)), {}),
    ("multi_margin_loss", (_z(3), _z(1, dtype="bool")), {}),
    ("multi_margin_loss", (_z(3), _i(-1)), {}),
    ("multi_margin_loss", (_z(3), _i(0)), {"weight": _z(3, dtype="float64")}),
    ("multi_margin_loss", (_z(3), _i(0)), {"weight": _z(4)}),
    ("multilabel_soft_margin_loss", (_z(3, dtype="int64"), _z(3)), {}),
    ("multilabel_soft_margin_loss", (_z(1, 3, dtype="bool"), _z(1, 3)), {}),
    ("multilabel_margin_loss", (_z(3), _z(3)), {}),
    ("multilabel_margin_loss", (_z(3), _z(1, 3, dtype="int64")), {}),
    ("multilabel_margin_loss", (_z(dtype="bool"), _z(dtype="int64")), {}),
    ("multilabel_margin_loss", (_z(3), _z(3, dtype="int32")), {}),
    ("hinge_embedding_loss", (_z(5), lambda lib: 2), {}),
    ("kl_div", (_z(2), _z(2, dtype="int64")), {}),
    ("kl_div", (_z(2, dtype="bool"), _z(2)), {}),
    ("kl_div", (lambda lib: 1.5, _z(2)), {}),
    ("poisson_nll_loss", (_z(5), lambda lib: 2), {}),
    ("poisson_nll_loss", (_z(5), _z(5, dtype="bool")), {"full": True}),
    ("gaussian_nll_loss", (_z(5), _z(5), _z(dtype="int64")), {}),
    ("gaussian_nll_loss", (_z(5), _z(5), _z(1, 3, dtype="bool")), {}),
    ("gaussian_nll_loss", (_z(5), _z(5, dtype="bool"), _z(5)), {}),
    ("gaussian_nll_loss", (_z(5), _z(5), lambda lib: 2), {}),
    ("binary_cross_entropy", (_z(3), _z(3, dtype="float64")), {}),
    ("binary_cross_entropy", (_z(3, dtype="bool"), _z(3)), {}),
    ("binary_cross_entropy", (_z(3, dtype="int64"), _z(3, dtype="int64")), {}),
    ("binary_cross_entropy_with_logits", (_z(3, dtype="bool"), _z(3)), {}),
    ("binary_cross_entropy_with_logits", (_z(3), _z(3, dtype="bool")), {}),
    ("binary_cross_entropy_with_logits", (_z(3), _z(3, dtype="int64")), {}),
    # complex inputs: PyTorch's kernels take real floating dtypes only
    ("cross_entropy", (_z(2, 3, dtype="complex64"), _i(0, 1)), {}),
    ("mse_loss", (_z(2, dtype="complex64"), _z(2)), {}),
    ("kl_div", (_z(2, dtype="complex64"), _z(2, dtype="complex64")), {}),
    ("glu", (_z(2, 4, dtype="complex64"),), {}),
    ("softmax", (_z(2, 3, dtype="complex64"), lambda lib: 1), {}),
    ("cosine_similarity", (_z(2, 3, dtype="complex64"), _z(2, 3, dtype="complex64")), {}),
    # the softmax family, glu
    ("softmax", (_z(2, 3, dtype="int64"), lambda lib: 0), {}),
    ("log_softmax", (_z(2, 3, 4, dtype="int64"), lambda lib: 1), {}),
    ("softmin", (_z(2, 3), lambda lib: 1.5), {}),
    ("softmin", (_z(2, 3), lambda lib: lib.zeros(1)), {}),
    ("glu", (_z(),), {}),
    ("glu", (_z(3, dtype="int64"), lambda lib: 1), {}),
    ("glu", (_z(3, dtype="int64"), lambda lib: 0), {}),
    ("glu", (_z(4, dtype="int64"), lambda lib: 0), {}),
    ("glu", (_z(2, 4), lambda lib: 1.5), {}),
    # linear: NOTE [linear's two paths]
    ("linear", (_z(2, 3), _z(4, 3), _z(4, dtype="float64")), {}),
    ("linear", (_z(3), _z(4, 3), _z(4, dtype="bool")), {}),
    ("linear", (_z(2, 3), _z(4, 3, dtype="float64")), {}),
    ("linear", (_z(2, 3), _z(4, 1, 3)), {}),
    ("linear", (_z(2, 3), _z(3), _z(1)), {}),
    ("linear", (_z(3), _z(3), _z(2, 4)), {}),
    ("linear", (_z(4, 2, 3), _z(3), _z(2, 4)), {}),
    ("linear", (_z(3), _z(0)), {}),
    ("linear", (_z(4, 2, 3), _z(0)), {}),
    ("linear", (_z(2, 3), _z(4, 3), _z(3, 4)), {}),
    ("linear", (_z(4, 2, 3), _z(4, 3), _z(5, 4, 2, 4)), {}),
    ("linear", (_z(2, 3, dtype="bool"), _z(4, 3, dtype="bool")), {}),
    # bilinear
    ("bilinear", (_z(2, 3), _z(2, 4), _z(5, 3, 4, dtype="float64")), {}),
    ("bilinear", (_z(2, 3), _z(2, 4), _z(5, 3, 4), _z(5, dtype="int64")), {}),
    ("bilinear", (_z(), _z(4), _z(5, 3, 4)), {}),
    ("bilinear", (_z(), _z(), _z(5, 3, 4)), {}),
    ("bilinear", (_z(2, 7, 3), _z(2, 6, 4), _z(5, 3, 4)), {}),
    ("bilinear", (_z(2, 3), _z(2, 4), _z(5, 3)), {}),
    ("bilinear", (_z(2, 3), _z(2, 4), _z(5, 2, 4)), {}),
    ("bilinear", (_z(2, 3), _z(2, 4), _z(5, 3, 4), _z()), {}),
    ("bilinear", (_z(2, 3), _z(2, 4), _z(5, 3, 4), _z(1, 5)), {}),
    ("bilinear", (_z(2, 3, dtype="bool"), _z(2, 4, dtype="bool"), _z(5, 3, 4, dtype="bool")), {}),
    # one_hot, embedding_bag (NOTE [embedding_bag's checks]), ctc_loss
    ("one_hot", (_z(3, dtype="int32"),), {}),
    ("one_hot", (_z(3, dtype="bool"),), {}),
    ("one_hot", (_z(2, 0, 3, dtype="int64"),), {}),
    ("one_hot", (_z(0, dtype="int64"), lambda lib: 0), {}),
    ("embedding_bag", (_z(), _i(1, 2, 3)), {"offsets": _i(0, 2)}),
    ("embedding_bag", (_z(10, 5), _z(1)), {"offsets": _i(0), "per_sample_weights": _z(5)}),
    ("embedding_bag", (_i(1, 2), _z(10, 5)), {"offsets": lambda lib: lib.zeros(1, 1)}),
    ("embedding_bag", (_i(1, 2), _z(10, 5, dtype="int64")), {"offsets": _i(0)}),
    ("embedding_bag", (_i(1, 2), _z(10, 5)),
     {"offsets": _i(0), "mode": "sum", "per_sample_weights": _z(2, dtype="float64")}),
    ("embedding_bag", (_i(1, 2), _z(10, 5)), {"offsets": _i(1)}),
    ("embedding_bag", (_i(1, 2), _z(10, 5)), {"offsets": _i(0, 3)}),
    ("embedding_bag", (_i(1, 20), _z(10, 5)), {"offsets": _i(0)}),
    ("embedding_bag", (_i(1, 20), _z(10, 5)), {"offsets": _i(0), "mode": "max"}),
    ("ctc_loss", (_z(5, 2, 4, dtype="int64"), _z(2, 3, dtype="int64"), lambda lib: [5, 5],
                  lambda lib: [3, 3]), {}),
    ("ctc_loss", (_z(5, 2, 4), _z(dtype="int64"), lambda lib: [5, 5], lambda lib: [3, 3]), {}),
    # FUZZ20 (helper A2): multilabel_margin_loss checks every target entry, also after a -1
    ("multilabel_margin_loss", (_z(), _i(1)), {}),
    ("multilabel_margin_loss", (_z(3), _i(0, 3, -1)), {}),
    ("multilabel_margin_loss", (_z(3), _i(0, -1, 5)), {}),
    ("multilabel_margin_loss", (_z(3), _i(0, -2, 1)), {}),
    # hinge_embedding_loss keeps an integer input's dtype: no mean of it
    ("hinge_embedding_loss", (_i(3, 4), _i(1, -1)), {}),
]


@pytest.mark.parametrize("name,args,kwargs", ERRORS)
def test_errors_match_torch(name, args, kwargs):
    def call(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return getattr(lib.nn.functional, name)(
                *(make(lib) for make in args), **{k: v(lib) if callable(v) else v
                                                   for k, v in kwargs.items()})

    ember_error, torch_error = assert_same_error(call, exact_type=True)
    # messages agree in gist: the same first words (ember's type names differ here and there;
    # a TypeError's text is whatever torch's Python code tripped over)
    if not isinstance(torch_error, TypeError):
        assert str(ember_error).split()[:2] == str(torch_error).split()[:2], (ember_error,
                                                                            torch_error)


def _rng_array(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# (function name, arrays (NumPy; floating ones get gradients), kwargs): torch computes these
VALUES = [
    ("cross_entropy", (_rng_array(3), np.array(2)), {"reduction": "none"}),
    ("cross_entropy", (_rng_array(3), np.array(2)), {"label_smoothing": 0.1}),
    ("cross_entropy", (np.zeros(0, np.float32), np.zeros(0, np.float32)), {}),
    ("cross_entropy", (np.zeros((2, 0), np.float32), np.zeros((2, 0), np.float32)), {}),
    ("cross_entropy", (np.zeros(0, np.int64), np.zeros(0, np.float64)), {}),
    ("cross_entropy", (np.zeros((2, 0), bool), np.zeros((2, 0), np.float32)),
     {"reduction": "none"}),
    ("nll_loss", (_rng_array((2, 3, 4, 5)), np.zeros((2, 4, 5), np.int64)),
     {"weight": np.ones((1, 3), np.float32)}),
    ("mse_loss", (_rng_array((2, 3)), _rng_array((2, 3), 1, np.float64)), {}),
    ("mse_loss", (np.ones((2, 3), bool), _rng_array((2, 3))), {"reduction": "none"}),
    ("smooth_l1_loss", (np.arange(6).reshape(2, 3), _rng_array((2, 3))), {}),
    ("l1_loss", (np.arange(6).reshape(2, 3), np.ones((2, 3), np.int64)), {"reduction": "sum"}),
    ("l1_loss", (np.arange(6).reshape(2, 3), _rng_array((2, 3))), {}),
    ("l1_loss", (np.zeros((2, 0, 3), np.int64), _rng_array((2, 0, 3))), {}),
    ("soft_margin_loss", (_rng_array((2, 3)), _rng_array((2, 3), 1, np.float64)), {}),
    ("soft_margin_loss", (_rng_array((2, 3)), np.ones((2, 3), np.int64)), {}),
    ("multi_margin_loss", (np.array([0.0, 0.0, np.nan], np.float32), np.array(0)), {}),
    ("multi_margin_loss", (np.array([3e38, 3e38, 3e38], np.float32), np.array(0)), {}),
    ("multi_margin_loss", (_rng_array(3), np.array([2])), {"reduction": "none"}),
    ("cosine_embedding_loss", (_rng_array(5), _rng_array(5, 1), np.array(-1.0)), {}),
    ("cosine_similarity", (np.arange(10).reshape(2, 5), _rng_array((2, 5))), {}),
    ("cosine_similarity", (_rng_array((2, 5)), np.ones(1, bool)), {}),
    ("linear", (_rng_array((4, 2, 3)), _rng_array(3, 1)), {}),
    ("linear", (_rng_array((4, 2, 3)), _rng_array(3, 1), _rng_array((), 2)), {}),
    ("linear", (_rng_array((2, 3)), _rng_array((4, 3), 1), _rng_array((2, 4), 2)), {}),
    ("linear", (_rng_array((5, 2, 3)), _rng_array((4, 3), 1), _rng_array((1, 2, 4), 2)), {}),
    ("linear", (_rng_array(3), _rng_array((4, 3), 1), _rng_array((1, 4), 2)), {}),
    ("linear", (_rng_array((2, 3)), _rng_array((4, 3), 1), _rng_array(1, 2)), {}),
    ("linear", (np.arange(6).reshape(2, 3), np.ones((4, 3), np.int64)), {}),
    ("bilinear", (_rng_array((2, 7, 3)), _rng_array((2, 7, 4), 1), _rng_array((5, 3, 4), 2),
                  _rng_array(5, 3)), {}),
    ("bilinear", (_rng_array(3), _rng_array(4, 1), _rng_array((5, 3, 4), 2)), {}),
    ("binary_cross_entropy_with_logits", (_rng_array(3), _rng_array(3, 1, np.float64)), {}),
    ("binary_cross_entropy_with_logits", (_rng_array(3, 0, np.float64), _rng_array(3, 1)),
     {"reduction": "none"}),
    ("multilabel_margin_loss", (_rng_array(1), np.array(0)), {}),
    ("poisson_nll_loss", (np.ones(5, bool), _rng_array(5)), {"full": True}),
    ("poisson_nll_loss", (_rng_array(5), np.ones(5, bool)), {}),
    ("glu", (_rng_array((2, 4)), np.array(1)), {}),
    ("glu", (np.zeros((0, 4), np.float32), 0), {}),
    ("softmax", (np.zeros((2, 0, 3), np.int64), 1), {}),
    ("log_softmax", (np.zeros((2, 0, 3), bool), 0), {}),
    ("softmin", (np.zeros((2, 0, 3), np.int64), 1), {}),
    ("one_hot", (np.zeros((2, 0, 3), np.int64), 4), {}),
    # FUZZ20 (helper A2): margin - input as torch computes it, margin filled into the input's
    # dtype (an integer input truncates it and the loss stays integer)
    ("hinge_embedding_loss", (np.arange(1, 6), np.array([1.0, -1, 1, -1, 0], np.float32)),
     {"margin": 8.39, "reduction": "none"}),
    ("hinge_embedding_loss", (np.arange(1, 6), np.array([1, -1, 1, -1, 0])),
     {"margin": -8.5, "reduction": "sum"}),
    ("hinge_embedding_loss", (_rng_array(5), np.array([1.0, -1, 1, -1, 0], np.float32)),
     {"margin": 0.7}),
]


# functions differentiated in every floating argument; the losses only in their input
_ALL_DIFFERENTIABLE = {"linear", "bilinear", "cosine_similarity", "cosine_embedding_loss"}


def _call(lib, name, arrays, kwargs, grad):
    leaves = []

    def convert(value, position=None):
        if not isinstance(value, np.ndarray):
            return value
        differentiable = grad and value.dtype.kind == "f" and value.ndim and value.size and (
            position == 0 or position is not None and name in _ALL_DIFFERENTIABLE)
        tensor = lib.tensor(value, requires_grad=bool(differentiable))
        if differentiable:
            leaves.append(tensor)
        return tensor

    args = [convert(a, i) for i, a in enumerate(arrays)]
    kw = {k: convert(v) for k, v in kwargs.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = getattr(lib.nn.functional, name)(*args, **kw)
    grads = []
    if leaves and out.dtype.is_floating_point and out.numel():
        grads = lib.autograd.grad(out.sum(), leaves, allow_unused=True)
    return out, grads


@pytest.mark.parametrize("name,arrays,kwargs", VALUES)
def test_values_and_gradients_match_torch(name, arrays, kwargs):
    e, e_grads = _call(ember, name, arrays, kwargs, grad=True)
    t, t_grads = _call(torch, name, arrays, kwargs, grad=True)
    assert_same(e, t, rtol=1e-5, atol=1e-6)
    assert len(e_grads) == len(t_grads)
    for eg, tg in zip(e_grads, t_grads):
        assert (eg is None) == (tg is None)
        if eg is not None:
            assert_same(eg, tg, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,arrays,kwargs", [
    ("cross_entropy", (_rng_array(3), np.array([2])), {"reduction": "none"}),
    ("cross_entropy", (_rng_array(3), np.array([2])), {}),
    ("nll_loss", (_rng_array(3), np.array([1])), {"reduction": "none"}),
    ("huber_loss", (_rng_array((2, 3)), _rng_array((2, 3), 1, np.float64)), {"delta": 0.5}),
    ("huber_loss", (_rng_array((2, 3), 0, np.float64), _rng_array((2, 3), 1)), {}),
])
def test_values_where_torchs_backward_fails(name, arrays, kwargs):
    """torch computes these, then its backward fails (on the unbatched shapes; on huber_loss's
    mixed dtypes): values and dtypes compared only."""
    assert_same(_call(ember, name, arrays, kwargs, grad=False)[0],
                _call(torch, name, arrays, kwargs, grad=False)[0])


def test_embedding_bag_takes_the_old_argument_order_with_a_warning():
    weight, index = _rng_array((10, 5)), np.array([1, 2, 3, 4, 5])
    results = []
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match="Argument order of nn.functional.embedding_bag"):
            results.append(lib.nn.functional.embedding_bag(
                lib.tensor(weight), lib.tensor(index), offsets=lib.tensor([0, 2]), mode="sum",
                per_sample_weights=lib.ones(5)))
    assert_same(*results)


OPTIONS = torch.nn.LinearCrossEntropyOptions()  # ember takes any options object


@pytest.mark.parametrize("args", [
    (_z(3, dtype="int64"), _z(4, 3), lambda lib: lib.tensor(1)),
    (_z(2, 3), _z(4, 3), lambda lib: lib.tensor(1)),
    (_z(2, 3), _z(4, 3), _i(1)),
    (_z(2, 3), _z(4, 3), lambda lib: lib.tensor([[1, 2]])),
    (_z(2, 3), _z(4, 3), _i(1, -119)),
    (_z(3), _z(4, 3), _i(2)),
])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_chunked_linear_cross_entropy_errors_match_torch(args, reduction):
    """NOTE [linear_cross_entropy's chunked kernel]."""
    assert_same_error(lambda lib: lib.nn.functional.linear_cross_entropy(
        *(make(lib) for make in args), options=OPTIONS, reduction=reduction), exact_type=True)


def test_chunked_linear_cross_entropy_ignores_ignore_index_targets():
    x, w = _rng_array((2, 3)), _rng_array((4, 3), 1)
    e, t = (lib.nn.functional.linear_cross_entropy(
        lib.tensor(x), lib.tensor(w), lib.tensor([1, -100]), options=OPTIONS)
        for lib in (ember, torch))
    assert_same(e, t)


@pytest.mark.parametrize("target,kwargs", [
    ([3, 0, 1, 3, 3, 3, 2, 1], {}),
    ([3, 0, 1, 7], {}),
    ([-100, -100, 1, 2], {}),
    ([3, 0, 1, -5], {"ignore_index": 1}),
    ([3, 0, 1, 2], {"weight": np.array([0.5, 1.0, 2.0, 3.0], np.float32)}),
    ([3, 0, 1, 7], {"weight": np.array([0.5, 1.0, 2.0, 3.0], np.float32)}),
    ([3, 7], {"weight": np.array([0.5, 1.0, 2.0, 3.0], np.float32)}),
])
def test_chunked_linear_cross_entropy_of_a_target_longer_than_the_batch(target, kwargs):
    """NOTE [linear_cross_entropy's chunked kernel]: the rows read only the batch's targets,
    the mean divides by the whole target's weight (PyTorch checks no batch size there), and
    the class weights are picked for the whole target first."""
    x, w = _rng_array((2, 3)), _rng_array((4, 3), 1)

    def call(lib, grad=False):
        kw = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        leaf = lib.tensor(x, requires_grad=grad)
        loss = lib.nn.functional.linear_cross_entropy(
            leaf, lib.tensor(w), lib.tensor(target), options=OPTIONS, **kw)
        return (loss, lib.autograd.grad(loss, leaf)[0]) if grad else loss

    try:
        expected = call(torch, grad=True)
    except IndexError:
        assert_same_error(call, exact_type=True, same_message=True)
        return
    for e, t in zip(call(ember, grad=True), expected):
        assert_same(e, t, rtol=1e-5, atol=1e-6)


def test_softmax_backward_data_checks_the_sizes():
    assert_same_error(lambda lib: lib._softmax_backward_data(
        lib.ones(5, 5), lib.ones(1), 1, lib.float32), exact_type=True, same_message=True)


# kl_div is PyTorch's xlogy(t, t) - t·x: 0 at a zero target, NaN for a negative one, a subnormal
# target as it is, and xlogy's gradients (NaN at a zero target)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean"])
def test_kl_div_of_zero_negative_and_tiny_targets(dtype, reduction):
    values = {"input": [0.5, 0.5, 0.5, 0.2], "target": [-2.0, 0.0, 3.0, 1e-40]}

    def run(lib):
        x, t = (lib.tensor(v, dtype=getattr(lib, dtype), requires_grad=True)
                for v in values.values())
        loss = lib.nn.functional.kl_div(x, t, reduction=reduction)
        loss.sum().backward()
        return loss, x.grad, t.grad

    for e, t in zip(run(ember), run(torch)):
        assert_same(e, t)
