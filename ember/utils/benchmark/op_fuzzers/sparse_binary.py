"""BinaryOpSparseFuzzer: sparse COO tensors `x` and `y` of one size (matches
`torch.utils.benchmark.op_fuzzers.sparse_binary`).

Ported from PyTorch's torch/utils/benchmark/op_fuzzers/sparse_binary.py (BSD-3-Clause license,
Copyright (c) Facebook, Inc. and its affiliates and the PyTorch contributors).
"""

from ember._dtype import float32
from ember.utils.benchmark.op_fuzzers._sizes import random_value_parameter
from ember.utils.benchmark.op_fuzzers._sparse import (density_parameters, dim_parameters,
                                                      sparse_tensor)
from ember.utils.benchmark.utils.fuzzer import FuzzedParameter, Fuzzer, ParameterAlias


class BinaryOpSparseFuzzer(Fuzzer):
    """1 to 3-d sparse `x` and `y` of the same size favoring powers of two, 1-10% dense."""

    def __init__(self, seed, dtype=float32, cuda=False) -> None:
        super().__init__(
            parameters=[
                *dim_parameters(),
                [
                    FuzzedParameter(
                        name=f"y_k{i}",
                        distribution={ParameterAlias(f"k{i}"): 1.0},
                        strict=True,
                    ) for i in range(3)
                ],
                *density_parameters(),
                random_value_parameter(),
            ],
            tensors=[
                sparse_tensor("x", ("k0", "k1", "k2"), dtype, cuda),
                sparse_tensor("y", ("y_k0", "y_k1", "y_k2"), dtype, cuda),
            ],
            seed=seed,
        )
