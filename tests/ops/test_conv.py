"""Convolution, ember/ops/conv.py (F.conv1d, conv2d, conv3d), against torch.

A table of conv calls drives the generic tests of tests/ops/_nn_tables.py: values, dtypes and
shapes, gradients of every input, float32 staying float32, float64 finite differences, second
derivatives, grad_fn names, batch blocks. Then the seed's exact 5x5 outputs and the errors.
The layers (nn.Conv1d/2d/3d) are tested in tests/nn/modules/test_conv.py.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
import ember.ops._conv_kernels as kernels
from tests.differential import assert_same
from tests.ops import _nn_tables as tables

RNG = np.random.default_rng(0)

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
    # a plain matmul per image; its input gradient is one too (as a convolution: 4 <= 6)
    "2d_kernel_1x1_bias": (lambda F, x, w, b: F.conv2d(x, w, b), [(2, 6, 3, 4), (4, 6, 1, 1),
                                                                  (4,)]),
    "2d_kernel_1x1_strided": (lambda F, x, w: F.conv2d(x, w, stride=2, padding=1),
                              [(2, 3, 5, 4), (4, 3, 1, 1)]),
    # fewer output than input channels: the input gradient is a convolution with the flipped
    # kernel (_transpose_as_conv), here with padding beyond the kernel (its input is cropped)
    "2d_fewer_out_wide_pad": (lambda F, x, w, b: F.conv2d(x, w, b, padding=(3, 1)),
                              [(2, 5, 6, 5), (3, 5, 3, 3), (3,)]),
    "2d_fewer_out_groups_dil": (lambda F, x, w: F.conv2d(x, w, padding=(1, 2), groups=2,
                                                         dilation=(2, 1)),
                                [(2, 6, 7, 6), (4, 3, 3, 2)]),
    "2d_fewer_out_odd": (lambda F, x, w: F.conv2d(x, w, padding=2), [(3, 4, 7, 5),
                                                                     (2, 4, 5, 5)]),
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
}

test_float64_values_and_grads = tables.forward_backward(RNG, CASES, np.float64, 1e-9)
test_float32_stays_float32 = tables.forward_backward(RNG, CASES, np.float32, 2e-4)
test_gradcheck_float64 = tables.gradcheck_float64(
    RNG, CASES, ["2d_stride_pad", "2d_asym", "2d_groups", "2d_same_even", "1d",
                 "2d_kernel_1x1_bias", "2d_fewer_out_wide_pad", "2d_fewer_out_groups_dil"],
    tables.batch_one_shapes(keep=("2d_same_even", "2d_asym", "1d")))
test_double_backward_matches_torch = tables.input_weight_double_backward(
    RNG, CASES, ["2d_stride_pad", "2d_groups", "1d", "2d_same_even", "2d_fewer_out_wide_pad",
                 "2d_kernel_1x1_bias"])
test_grad_fn_names_match_torch = tables.grad_fn_names(RNG, CASES, list(CASES))
test_batch_blocks = tables.batch_blocks(RNG, CASES, ["2d_stride_pad", "2d_groups", "3d", "1d",
                                                    "2d_kernel_1x1_bias", "2d_fewer_out_odd"])
test_gradgradcheck_float64 = tables.gradgradcheck_float64(RNG, CASES, ["2d_stride_pad",
                                                                      "1d_groups_dil"])


def test_double_backward_grad_of_weight_grad_wrt_input():
    arrays = tables.randn(RNG, [(2, 3, 5, 5), (4, 3, 3, 3)])
    out = []
    for lib in (ember, torch):
        F = tables.functional(lib)
        x, w = (lib.tensor(a, requires_grad=True) for a in arrays)
        y = F.conv2d(x, w, stride=2, padding=1)
        (gw,) = lib.autograd.grad((y ** 2).sum(), [w], create_graph=True)
        out.append(lib.autograd.grad(gw.sum(), [x])[0])
    assert_same(out[0], out[1], 1e-8, 1e-8)


def test_outputs_and_grads_are_contiguous_float32():
    """conv2d's output and gradients (and, on the same input, conv_transpose2d's output)."""
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


@pytest.mark.parametrize("kwargs", [{"padding": 1}, {"stride": 2}, {}])
def test_blocks_change_only_rounding(kwargs, monkeypatch):
    """One image per block gives the values and gradients of one block for the whole batch up
    to rounding (OpenBLAS rounds the last columns of a GEMM differently when their count is
    not a multiple of its tile, so block boundaries move the last bit)."""
    x = RNG.standard_normal((7, 6, 9, 8)).astype(np.float32)
    w = RNG.standard_normal((5, 6, 3, 3) if kwargs else (5, 6, 1, 1)).astype(np.float32)
    results = []
    for block_bytes in (2**40, 1):
        monkeypatch.setattr(kernels, "_BLOCK_BYTES", block_bytes)
        xe, we = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
        y = EF.conv2d(xe, we, **kwargs)
        (y * y).sum().backward()
        results.append((y.detach().numpy(), xe.grad.numpy(), we.grad.numpy()))
    for one, many in zip(*results):
        np.testing.assert_allclose(many, one, rtol=1e-5, atol=1e-5 * np.abs(one).max())



@pytest.mark.parametrize("kwargs", [{"padding": 1}, {"stride": 2, "groups": 3},
                                    {"dilation": 2, "groups": 2}])
@pytest.mark.parametrize("blocks", [False, True])
def test_weight_gradient_in_either_layout_matches_torch(kwargs, blocks, monkeypatch):
    """gw computed in its own layout (big weights) or transposed back (small ones), over one
    batch block or several: torch's weight gradient within float32 rounding."""
    x = RNG.standard_normal((5, 6, 11, 10)).astype(np.float32)
    w = RNG.standard_normal((6, 6 // kwargs.get("groups", 1), 3, 3)).astype(np.float32)
    monkeypatch.setattr(kernels, "_fits_spectral", lambda *args, **kw: False)
    if blocks:
        monkeypatch.setattr(kernels, "_BLOCK_BYTES", 1)
    grads = []
    for threshold in (0, 1 << 60):
        monkeypatch.setattr(kernels, "_DIRECT_WEIGHT_GRAD", threshold)
        we = ember.tensor(w, requires_grad=True)
        (EF.conv2d(ember.tensor(x), we, **kwargs) ** 2).sum().backward()
        grads.append(we.grad)
    wt = torch.tensor(w, requires_grad=True)
    (TF.conv2d(torch.tensor(x), wt, **kwargs) ** 2).sum().backward()
    for grad in grads:
        assert_same(grad, wt.grad, rtol=1e-4, atol=1e-4)

ROW_COLUMN_CASES = {  # (x shape, w shape, conv2d kwargs): stride 1, few extra columns per row
    "k3_pad1": ((3, 4, 18, 17), (5, 4, 3, 3), {"padding": 1}),
    "k5_pad2_bias": ((2, 3, 32, 32), (6, 3, 5, 5), {"padding": 2}),
    "dilated_groups": ((2, 6, 20, 40), (4, 3, 3, 3), {"padding": (2, 1), "dilation": 2,
                                                        "groups": 2}),
    "no_padding": ((2, 2, 12, 19), (3, 2, 2, 3), {}),
}


@pytest.mark.parametrize("case", ROW_COLUMN_CASES)
def test_columns_of_whole_padded_rows_match_torch(case):
    """NOTE [Columns of whole padded rows]: the forward that computes (and drops) a few extra
    columns per output row gives torch's values and gradients, in float32 and float64."""
    x_shape, w_shape, kwargs = ROW_COLUMN_CASES[case]
    x = RNG.standard_normal(x_shape)
    w = RNG.standard_normal(w_shape)
    b = RNG.standard_normal(w_shape[0])
    out = [s + 2 * p - d * (k - 1) for s, p, d, k in zip(
        x_shape[2:], np.broadcast_to(kwargs.get("padding", 0), 2),
        np.broadcast_to(kwargs.get("dilation", 1), 2), w_shape[2:])]
    geo = kernels._Geometry((1, 1), (1, 1), tuple(np.broadcast_to(kwargs.get("padding", 0), 2)),
                            tuple(np.broadcast_to(kwargs.get("padding", 0), 2)), 1)
    assert kernels._fits_row_columns(x, w_shape[2:], geo, out), "the case takes the row route"
    for dtype in ("float32", "float64"):
        results = []
        for lib, F in ((ember, EF), (torch, TF)):
            xt, wt, bt = (lib.tensor(a.astype(dtype), requires_grad=True) for a in (x, w, b))
            y = F.conv2d(xt, wt, bt, **kwargs)
            (y * y).sum().backward()
            results.append([t.detach().numpy() for t in (y, xt.grad, wt.grad, bt.grad)])
        tol = 1e-4 if dtype == "float32" else 1e-10
        for mine, theirs in zip(*results):
            assert mine.dtype == theirs.dtype
            np.testing.assert_allclose(mine, theirs, rtol=tol, atol=tol * np.abs(theirs).max())


def test_channels_last_input_matches_torch():
    """A channels_last input (strided, not contiguous) gives torch's values and gradients."""
    x = RNG.standard_normal((3, 4, 6, 5))
    w = RNG.standard_normal((6, 4, 3, 3))
    out = []
    for lib in (ember, torch):
        F = tables.functional(lib)
        xt = lib.tensor(x).to(memory_format=lib.channels_last).requires_grad_()
        wt = lib.tensor(w, requires_grad=True)
        y = F.conv2d(xt, wt, padding=1)
        (y * y).sum().backward()
        out.append((y, xt.grad, wt.grad))
    for a, b in zip(*out):
        assert_same(a, b, 1e-9, 1e-9)


@pytest.mark.parametrize("layout", ["input", "weight", "both", "neither", "permuted"])
def test_output_memory_format_follows_input_or_weight(layout):
    """PyTorch's CPU convolutions give a channels_last output when the input's or the weight's
    strides suggest channels_last (plain, transposed and 3-d); a permuted non-NHWC input does
    not count."""
    x, w = RNG.standard_normal((2, 3, 5, 4)), RNG.standard_normal((4, 3, 2, 2))
    strides = []
    for lib in (ember, torch):
        F, cl = tables.functional(lib), lib.channels_last
        xt, wt = lib.tensor(x, dtype=lib.float32), lib.tensor(w, dtype=lib.float32)
        if layout in ("input", "both"):
            xt = xt.to(memory_format=cl)
        if layout in ("weight", "both"):
            wt = wt.to(memory_format=cl)
        if layout == "permuted":
            xt = xt.permute(0, 1, 3, 2).contiguous().permute(0, 1, 3, 2)
        y = F.conv2d(xt, wt)
        t = F.conv_transpose2d(xt, wt.transpose(0, 1))
        x3 = lib.tensor(RNG.standard_normal((1, 2, 3, 3, 3)), dtype=lib.float32)
        y3 = F.conv3d(x3.to(memory_format=lib.channels_last_3d) if layout == "input" else x3,
                      lib.ones(2, 2, 1, 1, 1))
        strides.append((y.stride(), t.stride(), y3.stride()))
    assert strides[0] == strides[1]


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
    # the bias dtype is checked first of all, before the input's rank
    "bias_dtype_before_rank": lambda F, lib: F.conv1d(lib.ones(5, 5, 5, 5), lib.ones(2, 5, 3),
                                                      lib.ones(2, dtype=lib.bool)),
}

test_errors_match_torch = tables.errors_match_torch(ERRORS)




# NOTE [A bias of another dtype] (ember/ops/_conv_bias.py): with a string padding the kernel
# torch picks decides. id -> (function, kwargs, input dtype, input, weight shapes, bias dtype,
# whether torch refuses it)
OTHER_BIAS = {
    "3d_unbatched_same": ("conv3d", {"padding": "same"}, "float32", (1, 4, 4, 4),
                          (1, 1, 1, 1, 1), "bool", False),
    "2d_one_image": ("conv2d", {"padding": "valid"}, "float32", (1, 2, 6, 5), (3, 2, 2, 2),
                     "int64", False),
    "1d_float64": ("conv1d", {"padding": "same"}, "float64", (2, 3, 7), (4, 3, 2), "float32",
                   False),
    "3d_dilated_float64": ("conv3d", {"padding": "valid", "dilation": 2}, "float64",
                           (2, 2, 5, 5, 5), (2, 2, 2, 2, 2), "float16", False),
    "empty_batch": ("conv2d", {"padding": "same"}, "float32", (0, 2, 6, 5), (3, 2, 3, 3), "bool",
                    False),
    # oneDNN: a batch, groups, a kernel over 3x3, or an input (padded for 'same') over 20480
    "onednn_batch": ("conv2d", {"padding": "valid"}, "float32", (2, 2, 6, 5), (3, 2, 2, 2),
                     "bool", True),
    "onednn_groups": ("conv1d", {"padding": "valid", "groups": 2}, "float32", (1, 4, 6),
                      (2, 2, 3), "float64", True),
    "onednn_kernel_4x4": ("conv2d", {"padding": "same"}, "float32", (1, 2, 6, 6), (3, 2, 4, 4),
                          "float16", True),
    "onednn_big_after_same_pad": ("conv2d", {"padding": "same"}, "float32", (1, 1, 143, 143),
                                  (1, 1, 2, 2), "bool", True),
}


test_string_padding_bias_of_another_dtype = tables.bias_of_another_dtype(RNG, OTHER_BIAS, 0)


def test_string_padding_bias_grad_keeps_its_dtype():
    tables.bias_grad_in_its_dtype(RNG, "conv2d", {"padding": "same"}, (1, 3, 5, 5), (4, 3, 2, 2), 0)


@pytest.mark.parametrize("call, x_shape, w_shape, kwargs", [
    ("conv2d", (0, 3, 2, 2), (4, 3, 1, 1), {}),
    ("conv2d", (0, 4, 5, 5), (6, 2, 3, 3), {"padding": 1, "stride": 2, "groups": 2}),
    ("conv1d", (0, 3, 7), (4, 3, 3), {}),
    ("conv3d", (0, 2, 3, 3, 3), (4, 2, 2, 2, 2), {}),
    ("conv_transpose2d", (0, 3, 4, 4), (3, 5, 3, 3), {"stride": 2}),
    ("conv2d", (0, 128, 8, 8), (128, 128, 3, 3), {"padding": 1}),  # (Winograd's shapes)
], ids=str)
def test_empty_batch_backward(call, x_shape, w_shape, kwargs):
    """An empty batch trains as in torch: empty input gradient, zero weight and bias grads."""
    results = []
    for lib in (ember, torch):
        x = lib.zeros(*x_shape, requires_grad=True)
        w = lib.ones(*w_shape, requires_grad=True)
        b = lib.ones(w_shape[1] if "transpose" in call else w_shape[0], requires_grad=True)
        y = getattr(lib.nn.functional, call)(x, w, b, **kwargs)
        y.backward(lib.ones_like(y))
        results.append([tuple(y.shape), tuple(x.grad.shape), w.grad.detach().numpy(),
                        b.grad.detach().numpy()])
    (ye, xe, we, be), (yt, xt, wt, bt) = results
    assert (ye, xe) == (yt, xt)
    np.testing.assert_array_equal(we, wt)
    np.testing.assert_array_equal(be, bt)
