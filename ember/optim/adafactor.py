"""Adafactor: Adam's second moment stored as row and column factors, so a matrix's optimizer
state is O(rows + columns) instead of O(rows·columns), with a relative step size."""

import math

from ember._backend import xp
from ember._tensor import Tensor
from ember.optim.optimizer import (Optimizer, _check_lr, _increment, _require,
                                    _scalar_tensor, _zeros_like)


def adafactor_update(param, grad, step, row_var, col_var, variance, *, lr, beta2_decay, eps1,
                     eps2, d, weight_decay, maximize):
    """One Adafactor step on `param` in place (torch's `_single_tensor_adafactor`).

    β̂ = t^decay;  ρ = min(lr, 1/√t);  α = max(ε2, RMS(p))·ρ;  p *= 1 - lr·wd;
    matrices (the last two dims): R ← lerp(R, mean_cols(g²), β̂), C ← lerp(C, mean_rows(g²), β̂),
    V = R·C / mean(R) (rows clamped at ε1); vectors: V ← lerp(V, g², β̂);
    u = g / √max(V, ε1²);  p -= α / max(1, RMS(u)/d) · u
    """
    if maximize:
        grad = -grad
    if eps1 is None:
        eps1 = float(xp.finfo(param.dtype).eps)
    t = _increment(step)
    fraction = t ** beta2_decay
    rho = min(lr, 1 / t ** 0.5)
    alpha = max(eps2, float(xp.linalg.norm(param.reshape(-1))) / param.size ** 0.5) * rho
    if weight_decay != 0:
        param *= 1 - lr * weight_decay
    if grad.ndim > 1:  # (g·g means as torch takes them: squared norms over the size)
        _lerp_into(row_var, _squared_norm(grad, -1) / grad.shape[-1], fraction)
        _lerp_into(col_var, _squared_norm(grad, -2) / grad.shape[-2], fraction)
        estimate = xp.matmul(row_var, col_var)
        estimate /= xp.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
    else:
        _lerp_into(variance, grad * grad, fraction)
        estimate = variance.copy()
    update = xp.maximum(estimate, estimate.dtype.type(eps1 * eps1))
    update = 1 / xp.sqrt(update) * grad
    denom = max(1.0, float(xp.linalg.norm(update.reshape(-1))) / (math.sqrt(update.size) * d))
    param -= (alpha / denom) * update


def _squared_norm(g, axis):
    """‖g‖² along axis, kept as a dim: torch.norm(...).square_(), a sqrt then a square."""
    return xp.square(xp.sqrt(xp.sum(g * g, axis=axis, keepdims=True)))


def _lerp_into(a, b, weight):
    """a ← lerp(a, b, weight) as PyTorch writes it: from the nearer end."""
    if weight < 0.5:
        a += weight * (b - a)
    else:
        a[...] = b - (b - a) * (1 - weight)


class Adafactor(Optimizer):
    """Adafactor (matches `torch.optim.Adafactor`)."""

    _sparse_refusal = "Adafactor does not support sparse gradients"

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        _check_lr(lr, "Learning rate should be >= 0 but is: {}")
        _require(0.0 >= beta2_decay, f"beta2_decay should be <= 0 but is: {beta2_decay}")
        _require(eps[0] is None or 0.0 <= eps[0], f"epsilon1 should be >= 0 but is: {eps[0]}")
        _require(0.0 <= eps[1], f"epsilon2 should be >= 0 but is: {eps[1]}")
        _require(1.0 <= d, f"Clipping threshold d should be >= 1 but is: {d}")
        _require(0.0 <= weight_decay, f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        if p.dtype.is_complex:
            raise RuntimeError("Adafactor does not support complex parameters")
        state = {"step": _scalar_tensor()}
        if p.ndim > 1:  # the row factor keeps the last dim as 1, the column factor the one before
            zeros = xp.zeros_like(p._data)
            state["row_var"] = Tensor._make(zeros[..., :1].copy())
            state["col_var"] = Tensor._make(zeros[..., :1, :].copy())
        else:
            state["variance"] = _zeros_like(p)
        return state

    def _update(self, param, grad, state, hyper):
        eps1, eps2 = hyper["eps"]
        adafactor_update(param, grad, state["step"], state.get("row_var"),
                         state.get("col_var"), state.get("variance"), lr=hyper["lr"],
                         beta2_decay=hyper["beta2_decay"], eps1=eps1, eps2=eps2,
                         d=hyper["d"], weight_decay=hyper["weight_decay"],
                         maximize=hyper["maximize"])
