"""The functions defined in ember/nn/functional.py against torch: normalization (batch_norm,
instance_norm, layer_norm, group_norm), dropout (dropout, dropout1d/2d/3d, alpha_dropout),
gumbel_softmax, embedding / embedding_bag, one_hot, normalize, scaled_dot_product_attention.

F.linear / bilinear are ember/ops/nn_ops.py's (tests/ops/test_nn_ops.py), the activations
ember/nn/_functional_activation.py's (tests/nn/test_functional_activation.py), pdist
ember/nn/_functional_distance.py's (tests/nn/test_functional_distance.py); the layers are tested
in tests/nn/modules.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, check_fn

F = ember.nn.functional
RNG = np.random.default_rng(0)


# ---- normalization ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,args,shape", [
    ("batch_norm", (None, None), (4, 3, 2)),
    ("layer_norm", ((2,),), (3, 4, 2)),
    ("group_norm", (2,), (3, 4, 2)),
    ("instance_norm", (), (2, 3, 5)),
])
def test_norm_double_backward_matches_torch(name, args, shape):
    x = np.random.default_rng(2).standard_normal(shape)
    c = shape[1] if name != "layer_norm" else shape[-1]
    w = np.random.default_rng(3).uniform(0.5, 1.5, size=(c,))
    results = []
    for lib in (torch, ember):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        fn = getattr(lib.nn.functional, name)
        if name == "batch_norm":
            y = fn(xt, *args, wt, None, True)
        elif name == "instance_norm":
            y = fn(xt, weight=wt)
        else:
            y = fn(xt, *args, wt)
        y = y * lib.tensor(np.linspace(-1, 1, y.numel()).reshape(shape))
        gx, gw = lib.autograd.grad(y.sum(), (xt, wt), create_graph=True)
        ggx, ggw = lib.autograd.grad((gx * gx).sum() + (gw * gx.sum()).sum(), (xt, wt))
        results.append([a.detach().numpy().copy() for a in (gx, gw, ggx, ggw)])
    for e_arr, t_arr in zip(results[1], results[0]):
        np.testing.assert_allclose(e_arr, t_arr, rtol=1e-7, atol=1e-9)


def test_gradcheck_batch_norm_float64():
    x = ember.tensor(np.random.default_rng(4).standard_normal((4, 2, 3)), requires_grad=True)
    w = ember.tensor([0.7, 1.3], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([0.1, -0.2], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
                                    (x, w, b))


def test_functional_batch_norm_running_stats_in_place():
    rm, rv = ember.zeros(3), ember.ones(3)
    trm, trv = torch.zeros(3), torch.ones(3)
    x = np.random.default_rng(6).standard_normal((5, 3)).astype(np.float32)
    F.batch_norm(ember.tensor(x), rm, rv, training=True, momentum=0.3)
    torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.3)
    assert_same(rm, trm)
    assert_same(rv, trv)


def test_batch_norm_eval_needs_running_stats():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation"):
            lib.nn.functional.batch_norm(lib.zeros(2, 3), None, None)


@pytest.mark.parametrize("kwargs", [{}, {"p": 1.0}, {"dim": 0}, {"p": 3, "dim": -1}])
def test_normalize(kwargs):
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    check_fn(lambda a: torch.nn.functional.normalize(a, **kwargs),
             lambda a: F.normalize(a, **kwargs), x, atol=1e-5)


# ---- dropout: training zeroes with probability p and rescales kept values by 1/(1-p), channel
# variants zero whole channels, the gradient uses the same mask ---------------------------------
def test_dropout_statistics_and_gradient():
    ember.manual_seed(0)
    x = ember.ones(200, 500, requires_grad=True)
    y = F.dropout(x, p=0.3)
    values = y.detach().numpy()
    kept = values != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(values[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)
    # torch's CPU dropout multiplies by its mask: MulBackward0 (native_dropout is CUDA's)
    torch_y = torch.nn.functional.dropout(torch.ones(3, requires_grad=True), p=0.3)
    assert y.grad_fn.name() == torch_y.grad_fn.name() == "MulBackward0"


@pytest.mark.parametrize("fn,shape", [(F.dropout1d, (8, 50, 7)), (F.dropout2d, (8, 50, 3, 3)),
                                      (F.dropout3d, (4, 50, 2, 2, 2)), (F.dropout1d, (50, 7))])
def test_channel_dropout_zeroes_whole_channels(fn, shape):
    ember.manual_seed(1)
    y = fn(ember.ones(*shape), p=0.5).numpy()
    lead = 2 if len(shape) in (3, 4, 5) and shape[0] != 50 else 1
    per_channel = y.reshape(int(np.prod(shape[:lead])), -1)
    assert np.all((per_channel == 0).all(1) | (per_channel == 2).all(1))
    assert 0.3 < (per_channel[:, 0] == 0).mean() < 0.7


def test_dropout2d_on_3d_input_warns():
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input"):
        F.dropout2d(ember.ones(2, 3, 4))


def test_inplace_dropout():
    x = ember.ones(10, 10)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and (x.numpy() == 0).any()


def test_alpha_dropout_keeps_mean_and_variance():
    ember.manual_seed(2)
    x = ember.randn(400, 400)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02


def test_gumbel_softmax():
    ember.manual_seed(4)
    logits = ember.tensor(np.log(np.array([[0.1, 0.2, 0.7]] * 4000, dtype=np.float32)),
                          requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.detach().numpy().sum(1), 1, rtol=1e-5)
    hard = F.gumbel_softmax(logits, hard=True)
    values = hard.detach().numpy()
    assert set(np.unique(values)) == {0.0, 1.0} and np.all(values.sum(1) == 1)
    np.testing.assert_allclose(values.mean(0), [0.1, 0.2, 0.7], atol=0.03)  # Gumbel-max
    (hard * ember.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0


# ---- embedding -------------------------------------------------------------------------------
def test_embedding_double_backward():
    w = np.random.default_rng(1).standard_normal((4, 2))
    idx = np.array([0, 3, 3, 1])
    results = []
    for lib in (torch, ember):
        wt = lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.embedding(lib.tensor(idx), wt, padding_idx=1)
        (g,) = lib.autograd.grad((y * y * y).sum(), wt, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), wt)
        results.append((g.detach().numpy().copy(), gg.numpy().copy()))
    for e_arr, t_arr in zip(results[1], results[0]):
        np.testing.assert_allclose(e_arr, t_arr, rtol=1e-10)


def test_embedding_bag_per_sample_weights():
    w = np.random.default_rng(3).standard_normal((6, 2)).astype(np.float32)
    idx, off = np.array([0, 5, 5, 1]), np.array([0, 1])
    psw = np.array([0.5, 2.0, -1.0, 3.0], dtype=np.float32)
    results = []
    for lib in (torch, ember):
        wt = lib.tensor(w, requires_grad=True)
        pt = lib.tensor(psw, requires_grad=True)
        y = lib.nn.functional.embedding_bag(lib.tensor(idx), wt, lib.tensor(off), mode="sum",
                                            per_sample_weights=pt)
        (y * y).sum().backward()
        results.append([a.detach().numpy().copy() for a in (y, wt.grad, pt.grad)])
    for e_arr, t_arr in zip(results[1], results[0]):
        np.testing.assert_allclose(e_arr, t_arr, rtol=1e-5, atol=1e-6)
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported"):
        F.embedding_bag(ember.tensor(idx), ember.tensor(w), ember.tensor(off),
                        per_sample_weights=ember.ones(4))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(ember.tensor(idx), ember.tensor(w))


def test_one_hot_matches_torch():
    x = np.array([[0, 3], [2, 1]])
    F_t, F_e = torch.nn.functional, F
    assert_same(F_e.one_hot(ember.tensor(x)), F_t.one_hot(torch.tensor(x)))
    assert_same(F_e.one_hot(ember.tensor(x), 6), F_t.one_hot(torch.tensor(x), 6))
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes."):
        F_e.one_hot(ember.tensor(x), 2)


# ---- attention -------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,mask", [({}, None), ({"is_causal": True}, None),
                                         ({"scale": 0.3}, "bool"), ({}, "float")])
def test_scaled_dot_product_attention(kwargs, mask):
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal((2, 3, 4, 5)).astype(np.float32) for _ in range(3))
    masks = {"bool": rng.random((4, 4)) > 0.3, "float": rng.standard_normal((4, 4))}
    m = masks.get(mask)
    if mask == "bool":
        m[:, 0] = True  # every row keeps at least one position

    def call(lib):
        def fn(a, b, c):
            attn = None if m is None else lib.tensor(m.astype(np.float32) if mask == "float"
                                                     else m)
            return lib.nn.functional.scaled_dot_product_attention(a, b, c, attn, **kwargs)
        return fn

    check_fn(call(torch), call(ember), q, k, v, atol=1e-5)


# ---- empty batches, dropout of other ranks, norm errors ----------------------------------------
@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4), (0, 2, 3, 3)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_of_an_empty_batch(shape, training):
    """PyTorch returns input·w[0] + b[0] (empty, in the graph) and leaves the statistics alone."""
    results = []
    for lib in (ember, torch):
        x = lib.zeros(*shape, requires_grad=True)
        w, b = lib.ones(shape[1], requires_grad=True), lib.zeros(shape[1], requires_grad=True)
        mean, var = lib.full((shape[1],), 0.5), lib.full((shape[1],), 2.0)
        y = lib.nn.functional.batch_norm(x, mean, var, w, b, training=training)
        y.sum().backward()
        results.append((y, x.grad, w.grad, mean, var, y.grad_fn.name()))
    for e, t in zip(results[0][:5], results[1][:5]):
        assert_same(e, t)
    assert results[0][5] == results[1][5]


def test_batch_norm_errors_match_torch():
    for call in (lambda m: m.nn.functional.batch_norm(m.zeros(0), m.zeros(0), m.ones(0),
                                                      m.ones(0), m.zeros(0)),
                 lambda m: m.nn.functional.batch_norm(m.ones(1, 3), m.zeros(3), m.ones(3),
                                                      training=True)):
        assert_same_error(call)


@pytest.mark.parametrize("fn, shape, message", [
    (F.dropout2d, (6, 40), "dropout2d: Received a 2-D input"),
    (F.dropout2d, (3, 4, 2, 2, 2), "dropout2d: Received a 5-D input"),
    (F.dropout3d, (40, 4, 3), "dropout3d: Received a 3-D input"),
])
def test_channel_dropout_of_other_ranks_warns_and_drops_channels(fn, shape, message):
    """PyTorch warns, then drops (N, C) slices: on a 2-D input, single elements; an unbatched
    dropout3d input is one sample."""
    for lib in (torch, ember):
        f = getattr(lib.nn.functional, fn.__name__)
        with pytest.warns(UserWarning, match=message):
            y = f(lib.ones(*shape), 0.5).numpy()
        lead = 1 if fn is F.dropout3d else 2
        slices = y.reshape(int(np.prod(shape[:lead])), -1)
        assert np.all((slices == 0).all(1) | (slices == 2).all(1))
        assert 0.2 < (slices[:, 0] == 0).mean() < 0.8
    with pytest.warns(UserWarning):
        layer = ember.nn.Dropout2d()(ember.ones(50, 4)).numpy()
    assert 0 < (layer == 0).mean() < 1


def test_feature_dropout_needs_two_dims():
    with pytest.warns(UserWarning):
        assert_same_error(lambda m: m.nn.functional.dropout2d(m.ones(4)), same_message=True)


@pytest.mark.parametrize("fn", ["alpha_dropout", "feature_alpha_dropout"])
def test_alpha_dropout_of_everything(fn):
    """p = 1 drops everything: PyTorch returns input·0 (still in the graph)."""
    x = ember.randn(2, 3, 4, requires_grad=True)
    y = getattr(F, fn)(x, 1.0, True)
    assert (y.detach().numpy() == 0).all() and y.requires_grad
    y.sum().backward()
    assert (x.grad.numpy() == 0).all()


NORM_ERRORS = [
    lambda m: m.nn.functional.group_norm(m.ones(1), 1),
    lambda m: m.nn.functional.group_norm(m.ones(2, 7, 4), 2),
    lambda m: m.nn.functional.rms_norm(m.ones(1, 2, 3), ()),
    lambda m: m.nn.functional.rms_norm(m.ones(1, 2, 3), (1, 2, 3), m.ones(1, 2)),
    lambda m: m.nn.functional.rms_norm(m.ones(2, 2, 3), (2, 2), None, 1e-5),
]


@pytest.mark.parametrize("index", range(len(NORM_ERRORS)))
def test_norm_errors_match_torch(index):
    assert_same_error(NORM_ERRORS[index], same_message=True)


def test_norms_in_the_torch_namespace():
    """torch.layer_norm / group_norm / rms_norm / bilinear are the functional ones."""
    x = RNG.standard_normal((2, 4, 3)).astype(np.float32)
    check_fn(lambda t: torch.layer_norm(t, (3,)), lambda t: ember.layer_norm(t, (3,)), x,
             atol=1e-5)
    check_fn(lambda t: torch.group_norm(t, 2), lambda t: ember.group_norm(t, 2), x, atol=1e-5)
    check_fn(lambda t: torch.rms_norm(t, (3,)), lambda t: ember.rms_norm(t, (3,)), x, atol=1e-5)
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 4))
    w = RNG.standard_normal((5, 3, 4))
    check_fn(torch.bilinear, ember.bilinear, a, b, w, atol=1e-10)


def test_embedding_needs_a_matrix():
    for weight in ((3,), (3, 2, 2)):
        assert_same_error(lambda m: m.nn.functional.embedding(m.tensor([0]), m.ones(*weight)),
                          same_message=True)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("weighted", [False, True])
def test_embedding_bag_node_name_and_empty_bags_as_torch(mode, weighted):
    """One EmbeddingBagBackward0 node whatever ember composes; an empty max bag is +0."""
    if weighted and mode != "sum":
        return  # (torch takes per_sample_weights in sum mode only)
    seen = []
    for lib in (torch, ember):
        weight = lib.full((4, 2), -1.0, requires_grad=True)
        psw = lib.tensor([0.5, 2.0, 1.5]) if weighted else None
        out = lib.nn.functional.embedding_bag(lib.tensor([0, 1, 3]), weight,
                                              lib.tensor([0, 2, 2]), mode=mode,
                                              per_sample_weights=psw)
        out.sum().backward()
        seen.append((type(out.grad_fn).__name__, out.detach().numpy(), weight.grad.numpy()))
    assert seen[0][0] == seen[1][0] == "EmbeddingBagBackward0"
    for ours, theirs in zip(seen[1][1:], seen[0][1:]):
        np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))
