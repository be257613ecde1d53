"""Rprop: a step size per weight, grown while its gradient keeps its sign, shrunk when it flips."""

from ember._backend import xp
from ember._tensor import Tensor
from ember.ops.unary import sign_array
from ember.optim.optimizer import (Optimizer, _check_lr, _increment, _require,
                                    _scalar_tensor, _zeros_like)


def rprop_update(param, grad, step, prev, step_size, *, etaminus, etaplus, step_size_min,
                 step_size_max, maximize):
    """One Rprop step on `param` in place (torch's `_single_tensor_rprop`; a complex parameter
    comes as real views, see `Optimizer._dense_update`).

    s = sign(g·g_prev) -> η+ (same sign), η- (flipped), 1 (a zero or NaN product);
    Δ = clamp(Δ·s, Δmin, Δmax);  g = 0 where flipped;  p -= sign(g)·Δ;  g_prev = g
    """
    if maximize:
        grad = -grad
    _increment(step)
    product = grad * prev
    factor = xp.ones_like(product)  # (torch's sign of NaN is 0: a factor of 1)
    factor[product > 0] = etaplus
    flipped = product < 0
    factor[flipped] = etaminus
    step_size *= factor
    xp.clip(step_size, step_size_min, step_size_max, out=step_size)
    grad = xp.where(flipped, grad.dtype.type(0), grad)
    param -= sign_array(grad) * step_size  # (torch's sign: 0 at NaN)
    prev[...] = grad


class Rprop(Optimizer):
    """Resilient backpropagation (matches `torch.optim.Rprop`)."""

    _sparse_refusal = "Rprop does not support sparse gradients"
    _capturable_xla = (True, True)

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        _require(0.0 < etas[0] < 1.0 < etas[1], f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        lr = float(group["lr"])
        fill = complex(lr, lr) if p._data.dtype.kind == "c" else lr  # (both parts, as torch)
        return {"step": _scalar_tensor(), "prev": _zeros_like(p),
                "step_size": Tensor._make(xp.full_like(p._data, fill))}

    def _update(self, param, grad, state, hyper):
        (etaminus, etaplus), (step_size_min, step_size_max) = hyper["etas"], hyper["step_sizes"]
        rprop_update(param, grad, state["step"], state["prev"], state["step_size"],
                     etaminus=etaminus, etaplus=etaplus, step_size_min=step_size_min,
                     step_size_max=step_size_max, maximize=hyper["maximize"])
