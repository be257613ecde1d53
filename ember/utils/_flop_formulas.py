"""The FLOP formulas of `ember.utils.flop_counter`, per aten op, and their registry.

Ported from PyTorch's torch/utils/flop_counter.py (BSD-3-Clause license, Copyright (c)
Facebook, Inc. and its affiliates and the PyTorch contributors): the formulas, the nested-tensor
shape unpacking of the attention kernels and `register_flop_formula` are PyTorch's, with its
comments. Left out: the flex-attention and Triton-kernel formulas (ember has no higher-order
operators nor Triton).

NOTE [aten packets of the flop counter]
The registry is keyed by overload packets, which print as PyTorch's (`aten.mm`). `aten_packet`
gives ember's own packet where `ember.ops.aten` declares the op, and otherwise one made here
(the same class, so it prints, compares and hashes alike), once per name: calling it runs
`ember.<name>` when ember has that function. `aten` below is that namespace
(`aten.mm`, `aten.convolution_backward`).
"""

from functools import wraps
from math import prod

from ember._library.ops import OpOverloadPacket as _CustomPacket
from ember._registry import FUNCTIONS
from ember._device import Size
from ember._tensor import Tensor
from ember.ops import aten as _ember_aten
from ember.ops.aten import _OpOverloadPacket
from ember.utils._pytree import tree_leaves, tree_map

__all__ = ["register_flop_formula"]

_PACKETS = {}  # aten op name -> its packet (NOTE [aten packets of the flop counter])


def aten_packet(name: str):
    """The packet of aten op `name`: ember.ops.aten's, else one made (and kept) here."""
    found = _PACKETS.get(name)
    if found is None:
        found = getattr(_ember_aten, name, None)
        if not isinstance(found, _OpOverloadPacket):
            found = _OpOverloadPacket(name, default=_calling(name))
        _PACKETS[name] = found
    return found


def _calling(name):
    """The default overload of a packet made here: `ember.<name>`, where ember has it."""

    def default(*args, **kwargs):
        """The op, by ember's function of that name."""
        function = FUNCTIONS.get(name)
        if function is None:
            raise NotImplementedError(f"ember has no kernel for aten.{name} (the flop counter "
                                      "knows it by name)")
        return function(*args, **kwargs)

    return default


class _Aten:
    """`torch.ops.aten` as the flop counter sees it: `aten.mm` is `aten_packet("mm")`."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return aten_packet(name)


aten = _Aten()


class ShapeOnly:
    """A tensor's shape and dtype without values: what a formula is given for an operand PyTorch
    makes and ember does not (a reshaped view, a gradient: NOTE [An ember op as aten calls] in
    ember/utils/_flop_ops.py)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype=None):
        self.shape, self.dtype = Size(shape), dtype

    def size(self, dim=None):
        """The shape, or one of its sizes."""
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        """The number of dims."""
        return len(self.shape)

    def numel(self) -> int:
        """The number of elements."""
        return prod(self.shape)

    def __repr__(self):
        return f"ShapeOnly({list(self.shape)})"


def get_shape(i):
    """A tensor's shape; anything else as it is."""
    if isinstance(i, (Tensor, ShapeOnly)):
        return i.shape
    return i


flop_registry: dict = {}


def shape_wrapper(f):
    """f called with the shapes of the tensors it is given (and `out_shape`)."""

    @wraps(f)
    def nf(*args, out_val=None, **kwargs):
        args, kwargs, out_shape = tree_map(get_shape, (args, kwargs, out_val))
        return f(*args, out_shape=out_shape, **kwargs)

    return nf


def register_flop_formula(targets, get_raw=False):
    """Decorator: register the FLOP formula of the ops `targets` (a packet or a list)."""

    def register_fun(flop_formula):
        """Register flop_formula (shape-wrapped unless get_raw) for each target."""
        if not get_raw:
            flop_formula = shape_wrapper(flop_formula)

        def register(target) -> None:
            if not isinstance(target, (_OpOverloadPacket, _CustomPacket)):
                raise ValueError(
                    f"register_flop_formula(targets): expected each target to be "
                    f"OpOverloadPacket (i.e. torch.ops.mylib.foo), JitFunction, "
                    f"or HigherOrderOperator"
                    f", got {target} which is of type {type(target)}")
            if target in flop_registry:
                raise RuntimeError(f"duplicate registrations for {target}")
            flop_registry[target] = flop_formula

        # To handle allowing multiple aten_ops at once
        for target in tree_leaves(targets):
            register(target)

        return flop_formula

    return register_fun


@register_flop_formula(aten.mm)
def mm_flop(a_shape, b_shape, *args, out_shape=None, **kwargs) -> int:
    """Count flops for matmul."""
    # Inputs should be a list of length 2.
    # Inputs contains the shapes of two matrices.
    m, k = a_shape
    k2, n = b_shape
    if k != k2:
        raise AssertionError(f"matmul: inner dimensions must match (k == k2), got {k} and {k2}")
    # NB(chilli): Should be 2 * k - 1 technically for FLOPs.
    return m * n * 2 * k


@register_flop_formula(aten.addmm)
def addmm_flop(self_shape, a_shape, b_shape, out_shape=None, **kwargs) -> int:
    """Count flops for addmm."""
    return mm_flop(a_shape, b_shape)


@register_flop_formula(aten.bmm)
def bmm_flop(a_shape, b_shape, out_shape=None, **kwargs) -> int:
    """Count flops for the bmm operation."""
    # Inputs should be a list of length 2.
    # Inputs contains the shapes of two tensor.
    b, m, k = a_shape
    b2, k2, n = b_shape
    if b != b2:
        raise AssertionError(f"bmm: batch dimensions must match (b == b2), got {b} and {b2}")
    if k != k2:
        raise AssertionError(f"bmm: inner dimensions must match (k == k2), got {k} and {k2}")
    # NB(chilli): Should be 2 * k - 1 technically for FLOPs.
    flop = b * m * n * 2 * k
    return flop


@register_flop_formula(aten.baddbmm)
def baddbmm_flop(self_shape, a_shape, b_shape, out_shape=None, **kwargs) -> int:
    """Count flops for the baddbmm operation."""
    # Inputs should be a list of length 3.
    # Inputs contains the shapes of three tensors.
    return bmm_flop(a_shape, b_shape)


@register_flop_formula(aten._scaled_mm)
def _scaled_mm_flop(a_shape, b_shape, scale_a_shape, scale_b_shape, bias_shape=None,
                    scale_result_shape=None, out_dtype=None, use_fast_accum=False,
                    out_shape=None, **kwargs) -> int:
    """Count flops for _scaled_mm."""
    return mm_flop(a_shape, b_shape)


def conv_flop_count(x_shape, w_shape, out_shape, transposed: bool = False) -> int:
    """Count flops for convolution.

    Note only multiplication is
    counted. Computation for bias are ignored.
    Flops for a transposed convolution are calculated as
    flops = (x_shape[2:] * prod(w_shape) * batch_size).
    Args:
        x_shape (list(int)): The input shape before convolution.
        w_shape (list(int)): The filter shape.
        out_shape (list(int)): The output shape after convolution.
        transposed (bool): is the convolution transposed
    Returns:
        int: the number of flops
    """
    batch_size = x_shape[0]
    conv_shape = (x_shape if transposed else out_shape)[2:]
    c_out, c_in, *filter_size = w_shape

    # General idea here is that for a regular conv, for each point in the output
    # spatial dimension we convolve the filter with something (hence
    # `prod(conv_shape) * prod(filter_size)` ops). Then, this gets multiplied by
    # 1. batch_size, 2. the cross product of input and weight channels.
    #
    # For the transpose, it's not each point in the *output* spatial dimension but
    # each point in the *input* spatial dimension.

    # NB(chilli): I don't think this properly accounts for padding :think:
    # NB(chilli): Should be 2 * c_in - 1 technically for FLOPs.
    flop = prod(conv_shape) * prod(filter_size) * batch_size * c_out * c_in * 2
    return flop


@register_flop_formula([aten.convolution, aten._convolution, aten.cudnn_convolution,
                        aten._slow_conv2d_forward, aten.convolution_overrideable])
def conv_flop(x_shape, w_shape, _bias, _stride, _padding, _dilation, transposed, *args,
              out_shape=None, **kwargs) -> int:
    """Count flops for convolution."""
    return conv_flop_count(x_shape, w_shape, out_shape, transposed=transposed)


@register_flop_formula(aten.convolution_backward)
def conv_backward_flop(grad_out_shape, x_shape, w_shape, _bias, _stride, _padding, _dilation,
                       transposed, _output_padding, _groups, output_mask, out_shape,
                       **kwargs) -> int:
    """Count flops for the input and weight gradients of a convolution.

    grad_inp is conv_transpose(grad_out, weight) (conv(grad_out, weight) for a transposed
    conv); grad_weight is conv(inp, grad_out) (conv(grad_out, inp) for a transposed conv), with
    the batch and channel dims transposed: PyTorch's derivation, in its source, says why.
    """

    def t(shape):
        return [shape[1], shape[0]] + list(shape[2:])
    flop_count = 0

    # grad_inp as conv_transpose(grad_out, weight)
    if output_mask[0]:
        grad_input_shape = get_shape(out_shape[0])
        flop_count += conv_flop_count(grad_out_shape, w_shape, grad_input_shape, not transposed)

    if output_mask[1]:
        grad_weight_shape = get_shape(out_shape[1])
        if transposed:
            # grad_weight of transposed conv as conv(grad_out, inp)
            flop_count += conv_flop_count(t(grad_out_shape), t(x_shape), t(grad_weight_shape),
                                          transposed=False)
        else:
            # grad_weight as conv(inp, grad_out)
            flop_count += conv_flop_count(t(x_shape), t(grad_out_shape), t(grad_weight_shape),
                                          transposed=False)

    return flop_count


def sdpa_flop_count(query_shape, key_shape, value_shape):
    """
    Count flops for self-attention.

    Supports GQA (grouped-query attention) where key/value have fewer heads
    than the query. The kernel broadcasts KV heads to match query heads.
    """
    b, h_q, s_q, d_q = query_shape
    _b2, h_kv, s_k, _d2 = key_shape
    _b3, _h3, _s3, d_v = value_shape
    if not (b == _b2 == _b3 and h_kv == _h3 and d_q == _d2 and s_k == _s3):
        raise AssertionError(
            f"sdpa_flop_count: query/key/value shapes are incompatible: "
            f"q={query_shape}, k={key_shape}, v={value_shape}"
        )
    if h_q < h_kv or h_q % h_kv != 0:
        raise AssertionError(
            f"sdpa_flop_count: query heads ({h_q}) must be a multiple of "
            f"key/value heads ({h_kv})"
        )
    total_flops = 0
    # q: [b, h_q, s_q, d_q] @ k: [b, h_q, d_q, s_k] -> scores: [b, h_q, s_q, s_k]
    total_flops += bmm_flop((b * h_q, s_q, d_q), (b * h_q, d_q, s_k))
    # scores: [b, h_q, s_q, s_k] @ v: [b, h_q, s_k, d_v] -> out: [b, h_q, s_q, d_v]
    total_flops += bmm_flop((b * h_q, s_q, s_k), (b * h_q, s_k, d_v))
    return total_flops


@register_flop_formula([aten._scaled_dot_product_efficient_attention,
                        aten._scaled_dot_product_flash_attention,
                        aten._scaled_dot_product_cudnn_attention])
def sdpa_flop(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs) -> int:
    """Count flops for self-attention."""
    # NB: We aren't accounting for causal attention here
    return sdpa_flop_count(query_shape, key_shape, value_shape)


def _offsets_to_lengths(offsets, max_len):
    """The lengths between consecutive offsets (ember has no fake tensors to guess them)."""
    return offsets.diff().tolist()


def _unpack_flash_attention_nested_shapes(*, query, key, value, grad_out=None, cum_seq_q,
                                          cum_seq_k, max_q, max_k):
    """
    Given inputs to a flash_attention_(forward|backward) kernel, this will handle behavior for
    NestedTensor inputs by effectively unbinding the NestedTensor and yielding the shapes for
    each batch element.

    In the case that this isn't a NestedTensor kernel, then it just yields the original shapes.
    """
    if cum_seq_q is not None:
        # This means we should be dealing with a Nested Jagged Tensor query.
        # The inputs will have shape                  (sum(sequence len), heads, dimension)
        # In comparison, non-Nested inputs have shape (batch, heads, sequence len, dimension)
        # To deal with this, we convert to a shape of (batch, heads, max_seq_len, dimension)
        # So the flops calculation in this case is an overestimate of the actual flops.
        _check_jagged(key, value, grad_out, query, 3, "sdpa_flop_count")
        _, h_q, d_q = query.shape
        _, h_k, d_k = key.shape
        _, h_v, d_v = value.shape
        _check_offsets(cum_seq_q, cum_seq_k, "sdpa_flop_count", "cum_seq_q", "cum_seq_k")
        seq_q_lengths = _offsets_to_lengths(cum_seq_q, max_q)
        seq_k_lengths = _offsets_to_lengths(cum_seq_k, max_k)
        yield from _per_sequence(seq_q_lengths, seq_k_lengths, h_q, d_q, h_k, d_k, h_v, d_v,
                                 grad_out)
        return

    yield query.shape, key.shape, value.shape, grad_out.shape if grad_out is not None else None


def _unpack_efficient_attention_nested_shapes(*, query, key, value, grad_out=None,
                                              cu_seqlens_q, cu_seqlens_k, max_seqlen_q,
                                              max_seqlen_k):
    """
    Given inputs to a efficient_attention_(forward|backward) kernel, this will handle behavior
    for NestedTensor inputs by effectively unbinding the NestedTensor and yielding the shapes for
    each batch element.

    In the case that this isn't a NestedTensor kernel, then it just yields the original shapes.
    """
    if cu_seqlens_q is not None:
        # Unlike flash_attention_forward, we get a 4D tensor instead of a 3D tensor for
        # efficient attention.
        name = "_unpack_efficient_attention_nested_shapes"
        _check_jagged(key, value, grad_out, query, 4, name)
        _, _, h_q, d_q = query.shape
        _, _, h_k, d_k = key.shape
        _, _, h_v, d_v = value.shape
        _check_offsets(cu_seqlens_q, cu_seqlens_k, name, "cu_seqlens_q", "cu_seqlens_k")
        seqlens_q = _offsets_to_lengths(cu_seqlens_q, max_seqlen_q)
        seqlens_k = _offsets_to_lengths(cu_seqlens_k, max_seqlen_k)
        yield from _per_sequence(seqlens_q, seqlens_k, h_q, d_q, h_k, d_k, h_v, d_v, grad_out)
        return

    yield query.shape, key.shape, value.shape, grad_out.shape if grad_out is not None else None


def _check_jagged(key, value, grad_out, query, rank, name):
    """PyTorch's checks of a jagged attention's key, value and grad_out."""
    if len(key.shape) != rank:
        raise AssertionError(f"{name}: expected key.shape to be {rank}-dimensional")
    if len(value.shape) != rank:
        raise AssertionError(f"{name}: expected value.shape to be {rank}-dimensional")
    if grad_out is not None and grad_out.shape != query.shape:
        raise AssertionError(f"{name}: grad_out.shape must match query.shape when provided")


def _check_offsets(offsets_q, offsets_k, name, q_name, k_name):
    """PyTorch's checks of a jagged attention's offsets."""
    if offsets_k is None:
        raise AssertionError(f"{name}: {k_name} must not be None")
    if offsets_q.shape != offsets_k.shape:
        raise AssertionError(f"{name}: {q_name} and {k_name} must have the same shape")


def _per_sequence(lengths_q, lengths_k, h_q, d_q, h_k, d_k, h_v, d_v, grad_out):
    """The (query, key, value, grad_out) shapes of each sequence of a jagged batch."""
    if len(lengths_q) != len(lengths_k):
        raise ValueError("zip() arguments have different lengths")
    for len_q, len_k in zip(lengths_q, lengths_k):
        new_query_shape = (1, h_q, len_q, d_q)
        new_key_shape = (1, h_k, len_k, d_k)
        new_value_shape = (1, h_v, len_k, d_v)
        new_grad_out_shape = new_query_shape if grad_out is not None else None
        yield new_query_shape, new_key_shape, new_value_shape, new_grad_out_shape


@register_flop_formula(aten._flash_attention_forward, get_raw=True)
def _flash_attention_forward_flop(query, key, value, cum_seq_q, cum_seq_k, max_q, max_k, *args,
                                  out_shape=None, **kwargs) -> int:
    """Count flops for self-attention."""
    # NB: We aren't accounting for causal attention here
    # in case this is a nested tensor, we unpack the individual batch elements
    # and then sum the flops per batch element
    sizes = _unpack_flash_attention_nested_shapes(
        query=query, key=key, value=value, cum_seq_q=cum_seq_q, cum_seq_k=cum_seq_k,
        max_q=max_q, max_k=max_k)
    return sum(sdpa_flop_count(query_shape, key_shape, value_shape)
               for query_shape, key_shape, value_shape, _ in sizes)


@register_flop_formula(aten._efficient_attention_forward, get_raw=True)
def _efficient_attention_forward_flop(query, key, value, bias, cu_seqlens_q, cu_seqlens_k,
                                      max_seqlen_q, max_seqlen_k, *args, **kwargs) -> int:
    """Count flops for self-attention."""
    # NB: We aren't accounting for causal attention here
    # in case this is a nested tensor, we unpack the individual batch elements
    # and then sum the flops per batch element
    sizes = _unpack_efficient_attention_nested_shapes(
        query=query, key=key, value=value, cu_seqlens_q=cu_seqlens_q,
        cu_seqlens_k=cu_seqlens_k, max_seqlen_q=max_seqlen_q, max_seqlen_k=max_seqlen_k)
    return sum(sdpa_flop_count(query_shape, key_shape, value_shape)
               for query_shape, key_shape, value_shape, _ in sizes)


def sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape):
    """Count flops for the backward of self-attention (the scores recomputed)."""
    b, h_q, s_q, d_q = query_shape
    _b2, h_kv, s_k, _d2 = key_shape
    _b3, _h3, _s3, d_v = value_shape
    _b4, _h4, _s4, _d4 = grad_out_shape
    if not (b == _b2 == _b3 == _b4 and h_kv == _h3 and h_q == _h4):
        raise AssertionError(
            "sdpa_backward_flop_count: batch/heads mismatch among tensors"
        )
    if h_q < h_kv or h_q % h_kv != 0:
        raise AssertionError(
            f"sdpa_backward_flop_count: query heads ({h_q}) must be a multiple of "
            f"key/value heads ({h_kv})"
        )
    if not (d_q == _d2 and d_v == _d4 and s_k == _s3 and s_q == _s4):
        raise AssertionError(
            "sdpa_backward_flop_count: grad_out/value/key/query shapes are incompatible"
        )
    total_flops = 0
    # Step 1: We recompute the scores matrix.
    # q: [b, h_q, s_q, d_q] @ k: [b, h_q, d_q, s_k] -> scores: [b, h_q, s_q, s_k]
    total_flops += bmm_flop((b * h_q, s_q, d_q), (b * h_q, d_q, s_k))

    # Step 2: We propagate the gradients through the score @ v operation.
    # gradOut: [b, h_q, s_q, d_v] @ v: [b, h_q, d_v, s_k] -> gradScores: [b, h_q, s_q, s_k]
    total_flops += bmm_flop((b * h_q, s_q, d_v), (b * h_q, d_v, s_k))
    # scores: [b, h_q, s_k, s_q] @ gradOut: [b, h_q, s_q, d_v] -> gradV: [b, h_q, s_k, d_v]
    total_flops += bmm_flop((b * h_q, s_k, s_q), (b * h_q, s_q, d_v))

    # Step 3: We propagate the gradients through the k @ v operation
    # gradScores: [b, h_q, s_q, s_k] @ k: [b, h_q, s_k, d_q] -> gradQ: [b, h_q, s_q, d_q]
    total_flops += bmm_flop((b * h_q, s_q, s_k), (b * h_q, s_k, d_q))
    # q: [b, h_q, d_q, s_q] @ gradScores: [b, h_q, s_q, s_k] -> gradK: [b, h_q, d_q, s_k]
    total_flops += bmm_flop((b * h_q, d_q, s_q), (b * h_q, s_q, s_k))
    return total_flops


@register_flop_formula([aten._scaled_dot_product_efficient_attention_backward,
                        aten._scaled_dot_product_flash_attention_backward,
                        aten._scaled_dot_product_cudnn_attention_backward])
def sdpa_backward_flop(grad_out_shape, query_shape, key_shape, value_shape, *args,
                       out_shape=None, **kwargs) -> int:
    """Count flops for self-attention backward."""
    return sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape)


@register_flop_formula(aten._flash_attention_backward, get_raw=True)
def _flash_attention_backward_flop(grad_out, query, key, value, out, logsumexp, cum_seq_q,
                                   cum_seq_k, max_q, max_k, *args, **kwargs) -> int:
    """Count flops for the flash attention kernel's backward."""
    # in case this is a nested tensor, we unpack the individual batch elements
    # and then sum the flops per batch element
    shapes = _unpack_flash_attention_nested_shapes(
        query=query, key=key, value=value, grad_out=grad_out, cum_seq_q=cum_seq_q,
        cum_seq_k=cum_seq_k, max_q=max_q, max_k=max_k)
    return sum(sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape)
               for query_shape, key_shape, value_shape, grad_out_shape in shapes)


@register_flop_formula(aten._efficient_attention_backward, get_raw=True)
def _efficient_attention_backward_flop(grad_out, query, key, value, bias, out, cu_seqlens_q,
                                       cu_seqlens_k, max_seqlen_q, max_seqlen_k, *args,
                                       **kwargs) -> int:
    """Count flops for the memory-efficient attention kernel's backward."""
    # in case this is a nested tensor, we unpack the individual batch elements
    # and then sum the flops per batch element
    shapes = _unpack_efficient_attention_nested_shapes(
        query=query, key=key, value=value, grad_out=grad_out, cu_seqlens_q=cu_seqlens_q,
        cu_seqlens_k=cu_seqlens_k, max_seqlen_q=max_seqlen_q, max_seqlen_k=max_seqlen_k)
    return sum(sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape)
               for query_shape, key_shape, value_shape, grad_out_shape in shapes)
