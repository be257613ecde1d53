"""`ember.ops.aten` (ember/ops/aten.py) against `torch.ops.aten`: the packets and overload
objects (names, reprs, overload lists, dispatch, AttributeError for unknown names), and each
op's values, dtypes, gradients (torch's, and gradcheck in float64) and errors:
_softmax_backward_data, _safe_softmax, _batch_norm_with_update, _upsample_bilinear2d_aa,
max_pool2d_with_indices_backward, slice and native_dropout_backward."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import (assert_same, assert_same_error, assert_same_grads,
                                gradcheck64, gradgradcheck64, to_ember)

RNG = np.random.default_rng(0)
OPS = ("_softmax_backward_data", "_safe_softmax", "_batch_norm_with_update",
       "_upsample_bilinear2d_aa", "max_pool2d_with_indices_backward", "slice",
       "native_dropout_backward")
DTYPES = (torch.float32, torch.float64)
TOL = {torch.float32: (1e-5, 1e-6), torch.float64: (1e-10, 1e-12)}


def _aten(lib):
    return lib.ops.aten


def _randn(shape, dtype, requires_grad=False):
    t = torch.from_numpy(RNG.standard_normal(shape)).to(dtype)
    return t.requires_grad_(requires_grad)


def _run(call, *args):
    """(ember result, torch result) of call(aten, *args); the args' leaves made per library
    (converted from clones: a torch tensor seen by NumPy can no longer be resized as `out`)."""
    clones = [a.detach().clone().requires_grad_(a.requires_grad)
              if isinstance(a, torch.Tensor) else a for a in args]
    return call(ember.ops.aten, *to_ember(clones)), call(torch.ops.aten, *args)


def _compare(call, args, dtype, exact=False):
    """Values and the gradients of every floating leaf of args (a seeded weighted sum)."""
    e_args = to_ember(args)
    e_out, t_out = call(ember.ops.aten, *e_args), call(torch.ops.aten, *args)
    rtol, atol = TOL[dtype]
    e_outs = e_out if isinstance(e_out, tuple) else (e_out,)
    t_outs = t_out if isinstance(t_out, tuple) else (t_out,)
    assert len(e_outs) == len(t_outs)
    for e, t in zip(e_outs, t_outs):
        assert_same(e, t, rtol, atol, exact=exact)
    if not t_outs[0].requires_grad:
        return
    w = torch.from_numpy(RNG.standard_normal(tuple(t_outs[0].shape))).to(t_outs[0].dtype)
    (t_outs[0] * w).sum().backward()
    (e_outs[0] * to_ember(w)).sum().backward()
    leaves = [(e, t) for e, t in zip(e_args, args) if isinstance(t, torch.Tensor)]
    assert_same_grads([e for e, _ in leaves], [t for _, t in leaves], rtol * 10, atol * 10)
    for e, t in leaves:
        assert (e.grad is None) == (t.grad is None), (e.grad, t.grad)


# ---- the namespace -------------------------------------------------------------------------
@pytest.mark.parametrize("name", OPS)
def test_packet_names_and_overloads(name):
    e, t = getattr(ember.ops.aten, name), getattr(torch.ops.aten, name)
    assert (repr(e), str(e), e.__name__) == (repr(t), str(t), t.__name__)
    assert e._qualified_op_name == t._qualified_op_name
    assert sorted(e.overloads()) == sorted(t.overloads())
    for overload in t.overloads():
        eo, to = getattr(e, overload), getattr(t, overload)
        assert (repr(eo), str(eo), eo.__name__, eo.name()) == \
            (repr(to), str(to), to.__name__, to.name())
        assert eo.overloadpacket is e and eo._overloadname == overload


def test_unknown_op_and_overload_raise_attribute_error():
    with pytest.raises(AttributeError, match="'no_such_op'"):
        ember.ops.aten.no_such_op  # noqa: B018
    with pytest.raises(AttributeError) as expected:
        torch.ops.aten.slice.default  # noqa: B018
    with pytest.raises(AttributeError) as raised:
        ember.ops.aten.slice.default  # noqa: B018
    assert str(raised.value) == str(expected.value)
    assert not hasattr(ember.ops.aten, "softmax_grad")


def test_only_ops_are_public_and_ops_stays_the_package():
    """Every name of the namespace is a packet, or private and not an aten op in torch."""
    packet = type(ember.ops.aten.slice)
    for name in dir(ember.ops.aten):
        if name.startswith("__"):
            continue
        value = getattr(ember.ops.aten, name)
        if isinstance(value, packet):
            assert hasattr(torch.ops.aten, name), name
        else:
            assert name.startswith("_") and not hasattr(torch.ops.aten, name), name
    assert hasattr(ember.ops, "__path__") and ember.ops.softmax.softmax is not None


def test_top_level_names_as_in_torch():
    for name in OPS + ("_batch_norm_no_update",):
        assert hasattr(ember, name) == hasattr(torch, name), name
    x = _randn((3, 4), torch.float32)
    y = torch.softmax(x, 1)
    assert_same(ember._softmax_backward_data(*to_ember((x, y)), 1, ember.float32),
                torch._softmax_backward_data(x, y, 1, torch.float32))
    assert_same(ember._safe_softmax(to_ember(x), 0), torch._safe_softmax(x, 0))


def test_packet_dispatch_by_types():
    """The packet picks the overload the arguments fit; a call nothing fits is a RuntimeError."""
    e, t = _run(lambda a, x: a._upsample_bilinear2d_aa(x, None, False, [0.5, 0.5]),
                _randn((1, 2, 6, 8), torch.float32))
    assert_same(e, t)
    assert ember.ops.aten.slice("hello", 1, None, 2) == torch.ops.aten.slice("hello", 1, None, 2)
    assert ember.ops.aten.slice.str("hello", -3) == torch.ops.aten.slice.str("hello", -3)
    # torch's generic list overload `slice.t` takes no Python list: a RuntimeError in both
    for call in (lambda a: a.slice(1), lambda a: a._safe_softmax(1, 1),
                 lambda a: a._safe_softmax.default(_ones(a)),
                 lambda a: a.slice.Tensor([1, 2]), lambda a: a.slice([1, 2, 3, 4], 1, 3),
                 lambda a: a.slice.t([1, 2, 3], -2),
                 lambda a: a._safe_softmax.default(_ones(a), 0, None, 3),
                 lambda a: a._safe_softmax(_ones(a), 0, foo=3),
                 lambda a: a._safe_softmax.default(_ones(a), 0, dim=3)):
        with pytest.raises(RuntimeError) as expected:
            call(torch.ops.aten)
        with pytest.raises(RuntimeError) as raised:
            call(ember.ops.aten)
        assert _head(raised.value) == _head(expected.value)


def _ones(aten):
    return torch.ones(2) if aten is torch.ops.aten else ember.ones(2)


def _head(error):
    """A schema error's message up to the schema it prints (ember prints a Python signature)."""
    return str(error).split("\n")[0].split(" Declaration:")[0].split(" Schema:")[0]


# ---- _softmax_backward_data, _safe_softmax --------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, dim", [((5,), 0), ((4, 5), 0), ((3, 4, 5), -1)])
def test_softmax_backward_data(shape, dim, dtype):
    g = _randn(shape, dtype, True)
    y = torch.softmax(_randn(shape, dtype), dim).requires_grad_()
    _compare(lambda a, g, y: a._softmax_backward_data(g, y, dim, g.dtype), (g, y), dtype)


def test_softmax_backward_data_overloads_and_dtypes():
    g, y = _randn((3, 4), torch.float32), torch.softmax(_randn((3, 4), torch.float32), 1)
    for call in (lambda a, g, y, o: a._softmax_backward_data.out(g, y, 1, g.dtype, grad_input=o),
                 lambda a, g, y, o: a._softmax_backward_data(g, y, 1, torch.float64
                                                             if a is torch.ops.aten
                                                             else ember.float64)):
        e, t = _run(call, g, y, torch.empty(0))
        assert_same(e, t)
    for dtype in (torch.float16, torch.bfloat16):
        t = torch.ops.aten._softmax_backward_data(g.to(dtype), y.to(dtype), 0, dtype)
        e16 = getattr(ember, str(dtype).rsplit(".", 1)[-1])
        e = ember.ops.aten._softmax_backward_data(*(to_ember(a).to(e16) for a in (g, y)), 0, e16)
        assert str(e.dtype) == str(t.dtype)
        assert_same(e.float(), t.float(), 1e-2, 1e-3)
    assert_same_error(lambda lib, g, y: lib.ops.aten._softmax_backward_data(g, y, 1,
                                                                           lib.float16), g, y)
    assert_same_error(lambda lib, g, y: lib.ops.aten._softmax_backward_data(g, y, 1,
                                                                           lib.float32),
                      g.double(), y)


@pytest.mark.parametrize("code", [True, False, 6, 7])
def test_softmax_backward_data_takes_a_bool_or_int_as_a_dtype_code(code):
    # torch.ops' schema matching reads a bool as an int, and any int as a ScalarType code
    g, y = _randn((3, 4), torch.float32), torch.softmax(_randn((3, 4), torch.float32), 1)
    assert_same(ember.ops.aten._softmax_backward_data(*to_ember((g, y)), 1, code),
                torch.ops.aten._softmax_backward_data(g, y, 1, code))


def test_softmax_backward_data_gradcheck():
    y = torch.softmax(_randn((3, 4), torch.float64), 1).numpy()
    g = RNG.standard_normal((3, 4))
    def fn(g, y):
        return ember.ops.aten._softmax_backward_data(g, y, 1, ember.float64)

    assert gradcheck64(fn, g, y)
    assert gradgradcheck64(fn, g, y)


@pytest.mark.parametrize("dtype", DTYPES)
def test_safe_softmax_rows_of_minus_inf(dtype):
    x = _randn((4, 3), dtype)
    x[1] = -torch.inf
    x[3, 0] = -torch.inf
    _compare(lambda a, x: a._safe_softmax(x, 1), (x.requires_grad_(),), dtype)
    x = _randn((2, 3, 4), dtype, True)
    _compare(lambda a, x: a._safe_softmax.default(x, -2), (x,), dtype)


def test_safe_softmax_dtype_and_errors():
    x = torch.tensor([[1, 2], [3, 4]])
    e, t = _run(lambda a, x: a._safe_softmax(x, 1, torch.float64 if a is torch.ops.aten
                                                   else ember.float64), x)
    assert_same(e, t)
    assert_same_error(lambda lib, x: lib.ops.aten._safe_softmax(x, 1), x)
    # a ScalarType code no dtype has: torch 2.13 raises RuntimeError "Unsupported TypeMeta"
    # (and may crash later: its state is corrupted, so torch is not called with it here)
    with pytest.raises(RuntimeError, match="Unsupported ScalarType 100"):
        ember.ops.aten._safe_softmax(ember.ones(2), 0, 100)
    assert gradcheck64(lambda x: ember.ops.aten._safe_softmax(x, 0), RNG.standard_normal((3, 2)))


# ---- _batch_norm_with_update ----------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, momentum, eps", [((5, 3, 4), 0.1, 1e-5), ((4, 2), -1.2, 0.6),
                                                  ((2, 3, 2, 2), 0.0, 1e-5)])
def test_batch_norm_with_update(shape, momentum, eps, dtype):
    c = shape[1]
    args = (_randn(shape, dtype, True), _randn((c,), dtype, True), _randn((c,), dtype, True),
            _randn((c,), dtype), _randn((c,), dtype).abs())
    e_args = to_ember(args)
    _compare(lambda a, *xs: a._batch_norm_with_update(*xs, momentum, eps), args, dtype)
    e_out = ember.ops.aten._batch_norm_with_update(*e_args, momentum, eps)
    for e, t in zip(e_args[3:], args[3:]):  # the running statistics, updated in place once
        assert_same(e, t, *TOL[dtype])
    assert e_out[3].dtype == ember.uint8 and tuple(e_out[3].shape) == (0,)


def test_batch_norm_with_update_out_and_gradcheck():
    args = (_randn((4, 3, 2), torch.float32), _randn((3,), torch.float32), None,
            _randn((3,), torch.float32), torch.ones(3))
    outs = tuple(torch.empty(0) for _ in range(3)) + (torch.empty(0, dtype=torch.uint8),)
    e_outs = tuple(ember.empty(0) for _ in range(3)) + (ember.empty(0, dtype=ember.uint8),)
    e = ember.ops.aten._batch_norm_with_update.out(*to_ember(args), 0.1, 1e-5, out=e_outs[0],
                                                   save_mean=e_outs[1], save_invstd=e_outs[2],
                                                   reserve=e_outs[3])
    t = torch.ops.aten._batch_norm_with_update.out(*args, 0.1, 1e-5, out=outs[0],
                                                   save_mean=outs[1], save_invstd=outs[2],
                                                   reserve=outs[3])
    for eo, to, written in zip(e, t, e_outs):
        assert eo is written
        assert_same(eo, to, 1e-5, 1e-6)
    stats = (ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64))
    assert gradcheck64(lambda x, w, b: ember.ops.aten._batch_norm_with_update(
        x, w, b, *stats, 0.1, 1e-5)[0], RNG.standard_normal((4, 3)), RNG.random(3) + 0.5,
        RNG.standard_normal(3))


# ---- _upsample_bilinear2d_aa ----------------------------------------------------------------
UPSAMPLE = {  # id -> call(aten, x)
    "down": lambda a, x: a._upsample_bilinear2d_aa(x, [3, 3], False),
    "up_align": lambda a, x: a._upsample_bilinear2d_aa(x, [9, 13], True),
    "scales": lambda a, x: a._upsample_bilinear2d_aa.default(x, [3, 4], False, 0.3, None),
    "scales_kw": lambda a, x: a._upsample_bilinear2d_aa(x, output_size=[3, 5],
                                                        align_corners=False, scales_w=0.4),
    "vec_factors": lambda a, x: a._upsample_bilinear2d_aa(x, None, False, [1.7, 0.9]),
    "vec_size": lambda a, x: a._upsample_bilinear2d_aa.vec(x, (4, 2), True, None),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", UPSAMPLE)
def test_upsample_bilinear2d_aa(case, dtype):
    _compare(UPSAMPLE[case], (_randn((2, 3, 6, 8), dtype, True),), dtype)


def test_upsample_bilinear2d_aa_out_uint8_and_gradcheck():
    x = _randn((1, 2, 6, 8), torch.float32)
    e, t = _run(lambda a, x, o: a._upsample_bilinear2d_aa.out(x, [3, 5], False, out=o), x,
                torch.empty(0))
    assert_same(e, t)
    img = torch.from_numpy(RNG.integers(0, 256, (1, 3, 7, 9), dtype=np.uint8))
    e, t = _run(UPSAMPLE["down"], img)
    assert_same(e, t, exact=True)
    assert gradcheck64(lambda x: ember.ops.aten._upsample_bilinear2d_aa(x, [3, 5], False),
                       RNG.standard_normal((1, 1, 5, 7)))


@pytest.mark.parametrize("call", [
    lambda a, x: a._upsample_bilinear2d_aa(x[0], [3, 4], False),
    lambda a, x: a._upsample_bilinear2d_aa(x, [3], False),
    lambda a, x: a._upsample_bilinear2d_aa(x, [0, 4], False),
    lambda a, x: a._upsample_bilinear2d_aa(x, [3, 4], False, [0.5, 0.5]),
    lambda a, x: a._upsample_bilinear2d_aa(x, None, False, None),
    lambda a, x: a._upsample_bilinear2d_aa(x, None, False, [0.5]),
    lambda a, x: a._upsample_bilinear2d_aa(x.half(), [3, 4], False),
    lambda a, x: a._upsample_bilinear2d_aa(x.long(), [3, 4], False),
], ids=["3d", "size1", "size0", "both", "neither", "factors1", "half", "long"])
def test_upsample_bilinear2d_aa_errors(call):
    assert_same_error(lambda lib, x: call(lib.ops.aten, x), _randn((1, 2, 6, 8), torch.float32))


# ---- max_pool2d_with_indices_backward -------------------------------------------------------
POOLS = {  # id -> (input shape, kernel, stride, padding, dilation, ceil_mode)
    "plain": ((2, 3, 6, 6), [2, 2], [2, 2], [0, 0], [1, 1], False),
    "overlap": ((1, 2, 5, 7), [3, 2], [1, 1], [1, 1], [1, 1], False),
    "dilated_ceil": ((1, 2, 3, 6), [3, 3], [2, 2], [0, 0], [1, 2], True),
    "unbatched": ((2, 5, 5), [2, 3], [2, 1], [1, 0], [1, 1], True),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOLS)
def test_max_pool2d_with_indices_backward(case, dtype):
    shape, kernel, stride, padding, dilation, ceil_mode = POOLS[case]
    x = _randn(shape, dtype)
    _, idx = torch.nn.functional.max_pool2d_with_indices(x, kernel, stride, padding, dilation,
                                                         ceil_mode, True)
    gy = _randn(tuple(idx.shape), dtype, True)
    _compare(lambda a, gy, x, i: a.max_pool2d_with_indices_backward(
        gy, x, kernel, stride, padding, dilation, ceil_mode, i), (gy, x.requires_grad_(), idx),
        dtype)


def test_max_pool2d_with_indices_backward_overloads_grads_and_errors():
    x = _randn((1, 2, 5, 5), torch.float64)
    _, idx = torch.nn.functional.max_pool2d_with_indices(x, 3, 1, 1, 1, False, True)
    geometry = ([3, 3], [1, 1], [1, 1], [1, 1], False)
    e, t = _run(lambda a, g, x, i, o: a.max_pool2d_with_indices_backward.grad_input(
        g, x, *geometry, i, grad_input=o), torch.ones(1, 2, 5, 5, dtype=torch.float64), x, idx,
        torch.empty(0, dtype=torch.float64))
    assert_same(e, t)
    e_x, e_idx = to_ember((x, idx))
    def fn(g):
        return ember.ops.aten.max_pool2d_with_indices_backward(g, e_x, *geometry, e_idx)

    assert gradcheck64(fn, RNG.standard_normal((1, 2, 5, 5)))
    assert gradgradcheck64(fn, RNG.standard_normal((1, 2, 5, 5)))
    assert_same_error(lambda lib, g, x, i: lib.ops.aten.max_pool2d_with_indices_backward(
        g, x, *geometry, i), torch.ones(1, 2, 3, 5, dtype=torch.float64), x, idx)


# ---- slice ----------------------------------------------------------------------------------
SLICES = [(0, None, None, 1), (1, 1, -2, 1), (1, 1, -2, 3), (-1, -100, 50, 2), (2, 3, 1, 1),
          (0, 2, 2, 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim, start, end, step", SLICES)
def test_slice_tensor(dim, start, end, step, dtype):
    x = _randn((4, 6, 5), dtype, True)
    _compare(lambda a, x: a.slice(x, dim, start, end, step), (x,), dtype)


def test_slice_is_a_view_and_errors():
    base = ember.arange(10.0)
    view = ember.ops.aten.slice.Tensor(base, 0, 2, 8, 2)
    base[4] = 100.0
    assert view.tolist() == [2.0, 100.0, 6.0]
    assert ember.ops.aten.slice(base).tolist() == base.tolist()
    for call in (lambda a, x: a.slice(x, 0, 0, 5, 0), lambda a, x: a.slice(x, 0, 0, 5, -1),
                 lambda a, x: a.slice(x[0], 0, 0, 1), lambda a, x: a.slice(x, 1)):
        assert_same_error(lambda lib, x: call(lib.ops.aten, x), torch.arange(10.0))
    assert gradgradcheck64(lambda x: ember.ops.aten.slice(x, 1, 1, None, 2) ** 2,
                           RNG.standard_normal((2, 5)))


# ---- native_dropout_backward ----------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [0.0, 1.0, 2.0, 1 / 0.7])
def test_native_dropout_backward(scale, dtype):
    g = _randn((3, 4, 5), dtype, True)
    mask = torch.from_numpy(RNG.random((3, 4, 5)) < 0.6)
    _compare(lambda a, g, m: a.native_dropout_backward(g, m, scale), (g, mask), dtype)


def test_native_dropout_backward_16_bit_int_float_mask_out_and_gradcheck():
    mask = torch.from_numpy(RNG.random((40,)) < 0.6)
    g = _randn((40,), torch.float32)
    for dtype in (torch.float16, torch.bfloat16):  # rounded once from float32, as torch does
        t = torch.ops.aten.native_dropout_backward(g.to(dtype), mask, 1 / 0.7)
        e16 = getattr(ember, str(dtype).rsplit(".", 1)[-1])
        e = ember.ops.aten.native_dropout_backward(to_ember(g).to(e16), to_ember(mask), 1 / 0.7)
        assert str(e.dtype) == str(t.dtype)
        assert_same(e.float(), t.float(), 0, 0)
    ints = torch.from_numpy(RNG.integers(-5, 5, (40,)))
    for args in ((ints, mask, 1 / 0.7), (g, mask.float(), 2.0)):
        e, t = _run(lambda a, g, m, s: a.native_dropout_backward.default(g, m, s), *args)
        assert_same(e, t)
    e, t = _run(lambda a, g, m, o: a.native_dropout_backward.out(g, m, 2.0, out=o), g, mask,
                torch.empty(0))
    assert_same(e, t)
    e_mask = to_ember(mask)
    assert gradgradcheck64(lambda g: ember.ops.aten.native_dropout_backward(g, e_mask, 1.5),
                           RNG.standard_normal(40))


ATEN_CONVERSIONS = {  # value for `dim` (int) / `input_dtype` (ScalarType) / `scale` (float)
    "dim_0d_int_tensor": ("dim", np.array(1)), "dim_0d_float_tensor": ("dim", np.array(1.0)),
    "dim_one_element": ("dim", np.array([1])), "dim_two_elements": ("dim", np.array([1, 0])),
    "dim_bool": ("dim", True), "dim_python_float": ("dim", 1.0),
    "dtype_code": ("input_dtype", 7), "dtype_code_tensor": ("input_dtype", np.array(6)),
    "dtype_float": ("input_dtype", 6.0), "scale_tensor": ("scale", np.array([2.0])),
    "scale_int": ("scale", 2), "scale_two_elements": ("scale", np.array([2.0, 3.0])),
    # issue #19's fuzz: any int64 is a ScalarType code (its low byte; one no dtype has leaves
    # the result as it is), a float tensor's value truncated; NaN, inf and floats beyond int64
    # do not match the schema
    "dtype_unknown_code": ("input_dtype", 100), "dtype_negative_code": ("input_dtype", -1),
    "dtype_code_2_40": ("input_dtype", 2 ** 40),
    "dtype_float_tensor": ("input_dtype", np.array([1.5])),
    "dtype_huge_float_tensor": ("input_dtype", np.array([3e38])),
    "dtype_nan_tensor": ("input_dtype", np.array(np.nan)),
    "dtype_inf_tensor": ("input_dtype", np.array(-np.inf)),
    "dtype_half_code_tensor": ("input_dtype", np.array(5)),
}


@pytest.mark.parametrize("case", ATEN_CONVERSIONS)
def test_schema_matching_converts_numbers_as_torch_ops_does(case):
    """torch.ops takes a one-element tensor where a number or a dtype goes, and an int where a
    dtype goes (a ScalarType code); a Python float is no int, two elements no number."""
    key, value = ATEN_CONVERSIONS[case]
    y = np.random.default_rng(0).random((3, 4)).astype(np.float32)

    def call(lib, y):
        given = lib.tensor(value) if isinstance(value, np.ndarray) else value
        if key == "scale":
            return lib.ops.aten.native_dropout_backward(y, y > 0.5, given)
        args = {"dim": 1, "input_dtype": lib.float32, key: given}
        return lib.ops.aten._softmax_backward_data(y, y, args["dim"], args["input_dtype"])

    try:
        expected = call(torch, torch.tensor(y))
    except Exception:  # noqa: BLE001 - the class is what is compared
        assert_same_error(call, torch.tensor(y))
        return
    assert_same(call(ember, ember.tensor(y)), expected)
