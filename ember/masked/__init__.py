"""ember.masked: reductions and normalizations that see only the elements a mask selects
(matches `torch.masked`; strided tensors, no MaskedTensor yet). See NOTE [Masked ops fill,
then reduce] in ember/masked/_ops.py.
"""

from ember.masked._ops import (amax, amin, argmax, argmin, cumprod, cumsum, log_softmax,
                               logaddexp, logsumexp, mean, median, norm, normalize, prod,
                               softmax, softmin, std, sum, var)

__all__ = ["amax", "amin", "argmax", "argmin", "cumprod", "cumsum", "log_softmax", "logaddexp",
           "logsumexp", "mean", "median", "norm", "normalize", "prod", "softmax", "softmin",
           "std", "sum", "var"]
