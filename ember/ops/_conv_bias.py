"""A convolution's bias of another dtype than its input: which of torch's kernels take it.

NOTE [A bias of another dtype]
torch's conv1d/2d/3d with a numeric padding refuse a bias of another dtype than the input, first
of all checks (before the input's rank). With padding='same'/'valid' and in the transposed
convolutions the answer depends on the kernel torch's CPU build picks (`_select_conv_backend`),
after every shape check:
- an empty batch or no input channels: no kernel runs, any bias is taken;
- oneDNN (`_uses_onednn`) refuses it ("... should be the same or input should be a MKLDNN
  tensor and bias is a dense tensor");
- the slow 3-d transposed kernel refuses it ("expected scalar type Float but found Bool");
- the other slow kernels (2-d, 3-d, dilated, 2-d transposed) take any real bias and add it in
  the input's dtype; its gradient comes back in its own dtype (a differentiable cast here).
"""

from ember._threads import get_num_threads

# torch's Tensor::toString: the legacy tensor types by name, the others as CPU<Scalar>Type
_LEGACY = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
           "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte"}
_SCALAR = dict(_LEGACY, bool="Bool", bfloat16="BFloat16", complex64="ComplexFloat",
               complex128="ComplexDouble")


def _type_string(t) -> str:
    """torch's name of a CPU tensor's type: torch.FloatTensor, CPUBoolType."""
    name = t.dtype.name
    if name in _LEGACY:
        return f"torch.{_LEGACY[name]}Tensor"
    return f"CPU{_SCALAR.get(name, name)}Type"


def _c_name(t) -> str:
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int"}.get(t.dtype.name, t.dtype.name)


def _check_bias_type(x, b):
    """conv{1,2,3}d with numeric padding refuses a bias of another dtype than the input."""
    if b is not None and b.dtype is not x.dtype:
        raise RuntimeError(
            f"Input type ({_c_name(x)}) and bias type ({_c_name(b)}) should be the same")


def _uses_onednn(x, weight, geo, output_padding, padded):
    """Whether torch's CPU build runs this (non-empty) convolution through oneDNN.

    A transposed one with an output_padding >= its stride never; a 16-bit input always; a
    float32 one when it is batched, grouped or has a kernel over 3x3 (and, on one thread, is
    not a 1x1 unstrided undilated kernel over fewer than 16 images) or is big.
    1-d convolutions are seen as 2-d ones of height 1, 3-d ones by their first two dims.
    """
    if any(p >= s for p, s in zip(output_padding, geo.stride)):
        return False
    if x.dtype.name in ("float16", "bfloat16"):
        return True
    if x.dtype.name != "float32":
        return False
    n, c = x.shape[0], x.shape[1]
    size = ((1,) * (2 - len(padded)) + tuple(padded))[:2]
    kernel = tuple(weight.shape[2:])
    kh, kw = ((1,) + kernel)[-2:]
    busy = (get_num_threads() > 1 or any(s != 1 for s in geo.stride) or n >= 16
            or any(d != 1 for d in geo.dilation) or kh != 1 or kw != 1)
    big = (geo.groups > 1 or (kh > 3 and kw > 3) or n > 1
           or n * c * size[0] * size[1] > 20480)
    return busy and big


def _bias_as_input(x, weight, bias, geo, output_padding=None, padded=None):
    """The bias in the input's dtype, or torch's error where its kernel refuses another dtype
    (NOTE [A bias of another dtype]); output_padding is given for a transposed convolution,
    padded: the input's spatial sizes as torch's kernel sees them."""
    if bias is None or bias.dtype is x.dtype:
        return bias
    if x.shape[0] == 0 or x.shape[1] == 0:
        return bias.to(x.dtype)
    transposed = output_padding is not None
    if _uses_onednn(x, weight, geo, output_padding or (), padded or x.shape[2:]):
        raise RuntimeError(
            f"Input type ({_type_string(x)}) and bias type ({_type_string(bias)}) should be "
            "the same or input should be a MKLDNN tensor and bias is a dense tensor")
    if transposed and x.dim() == 5:
        raise RuntimeError(f"expected scalar type {_SCALAR[x.dtype.name]} but found "
                           f"{_SCALAR.get(bias.dtype.name, bias.dtype.name)}")
    return bias.to(x.dtype)
