"""Variable-length sequences: PackedSequence, padding and packing (matches `torch.nn.utils.rnn`).

NOTE [Packing is one gather]
A padded batch (T, B, *) of sequences sorted by decreasing length packs into rows ordered by time
step, then batch: step t holds the first batch_sizes[t] sequences. Those are exactly the True
positions of the mask `t < length[b]` read in row-major order, so packing is one `index_select`
of the flattened (T·B, *) rows, and padding is one `index_select` of the packed rows followed by a
padding row (index N) for the empty positions. Both are differentiable ops over whole arrays;
`pad_sequence` is one `cat` of the sequences and one gather the same way.
"""

from typing import NamedTuple

from ember import _dtype
from ember._backend import xp
from ember._tensor import Tensor
from ember.ops.creation import full
from ember.ops._node_names import renamed_node  # NOTE [grad_fn names of composite ops]
from ember.ops.joins import cat
from ember.ops.scatter import index_select
from ember.ops.sort import sort

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]


def _long(array) -> Tensor:
    """An int64 tensor from an integer array."""
    return Tensor._make(xp.asarray(array, dtype=xp.int64))


def _ints(value):
    """An int64 array from a tensor or a list of ints."""
    if isinstance(value, Tensor):
        return value._data.astype(xp.int64)
    return xp.asarray(value, dtype=xp.int64)


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """Packed rows of variable-length sequences with their per-step batch sizes (matches
    `torch.nn.utils.rnn.PackedSequence`)."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes))
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The sequence with its data converted as Tensor.to (indices follow the device)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        indices = [None if t is None else t.to(data.device)
                   for t in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *indices)

    def cpu(self, *args, **kwargs):
        return self.to("cpu")

    def pin_memory(self):
        return self

    def double(self):
        return self.to(dtype=_dtype.float64)

    def float(self):
        return self.to(dtype=_dtype.float32)

    def half(self):
        return self.to(dtype=_dtype.float16)

    def long(self):
        return self.to(dtype=_dtype.int64)

    def int(self):
        return self.to(dtype=_dtype.int32)

    def short(self):
        return self.to(dtype=_dtype.int16)

    def char(self):
        return self.to(dtype=_dtype.int8)

    def byte(self):
        return self.to(dtype=_dtype.uint8)

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation):
    """The inverse permutation, or None for None (matches
    `torch.nn.utils.rnn.invert_permutation`)."""
    if permutation is None:
        return None
    perm = permutation._data
    inverse = xp.empty_like(perm)
    inverse[perm] = xp.arange(perm.shape[0], dtype=perm.dtype)
    return Tensor._make(inverse)


def _check_lengths(lengths, batch, enforce_sorted):
    """PyTorch's checks of pack_padded_sequence's lengths (an int64 array)."""
    if lengths.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                           f"{lengths.ndim}D cpu Long tensor")
    if lengths.shape[0] != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.shape[0]} (batch_size={batch})")
    if enforce_sorted and bool((lengths[1:] > lengths[:-1]).any()):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
            "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
            "to sidestep this requirement if you do not need ONNX exportability.")
    if lengths.shape[0] and int(lengths.min()) <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element "
                           "in 'lengths' that is <= 0")


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded (T, B, *) batch (B, T, * with batch_first) of sequences with the given
    lengths (matches `torch.nn.utils.rnn.pack_padded_sequence`)."""
    lengths_t = lengths if isinstance(lengths, Tensor) else _long(_ints(lengths))
    batch_dim = 0 if batch_first else 1
    sorted_indices = None
    if lengths_t.ndim == 1 and not enforce_sorted:
        lengths_t, sorted_indices = sort(lengths_t.to(_dtype.int64), descending=True)
        input = index_select(input, batch_dim, sorted_indices)
    lens = _ints(lengths_t)
    _check_lengths(lens, input.shape[batch_dim], enforce_sorted)
    if batch_first:
        input = input.transpose(0, 1)
    steps, batch = input.shape[0], input.shape[1]
    mask = xp.arange(int(lens[0]))[:, None] < lens[None, :]
    rows = xp.flatnonzero(mask)
    flat = input.reshape((steps * batch,) + tuple(input.shape[2:]))
    data = renamed_node(index_select(flat, 0, _long(rows)), "PackPaddedSequenceBackward0")
    return PackedSequence(data, _long(mask.sum(1)), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length=None):
    """Undo pack_padded_sequence: (padded batch, lengths) (matches
    `torch.nn.utils.rnn.pad_packed_sequence`)."""
    batch_sizes = _ints(sequence.batch_sizes)
    steps = batch_sizes.shape[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}")
        steps = total_length
    data = sequence.data
    batch, count = int(batch_sizes[0]), data.shape[0]
    sizes = xp.zeros(steps, dtype=xp.int64)
    sizes[:batch_sizes.shape[0]] = batch_sizes
    mask = xp.arange(batch)[None, :] < sizes[:, None]
    source = xp.full(steps * batch, count, dtype=xp.int64)
    source[mask.ravel()] = xp.arange(count)
    tail = tuple(data.shape[1:])
    pad = full((1,) + tail, padding_value, dtype=data.dtype)
    padded = index_select(cat([data, pad], 0), 0, _long(source)).reshape((steps, batch) + tail)
    padded = renamed_node(padded, "CopySlices")  # (torch copies the steps into a new tensor)
    lengths = mask.sum(0)
    if batch_first:
        padded = padded.transpose(0, 1)
    if sequence.unsorted_indices is not None:
        padded = index_select(padded, 0 if batch_first else 1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices._data]
    return padded, _long(lengths)


def _check_trailing(sequences):
    """Every sequence's trailing dims must equal the first one's (PyTorch's copy error)."""
    first = tuple(sequences[0].shape[1:])
    for seq in sequences[1:]:
        for dim, (a, b) in enumerate(zip(first, seq.shape[1:]), 1):
            if a != b:
                raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b "
                                   f"({b}) at non-singleton dimension {dim}")


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack variable-length sequences into one padded tensor (matches
    `torch.nn.utils.rnn.pad_sequence`)."""
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    try:
        sequences = tuple(sequences)
    except TypeError:
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg of "
                           f"type: {type(sequences)}") from None
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    _check_trailing(sequences)
    lengths = xp.asarray([s.shape[0] for s in sequences], dtype=xp.int64)
    steps, count = int(lengths.max()), int(lengths.sum())
    offsets = xp.cumsum(lengths) - lengths
    t = xp.arange(steps)[None, :]
    if padding_side == "left":
        t = t - (steps - lengths)[:, None]
    valid = (t >= 0) & (t < lengths[:, None])
    source = xp.where(valid, offsets[:, None] + t, count)  # (B, T) rows of the joined input
    if not batch_first:
        source = source.T
    tail = tuple(sequences[0].shape[1:])
    dtype = sequences[0].dtype
    pad = full((1,) + tail, padding_value, dtype=dtype)
    joined = cat(list(sequences) + [pad], 0)
    padded = index_select(joined, 0, _long(source.ravel())).reshape(source.shape + tail)
    return renamed_node(padded, "CopySlices")  # (torch copies the sequences into a new tensor)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False):
    """The list of unpadded sequences of a padded batch (matches
    `torch.nn.utils.rnn.unpad_sequence`)."""
    # NOTE [unpad_sequence and the caller's tensor]
    # PyTorch transposes the caller's tensor in place when batch_first=False; ember works on a
    # transposed view instead and leaves the caller's tensor as it was.
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    steps = padded_sequences.shape[1]
    index = xp.arange(steps)
    return [seq[Tensor._make(index < int(length))]
            for seq, length in zip(padded_sequences, _ints(lengths), strict=True)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of variable-length sequences (matches `torch.nn.utils.rnn.pack_sequence`)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence):
    """The list of sequences in a PackedSequence (matches
    `torch.nn.utils.rnn.unpack_sequence`)."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
