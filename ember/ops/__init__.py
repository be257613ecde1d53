"""ember's ops, one family per module, each op a Function with forward and backward side by side
and its public faces declared on its function (see ember/_registry.py).

Importing this package imports every family, lowest layer first (docs/ARCHITECTURE.md), which
declares every op: `ember.<name>`, `Tensor.<name>`, in-place and operator forms.
"""

from ember.ops import _util, broadcast, conversion, inplace
from ember.ops import comparison, creation, unary
from ember.ops import legacy_constructors  # torch.Tensor(...), x.new(...)
from ember.ops import rectifier  # relu
from ember.ops import random_creation
from ember.ops import sampling
from ember.ops import from_memory
from ember.ops import unary_ext, unary_special
from ember.ops import elementwise
from ember.ops import power  # pow, float_power
from ember.ops import elementwise_ext
from ember.ops import extrema, reduction
from ember.ops import renorm  # after extrema: it uses norm
from ember.ops import einsum, indexing, joins, linalg, scatter, shape, softmax, sort
from ember.ops import rearrange  # flip, roll, tril/triu
from ember.ops import linalg_core
from ember.ops import linalg_solve
from ember.ops import linalg_lstsq
from ember.ops import linalg_decomp
from ember.ops import linalg_lu
from ember.ops import linalg_norms
from ember.ops import linalg_misc
from ember.ops import linalg_eig
from ember.ops import linalg_householder, linalg_lowrank
from ember.ops import copies, grids, scatter_reduce, search, strided, tiling
from ember.ops import aten_misc, segment_reduce
from ember.ops import histogram, scans, statistics
from ember.ops import scaled_mm  # float8 scaled matmuls (torch._scaled_mm)
from ember.ops import complex
from ember.ops import fft
from ember.ops import windows
from ember.ops import activation
from ember.ops import conv, conv_transpose, fold, loss_ops, nn_ops, padding
from ember.ops import nn_native
from ember.ops import pool, pool_adaptive, pool_avg
from ember.ops import interpolate
from ember.ops import spectral
from ember.ops import rnn
from ember.ops import rnn_functional  # torch.lstm, torch.gru, ...
from ember.ops import fake_quantize
from ember.ops import attention, ctc
from ember.ops import grid_sample, pool_fractional
from ember.ops import grid_sampler
from ember.ops import sparse, sparse_reduce  # last: sparse re-files torch.mm/matmul/add
from ember.ops import sparse_compressed, sparse_products  # CSR/CSC, sparse × sparse
from ember.ops import sparse_inplace  # dense.add_(sparse), sparse.add_/mul_/zero_ (optimizers)
from ember.ops import aten_functional, aten_losses, aten_utilities  # torch.dropout, ... (aten's)
from ember.ops import foreach  # torch._foreach_*: an op over each tensor of a list
from ember.ops import aten  # torch.ops.aten: aten-level overload packets over the ops above
from ember._library._namespaces import ops_getattr as __getattr__  # torch.ops.<ns>: custom ops
