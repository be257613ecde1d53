"""The sparse COO gradient of `nn.Embedding(sparse=True)` / `F.embedding(..., sparse=True)`
(NOTE [Sparse gradients] in ember/autograd/engine.py)."""

from ember._backend import xp
from ember._tensor import Tensor
from ember.ops._sparse_coo import SparseCooTensor


def embedding_sparse_grad(gy: Tensor, indices, num: int, padding_idx, scale: bool):
    """The weight's gradient as PyTorch's `embedding_sparse_backward` makes it: one entry per
    looked-up index (repeats kept, those of padding_idx left out) holding its row of gy, of size
    (num, embedding_dim). The values are gy's rows through ember ops, so under create_graph
    they carry their graph."""
    if scale:
        raise RuntimeError(
            "embedding_backward: scale_grad_by_freq not supported with sparse gradients")
    width = gy.shape[-1]
    flat = indices.reshape(-1).astype(xp.int64, copy=False)
    values = gy.reshape(-1, width)
    if padding_idx is not None:
        kept = flat != padding_idx
        if not kept.all():
            flat, values = flat[kept], values[Tensor._make(kept)]
    # (PyTorch flags a tensor of at most one entry coalesced)
    return SparseCooTensor._make_sparse(flat.reshape(1, -1), values, (num, width),
                                        flat.shape[0] <= 1)
