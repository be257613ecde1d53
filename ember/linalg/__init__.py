"""`ember.linalg`: the functions of `torch.linalg` (matches PyTorch 2.13's namespace).

The ops live in the linear-algebra families of ember/ops (linalg_core, linalg_solve,
linalg_decomp, linalg_lu, linalg_norms, linalg_misc, linalg_eig); this package only gives them
their `torch.linalg` names and `out=`.
"""

from ember._out_dtypes import OutDtype, castable
from ember._registry import tensor_arguments, with_out
from ember.ops._out_rules import copied
from ember.ops.linalg import matmul
from ember.ops.linalg_core import LinAlgError
from ember.ops.linalg_decomp import cholesky_ex, eigh, eigvalsh, svdvals
from ember.ops.linalg_decomp import linalg_cholesky as cholesky
from ember.ops.linalg_decomp import linalg_qr as qr
from ember.ops.linalg_decomp import linalg_svd as svd
from ember.ops.linalg_eig import eig, eigvals
from ember.ops.linalg_lu import (ldl_factor, ldl_factor_ex, ldl_solve, lu_factor, lu_factor_ex,
                                 lu_solve)
from ember.ops.linalg_lu import linalg_lu as lu
from ember.ops.linalg_misc import householder_product, matrix_exp, matrix_power, multi_dot, vecdot
from ember.ops.linalg_misc import linalg_cross as cross
from ember.ops.linalg_misc import linalg_vander as vander
from ember.ops.linalg_norms import cond, matrix_norm, matrix_rank, vector_norm
from ember.ops.linalg_norms import linalg_norm as norm
from ember.ops.linalg_lstsq import lstsq
from ember.ops.linalg_solve import (det, inv, inv_ex, pinv, solve, solve_ex,
                                    solve_triangular, tensorinv, tensorsolve)
from ember.ops.linalg_solve import linalg_slogdet as slogdet
from ember.ops.strided import diagonal as _diagonal

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eig",
           "eigh", "eigvals", "eigvalsh", "householder_product", "inv", "inv_ex", "ldl_factor",
           "ldl_factor_ex", "ldl_solve", "lstsq", "lu", "lu_factor", "lu_factor_ex", "lu_solve",
           "matmul", "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot",
           "norm", "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd",
           "svdvals", "tensorinv", "tensorsolve", "vander", "vecdot", "vector_norm"]


def diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """A view of the diagonal `offset` over (dim1, dim2), as the last dim (matches
    `torch.linalg.diagonal`: `torch.diagonal` with the last two dims by default)."""
    return _diagonal(A, offset, dim1, dim2)




# the dtypes each function's out= may have (NOTE [out= dtypes] in ember/_out_dtypes.py): the
# result's exactly, unless listed here
_OUT_RULES = {
    "cond": copied(castable("linalg.cond")), "eig": castable("torch.linalg.eig", "eigenvalues"),
    "eigvals": castable("torch.linalg.eigvals", "eigenvalues"),
    "householder_product": castable("torch.linalg.householder_product"),
    "lstsq": castable("torch.linalg.lstsq", "solution"),
    "matrix_power": copied(castable("matrix_power")),
    "matrix_rank": castable("torch.linalg.matrix_rank"), "pinv": castable("linalg.pinv"),
    "tensorinv": copied(castable("tensorinv")),
    "tensorsolve": copied(castable("tensorsolve")),
    "matrix_norm": copied(OutDtype("exact", "linalg.matrix_norm expected out tensor dtype "
                                            "{result} but got: {out}")),
    "norm": copied(OutDtype("exact", "linalg.norm expected out tensor dtype {result} but got: "
                                     "{out}")),
    "multi_dot": OutDtype("exact", "multi_dot(): expected out tensor to have dtype {result_c} "
                                   "but got {out_c}"),
    "solve_triangular": OutDtype("exact", "expected scalar type {result} but found {out}"),
    "vecdot": OutDtype("exact", "linalg.vecdot: Expected out of dtype{result} but found {out}"),
    "matmul": OutDtype("exact", "result dtype {out} does not match input dtype {result}"),
}
# Every torch.linalg function takes `out=`: the result is copied into it (ember/_registry.py).
# ...and a non-tensor input raises torch's TypeError (NOTE [Not a tensor is a TypeError]).
for _name in __all__[1:]:
    globals()[_name] = tensor_arguments(with_out(globals()[_name],
                                                 _OUT_RULES.get(_name, "exact")))
del _name
