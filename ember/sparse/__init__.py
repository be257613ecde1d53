"""Sparse tensors (matches `torch.sparse`): COO tensors in ember/ops/_sparse_coo.py, CSR/CSC
matrices in ember/ops/_sparse_compressed.py, their ops in ember/ops/sparse.py,
sparse_reduce.py, sparse_compressed.py and sparse_products.py; spdiags and the invariant-check
switch in _construction.py."""

from ember._registry import tensor_arguments as _tensor_arguments
from ember.ops._sparse_compressed import SparseCompressedTensor, sparse_csc, sparse_csr
from ember.ops._sparse_coo import SparseCooTensor, sparse_coo
from ember.ops.sparse import addmm
from ember.ops.sparse_products import mm, sampled_addmm
from ember.ops.sparse_products import sparse_sampled_addmm as sparse_sampled_addmm
from ember.ops.sparse_reduce import log_softmax, softmax
from ember.ops.sparse_reduce import sparse_sum as sum
from ember.sparse._construction import check_sparse_tensor_invariants, spdiags

# a non-tensor argument is torch's TypeError (NOTE [Not a tensor is a TypeError])
sampled_addmm = _tensor_arguments(sampled_addmm, schema="torch.sparse.sampled_addmm")
sparse_sampled_addmm = _tensor_arguments(sparse_sampled_addmm, schema="torch.sparse.sampled_addmm")
# torch.sparse.mm is torch._C._sparse._sparse_mm: its parser refuses a reduce that is no str
mm = _sparse_mm = _tensor_arguments(mm, schema="sparse.mm")

__all__ = ["addmm", "mm", "sum", "softmax", "log_softmax", "sampled_addmm", "SparseCooTensor",
           "SparseCompressedTensor", "sparse_coo", "sparse_csr", "sparse_csc", "spdiags",
           "check_sparse_tensor_invariants"]
