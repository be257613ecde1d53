"""Which scaled_dot_product_attention backends may run, and what a CPU build of PyTorch does
when the allowed ones can't serve a call (the state behind `ember.nn.attention.sdpa_kernel`).

NOTE [SDPA backends on CPU]
PyTorch's CPU attention knows two kernels, flash and math, tried in that order whatever the
priority order says (`select_sdp_backend_cpp`). Math takes any input; flash only inputs that
pass `use_flash_attention_cpp`'s gates. With neither enabled, scaled_dot_product_attention
raises "No viable backend"; with flash alone and a gate failing, it warns "Flash attention kernel
not used because:" and the first failing gate's reason (some gates give none), then raises "No
available kernel". The efficient, cuDNN and overrideable backends are CUDA ones: on CPU they
count for nothing. ember computes every allowed call with its one attention op (the results are
the math and flash kernels' to float rounding), so only the errors and warnings are modelled.
The flash, efficient, math and cuDNN switches are `ember.backends.cuda`'s.
"""

import enum

from ember._warnings import warn as _warn
from ember._dtype import bool as _bool
from ember._tensor import Tensor
from ember.backends import cuda as _cuda
from ember.ops.attention import _word, scaled_dot_product_attention as _sdpa


class SDPBackend(enum.Enum):
    """The attention backends (matches `torch.nn.attention.SDPBackend`, PyTorch's C++ enum:
    int() gives the value, members don't compare equal to ints)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __int__(self):
        """The member's value."""
        return self.value

    __index__ = __int__

    def __hash__(self):
        """The value's hash, as pybind11 enums hash."""
        return hash(self.value)  # pybind11 enums hash as their value


SDPBackend.__module__ = "ember.nn.attention"

# PyTorch's flags that ember.backends.cuda lacks: the overrideable backend (on by default) and
# the priority order of the backends' values (CPU ignores it, NOTE above).
_STATE = {"overrideable": True, "priority": [1, 2, 0, 3, 4]}
_SWITCHES = {
    "cudnn": (_cuda.cudnn_sdp_enabled, _cuda.enable_cudnn_sdp),
    "flash": (_cuda.flash_sdp_enabled, _cuda.enable_flash_sdp),
    "mem_efficient": (_cuda.mem_efficient_sdp_enabled, _cuda.enable_mem_efficient_sdp),
    "math": (_cuda.math_sdp_enabled, _cuda.enable_math_sdp),
    "overrideable": (lambda: _STATE["overrideable"],
                     lambda on: _STATE.__setitem__("overrideable", bool(on))),
}


def is_enabled(name: str) -> bool:
    """Whether backend `name` (cudnn, flash, mem_efficient, math, overrideable) is enabled."""
    return _SWITCHES[name][0]()


def set_enabled(name: str, enabled: bool) -> None:
    """Enable or disable backend `name` (torch._C._set_sdp_use_NAME)."""
    _SWITCHES[name][1](enabled)


def priority_order() -> list:
    """The backends' values in priority order (torch._C._get_sdp_priority_order)."""
    return list(_STATE["priority"])


def set_priority_order(order) -> None:
    """Set the priority order (torch._C._set_sdp_priority_order)."""
    _STATE["priority"] = [int(b) for b in order]


class SDPAParams:
    """The inputs of one attention call, as the backend checks take them (matches
    `torch.backends.cuda.SDPAParams`)."""

    def __init__(self, query, key, value, attn_mask, dropout, is_causal, enable_gqa):
        """Hold the call's inputs."""
        self.query, self.key, self.value, self.attn_mask = query, key, value, attn_mask
        self.dropout, self.is_causal, self.enable_gqa = float(dropout), is_causal, enable_gqa


def can_use_flash_attention(params: SDPAParams, debug: bool = False) -> bool:
    """False: the CUDA flash kernel needs a CUDA build (matches PyTorch's CPU build)."""
    return False


def can_use_efficient_attention(params: SDPAParams, debug: bool = False) -> bool:
    """False: the memory-efficient kernel is CUDA's (matches PyTorch's CPU build)."""
    return False


def can_use_cudnn_attention(params: SDPAParams, debug: bool = False) -> bool:
    """False: the cuDNN kernel is CUDA's (matches PyTorch's CPU build)."""
    return False


def is_flash_attention_available() -> bool:
    """False: no CUDA flash attention in this build."""
    return False


# ---- the CPU flash kernel's gates (use_flash_attention_cpp), each: None if it passes, else
# the reason PyTorch warns ("" for gates that fail silently) ------------------------------------
def _dropout_gate(q, k, v, mask, p):
    """No dropout."""
    return "Both fused kernels do not support non-zero dropout." if p.dropout > 0.0 else None


def _dims_gate(q, k, v, mask, p):
    """4-d query, key and value."""
    if q.ndim == k.ndim == v.ndim == 4:
        return None
    return ("All fused kernels requires query, key and value to be 4 dimensional, but got Query "
            f"dim: {q.ndim}, Key dim: {k.ndim}, Value dim: {v.ndim} instead.")


def _sizes(t) -> str:
    """A shape as PyTorch's C++ prints it."""
    return str(list(t.shape))


def _batch_heads_gate(q, k, v, mask, p):
    """One batch size; one head count, or grouped heads with enable_gqa."""
    if not q.shape[0] == k.shape[0] == v.shape[0]:
        return ("For dense inputs, both fused kernels require query, key and value to have the "
                f"same batch_size. Query.sizes(): {_sizes(q)}, Key.sizes(): {_sizes(k)}, "
                f"Value.sizes(): {_sizes(v)} instead. To broadcast dense inputs, try using "
                "unsqueeze and expand_to before passing them into the kernel.")
    hq, hk, hv = q.shape[-3], k.shape[-3], v.shape[-3]
    if p.enable_gqa:
        if hk != hv:
            return ("Both fused kernels require key and value to have the same num_heads and "
                    f"batch_size but got: Key sizes: {_sizes(k)}, Value sizes: {_sizes(v)}, "
                    f"Query sizes: {_sizes(q)} instead.")
        if hq % hk:
            return ("The number of heads in key/value must divide number of heads in query."
                    f"Got input Key sizes(): {hk}, Value sizes(): {hv}, Query sizes(): {hq} "
                    "instead.")
        return None
    if hq == hk == hv:
        return None
    return ("For dense input, both fused kernels require query, key and value to have the same "
            f"num_heads. Query.sizes(): {_sizes(q)}, Key sizes(): {_sizes(k)}, Value sizes(): "
            f"{_sizes(v)} instead. To broadcast dense inputs, try using unsqueeze and expand_to "
            "before passing them into the kernel.")


def _mask_gate(q, k, v, mask, p):
    """A mask without grad, 2-d or 4-d, broadcasting to the scores."""
    if mask is None:
        return None
    if mask.ndim < 2:  # PyTorch reads the mask's size(-2) first
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got "
                         "-2)")
    if mask.requires_grad or mask.shape[-2] not in (q.shape[2], 1) \
            or mask.shape[-1] not in (k.shape[2], 1):
        return ""  # fails without a reason
    if mask.ndim == 2 or (mask.ndim == 4 and mask.shape[0] in (1, q.shape[0])
                          and mask.shape[1] in (1, q.shape[1])):
        return None
    return ("Please use the following attn mask shapes: 2d - ({Q_seq_len, 1}  x {KV_seq_len, "
            "1}); 4d - ({Batch, 1} x {Num_heads, 1} x {Q_seq_len, 1}  x {KV_seq_len, 1})")


def _head_dim_gate(q, k, v, mask, p):
    """One head dim for query, key and value."""
    if q.shape[-1] == k.shape[-1] == v.shape[-1]:
        return None
    return ("Flash attention requires q,k,v to have the same last dimension. Got Query.size(-1): "
            f"{q.shape[-1]}, Key.size(-1): {k.shape[-1]}, Value.size(-1): {v.shape[-1]} "
            "instead.")


def _seq_len_gate(q, k, v, mask, p):
    """Non-empty sequences."""
    if q.shape[-2] and k.shape[-2]:
        return None
    return "All fused kernels do not support zero seq_len_q or seq_len_kv."


def _stride_gate(q, k, v, mask, p):
    """Unit strides along the head dim."""
    strides = [t.stride(-1) for t in (q, k, v)]
    if strides == [1, 1, 1]:
        return None
    tail = "" if mask is None else (  # CPU takes any mask stride; the message still names it
        f", Attn_mask.stride(-1): {mask.stride(-1)} (GPU backends require attn_mask's last "
        "dimension to have stride 1 while the CPU does not).")
    return ("All fused kernels require the last dimension of the input to have stride 1. Got "
            f"Query.stride(-1): {strides[0]}, Key.stride(-1): {strides[1]}, Value.stride(-1): "
            f"{strides[2]}{tail}")


def _dtype_gate(q, k, v, mask, p):
    """A floating dtype the kernel has."""
    if q.dtype.name in ("float32", "float64", "bfloat16", "float16"):
        return None  # (the three dtypes agree: checked before)
    return ("Expected query, key and value to all be of dtype: {Float, Double, BFloat16, Half}. "
            f"Got Query dtype: {_word(q)}, Key dtype: {_word(k)}, and Value dtype: {_word(v)} "
            "instead.")


_FLASH_GATES = (_dropout_gate, _dims_gate, _batch_heads_gate, _mask_gate, _head_dim_gate,
                _seq_len_gate, _stride_gate, _dtype_gate)


def _flash_refusal(params: SDPAParams):
    """None if the CPU flash kernel takes these inputs, else the first failing gate's reason."""
    for gate in _FLASH_GATES:
        reason = gate(params.query, params.key, params.value, params.attn_mask, params)
        if reason is not None:
            return reason
    return None


def _checked_by_op(query, key, value, attn_mask) -> bool:
    """Whether the attention op answers before PyTorch would choose a backend: operands its
    first checks refuse (ranks, dtypes, mask dtype) and the empty inputs it answers at once."""
    if not all(isinstance(t, Tensor) for t in (query, key, value)):
        return True
    if min(query.ndim, key.ndim, value.ndim) < 2 or not query.dtype is key.dtype is value.dtype:
        return True
    if isinstance(attn_mask, Tensor) and attn_mask.dtype.name not in ("bool", "float32") \
            and attn_mask.dtype is not query.dtype:
        return True
    return query.shape[-2] == 0 or value.numel() == 0


def check_backend(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                  enable_gqa=False, stacklevel=2) -> None:
    """Raise (after PyTorch's warnings) if no enabled CPU backend can run this call (NOTE
    [SDPA backends on CPU]); `stacklevel` is warnings.warn's, as if the caller warned."""
    math_on, flash_on = is_enabled("math"), is_enabled("flash")
    if math_on or _checked_by_op(query, key, value, attn_mask):
        return
    if not flash_on:
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This "
                           "is likely due to turning off both the math kernel and the fused "
                           "kernels.")
    params = SDPAParams(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa)
    reason = _flash_refusal(params)
    if reason is None:
        return
    _warn("Flash attention kernel not used because:", stacklevel=stacklevel + 1)
    if reason:
        _warn(reason, stacklevel=stacklevel + 1)
    raise RuntimeError("No available kernel.  Aborting execution.")


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False, stacklevel=3):
    """The attention op behind the backend check (the work of `F.scaled_dot_product_attention`
    once a self-dispatching mask is handled); `stacklevel` is warnings.warn's, counted from
    here: 3 is the caller of the public function that called this one."""
    check_backend(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa, stacklevel)
    if is_causal and attn_mask is not None and _flash_runs(query, key, value, attn_mask,
                                                           dropout_p, enable_gqa):
        attn_mask, is_causal = _with_causal(attn_mask, query.shape[-2], key.shape[-2]), False
    return _sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)


def _flash_runs(query, key, value, attn_mask, dropout_p, enable_gqa) -> bool:
    """Whether PyTorch's CPU dispatch picks the flash kernel (NOTE [SDPA backends on CPU])."""
    if not is_enabled("flash") or _checked_by_op(query, key, value, attn_mask):
        return False
    params = SDPAParams(query, key, value, attn_mask, dropout_p, True, enable_gqa)
    return _flash_refusal(params) is None


def _with_causal(attn_mask, length, source):
    """attn_mask and the top-left causal mask (row i sees keys 0..i) as one mask: what the CPU
    flash kernel applies when given both (NOTE [attn_mask with is_causal] in
    ember/ops/attention.py). A bool mask is and-ed, a float one gets -inf added."""
    allowed = attn_mask.new_ones((length, source), dtype=_bool).tril()
    if attn_mask.dtype is _bool:
        return attn_mask & allowed
    return attn_mask.masked_fill(~allowed, float("-inf"))


class SelfDispatchingMask(Tensor):
    """A Tensor subclass that computes scaled_dot_product_attention itself when passed as
    attn_mask (`_dispatch`), as PyTorch's mask subclasses do through __torch_function__."""

    @staticmethod
    def _dispatch(query, key, value, attn_mask, dropout_p=0.0, is_causal=False, scale=None,
                  enable_gqa=False):
        """The attention this mask stands for (subclasses say how)."""
        raise NotImplementedError
