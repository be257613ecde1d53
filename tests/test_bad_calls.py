"""The bad calls of issue #19, each made in ember and in torch: either both return (the same
dtype and shape) or both raise, ember with (a subclass of) torch's exception class, never a
NumPy or Python internals error."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import both_returned

def _bools(lib, *shapes):
    return [lib.ones(*shape, dtype=lib.bool) for shape in shapes]


CALLS = {
    "matmul of bool tensors": lambda lib: lib.ones(2, 2, dtype=lib.bool) @ lib.ones(2, 2,
                                                                                    dtype=lib.bool),
    "Conv2d kernel_size 0": lambda lib: lib.nn.Conv2d(1, 1, 0),
    "BatchNorm1d on int64": lambda lib: lib.nn.BatchNorm1d(2)(lib.ones(3, 2, dtype=lib.int64)),
    "cross_entropy wrong-size weight": lambda lib: lib.nn.functional.cross_entropy(
        lib.ones(2, 3), lib.tensor([0, 1]), weight=lib.ones(4)),
    "cross_entropy int64 logits": lambda lib: lib.nn.functional.cross_entropy(
        lib.ones(2, 3, dtype=lib.int64), lib.tensor([0, 1])),
    "binary_cross_entropy NaN input": lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.tensor([float("nan")]), lib.tensor([1.0])),
    "l1_loss int64": lambda lib: lib.nn.functional.l1_loss(lib.ones(2, dtype=lib.int64),
                                                           lib.ones(2, dtype=lib.int64)),
    "cat of a bare tensor": lambda lib: lib.cat(lib.ones(2, 2)),
    "movedim repeated destination": lambda lib: lib.movedim(lib.ones(2, 3, 4), (0, 1), (2, 2)),
    "tensor + None": lambda lib: lib.ones(2) + None,
    "float tensor - True": lambda lib: lib.ones(2) - True,
    "True - float tensor": lambda lib: True - lib.ones(2),
    "sub_ of True": lambda lib: lib.ones(2).sub_(True),
    "rsub of True": lambda lib: lib.rsub(lib.ones(2), True),
    "gradient of bools": lambda lib: lib.gradient(lib.tensor([True, False, True])),
    "gradient of a 0-d bool": lambda lib: lib.gradient(lib.tensor(True)),
    "addbmm of bools": lambda lib: lib.addbmm(*_bools(lib, (2, 2), (3, 2, 4), (3, 4, 2))),
    "addbmm of bools, no batches": lambda lib: lib.addbmm(*_bools(lib, (2, 2), (0, 2, 4),
                                                                  (0, 4, 2))),
    "addbmm of bools, k = 0": lambda lib: lib.addbmm(*_bools(lib, (2, 2), (3, 2, 0), (3, 0, 2))),
    "sum_to_size of a 0-d bool to ()": lambda lib: lib.tensor(True).sum_to_size(()),
    "string dtype": lambda lib: lib.ones(2, dtype="float32"),
    "grad of the wrong shape": lambda lib: setattr(lib.ones(2, requires_grad=True), "grad",
                                                   lib.ones(3)),
    "copy_ broadcasting under no_grad": lambda lib: _copy_under_no_grad(lib),
    "BatchNorm2d training on an empty batch": lambda lib: lib.nn.BatchNorm2d(3)(
        lib.ones(0, 3, 4, 4)),
    "float tensor == 'a'": lambda lib: lib.ones(2) == "a",
    "matmul with a list": lambda lib: lib.matmul(lib.ones(2), [1.0, 2.0]),
    "cat with a list element": lambda lib: lib.cat([lib.ones(1), [1.0]]),
    "relu of a list": lambda lib: lib.nn.functional.relu([1.0]),
    "relu of None": lambda lib: lib.nn.functional.relu(None),
    "Linear on a 0-d input": lambda lib: lib.nn.Linear(1, 1)(lib.tensor(1.0)),
    "F.linear wrong-size bias": lambda lib: lib.nn.functional.linear(lib.ones(2, 3),
                                                                     lib.ones(4, 3), lib.ones(5)),
    "F.conv2d wrong-size bias": lambda lib: lib.nn.functional.conv2d(
        lib.ones(1, 1, 4, 4), lib.ones(2, 1, 3, 3), lib.ones(3)),
    "Conv2d dilation 0": lambda lib: lib.nn.Conv2d(1, 1, 3, dilation=0)(lib.ones(1, 1, 5, 5)),
    "BatchNorm1d(3) on (2, 4)": lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(2, 4)),
    "F.batch_norm wrong-size weight": lambda lib: lib.nn.functional.batch_norm(
        lib.ones(2, 3), lib.zeros(3), lib.ones(3), weight=lib.ones(4)),
    "mse_loss incompatible shapes": lambda lib: lib.nn.functional.mse_loss(lib.ones(2, 3),
                                                                           lib.ones(4)),
    "in-place add that changes the shape": lambda lib: lib.ones(3).add_(lib.ones(2, 3)),
    "tensor + 'a'": lambda lib: lib.ones(2) + "a",
    "tensor('abc')": lambda lib: lib.tensor("abc"),
    "tensor([1, 'a'])": lambda lib: lib.tensor([1, "a"]),
    "full((2,), 'a')": lambda lib: lib.full((2,), "a"),
    "int() of a 2-element tensor": lambda lib: int(lib.ones(2)),
    "tensor(2**63)": lambda lib: lib.tensor(2**63),
    "empty(2**62)": lambda lib: lib.empty(2**62),
    "zeros(10**6, 10**6)": lambda lib: lib.zeros(10**6, 10**6),
    "arange(0, 10**12)": lambda lib: lib.arange(0, 10**12),
    "ones(2**31, 2**31)": lambda lib: lib.ones(2**31, 2**31),
    "repeat 2**40": lambda lib: lib.ones(2).repeat(2**40),
    "linspace steps=-1": lambda lib: lib.linspace(0, 1, steps=-1),
    "eye(-1)": lambda lib: lib.eye(-1),
    # found by the whole-op_db fuzz (tests/fuzz_ops.py, issue #19 session 5)
    "addcmul with a float tensor2": lambda lib: lib.addcmul(lib.ones(2), lib.ones(2), 1.5),
    "linalg.lu_solve with a bool B": lambda lib: lib.linalg.lu_solve(lib.eye(2), lib.arange(2),
                                                                     True),
    "select with a 2-element index": lambda lib: lib.select(lib.ones(3), 0, lib.ones(2)),
    "ones of an empty tensor": lambda lib: lib.ones(lib.ones(0)),
    "stack of a bare tensor": lambda lib: lib.stack(lib.ones(2, 2)),
    "vstack of a bare tensor": lambda lib: lib.vstack(lib.ones(3)),
    "hsplit with tensor sections": lambda lib: lib.hsplit(lib.ones(4, 4), lib.ones(3)),
    "F.pad with an int mode": lambda lib: lib.nn.functional.pad(lib.ones(3), (1, 1), 3),
    "index_put with a tensor for indices": lambda lib: lib.index_put(
        lib.ones(5), lib.tensor([1]), lib.tensor(2.0)),
    "layer_norm with a wrong-size bias": lambda lib: lib.nn.functional.layer_norm(
        lib.ones(2, 3), (3,), bias=lib.ones(2)),
    "l1_loss with a bool target": lambda lib: lib.nn.functional.l1_loss(
        lib.ones(2), lib.tensor([True, False])),
    "special.entr(None)": lambda lib: lib.special.entr(None),
    "fft.fft2(True)": lambda lib: lib.fft.fft2(True),
    "chebyshev_polynomial_t shapes that don't broadcast": lambda lib:
        lib.special.chebyshev_polynomial_t(lib.ones(2, 3), lib.ones(5)),
    "masked_scatter shapes that don't broadcast": lambda lib: lib.masked_scatter(
        lib.ones(2, 3), lib.ones(2, 5, dtype=lib.bool), lib.ones(10)),
    "Tensor.item of a float": lambda lib: lib.Tensor.item(1.5),
    "meshgrid of a list of floats": lambda lib: lib.meshgrid([1.0, 2.0], indexing="ij"),
    "block_diag with a 0-d float64 block": lambda lib: lib.block_diag(
        lib.ones(2, 2), lib.tensor(1.0, dtype=lib.float64)),
    "bincount of a bool tensor": lambda lib: lib.bincount(lib.ones(3, dtype=lib.bool)),
    "bincount of a 2-D bool tensor": lambda lib: lib.bincount(lib.ones(1, 3, dtype=lib.bool)),
    "unflatten of a 0-d tensor": lambda lib: lib.unflatten(lib.tensor(1), 0, (1,)),
    "unravel_index with a tensor shape": lambda lib: lib.unravel_index(lib.tensor([4]),
                                                                       lib.ones(0)),
    "tril_indices beyond memory": lambda lib: lib.tril_indices(3 * 10**8, 3 * 10**8),
    "triu_indices beyond memory": lambda lib: lib.triu_indices(3 * 10**8, 3 * 10**8, -5),
    "resize_ of a transposed copy reads memory order": lambda lib: lib.arange(6.0).reshape(
        2, 3).t().clone().resize_(3),
    "roll of an empty tensor along a dim out of range": lambda lib: lib.roll(lib.ones(0, 2), 1,
                                                                             -119),
    "allclose of float32 and float64": lambda lib: lib.allclose(lib.ones(2),
                                                                lib.ones(2, dtype=lib.float64)),
    "allclose of empty float32 and bool": lambda lib: lib.allclose(lib.ones(0),
                                                                   lib.ones(0, dtype=lib.bool)),
    "median of bool": lambda lib: lib.median(lib.ones(3, dtype=lib.bool)),
    "median of bool along a dim": lambda lib: lib.median(lib.ones(3, dtype=lib.bool), 0),
    "median of empty bool along a dim": lambda lib: lib.median(lib.ones(0, dtype=lib.bool), 0),
    "median of empty bool": lambda lib: lib.median(lib.ones(2, 0, dtype=lib.bool)),
    "median of empty int64": lambda lib: lib.median(lib.ones(2, 0, 3, dtype=lib.int64)),
    "nanmedian of empty int32": lambda lib: lib.nanmedian(lib.ones(0, dtype=lib.int32)),
    "kthvalue along an empty dim": lambda lib: lib.kthvalue(lib.ones(0), 1),
    "randn_like of an empty int64": lambda lib: lib.randn_like(lib.ones(2, 0, dtype=lib.int64)),
    "randn_like of an int64": lambda lib: lib.randn_like(lib.ones(2, dtype=lib.int64)),
    "randn of no int64 elements": lambda lib: lib.randn(2, 0, dtype=lib.int64),
    "normal with an empty int64 mean, float std": lambda lib: lib.normal(
        lib.ones(2, 0, dtype=lib.int64), 1.0),
    "normal with an empty int64 mean, float std tensor": lambda lib: lib.normal(
        lib.ones(2, 0, dtype=lib.int64), lib.ones(2, 0)),
    "normal with a float mean, empty int64 std": lambda lib: lib.normal(
        1.0, lib.ones(0, dtype=lib.int64)),
    "normal_ of an empty int64": lambda lib: lib.ones(0, dtype=lib.int64).normal_(),
    # issue #19's op_db fuzz (FUZZ20, helper A): checks in torch's order, edge shapes
    "flatten of a 0-d tensor from dim 1": lambda lib: lib.flatten(lib.tensor(1.0), 1),
    "flatten of a 0-d tensor from dim -2": lambda lib: lib.flatten(lib.tensor(1.0), -2),
    "renorm of bool along a dim out of range": lambda lib: lib.renorm(
        lib.ones(1, 3, dtype=lib.bool), 1, 2, 3.0),
    "trace of a bool matrix": lambda lib: lib.trace(lib.ones(2, 3, dtype=lib.bool)),
    "trace of a 3-d bool tensor": lambda lib: lib.trace(lib.ones(4, 1, 3, dtype=lib.bool)),
    "addr with an input that does not expand": lambda lib: lib.addr(
        lib.ones(5, 10), lib.ones(5), lib.ones(1)),
    "addr with a 3-d input": lambda lib: lib.addr(lib.ones(2, 5, 10), lib.ones(5), lib.ones(10)),
    "addr with a 0-d float64 input": lambda lib: lib.addr(
        lib.tensor(2.0, dtype=lib.float64), lib.ones(5), lib.arange(10.0)),
    "addr with beta 0 and a float64 input": lambda lib: lib.addr(
        lib.ones(5, 10, dtype=lib.float64), lib.ones(5), lib.arange(10.0), beta=0),
    "addr of bools, beta 2": lambda lib: lib.addr(
        lib.ones(2, 3, dtype=lib.bool), lib.tensor([True, False]),
        lib.tensor([False, True, True]), beta=2),
    "addr of int64, float alpha": lambda lib: lib.addr(
        lib.ones(2, 3, dtype=lib.int64), lib.ones(2, dtype=lib.int64),
        lib.ones(3, dtype=lib.int64), alpha=0.5),
    "addr of float, bool beta": lambda lib: lib.addr(lib.ones(2, 3), lib.ones(2), lib.ones(3),
                                                     beta=True),
    "_chunk_cat with dim past the ndim": lambda lib: lib._chunk_cat(
        [lib.ones(1, 2, 3), lib.ones(1, 2, 4)], 3, 5),
    "_chunk_cat of an empty tensor, dim -1, mixed ndims": lambda lib: lib._chunk_cat(
        [lib.ones(0, 2, 3), lib.ones(1, 2)], -1, 5),
    "diff of order 0 along a dim out of range": lambda lib: lib.diff(lib.ones(1), 0, -119),
    "diff with a prepend of another shape": lambda lib: lib.diff(lib.ones(3, 2), 1, 0,
                                                                 lib.ones(2, 3)),
    "diff with a 0-d prepend and a dim out of range": lambda lib: lib.diff(
        lib.ones(3), 0, 5, lib.tensor(2.0)),
    "to an accelerator index": lambda lib: lib.ones(2).to(2, lib.float64, True, True),
    "to a negative device index": lambda lib: lib.ones(2).to(-1),
    "to(None, float64)": lambda lib: lib.ones(2).to(None, lib.float64, True, True),
    "to_sparse of an empty tensor": lambda lib: lib.ones(2, 0, 3).to_sparse().to_dense(),
    "to_sparse of an empty tensor, sparse_dim 1": lambda lib: lib.ones(
        2, 0, 3, dtype=lib.int64).to_sparse(1).to_dense(),
    "to_sparse of a 0-d tensor, sparse_dim 1": lambda lib: lib.tensor(2.0).to_sparse(1),
    "to_sparse with sparse_dim 0": lambda lib: lib.ones(2, 2).to_sparse(0),
    "unfold of a 0-d tensor, size 0": lambda lib: lib.tensor(2.0).unfold(0, 0, 1),
    # issue #19's op_db fuzz (FUZZ20, helper A2)
    "flip of a 0-d tensor along dim 0": lambda lib: lib.flip(lib.tensor(1.5), (0,)),
    "flip of a 0-d tensor along dim -1": lambda lib: lib.tensor(1.5).flip(-1),
    "flip with a repeated dim": lambda lib: lib.flip(lib.ones(2, 3), (0, -2)),
    "flip of a 0-d tensor with a repeated dim": lambda lib: lib.flip(lib.tensor(1.5), (0, -1)),
    "atleast_1d of a list of floats": lambda lib: lib.atleast_1d([1.0, 2.0]),
    "atleast_2d of a list of floats": lambda lib: lib.atleast_2d([1.0, 2.0]),
    "atleast_3d of a tuple holding None": lambda lib: lib.atleast_3d((lib.ones(1), None)),
    "index_add of a 0-d source with 3 indices": lambda lib: lib.index_add(
        lib.tensor(1.0), 0, lib.tensor([0, 0, 0]), lib.tensor(2.0)),
    "index_add of a 0-d source with no index": lambda lib: lib.index_add(
        lib.ones(1), -1, lib.ones(0, dtype=lib.int64), lib.tensor(2.0)),
    "index_reduce mean of a 0-d source with 3 indices": lambda lib: lib.index_reduce(
        lib.tensor(1.0), 0, lib.tensor([0, 0, 0]), lib.tensor(2.0), "mean"),
    "logcumsumexp of int64 along a dim out of range": lambda lib: lib.logcumsumexp(
        lib.ones(0, dtype=lib.int64), 1),
    "logcumsumexp of bool along a dim out of range": lambda lib: lib.logcumsumexp(
        lib.ones(3, dtype=lib.bool), 5),
    "inner with last dims 5 and 1": lambda lib: lib.inner(lib.ones(5), lib.ones(1)),
    "inner with last dims 1 and 5": lambda lib: lib.inner(lib.ones(1), lib.ones(5, 5)),
    "baddbmm with a 2-d batch2": lambda lib: lib.baddbmm(lib.ones(2, 3, 4), lib.ones(2, 3, 5),
                                                         lib.ones(5, 4)),
    "baddbmm with a 1-d batch1": lambda lib: lib.baddbmm(lib.ones(2, 3, 4), lib.ones(5),
                                                         lib.ones(2, 5, 4)),
    "baddbmm_ with a 2-d batch2": lambda lib: lib.ones(2, 3, 4).baddbmm_(lib.ones(2, 3, 5),
                                                                         lib.ones(5, 4)),
    "baddbmm of bools": lambda lib: lib.baddbmm(lib.ones(2, 3, 4, dtype=lib.bool),
                                                lib.ones(2, 3, 5, dtype=lib.bool),
                                                lib.ones(2, 5, 4, dtype=lib.bool)),
    "baddbmm of bools, k 0, int beta": lambda lib: lib.baddbmm(
        lib.ones(2, 3, 4, dtype=lib.bool), lib.ones(2, 3, 0, dtype=lib.bool),
        lib.ones(2, 0, 4, dtype=lib.bool)),
    "baddbmm of bools, k 0, bool beta": lambda lib: lib.baddbmm(
        lib.ones(2, 3, 4, dtype=lib.bool), lib.ones(2, 3, 0, dtype=lib.bool),
        lib.ones(2, 0, 4, dtype=lib.bool), beta=True),
    # NOTE [No bool matrix products]
    "mm of bools": lambda lib: lib.mm(lib.ones(2, 3, dtype=lib.bool),
                                      lib.ones(3, 2, dtype=lib.bool)),
    "mm of bools, k 0": lambda lib: lib.mm(lib.ones(2, 0, dtype=lib.bool),
                                           lib.ones(0, 2, dtype=lib.bool)),
    "mv of bools": lambda lib: lib.mv(lib.ones(2, 3, dtype=lib.bool), lib.ones(3, dtype=lib.bool)),
    "bmm of bools": lambda lib: lib.bmm(lib.ones(2, 2, 3, dtype=lib.bool),
                                        lib.ones(2, 3, 2, dtype=lib.bool)),
    "dot of empty bools": lambda lib: lib.dot(lib.ones(0, dtype=lib.bool),
                                              lib.ones(0, dtype=lib.bool)),
    "vdot of bools": lambda lib: lib.vdot(lib.ones(3, dtype=lib.bool),
                                          lib.ones(3, dtype=lib.bool)),
    "matmul of bools that do not fit": lambda lib: lib.matmul(lib.ones(3, dtype=lib.bool),
                                                              lib.ones(4, dtype=lib.bool)),
    "matmul of bools with no rows": lambda lib: lib.matmul(lib.ones(2, 0, 3, dtype=lib.bool),
                                                           lib.ones(3, 2, dtype=lib.bool)),
    "matmul of bools, k 0": lambda lib: lib.matmul(lib.ones(2, 0, dtype=lib.bool),
                                                   lib.ones(0, dtype=lib.bool)),
    "tensordot of bools": lambda lib: lib.tensordot(lib.ones(2, 3, dtype=lib.bool),
                                                    lib.ones(3, 2, dtype=lib.bool), 1),
    "inner of bools": lambda lib: lib.inner(lib.ones(3, dtype=lib.bool),
                                            lib.ones(3, dtype=lib.bool)),
    "addmm of bools": lambda lib: lib.addmm(lib.ones(2, 2, dtype=lib.bool),
                                            lib.ones(2, 3, dtype=lib.bool),
                                            lib.ones(3, 2, dtype=lib.bool)),
    "addmm of bools, k 0, float beta": lambda lib: lib.addmm(
        lib.ones(2, 2, dtype=lib.bool), lib.ones(2, 0, dtype=lib.bool),
        lib.ones(0, 2, dtype=lib.bool), beta=1.5),
    "addmv of bools": lambda lib: lib.addmv(lib.ones(2, dtype=lib.bool),
                                            lib.ones(2, 3, dtype=lib.bool),
                                            lib.ones(3, dtype=lib.bool)),
    "addmv of bools, k 0, int beta": lambda lib: lib.addmv(
        lib.ones(2, dtype=lib.bool), lib.ones(2, 0, dtype=lib.bool),
        lib.ones(0, dtype=lib.bool), beta=2),
    "grid_sampler_2d with mode 2**32 + 1 (nearest)": lambda lib: lib.grid_sampler_2d(
        lib.arange(16.0).reshape(1, 1, 4, 4), lib.tensor([[[[0.3, -0.7], [1.2, 0.1]]]]),
        2**32 + 1, 2**32 + 2, False),
    "narrow with a 0-d bool start": lambda lib: lib.narrow(lib.ones(5, 5), -1, lib.tensor(True),
                                                           2),
    "narrow of a 0-d tensor with a float start": lambda lib: lib.narrow(lib.tensor(1.0), 0,
                                                                        lib.tensor(0.0), 1),
    # dim is an int64_t: a one-element integer tensor only if it is 0-d
    "split with a one-element int64 dim": lambda lib: lib.split(lib.ones(5, 5), 1,
                                                                lib.tensor([1])),
    "split into sections with a one-element dim": lambda lib: lib.ones(5, 5).split(
        [2, 3], lib.tensor([1])),
    "split with a 0-d int64 dim": lambda lib: lib.split(lib.ones(5, 5), 2, lib.tensor(1))[-1],
    # torch multiplies the sizes: a negative count of an empty dim is an empty dim (forward)
    "repeat of an empty dim by a negative count": lambda lib: lib.ones(0, 2).repeat(-3, 2),
    "repeat of an empty dim by a negative count, backward": lambda lib: lib.ones(
        0, requires_grad=True).repeat(2, -3).sum().backward(),
}


# Calls where ember still differs from torch, in one place with the reason (issue #19). Each is
# xfail(strict=True): fixing one turns its test red until its line is removed.
def _copy_under_no_grad(lib):
    weight = lib.nn.Parameter(lib.zeros(2, 3))
    with lib.no_grad():
        weight.copy_(lib.arange(3, dtype=lib.int64))
    return weight


def _outcome(lib, name):
    try:
        return CALLS[name](lib), None
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return None, error


@pytest.mark.parametrize("name", list(CALLS))
def test_bad_call_behaves_as_in_torch(name):
    expected, torch_error = _outcome(torch, name)
    result, ember_error = _outcome(ember, name)
    if not both_returned(torch_error, ember_error, result):
        return
    if isinstance(expected, torch.nn.Module):
        assert repr(result) == repr(expected)
    elif isinstance(expected, torch.Tensor):
        assert tuple(result.shape) == tuple(expected.shape)
        assert str(result.dtype) == str(expected.dtype)
        if expected.numel() and expected.numel() < 100:
            np.testing.assert_allclose(np.asarray(result.detach().numpy(), dtype=float),
                                       expected.detach().double().numpy())
    else:
        assert result == expected
