"""Discrete Fourier transforms (matches `torch.fft`); the ops live in ember/ops/fft.py."""

from ember._registry import tensor_arguments as _tensor_arguments
from ember.ops.fft import (fft, fft2, fftfreq, fftn, fftshift, hfft, hfft2, hfftn, ifft, ifft2,
                           ifftn, ifftshift, ihfft, ihfft2, ihfftn, irfft, irfft2, irfftn, rfft,
                           rfft2, rfftfreq, rfftn)

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2",
           "rfftn", "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq",
           "rfftfreq", "fftshift", "ifftshift"]

# A non-tensor input raises torch's TypeError (NOTE [Not a tensor is a TypeError]).
for _name in __all__:
    globals()[_name] = _tensor_arguments(globals()[_name])
del _name
