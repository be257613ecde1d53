"""Sparse gradients against PyTorch: `nn.Embedding(sparse=True)` / `F.embedding(sparse=True)`
give the weight a sparse COO gradient with torch's entries, leaves accumulate sparse and
dense gradients as torch's AccumulateGrad does, the sparse in-place arithmetic optimizers use
matches, and SGD, Adagrad, SparseAdam and LBFGS train an embedding as torch's do while the
other optimizers refuse with torch's words."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error
from tests.sparse._helpers import QUIET, assert_same_sparse, both_sparse, coo_data

pytestmark = QUIET

BATCHES = [[[0, 2, 1], [2, 5, 0]], [[4, 4, 3], [1, 0, 5]], [[5, 5, 5], [2, 3, 1]]]


def _embedding(lib, **kwargs):
    """The same Embedding(6, 3) in one library (weights from a fixed NumPy draw)."""
    module = lib.nn.Embedding(6, 3, sparse=True, **kwargs)
    with lib.no_grad():
        module.weight.copy_(lib.tensor(np.random.default_rng(0).standard_normal((6, 3),
                                                                             dtype=np.float32)))
    return module


def _loss(lib, module, batch, step=0):
    """A loss whose gradient differs row by row and step by step (gently: the trajectories
    must not amplify rounding differences)."""
    scale = lib.arange(18.0).reshape(2, 3, 3) / 17 + step / 10
    return ((module(lib.tensor(batch)) * scale).sin()).sum()


@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding_gradient_is_torchs_sparse_tensor(padding_idx):
    e, t = _embedding(ember, padding_idx=padding_idx), _embedding(torch, padding_idx=padding_idx)
    _loss(ember, e, BATCHES[0]).backward()
    _loss(torch, t, BATCHES[0]).backward()
    assert_same_sparse(e.weight.grad, t.weight.grad)
    assert e.weight.grad.grad_fn is None and not e.weight.grad.requires_grad


@pytest.mark.parametrize("first, second", [("sparse", "sparse"), ("dense", "sparse"),
                                           ("sparse", "dense"), ("both", "sparse")])
def test_leaf_accumulates_like_torch(first, second):
    """Across backward calls (and two uses in one graph), the accumulated gradient has
    torch's layout, entries (PyTorch's merge of entry lists) and values."""
    grads = []
    for lib in (ember, torch):
        module = _embedding(lib)
        for step, kind in enumerate((first, second)):
            loss = {"sparse": lambda: _loss(lib, module, BATCHES[step], step),
                    "dense": lambda: (module.weight ** 2).sum() * (step + 1),
                    "both": lambda: _loss(lib, module, BATCHES[step], step)
                    + _loss(lib, module, BATCHES[2], step)}[kind]()
            loss.backward()
        grads.append(module.weight.grad)
    e, t = grads
    if t.is_sparse:
        assert_same_sparse(e, t)
    else:
        assert not e.is_sparse
        assert_same(e, t)


def test_functional_embedding_and_padding_only():
    we, wt = (lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
              for lib in (ember, torch))
    for lib, w in ((ember, we), (torch, wt)):
        lib.nn.functional.embedding(lib.tensor([2, 2, 0]), w, sparse=True).sum().backward()
    assert_same_sparse(we.grad, wt.grad)
    e, t = _embedding(ember, padding_idx=4), _embedding(torch, padding_idx=4)
    e(ember.tensor([4, 4])).sum().backward()
    t(torch.tensor([4, 4])).sum().backward()
    assert_same_sparse(e.weight.grad, t.weight.grad)  # no entries, coalesced


def test_scale_grad_by_freq_refused():
    assert_same_error(lambda lib: _loss(lib, _embedding(lib, scale_grad_by_freq=True),
                                        BATCHES[0]).backward())


def test_zero_grad_keeps_an_empty_sparse_gradient():
    for lib in (ember, torch):
        module = _embedding(lib)
        _loss(lib, module, BATCHES[0]).backward()
        lib.optim.SGD(module.parameters(), lr=0.1).zero_grad(set_to_none=False)
        assert module.weight.grad.is_sparse and module.weight.grad._nnz() == 0
        assert module.weight.grad.is_coalesced()


# ---- the arithmetic optimizers run ------------------------------------------------------------
def _pair(seed, shape=(5, 2), nnz=6):
    indices, values = coo_data(np.random.default_rng(seed), shape[:1], nnz, shape[1:])
    return both_sparse(indices, values, shape)[:2]


@pytest.mark.parametrize("coalesce", [(False, False), (True, True), (True, False)])
def test_sparse_plus_sparse_is_torchs_merge(coalesce):
    (ae, at), (be, bt) = _pair(1), _pair(2, nnz=4)
    if coalesce[0]:
        ae, at = ae.coalesce(), at.coalesce()
    if coalesce[1]:
        be, bt = be.coalesce(), bt.coalesce()
    assert_same_sparse(ae + be, at + bt)
    assert_same_sparse(ae.clone().add_(be, alpha=-0.5), at.clone().add_(bt, alpha=-0.5))
    assert_same_sparse(ae.clone().sub_(be), at.clone().sub_(bt))


def test_dense_and_sparse_in_place():
    (se, st) = _pair(3)
    de, dt = ember.ones(5, 2), torch.ones(5, 2)
    assert_same(de.clone().add_(se, alpha=-0.25), dt.clone().add_(st, alpha=-0.25))
    assert_same(de.clone().sub_(se), dt.clone().sub_(st))
    d2e, d2t = de.clone(), dt.clone()
    d2e += se
    d2t += st
    assert_same(d2e, d2t)
    assert_same(de.add(se, alpha=2), dt.add(st, alpha=2))
    assert_same_error(lambda lib: (lib.ones(4, 2) if lib is torch else ember.ones(4, 2))
                      .add_(st if lib is torch else se))


@pytest.mark.parametrize("op", ["mul_scalar", "mul_tensor0", "mul_dense", "div", "neg", "zero",
                                "pow", "sqrt", "norm", "norm1", "copy", "sparse_mask"])
def test_sparse_tensor_methods(op):
    (se, st) = _pair(4)
    results = []
    for lib, s in ((ember, se), (torch, st)):
        dense = lib.arange(10.0).reshape(5, 2)
        run = {"mul_scalar": lambda: s.clone().mul_(-1.5), "div": lambda: s.clone().div_(4),
               "mul_tensor0": lambda: s.clone().mul_(lib.tensor(3.0)),
               "mul_dense": lambda: s.clone().mul_(dense), "neg": lambda: s.clone().neg_(),
               "zero": lambda: s.clone().zero_(), "pow": lambda: s.pow(2),
               "sqrt": lambda: s.pow(2).sqrt(), "norm": lambda: s.norm(),
               "norm1": lambda: s.norm(1), "copy": lambda: s.clone().zero_().copy_(s),
               "sparse_mask": lambda: dense.sparse_mask(s.coalesce())}[op]
        results.append(run())
    e, t = results
    if t.is_sparse:
        assert_same_sparse(e, t)
    else:
        assert_same(e, t)


def test_sparse_pow_zero_refused():
    (se, st) = _pair(5)
    assert_same_error(lambda lib: (st if lib is torch else se).pow(0))


# ---- optimizers ---------------------------------------------------------------------------
OPTIMIZERS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.2, "nesterov": False, "maximize": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.2,
                 "maximize": True}),
    ("SparseAdam", {"lr": 0.05}),
    ("SparseAdam", {"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-6, "maximize": True}),
]


def _train(lib, name, kwargs, steps=12):
    module = _embedding(lib, padding_idx=3)
    optimizer = getattr(lib.optim, name)(module.parameters(), **kwargs)
    for step in range(steps):
        optimizer.zero_grad()
        _loss(lib, module, BATCHES[step % 3], step).backward()
        optimizer.step()
    return module.weight.detach(), optimizer


@pytest.mark.parametrize("name, kwargs", OPTIMIZERS,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}"
                              for n, kw in OPTIMIZERS])
def test_optimizer_trains_sparse_embedding_as_torch(name, kwargs):
    (we, oe), (wt, ot) = _train(ember, name, kwargs), _train(torch, name, kwargs)
    np.testing.assert_allclose(we.numpy(), wt.numpy(), rtol=1e-5, atol=1e-6)
    state_e, state_t = (o.state_dict()["state"].get(0, {}) for o in (oe, ot))
    assert sorted(state_e) == sorted(state_t)
    for key, value in state_t.items():
        if isinstance(value, torch.Tensor) and value.is_sparse:
            assert_same_sparse(state_e[key], value)
        elif isinstance(value, torch.Tensor):
            np.testing.assert_allclose(state_e[key].numpy(), value.numpy(), rtol=1e-5,
                                       atol=1e-6)
        else:
            assert state_e[key] == value


def test_lbfgs_reads_sparse_gradients_densely():
    weights = []
    for lib in (ember, torch):
        module = _embedding(lib)
        optimizer = lib.optim.LBFGS(module.parameters(), lr=0.5, max_iter=5)

        def closure():
            optimizer.zero_grad()
            loss = _loss(lib, module, BATCHES[0])
            loss.backward()
            return loss

        for _ in range(2):
            optimizer.step(closure)
        weights.append(module.weight.detach().numpy())
    np.testing.assert_allclose(weights[0], weights[1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop",
                                  "Rprop", "ASGD", "Adadelta", "Adafactor"])
def test_dense_only_optimizers_refuse_sparse_gradients(name):
    def run(lib):
        module = _embedding(lib)
        before = module.weight.detach().clone()
        dense = lib.nn.Parameter(lib.ones(2))
        optimizer = getattr(lib.optim, name)([dense, module.weight])
        (dense.sum() + _loss(lib, module, BATCHES[0])).backward()
        try:
            optimizer.step()
        finally:
            assert (dense == 1).all() and lib.equal(module.weight, before)  # nothing moved
    assert_same_error(run)


@pytest.mark.parametrize("case", ["dense_grad", "weight_decay_sgd", "weight_decay_adagrad",
                                  "bad_lr", "bad_eps", "bad_beta", "complex_param"])
def test_refusals_as_torch(case):
    def run(lib):
        if case == "bad_lr":
            return lib.optim.SparseAdam([lib.nn.Parameter(lib.ones(2))], lr=0.0)
        if case == "bad_eps":
            return lib.optim.SparseAdam([lib.nn.Parameter(lib.ones(2))], eps=-1.0)
        if case == "bad_beta":
            return lib.optim.SparseAdam([lib.nn.Parameter(lib.ones(2))], betas=(0.9, 1.0))
        if case == "complex_param":
            return lib.optim.SparseAdam([lib.nn.Parameter(lib.ones(2, dtype=lib.complex64))])
        module = _embedding(lib)
        name, kwargs = {"dense_grad": ("SparseAdam", {}),
                        "weight_decay_sgd": ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
                        "weight_decay_adagrad": ("Adagrad", {"weight_decay": 0.1})}[case]
        optimizer = getattr(lib.optim, name)(module.parameters(), **kwargs)
        if case == "dense_grad":
            (module.weight ** 2).sum().backward()
        else:
            _loss(lib, module, BATCHES[0]).backward()
        optimizer.step()
    assert_same_error(run)


@pytest.mark.parametrize("mode, weighted, padding_idx", [("sum", False, None), ("sum", True, 5),
                                                         ("mean", False, 5),
                                                         ("mean", False, None)])
def test_embedding_bag_gradient_is_torchs_sparse_tensor(mode, weighted, padding_idx):
    grads = []
    for lib in (ember, torch):
        weight = lib.arange(12.0).reshape(6, 2).requires_grad_()
        psw = lib.tensor([1.0, 2.0, 3.0, 4.0, 5.0]) if weighted else None
        out = lib.nn.functional.embedding_bag(
            lib.tensor([3, 1, 3, 0, 5]), weight, lib.tensor([0, 2, 2]), mode=mode, sparse=True,
            per_sample_weights=psw, padding_idx=padding_idx)
        (out * lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum().backward()
        grads.append(weight.grad)
    assert_same_sparse(*grads)


def test_sparse_copy_takes_the_source_size_and_refuses_dense_as_torch():
    (ae, at), (be, bt) = _pair(6, shape=(5, 2)), _pair(7, shape=(7, 2))
    assert_same_sparse(ae.clone().copy_(be), at.clone().copy_(bt))
    assert_same_error(lambda lib: (ae if lib is ember else at).clone().copy_(lib.ones(5, 2)))


def _spmm_function(lib):
    """pyGAT's SpecialSpmmFunction: a custom Function that saves a sparse tensor."""

    class SpecialSpmm(lib.autograd.Function):
        @staticmethod
        def forward(ctx, indices, values, shape, b):
            a = lib.sparse_coo_tensor(indices, values, shape)
            ctx.save_for_backward(a, b)
            ctx.N = shape[0]
            return lib.matmul(a, b)

        @staticmethod
        def backward(ctx, grad_output):
            a, b = ctx.saved_tensors
            grad_a_dense = grad_output.matmul(b.t())
            edge_idx = a._indices()[0, :] * ctx.N + a._indices()[1, :]
            return None, grad_a_dense.view(-1)[edge_idx], None, a.t().matmul(grad_output)

    return SpecialSpmm


@QUIET
def test_custom_function_saves_a_sparse_tensor():
    """ctx.save_for_backward of a sparse tensor (graph attention's sparse spmm) as in torch."""
    rng = np.random.default_rng(3)
    edges, weights, dense = (np.array([[0, 1, 2, 2], [1, 0, 2, 0]]), rng.random(4, np.float32),
                             rng.random((3, 2), np.float32))
    results = []
    for lib in (ember, torch):
        values = lib.tensor(weights, requires_grad=True)
        b = lib.tensor(dense, requires_grad=True)
        out = _spmm_function(lib).apply(lib.tensor(edges), values, lib.Size([3, 3]), b)
        out.sum().backward()
        results.append((out, values.grad, b.grad))
    for e, t in zip(*results):
        assert_same(e, t)


@QUIET
def test_sparse_in_place_ops_count_versions_as_torch():
    """A sparse tensor's _version counts its in-place changes (saved tensors check it)."""
    versions = []
    for lib in (ember, torch):
        i, v = lib.tensor([[0, 1], [1, 0]]), lib.tensor([1., 2.])
        a = lib.sparse_coo_tensor(i, v, (2, 2))
        seen = [a._version]
        for change in (lambda: a.mul_(2), lambda: a.add_(a), lambda: a.sub_(a),
                       lambda: a.div_(2), lambda: a.neg_(), lambda: a.zero_(),
                       lambda: a.copy_(lib.sparse_coo_tensor(i, v, (2, 2)))):
            change()
            seen.append(a._version)
        versions.append(seen)
    assert versions[0] == versions[1] == list(range(8))
