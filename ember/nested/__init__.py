"""Nested tensors (matches `torch.nested`): constructors and `to_padded_tensor`. The tensor
class is in ember/nested/_nested_tensor.py, its ops in ember/nested/_ops.py."""

from ember import as_tensor, broadcast_to
from ember._backend import xp
from ember._tensor import Tensor, strided
from ember.autograd.grad_mode import no_grad
from ember.nested._nested_tensor import NestedTensor, jagged
from ember.nested._ops import _named, pack, to_padded
from ember.nested import _jagged_ops  # noqa: F401 - (registers the jagged layout's ops)
from ember.nn.modules.transformer import _warn_nested_prototype

__all__ = ["to_padded_tensor", "as_nested_tensor", "nested_tensor", "nested_tensor_from_jagged",
           "narrow", "masked_select"]



def _check_layout(layout):
    """strided (the default) or jagged, else torch's error."""
    layout = strided if layout is None else layout
    if layout is not strided and layout is not jagged:
        raise RuntimeError(f"Specified layout is unsupported for nested tensors: {layout}")
    return layout


def _components(tensors, dtype):
    """The components as tensors of one dim and dtype (torch's checks)."""
    tensors = [t if isinstance(t, Tensor) else as_tensor(t) for t in tensors]
    for i, t in enumerate(tensors):
        if t.dim() != tensors[0].dim():
            raise RuntimeError("All Tensors given to nested_tensor must have the same dimension. "
                               f"Found dimension {t.dim()} for Tensor at index {i} and "
                               f"dimension {tensors[0].dim()} for Tensor at index 0.")
    if dtype is not None:
        tensors = [t.to(dtype) for t in tensors]
    return tensors


def _build(tensors, layout):
    """A nested tensor over the concatenated components (autograd flows to them)."""
    if layout is strided:  # torch's TORCH_WARN_ONCE, shared with the encoder's fast path
        _warn_nested_prototype()
    if layout is jagged and tensors and tensors[0].dim() < 1:
        raise RuntimeError("Cannot nest 0-dim tensors in a jagged nested tensor")
    values, sizes, offsets, ragged_idx = pack(tensors, layout)
    return NestedTensor._wrap(values, sizes, offsets, layout, ragged_idx=ragged_idx)


def nested_tensor(tensor_list, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """A leaf nested tensor copied from a list of tensors (matches `torch.nested.nested_tensor`)."""
    layout = _check_layout(layout)
    with no_grad():
        nt = _build([t.detach() if isinstance(t, Tensor) else t
                     for t in _components(tensor_list, dtype)], layout)
    return nt.requires_grad_(requires_grad)


def as_nested_tensor(ts, dtype=None, device=None, layout=None):
    """A nested tensor keeping the components' autograd (matches `as_nested_tensor`)."""
    if isinstance(ts, NestedTensor):
        if (layout or strided) is not ts.layout:
            raise RuntimeError("as_nested_tensor(): Converting between nested tensor layouts "
                               "is not supported")
        return ts if dtype is None else ts.to(dtype)
    if not isinstance(ts, (Tensor, list, tuple)) or (
            not isinstance(ts, Tensor) and not all(isinstance(t, Tensor) for t in ts)):
        raise TypeError("as_nested_tensor(): Expected first argument to be a tensor or a list "
                        "/ tuple of tensors ")
    if isinstance(ts, Tensor) and ts.dim() < 2:
        raise RuntimeError("as_nested_tensor(): Expected tensor argument to have dim() > 1")
    layout = _check_layout(layout)
    return _build(_components(list(ts.unbind()) if isinstance(ts, Tensor) else list(ts), dtype),
                  layout)


def nested_tensor_from_jagged(values, offsets=None, lengths=None, jagged_dim=None,
                              min_seqlen=None, max_seqlen=None):
    """A jagged nested tensor viewing values split at offsets (matches
    `torch.nested.nested_tensor_from_jagged`); components with holes (lengths) are not kept."""
    if offsets is None:
        if lengths is None:
            raise RuntimeError("nested_tensor_from_jagged(): At least one of offsets or lengths "
                               "is required.")
        offsets = Tensor._make(xp.concatenate([[0], xp.cumsum(lengths._data)]).astype(xp.int64))
    elif lengths is not None:
        raise NotImplementedError("nested_tensor_from_jagged(): lengths with offsets (a nested "
                                  "tensor with holes) is not supported by ember")
    if jagged_dim is not None and jagged_dim < 1:
        raise ValueError(f"Expected jagged_dim >=1, but got {jagged_dim}.")
    if jagged_dim not in (None, 1):
        raise NotImplementedError("nested_tensor_from_jagged(): jagged_dim > 1 is not "
                                  "supported by ember")
    off = xp.asarray(offsets._data, dtype=xp.int64)
    lengths = off[1:] - off[:-1]
    rest = xp.array(values.shape[1:], dtype=xp.int64)
    sizes = xp.concatenate([lengths[:, None], xp.broadcast_to(rest, (len(lengths), len(rest)))],
                           axis=1)
    if len(off) and (off[0] != 0 or off[-1] != values.shape[0]):
        values = values[int(off[0]):int(off[-1])]
    if values.grad_fn is not None or values.requires_grad:  # a view of values, as torch's
        values = _named("NestedViewFromJaggedBackward0").apply(values, tuple(values.shape))
    return NestedTensor._wrap(values, sizes, off - off[0], jagged)


def to_padded_tensor(input, padding, output_size=None, out=None):
    """The components padded to one dense tensor (matches `torch.nested.to_padded_tensor`)."""
    if not isinstance(input, NestedTensor):
        raise RuntimeError("to_padded_tensor(): expected a nested tensor input")
    return to_padded(input, padding, output_size)


def narrow(tensor, dim, start, length, layout=strided):
    """Nested view of tensor narrowed per row (matches `torch.nested.narrow`, jagged, dim 1)."""
    if layout is not jagged or dim != 1:
        raise RuntimeError("narrow(): ember supports only layout=torch.jagged on dim 1")
    starts = xp.broadcast_to(xp.asarray(start._data if isinstance(start, Tensor) else start),
                             (tensor.shape[0],))
    lengths = xp.broadcast_to(xp.asarray(length._data if isinstance(length, Tensor) else length),
                              (tensor.shape[0],))
    rows = [tensor[i, int(s):int(s) + int(n)] for i, (s, n) in enumerate(zip(starts, lengths))]
    return as_nested_tensor(rows, layout=jagged)


def masked_select(tensor, mask):
    """The elements where mask is True, row by row, as a jagged tensor (matches
    `torch.nested.masked_select`)."""
    if tensor.layout is not strided:
        raise RuntimeError(f"torch.nested.masked_select requires a strided tensor, given "
                           f"{tensor.layout}")
    mask = broadcast_to(mask, tensor.shape)
    values = tensor[mask]
    lengths = mask.reshape(mask.shape[0], -1).sum(1)
    return nested_tensor_from_jagged(values, lengths=lengths)
