"""Padding layers: zero, constant, reflection, replication, circular (match `torch.nn.*Pad*`)."""

from ember.nn.modules.module import Module
from ember.ops.conv import _ntuple
from ember.nn.functional import pad

__all__ = [
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
]


class _PadNd(Module):
    """F.pad with a fixed padding (int → the same on every side of the last nd dims)."""

    _nd = 1
    _mode = "constant"

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        self.padding = _ntuple(padding, 2 * self._nd)
        if self._mode == "constant":
            self.value = value

    def forward(self, input):
        if self._mode == "constant":
            return pad(input, self.padding, "constant", self.value)
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float):
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Zero padding of the last dim (matches `torch.nn.ZeroPad1d`)."""

    _nd = 1


class ZeroPad2d(_ZeroPadNd):
    """Zero padding of the last 2 dims (matches `torch.nn.ZeroPad2d`)."""

    _nd = 2


class ZeroPad3d(_ZeroPadNd):
    """Zero padding of the last 3 dims (matches `torch.nn.ZeroPad3d`)."""

    _nd = 3


class ConstantPad1d(_ConstantPadNd):
    """Constant padding of the last dim (matches `torch.nn.ConstantPad1d`)."""

    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Constant padding of the last 2 dims (matches `torch.nn.ConstantPad2d`)."""

    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Constant padding of the last 3 dims (matches `torch.nn.ConstantPad3d`)."""

    _nd = 3


class ReflectionPad1d(_PadNd):
    """Mirror padding of the last dim (matches `torch.nn.ReflectionPad1d`)."""

    _nd, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Mirror padding of the last 2 dims (matches `torch.nn.ReflectionPad2d`)."""

    _nd, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Mirror padding of the last 3 dims (matches `torch.nn.ReflectionPad3d`)."""

    _nd, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Edge padding of the last dim (matches `torch.nn.ReplicationPad1d`)."""

    _nd, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Edge padding of the last 2 dims (matches `torch.nn.ReplicationPad2d`)."""

    _nd, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Edge padding of the last 3 dims (matches `torch.nn.ReplicationPad3d`)."""

    _nd, _mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Wrap-around padding of the last dim (matches `torch.nn.CircularPad1d`)."""

    _nd, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Wrap-around padding of the last 2 dims (matches `torch.nn.CircularPad2d`)."""

    _nd, _mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Wrap-around padding of the last 3 dims (matches `torch.nn.CircularPad3d`)."""

    _nd, _mode = 3, "circular"
