"""ember.optim: optimizers and learning-rate schedulers (matches torch.optim).

Each optimizer is one file holding one pure update function on NumPy arrays (the math, in the
docstring) and the class that names its hyperparameters and state.
"""

from ember.optim import lr_scheduler, swa_utils
from ember.optim.adadelta import Adadelta
from ember.optim.adafactor import Adafactor
from ember.optim.adagrad import Adagrad
from ember.optim.adam import Adam, AdamW
from ember.optim.adamax import Adamax
from ember.optim.asgd import ASGD
from ember.optim.lbfgs import LBFGS
from ember.optim.muon import Muon
from ember.optim.nadam import NAdam
from ember.optim.optimizer import Optimizer
from ember.optim.radam import RAdam
from ember.optim.rmsprop import RMSprop
from ember.optim.rprop import Rprop
from ember.optim.sgd import SGD
from ember.optim.sparse_adam import SparseAdam

__all__ = [
           "LBFGS",
           "SGD",
           "SparseAdam",
           "Adadelta",
           "Adafactor",
           "Adagrad",
           "Adam",
           "AdamW",
           "Adamax",
           "ASGD",
           "Muon",
           "NAdam",
           "Optimizer",
           "RAdam",
           "RMSprop",
           "Rprop",
           "lr_scheduler",
           "swa_utils",
]
