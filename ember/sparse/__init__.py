"""Sparse COO tensors (matches `torch.sparse`); the tensor is in ember/ops/_sparse_coo.py and its
ops in ember/ops/sparse.py and ember/ops/sparse_reduce.py."""

from ember.ops._sparse_coo import SparseCooTensor, sparse_coo
from ember.ops.sparse import addmm
from ember.ops.sparse import sparse_mm as mm
from ember.ops.sparse_reduce import log_softmax, softmax
from ember.ops.sparse_reduce import sparse_sum as sum

__all__ = ["addmm", "mm", "sum", "softmax", "log_softmax", "SparseCooTensor", "sparse_coo"]
