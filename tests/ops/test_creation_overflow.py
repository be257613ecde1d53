"""Out-of-range numbers at creation, against torch: torch.tensor's checked integer stores
(uint8 takes -1 as 255), full / fill_ / full_like's `Scalar::to` checks, and silent float
overflow to inf (no NumPy RuntimeWarning)."""

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_list_or_message

CASES = [
    "L.tensor([-1], dtype=L.uint8)", "L.tensor(-1, dtype=L.uint8)",
    "L.tensor([-255, 255], dtype=L.uint8)", "L.tensor([-256], dtype=L.uint8)",
    "L.tensor([300], dtype=L.uint8)", "L.tensor([200], dtype=L.int8)",
    "L.tensor([-129], dtype=L.int8)", "L.tensor(2**63-1, dtype=L.int32)",
    "L.tensor(2**63)", "L.tensor(2**64)", "L.tensor([-2**63-1])",
    "L.tensor([[1, 2], [3, 300]], dtype=L.uint8)", "L.tensor([True, 2], dtype=L.uint8)",
    "L.tensor(1e10, dtype=L.int32)", "L.tensor(-1.5, dtype=L.uint8)",
    "L.tensor([-0.5], dtype=L.uint8)", "L.tensor(300.7, dtype=L.uint8)",
    "L.tensor([-2.7, 2.7], dtype=L.int8)", "L.tensor(float('nan'), dtype=L.int32)",
    "L.tensor(float('inf'), dtype=L.int64)", "L.tensor([1.5, 300], dtype=L.uint8)",
    "L.tensor(1+2j, dtype=L.float32)", "L.tensor(1+2j, dtype=L.int32)",
    "L.tensor(300, dtype=L.bool)", "L.tensor(np.array([-1]), dtype=L.uint8)",
    "L.tensor(1e300)", "L.tensor(1e300, dtype=L.float16)", "L.tensor(70000, dtype=L.float16)",
    "L.tensor(2**40, dtype=L.float16)", "L.tensor([1e39], dtype=L.float32)",
    "L.tensor(2**70, dtype=L.float32)", "L.tensor([0.1, 1/3, 65519.99], dtype=L.float16)",
    "L.tensor([1e300, -1e300], dtype=L.bfloat16).float()",
    "L.full((2,), -1, dtype=L.uint8)", "L.full((2,), -255, dtype=L.uint8)",
    "L.full((2,), -256, dtype=L.uint8)", "L.full((2,), 300, dtype=L.uint8)",
    "L.full((2,), 200, dtype=L.int8)", "L.full((1,), 200, dtype=L.int8)",
    "L.full((), 200, dtype=L.int8)", "L.full((0,), 200, dtype=L.int8)",
    "L.full((2,), -1.0, dtype=L.uint8)", "L.full((2,), 1e300)", "L.full((1,), 1e300)",
    "L.full((2,), 1e300, dtype=L.float16)", "L.full((2,), 70000, dtype=L.float16)",
    "L.full((2,), float('nan'), dtype=L.int32)", "L.full((2,), float('inf'), dtype=L.float16)",
    "L.full((2,), 2.7, dtype=L.int32)", "L.full((2,), -2.7, dtype=L.int32)",
    "L.full((2,), 1e10, dtype=L.int32)", "L.full((2,), 2**63-1, dtype=L.float16)",
    "L.full((2,), 2**63-1, dtype=L.float32)", "L.full((2,), 0.1, dtype=L.float16)",
    "L.full((2,), np.int64(-1), dtype=L.uint8)", "L.full((2,), True, dtype=L.uint8)",
    "L.zeros(2, dtype=L.uint8).fill_(-1)", "L.zeros(2, dtype=L.uint8).fill_(300)",
    "L.zeros(1, dtype=L.uint8).fill_(300)", "L.zeros(2).fill_(1e300)",
    "L.zeros(2, dtype=L.int8).fill_(L.tensor(200))",
    "L.full_like(L.zeros(2, dtype=L.uint8), -1)", "L.full_like(L.zeros(2, dtype=L.uint8), 300)",
    "L.zeros(2, dtype=L.uint8).new_full((2,), -1)",
]


def _outcome(lib, case):
    """(dtype name, values) or (error type, message): no warning allowed."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's "overflow encountered in cast" must not leak
        try:
            value = eval(case, {"L": lib, "np": np})  # noqa: S307 - test expressions
        except Exception as error:  # noqa: BLE001 - compared with torch's
            return type(error).__name__, str(error)
    return str(value.dtype).rsplit(".", 1)[-1], value.tolist()


@pytest.mark.parametrize("case", CASES)
def test_creation_overflow_matches_torch(case):
    assert _outcome(ember, case) == _outcome(torch, case)


@pytest.mark.parametrize("data", [[2 ** 63], [2 ** 64 - 1], [2 ** 63, 1], [[2 ** 63], [5]],
                                  2 ** 63,
                                  [True, 2], [2 ** 64], [-1], [-1, 2 ** 64], [2 ** 64, -1],
                                  [1.0], [1, 2.5], [1 + 0j]])
def test_uint64_stores_python_ints_as_torch(data):
    """torch.tensor(..., dtype=uint64) takes any int in [0, 2**64) (no int64 detour, no float
    rounding of [2**63, 1]); negative or too big ints are CPython's OverflowErrors, floats
    'an integer is required'."""
    def call(lib):
        return lib.tensor(data, dtype=lib.uint64)
    assert_same_list_or_message(call)
