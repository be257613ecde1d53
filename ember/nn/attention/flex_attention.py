"""flex_attention: attention with a user score_mod and a block-sparse mask (matches
`torch.nn.attention.flex_attention`).

NOTE [Eager flex_attention]
PyTorch's flex_attention, called without torch.compile, warns once that it runs an unfused
implementation, then runs its reference implementation through an "eager"-backend compile:
scores = q·kᵀ·scale, score_mod on each score, -inf where the block mask's mask_mod says no,
softmax (rows with nothing allowed give zeros and a -inf logsumexp), times v. ember runs the same
reference (`_flex_math`, NOTE [score_mod and mask_mod by broadcasting]); the mask's tiles are
not read (NOTE [BlockMask format]). PyTorch refuses CPU inputs that require grad ("FlexAttention
does not support backward on CPU"); ember computes with its autograd ops, so gradients reach
query, key, value and the tensors a score_mod captures — the gradients of PyTorch's reference
backward.
"""

import inspect
import math
import typing

from ember._warnings import warn as _warn
from enum import Enum
from collections.abc import Callable
from typing import Any, Literal, NamedTuple, TypedDict

from ember import _dtype
from ember._tensor import Tensor
from ember.nn.attention._block_mask import (_DEFAULT_SPARSE_BLOCK_SIZE,  # noqa: F401
                                            _LARGE_SPARSE_BLOCK_SIZE, BlockMask,
                                            _adjust_num_blocks_and_indices,
                                            _compute_dq_write_order_from_block_mask,
                                            _dense_to_ordered, _ordered_to_dense,
                                            _sliced_mask_mod_error, _transpose_ordered, noop_mask)
from ember.nn.attention._flex_math import as_tensor, index_grids, math_attention
from ember.nn.attention._block_mask import (_broadcast_to_dim,  # noqa: F401
                                             _convert_block_mask_to_mask,
                                             _convert_mask_to_block_mask, _round_up_to_multiple)
from ember.nn.attention._utils import _validate_sdpa_input
from ember.ops.creation import ones, zeros
from ember.ops.comparison import where

# Set True to skip the "called without torch.compile" warning (in PyTorch it also skips the
# internal compile, which lets mods be debugged; ember compiles nothing either way).
_FLEX_ATTENTION_DISABLE_COMPILE_DEBUG = False

_WARNINGS_SHOWN: set = set()

__all__ = ["BlockMask", "flex_attention", "AuxOutput", "AuxRequest", "FlexKernelOptions",
           "create_block_mask", "create_mask", "or_masks", "and_masks", "noop_mask"]

_score_mod_signature = Callable[[Tensor, Tensor, Tensor, Tensor, Tensor], Tensor]
_mask_mod_signature = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]
_Backend = Literal["AUTO", "TRITON", "FLASH", "TRITON_DECODE"]


def _warn_once(warning_id: str, message: str, category=UserWarning) -> None:
    """Warn `message` the first time `warning_id` comes up in this process."""
    if warning_id not in _WARNINGS_SHOWN:
        _warn(message, category, stacklevel=2)
        _WARNINGS_SHOWN.add(warning_id)


class FlexKernelOptions(TypedDict, total=False):
    """Options for PyTorch's compiled flex_attention kernels (accepted and checked; ember's
    eager computation has no kernel to tune)."""

    num_warps: int
    num_stages: int
    BLOCK_M: int
    BLOCK_N: int
    BLOCK_M1: int
    BLOCK_N1: int
    BLOCK_M2: int
    BLOCK_N2: int
    PRESCALE_QK: bool
    ROWS_GUARANTEED_SAFE: bool
    BLOCKS_ARE_CONTIGUOUS: bool
    WRITE_DQ: bool
    FORCE_USE_FLEX_ATTENTION: bool
    USE_TMA: bool
    kpack: int
    matrix_instr_nonkdim: int
    waves_per_eu: int
    BACKEND: _Backend


class _KernelOptionsWithInternals(FlexKernelOptions, total=False):
    """kernel_options plus the flags flex_attention sets itself."""

    OUTPUT_LOGSUMEXP: bool
    OUTPUT_MAX: bool


class AuxRequest(NamedTuple):
    """Which auxiliary outputs flex_attention should return."""

    lse: bool = False
    max_scores: bool = False


class AuxOutput(NamedTuple):
    """flex_attention's auxiliary outputs (None where not requested)."""

    lse: Any = None
    max_scores: Any = None


class _ModificationType(Enum):
    """A mod's kind: score_mod (5 positional args) or mask_mod (4)."""

    SCORE_MOD = 1
    MASK_MOD = 2
    UNKNOWN = 3


def _get_mod_type(fn) -> _ModificationType:
    """SCORE_MOD or MASK_MOD, by fn's number of positional parameters without defaults."""
    if hasattr(fn, "__code__"):
        defaults = getattr(fn, "__defaults__", None) or ()
        num_positional_args = fn.__code__.co_argcount - len(defaults)
    else:
        num_positional_args = sum(1 for p in inspect.signature(fn).parameters.values()
                                  if p.default is inspect.Parameter.empty)
    if num_positional_args not in (4, 5):
        raise AssertionError(f"Expected 4 or 5 positional args, got {num_positional_args}")
    return _ModificationType.SCORE_MOD if num_positional_args == 5 else _ModificationType.MASK_MOD


def _identity(score, batch, head, token_q, token_kv):
    """The score_mod that changes nothing."""
    return score


def or_masks(*mask_mods):
    """The mask_mod allowing what any of mask_mods allows."""
    if not all(callable(arg) for arg in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def or_mask(b, h, q_idx, kv_idx):
        """True where any mask_mod is."""
        result = b.new_zeros((), dtype=_dtype.bool)
        for mask in mask_mods:
            result = result | mask(b, h, q_idx, kv_idx)
        return result

    return or_mask


def and_masks(*mask_mods):
    """The mask_mod allowing what all of mask_mods allow."""
    if not all(callable(arg) for arg in mask_mods):
        raise RuntimeError(f"All inputs should be callable mask_mods: {mask_mods}")

    def and_mask(b, h, q_idx, kv_idx):
        """True where every mask_mod is."""
        result = b.new_ones((), dtype=_dtype.bool)
        for mask in mask_mods:
            result = result & mask(b, h, q_idx, kv_idx)
        return result

    return and_mask


def create_mask(mod_fn, B, H, Q_LEN: int, KV_LEN: int, device=None) -> Tensor:
    """The (B, H, Q_LEN, KV_LEN) boolean mask of a mask_mod, or of a score_mod (False where it
    gives -inf); B and H default to 1."""
    B, H = 1 if B is None else B, 1 if H is None else H
    grids = index_grids(B, H, Q_LEN, KV_LEN, device)
    if _get_mod_type(mod_fn) == _ModificationType.SCORE_MOD:
        out = as_tensor(mod_fn(zeros(B, H, Q_LEN, KV_LEN, device=device), *grids))
        mask = where(out.isneginf(), False, True)
    else:
        mask = as_tensor(mod_fn(*grids))
    return mask.expand(B, H, Q_LEN, KV_LEN).contiguous()


def _create_sparse_block_from_block_mask(block_mask, mask_mod, seq_lengths,
                                         Q_BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE,
                                         KV_BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE) -> BlockMask:
    """The BlockMask of (partial, full) 0/1 tile masks."""
    partial_blocks, full_blocks = block_mask
    full = (None, None) if full_blocks is None else _dense_to_ordered(full_blocks)
    return BlockMask.from_kv_blocks(*_dense_to_ordered(partial_blocks), *full,
                                    BLOCK_SIZE=(Q_BLOCK_SIZE, KV_BLOCK_SIZE), mask_mod=mask_mod,
                                    seq_lengths=seq_lengths)


def create_block_mask(mask_mod, B, H, Q_LEN: int, KV_LEN: int, device=None,
                      BLOCK_SIZE=_DEFAULT_SPARSE_BLOCK_SIZE, _compile=False,
                      separate_full_blocks: bool = True, compute_dq_write_order: bool = False,
                      dq_kv_order: bool = True) -> BlockMask:
    """The BlockMask of mask_mod over (B, H, Q_LEN, KV_LEN) in BLOCK_SIZE tiles (an int, or
    (Q, KV) sizes); full tiles apart unless separate_full_blocks is False."""
    if _get_mod_type(mask_mod) != _ModificationType.MASK_MOD:
        raise AssertionError(f"create-block_mask requires a mask_mod function! Got {mask_mod}")
    B, H = 1 if B is None else B, 1 if H is None else H
    q_block, kv_block = (BLOCK_SIZE, BLOCK_SIZE) if isinstance(BLOCK_SIZE, int) else BLOCK_SIZE
    if _compile:
        _warn(
            "_compile flag on create_block_mask was originally added to work around a "
            "torch.compile limitation. That limitation has since been addressed. So, to compile "
            "create_block_mask, we suggest doing torch.compile(create_block_mask). This still "
            "works for now, but will be removed in the future.", DeprecationWarning,
            stacklevel=2)
    if not isinstance(dq_kv_order, bool):
        raise ValueError("dq_kv_order must be a bool when using create_block_mask")
    mask = create_mask(mask_mod, B, H, Q_LEN, KV_LEN, device)
    tiles = _convert_mask_to_block_mask(mask, Q_BLOCK_SIZE=q_block, KV_BLOCK_SIZE=kv_block,
                                        separate_full_blocks=separate_full_blocks)
    block_mask = _create_sparse_block_from_block_mask(tiles, mask_mod, (Q_LEN, KV_LEN),
                                                      q_block, kv_block)
    if compute_dq_write_order:
        block_mask.dq_write_order, block_mask.dq_write_order_full = \
            _compute_dq_write_order_from_block_mask(block_mask, dq_kv_order=dq_kv_order)
        block_mask.dq_kv_order, block_mask.dq_kv_order_spt = None, dq_kv_order
    return block_mask


def _create_empty_block_mask(query, key) -> BlockMask:
    """The mask flex_attention uses without one: a single tile covering everything."""
    return BlockMask.from_kv_blocks(kv_num_blocks=ones([1, 1, 1], dtype=_dtype.int32),
                                    kv_indices=zeros([1, 1, 1, 1], dtype=_dtype.int32),
                                    BLOCK_SIZE=_LARGE_SPARSE_BLOCK_SIZE, seq_lengths=(1, 1))


def _apply_kernel_options(query, key, value, return_lse, kernel_options, return_aux=None):
    """kernel_options with PyTorch's defaults and internal flags, after its checks."""
    options = {} if kernel_options is None else dict(kernel_options)
    if "BACKEND" in options and options.get("FORCE_USE_FLEX_ATTENTION", False):
        raise RuntimeError(
            "BACKEND cannot be combined with legacy FORCE_USE_FLEX_ATTENTION. BACKEND supersedes "
            "the legacy knob; please drop FORCE_USE_FLEX_ATTENTION and only specify the desired "
            "BACKEND.")
    valid_backends = typing.get_args(_Backend)
    if "BACKEND" in options and options["BACKEND"] not in valid_backends:
        raise ValueError(f"Invalid BACKEND value '{options['BACKEND']}'. Must be one of "
                         f"{valid_backends}")
    for name, default in (("BACKEND", "AUTO"), ("PRESCALE_QK", False),
                          ("ROWS_GUARANTEED_SAFE", False), ("BLOCKS_ARE_CONTIGUOUS", False),
                          ("WRITE_DQ", True)):
        options.setdefault(name, default)
    output_lse, output_max = return_lse, False
    if return_aux is not None:
        output_lse, output_max = return_aux.lse, return_aux.max_scores
    if "OUTPUT_LOGSUMEXP" in options:
        raise AssertionError("OUTPUT_LOGSUMEXP must not be in kernel_options")
    options["OUTPUT_LOGSUMEXP"] = bool(output_lse)  # (CPU inputs: only when asked for)
    if "OUTPUT_MAX" in options:
        raise AssertionError("OUTPUT_MAX must not be in kernel_options")
    if options["BACKEND"] == "FLASH" and output_max:
        raise NotImplementedError(
            "Returning max scores is not supported with BACKEND='FLASH'. Use "
            "return_aux=AuxRequest(lse=True) or omit max_scores.")
    options["OUTPUT_MAX"] = output_max
    if output_max:  # ember's tensors are CPU ones
        raise NotImplementedError("Returning max scores is not supported on CPU/MPS.")
    return options


def _validate_embed_dim(query, key, value) -> None:
    """query and key share their embedding dim."""
    if query.size(-1) != key.size(-1):
        raise ValueError(f"Expect query and key/value to have the same embedding dimension but "
                         f"got E={query.size(-1)} and E={key.size(-1)}.")


def _validate_heads_and_batch(query, key, enable_gqa, block_mask) -> None:
    """PyTorch's checks of head counts (GQA) and batch sizes."""
    if not enable_gqa and query.size(-3) != key.size(-3):
        raise ValueError(f"Expect query and key/value to have the same number of heads but got "
                         f"Hq={query.size(-3)} and Hkv={key.size(-3)}. Try setting "
                         "enable_gqa=True for GQA.")
    if enable_gqa and query.size(1) % key.size(1) != 0:
        raise ValueError(f"Expect number of query heads to be a multiple of kv heads for GQA but "
                         f"got Hq={query.size(1)} and Hkv={key.size(1)}.")
    if query.size(0) == key.size(0):
        return
    if block_mask is None:
        raise ValueError(f"Expect query and key/value to have the same batch size, or non-none "
                         f"block_mask, but got block_mask=None, Bq={query.size(0)}, and "
                         f"Bkv={key.size(0)}.")
    if block_mask.kv_num_blocks.size(0) != query.size(0):
        raise ValueError(f"Expect query and key/value to have the same batch size, or "
                         f"block_mask and query to have the same batch size, but got "
                         f"Bq={query.size(0)}, Bkv={key.size(0)}, "
                         f"B_block_mask={block_mask.kv_num_blocks.size(0)}.")


def _validate_block_mask_lengths(query, key, block_mask) -> None:
    """PyTorch's checks that the block mask was made for these sequence lengths."""
    if block_mask.BLOCK_SIZE[0] == block_mask.BLOCK_SIZE[1] == _LARGE_SPARSE_BLOCK_SIZE:
        return  # the empty block mask: any lengths
    q_len, kv_len = query.size(-2), key.size(-2)
    mask_q_len, mask_kv_len = block_mask.shape[-2], block_mask.shape[-1]
    start = (f"block_mask was created for block_mask.shape={block_mask.shape} but got "
             f"q_len={q_len} and kv_len={kv_len}. ")
    if q_len > mask_q_len or kv_len > mask_kv_len:
        raise ValueError(start + "As the block mask was created for a smaller length than "
                         "you're using it for, you likely need to create a new block mask.")
    if (q_len < mask_q_len and kv_len <= mask_kv_len) or \
            (q_len <= mask_q_len and kv_len < mask_kv_len):
        raise ValueError(start + "As the block mask was created for a larger length than you're "
                         "using it for, you can either 1. create a new block mask with the "
                         "correct length, or 2. 'adjust' the existing block mask to the correct "
                         "length by calling block_mask._adjust(q_len, kv_len). This essentially "
                         "'crops' the block mask to the upper left corner, which does not work "
                         "for all mask_mods!")


def _validate_inputs(query, key, value, block_mask, enable_gqa, return_lse, return_aux):
    """PyTorch's checks of flex_attention's arguments, in its order."""
    _validate_sdpa_input(query, key, value, allow_lowp_kv=True)
    _validate_embed_dim(query, key, value)
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        raise NotImplementedError("NYI: query, key, and value must be 4D tensors")
    _validate_heads_and_batch(query, key, enable_gqa, block_mask)
    if block_mask is not None:
        if getattr(block_mask, "mask_mod", None) is _sliced_mask_mod_error:
            raise RuntimeError("Cannot use mask_mod from a sliced BlockMask")
        _validate_block_mask_lengths(query, key, block_mask)
    if return_lse and return_aux is not None:
        raise ValueError("Cannot specify both return_lse and return_aux. return_lse is "
                         "deprecated, please use return_aux=AuxRequest(lse=True) instead.")


def flex_attention(query: Tensor, key: Tensor, value: Tensor, score_mod=None, block_mask=None,
                   scale=None, enable_gqa: bool = False, return_lse: bool = False,
                   kernel_options=None, *, return_aux=None):
    """softmax(score_mod(q·kᵀ·scale) masked by block_mask)·v for (B, H, L, E) query and (B,
    Hkv, S, E) key and value (NOTE [Eager flex_attention]); with return_lse also the
    logsumexp, with return_aux an AuxOutput (matches `torch.nn.attention.flex_attention.
    flex_attention`)."""
    _validate_inputs(query, key, value, block_mask, enable_gqa, return_lse, return_aux)
    score_mod = _identity if score_mod is None else score_mod
    block_mask = _create_empty_block_mask(query, key) if block_mask is None else block_mask
    scale = 1.0 / math.sqrt(query.size(-1)) if scale is None else scale
    if return_lse and return_aux is None:
        _warn_once("deprecated_return_lse", "return_lse is deprecated and will be removed in "
                   "v2.10. Please use return_aux=AuxRequest(lse=True) instead.",
                   category=FutureWarning)
    options = _apply_kernel_options(query, key, value, return_lse, kernel_options, return_aux)
    if not _FLEX_ATTENTION_DISABLE_COMPILE_DEBUG:
        _warn_once("flex_attention_performance", _UNCOMPILED_MESSAGE)
    out, lse = math_attention(query, key, value, score_mod, block_mask.mask_mod, scale,
                              options["OUTPUT_LOGSUMEXP"])
    # PyTorch's statistics are in base 2 except from the FLASH backend, which it then takes
    # for natural ones: uncompiled with BACKEND="FLASH" it returns the base-2 logsumexp
    if lse is not None and lse.numel() == 0:
        lse = None  # (PyTorch returns no empty logsumexp)
    if lse is not None and (_FLEX_ATTENTION_DISABLE_COMPILE_DEBUG
                            or options["BACKEND"] != "FLASH"):
        lse = lse * math.log(2.0)
    if return_aux is not None:
        return out, AuxOutput(lse=lse if return_aux.lse else None, max_scores=None)
    return (out, lse) if return_lse else out


_UNCOMPILED_MESSAGE = (
    "flex_attention called without torch.compile() - this will use an unfused implementation "
    "that materializes the full scores matrix instead of generating a fused kernel.\n\n"
    "SOLUTION: Use torch.compile(flex_attention)(...)\n\n"
    "If you want to debug your score_mod/mask_mod, you can set:\n"
    "torch.nn.attention.flex_attention._FLEX_ATTENTION_DISABLE_COMPILE_DEBUG = True\n\n"
    "This will allow you to use print statements or breakpoints. Note: This doesn't work with "
    "the backwards pass and may produce incorrect results.")

for _obj in (_identity, or_masks, and_masks):
    _obj.__module__ = __name__
del _obj
