"""F.interpolate against torch: every mode × rank × (size | scale_factor | recompute) ×
align_corners × antialias, float32 and float64, values and input gradients; node names;
float16/bfloat16 results; finite differences; the deprecated upsample functions; torch's errors."""

import itertools
import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import (assert_same, assert_same_16_bit, assert_same_error, check_fn,
                                gradcheck64)

# input shape per rank (N, C, *spatial): odd, unequal spatial sizes catch index mix-ups
SHAPES = {1: (2, 3, 7), 2: (2, 2, 5, 7), 3: (1, 2, 4, 5, 3)}
# the ways to ask for an output size
RESIZES = [
    {"size": 11},                                    # up, by size
    {"size": 3},                                     # down, by size
    {"scale_factor": 2.3},                           # up, by a non-integer factor
    {"scale_factor": 0.6},                           # down, by a factor
    {"scale_factor": 2},                             # exact doubling
    {"scale_factor": 1.7, "recompute_scale_factor": True},
    {"scale_factor": 0.45, "recompute_scale_factor": False},
    {"size": "same"},                                # no resize at all
]
# (mode, ranks, align_corners values, antialias values)
MODES = [
    ("nearest", (1, 2, 3), (None,), (False,)),
    ("nearest-exact", (1, 2, 3), (None,), (False,)),
    ("area", (1, 2, 3), (None,), (False,)),
    ("linear", (1,), (False, True), (False,)),
    ("bilinear", (2,), (False, True), (False, True)),
    ("bicubic", (2,), (False, True), (False, True)),
    ("trilinear", (3,), (False, True), (False,)),
    ("lanczos", (2,), (False,), (True,)),
]


def _cases():
    for mode, ranks, corners, aliases in MODES:
        for nd, resize, ac, aa in itertools.product(ranks, range(len(RESIZES)), corners, aliases):
            yield pytest.param(mode, nd, resize, ac, aa,
                               id=f"{mode}-{nd}d-r{resize}-ac{ac}-aa{aa}")


def _kwargs(nd, resize, mode, align_corners, antialias):
    kw = dict(RESIZES[resize])
    if kw.get("size") == "same":
        kw["size"] = SHAPES[nd][2:]
    elif "scale_factor" in kw and nd > 1 and resize == 6:  # a per-dim tuple of factors
        kw["scale_factor"] = tuple(0.45 + 0.3 * i for i in range(nd))
    kw["mode"] = mode
    if align_corners is not None:
        kw["align_corners"] = align_corners
    if antialias:
        kw["antialias"] = True
    return kw


def _input(nd, dtype, seed=0):
    return np.random.default_rng(seed).normal(size=SHAPES[nd]).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode,nd,resize,align_corners,antialias", list(_cases()))
def test_interpolate_matches_torch(mode, nd, resize, align_corners, antialias, dtype):
    kw = _kwargs(nd, resize, mode, align_corners, antialias)
    tol = 1e-5 if dtype == "float32" else 1e-11
    t_out, e_out = check_fn(lambda x: torch.nn.functional.interpolate(x, **kw),
                            lambda x: ember.nn.functional.interpolate(x, **kw),
                            _input(nd, dtype), rtol=tol, atol=tol)
    assert type(e_out.grad_fn).__name__ == type(t_out.grad_fn).__name__


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("mode,nd,resize,align_corners,antialias", [
    c for c in _cases() if c.values[2] in (0, 2, 3)])
def test_interpolate_16_bit_matches_torch(mode, nd, resize, align_corners, antialias, dtype):
    kw = _kwargs(nd, resize, mode, align_corners, antialias)
    x = _input(nd, "float32") * 3
    assert_same_16_bit(
        lambda: ember.nn.functional.interpolate(ember.tensor(x).to(getattr(ember, dtype)), **kw),
        lambda: torch.nn.functional.interpolate(torch.tensor(x).to(getattr(torch, dtype)), **kw))


@pytest.mark.parametrize("mode,align_corners,antialias", [
    ("linear", False, False), ("bilinear", True, False), ("bicubic", False, False),
    ("bilinear", False, True), ("bicubic", True, True), ("trilinear", False, False),
    ("area", None, False), ("nearest", None, False)])
def test_interpolate_gradcheck(mode, align_corners, antialias):
    nd = {"linear": 1, "trilinear": 3}.get(mode, 2)
    kw = _kwargs(nd, 3 if antialias else 2, mode, align_corners, antialias)
    assert gradcheck64(lambda x: ember.nn.functional.interpolate(x, **kw), _input(nd, "float64"))


@pytest.mark.parametrize("name,kwargs", [
    ("upsample", {"scale_factor": 2, "mode": "bilinear", "align_corners": False}),
    ("upsample", {"size": 9}),
    ("upsample_nearest", {"scale_factor": 3}),
    ("upsample_bilinear", {"size": (4, 9)}),
])
def test_deprecated_upsample_functions_match_torch(name, kwargs):
    x = _input(2, "float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_fn(lambda t: getattr(torch.nn.functional, name)(t, **kwargs),
                 lambda t: getattr(ember.nn.functional, name)(t, **kwargs), x)
    with pytest.warns(UserWarning, match="deprecated"):
        getattr(ember.nn.functional, name)(ember.tensor(x), **kwargs)


def _call(shape, **kwargs):
    return lambda lib: lib.nn.functional.interpolate(lib.zeros(shape), **kwargs)


@pytest.mark.parametrize("call", [
    _call((1, 1, 4), size=2, scale_factor=2.0),
    _call((1, 1, 4)),
    _call((1, 1, 4), size=2, mode="nearest", align_corners=True),
    _call((1, 1, 4), size=(2, 2)),
    _call((1, 1, 4, 4), scale_factor=(2.0,)),
    _call((1, 1, 4), size=[2.5]),
    _call((1, 1, 4), size=2, recompute_scale_factor=True),
    _call((1, 1, 4), size=2, mode="bilinear"),
    _call((1, 1, 4, 4), size=2, mode="linear"),
    _call((1, 1, 4, 4), size=2, mode="trilinear"),
    _call((1, 1, 4, 4, 4), size=2, mode="bicubic"),
    _call((1, 1, 4), size=2, mode="cubic"),
    _call((1, 4), size=2),
    _call((1, 1, 4), size=2, mode="linear", antialias=True),
    _call((1, 1, 4, 4), size=2, mode="lanczos"),
    _call((1, 1, 4, 4), size=2, mode="lanczos", antialias=True, align_corners=True),
    _call((1, 1, 5, 7), size=(0, 3)),
    _call((1, 1, 5), scale_factor=0.1, mode="linear"),
    _call((1, 1, 4, 5, 7), size=(2, 0, 2), mode="trilinear"),
    _call((1, 1, 5, 7), scale_factor=-2.0, mode="bilinear"),
    _call((1, 0, 5, 7), size=3, mode="bicubic"),
    _call((1, 0, 5), size=3),
    _call((1, 0, 5, 7), size=3, mode="bilinear", antialias=True),
    lambda lib: lib.nn.functional.interpolate(lib.zeros(1, 1, 4, dtype=lib.int64), size=2,
                                              mode="linear"),
    lambda lib: lib.nn.functional.interpolate(lib.zeros(1, 1, 4, 4, dtype=lib.float16), size=2,
                                              mode="bilinear", antialias=True),
])
def test_interpolate_errors_match_torch(call):
    assert_same_error(call)


@pytest.mark.parametrize("shape,kwargs", [
    ((0, 1, 5, 7), {"size": 3, "mode": "bilinear"}),
    ((0, 1, 5, 7), {"size": 3, "mode": "bicubic", "antialias": True}),
    ((0, 2, 5), {"size": 3}),
    ((1, 0, 5, 7), {"size": (2, 0), "mode": "area"}),
])
def test_interpolate_empty_inputs_match_torch(shape, kwargs):
    ours = ember.nn.functional.interpolate(ember.zeros(shape), **kwargs)
    theirs = torch.nn.functional.interpolate(torch.zeros(shape), **kwargs)
    assert tuple(ours.shape) == tuple(theirs.shape)


def test_nearest_keeps_integer_dtypes():
    x = np.arange(24, dtype=np.uint8).reshape(1, 2, 3, 4)
    for mode in ("nearest", "nearest-exact"):
        ours = ember.nn.functional.interpolate(ember.tensor(x), scale_factor=1.5, mode=mode)
        theirs = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=1.5, mode=mode)
        assert ours.dtype == ember.uint8
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("channels", [3, 6])
@pytest.mark.parametrize("mode,antialias", [("bilinear", False), ("bilinear", True),
                                            ("bicubic", False), ("bicubic", True)])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("shape,kwargs", [
    ((10, 20), {"size": (5, 7)}), ((10, 20), {"size": (17, 41)}),
    ((9, 11), {"scale_factor": 2.3}), ((9, 11), {"scale_factor": (0.6, 1.0)}),
    ((12, 13), {"scale_factor": 0.3}),
])
def test_uint8_images_match_torch_exactly(shape, kwargs, align_corners, mode, antialias,
                                          channels):
    """PyTorch's integer kernels: fixed-point weights, the width resampled first, each pass
    rounded and clamped to [0, 255]."""
    x = np.random.default_rng(5).integers(0, 256, size=(2, channels) + shape, dtype=np.uint8)
    kw = dict(kwargs, mode=mode, antialias=antialias, align_corners=align_corners)
    ours = ember.nn.functional.interpolate(ember.tensor(x), **kw)
    theirs = torch.nn.functional.interpolate(torch.tensor(x), **kw)
    assert ours.dtype == ember.uint8
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# issue #19's fuzz: an inf or NaN reaches only the outputs whose two taps hold it (even with
# weight 0, where inf·0 is NaN), with PyTorch's taps: the source index FMA-fused, floored in
# float32, λ clamped to [0, 1], and i1 = i0 on a dim whose size is kept
NON_FINITE = [
    ("linear", (1, 1, 3), {"size": 3}, False), ("linear", (1, 1, 3), {"size": 5}, False),
    ("linear", (1, 1, 1), {"size": 3}, False), ("linear", (1, 1, 2), {"size": 6}, False),
    ("linear", (2, 2, 4), {"scale_factor": 1.7}, True),
    ("linear", (1, 2, 4), {"scale_factor": 0.45, "recompute_scale_factor": False}, False),
    ("bilinear", (1, 2, 3, 2), {"size": (4, 6)}, False),
    ("bilinear", (1, 1, 2, 3), {"size": (2, 5)}, True),
    ("trilinear", (1, 1, 2, 3, 1), {"size": (6, 2, 3)}, False),
]


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize("mode,shape,kwargs,align_corners", NON_FINITE)
def test_non_finite_inputs_stay_in_their_taps(mode, shape, kwargs, align_corners, dtype):
    x = np.random.default_rng(3).standard_normal(shape)
    flat = x.reshape(-1)
    flat[0], flat[-1] = np.inf, -np.inf
    flat[len(flat) // 2] = np.nan if len(flat) > 2 else flat[len(flat) // 2]

    def run(lib):
        t = lib.tensor(x).to(getattr(lib, dtype))
        return lib.nn.functional.interpolate(t, mode=mode, align_corners=align_corners,
                                             **kwargs)
    if dtype == "bfloat16":
        assert_same_16_bit(lambda: run(ember), lambda: run(torch))
    else:
        assert_same(run(ember), run(torch))


def test_non_finite_input_gradient_and_node_name():
    """The taps' forward keeps the matrices' backward and torch's node name."""
    x = np.array([[[0.0, 0.8, -np.inf, 2.0]]])
    e = ember.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    ye = ember.nn.functional.interpolate(e, size=7, mode="linear")
    yt = torch.nn.functional.interpolate(t, size=7, mode="linear")
    assert ye.grad_fn.name() == yt.grad_fn.name()
    ye.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-12)
