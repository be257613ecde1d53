"""UnaryOpSparseFuzzer: one sparse COO tensor `x` (matches
`torch.utils.benchmark.op_fuzzers.sparse_unary`).

Ported from PyTorch's torch/utils/benchmark/op_fuzzers/sparse_unary.py (BSD-3-Clause license,
Copyright (c) Facebook, Inc. and its affiliates and the PyTorch contributors).
"""

from ember._dtype import float32
from ember.utils.benchmark.op_fuzzers._sizes import random_value_parameter
from ember.utils.benchmark.op_fuzzers._sparse import (density_parameters, dim_parameters,
                                                      sparse_tensor)
from ember.utils.benchmark.utils.fuzzer import Fuzzer

__all__ = ["UnaryOpSparseFuzzer"]


class UnaryOpSparseFuzzer(Fuzzer):
    """A 1 to 3-d sparse `x` of sizes favoring powers of two, 1-10% dense."""

    def __init__(self, seed: int | None, dtype=None, cuda: bool = False) -> None:
        if dtype is None:
            dtype = float32
        super().__init__(
            parameters=[
                *dim_parameters(),
                *density_parameters(),
                random_value_parameter(),
            ],
            tensors=[sparse_tensor("x", ("k0", "k1", "k2"), dtype, cuda)],
            seed=seed,
        )
