"""Flatten parameters into one vector and back (matches `torch.nn.utils.parameters_to_vector`)."""

from ember._backend import xp
from ember._tensor import Tensor
from ember.ops.joins import cat


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and concatenated (differentiable)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of vec into the parameters' data."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    offset = 0
    for param in parameters:
        n = param.numel()
        xp.copyto(param._data, vec._data[offset:offset + n].reshape(param._data.shape),
                  casting="unsafe")
        param._version_counter.value += 1
        offset += n
