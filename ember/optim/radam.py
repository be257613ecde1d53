"""RAdam: Adam with a rectified (variance-corrected) adaptive learning rate."""

from ember._backend import xp
from ember.optim import _half
from ember.optim.adam import _check_adam_args
from ember.optim.optimizer import Optimizer, _increment, _scalar_tensor, _zeros_like


def radam_update(param, grad, step, exp_avg, exp_avg_sq, *, lr, beta1, beta2, eps,
                 weight_decay, decoupled_weight_decay, maximize):
    """One RAdam step on `param` in place.

    ρ∞ = 2/(1-β2) - 1;  ρ_t = ρ∞ - 2t·β2ᵗ/(1-β2ᵗ);  m̂ = m/(1-β1ᵗ)
    ρ_t > 5: p -= lr·m̂·r_t·√(1-β2ᵗ)/(√v + ε), r_t = √((ρ_t-4)(ρ_t-2)ρ∞ / ((ρ∞-4)(ρ∞-2)ρ_t))
    else:    p -= lr·m̂
    """
    if maximize:
        grad = -grad
    t = _increment(step)
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    exp_avg += (1 - beta1) * (grad - exp_avg)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * (grad * grad)
    bias_correction1 = 1 - beta1 ** t
    bias_correction2 = 1 - beta2 ** t
    corrected = exp_avg / bias_correction1
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        adaptive_lr = bias_correction2 ** 0.5 / (xp.sqrt(exp_avg_sq) + eps)
        param -= corrected * lr * adaptive_lr * rect
    else:
        param -= corrected * lr


@_half.silent
def radam_update_half(param, grad, step, exp_avg, exp_avg_sq, *, lr, beta1, beta2, eps,
                      weight_decay, decoupled_weight_decay, maximize):
    """`radam_update` on a 16-bit param: torch's `_single_tensor_radam` op by op, each rounded
    once to 16 bits (NOTE [Half-precision optimizer steps] in ember/optim/_half.py)."""
    if maximize:
        grad = -grad
    t = _increment(step)
    grad = _half.decayed(param, grad, weight_decay, decoupled_weight_decay, lr)
    _half.adam_moments(exp_avg, exp_avg_sq, grad, beta1, beta2)
    bias_correction2 = 1 - beta2 ** t
    update = _half.mul(_half.div(exp_avg, 1 - beta1 ** t), lr)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        # PyTorch's `number / tensor` is `tensor.reciprocal() * number` (two roundings).
        std = _half.add_scalar(_half.sqrt(exp_avg_sq), eps)
        adaptive_lr = _half.mul(_half.reciprocal(std), bias_correction2 ** 0.5)
        update = _half.mul(_half.mul(update, adaptive_lr), rect)
    param[...] = _half.add(param, update, -1.0)


class RAdam(Optimizer):
    """RAdam (matches `torch.optim.RAdam`)."""

    _sparse_refusal = "RAdam does not support sparse gradients"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": _scalar_tensor(), "exp_avg": _zeros_like(p),
                "exp_avg_sq": _zeros_like(p)}

    def _update(self, param, grad, state, hyper):
        beta1, beta2 = hyper["betas"]
        update = radam_update_half if _half.is_half(param) else radam_update
        update(param, grad, state["step"], state["exp_avg"], state["exp_avg_sq"],
               lr=hyper["lr"], beta1=beta1, beta2=beta2, eps=hyper["eps"],
               weight_decay=hyper["weight_decay"],
               decoupled_weight_decay=hyper["decoupled_weight_decay"],
               maximize=hyper["maximize"])
