"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from ember._backend import xp
from ember.optim import _half
from ember.optim.optimizer import (Optimizer, _check_lr, _increment, _scalar_tensor,
                                   _zeros_like, update_in_blocks)

# Adadelta's dozen passes per element pay for a second thread from about Adam's size.
_MIN_PARALLEL = 1 << 19


def adadelta_update(param, grad, step, square_avg, acc_delta, *, lr, rho, eps, weight_decay,
                    maximize):
    """One Adadelta step on `param` in place (a big one block by block on the intra-op
    threads, `update_in_blocks`).

    v = ρ·v + (1-ρ)·g²;  Δ = √(u + ε) / √(v + ε) · g;  u = ρ·u + (1-ρ)·Δ²;  p -= lr·Δ
    """
    _increment(step)
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    update_in_blocks(_adadelta_block, (param, grad, square_avg, acc_delta), (lr, rho, eps),
                     _MIN_PARALLEL)


def _adadelta_block(param, grad, square_avg, acc_delta, lr, rho, eps):
    """`adadelta_update` on arrays of one block, in place through two scratch arrays."""
    scratch = xp.multiply(grad, grad)
    scratch *= 1 - rho
    square_avg *= rho
    square_avg += scratch
    std = xp.add(square_avg, eps, out=scratch)
    xp.sqrt(std, out=std)
    delta = xp.add(acc_delta, eps)
    xp.sqrt(delta, out=delta)
    delta /= std
    delta *= grad
    acc_delta *= rho
    xp.multiply(delta, delta, out=scratch)
    scratch *= 1 - rho
    acc_delta += scratch
    delta *= lr
    param -= delta


@_half.silent
def adadelta_update_half(param, grad, step, square_avg, acc_delta, *, lr, rho, eps,
                         weight_decay, maximize):
    """`adadelta_update` on a 16-bit param: torch's `_single_tensor_adadelta` op by op, each
    rounded once to 16 bits (NOTE [Half-precision optimizer steps] in ember/optim/_half.py)."""
    _increment(step)
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = _half.add(grad, param, weight_decay)
    square_avg[...] = _half.addcmul(_half.mul(square_avg, rho), grad, grad, 1 - rho)
    std = _half.sqrt(_half.add_scalar(square_avg, eps))
    delta = _half.sqrt(_half.add_scalar(acc_delta, eps))
    delta = _half.mul(_half.div(delta, std), grad)
    acc_delta[...] = _half.addcmul(_half.mul(acc_delta, rho), delta, delta, 1 - rho)
    param[...] = _half.add(param, delta, -lr)


class Adadelta(Optimizer):
    """Adadelta (matches `torch.optim.Adadelta`)."""

    _sparse_refusal = "Adadelta does not support sparse gradients"
    _capturable_xla = (False, False)

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": _scalar_tensor(), "square_avg": _zeros_like(p),
                "acc_delta": _zeros_like(p)}

    def _update(self, param, grad, state, hyper):
        update = adadelta_update_half if _half.is_half(param) else adadelta_update
        update(param, grad, state["step"], state["square_avg"], state["acc_delta"],
               lr=hyper["lr"], rho=hyper["rho"], eps=hyper["eps"],
               weight_decay=hyper["weight_decay"], maximize=hyper["maximize"])
