"""nn.MultiheadAttention (ember/nn/modules/activation.py) and F.multi_head_attention_forward
(ember/nn/_functional_attention.py) against torch: a table of constructor options x forward
options (masks of every kind, need_weights, average_attn_weights, is_causal) x self / cross
attention x float32 / float64, comparing outputs, attention weights, every parameter's gradient
and the input gradients; unbatched inputs; eval mode (PyTorch's fast path); PyTorch's own
module_db entries; static keys; parameters, init, repr and state_dict keys; float64 finite
differences; the errors for bad input."""

import warnings

import numpy as np
import pytest
import torch
from torch.testing._internal.common_modules import module_db

import ember
from tests.differential import (assert_same, assert_same_error, copy_state, gradcheck64,
                                to_ember)

RNG = np.random.default_rng(0)
E, H, N, L, S = 8, 2, 3, 4, 5

CONSTRUCT = {
    "default": {},
    "no_bias": {"bias": False},
    "bias_kv": {"add_bias_kv": True},
    "zero_attn": {"add_zero_attn": True},
    "bias_kv_zero_attn": {"add_bias_kv": True, "add_zero_attn": True},
    "batch_first": {"batch_first": True},
    "kdim_vdim": {"kdim": 6, "vdim": 7},
    "dropout_eval": {"dropout": 0.5},
}


def _forward_kwargs(name, source, dtype=np.float64):
    """The forward options of row `name` for a key of length `source` (masks as arrays, float
    masks in dtype)."""
    return {k: v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
            for k, v in _forward_rows(name, source).items()}


def _forward_rows(name, source):
    kpm = RNG.random((N, source)) > 0.6
    kpm[:, 0] = False
    causal = np.triu(np.full((L, source), -np.inf), 1)
    return {
        "default": {},
        "no_weights": {"need_weights": False},
        "per_head": {"average_attn_weights": False},
        "kpm_bool": {"key_padding_mask": kpm},
        "kpm_float": {"key_padding_mask": np.where(kpm, -1e4, 0.0)},
        "mask_bool_2d": {"attn_mask": np.logical_and(RNG.random((L, source)) > 0.6,
                                                     np.arange(source) > 0)},
        "mask_float_2d": {"attn_mask": RNG.standard_normal((L, source))},
        "mask_float_3d": {"attn_mask": RNG.standard_normal((N * H, L, source)),
                          "average_attn_weights": False},
        "mask_bool_3d_no_weights": {"attn_mask": RNG.random((N * H, L, source)) > 0.99,
                                    "need_weights": False},
        "mask_and_kpm": {"attn_mask": RNG.standard_normal((L, source)),
                         "key_padding_mask": np.where(kpm, -np.inf, 0.0)},
        "causal_hint": {"attn_mask": causal, "is_causal": True, "need_weights": False},
        "causal_hint_weights": {"attn_mask": causal, "is_causal": True},
        "causal_hint_kpm": {"attn_mask": causal, "is_causal": True, "need_weights": False,
                            "key_padding_mask": np.where(kpm, -np.inf, 0.0)},
    }[name]


FORWARD = ["default", "no_weights", "per_head", "kpm_bool", "kpm_float", "mask_bool_2d",
           "mask_float_2d", "mask_float_3d", "mask_bool_3d_no_weights", "mask_and_kpm",
           "causal_hint", "causal_hint_weights", "causal_hint_kpm"]


def _pair(kwargs, dtype, eval_mode=False):
    """(ember, torch) MultiheadAttention with torch's weights (random biases too)."""
    t = torch.nn.MultiheadAttention(E, H, **kwargs).to(getattr(torch, np.dtype(dtype).name))
    with torch.no_grad():
        for p in t.parameters():
            p.copy_(torch.tensor(RNG.standard_normal(tuple(p.shape)) * 0.5))
    e = ember.nn.MultiheadAttention(E, H, **kwargs).to(getattr(ember, np.dtype(dtype).name))
    copy_state(t, e)
    if eval_mode:
        e.eval()
        t.eval()
    return e, t


def _inputs(kwargs, dtype, self_attention, batched=True):
    """(query, key, value) arrays in the layout the module expects."""
    def shaped(length, dim):
        if not batched:
            return (length, dim)
        return (N, length, dim) if kwargs.get("batch_first") else (length, N, dim)
    query = RNG.standard_normal(shaped(L, E)).astype(dtype)
    if self_attention:
        return query, None, None
    key = RNG.standard_normal(shaped(S, kwargs.get("kdim", E))).astype(dtype)
    value = RNG.standard_normal(shaped(S, kwargs.get("vdim", E))).astype(dtype)
    return query, key, value


def _leaves(lib, arrays):
    query = lib.tensor(arrays[0], requires_grad=True)
    if arrays[1] is None:
        return [query], (query, query, query)
    key, value = (lib.tensor(a, requires_grad=True) for a in arrays[1:])
    return [query, key, value], (query, key, value)


def _compare(e, t, arrays, forward, dtype):
    """Run both modules; compare output, weights, input and parameter gradients."""
    tol = 2e-5 if dtype == np.float32 else 1e-10
    e_leaves, e_in = _leaves(ember, arrays)
    t_leaves, t_in = _leaves(torch, arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e_out, e_w = e(*e_in, **to_ember(forward))
        t_out, t_w = t(*t_in, **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                                 for k, v in forward.items()})
    assert_same(e_out, t_out, tol, tol)
    if t_w is None:
        assert e_w is None
    else:
        assert_same(e_w, t_w, tol, tol)
    gy = RNG.standard_normal(tuple(t_out.shape)).astype(dtype)
    e_out.backward(ember.tensor(gy))
    t_out.backward(torch.tensor(gy))
    for el, tl in zip(e_leaves, t_leaves):
        assert_same(el.grad, tl.grad, tol * 5, tol)
    t_params = dict(t.named_parameters())
    for name, p in e.named_parameters():
        assert_same(p.grad, t_params[name].grad, tol * 5, tol)


# self-attention needs kdim = vdim = embed_dim, so kdim_vdim rows are cross-attention only
TABLE = [pytest.param(c, f, a, id=f"{c}-{f}-{'self' if a else 'cross'}")
         for c in CONSTRUCT for f in FORWARD for a in (True, False)
         if not (a and "kdim" in CONSTRUCT[c])]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("construct,forward,self_attention", TABLE)
def test_matches_torch(construct, forward, self_attention, dtype):
    kwargs = CONSTRUCT[construct]
    e, t = _pair(kwargs, dtype, eval_mode="dropout" in kwargs)
    arrays = _inputs(kwargs, dtype, self_attention)
    _compare(e, t, arrays, _forward_kwargs(forward, L if self_attention else S, dtype), dtype)


@pytest.mark.parametrize("forward", ["default", "no_weights", "per_head", "mask_float_2d",
                                     "causal_hint"])
@pytest.mark.parametrize("construct", ["default", "bias_kv_zero_attn", "batch_first",
                                       "kdim_vdim"])
def test_unbatched_matches_torch(construct, forward):
    kwargs = CONSTRUCT[construct]
    e, t = _pair(kwargs, np.float64)
    arrays = _inputs(kwargs, np.float64, "kdim" not in kwargs and forward != "default",
                     batched=False)
    source = L if arrays[1] is None else S
    _compare(e, t, arrays, _forward_kwargs(forward, source), np.float64)


@pytest.mark.parametrize("need_weights", [True, False])
def test_unbatched_masks(need_weights):
    e, t = _pair({}, np.float64)
    arrays = _inputs({}, np.float64, True, batched=False)
    forward = {"key_padding_mask": np.array([False, True, False, False]),
               "attn_mask": RNG.standard_normal((H, L, L)), "need_weights": need_weights}
    _compare(e, t, arrays, forward, np.float64)


@pytest.mark.parametrize("forward", ["default", "no_weights", "kpm_bool", "mask_bool_2d",
                                     "per_head"])
def test_eval_without_grad_matches_torch_fast_path(forward):
    e, t = _pair({"batch_first": True}, np.float32, eval_mode=True)
    x = RNG.standard_normal((N, L, E)).astype(np.float32)
    kwargs = _forward_kwargs(forward, L, np.float32)
    with torch.no_grad(), ember.no_grad():
        e_out, e_w = e(*[ember.tensor(x)] * 3, **to_ember(kwargs))
        t_x = torch.tensor(x)
        t_out, t_w = t(t_x, t_x, t_x, **{k: torch.tensor(v) if isinstance(v, np.ndarray)
                                         else v for k, v in kwargs.items()})
    assert_same(e_out, t_out, 1e-5, 1e-5)
    if t_w is not None:
        assert_same(e_w, t_w, 1e-5, 1e-5)


@pytest.mark.parametrize("need_weights", [True, False])
def test_fully_padded_key_rows_as_torch(need_weights):
    """NaN with need_weights (plain softmax), zeros through SDPA's safe softmax otherwise."""
    e, t = _pair({}, np.float64)
    kpm = np.zeros((N, L), dtype=bool)
    kpm[1] = True
    x = RNG.standard_normal((L, N, E))
    e_out = e(*[ember.tensor(x)] * 3, key_padding_mask=ember.tensor(kpm),
              need_weights=need_weights)[0]
    t_out = t(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(kpm),
              need_weights=need_weights)[0]
    assert np.isnan(t_out.detach().numpy()).any() == need_weights
    assert_same(e_out, t_out, 1e-10, 1e-10)


def test_dropout_acts_in_training_only():
    e = ember.nn.MultiheadAttention(E, H, dropout=0.5)
    x = ember.randn(L, N, E)
    out1, w1 = e(x, x, x)
    out2, _ = e(x, x, x)
    assert not np.allclose(out1.detach().numpy(), out2.detach().numpy())
    e.eval()
    _, w_eval = e(x, x, x)
    assert np.allclose(w_eval.detach().numpy().sum(-1), 1)
    assert not np.allclose(w1.detach().numpy().sum(-1), 1)  # weights are returned dropped


# ---- PyTorch's module_db entries ---------------------------------------------------------------
def _module_db_cases(name):
    """The ModuleInfo inputs of `name`, drawn from a seeded torch generator: the same cases in
    every run, whatever else the process drew before collection."""
    info = next(m for m in module_db if m.module_cls.__name__ == name)
    cases = []
    with torch.random.fork_rng():
        torch.manual_seed(0)
        for dtype in (torch.float32, torch.float64):
            for i, item in enumerate(info.module_inputs_func(info, device="cpu", dtype=dtype,
                                                             requires_grad=True, training=True)):
                cases.append(pytest.param(item, dtype, id=f"{dtype}-{i}-{item.desc}"))
    return cases


@pytest.mark.parametrize("item,dtype", _module_db_cases("MultiheadAttention"))
def test_module_db(item, dtype):
    ctor = item.constructor_input
    torch.manual_seed(0)  # the same weights in every run, whatever the tests before drew
    t = torch.nn.MultiheadAttention(*ctor.args, **ctor.kwargs).to(dtype)
    e = ember.nn.MultiheadAttention(*ctor.args, **ctor.kwargs).to(to_ember(dtype))
    copy_state(t, e)
    t_args, t_kwargs = item.forward_input.args, item.forward_input.kwargs
    e_args, e_kwargs = to_ember(t_args), to_ember(t_kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_out, t_w = t(*t_args, **t_kwargs)
        e_out, e_w = e(*e_args, **e_kwargs)
    tol = 1e-5 if dtype == torch.float32 else 1e-10
    assert_same(e_out, t_out, tol, tol)
    assert_same(e_w, t_w, tol, tol)
    (t_out.sum() + t_w.sum()).backward()
    (e_out.sum() + e_w.sum()).backward()
    for ea, ta in zip(e_args, t_args):
        if isinstance(ta, torch.Tensor) and ta.grad is not None:
            assert_same(ea.grad, ta.grad, tol * 10, tol)
    t_params = dict(t.named_parameters())
    for name, p in e.named_parameters():
        assert_same(p.grad, t_params[name].grad, tol * 10, tol)


# ---- the functional, static keys, gradcheck --------------------------------------------------
def _functional_args(lib, params, separate):
    names = ("q_proj_weight", "k_proj_weight", "v_proj_weight") if separate else ()
    return {n: params[n] for n in names}


@pytest.mark.parametrize("need_weights", [True, False])
def test_functional_with_static_keys_and_separate_weights(need_weights):
    arrays = {
        "query": RNG.standard_normal((L, N, E)), "key": RNG.standard_normal((S, N, E)),
        "value": RNG.standard_normal((S, N, E)),
        "q_proj_weight": RNG.standard_normal((E, E)), "k_proj_weight": RNG.standard_normal((E, E)),
        "v_proj_weight": RNG.standard_normal((E, E)), "in_proj_bias": RNG.standard_normal(3 * E),
        "out_w": RNG.standard_normal((E, E)), "out_b": RNG.standard_normal(E),
        "static_k": RNG.standard_normal((N * H, 6, E // H)),
        "static_v": RNG.standard_normal((N * H, 6, E // H)),
    }

    def run(lib):
        t = {k: lib.tensor(v, requires_grad=True) for k, v in arrays.items()}
        out, w = lib.nn.functional.multi_head_attention_forward(
            t["query"], t["key"], t["value"], E, H, None, t["in_proj_bias"], None, None, False,
            0.0, t["out_w"], t["out_b"], use_separate_proj_weight=True,
            q_proj_weight=t["q_proj_weight"], k_proj_weight=t["k_proj_weight"],
            v_proj_weight=t["v_proj_weight"], static_k=t["static_k"], static_v=t["static_v"],
            need_weights=need_weights)
        out.sum().backward()
        return out, w, t

    e_out, e_w, e_t = run(ember)
    t_out, t_w, t_t = run(torch)
    assert_same(e_out, t_out, 1e-10, 1e-10)
    if need_weights:
        assert_same(e_w, t_w, 1e-10, 1e-10)
    for name in arrays:
        if t_t[name].grad is not None:
            assert_same(e_t[name].grad, t_t[name].grad, 1e-9, 1e-10)


@pytest.mark.parametrize("kwargs,forward", [
    ({}, {}),
    ({"add_bias_kv": True, "add_zero_attn": True}, {"need_weights": False}),
    ({"kdim": 3, "vdim": 5}, {"attn_mask": np.triu(np.full((2, 3), -np.inf), 1)}),
])
def test_gradcheck_float64(kwargs, forward):
    module = ember.nn.MultiheadAttention(4, 2, **kwargs).double()
    query = RNG.standard_normal((2, 1, 4))
    key = RNG.standard_normal((3, 1, kwargs.get("kdim", 4)))
    value = RNG.standard_normal((3, 1, kwargs.get("vdim", 4)))
    forward = to_ember(forward)
    assert gradcheck64(lambda q, k, v: module(q, k, v, **forward)[0], query, key, value)


# ---- parameters, init, repr, state_dict ----------------------------------------------------
@pytest.mark.parametrize("construct", list(CONSTRUCT))
def test_parameters_repr_and_state_dict_as_torch(construct):
    kwargs = CONSTRUCT[construct]
    e = ember.nn.MultiheadAttention(E, H, **kwargs)
    t = torch.nn.MultiheadAttention(E, H, **kwargs)
    assert repr(e) == repr(t)
    assert type(e.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert list(e.state_dict()) == list(t.state_dict())
    assert [(n, tuple(p.shape)) for n, p in e.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight",
                 "in_proj_bias", "bias_k", "bias_v"):
        assert (getattr(e, name) is None) == (getattr(t, name) is None), name
    for name in ("embed_dim", "kdim", "vdim", "_qkv_same_embed_dim", "num_heads", "dropout",
                 "batch_first", "head_dim", "add_zero_attn"):
        assert getattr(e, name) == getattr(t, name), name


def test_init_as_torch():
    e = ember.nn.MultiheadAttention(64, 4, add_bias_kv=True)
    weight = e.in_proj_weight.detach().numpy()
    bound = np.sqrt(6 / (64 + 3 * 64))  # xavier_uniform_ on (3E, E)
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.9 * bound
    assert np.all(e.in_proj_bias.detach().numpy() == 0)
    assert np.all(e.out_proj.bias.detach().numpy() == 0)
    assert 0.07 < e.bias_k.detach().numpy().std() < 0.18  # xavier_normal_ on (1, 1, 64): 0.125
    separate = ember.nn.MultiheadAttention(8, 2, kdim=3)
    k_bound = np.sqrt(6 / (8 + 3))
    assert np.abs(separate.k_proj_weight.detach().numpy()).max() <= k_bound


def test_torch_state_dict_round_trip():
    t = torch.nn.MultiheadAttention(E, H, kdim=5, vdim=6, add_bias_kv=True)
    e = ember.nn.MultiheadAttention(E, H, kdim=5, vdim=6, add_bias_kv=True)
    copy_state(t, e)
    back = {k: torch.tensor(v.numpy()) for k, v in e.state_dict().items()}
    fresh = torch.nn.MultiheadAttention(E, H, kdim=5, vdim=6, add_bias_kv=True)
    fresh.load_state_dict(back)
    for (name, a), b in zip(t.state_dict().items(), fresh.state_dict().values()):
        assert torch.equal(a, b), name


def test_mismatched_mask_types_warn_as_torch():
    e, t = _pair({}, np.float32)
    x = RNG.standard_normal((L, N, E)).astype(np.float32)
    kpm = np.zeros((N, L), dtype=bool)
    mask = np.zeros((L, L), dtype=np.float32)
    for lib, module in ((ember, e), (torch, t)):
        tensor = lib.tensor(x)
        with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and "
                                             "attn_mask is deprecated"):
            module(tensor, tensor, tensor, key_padding_mask=lib.tensor(kpm),
                   attn_mask=lib.tensor(mask))


# ---- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("args,kwargs", [
    ((8, 3), {}), ((0, 2), {}), ((8, 0), {}), ((-4, 2), {}),
])
def test_constructor_errors(args, kwargs):
    error, expected = assert_same_error(lambda lib: lib.nn.MultiheadAttention(*args, **kwargs),
                                        exact_type=True)
    assert str(error) == str(expected)


def _error_cases():
    q3 = RNG.standard_normal((L, N, E)).astype(np.float32)
    return {
        "query_rank": (q3[0, 0], q3[0, 0], q3[0, 0], {}),
        "key_rank": (q3, q3[0], q3, {}),
        "unbatched_key_rank": (q3[0], q3, q3, {}),
        "kpm_rank": (q3, q3, q3, {"key_padding_mask": np.zeros((N, L, 1), dtype=bool)}),
        "unbatched_kpm_rank": (q3[:, 0], q3[:, 0], q3[:, 0],
                               {"key_padding_mask": np.zeros((1, L), dtype=bool)}),
        "mask_rank": (q3, q3, q3, {"attn_mask": np.zeros((1, 1, L, L), dtype=bool)}),
        "mask_2d_shape": (q3, q3, q3, {"attn_mask": np.zeros((L, L + 1), dtype=bool)}),
        "mask_3d_shape": (q3, q3, q3, {"attn_mask": np.zeros((N, L, L), dtype=bool)}),
        "unbatched_mask_3d_shape": (q3[:, 0], q3[:, 0], q3[:, 0],
                                    {"attn_mask": np.zeros((1, L, L), dtype=bool)}),
        "kpm_shape": (q3, q3, q3, {"key_padding_mask": np.zeros((N, L + 1), dtype=bool)}),
        "kpm_batch": (q3, q3, q3, {"key_padding_mask": np.zeros((N + 1, L), dtype=bool)}),
        "int_mask": (q3, q3, q3, {"attn_mask": np.zeros((L, L), dtype=np.int64)}),
        "int_kpm": (q3, q3, q3, {"key_padding_mask": np.zeros((N, L), dtype=np.int64)}),
        "causal_without_mask": (q3, q3, q3, {"is_causal": True}),
        "embed_dim": (q3[..., :6], q3[..., :6], q3[..., :6], {}),
        "key_value_shapes": (q3, q3, q3[:3], {}),
    }


@pytest.mark.parametrize("name", list(_error_cases()))
def test_forward_errors_match_torch(name):
    query, key, value, kwargs = _error_cases()[name]
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(E, H)
    e = ember.nn.MultiheadAttention(E, H)

    def call(lib, query, key, value, kwargs):
        module = e if lib is ember else t
        return module(query, key, value, **kwargs)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        error, expected = assert_same_error(call, query, key, value, kwargs, exact_type=True)
    assert str(error) == str(expected)


@pytest.mark.parametrize("attn_ndim", [None, 2, 3])
@pytest.mark.parametrize("with_kpm", [False, True])
def test_merge_masks(attn_ndim, with_kpm):
    attn = None if attn_ndim is None else RNG.standard_normal(
        (L, L) if attn_ndim == 2 else (N * H, L, L))
    kpm = RNG.standard_normal((N, L)) if with_kpm else None
    x = RNG.standard_normal((N, L, E))
    results = []
    for lib in (ember, torch):
        module = lib.nn.MultiheadAttention(E, H, batch_first=True)
        results.append(module.merge_masks(None if attn is None else lib.tensor(attn),
                                          None if kpm is None else lib.tensor(kpm),
                                          lib.tensor(x)))
    (e_mask, e_type), (t_mask, t_type) = results
    assert e_type == t_type
    if t_mask is None:
        assert e_mask is None
    else:
        assert_same(e_mask, t_mask, exact=True)


@pytest.mark.parametrize("mode", ["train", "eval", "eval-no-grad", "cross-attention"])
def test_batch_first_output_has_torchs_strides(mode):
    """torch attends seq-first and returns a transposed (L, N, E) result, except on its fused
    inference path (self-attention, eval, no autograd), whose output is contiguous."""
    strides = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        mha = lib.nn.MultiheadAttention(8, 2, batch_first=True)
        mha.train(mode == "train")
        x, other = lib.randn(3, 5, 8), lib.randn(3, 4, 8)
        with lib.set_grad_enabled(mode != "eval-no-grad"):
            key = other if mode == "cross-attention" else x
            out, _ = mha(x, key, key, need_weights=False)
        strides.append((out.shape, out.stride(), out.is_contiguous()))
    assert strides[1] == strides[0]


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_seq_first_output_is_contiguous_as_torchs(mode):
    """Seq-first, torch projects the output from (L, N) rows: a contiguous (L, N, E) result."""
    strides = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        mha = lib.nn.MultiheadAttention(8, 2).train(mode == "train")
        x = lib.randn(5, 3, 8)
        out, _ = mha(x, x, x)
        strides.append((out.shape, out.stride(), out.is_contiguous()))
    assert strides[1] == strides[0]


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_training_draws_torchs_dropout_masks(norm_first, batch_first):
    """In training the dropout after self-attention draws its mask in the memory order of the
    attention output, as torch does: same seed, same output and gradients."""
    results = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        layer = lib.nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, batch_first=batch_first,
                                               norm_first=norm_first)
        x = lib.randn(3, 7, 16, requires_grad=True) if batch_first else \
            lib.randn(7, 3, 16, requires_grad=True)
        mask = lib.nn.Transformer.generate_square_subsequent_mask(7)
        lib.manual_seed(1)
        y = layer(x, src_mask=mask, is_causal=True)
        (y * y).sum().backward()
        results.append([y, x.grad] + [p.grad for p in layer.parameters()])
    for e, t in zip(results[1], results[0]):
        assert_same(e, t, 1e-5, 1e-5)


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8", "bool", "complex64"])
def test_sdpa_refuses_non_float_queries_as_torch(dtype):
    def run(lib):
        q = lib.ones(1, 2, 3, dtype=getattr(lib, dtype))
        return lib.nn.functional.scaled_dot_product_attention(q, q, q)
    assert_same_error(run)
