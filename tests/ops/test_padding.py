"""Padding and resampling, ember/ops/padding.py (F.pad, F.interpolate / upsample,
F.pixel_shuffle / pixel_unshuffle), against torch.

F.pad: every mode (constant with negative pads, reflect, replicate, circular) over 1, 2 and 3
padded dims: values, dtypes, gradients (float64 and float32), finite differences, second
derivatives. F.interpolate: every mode (nearest, nearest-exact, linear, bilinear, bicubic,
trilinear, area) with size or scale_factor, align_corners both ways: values, float32 kept,
gradients, finite differences. Then pixel_shuffle, PyTorch's errors and the grad_fn names. The
layers are tested in tests/nn/modules/test_padding.py, test_upsampling.py, test_pixelshuffle.py.
"""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from tests.differential import assert_same
from tests.ops import _nn_tables as tables

RNG = np.random.default_rng(2)


def check_against_torch(call, shape, dtype, tol):
    tables.check_against_torch(RNG, call, [RNG.standard_normal(shape).astype(dtype)], tol)


# ---- pad: (input shape, pad, mode, value) ------------------------------------------------------
PADS = [
    ((2, 3, 4, 5), (1, 2), "constant", None),
    ((2, 3, 4, 5), (1, 2, -1, 3), "constant", 2.5),
    ((2, 3, 4, 5), (0, 0, 2, 1, 1, 0, 1, 1), "constant", None),
    ((4,), (2, 3), "constant", -1.0),
    ((3, 5), (-2, -1), "constant", None),
    ((2, 3, 5), (4, 3), "reflect", None),
    ((3, 5), (2, 1), "reflect", None),
    ((2, 3, 4, 5), (1, 2, 3, 2), "reflect", None),
    ((3, 4, 5), (1, 0, 0, 3), "reflect", None),
    ((2, 3, 4, 5, 3), (1, 2, 3, 2, 1, 2), "reflect", None),
    ((2, 3, 5), (4, 6), "replicate", None),
    ((2, 3, 4, 5), (1, 2, 3, 2), "replicate", None),
    ((3, 4, 5, 3), (2, 1, 1, 0, 0, 2), "replicate", None),
    ((2, 3, 5), (5, 2), "circular", None),
    ((2, 3, 4, 5), (1, 2, 3, 4), "circular", None),
    ((2, 2, 3, 4, 5), (1, 2, 3, 2, 1, 2), "circular", None),
    # circular with negative pads: PyTorch crops first, then wraps around what is left
    ((2, 3, 6), (-1, 2), "circular", None),
    ((2, 3, 6), (2, -1), "circular", None),
    ((2, 3, 6), (-2, -1), "circular", None),
    ((2, 3, 4, 5), (3, -2, -1, 1), "circular", None),
]


def _pad_call(pad, mode, value):
    kwargs = {} if value is None else {"value": value}
    return lambda F, x: F.pad(x, pad, mode, **kwargs)


@pytest.mark.parametrize("shape, pad, mode, value", PADS)
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-6)])
def test_pad_matches_torch(shape, pad, mode, value, dtype, tol):
    check_against_torch(_pad_call(pad, mode, value), shape, dtype, tol)


@pytest.mark.parametrize("shape, pad, mode, value", PADS[1:3] + PADS[7:8] + PADS[11:12] +
                         PADS[14:15])
def test_pad_gradcheck_and_double_backward(shape, pad, mode, value):
    x = ember.tensor(RNG.standard_normal(shape), requires_grad=True)
    kwargs = {} if value is None else {"value": value}
    assert ember.autograd.gradcheck(lambda t: EF.pad(t, pad, mode, **kwargs), [x])
    array = RNG.standard_normal(shape)
    results = []
    for lib, F in ((ember, EF), (torch, TF)):
        t = lib.tensor(array, requires_grad=True)
        (g,) = lib.autograd.grad((F.pad(t, pad, mode, **kwargs) ** 3).sum(), [t],
                                 create_graph=True)
        results.append(lib.autograd.grad(g.sum(), [t])[0])
    assert_same(results[0], results[1], 1e-10, 1e-10)


def test_integer_constant_pad():
    x = np.arange(6).reshape(2, 3)
    assert EF.pad(ember.tensor(x), (1, 1), value=7).tolist() == \
        TF.pad(torch.tensor(x), (1, 1), value=7).tolist()


@pytest.mark.parametrize("shape, pad, mode, value", [c for c in PADS if c[2] != "circular"])
def test_pad_grad_fn_names_match_torch(shape, pad, mode, value):
    kwargs = {} if value is None else {"value": value}
    array = RNG.standard_normal(shape)
    ye = EF.pad(ember.tensor(array, requires_grad=True), pad, mode, **kwargs)
    yt = TF.pad(torch.tensor(array, requires_grad=True), pad, mode, **kwargs)
    assert ye.grad_fn.name() == yt.grad_fn.name()


# ---- interpolate -------------------------------------------------------------------------------
SHAPES = {1: (2, 3, 5), 2: (2, 3, 4, 5), 3: (1, 2, 3, 4, 5)}
SIZES = {1: 7, 2: (7, 3), 3: (2, 7, 3)}
MODES = [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 2), ("area", 2),
         ("linear", 1), ("bilinear", 2), ("trilinear", 3), ("bicubic", 2)]
RESIZES = [{"scale_factor": 2}, {"scale_factor": 1.7}, {"scale_factor": 0.6}, "size",
           {"scale_factor": 1.5, "recompute_scale_factor": True}]


def _interpolations():
    for mode, nd in MODES:
        for resize in RESIZES:
            kwargs = {"size": SIZES[nd]} if resize == "size" else dict(resize)
            corners = (False, True) if mode in ("linear", "bilinear", "trilinear", "bicubic") \
                else (None,)
            for align in corners:
                extra = {} if align is None else {"align_corners": align}
                yield pytest.param(mode, nd, {**kwargs, **extra},
                                   id=f"{mode}-{nd}d-{kwargs}-{align}")


@pytest.mark.parametrize("mode, nd, kwargs", list(_interpolations()))
@pytest.mark.parametrize("dtype, tol", [(np.float32, 2e-5), (np.float64, 1e-10)])
def test_interpolate_matches_torch(mode, nd, kwargs, dtype, tol):
    check_against_torch(lambda F, x: F.interpolate(x, mode=mode, **kwargs), SHAPES[nd], dtype,
                        tol)


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic", "area"])
def test_interpolate_gradcheck(mode):
    x = ember.tensor(RNG.standard_normal((1, 2, 3, 4)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: EF.interpolate(t, size=(4, 6), mode=mode), [x])


def test_nearest_index_rule_is_floor_of_dst_times_scale():
    x = ember.arange(5.0).reshape(1, 1, 5)
    assert EF.interpolate(x, size=8).tolist() == [[[0.0, 0, 1, 1, 2, 3, 3, 4]]]
    assert EF.interpolate(x, size=3).tolist() == [[[0.0, 1, 3]]]


def test_upsample_is_deprecated_interpolate():
    x = RNG.standard_normal((1, 2, 3, 3)).astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = EF.upsample(ember.tensor(x), scale_factor=2, mode="bilinear")
    assert any("deprecated" in str(w.message) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(y, TF.upsample(torch.tensor(x), scale_factor=2, mode="bilinear"), 1e-6, 1e-6)


@pytest.mark.parametrize("mode, nd, kwargs", list(_interpolations()))
def test_interpolate_grad_fn_names_match_torch(mode, nd, kwargs):
    array = RNG.standard_normal(SHAPES[nd])
    ye = EF.interpolate(ember.tensor(array, requires_grad=True), mode=mode, **kwargs)
    yt = TF.interpolate(torch.tensor(array, requires_grad=True), mode=mode, **kwargs)
    assert ye.grad_fn.name() == yt.grad_fn.name()


# ---- pixel_shuffle -----------------------------------------------------------------------------
@pytest.mark.parametrize("call, shape", [
    (lambda F, x: F.pixel_shuffle(x, 2), (2, 8, 3, 4)),
    (lambda F, x: F.pixel_shuffle(x, 3), (18, 3, 4)),
    (lambda F, x: F.pixel_unshuffle(x, 2), (2, 2, 6, 4)),
    (lambda F, x: F.pixel_unshuffle(x, 3), (1, 2, 1, 3, 6)),
])
def test_pixel_shuffle_matches_torch(call, shape):
    check_against_torch(call, shape, np.float32, 0)


# ---- errors ------------------------------------------------------------------------------------
ERRORS = {
    "pad_odd": lambda F, lib: F.pad(lib.ones(1, 4, 5), (1, 1, 1)),
    "pad_too_long": lambda F, lib: F.pad(lib.ones(4, 5), (1, 1, 1, 1, 1, 1)),
    "pad_too_long_reflect": lambda F, lib: F.pad(lib.ones(4, 5), (1, 1, 1, 1, 1, 1),
                                                 mode="reflect"),
    "pad_reflect_too_big": lambda F, lib: F.pad(lib.ones(1, 4, 5), (6, 6), mode="reflect"),
    "pad_reflect_1d_input": lambda F, lib: F.pad(lib.ones(4), (1, 1), mode="reflect"),
    "pad_reflect_4d_pad2": lambda F, lib: F.pad(lib.ones(1, 1, 4, 4), (1, 1), mode="reflect"),
    "pad_circular_wrap": lambda F, lib: F.pad(lib.ones(1, 2, 4), (5, 1), mode="circular"),
    "pad_bad_mode": lambda F, lib: F.pad(lib.ones(1, 2, 4), (1, 1), mode="zeros"),
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

test_errors_match_torch = tables.errors_match_torch(ERRORS)


# ---- torch.channel_shuffle -------------------------------------------------------------------
def _lib(F):
    return ember if F is EF else torch


@pytest.mark.parametrize("shape, groups", [((2, 6, 3), 3), ((1, 4, 2, 3), 2), ((2, 6, 1, 2, 2), 6)])
def test_channel_shuffle_matches_torch(shape, groups):
    check_against_torch(lambda F, x: _lib(F).channel_shuffle(x, groups), shape, np.float32, 0)
    x = ember.tensor(RNG.standard_normal(shape), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.channel_shuffle(t, groups), [x])
    native = ember.native_channel_shuffle(x, groups)
    assert native.tolist() == ember.channel_shuffle(x, groups).tolist()


test_channel_shuffle_errors = tables.errors_match_torch({
    "channel_shuffle_groups": lambda F, lib: lib.channel_shuffle(lib.ones(1, 6, 2), 4),
    "channel_shuffle_zero": lambda F, lib: lib.channel_shuffle(lib.ones(1, 6, 2), 0),
    "channel_shuffle_rank": lambda F, lib: lib.channel_shuffle(lib.ones(6, 2), 2),
})


@pytest.mark.parametrize("pad, value", [((1, -1), 2.0), ((1, 1, 0, 2), 0),
                                        ((0, 0, -1, 1, 2, 0), -3)])
def test_constant_pad_nd_is_fs_constant_pad(pad, value):
    check_against_torch(lambda F, x: _lib(F).constant_pad_nd(x, pad, value), (2, 3, 4),
                        np.float64, 1e-12)


@pytest.mark.parametrize("table", [
    [1, 0, 1, 2, 3, 4, 3, 2],  # reflect (1, 2)
    [0, 0, 0, 0, 1, 2, 3, 4, 4],  # replicate (3, 1)
    [3, 4, 0, 1, 2, 3, 4, 0, 1, 2],  # circular (2, 3)
    [0, 0, 1, 1, 2, 2, 3, 3, 4, 4],  # nearest, twice
    [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4],  # nearest, three times
    [0, 1, 1, 2, 4, 4, 3],  # neither
])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_gather_and_scatter_along_a_dim_shortcuts(table, axis):
    """TakeAlong / AddAlong's shortcuts for padding tables (a copy of the inside) and whole
    upsampling factors (repeat; sums of neighbours) give np.take's and np.add.at's bits,
    signed zeros included."""
    from ember.ops.padding import AddAlong, TakeAlong

    table = np.array(table)
    shape = [3, 4, 6]
    shape[axis] = 5
    x = RNG.standard_normal(shape).astype(np.float32)
    x.reshape(-1)[:9] = -0.0
    y = TakeAlong.apply(ember.tensor(x), table, axis).numpy()
    np.testing.assert_array_equal(y.view(np.uint32), np.take(x, table, axis=axis).view(np.uint32))
    g = RNG.standard_normal(y.shape).astype(np.float32)
    g.reshape(-1)[:20] = -0.0
    expected = np.zeros(x.shape, np.float32)
    np.add.at(np.moveaxis(expected, axis, 0), table, np.moveaxis(g, axis, 0))
    got = AddAlong.apply(ember.tensor(g), table, axis, 5).numpy()
    np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))
