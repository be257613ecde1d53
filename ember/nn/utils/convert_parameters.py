"""Flatten parameters into one vector and back (matches `torch.nn.utils.parameters_to_vector`)."""

from ember._tensor import Tensor
from ember.ops.joins import cat


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and concatenated (differentiable)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Make each parameter's data a view of consecutive slices of vec.

    As PyTorch's, `param.data = slice.view_as(param).data`: the parameters then share vec's
    memory and take its dtype (a slice of the wrong size fails as view_as does)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    offset = 0
    for param in parameters:
        n = param.numel()
        param.data = vec[offset:offset + n].view_as(param).data
        offset += n
