"""_chunk_cat and hash_tensor (ember/ops/aten_misc.py) against torch: values, shapes and
dtypes over dims, chunk counts that do not divide, every dtype family, and the errors."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, to_ember

RNG = np.random.default_rng(0)

CHUNK_CASES = {  # name -> (shapes, dim, num_chunks)
    "last_dim": ([(1, 2, 3), (1, 2, 3)], -1, 5),
    "middle": ([(2, 3, 4), (2, 5)], 1, 2),
    "uneven": ([(7, 2), (3,)], 0, 2),
    "exact": ([(4, 3), (8, 3)], 0, 4),
    "one_chunk": ([(3, 2)], 1, 1),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int64])
@pytest.mark.parametrize("name", CHUNK_CASES)
def test_chunk_cat(name, dtype):
    shapes, dim, chunks = CHUNK_CASES[name]
    tensors = [torch.from_numpy(RNG.standard_normal(s)).to(dtype) for s in shapes]
    e = ember._chunk_cat(to_ember(tensors) if dtype is not torch.float16 else
                         [ember.from_numpy(t.numpy()) for t in tensors], dim, chunks)
    assert_same(e, torch._chunk_cat(tensors, dim, chunks), exact=True)


CHUNK_ERRORS = {
    "negative_dim_mixed_ndim": ([(2, 3), (4,)], -1, 3),
    "dim_too_large": ([(2, 3), (4,)], 1, 3),
    "leading_sizes": ([(2, 3, 4), (4, 3)], 1, 3),
    "negative_chunks": ([(2,), (3,)], 0, -1),
    "zero_chunks": ([(2,), (3,)], 0, 0),
    "empty_list": ([], 0, 1),
    "empty_tensor": ([(0,), (3,)], 0, 1),
}


@pytest.mark.parametrize("name", CHUNK_ERRORS)
def test_chunk_cat_errors(name):
    shapes, dim, chunks = CHUNK_ERRORS[name]
    tensors = [RNG.standard_normal(s).astype(np.float32) for s in shapes]
    assert_same_error(lambda m, *ts: m._chunk_cat(list(ts), dim, chunks), *tensors)


HASH_CASES = {  # name -> call(lib, x)
    "all": lambda m, x: m.hash_tensor(x),
    "dim": lambda m, x: m.hash_tensor(x, 1),
    "dims_keepdim": lambda m, x: m.hash_tensor(x, (0, 2), keepdim=True),
    "list_dim": lambda m, x: m.hash_tensor(x, [-1]),
    "method": lambda m, x: x.hash_tensor(0),
}


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int8", "uint8", "int32",
                                   "bool"])
@pytest.mark.parametrize("name", HASH_CASES)
def test_hash_tensor(name, dtype):
    x = torch.from_numpy(RNG.standard_normal((3, 4, 2)) * 50).to(getattr(torch, dtype))
    x[0, 0, 0] = -0.0 if x.is_floating_point() else x[0, 0, 0]
    e = HASH_CASES[name](ember, ember.from_numpy(x.numpy()))
    assert_same(e, HASH_CASES[name](torch, x), exact=True)


@pytest.mark.parametrize("call", [lambda m, x: m.hash_tensor(x, mode=1),
                                  lambda m, x: m.hash_tensor(x.to(m.complex64)),
                                  lambda m, x: m.hash_tensor(x[:0]),
                                  lambda m, x: m.hash_tensor(x[:0], 0)])
def test_hash_tensor_errors(call):
    assert_same_error(call, RNG.standard_normal((3, 2)).astype(np.float32))
