"""Helpers shared by the attention variants (matches `torch.nn.attention._utils`)."""

import math

__all__: list = []


def _input_requires_grad(*tensors) -> bool:
    """Whether any of the tensors requires grad."""
    return any(t.requires_grad for t in tensors)


def _postprocess_flash_output(inpt_tensor, og_size: int):
    """Cut a head dim padded for the flash kernel back to its size."""
    if inpt_tensor.size(-1) != og_size:
        return inpt_tensor[..., :og_size]
    return inpt_tensor


def _calculate_scale(head_dim_size: int, scale):
    """The softmax scale: `scale`, or 1/sqrt(head dim)."""
    if scale is not None:
        return scale
    return 1.0 / math.sqrt(head_dim_size)


def _validate_sdpa_input(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                         scale=None, allow_lowp_kv=False) -> None:
    """PyTorch's Python-side checks of attention operands: dtypes (unless allow_lowp_kv),
    devices and ranks, as ValueErrors."""
    if not allow_lowp_kv and (query.dtype != key.dtype or query.dtype != value.dtype):
        raise ValueError(f"Expected query, key, and value to have the same dtype, but got "
                         f"query.dtype: {query.dtype}, key.dtype: {key.dtype}, and value.dtype: "
                         f"{value.dtype} instead.")
    if query.device != key.device or query.device != value.device:
        raise ValueError(f"Expected query, key, and value to have the same device type, but got "
                         f"query.device: {query.device}, key.device: {key.device}, and "
                         f"value.device: {value.device} instead.")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise ValueError(f"Expected query, key, and value to all be  at least 2 dimensional, but "
                         f"got query.dim: {query.dim()}, key.dim: {key.dim()} and value.dim: "
                         f"{value.dim()} instead.")
