"""BinaryOpFuzzer: dense tensors `x` and `y`, `y` sometimes broadcasting (matches
`torch.utils.benchmark.op_fuzzers.binary`).

Ported from PyTorch's torch/utils/benchmark/op_fuzzers/binary.py (BSD-3-Clause license,
Copyright (c) Facebook, Inc. and its affiliates and the PyTorch contributors).
"""

from ember._dtype import float32
from ember.utils.benchmark.op_fuzzers._sizes import (pow_two_shape_parameters,
                                                     random_value_parameter, step_parameters)
from ember.utils.benchmark.utils.fuzzer import (FuzzedParameter, FuzzedTensor, Fuzzer,
                                                ParameterAlias)


class BinaryOpFuzzer(Fuzzer):
    """1 to 3-d `x` and `y` of sizes favoring powers of two; `y` has singleton dimensions
    20% of the time (to test broadcasting); both sometimes strided or permuted."""

    def __init__(self, seed, dtype=float32, cuda=False) -> None:
        super().__init__(
            parameters=[
                # Dimensionality of x and y. (e.g. 1D, 2D, or 3D.)
                FuzzedParameter("dim", distribution={1: 0.3, 2: 0.4, 3: 0.3}, strict=True),
                *pow_two_shape_parameters(),
                [
                    FuzzedParameter(
                        name=f"y_k{i}",
                        distribution={
                            ParameterAlias(f"k{i}"): 0.8,
                            1: 0.2,
                        },
                        strict=True,
                    ) for i in range(3)
                ],
                # Steps for `x` and `y`. (Benchmarks strided memory access.)
                step_parameters("x", "y"),
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
                FuzzedTensor(
                    name="y",
                    size=("y_k0", "y_k1", "y_k2"),
                    # torch's `y` uses x's steps too (y_step_* are drawn but unused)
                    steps=("x_step_0", "x_step_1", "x_step_2"),
                    probability_contiguous=0.75,
                    max_allocation_bytes=2 * 1024**3,  # 2 GB
                    dim_parameter="dim",
                    dtype=dtype,
                    cuda=cuda,
                ),
            ],
            seed=seed,
        )
