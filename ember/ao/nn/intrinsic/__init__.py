"""Fused modules that `torch.ao.quantization.fuse_modules` makes (matches
`torch.ao.nn.intrinsic`)."""

from ember.ao.nn.intrinsic import modules
from ember.ao.nn.intrinsic.modules import *  # noqa: F403
from ember.ao.nn.intrinsic.modules import __all__ as _fused_names
from ember.ao.nn.intrinsic.modules.fused import _FusedModule  # noqa: F401 (torch's name)

__all__ = ["modules", *_fused_names]
