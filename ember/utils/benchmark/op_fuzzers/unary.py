"""UnaryOpFuzzer: one dense tensor `x` (matches `torch.utils.benchmark.op_fuzzers.unary`).

Ported from PyTorch's torch/utils/benchmark/op_fuzzers/unary.py (BSD-3-Clause license,
Copyright (c) Facebook, Inc. and its affiliates and the PyTorch contributors).
"""

from ember._dtype import float32
from ember.utils.benchmark.op_fuzzers._sizes import (pow_two_shape_parameters,
                                                     random_value_parameter, step_parameters)
from ember.utils.benchmark.utils.fuzzer import FuzzedParameter, FuzzedTensor, Fuzzer


class UnaryOpFuzzer(Fuzzer):
    """1 to 3-d `x` with sizes favoring powers of two, sometimes strided or permuted."""

    def __init__(self, seed, dtype=float32, cuda=False) -> None:
        super().__init__(
            parameters=[
                # Dimensionality of x. (e.g. 1D, 2D, or 3D.)
                FuzzedParameter("dim", distribution={1: 0.3, 2: 0.4, 3: 0.3}, strict=True),
                *pow_two_shape_parameters(),
                # Steps for `x`. (Benchmarks strided memory access.)
                step_parameters("x"),
                random_value_parameter(),
            ],
            tensors=[
                FuzzedTensor(
                    name="x",
                    size=("k0", "k1", "k2"),
                    steps=("x_step_0", "x_step_1", "x_step_2"),
                    probability_contiguous=0.75,
                    min_elements=4 * 1024,
                    max_elements=32 * 1024 ** 2,
                    max_allocation_bytes=2 * 1024**3,  # 2 GB
                    dim_parameter="dim",
                    dtype=dtype,
                    cuda=cuda,
                ),
            ],
            seed=seed,
        )
