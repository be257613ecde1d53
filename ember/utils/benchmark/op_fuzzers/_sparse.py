"""Parameters and tensors shared by the sparse op fuzzers (torch repeats them per file).

Ported from PyTorch's torch/utils/benchmark/op_fuzzers/sparse_unary.py and sparse_binary.py
(BSD-3-Clause license, Copyright (c) Facebook, Inc. and its affiliates and the PyTorch
contributors).
"""

from ember.utils.benchmark.op_fuzzers._sizes import pow_two_shape_parameters
from ember.utils.benchmark.utils.fuzzer import FuzzedParameter
from ember.utils.benchmark.utils.sparse_fuzzer import FuzzedSparseTensor


def dim_parameters():
    """The dimensionality and the number of sparse dimensions (1D, 2D or 3D)."""
    return [
        FuzzedParameter("dim_parameter", distribution={1: 0.3, 2: 0.4, 3: 0.3}, strict=True),
        FuzzedParameter(name="sparse_dim", distribution={1: 0.4, 2: 0.4, 3: 0.2}, strict=True),
        *pow_two_shape_parameters(),
    ]


def density_parameters():
    """The density (fraction of nonzeros) and whether the tensors are coalesced."""
    return [
        FuzzedParameter(name="density", distribution={0.1: 0.4, 0.05: 0.3, 0.01: 0.3}),
        FuzzedParameter(name="coalesced", distribution={True: 0.5, False: 0.5}),
    ]


def sparse_tensor(name, size, dtype, cuda):
    """A FuzzedSparseTensor driven by the parameters above."""
    return FuzzedSparseTensor(
        name=name,
        size=size,
        dim_parameter="dim_parameter",
        sparse_dim="sparse_dim",
        density="density",
        coalesced="coalesced",
        min_elements=4 * 1024,
        max_elements=32 * 1024 ** 2,
        dtype=dtype,
        cuda=cuda,
    )
