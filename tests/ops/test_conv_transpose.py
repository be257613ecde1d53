"""Transposed convolution, ember/ops/conv_transpose.py (F.conv_transpose1d/2d/3d), vs torch.

A table of conv_transpose calls drives the generic tests of tests/ops/_nn_tables.py: values,
dtypes and shapes, gradients of every input, float32 staying float32, float64 finite
differences, second derivatives, grad_fn names, batch blocks; then the errors. The layers
(nn.ConvTranspose1d/2d/3d) are tested in tests/nn/modules/test_conv.py.
"""

import numpy as np
import pytest
import torch

import ember
from tests.ops import _nn_tables as tables

RNG = np.random.default_rng(0)

# id -> (call(F, *tensors), shapes of x, weight, bias)
CASES = {
    "t2d": (lambda F, x, w, b: F.conv_transpose2d(x, w, b), [(2, 3, 4, 5), (3, 4, 3, 3), (4,)]),
    "t2d_stride_outpad": (lambda F, x, w, b: F.conv_transpose2d(
        x, w, b, stride=2, padding=1, output_padding=1), [(2, 3, 4, 4), (3, 2, 3, 3), (2,)]),
    "t2d_asym_groups": (lambda F, x, w, b: F.conv_transpose2d(
        x, w, b, stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2,
        dilation=(2, 1)), [(2, 4, 5, 4), (4, 3, 3, 2), (6,)]),
    "t2d_dilation_outpad": (lambda F, x, w: F.conv_transpose2d(
        x, w, output_padding=1, dilation=2), [(1, 2, 3, 3), (2, 2, 2, 2)]),
    # stride 1, Cx <= Cy: computed as a convolution with the flipped kernel, here of an input
    # cropped by padding beyond the kernel, and with a 1x1 kernel (one matmul per image)
    "t2d_pad_crop": (lambda F, x, w, b: F.conv_transpose2d(x, w, b, padding=(3, 1)),
                     [(2, 3, 8, 7), (3, 4, 3, 3), (4,)]),
    # stride 1, Cx <= Cy, but the output 16 times the input (DCGAN's first layer, 1x1 ->
    # 4x4): through the columns and col2im, not as a convolution over mostly padding
    "t2d_1x1_input": (lambda F, x, w: F.conv_transpose2d(x, w), [(3, 5, 1, 1), (5, 6, 4, 4)]),
    "t2d_1x1_groups": (lambda F, x, w: F.conv_transpose2d(x, w, groups=2),
                       [(2, 4, 3, 5), (4, 3, 1, 1)]),
    "t2d_unbatched": (lambda F, x, w: F.conv_transpose2d(x, w, stride=2), [(3, 3, 2),
                                                                          (3, 2, 2, 2)]),
    "t1d": (lambda F, x, w, b: F.conv_transpose1d(x, w, b, stride=3, padding=2,
                                                  output_padding=1),
            [(2, 4, 5), (4, 3, 4), (3,)]),
    "t3d": (lambda F, x, w, b: F.conv_transpose3d(x, w, b, stride=2, padding=1, groups=2),
            [(1, 4, 2, 3, 2), (4, 1, 3, 2, 3), (2,)]),
}

test_float64_values_and_grads = tables.forward_backward(RNG, CASES, np.float64, 1e-9)
test_float32_stays_float32 = tables.forward_backward(RNG, CASES, np.float32, 2e-4)
test_gradcheck_float64 = tables.gradcheck_float64(
    RNG, CASES, ["t2d_asym_groups", "t1d", "t2d_pad_crop", "t2d_1x1_input"],
    tables.batch_one_shapes(keep=("t1d", "t2d_pad_crop", "t2d_1x1_input")))
test_double_backward_matches_torch = tables.input_weight_double_backward(
    RNG, CASES, ["t2d_stride_outpad", "t2d_asym_groups"])
test_grad_fn_names_match_torch = tables.grad_fn_names(RNG, CASES, list(CASES))
test_batch_blocks = tables.batch_blocks(RNG, CASES, ["t2d_asym_groups", "t2d_pad_crop",
                                                    "t2d_1x1_input"])
test_gradgradcheck_float64 = tables.gradgradcheck_float64(RNG, CASES, ["t2d_stride_outpad"])

ERRORS = {
    "transposed_channels": lambda F, lib: F.conv_transpose2d(lib.ones(1, 4, 5, 5),
                                                             lib.ones(3, 2, 3, 3)),
    "output_padding": lambda F, lib: F.conv_transpose2d(lib.ones(1, 4, 5, 5),
                                                        lib.ones(4, 2, 3, 3), stride=2,
                                                        output_padding=2),
    # a transposed weight (in, out / groups, *k) wants out = weight.shape[1] * groups biases
    "bias_size": lambda F, lib: F.conv_transpose1d(lib.ones(1, 4, 5), lib.ones(4, 2, 3),
                                                   lib.ones(4)),
    "bias_0d": lambda F, lib: F.conv_transpose2d(lib.ones(1, 4, 5, 5), lib.ones(4, 2, 3, 3),
                                                 lib.tensor(1.0)),
    "bias_size_groups": lambda F, lib: F.conv_transpose3d(
        lib.ones(1, 4, 2, 2, 2), lib.ones(4, 2, 1, 1, 1), lib.ones(2), groups=2),
}

test_errors_match_torch = tables.errors_match_torch(ERRORS)



# NOTE [A bias of another dtype] (ember/ops/_conv_bias.py): the kernel torch picks decides.
# id -> (function, kwargs, input dtype, input, weight shapes, bias dtype, whether torch refuses)
OTHER_BIAS = {
    "t2d_one_image": ("conv_transpose2d", {"stride": 2}, "float32", (1, 3, 4, 5), (3, 2, 3, 3),
                      "bool", False),
    "t1d_float64": ("conv_transpose1d", {}, "float64", (2, 3, 5), (3, 2, 2), "int64", False),
    # oneDNN refuses an output_padding >= stride: the slow kernel takes the bias
    "t2d_big_output_padding": ("conv_transpose2d", {"output_padding": 1, "dilation": 2},
                               "float32", (2, 3, 4, 5), (3, 2, 2, 2), "float16", False),
    "t2d_onednn_batch": ("conv_transpose2d", {}, "float32", (2, 3, 4, 5), (3, 2, 3, 3),
                         "float64", True),
    # the slow 3-d transposed kernel refuses it with its own message
    "t3d_slow": ("conv_transpose3d", {}, "float64", (1, 2, 3, 3, 3), (2, 2, 2, 2, 2), "int64",
                 True),
}


test_bias_of_another_dtype = tables.bias_of_another_dtype(RNG, OTHER_BIAS, 1)


def test_bias_grad_of_another_dtype():
    tables.bias_grad_in_its_dtype(RNG, "conv_transpose2d", {"stride": 2}, (1, 3, 4, 5),
                                  (3, 2, 3, 3), 1)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("transposed", [False, True])
def test_half_convolutions_round_once_as_torch(dtype, transposed):
    # PyTorch runs 16-bit convolutions through oneDNN: the transposed forward (and so a
    # convolution's input gradient) and the bias gradient accumulate in float32 and round
    # once (col2im in 16 bits, the bias added after rounding and a bfloat16 bias sum were off)
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((2, 8, 7, 7)).astype(np.float32)
    out = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        layer = (lib.nn.ConvTranspose2d(8, 6, 4, stride=2, padding=1) if transposed
                 else lib.nn.Conv2d(8, 6, 3, stride=2, padding=1)).to(getattr(lib, dtype))
        x = lib.tensor(x0).to(getattr(lib, dtype)).requires_grad_()
        y = layer(x)
        y.backward(lib.full(y.shape, 0.37, dtype=y.dtype))
        out.append([t.float().detach().numpy() for t in (y, x.grad, layer.weight.grad,
                                                         layer.bias.grad)])
    # (float16's weight gradients still differ: torch's slow kernels sum them per image in
    # float16)
    checked = out if dtype == "bfloat16" else [o[:2] + o[3:] for o in out]
    for e, t in zip(checked[1], checked[0]):
        np.testing.assert_array_equal(e, t)
