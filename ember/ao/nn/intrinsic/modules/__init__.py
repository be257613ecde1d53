"""Fused module containers (matches `torch.ao.nn.intrinsic.modules`)."""

from ember.ao.nn.intrinsic.modules.fused import *  # noqa: F403
from ember.ao.nn.intrinsic.modules.fused import __all__  # noqa: F401
