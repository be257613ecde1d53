"""Quantized tensors against torch: quantize_per_tensor / per_channel / per_tensor_dynamic to
the bit (halfway cases, clamping, NaN and infinities, every dtype), dequantize, the quantizer's
parameters, printing, views, pickling and torch's checkpoint format, and torch's errors."""

import copy
import io
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, to_ember, to_torch

pytestmark = [pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor"),
              pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")]

RNG = np.random.default_rng(11)
DTYPES = ["qint8", "quint8", "qint32"]
RANGES = {"qint8": (-128, 127), "quint8": (0, 255), "qint32": (-2 ** 31, 2 ** 31 - 1)}


def both_dtypes(name):
    return getattr(ember, name), getattr(torch, name)


def assert_same_quantized(e, t):
    """Same dtype, scheme, parameters, integers (exactly) and dequantized values (exactly)."""
    assert isinstance(e, ember.Tensor) and e.is_quantized and t.is_quantized
    assert str(e.dtype) == str(t.dtype) and str(e.qscheme()) == str(t.qscheme())
    assert tuple(e.shape) == tuple(t.shape)
    if t.qscheme() in (torch.per_tensor_affine, torch.per_tensor_symmetric):
        assert e.q_scale() == t.q_scale() and e.q_zero_point() == t.q_zero_point()
    else:
        assert_same(e.q_per_channel_scales(), t.q_per_channel_scales(), exact=True)
        assert_same(e.q_per_channel_zero_points(), t.q_per_channel_zero_points(), exact=True)
        assert e.q_per_channel_axis() == t.q_per_channel_axis()
    assert_same(e.int_repr(), t.int_repr(), exact=True)
    e_values, t_values = e.dequantize().numpy(), t.dequantize().numpy()
    assert e_values.dtype == t_values.dtype == np.float32
    np.testing.assert_array_equal(e_values.view(np.int32), t_values.view(np.int32))


def values_for(scale, zero_point, dtype, n=64):
    """Float32 values around the quantized range: random ones, halfway cases k + ½ (and their
    float32 neighbours), values past both ends, zeros of both signs."""
    qmin, qmax = RANGES[dtype]
    lo, hi = max(qmin, -300) - zero_point, min(qmax, 300) - zero_point
    ks = RNG.integers(lo - 5, hi + 5, n)
    halves = ((ks + 0.5) * scale).astype(np.float32)
    around = np.concatenate([halves, np.nextafter(halves, np.inf), np.nextafter(halves, -np.inf)])
    random = (RNG.uniform(lo - 10, hi + 10, n) * scale).astype(np.float32)
    edges = np.array([0.0, -0.0, (qmax - zero_point + 3) * scale, (qmin - zero_point - 3) * scale,
                      1e30, -1e30], dtype=np.float32)
    return np.concatenate([around, random, edges]).astype(np.float32)


SCALES = [1.0, 0.1, 0.5, 0.25, 0.007843137718737125, 1 / 3, 2.0 ** -10, 3.7, 1e-3, 0.0123456]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", SCALES)
def test_quantize_per_tensor_bits(dtype, scale):
    qmin, qmax = RANGES[dtype]
    for zero_point in sorted({0, max(qmin, -5), min(qmax, 3), min(qmax, 101), qmin, qmax}):
        x = values_for(scale, zero_point, dtype)
        (ed, td), (e, t) = both_dtypes(dtype), (ember.from_numpy(x), torch.from_numpy(x))
        assert_same_quantized(ember.quantize_per_tensor(e, scale, zero_point, ed),
                              torch.quantize_per_tensor(t, scale, zero_point, td))


@pytest.mark.parametrize("dtype", DTYPES)
def test_quantize_non_finite_and_huge(dtype):
    x = np.array([np.nan, np.inf, -np.inf, 3e9, -3e9, 2.5, -2.5, 1.5, 0.5] * 3, np.float32)
    (ed, td) = both_dtypes(dtype)
    for scale, zero_point in [(1.0, 0), (0.1, 3), (1e-30, 0), (7.0, -1 if dtype != "quint8"
                                                              else 200)]:
        e = ember.quantize_per_tensor(ember.from_numpy(x), scale, zero_point, ed)
        t = torch.quantize_per_tensor(torch.from_numpy(x), scale, zero_point, td)
        assert_same(e.int_repr(), t.int_repr(), exact=True)


def test_qint32_large_zero_points_and_scales():
    x = (RNG.standard_normal(200) * 1e6).astype(np.float32)
    for scale, zero_point in [(1e-3, 2 ** 30), (0.37, -(2 ** 31)), (1e-9, 12345), (3.0, 7)]:
        e = ember.quantize_per_tensor(ember.from_numpy(x), scale, zero_point, ember.qint32)
        t = torch.quantize_per_tensor(torch.from_numpy(x), scale, zero_point, torch.qint32)
        assert_same_quantized(e, t)


@pytest.mark.parametrize("shape", [(), (0,), (5,), (3, 0, 2), (2, 3, 4), (17, 33)])
def test_quantize_shapes(shape):
    x = RNG.standard_normal(shape).astype(np.float32)
    e = ember.quantize_per_tensor(ember.from_numpy(x), 0.05, 10, ember.quint8)
    t = torch.quantize_per_tensor(torch.from_numpy(x), 0.05, 10, torch.quint8)
    assert_same_quantized(e, t)
    assert repr(e) == repr(t)


def test_scale_and_zero_point_as_tensors_and_lists():
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    for scale, zp in [(ember.tensor(0.1, dtype=ember.float64), ember.tensor(3)),
                      (ember.tensor([0.2]), ember.tensor([-4]))]:
        e = ember.quantize_per_tensor(ember.from_numpy(x), scale, zp, ember.qint8)
        t = torch.quantize_per_tensor(torch.from_numpy(x), to_torch(scale), to_torch(zp),
                                      torch.qint8)
        assert_same_quantized(e, t)
    es = ember.quantize_per_tensor([ember.from_numpy(x), ember.from_numpy(2 * x)],
                                   ember.tensor([0.1, 0.2]), ember.tensor([1, 2]), ember.quint8)
    ts = torch.quantize_per_tensor([torch.from_numpy(x), torch.from_numpy(2 * x)],
                                   torch.tensor([0.1, 0.2]), torch.tensor([1, 2]), torch.quint8)
    for e, t in zip(es, ts):
        assert_same_quantized(e, t)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_quantize_per_channel_bits(dtype, axis):
    shape = [3, 4, 5]
    channels = shape[axis]
    qmin, qmax = RANGES[dtype]
    scales = RNG.choice(np.array(SCALES), channels)
    zps = RNG.integers(max(qmin, -20), min(qmax, 20) + 1, channels)
    x = (RNG.standard_normal(shape) * 40 * np.max(scales)).astype(np.float32)
    x.reshape(-1)[:20] = (np.round(x.reshape(-1)[:20] / 0.5) * 0.5).astype(np.float32)  # halves
    x.reshape(-1)[20:23] = [np.nan, np.inf, -np.inf]
    (ed, td) = both_dtypes(dtype)
    e = ember.quantize_per_channel(ember.from_numpy(x), ember.from_numpy(scales),
                                   ember.from_numpy(zps), axis, ed)
    t = torch.quantize_per_channel(torch.from_numpy(x), torch.from_numpy(scales),
                                   torch.from_numpy(zps), axis, td)
    assert_same_quantized(e, t)
    assert repr(e) == repr(t)


def test_quantize_per_channel_float_qparams():
    x = (RNG.standard_normal((4, 6)) * 3).astype(np.float32)
    scales, zps = np.array([0.1, 0.02, 0.5, 0.0], np.float32), np.array([3., 0.5, -2., 1.],
                                                                        np.float32)
    e = ember.quantize_per_channel(ember.from_numpy(x), ember.from_numpy(scales),
                                   ember.from_numpy(zps), 0, ember.quint8)
    t = torch.quantize_per_channel(torch.from_numpy(x), torch.from_numpy(scales),
                                   torch.from_numpy(zps), 0, torch.quint8)
    assert_same_quantized(e, t)
    assert repr(e) == repr(t)


@pytest.mark.parametrize("dtype", ["qint8", "quint8"])
@pytest.mark.parametrize("reduce_range", [False, True])
@pytest.mark.parametrize("kind", ["normal", "positive", "negative", "zeros", "tiny", "wide"])
def test_quantize_per_tensor_dynamic(dtype, reduce_range, kind):
    x = {"normal": RNG.standard_normal((5, 7)), "positive": RNG.uniform(1, 3, (5, 7)),
         "negative": -RNG.uniform(1, 3, (5, 7)), "zeros": np.zeros((2, 3)),
         "tiny": RNG.uniform(-1e-7, 1e-6, (4, 4)),
         "wide": RNG.standard_normal((3, 9)) * 1e5}[kind].astype(np.float32)
    (ed, td) = both_dtypes(dtype)
    e = ember.quantize_per_tensor_dynamic(ember.from_numpy(x), ed, reduce_range)
    t = torch.quantize_per_tensor_dynamic(torch.from_numpy(x), td, reduce_range)
    assert_same_quantized(e, t)
    assert repr(e) == repr(t)


def test_quantize_per_tensor_dynamic_float16_and_errors():
    x = RNG.standard_normal((2, 3)).astype(np.float32)
    assert_same(ember.quantize_per_tensor_dynamic(ember.from_numpy(x), ember.float16, False),
                torch.quantize_per_tensor_dynamic(torch.from_numpy(x), torch.float16, False))
    for args in [(x, "qint32", False), (np.zeros(0, np.float32), "quint8", False),
                 (x.astype(np.float64), "quint8", False)]:
        assert_same_error(lambda lib, a, d, r: lib.quantize_per_tensor_dynamic(
            a, getattr(lib, d), r), *args, same_message=True)


def test_dequantize_functions():
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    e = ember.quantize_per_tensor(ember.from_numpy(x), 0.03, 7, ember.quint8)
    t = torch.quantize_per_tensor(torch.from_numpy(x), 0.03, 7, torch.quint8)
    assert_same(ember.dequantize(e), torch.dequantize(t), exact=True)
    for a, b in zip(ember.dequantize([e, e]), torch.dequantize([t, t])):
        assert_same(a, b, exact=True)
    dense = ember.tensor([1.0, 2.0])
    assert dense.dequantize() is dense
    assert_same(ember.tensor([1, 2]).dequantize(), torch.tensor([1, 2]).dequantize(), exact=True)
    assert_same(ember.tensor([1.0], dtype=ember.float64).dequantize(),
                torch.tensor([1.0], dtype=torch.float64).dequantize(), exact=True)
    for name in ("int_repr", "q_scale", "q_per_channel_scales", "q_zero_point"):
        assert_same(getattr(ember, name)(e) if name != "q_per_channel_scales" else
                    ember.tensor(0), getattr(torch, name)(t) if name != "q_per_channel_scales"
                    else torch.tensor(0), exact=True)


def test_make_quantized_tensors():
    for dtype in ("int8", "uint8", "int32"):
        ints = RNG.integers(0, 100, (2, 3)).astype(dtype)
        e = ember._make_per_tensor_quantized_tensor(ember.from_numpy(ints), 0.5, 1)
        t = torch._make_per_tensor_quantized_tensor(torch.from_numpy(ints), 0.5, 1)
        assert_same_quantized(e, t)
    ints = RNG.integers(-50, 50, (2, 3)).astype(np.int8)
    scales, zps = np.array([0.5, 0.25, 1.0]), np.array([0, 1, -3])
    e = ember._make_per_channel_quantized_tensor(ember.from_numpy(ints), ember.from_numpy(scales),
                                                 ember.from_numpy(zps), 1)
    t = torch._make_per_channel_quantized_tensor(torch.from_numpy(ints), torch.from_numpy(scales),
                                                 torch.from_numpy(zps), 1)
    assert_same_quantized(e, t)
    e = ember._empty_affine_quantized([2, 2], scale=0.5, zero_point=3, dtype=ember.qint8)
    t = torch._empty_affine_quantized([2, 2], scale=0.5, zero_point=3, dtype=torch.qint8)
    assert (tuple(e.shape), e.q_scale(), e.q_zero_point(), str(e.dtype)) == (
        tuple(t.shape), t.q_scale(), t.q_zero_point(), str(t.dtype))


def test_metadata_and_dtypes():
    x = RNG.standard_normal((2, 3)).astype(np.float32)
    for dtype in DTYPES:
        ed, td = both_dtypes(dtype)
        e = ember.quantize_per_tensor(ember.from_numpy(x), 0.1, 0, ed)
        t = torch.quantize_per_tensor(torch.from_numpy(x), 0.1, 0, td)
        assert (e.is_quantized, e.element_size(), e.dim(), e.numel(), len(e), e.stride(),
                e.requires_grad, e.is_contiguous(), str(e.layout), str(e.device)) == (
            t.is_quantized, t.element_size(), t.dim(), t.numel(), len(t), t.stride(),
            t.requires_grad, t.is_contiguous(), str(t.layout), str(t.device))
        assert (repr(ed), ed.itemsize, ed.is_floating_point, ed.is_complex) == (
            repr(td), td.itemsize, td.is_floating_point, td.is_complex)
    assert not ember.tensor([1.0]).is_quantized
    for name in ("per_tensor_affine", "per_channel_affine", "per_tensor_symmetric",
                 "per_channel_symmetric", "per_channel_affine_float_qparams"):
        assert repr(getattr(ember, name)) == repr(getattr(torch, name))
        assert isinstance(getattr(ember, name), ember.qscheme)
    assert repr(ember.quint4x2) == repr(torch.quint4x2)


@pytest.mark.parametrize("case", ["per_tensor", "per_channel", "scalar", "empty", "long", "wide"])
def test_repr(case):
    if case == "per_channel":
        x = RNG.standard_normal((3, 4)).astype(np.float32)
        make = lambda lib, a: lib.quantize_per_channel(  # noqa: E731
            a, lib.tensor([0.1, 0.02, 1.5], dtype=lib.float64), lib.tensor([0, 3, -2]), 0,
            lib.qint8)
    else:
        x = {"per_tensor": RNG.standard_normal((2, 5)), "scalar": np.array(2.5),
             "empty": np.zeros((0, 3)), "long": RNG.standard_normal(2000),
             "wide": RNG.standard_normal((3, 40)) * 100}[case].astype(np.float32)
        make = lambda lib, a: lib.quantize_per_tensor(a, 0.0123, 5, lib.quint8)  # noqa: E731
    e, t = make(ember, ember.from_numpy(x)), make(torch, torch.from_numpy(x))
    assert repr(e) == repr(t)
    assert str(e) == str(t)


def test_views_and_copies():
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    e = ember.quantize_per_tensor(ember.from_numpy(x), 0.02, 3, ember.qint8)
    t = torch.quantize_per_tensor(torch.from_numpy(x), 0.02, 3, torch.qint8)
    for fn in (lambda q: q.clone(), lambda q: q.detach(), lambda q: q.reshape(4, 3),
               lambda q: q.view(-1), lambda q: q.t(), lambda q: q[1], lambda q: q[:, 1:3],
               lambda q: q.permute(1, 0), lambda q: q.transpose(0, 1).contiguous(),
               lambda q: q.flatten(), copy.deepcopy):
        assert_same_quantized(fn(e), fn(t))
    c = ember.quantize_per_channel(ember.from_numpy(x), ember.tensor([0.1, 0.2, 0.3]),
                                   ember.tensor([0, 1, 2]), 0, ember.quint8)
    tc = torch.quantize_per_channel(torch.from_numpy(x), torch.tensor([0.1, 0.2, 0.3]),
                                    torch.tensor([0, 1, 2]), 0, torch.quint8)
    for fn in (lambda q: q.clone(), copy.deepcopy):
        assert_same_quantized(fn(c), fn(tc))
    assert_same_error((lambda: c.t(), lambda: tc.t()), same_message=True)


def test_pickle_and_torch_checkpoint():
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    e = ember.quantize_per_tensor(ember.from_numpy(x), 0.02, 3, ember.qint8)
    c = ember.quantize_per_channel(ember.from_numpy(x), ember.tensor([0.1, 0.2, 0.3]),
                                   ember.tensor([0, 1, 2]), 0, ember.quint8)
    for q in (e, c):
        back = pickle.loads(pickle.dumps(q))
        assert repr(back) == repr(q)
    buffer = io.BytesIO()
    ember.save({"q": e, "c": c, "dtype": ember.qint8}, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)  # torch reads ember's quantized tensors
    assert repr(loaded["q"]) == repr(e) and repr(loaded["c"]) == repr(c)
    assert loaded["dtype"] is torch.qint8


ERRORS = [
    (lambda lib, x: lib.quantize_per_tensor(x.double(), 0.1, 0, lib.qint8)),
    (lambda lib, x: lib.quantize_per_tensor(x.long(), 0.1, 0, lib.qint8)),
    (lambda lib, x: lib.quantize_per_tensor(x, 0.1, 0, lib.int8)),
    (lambda lib, x: lib.quantize_per_tensor(x, 0.1, 300, lib.qint8)),
    (lambda lib, x: lib.quantize_per_tensor(x, 0.1, -1, lib.quint8)),
    (lambda lib, x: lib.quantize_per_channel(x, lib.tensor([0.1, 1.0]), lib.tensor([3, 0]), 1,
                                             lib.qint8)),
    (lambda lib, x: lib.quantize_per_channel(x, lib.tensor([0.1, 1.0]), lib.tensor([3, 0]), 2,
                                             lib.qint8)),
    (lambda lib, x: lib.quantize_per_channel(x, lib.tensor([0.1, 1.0]), lib.tensor([3, 0, 1]),
                                             0, lib.qint8)),
    (lambda lib, x: lib.quantize_per_channel(x, lib.tensor([[0.1, 1.0]]), lib.tensor([3, 0]),
                                             0, lib.qint8)),
    (lambda lib, x: lib.quantize_per_channel(x, lib.tensor([0.1, 1.0]), lib.tensor([300, 0]),
                                             0, lib.qint8)),
    (lambda lib, x: lib.quantize_per_channel(x.double(), lib.tensor([0.1, 1.0]),
                                             lib.tensor([3, 0]), 0, lib.qint8)),
    (lambda lib, x: lib._make_per_tensor_quantized_tensor(lib.tensor([1, 2]), 0.5, 1)),
    (lambda lib, x: lib.quantize_per_tensor(x, 0.1, 0, lib.qint8).q_per_channel_scales()),
    (lambda lib, x: lib.quantize_per_channel(x, lib.tensor([0.1, 1.0]), lib.tensor([3, 0]), 0,
                                             lib.qint8).q_scale()),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors(index):
    x = RNG.standard_normal((2, 4)).astype(np.float32)
    assert_same_error(ERRORS[index], x, same_message=True)


@pytest.mark.parametrize("name", ["int_repr", "q_scale", "q_zero_point", "qscheme",
                                  "q_per_channel_axis"])
def test_dense_tensor_has_no_quantizer(name):
    assert_same_error(lambda lib, x: getattr(x, name)(), np.ones(2, np.float32),
                      match=f"Could not run 'aten::{name}' with arguments from the 'CPU' backend")


def test_quantized_tensor_refuses_dense_use():
    e = ember.quantize_per_tensor(ember.tensor([1.0, 2.0]), 0.1, 0, ember.quint8)
    t = torch.quantize_per_tensor(torch.tensor([1.0, 2.0]), 0.1, 0, torch.quint8)
    assert_same_error((lambda: e.numpy(), lambda: t.numpy()), same_message=True)
    with pytest.raises(Exception):
        e.sum()
    assert_same_error((lambda: ember.iinfo(e.dtype).bits and e.tolist(), lambda: t.tolist()))


def test_deprecation_warning_text():
    ember._quantized._warned.clear()
    with pytest.warns(UserWarning, match="quantized tensor creation functions") as record:
        ember.quantize_per_tensor(ember.tensor([1.0]), 0.1, 0, ember.qint8)
    # torch warns once a process (TORCH_WARN_ONCE), so its text is written here, less the
    # "(Triggered internally at ...)" of its C++ source
    assert str(record[0].message) == (
        "torch.quantize_per_tensor, torch.quantize_per_channel and other quantized tensor "
        "creation functions that produce tensors with dtype torch.quint8, torch.qint8, and "
        "torch.qint32 are deprecated and will be removed in a future PyTorch release. Please "
        "see https://github.com/pytorch/pytorch/issues/184982 for more information.")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.quantize_per_tensor(ember.tensor([1.0]), 0.1, 0, ember.qint8)  # once only


def test_round_trip_through_ember_tensor_conversion():
    x = RNG.standard_normal((2, 3)).astype(np.float32)
    e = ember.quantize_per_tensor(to_ember(x), 0.1, 2, ember.quint8)
    t = torch.quantize_per_tensor(to_torch(x), 0.1, 2, torch.quint8)
    assert_same(e.int_repr(), t.int_repr(), exact=True)


def test_torch_saved_quantized_tensors_load():
    x = torch.from_numpy(RNG.standard_normal((3, 4)).astype(np.float32))
    saved = {"q": torch.quantize_per_tensor(x, 0.1, 3, torch.quint8),
             "c": torch.quantize_per_channel(x, torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64),
                                             torch.tensor([0, 1, 2]), 0, torch.qint8),
             "i": torch.quantize_per_tensor(x, 0.01, -5, torch.qint32),
             "dtype": torch.quint8, "scheme": torch.per_channel_affine}
    saved["t"] = saved["q"].t()
    buffer = io.BytesIO()
    torch.save(saved, buffer)
    buffer.seek(0)
    loaded = ember.load(buffer)
    for key in ("q", "c", "i", "t"):
        assert_same_quantized(loaded[key], saved[key])
    assert loaded["dtype"] is ember.quint8 and loaded["scheme"] is ember.per_channel_affine
