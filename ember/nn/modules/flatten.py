"""Flatten and Unflatten (matches `torch.nn.Flatten`, `torch.nn.Unflatten`)."""

from ember.nn.modules.module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one (matches `torch.nn.Flatten`)."""

    __constants__ = ["start_dim", "end_dim"]

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim into unflattened_size (matches `torch.nn.Unflatten`)."""

    def __init__(self, dim, unflattened_size) -> None:
        super().__init__()
        _require_tuple_int(unflattened_size)
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _require_tuple_int(size) -> None:
    """torch's check of unflattened_size: a tuple or list of ints (any dim is accepted)."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(
            f"unflattened_size must be a tuple of ints, but found type {type(size).__name__}")
    for idx, elem in enumerate(size):
        if not isinstance(elem, int):
            raise TypeError("unflattened_size must be tuple of ints, "
                            f"but found element of type {type(elem).__name__} at pos {idx}")
