"""ember.nn: modules, functional, init (matches torch.nn)."""

from ember.nn.parameter import (Buffer, Parameter, UninitializedBuffer,  # noqa: F401
                                UninitializedParameter)
from ember.nn import modules  # noqa: F401
from ember.nn.modules import *  # noqa: F403
from ember.nn import functional, init, utils  # noqa: F401
from ember.nn import parallel  # noqa: F401
from ember.nn import attention  # noqa: F401  (an attribute after `import torch` too)
from ember.nn.parallel import DataParallel  # noqa: F401
