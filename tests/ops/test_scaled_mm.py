"""ember._scaled_mm / _scaled_mm_v2 against PyTorch's CPU kernels: values, dtypes, shapes and
exception types over operand dtypes, scalings (TensorWise, RowWise), output dtypes, bias,
scale_result, out= and overflow (where PyTorch's two CPU paths differ: the tests run torch on
the same machine, and ember picks the path PyTorch picks, NOTE in ember/ops/scaled_mm.py)."""

import numpy as np
import pytest
import torch
from torch.nn.functional import ScalingType, SwizzleType

import ember
from tests.differential import assert_same, dtype_name

E4, E5 = "float8_e4m3fn", "float8_e5m2"
# one float8 step: results rounded to float8 may flip at a tie when the float32 sums differ
FLOAT8_RTOL = {E4: 0.125, E5: 0.25}


def _ember(t):
    """An ember copy of a torch tensor (float8 through its bytes), or of a nested list."""
    if isinstance(t, (list, tuple)):
        return type(t)(_ember(x) for x in t)
    if isinstance(t, torch.dtype):
        return getattr(ember, dtype_name(t))
    if not isinstance(t, torch.Tensor):
        return t
    if t.dtype in (torch.float8_e4m3fn, torch.float8_e5m2, torch.float8_e4m3fnuz,
                   torch.float8_e5m2fnuz, torch.float8_e8m0fnu):
        return _ember(t.view(torch.uint8)).view(getattr(ember, dtype_name(t)))
    if t.dtype is torch.bfloat16:
        return _ember(t.float()).to(ember.bfloat16)
    return ember.from_numpy(t.numpy().copy(order="K"))  # the copy keeps t's strides


def _kwargs(kwargs):
    return {k: (getattr(ember, dtype_name(v)) if isinstance(v, torch.dtype) else _ember(v))
            for k, v in kwargs.items()}


def _float8(shape, name, scale=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g) * scale).to(getattr(torch, name))


def _compare(e, t):
    """Same dtype and shape; values equal (float8: within one step of its grid, NaN / inf
    where torch has them)."""
    assert dtype_name(e) == dtype_name(t)
    assert tuple(e.shape) == tuple(t.shape)
    name = dtype_name(t)
    if name in FLOAT8_RTOL:
        a, b = e.float().numpy(), t.float().numpy()
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_array_equal(np.isinf(a), np.isinf(b))
        exact = np.mean(a[np.isfinite(b)] == b[np.isfinite(b)]) if np.isfinite(b).any() else 1.0
        assert exact >= 0.97, exact
        np.testing.assert_allclose(a, b, rtol=FLOAT8_RTOL[name], atol=0)
    else:
        assert_same(e.float(), t.float(), rtol=1e-5, atol=1e-4)


def _run_both(fn_name, args, kwargs=None):
    """Run the op in torch and ember: same result, or the same exception type."""
    kwargs = kwargs or {}
    try:
        expected = getattr(torch, fn_name)(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - ember must raise the type torch raises
        with pytest.raises(type(error)):
            getattr(ember, fn_name)(*_ember(list(args)), **_kwargs(kwargs))
        return None
    result = getattr(ember, fn_name)(*_ember(list(args)), **_kwargs(kwargs))
    _compare(result, expected)
    return result


SHAPES = [(15, 16, 32), (4, 8, 3), (1, 1, 1), (0, 8, 3), (4, 8, 0)]
PAIRS = [(E4, E4), (E4, E5), (E5, E4), (E5, E5)]
OUT_DTYPES = [None, torch.float32, torch.bfloat16, torch.float16, torch.float8_e4m3fn,
              torch.float8_e5m2]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("out_dtype", OUT_DTYPES)
def test_tensorwise(shape, pair, out_dtype):
    """One scale per matrix, every output dtype, in range."""
    m, k, n = shape
    a, b = _float8((m, k), pair[0], 3.0, 1), _float8((n, k), pair[1], 3.0, 2).t()
    args = (a, b, torch.tensor(0.75), torch.tensor(1.25))
    _run_both("_scaled_mm", args, {"out_dtype": out_dtype})


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("out_dtype", [None, torch.float32, torch.float8_e4m3fn])
def test_rowwise(pair, out_dtype):
    """(M, 1) and (1, N) float32 scales: each row of a and column of b scaled."""
    g = torch.Generator().manual_seed(3)
    a, b = _float8((6, 16), pair[0], 2.0, 3), _float8((16, 5), pair[1], 2.0, 4)
    scale_a, scale_b = torch.rand(6, 1, generator=g) + 0.5, torch.rand(1, 5, generator=g) + 0.5
    _run_both("_scaled_mm", (a, b, scale_a, scale_b), {"out_dtype": out_dtype})


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("out_dtype", [None, torch.float32, torch.bfloat16, torch.float8_e4m3fn])
@pytest.mark.parametrize("bias_dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_bias(pair, out_dtype, bias_dtype):
    """A bias of N values is added in float32 before the one cast."""
    a, b = _float8((5, 8), pair[0], 2.0, 5), _float8((8, 7), pair[1], 2.0, 6)
    bias = torch.randn(7, generator=torch.Generator().manual_seed(7)).to(bias_dtype)
    _run_both("_scaled_mm", (a, b, torch.tensor(0.5), torch.tensor(2.0)),
              {"bias": bias, "out_dtype": out_dtype})


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("out_dtype", [None, torch.float8_e4m3fn, torch.float8_e5m2,
                                       torch.float32])
def test_scale_result(pair, out_dtype):
    """scale_result divides the result only when out_dtype names e4m3fn or e5m2."""
    a, b = _float8((5, 8), pair[0], 4.0, 8), _float8((8, 7), pair[1], 4.0, 9)
    result = _run_both("_scaled_mm", (a, b, torch.tensor(1.0), torch.tensor(1.0)),
                       {"scale_result": torch.tensor(8.0), "out_dtype": out_dtype})
    plain = ember._scaled_mm(_ember(a), _ember(b), ember.tensor(1.0), ember.tensor(1.0),
                             out_dtype=_kwargs({"d": out_dtype})["d"])
    divided = out_dtype in (torch.float8_e4m3fn, torch.float8_e5m2)
    assert bool((result.float() == plain.float()).all()) is not divided


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("out_dtype", [None, torch.float8_e4m3fn, torch.float8_e5m2])
def test_overflow(pair, out_dtype):
    """Results past float8's range: 448 / inf (emulation) or NaN / inf (oneDNN), as torch."""
    a, b = _float8((8, 16), pair[0], 100.0, 10), _float8((16, 4), pair[1], 100.0, 11)
    _run_both("_scaled_mm", (a, b, torch.tensor(30.0), torch.tensor(30.0)),
              {"out_dtype": out_dtype})


@pytest.mark.parametrize("pair", [(E4, E5), (E5, E4)])
@pytest.mark.parametrize("out_dtype", [None, torch.float32])
def test_empty_k(pair, out_dtype):
    """K = 0: zeros, as torch's emulation gives (its oneDNN path, taken for equal operand
    dtypes on AMX CPUs, leaves the result uninitialised, so only mixed pairs compare)."""
    a, b = _float8((4, 0), pair[0]), _float8((0, 3), pair[1])
    result = _run_both("_scaled_mm", (a, b, torch.tensor(1.0), torch.tensor(1.0)),
                       {"out_dtype": out_dtype})
    assert not result.float().numpy().any()


@pytest.mark.filterwarnings("ignore:TF32 acceleration")  # torch's, from mkldnn.flags
@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("scale", [1.0, 30.0])
@pytest.mark.parametrize("out_dtype", [None, torch.float8_e5m2, torch.float32])
def test_emulation_with_mkldnn_off(pair, scale, out_dtype):
    """With mkldnn disabled in both libraries every pair takes the float32 emulation
    (saturating float8_e4m3fn results), on any CPU."""
    a, b = _float8((8, 16), pair[0], 100.0, 14), _float8((16, 4), pair[1], 100.0, 15)
    args = (a, b, torch.tensor(scale), torch.tensor(scale))
    with torch.backends.mkldnn.flags(enabled=False), ember.backends.mkldnn.flags(enabled=False):
        _run_both("_scaled_mm", args, {"out_dtype": out_dtype})
        _run_both("_scaled_mm", _args(sa=torch.tensor(2.0, dtype=torch.float64)))


def _args(**changes):
    args = {"a": _float8((4, 8), E4, 1.0, 12), "b": _float8((8, 3), E4, 1.0, 13),
            "sa": torch.tensor(1.0), "sb": torch.tensor(1.0)}
    args.update(changes)
    return args["a"], args["b"], args["sa"], args["sb"]


ERRORS = {
    "3-d a": (_args(a=_float8((1, 4, 8), E4)), {}),
    "1-d b": (_args(b=_float8((8,), E4)), {}),
    "shapes": (_args(b=_float8((7, 3), E4)), {}),
    "bias size": (_args(), {"bias": torch.ones(4), "out_dtype": torch.float32}),
    "bias 2-d": (_args(), {"bias": torch.ones(1, 3), "out_dtype": torch.float32}),
    "scale_result float64": (_args(), {"scale_result": torch.tensor(2.0, dtype=torch.float64),
                                       "out_dtype": torch.float8_e4m3fn}),
    "scale_result 2": (_args(), {"scale_result": torch.ones(2),
                                 "out_dtype": torch.float8_e4m3fn}),
    "float32 a": (_args(a=torch.ones(4, 8)), {}),
    "float32 both": (_args(a=torch.ones(4, 8), b=torch.ones(8, 3)), {}),
    "bfloat16 a": (_args(a=torch.ones(4, 8, dtype=torch.bfloat16)), {}),
    "2-element scale": (_args(sa=torch.ones(2)), {}),
    "rowwise wrong": (_args(sa=torch.ones(3, 1), sb=torch.ones(1, 3)), {}),
    "rowwise 1-d": (_args(sa=torch.ones(4), sb=torch.ones(3)), {}),
    "rowwise float64": (_args(sa=torch.ones(4, 1, dtype=torch.float64), sb=torch.ones(1, 3)),
                        {}),
    "float64 scale": (_args(sa=torch.tensor(2.0, dtype=torch.float64)), {}),
    "int scale": (_args(sa=torch.tensor(2)), {}),
    "out float64": (_args(), {"out_dtype": torch.float64}),
    "out int32": (_args(), {"out_dtype": torch.int32}),
    "out fnuz": (_args(), {"out_dtype": torch.float8_e4m3fnuz}),
    "bias float64": (_args(), {"bias": torch.ones(3, dtype=torch.float64),
                               "out_dtype": torch.float32}),
    "fnuz both": (_args(a=_float8((4, 8), "float8_e4m3fnuz"),
                        b=_float8((8, 3), "float8_e4m3fnuz")), {}),
    "e8m0 a": (_args(a=_float8((4, 8), "float8_e8m0fnu")), {}),
    "mixed fnuz": (_args(a=_float8((4, 8), "float8_e5m2fnuz")), {}),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_and_edge_types(case):
    """torch's exception type (or, where torch accepts, its result)."""
    args, kwargs = ERRORS[case]
    _run_both("_scaled_mm", args, kwargs)


def test_out():
    """out= receives the result (resized); out_dtype must agree with out's dtype."""
    a, b, sa, sb = _args()
    t_out = torch.empty(4, 3)
    e_out = ember.empty(4, 3)
    t_res = torch._scaled_mm(a, b, sa, sb, out=t_out)
    e_res = ember._scaled_mm(*_ember([a, b, sa, sb]), out=e_out)
    assert e_res is e_out
    _compare(e_out, t_out)
    _compare(e_res, t_res)
    small = ember.empty(2, 2, dtype=ember.float8_e4m3fn)
    ember._scaled_mm(*_ember([a, b, sa, sb]), out=small)
    assert tuple(small.shape) == (4, 3)
    with pytest.raises(Exception) as expected:  # noqa: PT011 - the CPU picks the type (NOTE)
        torch._scaled_mm(a, b, sa, sb, out_dtype=torch.bfloat16, out=torch.empty(4, 3))
    with pytest.raises(expected.type, match="out_dtype must match"):
        ember._scaled_mm(*_ember([a, b, sa, sb]), out_dtype=ember.bfloat16, out=ember.empty(4, 3))


@pytest.mark.parametrize("fn_name", ["_scaled_mm", "_scaled_mm_v2"])
def test_no_derivative(fn_name):
    """A scale that requires grad: the result is in the graph under torch's NotImplemented
    node, and backward raises torch's RuntimeError."""
    a, b, sa, sb = _args()
    t_sa = sa.clone().requires_grad_(True)
    e_sa = _ember(sa).requires_grad_(True)
    if fn_name == "_scaled_mm":
        t_out = torch._scaled_mm(a, b, t_sa, sb, out_dtype=torch.float32)
        e_out = ember._scaled_mm(*_ember([a, b]), e_sa, _ember(sb), out_dtype=ember.float32)
    else:
        rest = ([0], [0], [sb.reshape(1)], [0], [0], None, torch.float32)
        t_out = torch._scaled_mm_v2(a, b, [t_sa.reshape(1)], *rest)
        e_out = ember._scaled_mm_v2(*_ember([a, b]), [e_sa.reshape(1)], *_ember(list(rest)))
    assert e_out.requires_grad == t_out.requires_grad
    assert e_out.grad_fn.name() == t_out.grad_fn.name()
    with pytest.raises(RuntimeError) as expected:
        t_out.sum().backward()
    with pytest.raises(RuntimeError) as raised:
        e_out.sum().backward()
    assert str(raised.value) == str(expected.value)
    assert not ember._scaled_mm(*_ember(list(_args()))).requires_grad


def _v2_args(recipe="tensor", m=15, k=16, n=32, out_dtype=torch.bfloat16, **changes):
    a, b = _float8((m, k), E4, 2.0, 20), _float8((n, k), E4, 2.0, 21).t()
    g = torch.Generator().manual_seed(22)
    if recipe == "tensor":
        sa, sb = torch.rand(1, generator=g), torch.rand(1, generator=g)
        kind = ScalingType.TensorWise
    else:
        sa, sb = torch.rand(m, 1, generator=g), torch.rand(1, n, generator=g)
        kind = ScalingType.RowWise
    args = {"a": a, "b": b, "scale_a": [sa], "recipe_a": [kind],
            "swizzle_a": [SwizzleType.NO_SWIZZLE], "scale_b": [sb], "recipe_b": [kind],
            "swizzle_b": [SwizzleType.NO_SWIZZLE], "bias": None, "out_dtype": out_dtype}
    args.update(changes)
    return tuple(args.values())


V2_CASES = {
    "tensorwise bf16": _v2_args(),
    "rowwise bf16": _v2_args("row"),
    "tensorwise default dtype": _v2_args(out_dtype=None),
    "rowwise float32": _v2_args("row", out_dtype=torch.float32),
    "ints as recipes": _v2_args(recipe_a=[0], recipe_b=[0], swizzle_a=[0], swizzle_b=[0]),
    "bias": _v2_args(bias=torch.ones(32)),
    "empty M": _v2_args(m=0),
    "K = 0": _v2_args(k=0),
    "swizzle": _v2_args(swizzle_a=[SwizzleType.SWIZZLE_32_4_4]),
    "mixed recipes": _v2_args(recipe_b=[ScalingType.RowWise]),
    "recipe vs scale": _v2_args(recipe_a=[ScalingType.RowWise], recipe_b=[ScalingType.RowWise]),
    "bias float64": _v2_args(bias=torch.ones(32, dtype=torch.float64)),
    "bias size": _v2_args(bias=torch.ones(3)),
    "shapes": _v2_args(b=_float8((15, 32), E4)),
    "3-d": _v2_args(a=_float8((1, 15, 16), E4)),
    "float32 a": _v2_args(a=torch.ones(15, 16)),
    "blockwise": _v2_args(recipe_a=[ScalingType.BlockWise1x128],
                          recipe_b=[ScalingType.BlockWise1x128]),
    "contraction (1, 0)": _v2_args() + ((1, 0),),
    "contraction 1 element": _v2_args() + ((1,),),
    "contraction (0, 0)": _v2_args() + ((0, 0),),
    "contraction (0, 1)": _v2_args(m=8, k=8, n=8) + ((0, 1),),
}


@pytest.mark.parametrize("case", V2_CASES)
def test_scaled_mm_v2(case):
    """torch._scaled_mm_v2 (always the emulation on the CPU): values or exception type."""
    _run_both("_scaled_mm_v2", V2_CASES[case])


@pytest.mark.parametrize("recipe", ["tensor", "row"])
@pytest.mark.parametrize("listed", [False, True])
@pytest.mark.parametrize("output_dtype", ["default", torch.float32])
def test_functional_scaled_mm(recipe, listed, output_dtype):
    """F.scaled_mm: single values or lists, ember's or torch's enums, bfloat16 by default."""
    a, b, sa, ra, wa, sb, rb, wb, *_ = _v2_args(recipe)
    if not listed:
        sa, ra, sb, rb, wa, wb = sa[0], ra[0], sb[0], rb[0], None, None
    kwargs = {} if output_dtype == "default" else {"output_dtype": output_dtype}
    expected = torch.nn.functional.scaled_mm(a, b, sa, ra, sb, rb, wa, wb, **kwargs)
    ember_enums = ember.nn.functional.ScalingType
    e_ra = [ember_enums(int(r)) for r in ra] if listed else ember_enums(int(ra))
    result = ember.nn.functional.scaled_mm(_ember(a), _ember(b), _ember(sa), e_ra, _ember(sb),
                                           rb, wa, wb, **_kwargs(kwargs))
    _compare(result, expected)


def test_enums_match_torch():
    """ScalingType and SwizzleType: torch's member names and values."""
    for name in ("ScalingType", "SwizzleType"):
        ours = getattr(ember.nn.functional, name)
        theirs = getattr(torch.nn.functional, name)
        assert {m.name: int(m) for m in ours} == {k: int(v) for k, v in
                                                  theirs.__members__.items()}
