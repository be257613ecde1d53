"""SpectralOpFuzzer: a dense tensor `x` with FFT-friendly sizes (matches
`torch.utils.benchmark.op_fuzzers.spectral`).

Ported from PyTorch's torch/utils/benchmark/op_fuzzers/spectral.py (BSD-3-Clause license,
Copyright (c) Facebook, Inc. and its affiliates and the PyTorch contributors).
"""

import math

from ember._dtype import float64
from ember.utils.benchmark.utils.fuzzer import (FuzzedParameter, FuzzedTensor, Fuzzer,
                                                ParameterAlias)

__all__ = ['SpectralOpFuzzer']

MIN_DIM_SIZE = 16
MAX_DIM_SIZE = 16 * 1024


def power_range(upper_bound, base):
    """The powers of base up to upper_bound."""
    return (base ** i for i in range(int(math.log(upper_bound, base)) + 1))


def _regular_sizes():
    """The regular numbers above MIN_DIM_SIZE up to MAX_DIM_SIZE: products of 2, 3 and 5
    only, usually the fastest sizes for FFT implementations."""
    sizes = []
    for i in power_range(MAX_DIM_SIZE, 2):
        for j in power_range(MAX_DIM_SIZE // i, 3):
            ij = i * j
            for k in power_range(MAX_DIM_SIZE // ij, 5):
                ijk = ij * k
                if ijk > MIN_DIM_SIZE:
                    sizes.append(ijk)
    return sorted(sizes)


REGULAR_SIZES = _regular_sizes()


class SpectralOpFuzzer(Fuzzer):
    """1 to 3-d `x` whose sizes are regular numbers with probability_regular (else any
    int), sometimes strided or permuted."""

    def __init__(self, *, seed: int, dtype=float64,
                 cuda: bool = False, probability_regular: float = 1.0) -> None:
        super().__init__(
            parameters=[
                # Dimensionality of x. (e.g. 1D, 2D, or 3D.)
                FuzzedParameter("ndim", distribution={1: 0.3, 2: 0.4, 3: 0.3}, strict=True),
                _shape_parameters(probability_regular),
                # Steps for `x`. (Benchmarks strided memory access.)
                [
                    FuzzedParameter(
                        name=f"step_{i}",
                        distribution={1: 0.8, 2: 0.06, 4: 0.06, 8: 0.04, 16: 0.04},
                    ) for i in range(3)
                ],
            ],
            tensors=[
                FuzzedTensor(
                    name="x",
                    size=("k0", "k1", "k2"),
                    steps=("step_0", "step_1", "step_2"),
                    probability_contiguous=0.75,
                    min_elements=4 * 1024,
                    max_elements=32 * 1024 ** 2,
                    max_allocation_bytes=2 * 1024**3,  # 2 GB
                    dim_parameter="ndim",
                    dtype=dtype,
                    cuda=cuda,
                ),
            ],
            seed=seed,
        )


def _shape_parameters(probability_regular):
    """k0..k2: a regular size with probability_regular, else any int (both loguniform)."""
    any_sizes = [
        FuzzedParameter(name=f"k_any_{i}", minval=MIN_DIM_SIZE, maxval=MAX_DIM_SIZE,
                        distribution="loguniform")
        for i in range(3)
    ]
    regular = [
        FuzzedParameter(name=f"k_regular_{i}",
                        distribution={size: 1. / len(REGULAR_SIZES) for size in REGULAR_SIZES})
        for i in range(3)
    ]
    chosen = [
        FuzzedParameter(
            name=f"k{i}",
            distribution={
                ParameterAlias(f"k_regular_{i}"): probability_regular,
                ParameterAlias(f"k_any_{i}"): 1 - probability_regular,
            },
            strict=True,
        ) for i in range(3)
    ]
    return [*any_sizes, *regular, *chosen]
