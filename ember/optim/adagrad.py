"""Adagrad: per-coordinate learning rates from the running sum of squared gradients."""

from ember._backend import xp
from ember._tensor import Tensor
from ember.optim import _half
from ember.ops.sparse import sparse_coo_tensor
from ember.optim.optimizer import (Optimizer, _check_fused, _check_lr, _increment,
                                   _scalar_tensor)


def adagrad_update(param, grad, step, state_sum, *, lr, lr_decay, weight_decay, eps, maximize):
    """One Adagrad step on `param` in place.

    t += 1;  lr_t = lr / (1 + (t-1)·decay);  s += g²;  p -= lr_t · g / (√s + ε)
    """
    if maximize:
        grad = -grad
    t = _increment(step)
    if weight_decay != 0:
        grad = grad + weight_decay * param
    clr = lr / (1 + (t - 1) * lr_decay)
    state_sum += grad * grad
    param += -clr * (grad / (xp.sqrt(state_sum) + eps))


@_half.silent
def adagrad_update_half(param, grad, step, state_sum, *, lr, lr_decay, weight_decay, eps,
                        maximize):
    """`adagrad_update` on a 16-bit param: torch's `_single_tensor_adagrad` op by op, each
    rounded once to 16 bits (NOTE [Half-precision optimizer steps] in ember/optim/_half.py)."""
    if maximize:
        grad = -grad
    t = _increment(step)
    grad = _half.decayed(param, grad, weight_decay)
    clr = lr / (1 + (t - 1) * lr_decay)
    state_sum[...] = _half.addcmul(state_sum, grad, grad, 1)
    std = _half.add_scalar(_half.sqrt(state_sum), eps)
    param[...] = _half.addcdiv(param, grad, std, -clr)


class Adagrad(Optimizer):
    """Adagrad (matches `torch.optim.Adagrad`); state is created at construction as in PyTorch."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = self._init_state(p, group)

    def _init_state(self, p, group):
        value = group["initial_accumulator_value"]
        if p._data.dtype.kind == "c":  # both parts start at the value, as in PyTorch
            value = complex(value, value)
        return {"step": _scalar_tensor(),
                "sum": Tensor._make(xp.full_like(p._data, value))}

    def _update(self, param, grad, state, hyper):
        update = adagrad_update_half if _half.is_half(param) else adagrad_update
        update(param, grad, state["step"], state["sum"], lr=hyper["lr"],
               lr_decay=hyper["lr_decay"], weight_decay=hyper["weight_decay"],
               eps=hyper["eps"], maximize=hyper["maximize"])

    def _sparse_update(self, p, grad, state, hyper):
        """PyTorch's Adagrad on a sparse gradient: the coalesced gradient's squares added to
        the sum at its rows, and only those rows of p moved, by g / (√sum + ε) there."""
        t = _increment(state["step"]._data)
        grad = -grad if hyper["maximize"] else grad
        if hyper["weight_decay"] != 0:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        clr = hyper["lr"] / (1 + (t - 1) * hyper["lr_decay"])
        grad = grad.coalesce()  # the update is not linear: one entry per row
        values = grad._values()
        state["sum"].add_(_with_values(grad, values.pow(2)))
        std = state["sum"].sparse_mask(grad)._values().sqrt_().add_(hyper["eps"])
        p.add_(_with_values(grad, values / std), alpha=-clr)


def _with_values(grad, values):
    """A sparse tensor with grad's indices and size holding `values` (PyTorch's _make_sparse)."""
    return sparse_coo_tensor(grad._indices(), values, grad.shape)
