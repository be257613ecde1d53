"""Tensor printing: the same arrays printed by ember and by PyTorch must give the same text."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import both

_SHAPES = [(), (1,), (5,), (3, 4), (2, 3, 4), (2, 2, 3, 4), (30,), (12, 12), (1001,), (40, 40),
           (3, 20, 20), (2, 3, 10, 20), (1, 1, 1, 7)]
_SCALES = [1e-6, 1e-3, 0.5, 1, 10, 1e4, 1e9]


def _random_cases():
    rng = np.random.default_rng(0)
    cases = []
    for shape in _SHAPES:
        for scale in _SCALES:
            array = np.asarray(rng.standard_normal(shape) * scale)
            cases.append(pytest.param(array.astype(np.float32), id=f"f32-{shape}-{scale:g}"))
        cases.append(pytest.param(np.asarray(rng.standard_normal(shape)),
                                  id=f"f64-{shape}"))
        whole = np.asarray(np.round(rng.standard_normal(shape) * 50))
        cases.append(pytest.param(whole.astype(np.float32), id=f"whole-{shape}"))
        cases.append(pytest.param(whole.astype(np.int64), id=f"i64-{shape}"))
    return cases


_SPECIAL = {
    "nan-inf-zeros": np.array([np.nan, 1.0, -np.inf, 0.0, -0.0], np.float32),
    "neg-zero": np.array([-0.0, 1.0], np.float32),
    "all-zero": np.zeros((2, 3), np.float32),
    "only-nan": np.array([np.nan], np.float32),
    "only-inf": np.array([np.inf, -np.inf], np.float32),
    "inf-fraction": np.array([np.inf, 1.5], np.float32),
    "wide-range": np.array([1e-5, 1.0, 1000.5], np.float32),
    "ratio-1000": np.array([1.0, 1000.0], np.float32),
    "ratio-1001": np.array([1.0, 1001.0], np.float32),
    "big-int-float": np.array([123456789.0, 1.0]),
    "above-1e8": np.array([2e8, 3e8]),
    "below-1e-4": np.array([5e-5, 6e-5], np.float32),
    "f16": np.array([1e-3, 1.5, 1000.5], np.float16),
    "f64-whole": np.array([1.0, 2.0, 3.0]),
    "bool": np.array([True, False, True]),
    "bool-2d": np.array([[True, False], [False, True]]),
    "bool-0d": np.array(True),
    "i64-big": np.arange(2000).reshape(40, 50),
    "i32": np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 10,
    "i16": np.array([-300, 2, 7], np.int16),
    "i8": np.array([-128, 5, 127], np.int8),
    "u8": np.array([0, 17, 255], np.uint8),
    "f32-0d": np.array(2.5, np.float32),
    "f32-0d-neg-zero": np.array(-0.0, np.float32),
    "f32-0d-nan": np.array(np.nan, np.float32),
    "i64-0d": np.array(3),
    "f64-0d": np.array(1e-7),
    "empty-1d": np.zeros((0,), np.float32),
    "empty-2d": np.zeros((0, 3), np.float32),
    "empty-3d-f64": np.zeros((2, 0, 3)),
    "empty-i64": np.zeros((0,), np.int64),
    "empty-bool": np.zeros((0, 2), bool),
    "long-row": np.linspace(-1, 1, 41).astype(np.float32),
    "long-row-sci": np.logspace(-6, 3, 41).astype(np.float32),
    "long-int-row": np.arange(100) * 12345,
    "summarised-4d": np.arange(5000, dtype=np.float32).reshape(10, 10, 5, 10) / 7,
}


@pytest.fixture(autouse=True)
def _restore_printoptions():
    yield
    ember.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


@pytest.mark.parametrize("array", _random_cases())
def test_repr_random(array):
    e, t = both(array)
    assert repr(e) == repr(t)
    assert str(e) == str(t)


@pytest.mark.parametrize("name", sorted(_SPECIAL))
def test_repr_special(name):
    e, t = both(_SPECIAL[name])
    assert repr(e) == repr(t)


_OPTIONS = [
    {"precision": 2},
    {"precision": 8},
    {"threshold": 5},
    {"threshold": 5, "edgeitems": 1},
    {"threshold": 5, "edgeitems": 0},
    {"linewidth": 40},
    {"linewidth": 200},
    {"sci_mode": True},
    {"sci_mode": False},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "short", "precision": 6},
]


@pytest.mark.parametrize("options", _OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in
                                                                       o.items()))
@pytest.mark.parametrize("name", ["wide-range", "i64-big", "long-row", "summarised-4d",
                                  "nan-inf-zeros", "f64-whole"])
def test_set_printoptions(options, name):
    ember.set_printoptions(**options)
    torch.set_printoptions(**options)
    e, t = both(_SPECIAL[name])
    assert repr(e) == repr(t)


def test_profile_full_prints_everything():
    ember.set_printoptions(profile="full")
    assert "..." not in repr(ember.arange(5000))
    ember.set_printoptions(profile="default")
    assert "..." in repr(ember.arange(5000))


def test_sci_mode_is_reset_by_a_call_without_it():
    ember.set_printoptions(sci_mode=True)
    ember.set_printoptions(precision=4)
    assert repr(ember.tensor([1.5, 2.5])) == "tensor([1.5000, 2.5000])"


def _graph_tensors(lib, array):
    x = lib.from_numpy(array.copy()).requires_grad_()
    return [x, x * 2, x + 1, x / 3, -x, lib.exp(x), x.sigmoid(), x.to(lib.float64)]


@pytest.mark.parametrize("shape", [(), (3,), (7,), (2, 9), (12,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_autograd_suffixes(shape, dtype):
    array = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    for e, t in zip(_graph_tensors(ember, array), _graph_tensors(torch, array)):
        assert repr(e) == repr(t)


def test_custom_function_grad_fn_name():
    class Twice(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, gy):
            return gy * 2

    y = Twice.apply(ember.ones(2, requires_grad=True))
    assert repr(y) == "tensor([2., 2.], grad_fn=<TwiceBackward>)"


@pytest.mark.parametrize("name", ["f64-whole", "wide-range", "empty-1d", "empty-3d-f64",
                                  "f32-0d", "i64-0d"])
def test_default_dtype_float64(name):
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        e, t = both(_SPECIAL[name])
        assert repr(e) == repr(t)
    finally:
        ember.set_default_dtype(ember.float32)
        torch.set_default_dtype(torch.float32)


def test_format_of_zero_dim_tensor():
    assert f"{ember.tensor(2.5):.2f}" == f"{torch.tensor(2.5):.2f}"
    assert f"{ember.tensor([1.0, 2.0])}" == f"{torch.tensor([1.0, 2.0])}"


def test_printoptions_context_manager_restores_the_options():
    """torch._tensor_str.printoptions(...) sets options for a `with` block only."""
    texts = []
    for lib in (ember, torch):
        x = lib.tensor([1.123456, 2.5, 1e-3])
        with lib._tensor_str.printoptions(precision=1, sci_mode=True):
            inside = repr(x)
        texts.append((inside, repr(x), lib._tensor_str.get_printoptions()))
    assert texts[0] == texts[1]


def test_view_taken_under_no_grad_prints_requires_grad():
    """`with no_grad(): print(weight[0])` shows requires_grad=True, as in torch (NOTE
    [No-grad views]); an op's result under no_grad does not."""
    texts = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        weight = lib.nn.Linear(3, 2).weight
        with lib.no_grad():
            texts.append([repr(weight[0]), repr(weight.t()), repr(weight * 1), repr(weight.view(6)),
                          repr(weight.detach()[0])])
    assert texts[0] == texts[1]
