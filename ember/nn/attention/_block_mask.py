"""BlockMask, flex_attention's block-sparse mask format, and its conversions (matches
`torch.nn.attention.flex_attention.BlockMask`).

NOTE [BlockMask format]
The mask over (q_len, kv_len) is cut into Q_BLOCK_SIZE x KV_BLOCK_SIZE tiles. Per row of tiles,
`kv_num_blocks[..., row]` counts the tiles with any allowed position and `kv_indices[..., row, :]`
lists their columns first (the rest of the row lists the other columns, in order); the `full_`
pair does the same for tiles with every position allowed (kernels skip mask_mod there), and
`q_num_blocks` / `q_indices` are the transposes, for the backward. These are int32 tensors of
shape (B, H, rows) and (B, H, rows, cols). The eager flex_attention reads only `mask_mod`: the
tiles serve compiled kernels, and the statistics (`sparsity`, `to_string`) PyTorch prints. The
conversions run on int arrays of the backend (`xp`): no autograd is involved.
"""

import functools
import itertools
import operator

from ember import _dtype
from ember._backend import xp
from ember._tensor import Tensor

_DEFAULT_SPARSE_BLOCK_SIZE = 128
_LARGE_SPARSE_BLOCK_SIZE = 1 << 30
_MODULE = "ember.nn.attention.flex_attention"


def _wrap(array) -> Tensor:
    """A contiguous array as a Tensor."""
    return Tensor._make(xp.ascontiguousarray(array))


def noop_mask(batch, head, token_q, token_kv):
    """A mask_mod allowing every position."""
    return batch.new_ones(size=(), dtype=_dtype.bool, device=batch.device)


def _sliced_mask_mod_error(batch, head, token_q, token_kv):
    """The mask_mod of a sliced BlockMask: slicing drops the original one."""
    raise RuntimeError(
        "Cannot use mask_mod from a sliced BlockMask. When you slice a BlockMask using [], the "
        "mask_mod attribute is reset. You must set it from the original BlockMask's mask_mod."
        "\n\nIncorrect usage:\n  base_mask = create_block_mask(my_mask_fn, ...)\n  sliced_mask "
        "= base_mask[:, :, block_idx]\n  sliced_mask.mask_mod = apply_offset(sliced_mask."
        "mask_mod, offset)  # WRONG!\n\nCorrect usage:\n  base_mask = create_block_mask("
        "my_mask_fn, ...)\n  sliced_mask = base_mask[:, :, block_idx]\n  sliced_mask.mask_mod = "
        "apply_offset(base_mask.mask_mod, offset)  # Use base_mask!")


noop_mask.__module__ = _sliced_mask_mod_error.__module__ = _MODULE


def _ordered_to_dense(num_blocks_in_row, col_indices, num_cols: int) -> Tensor:
    """The (..., rows, num_cols) int32 0/1 tile mask of a (num_blocks, indices) pair."""
    counts, indices = num_blocks_in_row._data, col_indices._data.astype(xp.int64)
    listed = xp.arange(indices.shape[-1]) < counts[..., None]
    target = xp.where(listed, indices, num_cols)  # unlisted entries go to a spare column
    dense = xp.zeros(indices.shape[:-1] + (num_cols + 1,), dtype=xp.int32)
    xp.put_along_axis(dense, target, 1, axis=-1)
    return _wrap(dense[..., :num_cols])


def _dense_to_ordered(dense_mask) -> tuple:
    """(num_blocks, indices) of a 0/1 tile mask: the listed columns first, each part in order
    (PyTorch's stable descending argsort)."""
    dense = dense_mask._data.astype(xp.int32)
    counts = dense.sum(axis=-1).astype(xp.int32)
    indices = xp.argsort(-dense, axis=-1, kind="stable").astype(xp.int32)
    return _wrap(counts), _wrap(indices)


def _transpose_ordered(num_blocks_in_row, col_indices) -> tuple:
    """The (num_blocks, indices) pair of the transposed tile mask (rows become columns)."""
    dense = _ordered_to_dense(num_blocks_in_row, col_indices, col_indices.shape[-1])
    return _dense_to_ordered(_wrap(xp.swapaxes(dense._data, -2, -1)))


def _adjust_num_blocks_and_indices(num_blocks, indices, new_num_rows: int, new_num_cols: int):
    """A (num_blocks, indices) pair cropped to the first rows and columns of tiles."""
    kept = indices._data[:, :, :new_num_rows, :new_num_cols]
    counts = xp.minimum(num_blocks._data[:, :, :new_num_rows], new_num_cols)
    counts = (kept < counts[:, :, :, None]).sum(axis=-1).astype(xp.int32)
    return _wrap(counts), _wrap(kept)


def _compute_dq_write_order_from_block_mask(block_mask, dq_kv_order=False) -> tuple:
    """The dQ write order of a deterministic block-sparse backward: per (row, column) tile,
    its rank among the row's tiles, in ascending column order (descending if dq_kv_order),
    read in the order of `q_indices` (and of `full_q_indices`)."""
    if block_mask.q_num_blocks is None or block_mask.q_indices is None:
        raise ValueError("BlockMask must have q_num_blocks and q_indices to compute "
                         "dq_write_order")
    pairs = [block_mask.kv_indices, block_mask.q_indices, block_mask.full_kv_indices,
             block_mask.full_q_indices]
    B, H = xp.broadcast_shapes(*(t.shape[:2] for t in pairs if t is not None))

    def expand(t):
        """t broadcast to (B, H, ...)."""
        return None if t is None else _wrap(xp.broadcast_to(t._data, (B, H) + t.shape[2:]))

    num_m, num_n = block_mask.kv_indices.shape[2], block_mask.q_indices.shape[2]
    dense = _ordered_to_dense(expand(block_mask.kv_num_blocks), expand(block_mask.kv_indices),
                              num_n)._data
    has_full = block_mask.full_kv_num_blocks is not None and \
        block_mask.full_kv_indices is not None
    if has_full:
        dense = xp.minimum(dense + _ordered_to_dense(expand(block_mask.full_kv_num_blocks),
                                                     expand(block_mask.full_kv_indices),
                                                     num_n)._data, 1)
    cumsum = dense.astype(xp.int64).cumsum(axis=-1)
    rank = (cumsum - dense).astype(xp.int32)
    if dq_kv_order:
        rank = (cumsum[..., -1:] - 1 - rank).astype(xp.int32)

    def gather(bwd_idx):
        """The ranks read in the order of a q-side index tensor."""
        rows = xp.clip(bwd_idx._data.astype(xp.int64), 0, num_m - 1)
        cols = xp.arange(bwd_idx.shape[2])[None, None, :, None]
        return _wrap(rank[xp.arange(B)[:, None, None, None], xp.arange(H)[None, :, None, None],
                          rows, cols].astype(xp.int32))

    full = None
    if has_full and block_mask.full_q_indices is not None:
        full = gather(block_mask.full_q_indices)
    return gather(block_mask.q_indices), full


class BlockMask:
    """A block-sparse attention mask (NOTE [BlockMask format]; matches
    `torch.nn.attention.flex_attention.BlockMask`)."""

    _TENSOR_ATTRS = ["kv_num_blocks", "kv_indices", "full_kv_num_blocks", "full_kv_indices",
                     "q_num_blocks", "q_indices", "full_q_num_blocks", "full_q_indices",
                     "dq_write_order", "dq_write_order_full", "dq_kv_order"]
    _CONTEXT_ATTRS = ["seq_lengths", "BLOCK_SIZE", "mask_mod", "dq_kv_order_spt"]

    def __init__(self, seq_lengths, kv_num_blocks, kv_indices, full_kv_num_blocks,
                 full_kv_indices, q_num_blocks, q_indices, full_q_num_blocks, full_q_indices,
                 BLOCK_SIZE=(_DEFAULT_SPARSE_BLOCK_SIZE, _DEFAULT_SPARSE_BLOCK_SIZE),
                 mask_mod=noop_mask, *, dq_write_order=None, dq_write_order_full=None,
                 dq_kv_order=None, dq_kv_order_spt=None) -> None:
        """Hold the given tensors after PyTorch's consistency checks."""
        if kv_indices.dim() < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        if (full_kv_num_blocks is None) != (full_kv_indices is None):
            raise AssertionError("full_kv_num_blocks and full_kv_indices must be both provided "
                                 "or omitted")
        if (full_q_num_blocks is None) != (full_q_indices is None):
            raise AssertionError("full_q_num_blocks and full_q_indices must be both provided or "
                                 "omitted")
        if dq_write_order_full is not None and dq_write_order is None:
            raise ValueError("dq_write_order_full requires dq_write_order")
        self.seq_lengths = seq_lengths
        self.kv_num_blocks, self.kv_indices = kv_num_blocks, kv_indices
        self.full_kv_num_blocks, self.full_kv_indices = full_kv_num_blocks, full_kv_indices
        self.q_num_blocks, self.q_indices = q_num_blocks, q_indices
        self.full_q_num_blocks, self.full_q_indices = full_q_num_blocks, full_q_indices
        self.dq_write_order, self.dq_write_order_full = dq_write_order, dq_write_order_full
        self.dq_kv_order, self.dq_kv_order_spt = dq_kv_order, dq_kv_order_spt
        self.BLOCK_SIZE = BLOCK_SIZE
        self.mask_mod = mask_mod

    def _dq_kv_order(self):
        """The KV scheduler order: the explicit tensor, else the built-in order's flag."""
        return self.dq_kv_order if self.dq_kv_order is not None else self.dq_kv_order_spt

    @staticmethod
    def _slice_dq_kv_order(dq_kv_order, index):
        """An explicit KV order sliced by the batch and head parts of `index`."""
        return None if dq_kv_order is None else dq_kv_order[index[:2] + (slice(None),)]

    @classmethod
    def from_kv_blocks(cls, kv_num_blocks, kv_indices, full_kv_num_blocks=None,
                       full_kv_indices=None, BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE,
                       mask_mod=None, seq_lengths=None, compute_q_blocks=True, *,
                       dq_write_order=None, dq_write_order_full=None, dq_kv_order=None):
        """A BlockMask of the kv tiles, with the q tiles derived by transposition."""
        if kv_indices.dim() < 2:
            raise RuntimeError("BlockMask must have at least 2 dimensions")
        if (full_kv_num_blocks is None) != (full_kv_indices is None):
            raise AssertionError("full_kv_num_blocks and full_kv_indices must be both provided "
                                 "or omitted")
        q_num_blocks = q_indices = full_q_num_blocks = full_q_indices = None
        if compute_q_blocks:
            q_num_blocks, q_indices = _transpose_ordered(kv_num_blocks, kv_indices)
            if full_kv_num_blocks is not None:
                full_q_num_blocks, full_q_indices = _transpose_ordered(full_kv_num_blocks,
                                                                       full_kv_indices)
        if isinstance(BLOCK_SIZE, int):
            BLOCK_SIZE = (BLOCK_SIZE, BLOCK_SIZE)
        if seq_lengths is None:
            seq_lengths = (kv_indices.shape[-2] * BLOCK_SIZE[0],
                           kv_indices.shape[-1] * BLOCK_SIZE[1])
        if dq_kv_order is not None and not isinstance(dq_kv_order, (bool, Tensor)):
            raise ValueError("dq_kv_order must be a bool, Tensor, or None")
        return cls(seq_lengths=seq_lengths, kv_num_blocks=kv_num_blocks, kv_indices=kv_indices,
                   full_kv_num_blocks=full_kv_num_blocks, full_kv_indices=full_kv_indices,
                   q_num_blocks=q_num_blocks, q_indices=q_indices,
                   full_q_num_blocks=full_q_num_blocks, full_q_indices=full_q_indices,
                   BLOCK_SIZE=BLOCK_SIZE, mask_mod=mask_mod if mask_mod is not None else noop_mask,
                   dq_write_order=dq_write_order, dq_write_order_full=dq_write_order_full,
                   dq_kv_order=dq_kv_order if isinstance(dq_kv_order, Tensor) else None,
                   dq_kv_order_spt=dq_kv_order if isinstance(dq_kv_order, bool) else None)

    def as_tuple(self, flatten: bool = True) -> tuple:
        """The attributes as a tuple; flatten splits seq_lengths and BLOCK_SIZE into ints."""
        block_size = tuple(self.BLOCK_SIZE[:2]) if flatten else (self.BLOCK_SIZE,)
        seq_lengths = tuple(self.seq_lengths[:2]) if flatten else (self.seq_lengths,)
        return (*seq_lengths, self.kv_num_blocks, self.kv_indices, self.full_kv_num_blocks,
                self.full_kv_indices, self.q_num_blocks, self.q_indices, self.full_q_num_blocks,
                self.full_q_indices, self.dq_write_order, self.dq_write_order_full,
                self.dq_kv_order, self.dq_kv_order_spt, *block_size, self.mask_mod)

    @property
    def shape(self) -> tuple:
        """(*batch dims, q_len, kv_len)."""
        return tuple(self.kv_indices.shape[:-2]) + tuple(self.seq_lengths)

    def __str__(self) -> str:
        """Shape, sparsity and the picture of the tiles."""
        return (f"BlockMask(shape={self.shape}, sparsity={self.sparsity():.2f}%, \n"
                f"{self.to_string().strip()}\n)")

    def __getitem__(self, index):
        """The mask of some batches / heads / rows of tiles; int indices keep their dim, and
        the result's mask_mod raises (slicing loses the original's)."""
        if self.dq_kv_order is not None:
            raise NotImplementedError(
                "Slicing BlockMask with tensor dq_kv_order is not supported yet. Construct a new "
                "BlockMask with matching precomputed dq_write_order metadata.")
        index = (index,) if not isinstance(index, tuple) else index
        padded = (*index, slice(None), slice(None), slice(None))[:3]
        sizes = self.kv_num_blocks.shape[:3]
        if len(sizes) != len(padded):  # PyTorch's zip(strict=True)
            raise ValueError("zip() argument 2 is shorter than argument 1")
        index = tuple((slice(i + n, i + n + 1) if -n <= i < 0 else slice(i, i + 1))
                      if isinstance(i, int) else i for i, n in zip(padded, sizes))
        full = (None, None) if self.full_kv_num_blocks is None else (
            self.full_kv_num_blocks[index], self.full_kv_indices[index])
        new = BlockMask.from_kv_blocks(
            self.kv_num_blocks[index], self.kv_indices[index], *full, BLOCK_SIZE=self.BLOCK_SIZE,
            mask_mod=_sliced_mask_mod_error, seq_lengths=self.seq_lengths,
            compute_q_blocks=self.q_indices is not None)
        new.dq_kv_order = self._slice_dq_kv_order(self.dq_kv_order, index)
        return self._carry_dq_order(new)

    def _carry_dq_order(self, new):
        """new, with self's dQ order flag and (if self had one) a recomputed write order."""
        new.dq_kv_order_spt = self.dq_kv_order_spt
        if self.dq_write_order is not None and new.dq_kv_order is None:
            new.dq_write_order, new.dq_write_order_full = \
                _compute_dq_write_order_from_block_mask(new, dq_kv_order=new.dq_kv_order_spt)
        return new

    def __repr__(self) -> str:
        """The fields' shapes, the block size, shape, sparsity and mask_mod's name."""
        def shape_or_none(x):
            """x's shape, or None."""
            return x.shape if x is not None else None

        name = self.mask_mod.__name__ if hasattr(self.mask_mod, "__name__") else self.mask_mod
        return (f"BlockMask(\n    kv_num_blocks={self.kv_num_blocks.shape},\n"
                f"    kv_indices={self.kv_indices.shape},\n"
                f"    full_kv_num_blocks={shape_or_none(self.full_kv_num_blocks)},\n"
                f"    full_kv_indices={shape_or_none(self.full_kv_indices)},\n"
                f"    q_num_blocks={shape_or_none(self.q_num_blocks)},\n"
                f"    q_indices={shape_or_none(self.q_indices)},\n"
                f"    full_q_num_blocks={shape_or_none(self.full_q_num_blocks)},\n"
                f"    full_q_indices={shape_or_none(self.full_q_indices)},\n"
                f"    BLOCK_SIZE={self.BLOCK_SIZE},\n    shape={self.shape},\n"
                f"    sparsity={self.sparsity():.2f}%,\n    mask_mod={name}\n)")

    def _adjust(self, new_q_len: int, new_kv_len: int):
        """This mask cropped to new_q_len x new_kv_len (its upper-left corner)."""
        if self.dq_kv_order is not None:
            raise NotImplementedError(
                "Adjusting BlockMask with tensor dq_kv_order is not supported yet. Construct a "
                "new BlockMask with matching precomputed dq_write_order metadata.")
        rows = (new_q_len + self.BLOCK_SIZE[0] - 1) // self.BLOCK_SIZE[0]
        cols = (new_kv_len + self.BLOCK_SIZE[1] - 1) // self.BLOCK_SIZE[1]
        pair = _adjust_num_blocks_and_indices(self.kv_num_blocks, self.kv_indices, rows, cols)
        full = (None, None) if self.full_kv_num_blocks is None else \
            _adjust_num_blocks_and_indices(self.full_kv_num_blocks, self.full_kv_indices, rows,
                                           cols)
        new = self.from_kv_blocks(*pair, *full, BLOCK_SIZE=self.BLOCK_SIZE,
                                  mask_mod=self.mask_mod, seq_lengths=(new_q_len, new_kv_len),
                                  compute_q_blocks=self.q_indices is not None)
        new.dq_kv_order = self.dq_kv_order
        return self._carry_dq_order(new)

    def numel(self) -> int:
        """The number of positions the mask covers, sparsity aside."""
        return functools.reduce(operator.mul, self.shape, 1)

    def sparsity(self) -> float:
        """The percentage of the mask's positions in tiles that are skipped (PyTorch's formula:
        negative when the tiles overhang the sequences)."""
        computed_blocks = int(self.kv_num_blocks._data.sum(dtype=xp.int64))
        if self.full_kv_num_blocks is not None:
            computed_blocks += int(self.full_kv_num_blocks._data.sum(dtype=xp.int64))
        computed_size = computed_blocks * self.BLOCK_SIZE[0] * self.BLOCK_SIZE[1]
        return 100 * (1 - computed_size / self.numel())

    def to_dense(self) -> Tensor:
        """The int32 0/1 tile mask: 1 for tiles computed (partially or fully)."""
        partial = _ordered_to_dense(self.kv_num_blocks, self.kv_indices,
                                    self.kv_indices.shape[-1])
        if self.full_kv_num_blocks is None:
            return partial
        full = _ordered_to_dense(self.full_kv_num_blocks, self.full_kv_indices,
                                 self.full_kv_indices.shape[-1])
        return _wrap(partial._data | full._data)

    def to_string(self, grid_size=(20, 20), limit: int = 4) -> str:
        """A picture of the tile mask per batch and head (█ computed, ░ partly, blank
        skipped), at most grid_size cells and `limit` pictures."""
        dense = self.to_dense()._data
        *batch_dims, num_rows, num_cols = dense.shape
        if isinstance(grid_size, int):  # (so -1 lands here too, as in PyTorch)
            max_rows = max_cols = grid_size
        elif grid_size == -1:
            max_rows, max_cols = num_rows, num_cols
        else:
            max_rows, max_cols = grid_size
        row_step = max(1, -(-num_rows // max_rows))
        col_step = max(1, -(-num_cols // max_cols))
        total_vis = []
        for i, batch_idx in enumerate(itertools.product(*[range(n) for n in batch_dims])):
            if i == limit:
                total_vis += ["...", "To print out more, set BlockMask.to_string(limit=N)",
                              "You can also index (BlockMask[batch, head]) to choose a specific "
                              "batch or head"]
                break
            total_vis.append(_tile_picture(dense[batch_idx], batch_idx, row_step, col_step))
        return "\n".join(total_vis)

    def to(self, device):
        """This mask with its tensors on `device`."""
        moved = {attr: getattr(self, attr) for attr in self._TENSOR_ATTRS}
        moved = {attr: t.to(device) if isinstance(t, Tensor) else t for attr, t in moved.items()}
        return BlockMask(seq_lengths=self.seq_lengths, **moved, BLOCK_SIZE=self.BLOCK_SIZE,
                         mask_mod=self.mask_mod, dq_kv_order_spt=self.dq_kv_order_spt)


def _tile_picture(mask, batch_idx, row_step: int, col_step: int) -> str:
    """One batch/head's picture for BlockMask.to_string: two characters per cell."""
    vis = f"{batch_idx}\n"
    for r in range(0, mask.shape[0], row_step):
        for c in range(0, mask.shape[1], col_step):
            share = mask[r:r + row_step, c:c + col_step].astype(xp.float32).mean()
            vis += ("█" if share == 1 else " " if share == 0 else "░") * 2
        vis += "\n"
    return vis


BlockMask.__module__ = _MODULE


# ---- a boolean mask to tiles and back -----------------------------------------------------------
def _broadcast_to_dim(x, dim: int):
    """x with leading dims of size 1 added up to `dim` dims."""
    while x.dim() < dim:
        x = x.unsqueeze(0)
    return x


def _round_up_to_multiple(x: int, multiple: int) -> int:
    """The smallest multiple of `multiple` that is at least x."""
    return (x + multiple - 1) // multiple * multiple


def _convert_mask_to_block_mask(mask, Q_BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE,
                                KV_BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE,
                                separate_full_blocks: bool = False) -> tuple:
    """(partial, full) int8 0/1 tile masks of a boolean (B, H, Q, KV) mask, padded with False
    to whole tiles; without separate_full_blocks every non-empty tile is partial and full is
    None."""
    if mask.dtype != _dtype.bool:
        raise AssertionError(f"mask.dtype must be torch.bool, got {mask.dtype}")
    array = _broadcast_to_dim(mask, 4)._data
    pad_q = _round_up_to_multiple(array.shape[-2], Q_BLOCK_SIZE) - array.shape[-2]
    pad_kv = _round_up_to_multiple(array.shape[-1], KV_BLOCK_SIZE) - array.shape[-1]
    array = xp.pad(array, ((0, 0), (0, 0), (0, pad_q), (0, pad_kv)))
    B, H, Q, KV = array.shape
    tiles = array.reshape(B, H, Q // Q_BLOCK_SIZE, Q_BLOCK_SIZE, KV // KV_BLOCK_SIZE,
                          KV_BLOCK_SIZE)
    counts = tiles.sum(axis=(3, 5), dtype=xp.int64)  # allowed positions per tile
    if not separate_full_blocks:
        return _wrap((counts > 0).astype(xp.int8)), None
    whole = Q_BLOCK_SIZE * KV_BLOCK_SIZE
    partial = (counts > 0) & (counts < whole)
    return _wrap(partial.astype(xp.int8)), _wrap((counts == whole).astype(xp.int8))


def _convert_block_mask_to_mask(block_mask, KV_BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE,
                                Q_BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE):
    """A (B, H, Q, KV) tile mask repeated into the positions it covers."""
    if block_mask.dim() != 4:
        raise AssertionError(f"block_mask.dim() must be 4, got {block_mask.dim()}")
    return _wrap(xp.repeat(xp.repeat(block_mask._data, Q_BLOCK_SIZE, axis=2), KV_BLOCK_SIZE,
                           axis=3))
