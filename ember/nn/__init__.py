"""ember.nn: modules, functional, init (matches torch.nn)."""

from ember.nn.parameter import Buffer, Parameter
from ember.nn import modules
from ember.nn.modules import *  # noqa: F401,F403
from ember.nn import functional, init, utils  # noqa: E402
