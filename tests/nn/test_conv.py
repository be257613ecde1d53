"""Convolution (ember/ops/conv.py, ember/nn/modules/conv.py, fold.py) against torch.

A table of conv / conv_transpose / unfold / fold calls drives the generic tests: values, dtypes
and shapes, gradients of every input, float32 staying float32, float64 finite differences, and
second derivatives. Then the seed's exact 5x5 outputs, the errors, and the layers (repr, init,
padding modes, output_size).
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from ember import nn
from tests.differential import assert_same, assert_same_error

RNG = np.random.default_rng(0)


def _arrays(shapes, dtype=np.float64):
    return [None if s is None else RNG.standard_normal(s).astype(dtype) for s in shapes]


def _run(call, lib, arrays, requires_grad=True):
    tensors = []
    for a in arrays:
        if a is None:
            tensors.append(None)
            continue
        t = lib.tensor(a.copy(), requires_grad=requires_grad)
        tensors.append(t)
    return call(ember.nn.functional if lib is ember else TF, *tensors), tensors


def check_against_torch(call, shapes, dtype=np.float64, tol=1e-7):
    """Same inputs into ember and torch: compare the output, then every input's gradient."""
    arrays = _arrays(shapes, dtype)
    ye, te = _run(call, ember, arrays)
    yt, tt = _run(call, torch, arrays)
    assert_same(ye, yt, tol, tol)
    g = RNG.standard_normal(tuple(yt.shape)).astype(dtype)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    for e, t in zip(te, tt):
        if t is not None:
            assert_same(e.grad, t.grad, tol, tol)


# id -> (call(F, *tensors), shapes of x, weight, bias)
CASES = {
    "2d": (lambda F, x, w, b: F.conv2d(x, w, b), [(2, 3, 6, 5), (4, 3, 3, 3), (4,)]),
    "2d_stride_pad": (lambda F, x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
                      [(2, 3, 7, 6), (4, 3, 3, 3), (4,)]),
    "2d_asym": (lambda F, x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(0, 2),
                                            dilation=(1, 2)), [(2, 3, 7, 6), (4, 3, 3, 2), (4,)]),
    "2d_groups": (lambda F, x, w, b: F.conv2d(x, w, b, padding=1, groups=2),
                  [(2, 4, 5, 5), (6, 2, 3, 3), (6,)]),
    "2d_depthwise": (lambda F, x, w: F.conv2d(x, w, stride=2, groups=4),
                     [(2, 4, 6, 6), (8, 1, 3, 3)]),
    "2d_dilation": (lambda F, x, w, b: F.conv2d(x, w, b, dilation=2, padding=2),
                    [(1, 2, 7, 7), (3, 2, 3, 3), (3,)]),
    "2d_same_odd": (lambda F, x, w, b: F.conv2d(x, w, b, padding="same"),
                    [(2, 3, 5, 6), (4, 3, 3, 5), (4,)]),
    "2d_same_even": (lambda F, x, w: F.conv2d(x, w, padding="same", dilation=(1, 3)),
                     [(2, 3, 6, 7), (2, 3, 4, 2)]),
    "2d_valid": (lambda F, x, w: F.conv2d(x, w, padding="valid"), [(1, 2, 4, 4), (2, 2, 2, 2)]),
    "2d_unbatched": (lambda F, x, w, b: F.conv2d(x, w, b, padding=1), [(3, 5, 4), (2, 3, 3, 3),
                                                                       (2,)]),
    "2d_kernel_1x1": (lambda F, x, w: F.conv2d(x, w), [(2, 5, 3, 3), (7, 5, 1, 1)]),
    "2d_stride_gt_kernel": (lambda F, x, w: F.conv2d(x, w, stride=3), [(2, 2, 8, 7),
                                                                      (3, 2, 2, 2)]),
    "1d": (lambda F, x, w, b: F.conv1d(x, w, b, stride=2, padding=1), [(2, 3, 9), (4, 3, 3),
                                                                       (4,)]),
    "1d_groups_dil": (lambda F, x, w: F.conv1d(x, w, groups=3, dilation=2),
                      [(2, 6, 10), (3, 2, 3)]),
    "1d_unbatched_same": (lambda F, x, w: F.conv1d(x, w, padding="same"), [(3, 8), (2, 3, 4)]),
    "3d": (lambda F, x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=1),
           [(2, 2, 4, 5, 4), (3, 2, 3, 3, 2), (3,)]),
    "3d_groups": (lambda F, x, w: F.conv3d(x, w, groups=2, dilation=(1, 1, 2)),
                  [(1, 4, 3, 4, 5), (4, 2, 2, 2, 2)]),
    "t2d": (lambda F, x, w, b: F.conv_transpose2d(x, w, b), [(2, 3, 4, 5), (3, 4, 3, 3), (4,)]),
    "t2d_stride_outpad": (lambda F, x, w, b: F.conv_transpose2d(
        x, w, b, stride=2, padding=1, output_padding=1), [(2, 3, 4, 4), (3, 2, 3, 3), (2,)]),
    "t2d_asym_groups": (lambda F, x, w, b: F.conv_transpose2d(
        x, w, b, stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2,
        dilation=(2, 1)), [(2, 4, 5, 4), (4, 3, 3, 2), (6,)]),
    "t2d_dilation_outpad": (lambda F, x, w: F.conv_transpose2d(
        x, w, output_padding=1, dilation=2), [(1, 2, 3, 3), (2, 2, 2, 2)]),
    "t2d_unbatched": (lambda F, x, w: F.conv_transpose2d(x, w, stride=2), [(3, 3, 2),
                                                                          (3, 2, 2, 2)]),
    "t1d": (lambda F, x, w, b: F.conv_transpose1d(x, w, b, stride=3, padding=2,
                                                  output_padding=1),
            [(2, 4, 5), (4, 3, 4), (3,)]),
    "t3d": (lambda F, x, w, b: F.conv_transpose3d(x, w, b, stride=2, padding=1, groups=2),
            [(1, 4, 2, 3, 2), (4, 1, 3, 2, 3), (2,)]),
    "unfold": (lambda F, x: F.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
               [(2, 3, 6, 7)]),
    "unfold_unbatched": (lambda F, x: F.unfold(x, 2), [(2, 4, 3)]),
    "fold": (lambda F, x: F.fold(x, (5, 6), (2, 3), padding=1, stride=(2, 1)), [(2, 12, 18)]),
    "fold_overlap": (lambda F, x: F.fold(x, 4, 2, dilation=1), [(1, 8, 9)]),
}


@pytest.mark.parametrize("case", CASES)
def test_float64_values_and_grads(case):
    call, shapes = CASES[case]
    check_against_torch(call, shapes, np.float64, tol=1e-9)


@pytest.mark.parametrize("case", CASES)
def test_float32_stays_float32(case):
    call, shapes = CASES[case]
    check_against_torch(call, shapes, np.float32, tol=2e-4)


GRADCHECK = ["2d_stride_pad", "2d_asym", "2d_groups", "2d_same_even", "1d", "t2d_asym_groups",
             "t1d", "unfold", "fold"]


@pytest.mark.parametrize("case", GRADCHECK)
def test_gradcheck_float64(case):
    call, shapes = CASES[case]
    small = [None if s is None else tuple(min(d, 4) if i >= 2 else d for i, d in enumerate(s))
             for s in shapes]
    if case in ("fold", "unfold", "2d_same_even", "2d_asym", "1d", "t1d"):
        small = list(shapes)
    small[0] = (1,) + tuple(small[0][1:])  # one batch item keeps finite differences cheap
    inputs = [ember.tensor(a, requires_grad=True) for a in _arrays(small) if a is not None]
    assert ember.autograd.gradcheck(lambda *t: call(EF, *t), inputs)


@pytest.mark.parametrize("case", ["2d_stride_pad", "2d_groups", "t2d_stride_outpad", "1d",
                                  "t2d_asym_groups", "2d_same_even"])
def test_double_backward_matches_torch(case):
    """d/d(x, w) of <grad_x(conv), v> (conv's backward written with conv ops)."""
    call, shapes = CASES[case]
    arrays = _arrays(shapes)
    results = []
    for lib in (ember, torch):
        y, tensors = _run(call, lib, arrays)
        x, w = tensors[0], tensors[1]
        g = lib.tensor(np.linspace(-1, 1, int(np.prod(y.shape))).reshape(tuple(y.shape)))
        gx, gw = (lib.autograd.grad((y * g).sum(), [x, w], create_graph=True))
        v = lib.tensor(np.cos(np.arange(int(np.prod(gx.shape)))).reshape(tuple(gx.shape)))
        total = (gx * v).sum() + (gw * gw).sum()
        results.append(lib.autograd.grad(total, [x, w]))
    for e, t in zip(*results):
        assert_same(e, t, 1e-8, 1e-8)


def test_double_backward_grad_of_weight_grad_wrt_input():
    arrays = _arrays([(2, 3, 5, 5), (4, 3, 3, 3)])
    out = []
    for lib in (ember, torch):
        F = ember.nn.functional if lib is ember else TF
        x, w = (lib.tensor(a, requires_grad=True) for a in arrays)
        y = F.conv2d(x, w, stride=2, padding=1)
        (gw,) = lib.autograd.grad((y ** 2).sum(), [w], create_graph=True)
        out.append(lib.autograd.grad(gw.sum(), [x])[0])
    assert_same(out[0], out[1], 1e-8, 1e-8)


# ---- the seed's example (000): F.conv2d on an integer 5x5 input --------------------------------
SEED_INPUT = [[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1],
              [2, 1, 0, 1, 1]]
SEED_KERNEL = [[1, 2, 1], [0, 1, 0], [2, 1, 0]]


@pytest.mark.parametrize("kwargs, expected", [
    ({"stride": 1}, [[10, 12, 12], [18, 16, 16], [13, 9, 3]]),
    ({"stride": 2}, [[10, 12], [13, 3]]),
    ({"stride": 1, "padding": 1}, [[1, 3, 4, 10, 8], [5, 10, 12, 12, 6], [7, 18, 16, 16, 8],
                                   [11, 13, 9, 3, 4], [14, 13, 9, 7, 4]]),
])
def test_seed_conv2d_outputs(kwargs, expected):
    x = ember.reshape(ember.tensor(SEED_INPUT), (1, 1, 5, 5))
    k = ember.reshape(ember.tensor(SEED_KERNEL), (1, 1, 3, 3))
    y = EF.conv2d(x, k, **kwargs)
    assert y.dtype == ember.int64
    assert y.tolist() == [[expected]]
    printed = repr(TF.conv2d(torch.tensor(SEED_INPUT).reshape(1, 1, 5, 5),
                             torch.tensor(SEED_KERNEL).reshape(1, 1, 3, 3), **kwargs))
    assert repr(y) == printed


def test_seed_002_asymmetric_stride_padding():
    x = RNG.integers(0, 3, (1, 2, 5, 6)).astype(np.float32)
    w = RNG.integers(-1, 2, (3, 2, 3, 3)).astype(np.float32)
    ye = EF.conv2d(ember.tensor(x), ember.tensor(w), stride=3, padding=3)
    yt = TF.conv2d(torch.tensor(x), torch.tensor(w), stride=3, padding=3)
    assert ye.tolist() == yt.tolist()


# ---- errors ------------------------------------------------------------------------------------
ERRORS = {
    "rank": lambda F, lib: F.conv2d(lib.ones(5, 5), lib.ones(1, 1, 3, 3)),
    "rank1d": lambda F, lib: F.conv1d(lib.ones(1, 4, 5, 5), lib.ones(6, 4, 3)),
    "channels": lambda F, lib: F.conv2d(lib.ones(1, 4, 5, 5), lib.ones(16, 3, 3, 3)),
    "channels_groups": lambda F, lib: F.conv2d(lib.ones(1, 4, 5, 5), lib.ones(6, 2, 3, 3),
                                               groups=3),
    "kernel_too_big": lambda F, lib: F.conv2d(lib.ones(1, 3, 2, 2), lib.ones(16, 3, 3, 3)),
    "dtype": lambda F, lib: F.conv2d(lib.ones(1, 3, 5, 5), lib.ones(2, 3, 3, 3,
                                                                    dtype=lib.float64)),
    "bias_dtype": lambda F, lib: F.conv2d(lib.ones(1, 3, 5, 5), lib.ones(2, 3, 3, 3),
                                          lib.ones(2, dtype=lib.float64)),
    "same_strided": lambda F, lib: F.conv2d(lib.ones(1, 3, 5, 5), lib.ones(2, 3, 3, 3),
                                            stride=2, padding="same"),
    "negative_padding": lambda F, lib: F.conv2d(lib.ones(1, 3, 5, 5), lib.ones(2, 3, 3, 3),
                                                padding=-1),
    "zero_stride": lambda F, lib: F.conv2d(lib.ones(1, 3, 5, 5), lib.ones(2, 3, 3, 3),
                                           stride=0),
    "transposed_channels": lambda F, lib: F.conv_transpose2d(lib.ones(1, 4, 5, 5),
                                                             lib.ones(3, 2, 3, 3)),
    "output_padding": lambda F, lib: F.conv_transpose2d(lib.ones(1, 4, 5, 5),
                                                        lib.ones(4, 2, 3, 3), stride=2,
                                                        output_padding=2),
    "fold_blocks": lambda F, lib: F.fold(lib.ones(1, 12, 10), (5, 6), (2, 3)),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_match_torch(case):
    assert_same_error((lambda: ERRORS[case](EF, ember), lambda: ERRORS[case](TF, torch)),
                      same_message=True)


# ---- layers ------------------------------------------------------------------------------------
LAYERS = [
    ("Conv2d", (3, 16, 3), {"padding": 1, "bias": False}),
    ("Conv2d", (3, 6, 3), {"stride": 1, "padding": 0}),
    ("Conv2d", (4, 4, (3, 2)), {"stride": (2, 1), "dilation": 2, "groups": 2}),
    ("Conv2d", (3, 3, 3), {"padding": "same", "padding_mode": "reflect", "groups": 3}),
    ("Conv2d", (2, 4, 4), {"padding": "same", "padding_mode": "circular"}),
    ("Conv2d", (2, 4, 3), {"padding": (1, 2), "padding_mode": "replicate"}),
    ("Conv2d", (2, 2, 3), {"padding": "valid"}),
    ("Conv1d", (2, 4, 3), {"stride": 2, "padding_mode": "reflect", "padding": 1}),
    ("Conv3d", (2, 4, (1, 2, 3)), {"stride": 2}),
    ("ConvTranspose2d", (4, 2, 3), {"stride": 2, "output_padding": 1}),
    ("ConvTranspose2d", (4, 6, 3), {"groups": 2, "dilation": 2, "bias": False}),
    ("ConvTranspose1d", (4, 2, 3), {}),
    ("ConvTranspose3d", (2, 2, 2), {"stride": 2, "padding": 1}),
]


def _copy_params(e_module, t_module):
    for name, p in t_module.named_parameters():
        getattr(e_module, name)._data[...] = p.detach().numpy()


@pytest.mark.parametrize("name, args, kwargs", LAYERS)
def test_layer_repr_shapes_and_forward(name, args, kwargs):
    em, tm = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(em) == repr(tm)
    assert [(n, tuple(p.shape)) for n, p in em.named_parameters()] == \
           [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert em.weight.dtype == ember.float32
    _copy_params(em, tm)
    nd = len(em.kernel_size)
    x = RNG.standard_normal((2, args[0]) + (7,) * nd).astype(np.float32)
    ye, yt = em(ember.tensor(x)), tm(torch.tensor(x))
    assert_same(ye, yt, 2e-5, 2e-5)


@pytest.mark.parametrize("name, args, kwargs", LAYERS)
def test_layer_default_init_bounds(name, args, kwargs):
    """kaiming_uniform_(a=√5) gives U(±1/√fan_in) for the weight, and so for the bias."""
    em = getattr(nn, name)(*args, **kwargs)
    fan_in = em.weight.shape[1] * math.prod(em.weight.shape[2:])
    bound = 1 / math.sqrt(fan_in)
    w = em.weight.detach().numpy()
    assert np.abs(w).max() <= bound
    assert w.std() > bound / 4  # really random, not zeros
    if em.bias is not None:
        assert np.abs(em.bias.detach().numpy()).max() <= bound


def test_conv_layer_backward_matches_torch():
    em, tm = nn.Conv2d(3, 4, 3, stride=2, padding=1), torch.nn.Conv2d(3, 4, 3, stride=2,
                                                                      padding=1)
    _copy_params(em, tm)
    x = RNG.standard_normal((2, 3, 8, 8)).astype(np.float32)
    em(ember.tensor(x)).sum().backward()
    tm(torch.tensor(x)).sum().backward()
    assert_same(em.weight.grad, tm.weight.grad, 1e-4, 1e-4)
    assert_same(em.bias.grad, tm.bias.grad, 1e-4, 1e-4)
    assert em(ember.tensor(x)).grad_fn.name() == "ConvolutionBackward0"


def test_conv_transpose_output_size():
    em, tm = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), torch.nn.ConvTranspose2d(
        3, 2, 3, stride=2, padding=1)
    _copy_params(em, tm)
    x = RNG.standard_normal((1, 3, 4, 4)).astype(np.float32)
    ye, yt = em(ember.tensor(x), output_size=[8, 8]), tm(torch.tensor(x), output_size=[8, 8])
    assert tuple(ye.shape) == (1, 2, 8, 8)
    assert_same(ye, yt, 1e-5, 1e-5)
    with pytest.raises(ValueError) as expected:
        tm(torch.tensor(x), output_size=[10, 10])
    with pytest.raises(ValueError) as got:
        em(ember.tensor(x), output_size=[10, 10])
    assert str(got.value) == str(expected.value)


def test_seed_001_transposed_size_formula():
    """(512-1)·2 - 0 + 1·(3-1) + 0 + 1 = 1025, as the seed prints."""
    layer = nn.ConvTranspose2d(3, 1, 3, stride=2)
    assert tuple(layer(ember.zeros(1, 3, 32, 32)).shape) == (1, 1, 65, 65)
    assert tuple(nn.Conv2d(3, 1, 3)(ember.zeros(1, 3, 20, 20)).shape) == (1, 1, 18, 18)


@pytest.mark.parametrize("kwargs, message", [
    ({"groups": 0}, "groups must be a positive integer"),
    ({"groups": 2}, "in_channels must be divisible by groups"),
    ({"padding": "full"}, None),
    ({"padding": "same", "stride": 2}, None),
    ({"padding_mode": "zero"}, None),
])
def test_layer_construction_errors(kwargs, message):
    with pytest.raises(ValueError) as expected:
        torch.nn.Conv2d(3, 4, 3, **kwargs)
    with pytest.raises(ValueError) as got:
        nn.Conv2d(3, 4, 3, **kwargs)
    # torch prints the valid padding strings from a set, in hash order: compare up to it
    assert str(got.value).split("{")[0] == str(expected.value).split("{")[0]
    if message:
        assert str(got.value) == message


@pytest.mark.parametrize("name, args", [("Fold", ((4, 5), 2)), ("Unfold", (2,)),
                                        ("Unfold", ((2, 3),))])
def test_fold_layers(name, args):
    em, tm = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(em) == repr(tm)
    shape = (2, 12, 12) if name == "Fold" else (2, 3, 5, 6)
    x = RNG.standard_normal(shape).astype(np.float32)
    assert_same(em(ember.tensor(x)), tm(torch.tensor(x)), 1e-5, 1e-5)


def test_outputs_and_grads_are_contiguous_float32():
    x = ember.randn(2, 3, 6, 5, requires_grad=True)
    w = ember.randn(4, 3, 3, 3, requires_grad=True)
    b = ember.randn(4, requires_grad=True)
    y = EF.conv2d(x, w, b, stride=2, padding=1)
    y.sum().backward()
    for t in (y, x.grad, w.grad, b.grad):
        assert t.dtype == ember.float32
        assert t.is_contiguous()
    z = EF.conv_transpose2d(x, ember.randn(3, 2, 3, 3), stride=2)
    assert z.is_contiguous() and z.dtype == ember.float32


def test_no_grad_builds_no_graph_and_top_level_names():
    layer = nn.Conv2d(3, 4, 3)
    with ember.no_grad():
        y = layer(ember.randn(1, 3, 5, 5))
    assert not y.requires_grad and y.grad_fn is None
    for name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d"):
        assert getattr(ember, name) is getattr(EF, name)


@pytest.mark.parametrize("case", [c for c in CASES if c != "unfold_unbatched"])
def test_grad_fn_names_match_torch(case):
    call, shapes = CASES[case]
    arrays = _arrays(shapes)
    ye, _ = _run(call, ember, arrays)
    yt, _ = _run(call, torch, arrays)
    assert ye.grad_fn.name() == yt.grad_fn.name()


@pytest.mark.parametrize("case", ["2d_stride_pad", "2d_groups", "t2d_asym_groups", "3d", "1d"])
def test_batch_blocks(case, monkeypatch):
    """With a tiny block budget every batch item is its own block (NOTE [Batch blocks])."""
    import ember.ops.conv

    monkeypatch.setattr(ember.ops.conv, "_BLOCK_BYTES", 1)
    call, shapes = CASES[case]
    check_against_torch(call, shapes, np.float64, tol=1e-9)
    check_against_torch(call, [(5,) + shapes[0][1:]] + shapes[1:], np.float32, tol=2e-4)


@pytest.mark.parametrize("case", ["2d_stride_pad", "t2d_stride_outpad", "1d_groups_dil"])
def test_gradgradcheck_float64(case):
    call, shapes = CASES[case]
    x, w = (ember.tensor(a, requires_grad=True)
            for a in _arrays([(1,) + tuple(shapes[0][1:]), shapes[1]]))
    with_bias = len(shapes) == 3

    def f(x, w):
        return call(EF, x, w, None) if with_bias else call(EF, x, w)

    assert ember.autograd.gradgradcheck(f, [x, w])
