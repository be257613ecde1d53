"""Learning-rate schedulers (matches `torch.optim.lr_scheduler`).

A scheduler owns an optimizer and rewrites `group["lr"]` on every `step()`. Constructing one
records each group's `initial_lr`, sets `base_lrs`, and takes an initial step to epoch 0. See
NOTE [Chainable updates] in base.py for how each step's value is computed.
"""

from ember.optim.lr_scheduler.base import EPOCH_DEPRECATION_WARNING, LRScheduler, _LRScheduler
from ember.optim.lr_scheduler.composite import ChainedScheduler, ReduceLROnPlateau, SequentialLR
from ember.optim.lr_scheduler.cyclic import CyclicLR, OneCycleLR
from ember.optim.lr_scheduler.schedules import (
                                                ConstantLR,
                                                CosineAnnealingLR,
                                                CosineAnnealingWarmRestarts,
                                                ExponentialLR,
                                                LambdaLR,
                                                LinearLR,
                                                MultiplicativeLR,
                                                MultiStepLR,
                                                PolynomialLR,
                                                StepLR,
)

__all__ = ["EPOCH_DEPRECATION_WARNING", "ChainedScheduler", "ConstantLR", "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts", "CyclicLR", "ExponentialLR", "LRScheduler",
           "LambdaLR", "LinearLR", "MultiStepLR", "MultiplicativeLR", "OneCycleLR",
           "PolynomialLR", "ReduceLROnPlateau", "SequentialLR", "StepLR", "_LRScheduler"]

# PyTorch defines them all in the one module torch.optim.lr_scheduler (their reprs say so)
for _name in __all__:
    if isinstance(globals()[_name], type):
        globals()[_name].__module__ = __name__
del _name
