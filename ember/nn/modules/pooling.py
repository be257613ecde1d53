"""Pooling layers: max, average, adaptive and unpooling (match `torch.nn.*Pool*`)."""

from ember.nn.functional import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d,
                                 adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d,
                                 avg_pool1d, avg_pool2d, avg_pool3d, fractional_max_pool2d,
                                 fractional_max_pool3d, lp_pool1d, lp_pool2d, lp_pool3d,
                                 max_pool1d, max_pool2d, max_pool3d, max_unpool1d, max_unpool2d,
                                 max_unpool3d)
from ember.nn.modules.module import Module
from ember.ops.conv import _ntuple

__all__ = [
    "FractionalMaxPool2d",
    "FractionalMaxPool3d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
]


class _MaxPoolNd(Module):
    """Max over sliding windows; stride defaults to kernel_size."""

    _function = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")

    def forward(self, input):
        return self._function(input, self.kernel_size, self.stride, self.padding,
                                    self.dilation, ceil_mode=self.ceil_mode,
                                    return_indices=self.return_indices)


class MaxPool1d(_MaxPoolNd):
    """1-d max pooling (matches `torch.nn.MaxPool1d`)."""

    _function = staticmethod(max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """2-d max pooling (matches `torch.nn.MaxPool2d`)."""

    _function = staticmethod(max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """3-d max pooling (matches `torch.nn.MaxPool3d`)."""

    _function = staticmethod(max_pool3d)


class AvgPool1d(Module):
    """1-d average pooling (matches `torch.nn.AvgPool1d`)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True):
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, 1)
        self.stride = _ntuple(stride if stride is not None else kernel_size, 1)
        self.padding = _ntuple(padding, 1)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input):
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding,
                                self.ceil_mode, self.count_include_pad)


class _AvgPoolNd(Module):
    """Mean over sliding windows; stride defaults to kernel_size."""

    _function = None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input):
        return self._function(input, self.kernel_size, self.stride, self.padding,
                                    self.ceil_mode, self.count_include_pad,
                                    self.divisor_override)


class AvgPool2d(_AvgPoolNd):
    """2-d average pooling (matches `torch.nn.AvgPool2d`)."""

    _function = staticmethod(avg_pool2d)


class AvgPool3d(_AvgPoolNd):
    """3-d average pooling (matches `torch.nn.AvgPool3d`)."""

    _function = staticmethod(avg_pool3d)


class _AdaptivePoolNd(Module):
    """Pooling to a fixed output size (None keeps that input dim)."""

    _function = None

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveAvg(_AdaptivePoolNd):
    def forward(self, input):
        return self._function(input, self.output_size)


class _AdaptiveMax(_AdaptivePoolNd):
    def __init__(self, output_size, return_indices: bool = False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return self._function(input, self.output_size, self.return_indices)


class AdaptiveAvgPool1d(_AdaptiveAvg):
    """1-d adaptive average pooling (matches `torch.nn.AdaptiveAvgPool1d`)."""

    _function = staticmethod(adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvg):
    """2-d adaptive average pooling (matches `torch.nn.AdaptiveAvgPool2d`)."""

    _function = staticmethod(adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvg):
    """3-d adaptive average pooling (matches `torch.nn.AdaptiveAvgPool3d`)."""

    _function = staticmethod(adaptive_avg_pool3d)


class AdaptiveMaxPool1d(_AdaptiveMax):
    """1-d adaptive max pooling (matches `torch.nn.AdaptiveMaxPool1d`)."""

    _function = staticmethod(adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMax):
    """2-d adaptive max pooling (matches `torch.nn.AdaptiveMaxPool2d`)."""

    _function = staticmethod(adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMax):
    """3-d adaptive max pooling (matches `torch.nn.AdaptiveMaxPool3d`)."""

    _function = staticmethod(adaptive_max_pool3d)


class _MaxUnpoolNd(Module):
    """Put pooled maxima back at their indices, zeros elsewhere."""

    _nd = 2
    _function = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        nd = self._nd
        self.kernel_size = _ntuple(kernel_size, nd)
        self.stride = _ntuple(stride if stride is not None else kernel_size, nd)
        self.padding = _ntuple(padding, nd)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input, indices, output_size=None):
        return self._function(input, indices, self.kernel_size, self.stride,
                                    self.padding, output_size)


class MaxUnpool1d(_MaxUnpoolNd):
    """Inverse of MaxPool1d (matches `torch.nn.MaxUnpool1d`)."""

    _nd = 1
    _function = staticmethod(max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """Inverse of MaxPool2d (matches `torch.nn.MaxUnpool2d`)."""

    _nd = 2
    _function = staticmethod(max_unpool2d)


class MaxUnpool3d(_MaxUnpoolNd):
    """Inverse of MaxPool3d (matches `torch.nn.MaxUnpool3d`)."""

    _nd = 3
    _function = staticmethod(max_unpool3d)


class _LPPoolNd(Module):
    """Power-average pooling: (Σ window x^p)^(1/p)."""

    _function = None

    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")

    def forward(self, input):
        return self._function(input, float(self.norm_type), self.kernel_size,
                                    self.stride, self.ceil_mode)


class LPPool1d(_LPPoolNd):
    """1-d power-average pooling (matches `torch.nn.LPPool1d`)."""

    _function = staticmethod(lp_pool1d)


class LPPool2d(_LPPoolNd):
    """2-d power-average pooling (matches `torch.nn.LPPool2d`)."""

    _function = staticmethod(lp_pool2d)


class LPPool3d(_LPPoolNd):
    """3-d power-average pooling (matches `torch.nn.LPPool3d`)."""

    _function = staticmethod(lp_pool3d)


class _FractionalMaxPoolNd(Module):
    """Max pooling over pseudo-random windows (see NOTE [Fractional pooling windows])."""

    _nd = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _ntuple(kernel_size, self._nd)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = _ntuple(output_size, self._nd) if output_size is not None else None
        ratio = output_ratio
        if ratio is not None and not isinstance(ratio, (tuple, list)):
            ratio = (ratio,) * self._nd
        self.output_ratio = tuple(ratio) if ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling "
                             "ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        pool = fractional_max_pool2d if self._nd == 2 else fractional_max_pool3d
        return pool(input, self.kernel_size, self.output_size, self.output_ratio,
                    self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """2-d fractional max pooling (matches `torch.nn.FractionalMaxPool2d`)."""


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """3-d fractional max pooling (matches `torch.nn.FractionalMaxPool3d`)."""

    _nd = 3
