"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize."""

from ember._backend import xp
from ember._tensor import Tensor
from ember.optim import _half
from ember.optim.optimizer import (Optimizer, _check_fused, _to_scalar, fused_add, required,
                                   update_in_blocks)

# SGD's few passes per element are cheap: measured, two threads only win on parameters of
# about 2M elements or more (`update_in_blocks`).
_MIN_PARALLEL = 1 << 21


def sgd_update(param: xp.ndarray, grad: xp.ndarray, momentum_buffer, *, lr, momentum,
               dampening, weight_decay, nesterov, maximize):
    """One SGD step on `param` in place; returns the (new) momentum buffer.

    g = ±grad + wd·p;  b = g (first step) else μ·b + (1-τ)·g;
    d = g + μ·b (nesterov) else b;  p -= lr·d
    A big parameter is updated block by block on the intra-op threads (`update_in_blocks`).
    """
    first_step = momentum != 0 and momentum_buffer is None
    if first_step:
        momentum_buffer = xp.empty_like(grad)
    constants = (lr, momentum, dampening, weight_decay, nesterov, maximize, first_step)
    arrays = (param, grad, momentum_buffer if momentum != 0 else None)
    update_in_blocks(_sgd_block, arrays, constants, _MIN_PARALLEL)
    return momentum_buffer


def _sgd_block(param, grad, buffer, lr, momentum, dampening, weight_decay, nesterov, maximize,
               first_step):
    """`sgd_update` on arrays of one block (buffer None without momentum; on the first step it
    is filled with g)."""
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = fused_add(grad, weight_decay, param)
    if momentum != 0:
        if first_step:
            buffer[...] = grad
        else:
            buffer *= momentum
            if dampening == 0:
                buffer += grad
            else:
                buffer[...] = fused_add(buffer, 1 - dampening, grad)
        grad = fused_add(grad, momentum, buffer) if nesterov else buffer
    param[...] = fused_add(param, -lr, grad)


@_half.silent
def sgd_update_half(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay,
                    nesterov, maximize):
    """`sgd_update` on a 16-bit param: torch's `_single_tensor_sgd` op by op, each rounded
    once to 16 bits (NOTE [Half-precision optimizer steps] in ember/optim/_half.py)."""
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = _half.add(grad, param, weight_decay)
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = grad.copy()
        else:
            momentum_buffer[...] = _half.add(_half.mul(momentum_buffer, momentum), grad,
                                             1 - dampening)
        grad = _half.add(grad, momentum_buffer, momentum) if nesterov else momentum_buffer
    param[...] = _half.add(param, grad, -lr)
    return momentum_buffer


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (matches `torch.optim.SGD`)."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)

    def _init_state(self, p, group):
        # PyTorch keeps no state without momentum; the buffer is made on the first step.
        return {"momentum_buffer": None} if group["momentum"] != 0 else {}

    def _update(self, param, grad, state, hyper):
        update = sgd_update_half if _half.is_half(param) else sgd_update
        buffer = update(param, grad, state.get("momentum_buffer"), lr=hyper["lr"],
                        momentum=hyper["momentum"], dampening=hyper["dampening"],
                        weight_decay=hyper["weight_decay"], nesterov=hyper["nesterov"],
                        maximize=hyper["maximize"])
        if hyper["momentum"] != 0:
            state["momentum_buffer"] = buffer

    def _sparse_update(self, p, grad, state, hyper):
        """PyTorch's single-tensor SGD on a sparse gradient, in tensor ops: the momentum buffer
        is sparse too, and only the rows the gradient names move (a weight decay, which
        would need sparse + dense, raises as PyTorch's does)."""
        self._tensor_update(p, grad, state, hyper)

    def _differentiable_update(self, p, state, group):
        """differentiable=True: PyTorch's single-tensor SGD in tensor ops, recorded on
        autograd's graph (a Tensor lr or weight_decay that requires grad gets a gradient)."""
        self._tensor_update(p, p.grad, state, group)

    def _tensor_update(self, p, grad, state, hyper):
        """PyTorch's `_single_tensor_sgd` on one parameter, in tensor ops."""
        grad = -grad if hyper["maximize"] else grad
        weight_decay = hyper["weight_decay"]
        if isinstance(weight_decay, Tensor) and weight_decay.requires_grad:
            grad = grad.addcmul_(p.clone(), weight_decay)  # (p.grad itself, as PyTorch's)
        elif weight_decay != 0:
            grad = grad.add(p, alpha=weight_decay)
        momentum = hyper["momentum"]
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = grad.detach().clone()
            else:
                buffer.mul_(momentum).add_(grad, alpha=1 - hyper["dampening"])
            grad = grad.add(buffer, alpha=momentum) if hyper["nesterov"] else buffer
        lr = _to_scalar(hyper["lr"])
        if isinstance(lr, Tensor) and lr.requires_grad:
            p.addcmul_(grad, lr, value=-1)
        else:
            p.add_(grad, alpha=-float(lr))
