"""torch's CPU autocast op lists, op by op: under `autocast("cpu", dtype=bfloat16)` each call
gives torch's output dtype, values (to bfloat16 precision) and float32 leaf gradients. Three
tables: float32 inputs (the lower-precision list), bfloat16 inputs (the float32 list), and
mixed chains, where a bfloat16 activation meets float32 weights (a two-layer MLP, a CNN,
attention)."""

import numpy as np
import pytest
import torch

import ember


def _leaves(lib, dtype, shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [lib.tensor(rng.uniform(0.5, 1.5, size=s).astype("float32")).to(
        getattr(lib, dtype)).requires_grad_() for s in shapes]


def _einsum(eq):
    return lambda lib, a, b: lib.einsum(eq, a, b)


# name -> (shapes of the leaves, call)
LOWER = {
    "mm": ([(4, 3), (3, 2)], lambda lib, a, b: lib.mm(a, b)),
    "matmul": ([(4, 3), (3, 2)], lambda lib, a, b: a @ b),
    "matmul 1d": ([(4, 3), (3,)], lambda lib, a, b: a @ b),
    "bmm": ([(2, 4, 3), (2, 3, 2)], lambda lib, a, b: lib.bmm(a, b)),
    "baddbmm": ([(2, 4, 3), (2, 3, 4)], lambda lib, a, b: lib.baddbmm(a @ b, a, b)),
    "addbmm": ([(2, 4, 3), (2, 3, 4)], lambda lib, a, b: lib.addbmm(a[0] @ b[0], a, b)),
    "addmm": ([(4, 3), (3, 4)], lambda lib, a, b: lib.addmm(a @ b, a, b)),
    "linear": ([(4, 3), (2, 3)], lambda lib, a, b: lib.nn.functional.linear(a, b)),
    "linear bias": ([(4, 3), (2, 3)], lambda lib, a, b: lib.nn.functional.linear(
        a, b, b[:, 0])),
    "conv1d": ([(1, 2, 6), (3, 2, 3)], lambda lib, a, b: lib.nn.functional.conv1d(a, b)),
    "conv2d": ([(1, 2, 5, 5), (3, 2, 3, 3)], lambda lib, a, b: lib.nn.functional.conv2d(a, b)),
    "conv_transpose2d": ([(1, 2, 4, 4), (2, 3, 3, 3)],
                         lambda lib, a, b: lib.nn.functional.conv_transpose2d(a, b)),
    "prelu": ([(4, 3), (1,)], lambda lib, a, b: lib.nn.functional.prelu(a, b)),
    "sdpa": ([(1, 2, 4, 3), (1, 2, 4, 3)], lambda lib, a, b:
             lib.nn.functional.scaled_dot_product_attention(a, b, b)),
    "einsum contraction": ([(4, 3), (3, 2)], _einsum("ij,jk->ik")),
    "einsum full sum": ([(4, 3), (4, 3)], _einsum("ij,ij->")),
    "einsum matvec": ([(4, 3), (4, 3)], lambda lib, a, b: lib.einsum("ij,j->i", a, b[0])),
    "einsum elementwise": ([(4, 3), (4, 3)], _einsum("ij,ij->ij")),
    "einsum outer": ([(3,), (4,)], _einsum("i,j->ij")),
    "linalg.vecdot": ([(4, 3), (4, 3)], lambda lib, a, b: lib.linalg.vecdot(a, b)),
    "inner": ([(4, 3), (2, 3)], lambda lib, a, b: lib.inner(a, b)),
    "vdot (not listed)": ([(3,), (3,)], lambda lib, a, b: lib.vdot(a, b)),
    "mv (not listed)": ([(4, 3), (3,)], lambda lib, a, b: lib.mv(a, b)),
    "dot (not listed)": ([(3,), (3,)], lambda lib, a, b: lib.dot(a, b)),
    "add (not listed)": ([(4, 3), (4, 3)], lambda lib, a, b: a + b),
    "float64 kept": ([(4, 3), (3, 2)], lambda lib, a, b: a.double() @ b.double()),
}

FLOAT32 = {
    "prod": ([(4, 3)], lambda lib, a: a.prod()),
    "prod dim": ([(4, 3)], lambda lib, a: a.prod(0)),
    "cumprod (not listed)": ([(4, 3)], lambda lib, a: a.cumprod(0)),
    "mse": ([(4, 3), (4, 3)], lambda lib, a, b: lib.nn.functional.mse_loss(a, b)),
    "l1": ([(4, 3), (4, 3)], lambda lib, a, b: lib.nn.functional.l1_loss(a, b)),
    "smooth_l1": ([(4, 3), (4, 3)], lambda lib, a, b: lib.nn.functional.smooth_l1_loss(a, b)),
    "cross_entropy": ([(4, 3)], lambda lib, a: lib.nn.functional.cross_entropy(
        a, lib.tensor([0, 1, 2, 0]))),
    "kl_div": ([(4, 3), (4, 3)], lambda lib, a, b: lib.nn.functional.kl_div(
        a, b, reduction="batchmean")),
    "poisson_nll": ([(4, 3), (4, 3)], lambda lib, a, b: lib.nn.functional.poisson_nll_loss(
        a, b)),
    "soft_margin": ([(4, 3), (4, 3)], lambda lib, a, b: lib.nn.functional.soft_margin_loss(
        a, b.detach())),
    "multi_margin": ([(4, 3)], lambda lib, a: lib.nn.functional.multi_margin_loss(
        a, lib.tensor([0, 1, 2, 0]))),
    "hinge_embedding": ([(4, 3), (4, 3)], lambda lib, a, b:
                        lib.nn.functional.hinge_embedding_loss(a, b)),
    "cosine_embedding": ([(4, 3), (4, 3)], lambda lib, a, b:
                         lib.nn.functional.cosine_embedding_loss(a, b, lib.ones(4))),
    "triplet": ([(4, 3), (4, 3)], lambda lib, a, b:
                lib.nn.functional.triplet_margin_loss(a, b, a * 0.5)),
    "cdist": ([(4, 3), (4, 3)], lambda lib, a, b: lib.cdist(a, b)),
    "trace": ([(4, 4)], lambda lib, a: lib.trace(a)),
    "quantile": ([(12,)], lambda lib, a: lib.quantile(a, 0.3)),
    "max_pool3d": ([(1, 2, 4, 4, 4)], lambda lib, a: lib.nn.functional.max_pool3d(a, 2)),
    "adaptive_avg_pool3d": ([(1, 2, 4, 4, 4)], lambda lib, a:
                            lib.nn.functional.adaptive_avg_pool3d(a, 2)),
    "avg_pool3d": ([(1, 2, 4, 4, 4)], lambda lib, a: lib.nn.functional.avg_pool3d(a, 2)),
    "reflect pad 1d": ([(1, 2, 5)], lambda lib, a: lib.nn.functional.pad(a, (1, 2), "reflect")),
    "reflect pad 2d": ([(1, 2, 4, 4)], lambda lib, a: lib.nn.functional.pad(
        a, (1, 1, 2, 0), mode="reflect")),
    "reflect pad 3d (not listed)": ([(1, 2, 3, 3, 3)], lambda lib, a: lib.nn.functional.pad(
        a, (1,) * 6, mode="reflect")),
    "replicate pad 3d": ([(1, 2, 3, 3, 3)], lambda lib, a: lib.nn.functional.pad(
        a, (1,) * 6, mode="replicate")),
    "circular pad (not listed)": ([(1, 2, 5)], lambda lib, a: lib.nn.functional.pad(
        a, (1, 1), mode="circular")),
    "constant pad (not listed)": ([(1, 2, 5)], lambda lib, a: lib.nn.functional.pad(a, (1, 1))),
    "rfft": ([(8,)], lambda lib, a: lib.view_as_real(lib.fft.rfft(a))),
    "fft": ([(8,)], lambda lib, a: lib.view_as_real(lib.fft.fft(a))),
    "fftn": ([(2, 4)], lambda lib, a: lib.view_as_real(lib.fft.fftn(a))),
    "stft": ([(64,)], lambda lib, a: lib.view_as_real(lib.stft(
        a, 16, window=lib.hann_window(16).to(a.dtype), return_complex=True))),
    "max_pool2d (not listed)": ([(1, 2, 4, 4)], lambda lib, a:
                                lib.nn.functional.max_pool2d(a, 2)),
    "grid_sample": ([(1, 2, 5, 5), (1, 3, 3, 2)], lambda lib, a, b:
                    lib.nn.functional.grid_sample(a, b - 1, align_corners=False)),
    "softmax (not listed)": ([(4, 3)], lambda lib, a: lib.nn.functional.softmax(a, -1)),
}


def _module_chain(build):
    def call(lib, x):
        lib.manual_seed(0)
        return build(lib)(x)
    return call


MIXED = {
    "mlp": ([(4, 3)], _module_chain(lambda lib: lib.nn.Sequential(
        lib.nn.Linear(3, 5), lib.nn.ReLU(), lib.nn.Linear(5, 2)))),
    "cnn": ([(1, 2, 7, 7)], _module_chain(lambda lib: lib.nn.Sequential(
        lib.nn.Conv2d(2, 3, 3), lib.nn.ReLU(), lib.nn.Conv2d(3, 2, 3)))),
    "conv bn": ([(2, 2, 5, 5)], _module_chain(lambda lib: lib.nn.Sequential(
        lib.nn.Conv2d(2, 3, 3), lib.nn.BatchNorm2d(3)))),
    "linear layernorm": ([(4, 3)], _module_chain(lambda lib: lib.nn.Sequential(
        lib.nn.Linear(3, 3), lib.nn.LayerNorm(3), lib.nn.Linear(3, 2)))),
    "mha": ([(3, 1, 4)], _module_chain(lambda lib: (
        lambda m: lambda x: m(x, x, x)[0])(lib.nn.MultiheadAttention(4, 2)))),
    "mha batch_first": ([(1, 3, 4)], _module_chain(lambda lib: (
        lambda m: lambda x: m(x, x, x)[0])(lib.nn.MultiheadAttention(4, 2, batch_first=True)))),
    "encoder layer": ([(3, 1, 4)], _module_chain(lambda lib: lib.nn.TransformerEncoderLayer(
        4, 2, 8, dropout=0.0))),
    "lstm": ([(4, 1, 3)], _module_chain(lambda lib: (
        lambda m: lambda x: m(x)[0])(lib.nn.LSTM(3, 2)))),
    "lstm 2 layers": ([(4, 1, 3)], _module_chain(lambda lib: (
        lambda m: lambda x: m(x)[0])(lib.nn.LSTM(3, 2, num_layers=2)))),
    "lstm bidirectional": ([(4, 1, 3)], _module_chain(lambda lib: (
        lambda m: lambda x: m(x)[0])(lib.nn.LSTM(3, 2, bidirectional=True)))),
    "gru (not listed)": ([(4, 1, 3)], _module_chain(lambda lib: (
        lambda m: lambda x: m(x)[0])(lib.nn.GRU(3, 2)))),
    "lstm cell (not listed)": ([(4, 3)], _module_chain(lambda lib: (
        lambda m: lambda x: m(x)[0])(lib.nn.LSTMCell(3, 2)))),
    "sdpa mixed": ([(1, 2, 4, 3), (1, 2, 4, 3)], lambda lib, a, b:
                   lib.nn.functional.scaled_dot_product_attention(a.bfloat16(), b, b)),
    "mm mixed": ([(4, 3), (3, 2)], lambda lib, a, b: lib.mm(a.bfloat16(), b)),
    "linear then loss": ([(4, 3)], _module_chain(lambda lib: (
        lambda m: lambda x: lib.nn.functional.cross_entropy(m(x), lib.tensor([0, 1, 2, 0])))(
        lib.nn.Linear(3, 3)))),
}


def _run(lib, shapes, call, dtype):
    leaves = _leaves(lib, dtype, shapes)
    with lib.autocast("cpu", dtype=lib.bfloat16):
        out = call(lib, *leaves)
    out.float().sum().backward()
    return (str(out.dtype), out.detach().float().numpy(),
            [None if leaf.grad is None else (str(leaf.grad.dtype), leaf.grad.float().numpy())
             for leaf in leaves])


def _compare(table, name, dtype):
    shapes, call = table[name]
    ours, theirs = _run(ember, shapes, call, dtype), _run(torch, shapes, call, dtype)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=2e-2, atol=2e-2)
    for e, t in zip(ours[2], theirs[2]):
        assert (e is None) == (t is None)
        if t is not None:
            assert e[0] == t[0]
            np.testing.assert_allclose(e[1], t[1], rtol=3e-2, atol=3e-2)


@pytest.mark.parametrize("name", list(LOWER))
def test_lower_precision_list_with_float32_inputs(name):
    _compare(LOWER, name, "float32")


@pytest.mark.parametrize("name", list(FLOAT32))
def test_float32_list_with_bfloat16_inputs(name):
    _compare(FLOAT32, name, "bfloat16")


@pytest.mark.parametrize("name", list(MIXED))
def test_bfloat16_activations_meet_float32_weights(name):
    _compare(MIXED, name, "float32")
