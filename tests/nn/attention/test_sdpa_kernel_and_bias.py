"""ember.nn.attention (sdpa_kernel, SDPBackend, the flash-implementation registry) and
ember.nn.attention.bias (CausalBias as scaled_dot_product_attention's attn_mask) against
torch.nn.attention: the backends a CPU build lets attention use and its errors and warnings
when they can't (NOTE [SDPA backends on CPU] in ember/nn/attention/_sdp.py), the causal
variants' outputs and gradients, and how the package is wired."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
import torch.nn.attention as tattn
import torch.nn.attention.bias as tbias

import ember
import ember.nn.attention as eattn
import ember.nn.attention.bias as ebias
from tests.differential import assert_same

RNG = np.random.default_rng(0)
LIBS = ((ember, eattn), (torch, tattn))


def test_sdp_backend_members():
    names = list(tattn.SDPBackend.__members__)
    assert list(eattn.SDPBackend.__members__) == names
    for name in names:
        e, t = getattr(eattn.SDPBackend, name), getattr(tattn.SDPBackend, name)
        assert int(e) == int(t) and e.name == t.name and e.value == t.value
        assert str(e) == str(t) and repr(e) == repr(t)
        assert e != int(e) and t != int(t)  # enum members, not ints
        assert eattn.SDPBackend(int(e)) is e
    assert eattn.SDPBackend.__name__ == "SDPBackend"


def _flags(lib):
    cuda = lib.backends.cuda
    return (cuda.flash_sdp_enabled(), cuda.mem_efficient_sdp_enabled(), cuda.math_sdp_enabled(),
            cuda.cudnn_sdp_enabled())


def _names(backends):
    return [b.name for b in backends]


@pytest.mark.parametrize("backends", [["MATH"], ["FLASH_ATTENTION", "MATH"], [],
                                      ["EFFICIENT_ATTENTION", "EFFICIENT_ATTENTION"], "ERROR",
                                      ["CUDNN_ATTENTION", "OVERRIDEABLE"]])
def test_sdpa_kernel_sets_and_restores_the_flags(backends):
    seen = []
    for lib, attn in LIBS:
        chosen = getattr(attn.SDPBackend, backends) if isinstance(backends, str) else [
            getattr(attn.SDPBackend, b) for b in backends]
        before = (_flags(lib), _names(attn._cur_sdpa_kernel_backends()))
        with attn.sdpa_kernel(chosen) as value:
            seen.append((value, _flags(lib), _names(attn._cur_sdpa_kernel_backends())))
        assert (_flags(lib), _names(attn._cur_sdpa_kernel_backends())) == before
    assert seen[0] == seen[1]


def test_sdpa_kernel_priority_and_decorator():
    orders = []
    for lib, attn in LIBS:
        backends = [attn.SDPBackend.MATH, attn.SDPBackend.FLASH_ATTENTION]
        with attn.sdpa_kernel(backends, set_priority=True):
            inside = _names(attn._cur_sdpa_kernel_backends(with_priority=True))
        decorated = attn.sdpa_kernel(attn.SDPBackend.MATH)(
            lambda: lib.backends.cuda.flash_sdp_enabled())
        orders.append((inside, _names(attn._cur_sdpa_kernel_backends(with_priority=True)),
                       decorated(), lib.backends.cuda.flash_sdp_enabled()))
    assert orders[0] == orders[1]
    assert eattn._sdp.priority_order() == torch._C._get_sdp_priority_order()


@pytest.mark.parametrize("backends", ["math", (0,)])
def test_sdpa_kernel_wants_backends(backends):
    for _, attn in LIBS:
        with pytest.raises(AssertionError, match="^Backend must be an instance of SDPBackend or "
                                                 "a list of SDPBackend instances, got "):
            with attn.sdpa_kernel(backends):
                pass


# ---- attention under restricted backends -----------------------------------------------------
def _run(lib, attn, backends, args, kwargs):
    """(result or (error type, message), warning messages) of attention under `backends`."""
    chosen = [getattr(attn.SDPBackend, b) for b in backends]
    lib.manual_seed(0)  # the same dropout draws
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with attn.sdpa_kernel(chosen):
                outcome = lib.nn.functional.scaled_dot_product_attention(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - compared with torch's
            outcome = (type(error).__name__, str(error))
    # torch's C++ warnings end in "(Triggered internally at <its source file>)"
    messages = [str(w.message).split(" (Triggered internally")[0] for w in caught]
    return outcome, messages


Q, KV, MASK = (2, 4, 4, 8), (2, 4, 5, 8), (4, 5)
CASES = [
    ("basic", (Q, KV, KV), {}),
    ("bool mask", (Q, KV, KV), {"attn_mask": "bool"}),
    ("float mask", (Q, KV, KV), {"attn_mask": "float"}),
    ("3-d mask", (Q, KV, KV), {"attn_mask": (4, 4, 5)}),
    ("4-d mask, bad batch", (Q, KV, KV), {"attn_mask": (3, 1, 4, 5)}),
    ("mask with no reason", (Q, KV, KV), {"attn_mask": (1, 1, 2, 5)}),
    ("1-d mask", (Q, KV, KV), {"attn_mask": (5,)}),
    ("causal", (Q, KV, KV), {"is_causal": True}),
    ("dropout", (Q, KV, KV), {"dropout_p": 0.5}),
    ("3-d inputs", ((4, 4, 8), (4, 5, 8), (4, 5, 8)), {}),
    ("5-d inputs", ((1,) + Q, (1,) + KV, (1,) + KV), {}),
    ("value head dim", (Q, KV, (2, 4, 5, 3)), {}),
    ("batch broadcast", (Q, (1, 4, 5, 8), (1, 4, 5, 8)), {}),
    ("heads differ", (Q, (2, 2, 5, 8), (2, 2, 5, 8)), {}),
    ("gqa", (Q, (2, 2, 5, 8), (2, 2, 5, 8)), {"enable_gqa": True}),
    ("gqa kv heads differ", (Q, (2, 2, 5, 8), (2, 1, 5, 8)), {"enable_gqa": True}),
    ("gqa not a multiple", (Q, (2, 3, 5, 8), (2, 3, 5, 8)), {"enable_gqa": True}),
    ("strided key", (Q, "strided", KV), {}),
    ("strided key with mask", (Q, "strided", KV), {"attn_mask": "float"}),
    ("empty query", ((2, 4, 0, 8), KV, KV), {}),
    ("dtype mismatch", (Q, KV, "float64"), {}),
    ("int inputs", ("int", "int", "int"), {}),
]


def _operands(spec):
    """NumPy operands (and mask) for a case; "strided": a key whose last dim has stride 5."""
    shapes, kwargs = spec
    arrays = []
    for shape in shapes:
        if shape == "strided":
            arrays.append(("strided", RNG.standard_normal((2, 4, 8, 5)).astype(np.float32)))
        elif shape == "float64":
            arrays.append(RNG.standard_normal(KV))
        elif shape == "int":
            arrays.append(RNG.integers(0, 3, (2, 1, 3, 4)).astype(np.int32))
        else:
            arrays.append(RNG.standard_normal(shape).astype(np.float32))
    mask = kwargs.get("attn_mask")
    kwargs = dict(kwargs)
    if mask is not None:
        kwargs["attn_mask"] = (RNG.random(MASK) > 0.2 if mask == "bool" else
                               RNG.standard_normal(MASK).astype(np.float32) if mask == "float"
                               else np.ones(mask, dtype=bool))
    return arrays, kwargs


def _convert(lib, arrays, kwargs):
    tensors = [lib.tensor(a[1]).transpose(-1, -2) if isinstance(a, tuple) else lib.tensor(a)
               for a in arrays]
    kwargs = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return tensors, kwargs


@pytest.mark.parametrize("backends", [["FLASH_ATTENTION"], ["EFFICIENT_ATTENTION"],
                                      ["MATH"], ["CUDNN_ATTENTION", "OVERRIDEABLE"],
                                      ["FLASH_ATTENTION", "EFFICIENT_ATTENTION"]])
@pytest.mark.parametrize("name, shapes, kwargs", CASES, ids=[c[0] for c in CASES])
def test_attention_under_restricted_backends(backends, name, shapes, kwargs):
    arrays, kwargs = _operands((shapes, kwargs))
    (e_out, e_warn), (t_out, t_warn) = (_run(lib, attn, backends, *_convert(lib, arrays, kwargs))
                                        for lib, attn in LIBS)
    assert e_warn == t_warn
    if isinstance(t_out, tuple):
        assert e_out == t_out
    else:
        assert_same(e_out, t_out, atol=1e-5)


def test_warnings_point_at_the_caller():
    for lib, attn in LIBS:
        q = lib.ones(2, 2, 3, 4)
        with warnings.catch_warnings(record=True) as caught, \
                attn.sdpa_kernel(attn.SDPBackend.FLASH_ATTENTION):
            warnings.simplefilter("always")
            with pytest.raises(RuntimeError, match="No available kernel"):
                lib.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=0.1)
        assert [w.filename for w in caught] == [__file__] * 2


# ---- CausalBias ------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["causal_upper_left", "causal_lower_right"])
@pytest.mark.parametrize("q_len, kv_len, kwargs", [
    (4, 6, {}), (6, 6, {}), (5, 3, {}), (4, 7, {"scale": 0.3}), (3, 5, {"enable_gqa": True}),
])
def test_causal_bias_attention_and_gradients(variant, q_len, kv_len, kwargs):
    heads = 2 if kwargs.get("enable_gqa") else 4
    arrays = [RNG.standard_normal(s).astype(np.float32)
              for s in ((2, 4, q_len, 8), (2, heads, kv_len, 8), (2, heads, kv_len, 8))]
    grad = RNG.standard_normal((2, 4, q_len, 8)).astype(np.float32)
    results = []
    for lib, bias_module in ((ember, ebias), (torch, tbias)):
        leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bias = getattr(bias_module, variant)(q_len, kv_len)
        out = lib.nn.functional.scaled_dot_product_attention(*leaves, bias, **kwargs)
        (out * lib.tensor(grad)).sum().backward()
        results.append([out] + [t.grad for t in leaves] + [[str(w.message) for w in caught]])
    *tensors_e, warned_e = results[0]
    *tensors_t, warned_t = results[1]
    assert warned_e == warned_t
    for e, t in zip(tensors_e, tensors_t):
        assert_same(e, t, atol=1e-5)


def test_causal_bias_unbatched_and_keyword_mask():
    arrays = [RNG.standard_normal(s).astype(np.float32) for s in ((3, 4, 8), (3, 6, 8),
                                                                  (3, 6, 8))]
    results = [lib.nn.functional.scaled_dot_product_attention(
        *(lib.tensor(a) for a in arrays), attn_mask=module.causal_lower_right(4, 6))
        for lib, module in ((ember, ebias), (torch, tbias))]
    assert_same(*results, atol=1e-5)


def test_causal_bias_tensor():
    for q_len, kv_len in ((3, 4), (4, 4), (5, 2)):
        for name in ("causal_upper_left", "causal_lower_right"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                e, t = getattr(ebias, name)(q_len, kv_len), getattr(tbias, name)(q_len, kv_len)
            assert repr(e) == repr(t) and str(e) == str(t)
            assert_same(e._materialize(), t._materialize(), exact=True)
            assert_same(e._materialize("cpu"), t._materialize("cpu"), exact=True)
            assert (e.variant, e.seq_len_q, e.seq_len_kv) == (t.variant, t.seq_len_q,
                                                              t.seq_len_kv)
            assert tuple(torch.Tensor.size(t)) == tuple(e.shape)  # (variant, q_len, kv_len)
            assert isinstance(e, ember.Tensor)
    assert [(v.name, int(v)) for v in ebias.CausalVariant] == \
        [(v.name, int(v)) for v in tbias.CausalVariant]


def test_causal_bias_errors_and_warnings():
    for lib, module in ((ember, ebias), (torch, tbias)):
        q = lib.ones(1, 1, 2, 4)
        with pytest.raises(ValueError, match="^CausalBias should not be used with causal=True$"):
            lib.nn.functional.scaled_dot_product_attention(
                q, q, q, module.causal_lower_right(2, 2), is_causal=True)
        with pytest.raises(AssertionError, match="^variant must be a CausalVariant, got int$"):
            module.CausalBias(1, 2, 3)
        with pytest.raises(AssertionError, match="^causal_upper_left only supports 2D tensors$"):
            module.causal_upper_left(2)
        with pytest.raises(ValueError, match=r"^Expected query, key, and value to have the same "
                                             r"dtype, but got query.dtype: torch.float32, "):
            lib.nn.functional.scaled_dot_product_attention(
                q, lib.ones(1, 1, 3, 4).double(), lib.ones(1, 1, 3, 4),
                module.causal_lower_right(2, 3))
        with pytest.warns(UserWarning, match="^Lower right causal bias will produce NaNs"):
            module.causal_lower_right(3, 2)


def test_warn_for_unfused_kernels():
    messages = []
    for lib, attn, module in ((ember, eattn, ebias), (torch, tattn, tbias)):
        q, k = lib.ones(1, 1, 2, 4), lib.ones(1, 1, 3, 4)
        attn.WARN_FOR_UNFUSED_KERNELS = True
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                lib.nn.functional.scaled_dot_product_attention(
                    q, k, k, module.causal_lower_right(2, 3))
                lib.nn.functional.scaled_dot_product_attention(
                    q, k, k, module.causal_upper_left(2, 3))
        finally:
            attn.WARN_FOR_UNFUSED_KERNELS = False
        messages.append([str(w.message) for w in caught])
    assert messages[0] == messages[1] and len(messages[0]) == 2


# ---- the package -----------------------------------------------------------------------------
def test_public_names_and_registry():
    assert sorted(eattn.__all__) == sorted(tattn.__all__)
    public = [n for n in dir(tattn) if not n.startswith("_") and n not in (
        "contextlib", "torch", "warn", "Iterable")]
    assert [n for n in public if not hasattr(eattn, n)] == []
    assert sorted(ebias.__all__) == sorted(tbias.__all__)
    assert eattn.list_flash_attention_impls() == tattn.list_flash_attention_impls()
    assert eattn.current_flash_attention_impl() is tattn.current_flash_attention_impl() is None
    assert eattn._get_flash_version() == tattn._get_flash_version()
    for attn in (eattn, tattn):
        with pytest.raises(ValueError, match=r"^Unknown flash attention impl 'X'. Available "
                                             r"implementations: \['FA3', 'FA4'\]$"):
            attn.activate_flash_attention_impl("X")
        with pytest.raises(ModuleNotFoundError):
            attn.activate_flash_attention_impl("FA3")


def test_wiring_on_import():
    """`import torch` makes torch.nn.attention an attribute, not its bias and flex_attention
    submodules; ember's the same."""
    code = ("import sys, {0}; m = {0}.nn; print(hasattr(m, 'attention'), "
            "'{0}.nn.attention.bias' in sys.modules, "
            "'{0}.nn.attention.flex_attention' in sys.modules)")
    answers = [subprocess.run([sys.executable, "-c", code.format(name)], capture_output=True,
                              text=True, check=True).stdout for name in ("ember", "torch")]
    assert answers[0] == answers[1] == "True False False\n"
