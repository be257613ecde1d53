"""vmap's batching rules (NOTE [Batched tensors]) against torch.func.vmap: every function of
the table runs in one batched pass, with no per-element loop, and matches torch's values and
gradients; functions no rule covers fall back to the loop and still match."""

import numpy as np
import pytest
import torch
import torch.func

import ember
import ember.func
from ember.func._batched import STATS, reset_stats
from tests.differential import assert_same, to_ember, to_torch

DATA = np.random.default_rng(1)
A = DATA.standard_normal((4, 3))
B = DATA.standard_normal((4, 3, 2))
C = DATA.standard_normal(3)
M = DATA.standard_normal((3, 5))
IMG = DATA.standard_normal((4, 2, 3, 6, 6))
KER = DATA.standard_normal((4, 3, 3, 3))
CLS = DATA.integers(0, 3, (4, 5))
LOGITS = DATA.standard_normal((4, 5, 3))

# name -> (call(lib, F, *tensors), arrays); every one must run on rules only
RULES = {
    "unary": (lambda lib, F, a: F.vmap(lambda x: x.sin().exp().tanh())(a), (A,)),
    "binary_broadcast": (lambda lib, F, a, m: F.vmap(lambda x, y: x[:, None] * y - 1)(a, m.T[:4]),
                         (A, DATA.standard_normal((5, 4)))),
    "scalar_ops": (lambda lib, F, a: F.vmap(lambda x: 2 * x ** 2 / (x + 3))(a), (A,)),
    "in_dims_none": (lambda lib, F, a, c: F.vmap(lambda x, y: x + y, in_dims=(0, None))(a, c),
                     (A, C)),
    "in_dims_1": (lambda lib, F, b: F.vmap(lambda x: x.sum(0), in_dims=1)(b), (B,)),
    "out_dims_1": (lambda lib, F, b: F.vmap(lambda x: x.exp(), out_dims=2)(b), (B,)),
    "reductions": (lambda lib, F, b: F.vmap(lambda x: (x.sum(-1), x.mean(0, keepdim=True),
                                                       x.amax(1), x.logsumexp(0),
                                                       x.std(1)))(b), (B,)),
    "max_dim": (lambda lib, F, b: F.vmap(lambda x: x.max(0).values)(b), (B,)),
    "softmax": (lambda lib, F, b: F.vmap(lambda x: (x.softmax(-1), x.log_softmax(0)))(b), (B,)),
    "matmul_2d_2d": (lambda lib, F, b, m: F.vmap(lambda x, w: x @ w[:2],
                                                 in_dims=(0, None))(b, m), (B, M)),
    "matmul_vec": (lambda lib, F, a, m: F.vmap(lambda x, w: x @ w, in_dims=(0, None))(a, m),
                   (A, M)),
    "vec_vec": (lambda lib, F, a, c: F.vmap(lambda x, y: lib.dot(x, y),
                                            in_dims=(0, None))(a, c), (A, C)),
    "mat_batched_vec": (lambda lib, F, a, m: F.vmap(lambda v, w: w.T @ v,
                                                    in_dims=(0, None))(a, m), (A, M)),
    "layer_norm": (lambda lib, F, b, c: F.vmap(
        lambda x, w: lib.nn.functional.layer_norm(x, (2,), w[:2], w[1:]),
        in_dims=(0, None))(b, c), (B, C)),
    "both_batched": (lambda lib, F, b: F.vmap(lambda x: x.T @ x)(b), (B,)),
    "mm_bmm": (lambda lib, F, b: F.vmap(lambda x: (lib.mm(x, x.T),
                                                   lib.bmm(x[None], x.T[None])))(b), (B,)),
    "outer_addmm": (lambda lib, F, a, m: F.vmap(
        lambda x, w: (lib.outer(x, x), lib.addmm(x[:, None], x[:, None], w[:1], beta=0.5)),
        in_dims=(0, None))(a, m),
        (A, M)),
    "shapes": (lambda lib, F, b: F.vmap(lambda x: (
        x.view(6), x.reshape(2, 3), x.permute(1, 0), x.transpose(0, 1), x.unsqueeze(1),
        x.unsqueeze(-1).squeeze(-1), x.flatten(), x.expand(5, 3, 2), x.t()))(b), (B,)),
    "indexing": (lambda lib, F, b: F.vmap(lambda x: (x[1], x[:, 0], x[1:, None, ::2],
                                                     x[..., 1]))(b), (B,)),
    "repeat_roll": (lambda lib, F, b: F.vmap(lambda x: (x.repeat(2, 1), x.repeat(2, 1, 3),
                                                        x.roll(1, 0), x.roll((1, -1), (0, 1))))(b),
                    (B,)),
    "constant_indices": (lambda lib, F, b: F.vmap(lambda x: (
        x[:, lib.tensor([1, 0, 1])], x[lib.tensor([2, 0])], x.gather(0, lib.tensor([[0, 1]])),
        x.index_select(1, lib.tensor([1]))))(b), (B,)),
    "cat_stack": (lambda lib, F, a, c: F.vmap(
        lambda x, y: (lib.cat([x, y, x]), lib.stack([x, y], 1)), in_dims=(0, None))(a, c),
        (A, C)),
    "where_compare": (lambda lib, F, a: F.vmap(lambda x: lib.where(x > 0, x, -x))(a), (A,)),
    "nested": (lambda lib, F, b: F.vmap(F.vmap(lambda x: x.sin().sum() * x))(b), (B,)),
    "nested_in_dims": (lambda lib, F, b, c: F.vmap(F.vmap(lambda x, y: x @ y,
                                                          in_dims=(1, None)),
                                                   in_dims=(0, None))(b, c), (B, C)),
    "linear_relu": (lambda lib, F, b, m: F.vmap(
        lambda x, w: lib.nn.functional.relu(lib.nn.functional.linear(x, w, w[:, 0])),
        in_dims=(0, None))(b, m[:2].T),
        (B, M)),
    "conv2d": (lambda lib, F, img, ker: F.vmap(
        lambda x, w: lib.nn.functional.conv2d(x, w, padding=1), in_dims=(0, None))(img, ker),
        (IMG, KER)),
    "cross_entropy": (lambda lib, F, z, y: F.vmap(
        lambda x, t: lib.nn.functional.cross_entropy(x, t))(z, y), (LOGITS, CLS)),
    "cross_entropy_sum": (lambda lib, F, z, y: F.vmap(
        lambda x, t: lib.nn.functional.cross_entropy(x, t, reduction="sum"))(z, y),
        (LOGITS, CLS)),
    "mse": (lambda lib, F, b: F.vmap(lambda x: lib.nn.functional.mse_loss(x, x.sin()))(b), (B,)),
    "argmax_masks": (lambda lib, F, b: F.vmap(lambda x: (x.argmax(), x.argmin(-1),
                                                         x.masked_fill(x > 0, 0.0),
                                                         (x > 0).sum(), (x < 0).any(0)))(b),
                     (B,)),
    "pad_dropout_eval": (lambda lib, F, b: F.vmap(lambda x: lib.nn.functional.pad(
        lib.nn.functional.dropout(x, 0.5, training=False), (1, 2), value=0.5))(b), (B,)),
    "in_dims_2_views": (lambda lib, F, b: F.vmap(lambda x: x.reshape(-1).reshape(3, 4).t(),
                                                 in_dims=2)(b), (B,)),
    "einsum_trace": (lambda lib, F, b, c: F.vmap(
        lambda x, v: (lib.einsum("ij,i->j", x, v), lib.einsum("...j,...j->...", x, x),
                      lib.trace(x.T @ x)), in_dims=(0, None))(b, c), (B, C)),
    "bce_with_logits": (lambda lib, F, b: F.vmap(
        lambda x: lib.nn.functional.binary_cross_entropy_with_logits(x, x.sigmoid()))(b), (B,)),
    "grad": (lambda lib, F, a, c: F.vmap(F.grad(lambda x, w: ((x * w).sum()) ** 2),
                                         in_dims=(0, None))(a, c), (A, C)),
    "jacrev": (lambda lib, F, a: F.vmap(F.jacrev(lambda x: x.sin() * x.sum()))(a), (A,)),
    "hessian": (lambda lib, F, a: F.vmap(F.hessian(lambda x: (x.sin() ** 2).sum()))(a), (A,)),
    "vjp": (lambda lib, F, a: F.vmap(lambda x: F.vjp(lib.sin, x)[1](x.cos())[0])(a), (A,)),
    "jvp": (lambda lib, F, a: F.vmap(lambda x: F.jvp(lib.exp, (x,), (x,))[1])(a), (A,)),
}


def _same(e, t):
    if isinstance(t, dict):
        assert e.keys() == t.keys()
        for key in t:
            _same(e[key], t[key])
    elif isinstance(t, (tuple, list)):
        assert len(e) == len(t)
        for x, y in zip(e, t):
            _same(x, y)
    else:
        assert_same(e, t, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", list(RULES))
def test_rule_path_matches_torch(name):
    call, arrays = RULES[name]
    reset_stats()
    e = call(ember, ember.func, *to_ember(arrays))
    assert not STATS["function_fallback"] and not STATS["op_fallback"], dict(STATS)
    assert sum(STATS["rule"].values()) > 0
    _same(e, call(torch, torch.func, *to_torch(arrays)))


def test_gradients_through_the_rule_path():
    results = []
    for lib in (ember, torch):
        convert = to_ember if lib is ember else to_torch
        b, m = convert(B, requires_grad=True), convert(M[:2], requires_grad=True)
        out = lib.func.vmap(lambda x: (x.T @ x @ m).softmax(-1).sum(0))(b)
        (out * out).sum().backward()
        results.append((out, b.grad, m.grad))
    _same(results[0], results[1])


def _mlp(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 3))
    return model.double()


def test_per_sample_gradients_of_an_mlp():
    """The classic example: vmap(grad(loss)) over (sample, target) with functional_call."""
    x, y = DATA.standard_normal((6, 4)), DATA.integers(0, 3, 6)
    torch_model = _mlp(torch)
    params = {k: v.detach().numpy() for k, v in torch_model.named_parameters()}
    results = []
    for lib, model in ((ember, _mlp(ember)), (torch, torch_model)):
        convert = to_ember if lib is ember else to_torch

        def loss(p, sample, target, lib=lib, model=model):
            out = lib.func.functional_call(model, p, (sample.unsqueeze(0),))
            return lib.nn.functional.cross_entropy(out, target.unsqueeze(0))

        reset_stats()
        grads = lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))(
            convert(params), convert(x), convert(y))
        results.append(grads)
    assert not STATS["function_fallback"] and not STATS["op_fallback"]
    _same(results[0], results[1])


FALLBACK = {
    "item": lambda lib, F, a: F.vmap(lambda x: x * float(x.sum().item() > 0))(a),
    # binary_cross_entropy checks its input's range with Python control flow: the loop runs it
    "bce_range_check": lambda lib, F, a: F.vmap(lambda x: lib.nn.functional.binary_cross_entropy(
        x.sigmoid(), x.cos().abs(), reduction="sum"))(a),
    "sort": lambda lib, F, a: F.vmap(lambda x: x.sort().values * 2)(a),
    "batched_gather_index": lambda lib, F, a: F.vmap(lambda x, i: x.gather(0, i[:1]))(
        a, lib.tensor([[0], [2], [1], [2]])),
    "inplace": lambda lib, F, a: F.vmap(lambda x: x.clone().mul_(2))(a),
}


@pytest.mark.parametrize("name", list(FALLBACK))
def test_fallbacks_match_torch(name):
    a = A
    reset_stats()
    if name == "item":  # torch refuses .item() under vmap, and so does ember (no loop)
        messages = []
        for lib, convert in ((ember, to_ember), (torch, to_torch)):
            with pytest.raises(RuntimeError, match="calling .item\\(\\) on a Tensor") as info:
                FALLBACK[name](lib, lib.func, convert(a))
            messages.append(str(info.value))
        assert messages[0] == messages[1] and not STATS["function_fallback"]
        return
    e = FALLBACK[name](ember, ember.func, to_ember(a))
    assert STATS["function_fallback"] or STATS["op_fallback"]
    _same(e, FALLBACK[name](torch, torch.func, to_torch(a)))


def test_batched_tensor_inside():
    seen = []
    ember.func.vmap(lambda x: seen.append((tuple(x.shape), x.dim())) or x)(to_ember(B))
    assert seen == [((3, 2), 2)]


REFUSED = {  # what torch's vmap refuses outright on a batched tensor
    "float": lambda lib, x: x * float(x.sum()),
    "tolist": lambda lib, x: lib.tensor(x.tolist()),
    "boolean_mask_index": lambda lib, x: x[x > 0],
    "nonzero": lambda lib, x: lib.nonzero(x),
    "masked_select": lambda lib, x: lib.masked_select(x, x > 0),
    "in_dim_for_a_number": None,
    "in_dims_a_list": None,
    "no_inputs": None,
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_vmap_refuses_as_torch(name):
    errors = []
    for lib, convert in ((ember, to_ember), (torch, to_torch)):
        a = convert(A)
        if name == "in_dim_for_a_number":
            call = lambda: lib.func.vmap(lambda x, n: x * n, in_dims=(0, 0))(a, 3)  # noqa: E731
        elif name == "in_dims_a_list":
            call = lambda: lib.func.vmap(lambda x: x, in_dims=[0])(a)  # noqa: E731
        elif name == "no_inputs":
            call = lambda: lib.func.vmap(lambda: lib.ones(2))()  # noqa: E731
        else:
            call = lambda: lib.func.vmap(lambda x: REFUSED[name](lib, x))(a)  # noqa: E731
        with pytest.raises((RuntimeError, ValueError)) as info:
            call()
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1]
