"""Casts and clone (ember/ops/conversion.py) against torch: values, dtypes, gradients, memory."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, both, error_of, sample

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", ["float64", "int32", "bool", "float16"])
def test_cast_backward(dtype):
    e, t = both(sample(RNG, "any", (3,)), requires_grad=True)
    ye, yt = e.to(getattr(ember, dtype)), t.to(getattr(torch, dtype))
    assert_same(ye, yt)
    assert ye.requires_grad == yt.requires_grad
    if yt.requires_grad:
        ye.backward(ember.ones(3, dtype=getattr(ember, dtype)))
        yt.backward(torch.ones(3, dtype=getattr(torch, dtype)))
        assert_same(e.grad, t.grad)


def test_clone_backward_and_memory():
    e, t = both(sample(RNG, "any", (3,)), requires_grad=True)
    ce, ct = e.clone(), t.clone()
    assert ce.grad_fn.name() == ct.grad_fn.name()
    assert ce.data_ptr() != e.data_ptr()
    ce.backward(ember.ones(3, dtype=ember.float64))
    ct.backward(torch.ones(3, dtype=torch.float64))
    assert_same(e.grad, t.grad)


# ---- memory formats ------------------------------------------------------------------------
FORMATS = ["contiguous_format", "channels_last", "preserve_format"]
CASTS = ["float", "double", "half", "bfloat16", "int", "long", "bool"]


def _inputs(lib, layout):
    """A 4-D tensor laid out as `layout` (contiguous, channels_last or a permuted view)."""
    x = lib.from_numpy(np.arange(120, dtype=np.float32).reshape(2, 3, 4, 5).copy())
    if layout == "channels_last":
        return x.contiguous(memory_format=lib.channels_last)
    if layout == "permuted":
        return x.permute(0, 2, 3, 1)
    return x


@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "permuted"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_clone_and_like_strides(fmt, layout):
    """clone / empty_like / zeros_like / full_like: values and the strides torch reports."""
    outs = {}
    for lib in (ember, torch):
        x = _inputs(lib, layout)
        mf = getattr(lib, fmt)
        outs[lib] = [x.clone(memory_format=mf), lib.empty_like(x, memory_format=mf),
                     lib.zeros_like(x, memory_format=mf), lib.full_like(x, 2, memory_format=mf)]
    for i, (e, t) in enumerate(zip(outs[ember], outs[torch])):
        assert e.stride() == t.stride()
        assert e.is_contiguous() == t.is_contiguous()
        if i != 1:  # empty_like's values are undefined
            assert_same(e, t)


@pytest.mark.parametrize("cast", CASTS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_casts_take_memory_format(cast, fmt):
    """x.float(memory_format=...) and x.to(dtype, memory_format=...): strides and values."""
    for layout in ("contiguous", "channels_last"):
        e, t = (getattr(_inputs(lib, layout), cast)(memory_format=getattr(lib, fmt))
                for lib in (ember, torch))
        assert e.stride() == t.stride()
        assert str(e.dtype) == str(t.dtype)
        e2, t2 = (_inputs(lib, layout).to(getattr(lib, "float64"),
                                          memory_format=getattr(lib, fmt))
                  for lib in (ember, torch))
        assert e2.stride() == t2.stride()
        assert_same(e2, t2)


@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "permuted"])
def test_contiguous_and_is_contiguous(layout):
    """is_contiguous per format, and contiguous(memory_format=) copies only when needed."""
    for fmt in ("contiguous_format", "channels_last"):
        e, t = (_inputs(lib, layout) for lib in (ember, torch))
        assert e.is_contiguous(memory_format=getattr(ember, fmt)) == t.is_contiguous(
            memory_format=getattr(torch, fmt))
        ce, ct = (x.contiguous(memory_format=getattr(lib, fmt))
                  for x, lib in ((e, ember), (t, torch)))
        assert ce.stride() == ct.stride()
        assert (ce.data_ptr() == e.data_ptr()) == (ct.data_ptr() == t.data_ptr())


@pytest.mark.parametrize("shape, fmt", [((2, 3, 4, 5), "channels_last"),
                                        ((2, 3, 1, 1), "channels_last"),
                                        ((2, 3, 2, 4, 5), "channels_last_3d"),
                                        ((2, 3, 4, 5), "contiguous_format"),
                                        ((2, 3, 4), "channels_last"),
                                        ((2, 3, 4, 5), "preserve_format")])
def test_empty_takes_memory_format(shape, fmt):
    """torch.empty(..., memory_format=): the format's strides, or torch's error."""
    def make(lib):
        return lib.empty(*shape, memory_format=getattr(lib, fmt)).stride()
    try:
        expected = make(torch)
    except RuntimeError as error:
        assert str(error_of(lambda: make(ember))) == str(error)
        return
    assert make(ember) == expected


_LAYOUT_CASES = {
    "relu": lambda lib, x, c: lib.relu(x),
    "sigmoid": lambda lib, x, c: lib.sigmoid(x),
    "gelu": lambda lib, x, c: lib.nn.functional.gelu(x),
    "silu": lambda lib, x, c: lib.nn.functional.silu(x),
    "leaky_relu": lambda lib, x, c: lib.nn.functional.leaky_relu(x, 0.1),
    "hardswish": lambda lib, x, c: lib.nn.functional.hardswish(x),
    "elu": lambda lib, x, c: lib.nn.functional.elu(x),
    "rrelu_eval": lambda lib, x, c: lib.nn.functional.rrelu(x),
    "batch_norm_train": lambda lib, x, c: lib.nn.functional.batch_norm(
        x, None, None, training=True),
    "batch_norm_eval": lambda lib, x, c: lib.nn.functional.batch_norm(
        x, lib.zeros(x.shape[1]), lib.ones(x.shape[1])),
    "max_pool2d": lambda lib, x, c: lib.nn.functional.max_pool2d(x, 2),
    "adaptive_avg": lambda lib, x, c: lib.nn.functional.adaptive_avg_pool2d(x, 2),
    "global_avg": lambda lib, x, c: lib.nn.functional.adaptive_avg_pool2d(x, 1),
    "x_mul_c": lambda lib, x, c: x * c,
    "c_mul_x": lambda lib, x, c: c * x,
    "x_add_c": lambda lib, x, c: lib.add(x, c, alpha=2),
    "x_div_c": lambda lib, x, c: x / c,
    "x_plus_1": lambda lib, x, c: x + 1,
    "upsample_nearest": lambda lib, x, c: lib.nn.functional.interpolate(x, scale_factor=2),
    "upsample_bilinear": lambda lib, x, c: lib.nn.functional.interpolate(
        x, size=(3, 7), mode="bilinear", antialias=True),
    "softmax": lambda lib, x, c: lib.softmax(x, 1),
    "log_softmax": lambda lib, x, c: lib.log_softmax(x, -1),
    "layer_norm": lambda lib, x, c: lib.nn.functional.layer_norm(x, x.shape[-1:]),
    "group_norm": lambda lib, x, c: lib.nn.functional.group_norm(x, 1),
    "pad_constant": lambda lib, x, c: lib.nn.functional.pad(x, (1, 2, 0, 1)),
    "pad_reflect": lambda lib, x, c: lib.nn.functional.pad(x, (1, 1, 1, 1), mode="reflect"),
    "pad_circular": lambda lib, x, c: lib.nn.functional.pad(x, (1, 1, 1, 1), mode="circular"),
}


@pytest.mark.parametrize("layout", ["channels_last", "permuted"])
@pytest.mark.parametrize("case", sorted(_LAYOUT_CASES))
def test_outputs_keep_the_layout_torch_keeps(case, layout):
    """A channels_last (or permuted) input: elementwise ops keep its stride order (the first
    operand's for binary ops), batch norm and pooling the format it suggests, as torch."""
    strides = []
    for lib in (ember, torch):
        x = _inputs(lib, layout) / 100
        c = lib.from_numpy(np.linspace(1, 2, x.numel(), dtype=np.float32).reshape(x.shape))
        with lib.no_grad():
            strides.append(_LAYOUT_CASES[case](lib, x, c).stride())
        x.requires_grad_()
        strides.append(_LAYOUT_CASES[case](lib, x, c).stride())
    assert strides[:2] == strides[2:]


def test_memory_format_errors_and_objects():
    """Rank errors, contiguous(preserve_format) on a non-contiguous tensor, reprs, pickling."""
    import pickle

    for lib in (ember, torch):
        assert type(error_of(lambda: lib.zeros(2, 3).contiguous(
            memory_format=lib.channels_last))) is RuntimeError
        assert type(error_of(lambda: lib.zeros(2, 3).t().contiguous(
            memory_format=lib.preserve_format))) is RuntimeError
        assert lib.zeros(2, 3).contiguous(memory_format=lib.preserve_format).shape == (2, 3)
    for name in ("contiguous_format", "channels_last", "channels_last_3d", "preserve_format",
                 "strided"):
        assert repr(getattr(ember, name)) == repr(getattr(torch, name))
        assert pickle.loads(pickle.dumps(getattr(ember, name))) is getattr(ember, name)
    assert ember.zeros(1).layout is ember.strided


@pytest.mark.parametrize("args", [
    ("float64",), ("cpu", "float64"), ("cpu",), ("cpu", "float64", False, True),
    ("float64", False, True), ("other",)])
def test_to_forms(args):
    """Tensor.to(dtype | device[, dtype] | other[, non_blocking, copy]) as PyTorch reads them."""
    outs = []
    for lib in (ember, torch):
        x = lib.ones(2, 3, requires_grad=True)
        resolved = [getattr(lib, a) if a == "float64" else lib.zeros(1, dtype=lib.int32)
                    if a == "other" else a for a in args]
        y = x.to(*resolved)
        outs.append((y, y is x))
    assert_same(outs[0][0], outs[1][0])
    assert outs[0][1] == outs[1][1]
    assert outs[0][0].requires_grad == outs[1][0].requires_grad


def test_to_copy_and_kwargs():
    """copy=True always copies; keyword forms; a float64 cast's gradient comes back float32."""
    for lib in (ember, torch):
        x = lib.ones(3)
        assert x.to(copy=True).data_ptr() != x.data_ptr()
        assert x.to(dtype=lib.float32) is x and x.to(device="cpu") is x
    e, t = both(sample(RNG, "any", (3,), np.float32), requires_grad=True)
    ye, yt = e.to(dtype=ember.float64, copy=True), t.to(dtype=torch.float64, copy=True)
    ye.sum().backward()
    yt.sum().backward()
    assert_same(e.grad, t.grad)


def test_resize_deprecated_forms():
    """Tensor.resize / resize_as (deprecated, not in place) reshape with a warning."""
    for lib in (ember, torch):
        with pytest.warns(UserWarning):
            assert lib.arange(6).resize(2, 3).shape == (2, 3)
        with pytest.warns(UserWarning):
            assert lib.arange(6).resize_as(lib.zeros(3, 2)).shape == (3, 2)


def _format_facts(lib):
    """Strides and contiguity answers for channels_last_3d and size-1 dims, and to(...) is x."""
    x = lib.zeros(2, 3, 4, 5, 6)
    y = x.contiguous(memory_format=lib.channels_last_3d)
    z = lib.zeros(2, 1, 4, 1).contiguous(memory_format=lib.channels_last)
    return (y.stride(), y.is_contiguous(memory_format=lib.channels_last_3d),
            y.is_contiguous(memory_format=lib.channels_last),
            x.to(memory_format=lib.contiguous_format) is x,
            y.to(memory_format=lib.channels_last_3d) is y,
            x.clone(memory_format=lib.channels_last_3d).stride(), z.stride(), z.is_contiguous(),
            z.is_contiguous(memory_format=lib.channels_last),
            type(error_of(lambda: lib.zeros(2, 3, 4, 5).contiguous(
                memory_format=lib.channels_last_3d))))


def test_channels_last_3d_and_size_one_dims():
    assert _format_facts(ember) == _format_facts(torch)


_DISCARD = ("Casting complex values to real discards the imaginary part (Triggered internally "
            "at /__w/pytorch/pytorch/aten/src/ATen/native/Copy.cpp:307.)")


@pytest.mark.parametrize("call", [
    lambda m, z: z.float(), lambda m, z: z.to(m.int64), lambda m, z: z.type(m.float64),
    lambda m, z: m.zeros(3).copy_(z), lambda m, z: m.tensor(z, dtype=m.float32),
    lambda m, z: m.zeros(3).__setitem__(slice(0, 2), z[:2]),
], ids=["float", "to_int", "type", "copy_", "tensor", "setitem"])
def test_complex_to_real_cast_warns_once_as_torch(call, monkeypatch):
    """A complex-to-real cast keeps the real part and warns once per process with torch's
    UserWarning (TORCH_WARN_ONCE), not NumPy's ComplexWarning; a bool cast does not warn."""
    import warnings

    from ember import _warnings
    monkeypatch.setattr(_warnings, "_WARNED_ONCE", set())  # as in a fresh process
    values = np.array([1.5 + 2j, -0.5 - 1j, 3j], dtype=np.complex64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = call(ember, ember.from_numpy(values.copy()))
        call(ember, ember.from_numpy(values.copy()))
        flags = ember.from_numpy(values.copy()).bool()
    discards = [w for w in caught if "copy construct" not in str(w.message)]
    assert [(w.category, str(w.message)) for w in discards] == [(UserWarning, _DISCARD)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = call(torch, torch.from_numpy(values.copy()))
    if expected is not None:
        assert_same(first, expected)
    assert flags.tolist() == [True, True, True]
