"""interpolate / upsample / pixel_shuffle and their layers (ember/ops/padding.py) vs torch.

Every mode (nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area) with size or
scale_factor, align_corners both ways: values, float32 kept, gradients, finite differences;
then PyTorch's errors and the layers' reprs.
"""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from ember import nn
from tests.differential import assert_same, assert_same_error

RNG = np.random.default_rng(3)


def check_against_torch(call, shape, dtype, tol):
    array = RNG.standard_normal(shape).astype(dtype)
    xe, xt = ember.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)
    ye, yt = call(EF, xe), call(TF, xt)
    assert_same(ye, yt, tol, tol)
    g = RNG.standard_normal(tuple(yt.shape)).astype(dtype)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    assert_same(xe.grad, xt.grad, tol, tol)


SHAPES = {1: (2, 3, 5), 2: (2, 3, 4, 5), 3: (1, 2, 3, 4, 5)}
SIZES = {1: 7, 2: (7, 3), 3: (2, 7, 3)}
MODES = [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 2), ("area", 2),
         ("linear", 1), ("bilinear", 2), ("trilinear", 3), ("bicubic", 2)]
RESIZES = [{"scale_factor": 2}, {"scale_factor": 1.7}, {"scale_factor": 0.6}, "size",
           {"scale_factor": 1.5, "recompute_scale_factor": True}]


def _cases():
    for mode, nd in MODES:
        for resize in RESIZES:
            kwargs = {"size": SIZES[nd]} if resize == "size" else dict(resize)
            corners = (False, True) if mode in ("linear", "bilinear", "trilinear", "bicubic") \
                else (None,)
            for align in corners:
                extra = {} if align is None else {"align_corners": align}
                yield pytest.param(mode, nd, {**kwargs, **extra},
                                   id=f"{mode}-{nd}d-{kwargs}-{align}")


@pytest.mark.parametrize("mode, nd, kwargs", list(_cases()))
@pytest.mark.parametrize("dtype, tol", [(np.float32, 2e-5), (np.float64, 1e-10)])
def test_interpolate_matches_torch(mode, nd, kwargs, dtype, tol):
    check_against_torch(lambda F, x: F.interpolate(x, mode=mode, **kwargs), SHAPES[nd], dtype,
                        tol)


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic", "area"])
def test_gradcheck(mode):
    x = ember.tensor(RNG.standard_normal((1, 2, 3, 4)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: EF.interpolate(t, size=(4, 6), mode=mode), [x])


def test_nearest_index_rule_is_floor_of_dst_times_scale():
    x = ember.arange(5.0).reshape(1, 1, 5)
    assert EF.interpolate(x, size=8).tolist() == [[[0.0, 0, 1, 1, 2, 3, 3, 4]]]
    assert EF.interpolate(x, size=3).tolist() == [[[0.0, 1, 3]]]


ERRORS = {
    "align_nearest": lambda F, lib: F.interpolate(lib.ones(1, 4, 5, 5), scale_factor=2,
                                                  align_corners=True),
    "no_size": lambda F, lib: F.interpolate(lib.ones(1, 4, 5, 5)),
    "both": lambda F, lib: F.interpolate(lib.ones(1, 4, 5, 5), size=3, scale_factor=2),
    "bad_mode": lambda F, lib: F.interpolate(lib.ones(1, 4, 5, 5), size=3, mode="foo"),
    "bilinear_3d": lambda F, lib: F.interpolate(lib.ones(1, 4, 5), scale_factor=2,
                                                mode="bilinear"),
    "shuffle_channels": lambda F, lib: F.pixel_shuffle(lib.ones(1, 5, 5, 5), 2),
    "unshuffle_width": lambda F, lib: F.pixel_unshuffle(lib.ones(1, 1, 4, 5), 2),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_match_torch(case):
    assert_same_error((lambda: ERRORS[case](EF, ember), lambda: ERRORS[case](TF, torch)),
                      same_message=True)


@pytest.mark.parametrize("call, shape", [
    (lambda F, x: F.pixel_shuffle(x, 2), (2, 8, 3, 4)),
    (lambda F, x: F.pixel_shuffle(x, 3), (18, 3, 4)),
    (lambda F, x: F.pixel_unshuffle(x, 2), (2, 2, 6, 4)),
    (lambda F, x: F.pixel_unshuffle(x, 3), (1, 2, 1, 3, 6)),
])
def test_pixel_shuffle_matches_torch(call, shape):
    check_against_torch(call, shape, np.float32, 0)


def test_upsample_is_deprecated_interpolate():
    x = RNG.standard_normal((1, 2, 3, 3)).astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = EF.upsample(ember.tensor(x), scale_factor=2, mode="bilinear")
    assert any("deprecated" in str(w.message) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(y, TF.upsample(torch.tensor(x), scale_factor=2, mode="bilinear"), 1e-6, 1e-6)


LAYERS = [
    ("Upsample", (), {"scale_factor": 2}),
    ("Upsample", (), {"size": (3, 4), "mode": "bilinear", "align_corners": True}),
    ("Upsample", (), {"scale_factor": (2, 1.5), "mode": "bicubic"}),
    ("UpsamplingNearest2d", (), {"scale_factor": 2}),
    ("UpsamplingBilinear2d", (), {"size": 5}),
    ("PixelShuffle", (2,), {}),
    ("PixelUnshuffle", (2,), {}),
]


@pytest.mark.parametrize("name, args, kwargs", LAYERS)
def test_layers_repr_and_forward(name, args, kwargs):
    em, tm = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(em) == repr(tm)
    x = RNG.standard_normal((2, 4, 4, 6)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(em(ember.tensor(x)), tm(torch.tensor(x)), 2e-5, 2e-5)


@pytest.mark.parametrize("mode, nd, kwargs", list(_cases()))
def test_grad_fn_names_match_torch(mode, nd, kwargs):
    array = RNG.standard_normal(SHAPES[nd])
    ye = EF.interpolate(ember.tensor(array, requires_grad=True), mode=mode, **kwargs)
    yt = TF.interpolate(torch.tensor(array, requires_grad=True), mode=mode, **kwargs)
    assert ye.grad_fn.name() == yt.grad_fn.name()
