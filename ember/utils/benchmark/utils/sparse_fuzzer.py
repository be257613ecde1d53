"""FuzzedSparseTensor: COO sparse benchmark inputs (matches
`torch.utils.benchmark.utils.sparse_fuzzer`).

Ported closely from PyTorch's torch/utils/benchmark/utils/sparse_fuzzer.py (BSD-3-Clause
license, Copyright (c) Facebook, Inc. and its affiliates and the PyTorch contributors). The
values and indices are drawn with ember's `rand`/`randint`/`randn_like`, which give torch's
numbers, so a seeded Fuzzer gives torch's sparse tensors.
"""

import math
from numbers import Number

from ember._device import Size
from ember._dtype import float32, long
from ember.ops.creation import rand, randint, randn_like, tensor
from ember.ops.joins import cat
from ember.ops.sparse import sparse_coo_tensor
from ember.utils.benchmark.utils.fuzzer import FuzzedTensor

__all__ = ["FuzzedSparseTensor"]


class FuzzedSparseTensor(FuzzedTensor):
    """Specification for a sparse COO tensor to be generated from a Fuzzer's parameters."""

    def __init__(
        self,
        name: str,
        size: tuple[str | int, ...],
        min_elements: int | None = None,
        max_elements: int | None = None,
        dim_parameter: str | None = None,
        sparse_dim: str | None = None,
        nnz: str | None = None,
        density: str | None = None,
        coalesced: str | None = None,
        dtype=float32,
        cuda=False
    ) -> None:
        """
        Args:
            name: A string identifier for the generated Tensor.
            size: A tuple of integers or parameter names giving the size.
            min_elements: The minimum number of elements for valid parameters.
            max_elements: Like `min_elements`, but setting an upper bound.
            dim_parameter: The length of `size` will be truncated to this value.
            sparse_dim: The number of sparse dimensions in a sparse tensor.
            density: The fraction of nonzeros (the parameter read is always "density").
            coalesced: Whether the tensor is coalesced (the parameter read is always
                "coalesced"); an uncoalesced one has every index twice.
            dtype: The dtype of the generated Tensor.
            cuda: Whether to place the Tensor on a GPU (ember raises, having none).
        """
        super().__init__(name=name, size=size, min_elements=min_elements,
                         max_elements=max_elements, dim_parameter=dim_parameter, dtype=dtype,
                         cuda=cuda)
        self._density = density
        self._coalesced = coalesced
        self._sparse_dim = sparse_dim

    @staticmethod
    def sparse_tensor_constructor(size, dtype, sparse_dim, nnz, is_coalesced):
        """A COO tensor with nnz random indices and values.

        When `is_coalesced` is False the values are doubled (each index appears twice), so
        the tensor has the same sparsity pattern with `nnz` distinct indices; when True,
        coalescing may merge the rare duplicate indices (kept cheap on purpose, as torch).
        """
        if isinstance(size, Number):
            size = [size] * sparse_dim
        if all(size[d] <= 0 for d in range(sparse_dim)) and nnz != 0:
            raise AssertionError('invalid arguments')
        v_size = [nnz] + list(size[sparse_dim:])
        if dtype.is_floating_point:
            v = rand(size=v_size, dtype=dtype, device="cpu")
        else:
            v = randint(1, 127, size=v_size, dtype=dtype, device="cpu")

        i = rand(sparse_dim, nnz, device="cpu")
        i.mul_(tensor(size[:sparse_dim]).unsqueeze(1).to(i))
        i = i.to(long)

        if not is_coalesced:
            v = cat([v, randn_like(v)], 0)
            i = cat([i, i], 1)

        x = sparse_coo_tensor(i, v, Size(size))
        if is_coalesced:
            x = x.coalesce()
        return x

    def _make_tensor(self, params, state):
        """The sparse tensor for params and its properties (state is not used)."""
        size, _, _ = self._get_size_and_steps(params)
        density = params['density']
        nnz = math.ceil(sum(size) * density)
        if nnz > sum(size):
            raise AssertionError('nnz cannot exceed total number of elements')

        is_coalesced = params['coalesced']
        sparse_dim = params['sparse_dim'] if self._sparse_dim else len(size)
        sparse_dim = min(sparse_dim, len(size))
        tensor = self.sparse_tensor_constructor(size, self._dtype, sparse_dim, nnz, is_coalesced)

        if self._cuda:
            tensor = tensor.cuda()
        sparse_dim = tensor.sparse_dim()
        dense_dim = tensor.dense_dim()
        is_hybrid = len(size[sparse_dim:]) > 0

        properties = {
            "numel": int(tensor.numel()),
            "shape": tensor.size(),
            "is_coalesced": tensor.is_coalesced(),
            "density": density,
            "sparsity": 1.0 - density,
            "sparse_dim": sparse_dim,
            "dense_dim": dense_dim,
            "is_hybrid": is_hybrid,
            "dtype": str(self._dtype),
        }
        return tensor, properties
