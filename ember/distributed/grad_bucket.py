"""What DDP hands a communication hook: GradBucket, and the built-in hook kinds
(matches `torch.distributed.GradBucket` and `torch.distributed.BuiltinCommHookType`)."""

import enum


class BuiltinCommHookType(enum.Enum):
    """The hooks DDP._register_builtin_comm_hook takes (a pybind enum in torch: not an int)."""

    ALLREDUCE = 1
    FP16_COMPRESS = 2


class GradBucket:
    """One bucket of gradients: a flat buffer and the parameters whose gradients it holds."""

    def __init__(self, index, buffer, gradients, parameters, is_last):
        self._index = index
        self._buffer = buffer
        self._gradients = gradients
        self._parameters = parameters
        self._is_last = is_last

    def index(self) -> int:
        """The bucket's position (bucket 0 holds the gradients computed first)."""
        return self._index

    def buffer(self):
        """The flat 1-d tensor of the bucket's gradients (the hook may change it in place)."""
        return self._buffer

    def set_buffer(self, buffer) -> None:
        """Replace the buffer (as the compress wrappers do)."""
        self._buffer = buffer

    def gradients(self):
        """The gradients, each a view into the buffer shaped as its parameter."""
        return list(self._gradients)

    def parameters(self):
        """The parameters, in the bucket's order."""
        return list(self._parameters)

    def is_last(self) -> bool:
        """Whether this is the last bucket of the iteration."""
        return self._is_last
