"""Linear algebra on the bad and edge-case calls the op_db fuzz found (issue #19): ember returns
what torch returns (dtype, shape, values) or raises torch's exception class with its message."""

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_error

def _with_nan(lib):
    """Two matrices, the second with a NaN: LAPACK's SVD gives up on it."""
    return lib.tensor([[[1.0, 1.0, 2.0], [3.0, 4.0, 5.0]], [[float("nan"), 1.0, 2.0],
                                                               [3.0, 4.0, 5.0]]],
                      dtype=lib.float64)


CALLS = {
    "svdvals of a NaN matrix": lambda lib: lib.linalg.svdvals(_with_nan(lib)),
    "linalg.svd of a NaN matrix": lambda lib: lib.linalg.svd(_with_nan(lib)),
    "svd of a NaN matrix": lambda lib: lib.svd(_with_nan(lib)),
    "pinv of a NaN matrix": lambda lib: lib.linalg.pinv(_with_nan(lib)),
    "matrix_rank of a NaN matrix": lambda lib: lib.linalg.matrix_rank(_with_nan(lib)),
    "cond of a NaN matrix": lambda lib: lib.linalg.cond(_with_nan(lib)),
    "svdvals of an inf matrix (NaN values)": lambda lib: lib.linalg.svdvals(
        _with_nan(lib).nan_to_num(nan=float("inf"))),
    "mv of a 0-d matrix": lambda lib: lib.mv(lib.tensor(1.0), lib.ones(3)),
    "mv of a 1-d matrix": lambda lib: lib.mv(lib.ones(3), lib.ones(3)),
    "mv of a 3-d matrix": lambda lib: lib.mv(lib.ones(2, 3, 3), lib.ones(3)),
    "addbmm 0-d batch1": lambda lib: lib.addbmm(lib.ones(3, 4), lib.tensor(1.0),
                                                lib.ones(2, 3, 4)),
    "addbmm 1-d batch1": lambda lib: lib.addbmm(lib.ones(3, 4), lib.ones(2), lib.ones(2, 3, 4)),
    "addbmm 2-d batch2": lambda lib: lib.addbmm(lib.ones(3, 4), lib.ones(2, 3, 3),
                                                lib.ones(1, 3)),
    "addbmm 4-d batch1": lambda lib: lib.addbmm(lib.ones(3, 4), lib.ones(2, 3, 3, 1),
                                                lib.ones(2, 3, 4)),
    "linalg.vander of bools": lambda lib: lib.linalg.vander(lib.tensor([True, False])),
    "cholesky of an empty vector": lambda lib: lib.cholesky(lib.zeros(0, dtype=lib.float64)),
    "cholesky of empty int64 matrices": lambda lib: lib.cholesky(
        lib.zeros(2, 0, 3, dtype=lib.int64)),
    "cholesky of a vector": lambda lib: lib.cholesky(lib.zeros(3)),
    "cholesky of a 2x3 matrix": lambda lib: lib.cholesky(lib.zeros(2, 3)),
    "linalg.cond of empty int64": lambda lib: lib.linalg.cond(lib.zeros(2, 0, 3,
                                                                        dtype=lib.int64)),
    "linalg.cond of empty bool": lambda lib: lib.linalg.cond(lib.zeros(2, 0, 3, dtype=lib.bool)),
    "linalg.cond of bool": lambda lib: lib.linalg.cond(lib.zeros(2, 3, dtype=lib.bool)),
    "linalg.cond fro of empty non-square": lambda lib: lib.linalg.cond(
        lib.zeros(2, 0, 3, dtype=lib.int64), "fro"),
    "cdist compute_mode 1.5": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 3),
                                                    compute_mode=1.5),
    "cdist compute_mode checked first": lambda lib: lib.cdist(lib.ones(3), lib.ones(2, 3),
                                                              compute_mode=None),
    "lu_solve int64 pivots": lambda lib: lib.linalg.lu_solve(*_lu(lib)[:1], _lu(lib)[1].long(),
                                                             lib.ones(3, 2)),
    "lu_solve 0-d pivots": lambda lib: lib.linalg.lu_solve(
        _lu(lib)[0], lib.tensor(1, dtype=lib.int32), lib.ones(3, 2)),
    "lu_solve too few pivots": lambda lib: lib.linalg.lu_solve(_lu(lib)[0], _lu(lib)[1][:2],
                                                               lib.ones(3, 2)),
    "lu_solve 1-d B": lambda lib: lib.linalg.lu_solve(*_lu(lib), lib.ones(3)),
    "lu_solve float64 B": lambda lib: lib.linalg.lu_solve(*_lu(lib), lib.ones(3, 2).double()),
    "lu_unpack 0-d LU": lambda lib: lib.lu_unpack(lib.tensor(1.0), _lu(lib)[1]),
    "lu_unpack float pivots": lambda lib: lib.lu_unpack(_lu(lib)[0], _lu(lib)[1].float()),
    "lu_unpack of bools": lambda lib: lib.lu_unpack(lib.ones(1, 3, dtype=lib.bool),
                                                    lib.ones(3, dtype=lib.int32)),
    "lu_unpack more pivots than rows": lambda lib: lib.lu_unpack(
        lib.ones(2, 3), lib.tensor([2, 2, 3], dtype=lib.int32)),
    "lu_unpack empty int64": lambda lib: lib.lu_unpack(lib.zeros(2, 0, 3, dtype=lib.int64),
                                                       lib.ones(3, dtype=lib.int32)),
    "ldl_solve 0-d B": lambda lib: lib.linalg.ldl_solve(*_ldl(lib), lib.tensor(1.0)),
    "ldl_solve 1-d B": lambda lib: lib.linalg.ldl_solve(*_ldl(lib), lib.ones(1)),
    "ldl_solve B of 0 rows": lambda lib: lib.linalg.ldl_solve(*_ldl(lib), lib.ones(2, 0, 3)),
    "ldl_solve float64 B": lambda lib: lib.linalg.ldl_solve(*_ldl(lib), lib.ones(1).double()),
    "ldl_solve one pivot": lambda lib: lib.linalg.ldl_solve(_ldl(lib)[0], _ldl(lib)[1][:1],
                                                            lib.ones(4, 2)),
    "ldl_solve 1-d LD": lambda lib: lib.linalg.ldl_solve(lib.ones(4), _ldl(lib)[1],
                                                         lib.ones(4, 2)),
    "tensorsolve 0-d A": lambda lib: lib.linalg.tensorsolve(lib.tensor(1.0), lib.ones(2, 3)),
    "tensorsolve dims out of range": lambda lib: lib.linalg.tensorsolve(
        lib.ones(1, 3), lib.ones(2, 3), dims=(2,)),
    "_scaled_mm 0-d mat1": lambda lib: lib._scaled_mm(lib.tensor(1.0), *_f8(lib)[1:]),
    "_scaled_mm 1-d mat2": lambda lib: lib._scaled_mm(_f8(lib)[0], lib.ones(3),
                                                      *_f8(lib)[2:]),
    "_scaled_mm 3-d mat2": lambda lib: lib._scaled_mm(_f8(lib)[0], lib.ones(2, 3, 4),
                                                      *_f8(lib)[2:]),
    "_scaled_mm 3-d scale_b": lambda lib: lib._scaled_mm(*_f8(lib)[:3], lib.ones(2, 0, 3)),
    "matrix_norm of order 'a'": lambda lib: lib.linalg.matrix_norm(lib.ones(2, 2), "a"),
    "lu_factor of empty int64": lambda lib: lib.linalg.lu_factor(lib.zeros(2, 0, 3,
                                                                         dtype=lib.int64)),
    "lu_factor_ex of empty int64": lambda lib: lib.linalg.lu_factor_ex(
        lib.zeros(2, 0, 3, dtype=lib.int64)),
    "lu of empty bool": lambda lib: lib.lu(lib.zeros(2, 0, 3, dtype=lib.bool)),
    "linalg.lu of empty int64": lambda lib: lib.linalg.lu(lib.zeros(2, 0, 3, dtype=lib.int64)),
    "lu_factor of int64": lambda lib: lib.linalg.lu_factor(lib.zeros(2, 1, 3, dtype=lib.int64)),
    "lu with pivot 1": lambda lib: lib.lu(lib.eye(3), 1),
    "lu with a tensor pivot": lambda lib: lib.lu(lib.eye(3), lib.tensor([1.0])),
    "lu with pivot None": lambda lib: lib.lu(lib.eye(3), None),
    # the op_db fuzz's norms, distances and linalg entries (issue #19, fuzz_left.py)
    "pdist of a 0-d input": lambda lib: lib.nn.functional.pdist(lib.tensor(1.0)),
    "pdist of a 3-d input": lambda lib: lib.nn.functional.pdist(lib.ones(4, 1, 3)),
    "pdist of int64": lambda lib: lib.nn.functional.pdist(lib.ones(2, 2, dtype=lib.int64)),
    "pdist p=-1": lambda lib: lib.nn.functional.pdist(lib.ones(2, 2), -1.0),
    "pdist p=nan": lambda lib: lib.nn.functional.pdist(lib.ones(2, 2), float("nan")),
    "pdist of float16": lambda lib: lib.nn.functional.pdist(lib.ones(2, 2).half()),
    "pinv hermitian of 1x3 matrices": lambda lib: lib.linalg.pinv(lib.ones(4, 1, 3),
                                                                  hermitian=True),
    "pinv hermitian of empty 0x3 matrices": lambda lib: lib.linalg.pinv(lib.ones(2, 0, 3),
                                                                        hermitian=True),
    "matrix_rank hermitian of 2x3": lambda lib: lib.linalg.matrix_rank(lib.ones(2, 3),
                                                                       hermitian=True),
    "matrix_rank hermitian of empty 0x3": lambda lib: lib.linalg.matrix_rank(
        lib.ones(2, 0, 3), hermitian=True),
    "norm with a 1-element tensor p": lambda lib: lib.norm(lib.ones(2, 3), lib.tensor([1.0])),
    "norm fro with a tensor dim": lambda lib: lib.norm(lib.ones(2, 3), "fro",
                                                       lib.tensor([1.0])),
    "norm fro with a 3-element tensor dim": lambda lib: lib.norm(
        lib.ones(2, 3), "fro", lib.tensor([True, False, True])),
    "norm with a bool dim": lambda lib: lib.norm(lib.ones(2, 3), 2, True),
    "norm inf with a 0-d dim out of range": lambda lib: lib.norm(lib.ones(2, 3), float("inf"),
                                                                 lib.tensor(5)),
    "norm fro over three dims": lambda lib: lib.norm(lib.ones(2, 3, 4), "fro", (0, 1, 2)),
    "Tensor.norm with a 1-element tensor p": lambda lib: lib.ones(2, 3).norm(lib.tensor([2.0])),
    "matrix_norm over three dims": lambda lib: lib.linalg.matrix_norm(lib.ones(2, 3, 4), 2,
                                                                      (0, 1, 2)),
    "matrix_norm dim out of range": lambda lib: lib.linalg.matrix_norm(lib.ones(2, 3, 4), "fro",
                                                                       (0, 5)),
    "dist of int64 and float32": lambda lib: lib.dist(lib.tensor([1]), lib.tensor([1.0, 2.0])),
    "dist of float32 and 0-d int64": lambda lib: lib.dist(lib.tensor([1.0, 2.0]), lib.tensor(3),
                                                          float("inf")),
    "dist of bool and float32": lambda lib: lib.dist(lib.tensor([True]), lib.tensor([2.0])),
    "cdist with a 1-element tensor p": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(4, 3),
                                                             lib.tensor([2.0])),
    "cdist with p None": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(4, 3), None),
    "cdist with a 0-d tensor p": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(4, 3),
                                                       lib.tensor(1.0)),
    "lu with a 2-element get_infos": lambda lib: lib.lu(lib.eye(3), True, lib.ones(2)),
    "lu with get_infos 'a'": lambda lib: lib.lu(lib.eye(3), True, "a"),
    "lu of None": lambda lib: lib.lu(None),
    "ormqr 0-d tau": lambda lib: lib.ormqr(lib.ones(3, 2), lib.tensor(1.0), lib.ones(3, 3)),
    "ormqr 2-d tau of 2-d input": lambda lib: lib.ormqr(lib.ones(3, 2), lib.ones(1, 2),
                                                        lib.ones(3, 3)),
    "ormqr 3-d other of 2-d input": lambda lib: lib.ormqr(lib.ones(3, 2), lib.ones(2),
                                                          lib.ones(2, 3, 3)),
    "ormqr other batch mismatch": lambda lib: lib.ormqr(lib.ones(2, 3, 2), lib.ones(2, 2),
                                                        lib.ones(3, 3, 3)),
    "householder_product 0-d tau": lambda lib: lib.linalg.householder_product(
        lib.ones(3, 2), lib.tensor(1.0)),
    "householder_product bool tau": lambda lib: lib.linalg.householder_product(
        lib.ones(3, 2), lib.ones(1, dtype=lib.bool)),
    "householder_product 1-d tau of 4-d input": lambda lib: lib.linalg.householder_product(
        lib.ones(2, 2, 3, 2), lib.ones(1)),
    "householder_product tau batch mismatch": lambda lib: lib.linalg.householder_product(
        lib.ones(2, 3, 2), lib.ones(3, 2)),
    "householder_product of int32": lambda lib: lib.linalg.householder_product(
        lib.ones(3, 2, dtype=lib.int32), lib.ones(2, dtype=lib.int32)),
    "lstsq 0-d other": lambda lib: lib.linalg.lstsq(lib.ones(3, 2), lib.tensor(1.0)),
    "lstsq 3-d other of a 2-d input": lambda lib: lib.linalg.lstsq(lib.ones(3, 2),
                                                                   lib.ones(2, 3, 1)),
    "lstsq 1-d other of a 3-d input": lambda lib: lib.linalg.lstsq(lib.ones(2, 3, 2),
                                                                   lib.ones(3)),
    "lstsq vector other of the wrong size": lambda lib: lib.linalg.lstsq(lib.ones(3, 2),
                                                                         lib.ones(4)),
    "lstsq of int32 with driver 'x'": lambda lib: lib.linalg.lstsq(
        lib.ones(3, 2, dtype=lib.int32), lib.ones(3, dtype=lib.int32), driver="x"),
    "lstsq 0-d other with driver 'x'": lambda lib: lib.linalg.lstsq(lib.ones(3, 2),
                                                                    lib.tensor(1.0), driver="x"),
    "lstsq with an empty other": lambda lib: lib.linalg.lstsq(lib.ones(3, 2), lib.ones(3, 0)),
    "tensorinv of a 0-d tensor": lambda lib: lib.linalg.tensorinv(lib.tensor(2.0), 1),
    "tensorinv ind past the dims": lambda lib: lib.linalg.tensorinv(lib.ones(2, 3), 3),
}


def _f8(lib):
    """float8 operands of _scaled_mm (mat2 column-major) and float32 singleton scales."""
    a = lib.ones(4, 16).to(lib.float8_e4m3fn)
    b = lib.ones(8, 16).to(lib.float8_e4m3fn).t()
    return a, b, lib.tensor(1.0), lib.tensor(1.0)


def _lu(lib):
    return lib.linalg.lu_factor(lib.tensor([[2.0, 1.0, 0.0], [4.0, 1.0, 1.0], [0.0, 3.0, 5.0]]))


def _ldl(lib):
    return lib.linalg.ldl_factor(lib.eye(4) * 2 + 0.5)


def _outcome(lib, call):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call(lib), None
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return None, error


@pytest.mark.parametrize("name", sorted(CALLS))
def test_call_agrees(name):
    expected, torch_error = _outcome(torch, CALLS[name])
    result, ember_error = _outcome(ember, CALLS[name])
    if torch_error is not None:
        assert ember_error is not None, f"torch raises {torch_error!r}, ember returns {result!r}"
        expected_class = ember.linalg.LinAlgError if isinstance(
            torch_error, torch.linalg.LinAlgError) else type(torch_error)
        assert isinstance(ember_error, expected_class), (torch_error, ember_error)
        assert str(ember_error).split(":")[0] == str(torch_error).split(":")[0], \
            (torch_error, ember_error)
        return
    assert ember_error is None, f"torch returns, ember raises {ember_error!r}"
    results, expecteds = (result, expected) if isinstance(expected, tuple) else \
        ((result,), (expected,))
    for e, t in zip(results, expecteds, strict=True):
        assert str(e.dtype) == str(t.dtype)
        assert tuple(e.shape) == tuple(t.shape)
        if t.is_floating_point():  # LAPACKs round differently; NaN where torch has NaN
            np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12, atol=1e-15)
        else:
            np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "complex64", "complex128", "float64",
                                   "int16"])
@pytest.mark.parametrize("call", [
    lambda m, d: m.mm(m.ones(2, 3), m.ones(3, 2, dtype=d)),
    lambda m, d: m.nn.functional.linear(m.ones(5, 2, 3), m.ones(4, 3, dtype=d)),
    lambda m, d: m.nn.functional.linear(m.ones(2, 3, dtype=d), m.ones(4, 3), m.ones(4)),
    lambda m, d: m.addmm(m.ones(2, 2), m.ones(2, 3), m.ones(3, 2, dtype=d)),
    lambda m, d: m.addmm(m.ones(2, 2), m.ones(2, 3, dtype=d), m.ones(3, 2)),
    lambda m, d: m.bmm(m.ones(1, 2, 3, dtype=d), m.ones(1, 3, 2)),
])
def test_matmul_dtype_mismatch_messages_match_torch(call, dtype):
    # a bfloat16 operand of mm was a KeyError; linear printed 'bfloat16', addmm and bmm
    # printed mm's message
    assert_same_error(lambda m: call(m, getattr(m, dtype)), same_message=True)


@pytest.mark.parametrize("call", [
    lambda m: m.mv(m.ones(2, 3), m.ones(3, dtype=m.float64)),
    lambda m: m.mv(m.ones(2, 3, dtype=m.float64), m.ones(3)),
    lambda m: m.addmv(m.ones(2), m.ones(2, 3), m.ones(3, dtype=m.float64)),
    lambda m: m.addmv(m.ones(2, dtype=m.float64), m.ones(2, 3), m.ones(3)),
    lambda m: m.matmul(m.ones(3), m.ones(3, dtype=m.float64)),
    lambda m: m.matmul(m.ones(2, 2, 3), m.ones(3, dtype=m.float64)),
    lambda m: m.matmul(m.ones(3), m.ones(2, 3, 2, dtype=m.float64)),
    lambda m: m.matmul(m.ones(2, 3), m.ones(4, 3, 2, dtype=m.float64)),
    lambda m: m.matmul(m.ones(2, 2, 3), m.ones(3, 2, dtype=m.float64)),
    lambda m: m.matmul(m.ones(2, 2, 3), m.ones(2, 3, dtype=m.float64)),
    lambda m: m.matmul(m.ones(3), m.ones(3, 2, dtype=m.float64))])
def test_product_dtype_mismatch_messages(call):
    """Mixed dtypes: each product's own message (matmul's of the kernel it reduces to)."""
    assert_same_error(call, same_message=True)
