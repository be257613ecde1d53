"""ember/ops/attention.py (F.scaled_dot_product_attention as one fused op) against torch:
outputs and the gradients of query, key, value and float masks over a table of shapes (leading
batch dims, broadcasting, grouped-query attention) and flags (bool / float masks, is_causal,
scale), in float32 and float64; the rows with no allowed key; dropout; float64 finite
differences (first and second order); PyTorch's errors."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, gradcheck64, gradgradcheck64

RNG = np.random.default_rng(0)

# (query shape, key shape, value shape, mask: None | "bool" | "float" with its shape, kwargs)
CASES = {
    "4d": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), None, {}),
    "3d": ((3, 4, 8), (3, 6, 8), (3, 6, 8), None, {}),
    "2d": ((4, 8), (5, 8), (5, 3), None, {}),
    "5d": ((2, 1, 3, 4, 8), (2, 1, 3, 5, 8), (2, 1, 3, 5, 6), None, {}),
    "broadcast_kv": ((2, 3, 4, 8), (1, 3, 5, 8), (3, 5, 6), None, {}),
    "broadcast_q": ((3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), None, {}),
    "causal": ((2, 3, 4, 8), (2, 3, 4, 8), (2, 3, 4, 8), None, {"is_causal": True}),
    "causal_wide": ((2, 2, 3, 8), (2, 2, 6, 8), (2, 2, 6, 4), None, {"is_causal": True}),
    "causal_tall": ((2, 2, 6, 8), (2, 2, 3, 8), (2, 2, 3, 4), None, {"is_causal": True}),
    "scale": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), None, {"scale": 0.37}),
    "bool_2d": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), ("bool", (4, 5)), {}),
    "bool_4d": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), ("bool", (2, 3, 4, 5)), {}),
    "bool_row": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), ("bool", (2, 1, 1, 5)), {}),
    "float_2d": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), ("float", (4, 5)), {}),
    "float_heads": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), ("float", (3, 1, 5)), {}),
    "float_4d_scale": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), ("float", (2, 3, 4, 5)),
                       {"scale": 2.0}),
    "gqa": ((2, 6, 4, 8), (2, 2, 5, 8), (2, 2, 5, 6), None, {"enable_gqa": True}),
    "gqa_3d_causal": ((6, 4, 8), (3, 4, 8), (3, 4, 8), None,
                      {"enable_gqa": True, "is_causal": True}),
    "gqa_float_heads": ((2, 4, 4, 8), (2, 2, 5, 8), (2, 2, 5, 6), ("float", (4, 4, 5)),
                        {"enable_gqa": True}),
    "gqa_bool": ((2, 4, 4, 8), (2, 1, 5, 8), (2, 1, 5, 6), ("bool", (4, 5)),
                 {"enable_gqa": True}),
    "gqa_equal_heads": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), None, {"enable_gqa": True}),
    "gqa_kv_heads_differ": ((2, 6, 4, 8), (2, 3, 5, 8), (2, 2, 5, 6), None, {"enable_gqa": True}),
    # E = 0: PyTorch's scale 1/sqrt(0) = inf multiplies empty operands, the scores are zeros
    "no_features": ((2, 3, 0), (2, 4, 0), (2, 4, 5), ("bool", (3, 4)), {}),
}


def _mask(kind, shape, dtype):
    """A bool mask with some fully blocked rows' neighbours kept, or a float mask."""
    if kind == "bool":
        mask = RNG.random(shape) > 0.4
        mask[..., 0] = True
        return mask
    return RNG.standard_normal(shape).astype(dtype)


def _run(lib, arrays, mask, kwargs, mask_grad):
    leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
    lib_mask = None
    if mask is not None:
        lib_mask = lib.tensor(mask, requires_grad=mask_grad)
    out = lib.nn.functional.scaled_dot_product_attention(*leaves, attn_mask=lib_mask, **kwargs)
    return out, leaves, lib_mask


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch(case, dtype):
    q_shape, k_shape, v_shape, mask_spec, kwargs = CASES[case]
    arrays = [RNG.standard_normal(s).astype(dtype) for s in (q_shape, k_shape, v_shape)]
    mask = None if mask_spec is None else _mask(mask_spec[0], mask_spec[1], dtype)
    mask_grad = mask is not None and mask.dtype != bool
    e_out, e_leaves, e_mask = _run(ember, arrays, mask, kwargs, mask_grad)
    t_out, t_leaves, t_mask = _run(torch, arrays, mask, kwargs, mask_grad)
    tol = 1e-5 if dtype == np.float32 else 1e-10
    assert_same(e_out, t_out, tol, tol)
    gy = RNG.standard_normal(tuple(t_out.shape)).astype(dtype)
    e_out.backward(ember.tensor(gy))
    t_out.backward(torch.tensor(gy))
    for e, t in zip(e_leaves, t_leaves):
        assert_same(e.grad, t.grad, tol * 10, tol)
    if mask_grad:
        assert_same(e_mask.grad, t_mask.grad, tol * 10, tol)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("case", ["4d", "causal", "float_2d", "gqa_float_heads"])
def test_16_bit_inputs_compute_in_float32_and_keep_their_dtype(case, dtype):
    """NOTE [16-bit attention]: output (and gradients) in the input dtype, values as torch's
    float32 computation rounded once."""
    q_shape, k_shape, v_shape, mask_spec, kwargs = CASES[case]
    arrays = [RNG.standard_normal(s).astype(np.float32) for s in (q_shape, k_shape, v_shape)]
    mask = None if mask_spec is None else _mask(mask_spec[0], mask_spec[1], np.float32)
    results = []
    for lib in (ember, torch):
        half = getattr(lib, dtype)
        leaves = [lib.tensor(a).to(half).requires_grad_() for a in arrays]
        lib_mask = None if mask is None else lib.tensor(mask).to(half)
        out = lib.nn.functional.scaled_dot_product_attention(*leaves, attn_mask=lib_mask,
                                                             **kwargs)
        out.float().sum().backward()
        results.append((out, [leaf.grad for leaf in leaves]))
    (e_out, e_grads), (t_out, t_grads) = results
    assert str(e_out.dtype) == str(t_out.dtype) == f"torch.{dtype}"
    assert_same(e_out.float(), t_out.float(), 2e-2, 2e-2)
    for e, t in zip(e_grads, t_grads):
        assert str(e.dtype) == str(t.dtype)
        assert_same(e.float(), t.float(), 5e-2, 5e-2)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_fully_blocked_rows_give_zero_output_and_gradient(kind):
    arrays = [RNG.standard_normal(s) for s in ((2, 4, 8), (2, 5, 8), (2, 5, 3))]
    blocked = np.zeros((4, 5), dtype=bool)
    blocked[1] = True
    blocked[3, :4] = True
    mask = ~blocked if kind == "bool" else np.where(blocked, -np.inf, 0.0)
    e_out, e_leaves, _ = _run(ember, arrays, mask, {}, False)
    t_out, t_leaves, _ = _run(torch, arrays, mask, {}, False)
    assert_same(e_out, t_out, 1e-10, 1e-12)
    assert np.all(e_out.detach().numpy()[:, 1] == 0)
    e_out.sum().backward()
    t_out.sum().backward()
    for e, t in zip(e_leaves, t_leaves):
        assert_same(e.grad, t.grad, 1e-10, 1e-12)


GRAD_CASES = {  # small shapes: finite differences cost one forward per input element
    "plain": ((2, 3, 2), (2, 4, 2), (2, 4, 2), None, {}),
    "causal_wide": ((1, 2, 2), (1, 3, 2), (1, 3, 2), None, {"is_causal": True}),
    "bool": ((2, 3, 2), (2, 4, 2), (2, 4, 2), ("bool", (3, 4)), {"scale": 0.8}),
    "float_heads": ((2, 2, 2, 2), (2, 2, 3, 2), (2, 2, 3, 2), ("float", (2, 1, 3)), {}),
    "gqa_float": ((4, 2, 2), (2, 3, 2), (2, 3, 2), ("float", (4, 2, 3)), {"enable_gqa": True}),
    "broadcast_kv": ((2, 2, 2, 2), (1, 2, 3, 2), (2, 3, 2), None, {}),
}


@pytest.mark.parametrize("case", list(GRAD_CASES))
def test_gradcheck_float64(case):
    q_shape, k_shape, v_shape, mask_spec, kwargs = GRAD_CASES[case]
    arrays = [RNG.standard_normal(s) * 0.5 for s in (q_shape, k_shape, v_shape)]
    sdpa = ember.nn.functional.scaled_dot_product_attention
    if mask_spec is None or mask_spec[0] == "bool":
        mask = None if mask_spec is None else ember.tensor(_mask("bool", mask_spec[1], None))
        assert gradcheck64(lambda q, k, v: sdpa(q, k, v, attn_mask=mask, **kwargs), *arrays)
        assert gradgradcheck64(lambda q, k, v: sdpa(q, k, v, attn_mask=mask, **kwargs),
                               *arrays)
    else:
        mask = RNG.standard_normal(mask_spec[1])
        assert gradcheck64(lambda q, k, v, m: sdpa(q, k, v, attn_mask=m, **kwargs),
                           *arrays, mask)
        assert gradgradcheck64(lambda q, k, v, m: sdpa(q, k, v, attn_mask=m, **kwargs),
                               *arrays, mask)


def _torch_node_name(shape, **kwargs):
    """The grad_fn name torch's scaled_dot_product_attention gives for inputs of shape."""
    q, k, v = (torch.randn(*shape, requires_grad=True) for _ in range(3))
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, **kwargs).grad_fn.name()


@pytest.mark.parametrize("shape, kwargs", [((2, 3, 4), {}), ((2, 2, 3, 4), {}),
                                           ((2, 2, 3, 4), {"dropout_p": 0.3}), ((3, 4), {}),
                                           ((2, 2, 2, 3, 4), {}), ((2, 2, 3, 4),
                                                                   {"is_causal": True})])
def test_node_name_is_torchs_kernels(shape, kwargs):
    """One node, named as the CPU kernel torch picks (flash for 4-d without dropout, else its
    math composition's last product)."""
    q, k, v = (ember.randn(*shape, requires_grad=True) for _ in range(3))
    out = ember.nn.functional.scaled_dot_product_attention(q, k, v, **kwargs)
    assert out.grad_fn.name() == _torch_node_name(shape, **kwargs)


def test_is_one_node():
    q, k, v = (ember.randn(2, 3, 4, requires_grad=True) for _ in range(3))
    out = ember.nn.functional.scaled_dot_product_attention(q, k, v)
    assert out.grad_fn.name() == _torch_node_name((2, 3, 4))
    assert all("AccumulateGrad" in type(node).__name__ or "AccumulateGrad" in repr(node)
               for node, _ in out.grad_fn.next_functions[:3])


def test_dropout_scales_kept_weights_and_backpropagates_through_them():
    ember.manual_seed(0)
    length, source = 64, 64
    q = ember.tensor(RNG.standard_normal((length, 8)), requires_grad=True)
    k = ember.tensor(RNG.standard_normal((source, 8)))
    v = ember.eye(source, dtype=ember.float64).requires_grad_()  # the output is the weights
    out = ember.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=0.25)
    weights = ember.softmax(q.detach() @ k.T / np.sqrt(8), -1).numpy()
    dropped = out.detach().numpy()
    kept = dropped != 0
    assert 0.65 < kept.mean() < 0.85
    np.testing.assert_allclose(dropped[kept], weights[kept] / 0.75, rtol=1e-12)
    gy = RNG.standard_normal((length, source))
    out.backward(ember.tensor(gy))
    np.testing.assert_allclose(v.grad.numpy(), dropped.T @ gy, rtol=1e-10)


def test_dropout_one_zeroes_everything_and_eval_style_zero_is_exact():
    q, k, v = (ember.randn(2, 3, 4) for _ in range(3))
    sdpa = ember.nn.functional.scaled_dot_product_attention
    assert np.all(sdpa(q, k, v, dropout_p=1.0).numpy() == 0)
    np.testing.assert_array_equal(sdpa(q, k, v, dropout_p=0.0).numpy(), sdpa(q, k, v).numpy())


def _error_inputs():
    q, k, v = np.zeros((2, 3, 4, 8)), np.zeros((2, 3, 5, 8)), np.zeros((2, 3, 5, 6))
    f32 = np.float32
    return {
        "rank": (q[0, 0, 0], k, v, {}),
        "dtypes": (q, k.astype(f32), v.astype(f32), {}),
        "int_mask": (q, k, v, {"attn_mask": np.zeros((4, 5), dtype=np.int64)}),
        "mask_dtype": (q.astype(f32), k.astype(f32), v.astype(f32),
                       {"attn_mask": np.zeros((4, 5))}),
        "half_mask": (q, k, v, {"attn_mask": np.zeros((4, 5), dtype=np.float16)}),
        "mask_shape": (q, k, v, {"attn_mask": np.zeros((3, 5), dtype=bool)}),
        "mask_too_many_dims": (q, k, v, {"attn_mask": np.zeros((7, 2, 3, 4, 5))}),
        "causal_and_mask": (q, k, v, {"attn_mask": np.zeros((4, 5)), "is_causal": True}),
        "dropout": (q, k, v, {"dropout_p": 1.5}),
        "features": (q, k[..., :7], v, {}),
        "lengths": (q, k, v[:, :, :4], {}),
        "heads": (q, k[:, :2], v[:, :2], {}),
        "gqa_not_dividing": (np.zeros((2, 4, 4, 8)), k, v, {"enable_gqa": True}),
        "gqa_value_not_dividing": (np.zeros((2, 6, 4, 8)), k[:, :2], np.zeros((2, 4, 5, 6)),
                                   {"enable_gqa": True}),
        "int_inputs": (q.astype(np.int64), k.astype(np.int64), v.astype(np.int64), {}),
        # a query with no batch but rows is no early answer: its batch must broadcast
        "empty_query_batch": (q[:0], k, v, {}),
    }


@pytest.mark.parametrize("name", list(_error_inputs()))
def test_errors_match_torch(name):
    q, k, v, kwargs = _error_inputs()[name]

    def call(lib, q, k, v, kwargs):
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, **kwargs)

    error, expected = assert_same_error(call, q, k, v, kwargs)
    if name in ("rank", "dtypes", "int_mask", "mask_dtype", "causal_and_mask", "dropout",
                "gqa_not_dividing", "mask_shape"):
        assert str(error) == str(expected)


@pytest.mark.parametrize("shapes, kwargs", [
    (((2, 0, 3), (4, 6, 8), (4, 6, 8)), {"is_causal": True}),  # no other check runs
    (((0, 3), (6, 8), (6, 5)), {"dropout_p": 2.0}),
])
def test_an_empty_output_returns_before_the_other_checks(shapes, kwargs):
    """An empty (..., L, Ev) result, as PyTorch answers it right after its dtype checks."""
    def run(lib):
        q, k, v = (lib.ones(s, requires_grad=True) for s in shapes)
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, **kwargs)

    e, t = run(ember), run(torch)
    assert tuple(e.shape) == tuple(t.shape) and e.dtype.name == str(t.dtype).split(".")[1]
    assert e.requires_grad and t.requires_grad


@pytest.mark.parametrize("shapes", [
    ((4, 3, 8), (4, 6, 8), (2, 0, 3)),  # key and value need not broadcast with query
    ((4, 3, 8), (2, 6, 7), (5, 0, 3, 3)),
    ((4, 3, 8), (4, 6, 8), (4, 6, 0)),
    ((3, 8), (6, 8), (0, 3)),
])
def test_an_empty_value_gives_zeros_connected_to_the_inputs(shapes):
    """(*query[:-1], Ev) zeros plus 0·(Σq + Σk + Σv): NaN where an input holds a NaN, and a
    zero gradient for each input."""
    arrays = [RNG.standard_normal(s) for s in shapes]
    for nan in (False, True):
        if nan:
            arrays[1][(0,) * len(shapes[1])] = np.nan
        results = []
        for lib in (ember, torch):
            leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
            out = lib.nn.functional.scaled_dot_product_attention(*leaves)
            out.sum().backward()
            results.append((out, [leaf.grad for leaf in leaves]))
        (e_out, e_grads), (t_out, t_grads) = results
        assert_same(e_out, t_out.detach(), exact=True)
        for e, t in zip(e_grads, t_grads):
            assert_same(e, t, exact=True)


# ---- causal attention by blocks (NOTE [Causal attention by blocks]) -------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 2, 128, 16), (3, 200, 8), (1, 1, 300, 4)])
def test_causal_blocks_match_torch(shape, dtype):
    """Long causal attention goes by blocks of query rows: output and the three gradients
    as torch's, lengths that are not a multiple of the block included."""
    from ember.ops import attention

    arrays = [RNG.standard_normal(shape).astype(dtype) for _ in range(3)]
    assert attention.block_rows(*[ember.tensor(a) for a in arrays], None, True, 1) > 0
    gy = RNG.standard_normal(shape).astype(dtype)
    results = []
    for lib in (ember, torch):
        leaves = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = lib.nn.functional.scaled_dot_product_attention(*leaves, is_causal=True)
        out.backward(lib.tensor(gy))
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in leaves])
    tol = 2e-5 if dtype == np.float32 else 1e-11
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_causal_blocks_agree_with_the_general_op(monkeypatch):
    """With dropout (the same draws: the whole noise is drawn first) and without, the blocks
    give the general op's results; create_graph gives its second derivatives."""
    from ember.ops import attention

    arrays = [RNG.standard_normal((2, 3, 160, 8)) for _ in range(3)]

    def run(dropout_p):
        ember.manual_seed(7)
        leaves = [ember.tensor(a, requires_grad=True) for a in arrays]
        out = ember.nn.functional.scaled_dot_product_attention(*leaves, is_causal=True,
                                                               dropout_p=dropout_p)
        (gq,) = ember.autograd.grad((out * out).sum(), leaves[0], create_graph=True)
        gq.sum().backward()
        return [out.detach().numpy(), gq.detach().numpy()] + [t.grad.numpy() for t in leaves]

    for dropout_p in (0.0, 0.3):
        blocked = run(dropout_p)
        with monkeypatch.context() as patch:
            patch.setattr(attention, "block_rows", lambda *args: 0)
            general = run(dropout_p)
        for got, want in zip(blocked, general):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_causal_blocks_keep_the_node_name_and_half_precision():
    q, k, v = (ember.randn(2, 128, 8, requires_grad=True) for _ in range(3))
    sdpa = ember.nn.functional.scaled_dot_product_attention
    name = _torch_node_name((2, 128, 8), is_causal=True)
    assert sdpa(q, k, v, is_causal=True).grad_fn.name() == name
    out = sdpa(q.half(), k.half(), v.half(), is_causal=True)
    want = sdpa(q.half().float(), k.half().float(), v.half().float(), is_causal=True).half()
    assert out.dtype == ember.float16
    np.testing.assert_array_equal(out.detach().numpy(), want.detach().numpy())


# ---- attn_mask with is_causal (NOTE [attn_mask with is_causal]) -------------------------------
def _sdpa_causal_masked(lib, q, k, v, mask, backend=None, **kwargs):
    """F.scaled_dot_product_attention with both attn_mask and is_causal=True (in an
    sdpa_kernel context when backend is given)."""
    tensors = [lib.tensor(a) for a in (q, k, v, mask)]
    call = lambda: lib.nn.functional.scaled_dot_product_attention(  # noqa: E731
        *tensors[:3], attn_mask=tensors[3], is_causal=True, **kwargs)
    if backend is None:
        return call()
    with lib.nn.attention.sdpa_kernel(getattr(lib.nn.attention.SDPBackend, backend)):
        return call()


_RNG = np.random.default_rng(11)
_Q, _K, _V = (_RNG.standard_normal(s).astype(np.float32) for s in
              ((2, 3, 5, 8), (2, 3, 6, 8), (2, 3, 6, 8)))
_MASK = _RNG.standard_normal((5, 6)).astype(np.float32)
_BOOL_MASK = _RNG.random((5, 6)) > 0.3


@pytest.mark.parametrize("mask", [_MASK, _BOOL_MASK, _MASK[None, None], _BOOL_MASK[None]],
                         ids=["float-2d", "bool-2d", "float-4d", "bool-3d"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sdpa_mask_with_causal_runs_on_flash_like_torch(mask, dtype):
    """CPU flash (4-D, no dropout, 2-D/4-D mask) applies mask + causal mask; the math path
    (here a 3-D mask) raises."""
    args = [a.astype(dtype) for a in (_Q, _K, _V)] + [
        mask if mask.dtype == bool else mask.astype(dtype)]
    if mask.ndim == 3:
        assert_same_error(lambda lib: _sdpa_causal_masked(lib, *args), same_message=True)
        return
    e, t = _sdpa_causal_masked(ember, *args), _sdpa_causal_masked(torch, *args)
    assert_same(e, t, rtol=1e-5, atol=1e-6)
    allowed = np.tril(np.ones((5, 6), bool))
    folded = mask & allowed if mask.dtype == bool else np.where(allowed, args[3], -np.inf)
    plain = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(a) for a in args[:3]), attn_mask=torch.tensor(folded))
    assert_same(e, plain, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["3d", "dropout", "mask-grad", "int", "heads", "math"])
def test_sdpa_mask_with_causal_math_path_errors_like_torch(case):
    q, k, v, m = _Q, _K, _V, _MASK
    kwargs, backend = {}, None
    if case == "3d":
        q, k, v = q[0], k[0], v[0]
    elif case == "dropout":
        kwargs["dropout_p"] = 0.5
    elif case == "int":
        q, k, v = (a.astype(np.int64) for a in (q, k, v))
    elif case == "heads":
        k, v = k[:, :1], v[:, :1]
    elif case == "math":
        backend = "MATH"

    def call(lib):
        mask = lib.tensor(m, requires_grad=case == "mask-grad")
        tensors = [lib.tensor(a) for a in (q, k, v)]
        if backend:
            with lib.nn.attention.sdpa_kernel(getattr(lib.nn.attention.SDPBackend, backend)):
                return lib.nn.functional.scaled_dot_product_attention(
                    *tensors, attn_mask=mask, is_causal=True, **kwargs)
        return lib.nn.functional.scaled_dot_product_attention(
            *tensors, attn_mask=mask, is_causal=True, **kwargs)

    assert_same_error(call, same_message=True)


@pytest.mark.parametrize("kwargs", [{"backend": "FLASH_ATTENTION"}, {"enable_gqa": True}])
def test_sdpa_mask_with_causal_flash_only_and_gqa(kwargs):
    k, v = (_K[:, :1], _V[:, :1]) if kwargs.get("enable_gqa") else (_K, _V)
    e = _sdpa_causal_masked(ember, _Q, k, v, _MASK, **kwargs)
    t = _sdpa_causal_masked(torch, _Q, k, v, _MASK, **kwargs)
    assert_same(e, t, rtol=1e-5, atol=1e-6)


def test_sdpa_mask_with_causal_gradients_match_torch():
    grads = []
    for lib in (ember, torch):
        q = lib.tensor(_Q.astype(np.float64), requires_grad=True)
        out = lib.nn.functional.scaled_dot_product_attention(
            q, lib.tensor(_K.astype(np.float64)), lib.tensor(_V.astype(np.float64)),
            attn_mask=lib.tensor(_BOOL_MASK), is_causal=True)
        out.square().sum().backward()
        grads.append(q.grad)
    assert_same(grads[0], grads[1], rtol=1e-10, atol=1e-10)
