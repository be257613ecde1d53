"""ASGD: SGD with a decaying step size and a running average of the iterates (Polyak)."""

from ember.optim import _half
from ember.optim.optimizer import (Optimizer, _check_lr, _increment, _require,
                                    _scalar_tensor, _zeros_like, fused_add)


def asgd_update(param, grad, step, eta, mu, ax, *, lr, lambd, alpha, t0, weight_decay,
                maximize):
    """One ASGD step on `param` in place (torch's `_single_tensor_asgd`; a complex parameter
    comes as real views, see `Optimizer._dense_update`).

    p = p·(1 - λη) - η·g;  ax = p while μ = 1, else ax + μ·(p - ax);
    then η = lr/(1 + λ·lr·t)^α,  μ = 1/max(1, t - t0), both stored as 0-d tensors
    """
    if maximize:
        grad = -grad
    t = _increment(step)
    if weight_decay != 0:
        grad = fused_add(grad, weight_decay, param)
    eta_value = float(eta)
    param *= 1 - lambd * eta_value  # decay term
    param[...] = fused_add(param, -eta_value, grad)  # (p.add_(g, alpha=-eta): one FMA)
    if float(mu) != 1:
        ax += (param - ax) * mu
    else:
        ax[...] = param
    eta[...] = lr / ((1 + lambd * lr * t) ** alpha)  # (rounded to the state's dtype)
    mu[...] = 1 / max(1, t - t0)


@_half.silent
def asgd_update_half(param, grad, step, eta, mu, ax, *, lr, lambd, alpha, t0, weight_decay,
                     maximize):
    """`asgd_update` on a 16-bit param: torch's `_single_tensor_asgd` op by op, each rounded
    once to 16 bits (NOTE [Half-precision optimizer steps] in ember/optim/_half.py); eta and
    mu stay float32 0-d states."""
    if maximize:
        grad = -grad
    t = _increment(step)
    if weight_decay != 0:
        grad = _half.add(grad, param, weight_decay)
    eta_value = float(eta)
    param[...] = _half.mul(param, 1 - lambd * eta_value)  # decay term
    param[...] = _half.add(param, grad, -eta_value)
    if float(mu) != 1:
        # (a float32 0-d mu multiplies a 16-bit tensor as a float32 scalar)
        ax[...] = _half.add(ax, _half.mul(_half.add(param, ax, -1), float(mu)))
    else:
        ax[...] = param
    eta[...] = lr / ((1 + lambd * lr * t) ** alpha)
    mu[...] = 1 / max(1, t - t0)


class ASGD(Optimizer):
    """Averaged stochastic gradient descent (matches `torch.optim.ASGD`)."""

    _sparse_refusal = "ASGD does not support sparse gradients"
    _capturable_names = ("params, mus, etas, and state_steps",) * 2

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _require(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": _scalar_tensor(), "eta": _scalar_tensor(float(group["lr"])),
                "mu": _scalar_tensor(1.0), "ax": _zeros_like(p)}

    def _update(self, param, grad, state, hyper):
        update = asgd_update_half if _half.is_half(param) else asgd_update
        update(param, grad, state["step"], state["eta"], state["mu"], state["ax"],
               lr=hyper["lr"], lambd=hyper["lambd"], alpha=hyper["alpha"],
               t0=hyper["t0"], weight_decay=hyper["weight_decay"],
               maximize=hyper["maximize"])
