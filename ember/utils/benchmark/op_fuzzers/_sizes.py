"""Dimension sizes and step choices shared by the op fuzzers (torch repeats them per file).

Ported from PyTorch's torch/utils/benchmark/op_fuzzers (BSD-3-Clause license, Copyright (c)
Facebook, Inc. and its affiliates and the PyTorch contributors).
"""

import math

from ember.utils.benchmark.utils.fuzzer import FuzzedParameter, ParameterAlias

_MIN_DIM_SIZE = 16
_MAX_DIM_SIZE = 16 * 1024 ** 2
_POW_TWO_SIZES = tuple(2 ** i for i in range(
    int(math.log2(_MIN_DIM_SIZE)),
    int(math.log2(_MAX_DIM_SIZE)) + 1,
))
_STEPS = {1: 0.8, 2: 0.06, 4: 0.06, 8: 0.04, 16: 0.04}


def pow_two_shape_parameters():
    """k0..k2: sizes that are loguniform over all ints 80% of the time, powers of two 20%.

    It is important to test all shapes, however powers of two are especially important and
    therefore warrant special attention: both are drawn (loguniform) and one is selected.
    """
    return [
        [
            FuzzedParameter(
                name=f"k_any_{i}",
                minval=_MIN_DIM_SIZE,
                maxval=_MAX_DIM_SIZE,
                distribution="loguniform",
            ) for i in range(3)
        ],
        [
            FuzzedParameter(
                name=f"k_pow2_{i}",
                distribution={size: 1. / len(_POW_TWO_SIZES) for size in _POW_TWO_SIZES}
            ) for i in range(3)
        ],
        [
            FuzzedParameter(
                name=f"k{i}",
                distribution={
                    ParameterAlias(f"k_any_{i}"): 0.8,
                    ParameterAlias(f"k_pow2_{i}"): 0.2,
                },
                strict=True,
            ) for i in range(3)
        ],
    ]


def step_parameters(*names):
    """<name>_step_0..2 for each name, interleaved per dimension as torch lists them."""
    return [
        FuzzedParameter(name=f"{name}_step_{i}", distribution=dict(_STEPS))
        for i in range(3)
        for name in names
    ]


def random_value_parameter():
    """Repeatable entropy for downstream applications."""
    return FuzzedParameter(name="random_value", minval=0, maxval=2 ** 32 - 1,
                           distribution="uniform")
