"""ember's ops, one family per module, each op a Function with forward and backward side by side
and its public faces declared on its function (see ember/_registry.py).

Importing this package imports every family, lowest layer first (docs/ARCHITECTURE.md), which
declares every op: `ember.<name>`, `Tensor.<name>`, in-place and operator forms.
"""

from ember.ops import _util, broadcast, conversion, inplace
from ember.ops import comparison, creation, unary
from ember.ops import elementwise
from ember.ops import extrema, reduction
from ember.ops import einsum, indexing, joins, linalg, scatter, shape, softmax, sort
from ember.ops import activation
from ember.ops import conv, conv_transpose, fold, loss_ops, nn_ops, padding
from ember.ops import pool, pool_adaptive, pool_avg
