"""All of ember.nn's layers (matches `torch.nn.modules`)."""

from ember.nn.modules import (activation, batchnorm, conv, distance, dropout, flatten, fold,
                              instancenorm, linear, loss, normalization, padding,
                              pixelshuffle, pooling, sparse, upsampling)
from ember.nn.modules.module import Module
from ember.nn.modules.container import (Container, ModuleDict, ModuleList, ParameterDict,
                                        ParameterList, Sequential)
from ember.nn.modules.activation import *  # noqa: F403
from ember.nn.modules.batchnorm import *  # noqa: F403
from ember.nn.modules.conv import *  # noqa: F403
from ember.nn.modules.distance import *  # noqa: F403
from ember.nn.modules.dropout import *  # noqa: F403
from ember.nn.modules.flatten import *  # noqa: F403
from ember.nn.modules.fold import *  # noqa: F403
from ember.nn.modules.instancenorm import *  # noqa: F403
from ember.nn.modules.linear import *  # noqa: F403
from ember.nn.modules.loss import *  # noqa: F403
from ember.nn.modules.normalization import *  # noqa: F403
from ember.nn.modules.padding import *  # noqa: F403
from ember.nn.modules.pixelshuffle import *  # noqa: F403
from ember.nn.modules.pooling import *  # noqa: F403
from ember.nn.modules.sparse import *  # noqa: F403
from ember.nn.modules.upsampling import *  # noqa: F403
from ember.nn.modules import transformer
from ember.nn.modules.transformer import *  # noqa: F403
from ember.nn.modules import rnn
from ember.nn.modules.rnn import *  # noqa: F403
from ember.nn.modules import lazy
from ember.nn.modules.lazy import *  # noqa: F403
from ember.nn.modules import adaptive, channelshuffle, linear_cross_entropy
from ember.nn.modules.adaptive import *  # noqa: F403
from ember.nn.modules.linear_cross_entropy import *  # noqa: F403
from ember.nn.modules.channelshuffle import *  # noqa: F403

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict",
           "Container"]
for _family in (activation, batchnorm, conv, distance, dropout, flatten, fold, instancenorm,
                linear, loss, normalization, padding, pixelshuffle, pooling, sparse, upsampling):
    __all__ += _family.__all__
__all__ += transformer.__all__
__all__ += rnn.__all__
__all__ += lazy.__all__
__all__ += channelshuffle.__all__
del _family
__all__ += adaptive.__all__
__all__ += linear_cross_entropy.__all__
