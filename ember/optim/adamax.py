"""Adamax: Adam with the infinity norm in place of the second moment."""

from ember._backend import xp
from ember.optim import _half
from ember.optim.adam import _check_adam_args
from ember.ops.elementwise import _lerp
from ember.optim.optimizer import Optimizer, _increment, _scalar_tensor, _zeros_like, fused_add


def adamax_update(param, grad, step, exp_avg, exp_inf, *, lr, beta1, beta2, eps, weight_decay,
                  maximize):
    """One Adamax step on `param` in place.

    m = β1·m + (1-β1)·g;  u = max(β2·u, |g| + ε);  p -= lr/(1-β1ᵗ) · m/u
    """
    if maximize:
        grad = -grad
    t = _increment(step)
    if weight_decay != 0:
        grad = fused_add(grad, weight_decay, param)
    clr = lr / (1 - beta1 ** t)
    if param.dtype == xp.float32:  # torch's ops, rounded as its kernels (one FMA each)
        exp_avg[...] = _lerp(exp_avg, grad, xp.asarray(1 - beta1, dtype=xp.float32))
        exp_inf *= xp.float32(beta2)
        xp.maximum(exp_inf, xp.abs(grad) + xp.float32(eps), out=exp_inf)
        update = exp_avg * xp.float32(-clr)  # p.addcdiv_(m, u, value=-clr): p + (value·m)/u
        update /= exp_inf
        param += update
        return
    exp_avg += (1 - beta1) * (grad - exp_avg)
    exp_inf *= beta2
    xp.maximum(exp_inf, xp.abs(grad) + eps, out=exp_inf)
    param += -clr * (exp_avg / exp_inf)


@_half.silent
def adamax_update_half(param, grad, step, exp_avg, exp_inf, *, lr, beta1, beta2, eps,
                       weight_decay, maximize):
    """`adamax_update` on a 16-bit param: torch's `_single_tensor_adamax` op by op, each
    rounded once to 16 bits (NOTE [Half-precision optimizer steps] in ember/optim/_half.py)."""
    if maximize:
        grad = -grad
    t = _increment(step)
    grad = _half.decayed(param, grad, weight_decay)
    exp_avg[...] = _half.lerp(exp_avg, grad, 1 - beta1)
    # (eps is rounded to 16 bits by `add_`: float16 makes the default 1e-8 a zero)
    xp.maximum(_half.mul(exp_inf, beta2), _half.add_scalar(xp.abs(grad), eps), out=exp_inf)
    param[...] = _half.addcdiv(param, exp_avg, exp_inf, -(lr / (1 - beta1 ** t)))


class Adamax(Optimizer):
    """Adamax (matches `torch.optim.Adamax`)."""

    _sparse_refusal = "Adamax does not support sparse gradients"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": _scalar_tensor(), "exp_avg": _zeros_like(p), "exp_inf": _zeros_like(p)}

    def _update(self, param, grad, state, hyper):
        beta1, beta2 = hyper["betas"]
        update = adamax_update_half if _half.is_half(param) else adamax_update
        update(param, grad, state["step"], state["exp_avg"], state["exp_inf"],
               lr=hyper["lr"], beta1=beta1, beta2=beta2, eps=hyper["eps"],
               weight_decay=hyper["weight_decay"], maximize=hyper["maximize"])
