"""LAPACK's Householder form of QR: `geqrf` (the reflectors and their scales) and `ormqr`
(multiply by the orthogonal Q they describe, without forming it).

geqrf's output packs R in the upper triangle and the reflectors v_i (unit i-th entry implied)
below the diagonal; Q = H₁·H₂·…·H_k with H_i = I - τ_i·v_i·v_iᴴ. ormqr applies the reflectors
one at a time with ember ops, so its gradients (for the reflectors, τ and the other matrix)
come from autograd.
"""

from ember._backend import get_array_module, xp
from ember._registry import op
from ember.ops._out_rules import geqrf_out, ormqr_out
from ember._tensor import Tensor, short_name
from ember.ops.extrema import _return_type
from ember.ops.linalg import matmul
from ember.ops.linalg_core import size_at
from ember.ops.linalg_misc import householder_product


_GeqrfResult = _return_type("geqrf", ("a", "tau"))


def _check_float(t: Tensor, kernel: str):
    if not (t.dtype.is_floating_point or t.dtype.is_complex):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{short_name(t.dtype)}\'')


@op(method=True, out=geqrf_out)
def geqrf(input: Tensor):
    """(a, tau): R above the diagonal of a, the Householder vectors below it and their scales
    tau, as LAPACK's geqrf gives them (matches `torch.geqrf`; not differentiable)."""
    if input._data.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    _check_float(input, "geqrf_cpu")
    data = input._data
    m, n = data.shape[-2:]
    module = get_array_module(data)
    if data.size == 0:
        return _GeqrfResult(Tensor._make(data.copy()), Tensor._make(
            module.zeros(data.shape[:-2] + (min(m, n),), dtype=data.dtype)))
    h, tau = xp.linalg.qr(data, mode="raw")  # h is the Fortran-order result, transposed
    a = xp.swapaxes(h, -1, -2).astype(data.dtype)
    return _GeqrfResult(Tensor._make(xp.ascontiguousarray(a)), Tensor._make(tau.astype(data.dtype)))


def _check_ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool):
    """PyTorch's argument errors of ormqr."""
    name = "torch.ormqr"
    if input._data.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if other._data.ndim < 2:
        raise RuntimeError(f"{name}: other must have at least 2 dimensions.")
    side = -2 if left else -1
    if size_at(tau, -1) != min(other._data.shape[side], input._data.shape[-1]):
        raise RuntimeError(f"{name}: tau.shape[-1] must be equal to min(other.shape[{side}], "
                           "input.shape[-1])")
    if other._data.shape[side] != input._data.shape[-2]:
        raise RuntimeError(f"{name}: other.shape[{side}] must be equal to input.shape[-2]")
    ndim = input._data.ndim
    for label, t, want, relation in (("tau", tau, ndim - 1, "one dimension less than"),
                                     ("other", other, ndim, "the same number of dimensions as")):
        if t._data.ndim != want:
            raise RuntimeError(f"{name}: Expected {label} to have {relation} input, but got "
                               f"{label}.ndim equal to {t._data.ndim} and input.ndim is equal "
                               f"to {ndim}")
    for label, batch in (("tau", tau._data.shape[:-1]), ("other", other._data.shape[:-2])):
        if batch != input._data.shape[:-2]:
            raise RuntimeError(f"{name}: Expected batch dimensions of {label} to be equal to "
                               f"input.shape[:-2], but got {list(batch)}")
    for label, t in (("tau", tau), ("other", other)):
        if t.dtype is not input.dtype:
            raise RuntimeError(f"{name}: Expected input and {label} to have the same dtype, but "
                               f"input has dtype{short_name(input.dtype)} and {label} has dtype "
                               f"{short_name(t.dtype)}")
    _check_float(input, "ormqr_cpu")


@op(method=True, out=ormqr_out)
def ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool = True,
          transpose: bool = False) -> Tensor:
    """Q·other, Qᴴ·other, other·Q or other·Qᴴ (left / transpose) for the Q of geqrf's
    (input, tau), applied reflector by reflector (matches `torch.ormqr`)."""
    _check_ormqr(input, tau, other, left)
    rows, k = input._data.shape[-2], tau._data.shape[-1]
    module = get_array_module(input._data)
    v = input[..., :, :k].tril(-1) + Tensor._make(module.eye(rows, k, dtype=input._data.dtype))
    scale = tau.conj() if transpose else tau
    # Q = H₁…H_k: Q·C applies H_k first, Qᴴ·C applies H₁ᴴ first; on the right, mirrored
    order = range(k) if transpose == left else range(k - 1, -1, -1)
    c = other
    for i in order:
        vi = v[..., :, i:i + 1]
        ti = scale[..., i, None, None]
        if left:
            c = c - (ti * vi) * matmul(vi.mH, c)
        else:
            c = c - matmul(c, vi) * (ti * vi.mH)
    return c if k else c.clone()


@op(method=True, out=True)
def orgqr(input: Tensor, tau: Tensor) -> Tensor:
    """The Q of geqrf's (input, tau) (matches `torch.orgqr`, an alias of
    `torch.linalg.householder_product`)."""
    return householder_product(input, tau)
