"""torch's dtype errors of the matrix products, by the kernel a call reaches: matmul reduces to
dot, mv (addmv), bmm or mm, each refusing mixed dtypes with its own message."""

from ember._tensor import Tensor, short_name
from ember.ops._util import c_type


def check_matmul_dtypes(a: Tensor, b: Tensor, shapes_checked=False):
    """torch's dtype error of the product matmul reduces to: dot, mv, bmm or mm (a batch times
    a matrix folds into mm after its shapes are checked: only once they are)."""
    if a.dtype is b.dtype:
        return
    na, nb = a._data.ndim, b._data.ndim
    if na > 2 and nb == 2 and not shapes_checked:
        return
    if na == 1 and nb == 1:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{short_name(a.dtype)} and {short_name(b.dtype)}")
    if nb == 1:
        check_addmv_dtypes(b, a, b)
    if nb > 2:
        raise RuntimeError(f"expected scalar type {short_name(a.dtype)} but found "
                           f"{short_name(b.dtype)}")
    raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {c_type(a)} != "
                       f"{c_type(b)}")


def check_addmv_dtypes(input: Tensor, mat: Tensor, vec: Tensor):
    """addmv's error for mixed dtypes (mv's too: its result, addmv's input, takes vec's)."""
    if not input.dtype is mat.dtype is vec.dtype:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                           f"{short_name(input.dtype)}, {short_name(mat.dtype)}, and "
                           f"{short_name(vec.dtype)}")
