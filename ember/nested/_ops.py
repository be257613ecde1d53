"""The ops of nested tensors (NOTE [Nested tensors are a Tensor subclass holding a packed values
Tensor] in ember/nested/_nested_tensor.py): each applies ember's dense op to the packed buffer
once, so autograd runs through the buffer; `to_padded_tensor`'s op; torch's errors for the rest.
"""

from ember import cat
from ember._backend import xp
from ember._tensor import Tensor, strided
from ember.autograd.function import Op
from ember.nested._nested_tensor import _OPS, NestedTensor, jagged
from ember.nn.functional import scaled_dot_product_attention
from ember.nn.modules.transformer import _warn_nested_prototype

# ops applied to the buffer elementwise: the result has the input's structure
_UNARY = frozenset(
    "relu gelu silu sigmoid tanh exp expm1 log log1p log2 neg negative abs sin cos tan sqrt "
    "rsqrt square sign floor ceil round trunc erf reciprocal logical_not hardtanh leaky_relu "
    "elu selu celu mish softplus hardswish hardsigmoid relu6 logsigmoid tanhshrink softsign "
    "sgn positive clamp clip nan_to_num float double half bfloat16 detach clone "
    "relu_ sigmoid_ tanh_ neg_ abs_ exp_ clamp_ dropout alpha_dropout __invert__ isnan isinf "
    "isfinite clamp_min clamp_max type_as fill_ zero_ sqrt_ log_ floor_ round_ sin_ cos_ "
    "clamp_min_ clamp_max_ type".split())
_BINARY = frozenset(
    "add sub mul div true_divide pow maximum minimum eq ne lt le gt ge where atan2 "
    "__rsub__ __rdiv__ __rpow__ __radd__ __rmul__ __rtruediv__ __and__ __or__ __xor__ "
    "add_ sub_ mul_ div_ logical_and logical_or remainder fmod masked_fill lerp pow_ "
    "copy_ __eq__ __ne__".split())
_LAST_DIM = frozenset("softmax log_softmax layer_norm linear matmul rms_norm".split())
# torch's strided (C++) nested tensors have kernels for these only
_STRIDED = frozenset(
    "relu tanh neg negative abs sin cos sqrt logical_not sgn positive detach clone tanhshrink "
    "softsign gelu silu dropout to float double half bfloat16 add sub mul div true_divide "
    "__radd__ __rmul__ gt ge lt le ne softmax linear matmul layer_norm sum mean relu_ tanh_ "
    "neg_ abs_ add_ sub_ mul_ div_ __len__".split())
_JAGGED_MISSING = frozenset(("hardswish", "logsigmoid", "abs_"))
# the aten overload torch's jagged tensors name when they lack the op
_JAGGED_NAMES = {"var": "var.correction", "std": "std.correction", "norm": "norm.ScalarOpt_dim",
                 "argsort": "sort.default", "normalize": "norm.ScalarOpt_dim"}
# the jagged layout's own ops (ember/nested/_jagged_ops.py): name -> fn(nt, func, args, kwargs),
# which returns None to leave a call to the general dispatch
_JAGGED_OPS = {}
_REDUCE_ALL = frozenset(("max", "min", "amax", "amin", "all", "any"))
# the aten overload torch names when a strided nested tensor lacks the op
_ATEN_NAMES = {"__rsub__": "rsub.Scalar", "pow": "pow.Tensor_Scalar", "__rpow__": "pow.Scalar",
               "__rdiv__": "reciprocal", "__rtruediv__": "reciprocal",
               "log_softmax": "_log_softmax", "maximum": "maximum", "minimum": "minimum"}


def dispatch(func, args, kwargs):
    """Run func (an ember function or Tensor method) with nested arguments."""
    name = getattr(func, "__name__", "").removeprefix("tensor_")  # Tensor.to's face: tensor_to
    nt = next(a for a in _flat(list(args) + list(kwargs.values())) if isinstance(a, NestedTensor))
    if name == "__len__":
        return len(nt)
    if (nt.layout is strided and name not in _STRIDED) or (
            nt.layout is jagged and name in _JAGGED_MISSING):
        raise _unsupported(nt, _ATEN_NAMES.get(name, name))
    if name in _JAGGED_OPS and nt.layout is jagged and args and (
            args[0] is nt or isinstance(args[0], (list, tuple))):
        out = _JAGGED_OPS[name](nt, func, args, kwargs)
        if out is not None:
            return out
    if name in _REDUCE_ALL and len(args) == 1 and not kwargs:
        return func(nt._nt_values)
    if name in _UNARY and isinstance(args[0], NestedTensor):
        return _on_values(nt, func, args, kwargs)
    if name in _BINARY:
        return _binary(nt, func, args, kwargs)
    if name in _LAST_DIM:
        return _last_dim(nt, name, func, args, kwargs)
    if name == "to":
        return _on_values(nt, func, args, kwargs)
    if name in _SHAPE_OPS and nt.layout is jagged:
        return _SHAPE_OPS[name](nt, *args[1:], **kwargs)
    if name == "scaled_dot_product_attention" and nt.layout is jagged:
        return _sdpa(*args, **kwargs)
    if nt._nt_ridx != 1 and name not in _UNARY and name not in _BINARY and name not in (
            "linear", "layer_norm", "to", "softmax"):
        raise _unsupported(nt, name)
    if name in ("sum", "mean"):
        return _reduce(nt, func, args, kwargs)
    raise _unsupported(nt, name)


def _unsupported(nt, name):
    """torch's error for an op its nested tensors lack."""
    if nt.layout is jagged:
        return NotImplementedError(f"aten.{_JAGGED_NAMES.get(name, name + '.default')}")
    return NotImplementedError(
        f"Could not run 'aten::{name}' with arguments from the 'NestedTensorCPU' backend. This "
        "could be because the operator doesn't exist for this backend, or was omitted during "
        "the selective/custom build process (if using custom build).")


def _swap(args, kwargs, new):
    """args and kwargs with each nested tensor replaced by new(nested)."""
    args = tuple(new(a) if isinstance(a, NestedTensor) else a for a in args)
    kwargs = {k: new(v) if isinstance(v, NestedTensor) else v for k, v in kwargs.items()}
    return args, kwargs


def _on_values(nt, func, args, kwargs):
    """func on the buffer, wrapped back in nt's structure (a result that is no tensor as is)."""
    args, kwargs = _swap(args, kwargs, lambda a: a._nt_values)
    out = func(*args, **kwargs)
    if out is args[0] and func.__name__.endswith("_"):  # in place: the buffer changed
        return nt
    return nt._like(out) if isinstance(out, Tensor) else out


def _binary(nt, func, args, kwargs):
    """An op of a nested tensor and a number, a same-structure nested tensor or (jagged) a
    dense tensor broadcasting over the regular dims."""
    for other in args:
        if isinstance(other, NestedTensor) and other is not nt:
            if other.layout is not nt.layout or other._nt_sizes.shape != nt._nt_sizes.shape or \
                    not (other._nt_sizes == nt._nt_sizes).all():
                raise RuntimeError(_mismatch(nt, other, func.__name__))
        elif isinstance(other, Tensor) and not isinstance(other, NestedTensor) and \
                other.dim() > 0:
            if nt.layout is strided:
                raise RuntimeError("Expected both self and other to be nested, but got a nested "
                                   "self and non-nested other")
            if other.dim() >= nt.dim() and not _per_batch(nt, other):
                raise NotImplementedError(f"aten.{func.__name__}.Tensor")
    if any(isinstance(a, Tensor) and not isinstance(a, NestedTensor) and a.dim() >= nt.dim()
           for a in args):  # a dense (B or 1, 1, ...) operand: each component's own row
        args = tuple(_OPS["rows_of"](nt, a) if _per_batch(nt, a) else a for a in args)
    return _on_values(nt, func, args, kwargs)


def _per_batch(nt, other):
    """Whether a dense operand broadcasts over the components: (B or 1, 1, ...) of nt's
    dims, nt's ragged dim 1."""
    return other.dim() == nt.dim() and nt._nt_ridx == 1 and other.shape[1] == 1 and \
        other.shape[0] in (1, len(nt))


def _flat(values):
    """values, the items of lists and tuples among them in their place (cat's tensors)."""
    for v in values:
        if isinstance(v, (list, tuple)):
            yield from v
        else:
            yield v


def _mismatch(a, b, name):
    """torch's message for nested operands of different structures."""
    if a.layout is jagged:
        return (f"cannot call binary pointwise function {name}.Tensor with inputs of shapes "
                f"{tuple(a.shape)} and {tuple(b.shape)}".replace(",)", ")"))
    return f"{name} does not support broadcasting when given a NestedTensor"


def _rows(nt):
    """The buffer as (N, *rest) when all components share their dims after the first."""
    rest = tuple(int(n) for n in nt._nt_sizes[0, 1:]) if len(nt._nt_sizes) else ()
    if nt.layout is strided:
        if (nt._nt_sizes[:, 1:] != nt._nt_sizes[0, 1:]).any():
            return None
        return nt._nt_values.reshape((-1,) + rest)
    return nt._nt_values


def _back(nt, rows, last=None, node=None):
    """Wrap rows (N, *rest) as nt's structure (the strided buffer is flat); node: the grad_fn
    name torch's nested op shows, else that of the op on the rows."""
    shape = (-1,) if nt.layout is strided else tuple(rows.shape)
    if rows.grad_fn is not None and (node or nt.layout is strided):
        values = _named(node or type(rows.grad_fn).__name__).apply(rows, shape)
    else:
        values = rows.reshape(shape)
    return nt._like(values, last)


class _Reshape(Op):
    """y = x reshaped; gx = gy reshaped back. Subclassed per name (`_named`) to show the
    grad_fn torch's nested op has (`LinearBackward0`) rather than that of the rows' op."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x._data.shape
        return x._data.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return Tensor._make(gy._data.reshape(ctx.shape)), None


_NAMED = {}


def _named(name):
    """The reshape op whose node is called name."""
    if name not in _NAMED:
        _NAMED[name] = type(name, (_Reshape,), {"node_name": name})
    return _NAMED[name]


def _last_dim(nt, name, func, args, kwargs):
    """softmax / log_softmax / layer_norm / linear / matmul over the last (regular) dim."""
    if name in ("softmax", "log_softmax"):
        return _softmax(nt, func, args, kwargs)
    if not isinstance(args[0], NestedTensor) or any(
            isinstance(a, NestedTensor) for a in list(args[1:]) + list(kwargs.values())):
        raise _unsupported(nt, name)
    if nt.layout is strided and name == "matmul":
        raise RuntimeError("Expected both to be nested, but got a nested self and non-nested "
                           "other")
    if nt.layout is strided and name == "layer_norm" and (
            _arg(args, kwargs, 2, "weight") is None or _arg(args, kwargs, 3, "bias") is None):
        raise ValueError("NestedTensor layer_norm requires weight and bias")
    rows = _rows(nt)
    if rows is None or nt.dim() < 3:
        raise RuntimeError(f"{name}: the last dimension of a nested tensor must be regular")
    out = func(rows, *args[1:], **kwargs)
    node = {"linear": "LinearBackward0"}.get(name)
    return _back(nt, out, int(out.shape[-1]), node)


def _arg(args, kwargs, position, name, default=None):
    """An argument given by position or keyword."""
    return args[position] if len(args) > position else kwargs.get(name, default)


def _softmax(nt, func, args, kwargs):
    """softmax / log_softmax along a regular dim, or along the ragged dim 1 of each component
    (through the padded tensor, padded with -inf so the padding weighs nothing)."""
    dim = _arg(args, kwargs, 1, "dim")
    d = dim + nt.dim() if dim < 0 else dim
    extra = {k: v for k, v in kwargs.items() if k != "dim"}
    if d == 0:
        raise RuntimeError("Cannot apply softmax across nested dimension 0" if nt.layout is
                           strided else f"{func.__name__}(): not supported when reducing across "
                           "the batch dimension for NestedTensor")
    rows = _rows(nt)
    if nt._nt_ridx != 1 and d != nt.dim() - 1:
        raise _unsupported(nt, func.__name__)
    if d >= 2 and rows is not None:
        return _back(nt, func(rows, d - 1 if nt._nt_ridx == 1 else -1, *args[2:], **extra))
    if d != 1 or rows is None:
        raise _unsupported(nt, func.__name__)
    if nt.layout is jagged and func.__name__ == "log_softmax":
        raise RuntimeError("log_softmax(): not supported when reducing along the ragged "
                           "dimension for NestedTensor")
    padded = to_padded(nt, float("-inf"))
    out = func(padded, 1, *args[2:], **extra)
    batch, longest = int(padded.shape[0]), int(padded.shape[1])
    lengths = nt._nt_sizes[:, 0]
    component = xp.repeat(xp.arange(batch), lengths)
    local = xp.arange(int(lengths.sum())) - xp.repeat(xp.cumsum(lengths) - lengths, lengths)
    picked = out.reshape((batch * longest,) + tuple(out.shape[2:]))[
        Tensor._make(component * longest + local)]
    return _back(nt, picked)


def _reduce(nt, func, args, kwargs):
    """sum / mean: of every element (jagged), or along regular dims (strided: the last one,
    keepdim=True, as torch's kernels)."""
    name = func.__name__
    dim = _arg(args, kwargs, 1, "dim")
    keepdim = _arg(args, kwargs, 2, "keepdim", False)
    if dim is None:
        if nt.layout is strided:
            raise _unsupported(nt, name)
        out = func(nt._nt_values, **{k: v for k, v in kwargs.items() if k == "dtype"})
        if out.grad_fn is None:
            return out
        return _named(f"{type(out.grad_fn).__name__[:-1]}AutogradNestedTensor0").apply(out, ())
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(d + nt.dim() if d < 0 else d for d in dims)
    if nt.layout is strided:
        _check_strided_reduce(nt, name, dims, keepdim)
    elif 0 in dims:
        raise RuntimeError(f"{name}(): reducing along the batch dimension but not the ragged "
                           "dimension is not supported for nested tensors")
    rows = _rows(nt)
    if dims == (1,) and name == "sum" and nt.layout is jagged:  # dense (B, *rest)
        out = func(to_padded(nt, 0.0), 1, keepdim)
        return _named("SumBackwardAutogradNestedTensor1").apply(out, tuple(out.shape))
    if 1 in dims or rows is None:
        raise _unsupported(nt, name)
    out = func(rows, tuple(d - 1 for d in dims), keepdim)
    if name == "sum" and nt.layout is jagged and out.grad_fn is not None:  # torch's node
        out = _named("SumBackwardAutogradNestedTensor1").apply(out, tuple(out.shape))
    values = out.reshape(-1) if nt.layout is strided else out
    sizes = nt._nt_sizes.copy()
    if keepdim:
        sizes[:, [d - 1 for d in dims]] = 1
    else:
        sizes = xp.delete(sizes, [d - 1 for d in dims], axis=1)
    offsets = nt._nt_offsets
    if nt.layout is strided:
        offsets = xp.concatenate([[0], xp.cumsum(sizes.prod(axis=1))]).astype(xp.int64)
    return NestedTensor._wrap(values, sizes, offsets, nt.layout, nt._nt_ragged)


def _check_strided_reduce(nt, name, dims, keepdim):
    """torch's errors for the reductions its strided nested kernels lack."""
    if name == "mean":
        raise RuntimeError("Internal error: NestedTensorImpl doesn't support sizes. Please file "
                           "an issue.")
    if dims != (nt.dim() - 1,):
        raise RuntimeError("NestedTensor can only be reduced across the last dimension for now "
                           f"got dimension {dims[0]} instead.")
    if not keepdim:
        raise RuntimeError("NestedTensor always requires keepdim=True for now.")


def _with_values(nt, values, ragged_idx, node=None, home=None):
    """A jagged tensor with nt's offsets over values reshaped along its regular dims."""
    lengths = nt._nt_sizes[:, :1]
    rest = xp.array(values.shape[1:], dtype=xp.int64)
    sizes = xp.concatenate([lengths, xp.broadcast_to(rest, (len(lengths), len(rest)))], axis=1)
    if node is not None and values.grad_fn is not None:
        values = _named(node).apply(values, tuple(values.shape))
    return NestedTensor._wrap(values, sizes, nt._nt_offsets, jagged, nt._nt_ragged, ragged_idx,
                              nt._nt_home if home is None else home)


def _regular_dim(nt, d, name):
    """The buffer dim of nt's regular dim d (the batch and ragged dims raise)."""
    d = d + nt.dim() if d < 0 else d
    if d == 0 or d == nt._nt_ridx:
        raise RuntimeError(f"{name}(): not supported for NestedTensor on the batch or ragged "
                           f"dim {d}")
    return nt._column(d)


def _transpose(nt, dim0, dim1):
    """transpose: the ragged dim with a neighbour (metadata only), or two regular dims."""
    d0, d1 = sorted(d + nt.dim() if d < 0 else d for d in (dim0, dim1))
    r = nt._nt_ridx
    if d0 == 0:
        raise RuntimeError("Transposition of the batch dimension is not supported for "
                           "NestedTensor")
    if r in (d0, d1) and d1 - d0 == 1:
        return _with_values(nt, nt._nt_values, d1 if r == d0 else d0, "TransposeBackward0")
    if r in (d0, d1):
        raise _unsupported(nt, "transpose")
    values = nt._nt_values.transpose(nt._column(d0), nt._column(d1))
    return _with_values(nt, values, r)


def _unflatten(nt, dim, sizes):
    """unflatten of a regular dim (matches `Tensor.unflatten`)."""
    return _with_values(nt, nt._nt_values.unflatten(_regular_dim(nt, dim, "unflatten"), sizes),
                        nt._nt_ridx)


def _flatten(nt, start_dim=0, end_dim=-1):
    """flatten of regular dims after the ragged one (matches `Tensor.flatten`)."""
    start, end = (_regular_dim(nt, d, "flatten") for d in (start_dim, end_dim))
    if nt._nt_ridx > (start_dim % nt.dim()):
        raise _unsupported(nt, "flatten")
    return _with_values(nt, nt._nt_values.flatten(start, end), nt._nt_ridx)


_SHAPE_OPS = {"transpose": _transpose, "unflatten": _unflatten, "flatten": _flatten}


def _sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
          enable_gqa=False):
    """Attention of jagged (B, H, j, D) tensors: each sequence attends over its own keys (the
    padded batch with the padding keys masked out), gathered back to query's structure."""
    nts = (query, key, value)
    if is_causal or attn_mask is not None or any(
            not isinstance(t, NestedTensor) or t.dim() != 4 or t._nt_ridx != 2 for t in nts):
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found.")
    _warn_nested_prototype()  # torch runs its math kernel on strided nested tensors
    q, k, v = (to_padded(t, 0.0) for t in nts)  # (B, H, L, D)
    key_lengths = key._nt_sizes[:, 0]
    longest = int(k.shape[2])
    mask = Tensor._make(xp.arange(longest)[None, None, None, :]
                        < key_lengths[:, None, None, None])
    out = scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p,
                                       scale=scale).transpose(1, 2)  # (B, Lq, H, Dv)
    lengths = query._nt_sizes[:, 0]
    batch, rows_per = int(out.shape[0]), int(out.shape[1])
    local = xp.arange(int(lengths.sum())) - xp.repeat(xp.cumsum(lengths) - lengths, lengths)
    index = xp.repeat(xp.arange(batch), lengths) * rows_per + local
    values = out.reshape((batch * rows_per,) + tuple(out.shape[2:]))[Tensor._make(index)]
    return _with_values(query, values, 2, "TransposeBackward0", home=1)


class NestedTensorFromTensorList(Op):
    """buffer = the components flattened end to end;  g_i = its slice of gy, reshaped."""

    @staticmethod
    def forward(ctx, *tensors):
        ctx.shapes = [t._data.shape for t in tensors]
        if not tensors:
            return xp.zeros(0, dtype=xp.float32)
        return xp.concatenate([t._data.reshape(-1) for t in tensors])

    @staticmethod
    def backward(ctx, gy):
        sizes = [int(xp.prod(shape)) for shape in ctx.shapes]
        pieces = xp.split(gy._data, xp.cumsum(sizes)[:-1])
        return tuple(Tensor._make(p.reshape(shape)) for p, shape in zip(pieces, ctx.shapes))


class ToPaddedTensor(Op):
    """out = padding everywhere, the buffer's elements at their components' places;
    g_values = gy at those places."""

    @staticmethod
    def forward(ctx, values, index, shape, padding):
        out = xp.full(int(xp.prod(shape)), padding, dtype=values._data.dtype)
        kept = index >= 0  # a jagged output_size may truncate components
        out[index[kept]] = values._data.reshape(-1)[kept]
        ctx.index, ctx.kept, ctx.values_shape = index, kept, values._data.shape
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        g = xp.zeros(ctx.index.shape, dtype=gy._data.dtype)
        g[ctx.kept] = xp.ascontiguousarray(gy._data).reshape(-1)[ctx.index[ctx.kept]]
        return Tensor._make(g.reshape(ctx.values_shape)), None, None, None


def padded_index(sizes, offsets_elements, shape):
    """The flat position in a padded (B, *shape[1:]) tensor of each buffer element."""
    counts = offsets_elements[1:] - offsets_elements[:-1]
    component = xp.repeat(xp.arange(len(counts)), counts)
    local = xp.arange(int(offsets_elements[-1])) - offsets_elements[:-1][component]
    position = component
    own = sizes[component]  # each element's component shape
    strides_in = xp.cumprod(own[:, ::-1], axis=1)[:, ::-1]
    kept = xp.ones(len(local), dtype=bool)  # a jagged output_size may cut components short
    for d in range(sizes.shape[1]):  # a loop over dims, not elements
        below = strides_in[:, d + 1] if d + 1 < sizes.shape[1] else 1
        coordinate = (local // below) % own[:, d]
        kept &= coordinate < shape[d + 1]
        position = position * shape[d + 1] + coordinate
    return xp.where(kept, position, -1)


def to_padded(nt, padding, output_size=None):
    """The padded dense tensor (matches `torch.nested.to_padded_tensor`)."""
    sizes = nt._nt_sizes
    shape = [len(sizes)] + [int(n) for n in (sizes.max(axis=0) if len(sizes)
                                              else xp.zeros(sizes.shape[1], xp.int64))]
    if output_size is not None and nt.layout is jagged:  # only the ragged dim; may truncate
        shape[1] = int(output_size[1])
    elif output_size is not None:
        output_size = [int(n) for n in output_size]
        if len(output_size) != len(shape) or any(o < s for o, s in zip(output_size, shape)):
            raise RuntimeError("Value in output_size is less than NestedTensor padded size. "
                               "Truncation is not supported.")
        shape = output_size
    element_offsets = xp.concatenate([xp.zeros(1, xp.int64),
                                      xp.cumsum(sizes.prod(axis=1))]).astype(xp.int64)
    index = padded_index(sizes, element_offsets, shape)
    out = ToPaddedTensor.apply(nt._nt_values, index, tuple(shape), padding)
    return out if nt._nt_ridx == 1 else out.movedim(1, nt._nt_ridx)


def pack(tensors, nt_layout):
    """Concatenate dense tensors into one buffer (autograd flows to them, through torch's node
    names: NestedViewFromJaggedBackward0 over a cat, NestedTensorFromTensorListBackward0)."""
    sizes = xp.array([tuple(t.shape) for t in tensors], dtype=xp.int64).reshape(
        len(tensors), -1)
    ragged_idx = 1
    if nt_layout is jagged:
        ragged = xp.flatnonzero((sizes != sizes[:1]).any(axis=0))
        if len(ragged) > 1:
            raise RuntimeError(
                "Cannot represent given tensor list as a nested tensor with the jagged layout. "
                "Note that the jagged layout only allows for a single ragged dimension. For "
                "example: (B, *, D_0, D_1, ..., D_N), with ragged * dim.")
        if len(ragged) and ragged[0] != 0:  # stored ragged-first, shown at dim ragged + 1
            ragged_idx = int(ragged[0]) + 1
            tensors = [t.movedim(ragged_idx - 1, 0) for t in tensors]
            sizes = xp.array([tuple(t.shape) for t in tensors], dtype=xp.int64)
        lengths = sizes[:, 0]
        values = cat(list(tensors))
        if values.grad_fn is not None:
            values = _named("NestedViewFromJaggedBackward0").apply(values, tuple(values.shape))
    else:
        lengths = sizes.prod(axis=1) if sizes.shape[1] else xp.ones(len(tensors), xp.int64)
        values = NestedTensorFromTensorList.apply(*tensors)
    offsets = xp.concatenate([xp.zeros(1, xp.int64), xp.cumsum(lengths)]).astype(xp.int64)
    return values, sizes, offsets, ragged_idx


_OPS.update(dispatch=dispatch, named=_named, to_padded_tensor=to_padded)
