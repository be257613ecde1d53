"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""

from ember._backend import xp
from ember.optim import _half
from ember.optim.adam import _check_adam_args
from ember.optim.optimizer import Optimizer, _increment, _scalar_tensor, _zeros_like


def nadam_update(param, grad, step, mu_product, exp_avg, exp_avg_sq, *, lr, beta1, beta2, eps,
                 weight_decay, momentum_decay, decoupled_weight_decay, maximize):
    """One NAdam step on `param` in place (mu_product is a 0-d array updated in place).

    μ_t = β1·(1 - ½·0.96^(t·ψ));  Π_t = Π_{t-1}·μ_t;  m, v as in Adam;  s = √(v/(1-β2ᵗ)) + ε
    p -= lr·(1-μ_t)/(1-Π_t) · g/s + lr·μ_{t+1}/(1-Π_t·μ_{t+1}) · m/s
    """
    if maximize:
        grad = -grad
    t = _increment(step)
    bias_correction2 = 1 - beta2 ** t
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))
    mu_product *= mu
    product = float(mu_product)
    exp_avg += (1 - beta1) * (grad - exp_avg)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * (grad * grad)
    denom = xp.sqrt(exp_avg_sq / bias_correction2) + eps
    param += (-lr * (1.0 - mu) / (1.0 - product)) * (grad / denom)
    param += (-lr * mu_next / (1.0 - product * mu_next)) * (exp_avg / denom)


@_half.silent
def nadam_update_half(param, grad, step, mu_product, exp_avg, exp_avg_sq, *, lr, beta1, beta2,
                      eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize):
    """`nadam_update` on a 16-bit param: torch's `_single_tensor_nadam` op by op, each rounded
    once to 16 bits (NOTE [Half-precision optimizer steps] in ember/optim/_half.py)."""
    if maximize:
        grad = -grad
    t = _increment(step)
    bias_correction2 = 1 - beta2 ** t
    grad = _half.decayed(param, grad, weight_decay, decoupled_weight_decay, lr)
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))
    mu_product *= mu  # (a float32 0-d state, as in PyTorch)
    product = float(mu_product)
    _half.adam_moments(exp_avg, exp_avg_sq, grad, beta1, beta2)
    denom = _half.add_scalar(_half.sqrt(_half.div(exp_avg_sq, bias_correction2)), eps)
    param[...] = _half.addcdiv(param, grad, denom, -lr * (1.0 - mu) / (1.0 - product))
    param[...] = _half.addcdiv(param, exp_avg, denom,
                               (-lr * mu_next) / (1.0 - product * mu_next))


class NAdam(Optimizer):
    """NAdam (matches `torch.optim.NAdam`)."""

    _sparse_refusal = "NAdam does not support sparse gradients"
    _capturable_names = ("params, mu_products and state_steps",
                         "params, mu_products, and state_steps")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": _scalar_tensor(), "mu_product": _scalar_tensor(1.0),
                "exp_avg": _zeros_like(p), "exp_avg_sq": _zeros_like(p)}

    def _update(self, param, grad, state, hyper):
        beta1, beta2 = hyper["betas"]
        update = nadam_update_half if _half.is_half(param) else nadam_update
        update(param, grad, state["step"], state["mu_product"], state["exp_avg"],
               state["exp_avg_sq"], lr=hyper["lr"], beta1=beta1, beta2=beta2,
               eps=hyper["eps"], weight_decay=hyper["weight_decay"],
               momentum_decay=hyper["momentum_decay"],
               decoupled_weight_decay=hyper["decoupled_weight_decay"],
               maximize=hyper["maximize"])
