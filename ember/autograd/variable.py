"""`torch.autograd.Variable`: the pre-0.4 wrapper, kept as PyTorch keeps it. Every tensor is a
Variable (isinstance is True), and `Variable(t, requires_grad=...)` returns a detached alias of
t sharing its data, with requires_grad as asked (matches `torch.autograd.Variable`)."""

from ember._tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor)

    def __call__(cls, data, requires_grad=False, volatile=False):
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)


class Variable(metaclass=_VariableMeta):
    """Tensors are Variables; calling it gives a detached alias (see the module docstring)."""
