"""RMSprop, optionally centered and with momentum."""

from ember._backend import xp
from ember.optim import _half
from ember.optim.optimizer import (Optimizer, _check_lr, _increment, _scalar_tensor,
                                   _zeros_like)


def rmsprop_update(param, grad, step, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps,
                   weight_decay, momentum, centered, maximize):
    """One RMSprop step on `param` in place.

    v = α·v + (1-α)·g²;  centered: ḡ = α·ḡ + (1-α)·g, s = √(v - ḡ²) + ε, else s = √v + ε;
    momentum: b = μ·b + g/s, p -= lr·b;  otherwise p -= lr·g/s
    """
    if maximize:
        grad = -grad
    _increment(step)
    if weight_decay != 0:
        grad = grad + weight_decay * param
    square_avg *= alpha
    square_avg += (1 - alpha) * (grad * grad)
    if centered:
        grad_avg += (1 - alpha) * (grad - grad_avg)
        avg = xp.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        avg = xp.sqrt(square_avg) + eps
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += grad / avg
        param -= lr * momentum_buffer
    else:
        param += -lr * (grad / avg)


@_half.silent
def rmsprop_update_half(param, grad, step, square_avg, grad_avg, momentum_buffer, *, lr, alpha,
                        eps, weight_decay, momentum, centered, maximize):
    """`rmsprop_update` on a 16-bit param: torch's `_single_tensor_rmsprop` op by op, each
    rounded once to 16 bits (NOTE [Half-precision optimizer steps] in ember/optim/_half.py)."""
    if maximize:
        grad = -grad
    _increment(step)
    if weight_decay != 0:
        grad = _half.add(grad, param, weight_decay)
    square_avg[...] = _half.addcmul(_half.mul(square_avg, alpha), grad, grad, 1 - alpha)
    if centered:
        grad_avg[...] = _half.lerp(grad_avg, grad, 1 - alpha)
        avg = _half.sqrt(_half.addcmul(square_avg, grad_avg, grad_avg, -1))
    else:
        avg = _half.sqrt(square_avg)
    avg = _half.add_scalar(avg, eps)
    if momentum > 0:
        momentum_buffer[...] = _half.addcdiv(_half.mul(momentum_buffer, momentum), grad, avg)
        param[...] = _half.add(param, momentum_buffer, -lr)
    else:
        param[...] = _half.addcdiv(param, grad, avg, -lr)


class RMSprop(Optimizer):
    """RMSprop (matches `torch.optim.RMSprop`)."""

    _sparse_refusal = "RMSprop does not support sparse gradients"
    _capturable_xla = (True, True)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay,
                    "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        state = {"step": _scalar_tensor(), "square_avg": _zeros_like(p)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = _zeros_like(p)
        return state

    def _update(self, param, grad, state, hyper):
        update = rmsprop_update_half if _half.is_half(param) else rmsprop_update
        update(param, grad, state["step"], state["square_avg"], state.get("grad_avg"),
               state.get("momentum_buffer"), lr=hyper["lr"], alpha=hyper["alpha"],
               eps=hyper["eps"], weight_decay=hyper["weight_decay"],
               momentum=hyper["momentum"], centered=hyper["centered"],
               maximize=hyper["maximize"])
