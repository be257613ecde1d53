"""torch's refusals of bool matrix products (dot, mv, mm, bmm, matmul, tensordot and the
addmm family), checked after the shapes, as torch's kernels meet them.

NOTE [No bool matrix products]
torch has no bool kernel for dot, mv, mm or bmm: a bool product raises NotImplementedError
naming the kernel ("dot", "addmv_impl_cpu", "addmm_impl_cpu_", "bmm"). mv, mm and bmm return
without reaching a kernel when the result is empty or the contraction is (k = 0: zeros); dot
checks the dtype first, so even an empty bool dot raises. With k = 0, addmm and baddbmm only
scale the input by beta, in beta's type: a bool or 0 fits a bool result, another number is
"result type Long/Float can't be cast"; addmv then just returns.
"""

import math

from ember._backend import xp
from ember._tensor import Tensor


def refuse_bool_product(kernel: str, a: Tensor, size: int = 1, k: int = 1, beta=None) -> None:
    """NotImplementedError for a bool product of `size` results over a contraction of k (a
    beta given: the k = 0 cast error of NOTE [No bool matrix products])."""
    if a._data.dtype.kind != "b" or not size:
        return
    if k:
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
    if beta is not None and not isinstance(beta, bool) and beta != 0:
        kind = "Float" if isinstance(beta, float) else "Long"
        raise RuntimeError(f"result type {kind} can't be cast to the desired output type Bool")


def refuse_bool_matmul(a: Tensor, b: Tensor) -> None:
    """matmul's kernel for operands of ranks na, nb (after its shape checks): dot for two
    vectors, mv for a vector on the right, mm for a matrix on the right (batches of a folded
    into its rows), bmm for a batch on the right."""
    if a._data.dtype.kind != "b":
        return
    (na, nb), (sa, sb) = (a._data.ndim, b._data.ndim), (a._data.shape, b._data.shape)
    if na == 1 and nb == 1:
        refuse_bool_product("dot", a)
    kernel = "addmv_impl_cpu" if nb == 1 else "addmm_impl_cpu_" if nb == 2 else "bmm"
    batch = xp.broadcast_shapes(sa[:-2], sb[:-2])
    size = math.prod(batch) * (sa[-2] if na > 1 else 1) * (sb[-1] if nb > 1 else 1)
    refuse_bool_product(kernel, a, size, sa[-1])


def refuse_bool_tensordot(a: Tensor, free_a: int, free_b: int, k: int) -> None:
    """tensordot multiplies (free_a × k)·(k × free_b) matrices: a 1 × 1 result is a dot."""
    if free_a * free_b == 1:
        refuse_bool_product("dot", a)
    refuse_bool_product("addmm_impl_cpu_", a, free_a * free_b, k)
