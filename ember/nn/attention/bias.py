"""Causal biases that scaled_dot_product_attention takes as attn_mask (matches
`torch.nn.attention.bias`).

NOTE [CausalBias dispatch]
PyTorch's CausalBias is a Tensor subclass whose __torch_function__ catches
`F.scaled_dot_product_attention(..., attn_mask=bias)` and runs `CausalBias._dispatch` instead.
ember has no __torch_function__: CausalBias subclasses `_sdp.SelfDispatchingMask`, which ember's
scaled_dot_product_attention recognises and hands the call to. `_dispatch` then does what
PyTorch's does on CPU: the upper-left variant (and any square one) is is_causal=True attention;
lower-right with q_len != kv_len has no fused CPU kernel, so it warns why if
`WARN_FOR_UNFUSED_KERNELS` is set and attends with the materialized boolean mask. The tensor
data under a CausalBias is PyTorch's too: an uninitialised float tensor of shape (variant,
seq_len_q, seq_len_kv), an artefact of `Tensor.__new__` receiving the constructor's arguments.
"""


from ember._warnings import warn as _warn
from enum import IntEnum, auto

from ember import _dtype
from ember._backend import xp
from ember._device import CPU
from ember.nn.attention import _raise_kernel_warnings
from ember.nn.attention._sdp import (SDPAParams, SelfDispatchingMask, can_use_efficient_attention,
                                     can_use_flash_attention, scaled_dot_product_attention)
from ember.nn.attention._utils import _validate_sdpa_input
from ember.ops.creation import ones
from ember.ops.rearrange import tril

__all__ = ["causal_upper_left", "causal_lower_right", "CausalVariant", "CausalBias"]


class CausalVariant(IntEnum):
    """The causal patterns: UPPER_LEFT, row i sees keys 0..i (`tril(ones(L, S))`); LOWER_RIGHT,
    aligned to the bottom-right corner (`tril(ones(L, S), diagonal=S - L)`). They agree when
    L == S."""

    UPPER_LEFT = auto()
    LOWER_RIGHT = auto()


class CausalBias(SelfDispatchingMask):
    """A causal (triangular) attention bias, computed without materializing it where possible
    (matches `torch.nn.attention.bias.CausalBias`; NOTE [CausalBias dispatch])."""

    def __new__(cls, *args, **kwargs):
        """The tensor PyTorch's Tensor.__new__ makes of the arguments (NOTE above)."""
        shape = args if args and all(isinstance(a, int) for a in args) else (0,)
        array = xp.empty(tuple(int(a) for a in shape),
                         dtype=_dtype.get_default_dtype().numpy)
        return cls._make(array)

    def __init__(self, variant: CausalVariant, seq_len_q: int, seq_len_kv: int) -> None:
        """A bias of `variant` for seq_len_q queries and seq_len_kv keys; warns that lower-right
        with more queries than keys gives NaN rows."""
        if not isinstance(variant, CausalVariant):
            raise AssertionError(f"variant must be a CausalVariant, got {type(variant).__name__}")
        super().__init__()
        self.variant = variant
        self.seq_len_q = seq_len_q
        self.seq_len_kv = seq_len_kv
        if seq_len_q > seq_len_kv and variant == CausalVariant.LOWER_RIGHT:
            _warn("Lower right causal bias will produce NaNs in the output when "
                          "seq_len_q > seq_len_kv!", stacklevel=2)

    def _upper_left(self, device):
        """The upper-left bias as a boolean (seq_len_q, seq_len_kv) tensor."""
        return tril(ones(self.seq_len_q, self.seq_len_kv, device=device, dtype=_dtype.bool))

    def _lower_right(self, device):
        """The lower-right bias as a boolean (seq_len_q, seq_len_kv) tensor."""
        diagonal_offset = self.seq_len_kv - self.seq_len_q
        return tril(ones(self.seq_len_q, self.seq_len_kv, device=device, dtype=_dtype.bool),
                    diagonal=diagonal_offset)

    def _materialize(self, device=None):
        """The bias as a boolean tensor (True: attend), on `device` (CPU by default)."""
        if device is None:
            device = CPU
        if self.variant == CausalVariant.UPPER_LEFT:
            return self._upper_left(device)
        if self.variant == CausalVariant.LOWER_RIGHT:
            return self._lower_right(device)
        return None

    @staticmethod
    def _dispatch(query, key, value, attn_mask, dropout_p=0.0, is_causal=False, scale=None,
                  enable_gqa=False):
        """scaled_dot_product_attention with this causal bias as mask (NOTE above)."""
        if is_causal:
            raise ValueError("CausalBias should not be used with causal=True")
        if attn_mask.seq_len_q == attn_mask.seq_len_kv \
                or attn_mask.variant == CausalVariant.UPPER_LEFT:
            return scaled_dot_product_attention(query, key, value, None, dropout_p, True, scale,
                                                enable_gqa, stacklevel=2)
        if attn_mask.variant == CausalVariant.LOWER_RIGHT:
            _validate_sdpa_input(query, key, value, None, dropout_p, is_causal, scale)
            params = SDPAParams(query, key, value, None, dropout_p, is_causal, enable_gqa)
            if can_use_flash_attention(params) or can_use_efficient_attention(params):
                raise AssertionError("unreachable: ember has no fused CUDA kernels")
            _raise_kernel_warnings(params)
            # the only CPU route for lower-right is the materialized mask
            return scaled_dot_product_attention(
                query, key, value, attn_mask._materialize(query.device), dropout_p, False,
                scale, enable_gqa, stacklevel=2)
        raise ValueError("CausalBias.variant must be a CausalVariant type, but found: "
                         f"{attn_mask.variant}")

    def __repr__(self) -> str:
        """The materialized mask's repr, as PyTorch prints a CausalBias."""
        return self._materialize().__repr__()

    __str__ = __repr__


def causal_upper_left(*size) -> CausalBias:
    """An upper-left causal bias of size (seq_len_q, seq_len_kv): is_causal=True's mask."""
    if len(size) != 2:
        raise AssertionError("causal_upper_left only supports 2D tensors")
    seq_len_q, seq_len_kv = size
    return CausalBias(CausalVariant.UPPER_LEFT, seq_len_q, seq_len_kv)


def causal_lower_right(*size) -> CausalBias:
    """A lower-right causal bias of size (seq_len_q, seq_len_kv): the last query sees every
    key."""
    if len(size) != 2:
        raise AssertionError("causal_lower_right only supports 2D tensors")
    seq_len_q, seq_len_kv = size
    return CausalBias(CausalVariant.LOWER_RIGHT, seq_len_q, seq_len_kv)
