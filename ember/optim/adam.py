"""Adam and AdamW (Adam with decoupled weight decay), with AMSGrad and maximize."""

from ember._backend import xp
from ember._tensor import Tensor
from ember.optim import _half
from ember.ops.complex import view_as_real
from ember.ops.comparison import maximum
from ember.optim.optimizer import (Optimizer, _check_fused, _check_lr, _increment,
                                   _scalar_tensor, _to_scalar, _zeros_like, update_in_blocks)

# Measured, Adam's dozen passes per element make two threads pay from about half a million
# elements (`update_in_blocks`).
_MIN_PARALLEL = 1 << 19


def adam_update(param, grad, step, exp_avg, exp_avg_sq, max_exp_avg_sq, *, lr, beta1, beta2,
                eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
    """One Adam step on `param` in place (moments updated in place too).

    t += 1;  m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;  v̂ = max(v̂, v) (amsgrad)
    p -= lr/(1-β1ᵗ) · m / (√v / √(1-β2ᵗ) + ε)
    Weight decay adds wd·p to g (Adam) or scales p by 1 - lr·wd first (AdamW). Every step goes
    through one scratch array, in place: a fresh temporary per operation costs more than the
    arithmetic on large parameters (the allocator hands big blocks back to the OS each time).
    A big parameter is updated block by block on the intra-op threads (`update_in_blocks`).
    """
    if maximize:
        grad = -grad
    t = _increment(step)
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    arrays = (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq if amsgrad else None)
    constants = (beta1, beta2, 1 - beta1 ** t, (1 - beta2 ** t) ** 0.5, eps, lr)
    update_in_blocks(_adam_block, arrays, constants, _MIN_PARALLEL)


def _adam_block(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, beta1, beta2,
                bias_correction1, bias_correction2_sqrt, eps, lr):
    """The Adam update of `adam_update` on arrays of one block (max_exp_avg_sq None unless
    amsgrad)."""
    scratch = xp.subtract(grad, exp_avg)
    scratch *= 1 - beta1
    exp_avg += scratch
    exp_avg_sq *= beta2
    xp.multiply(grad, grad, out=scratch)
    scratch *= 1 - beta2
    exp_avg_sq += scratch
    if max_exp_avg_sq is not None:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    else:
        second = exp_avg_sq
    denom = xp.sqrt(second, out=scratch)
    denom /= bias_correction2_sqrt
    denom += eps
    xp.divide(exp_avg, denom, out=denom)
    denom *= -lr / bias_correction1
    param += denom


@_half.silent
def adam_update_half(param, grad, step, exp_avg, exp_avg_sq, max_exp_avg_sq, *, lr, beta1,
                     beta2, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
    """`adam_update` on a 16-bit param: torch's `_single_tensor_adam` op by op, each rounded
    once to 16 bits (NOTE [Half-precision optimizer steps] in ember/optim/_half.py)."""
    if maximize:
        grad = -grad
    t = _increment(step)
    grad = _half.decayed(param, grad, weight_decay, decoupled_weight_decay, lr)
    _half.adam_moments(exp_avg, exp_avg_sq, grad, beta1, beta2)
    second = exp_avg_sq
    if amsgrad:
        second = xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    denom = _half.add_scalar(_half.div(_half.sqrt(second), (1 - beta2 ** t) ** 0.5), eps)
    param[...] = _half.addcdiv(param, exp_avg, denom, -(lr / (1 - beta1 ** t)))


class Adam(Optimizer):
    """Adam (matches `torch.optim.Adam`)."""

    _sparse_refusal = "Adam does not support sparse gradients, please consider SparseAdam instead"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        tensor_unsupported = foreach and not capturable  # (foreach without capturable)
        if isinstance(lr, Tensor) and tensor_unsupported:
            raise ValueError(
                "lr as a Tensor is not supported for capturable=False and foreach=True")
        _check_adam_args(lr, betas, eps, weight_decay)
        _check_betas_types(betas, tensor_unsupported)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)

    def _init_state(self, p, group):
        state = {"step": _scalar_tensor(), "exp_avg": _zeros_like(p),
                 "exp_avg_sq": _zeros_like(p)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_like(p)
        return state

    def _update(self, param, grad, state, hyper):
        beta1, beta2 = hyper["betas"]
        update = adam_update_half if _half.is_half(param) else adam_update
        update(param, grad, state["step"], state["exp_avg"], state["exp_avg_sq"],
               state.get("max_exp_avg_sq"), lr=hyper["lr"], beta1=float(beta1),
               beta2=float(beta2), eps=hyper["eps"], weight_decay=hyper["weight_decay"],
               amsgrad=hyper["amsgrad"], maximize=hyper["maximize"],
               decoupled_weight_decay=hyper["decoupled_weight_decay"])

    def _differentiable_update(self, p, state, group):
        """differentiable=True: PyTorch's single-tensor Adam in tensor ops, recorded on
        autograd's graph (its differentiable branch: bias corrections as tensors of the step)."""
        adam_tensor_update(p, state, group)


def adam_tensor_update(p, state, group):
    """PyTorch's `_single_tensor_adam` with differentiable=True on one parameter, op by op."""
    grad = -p.grad if group["maximize"] else p.grad
    lr = _to_scalar(group["lr"])
    beta1, beta2 = (_to_scalar(b) for b in group["betas"])
    weight_decay, step = group["weight_decay"], state["step"]
    step += 1
    if weight_decay != 0:
        if group["decoupled_weight_decay"]:
            p.mul_(1 - lr * weight_decay)
        elif isinstance(weight_decay, Tensor) and weight_decay.requires_grad:
            grad = grad.addcmul_(p.clone(), weight_decay)
        else:
            grad = grad.add(p, alpha=weight_decay)
    param, exp_avg, exp_avg_sq = p, state["exp_avg"], state["exp_avg_sq"]
    max_exp_avg_sq = state.get("max_exp_avg_sq")
    if p.is_complex():
        param, grad, exp_avg, exp_avg_sq = (view_as_real(t) for t in (p, grad, exp_avg,
                                                                      exp_avg_sq))
        max_exp_avg_sq = None if max_exp_avg_sq is None else view_as_real(max_exp_avg_sq)
    exp_avg.lerp_(grad, 1 - beta1)
    if _requires_grad(beta2):
        exp_avg_sq.lerp_(grad.square(), weight=1 - beta2)
    else:
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    bias_correction1 = 1 - beta1 ** (step.clone() if _requires_grad(beta1) else step)
    bias_correction2 = 1 - beta2 ** (step.clone() if _requires_grad(beta2) else step)
    step_size_neg = (lr / bias_correction1).neg()
    bias_correction2_sqrt = bias_correction2.sqrt()
    second = exp_avg_sq
    if group["amsgrad"]:
        max_exp_avg_sq.copy_(maximum(max_exp_avg_sq.clone(), exp_avg_sq))
        second = max_exp_avg_sq
    denom = (second.sqrt() / (bias_correction2_sqrt * step_size_neg)).add_(
        group["eps"] / step_size_neg)
    param.addcdiv_(exp_avg.clone(), denom)


def _requires_grad(value) -> bool:
    """Whether a hyperparameter is a tensor that requires grad (PyTorch's tensor branches)."""
    return isinstance(value, Tensor) and value.requires_grad


class AdamW(Adam):
    """Adam with decoupled weight decay (matches `torch.optim.AdamW`)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


def _check_adam_args(lr, betas, eps, weight_decay):
    """The argument checks shared by the Adam family, with PyTorch's messages."""
    _check_lr(lr)
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def _check_betas_types(betas, tensor_unsupported: bool) -> None:
    """Adam's checks of the betas' types: both floats (an int is refused) or both 1-element
    Tensors (not with foreach=True unless capturable)."""
    if not (all(isinstance(b, float) for b in betas[:2])
            or all(isinstance(b, Tensor) for b in betas[:2])):
        raise ValueError("betas must be either both floats or both Tensors")
    for i, beta in enumerate(betas[:2]):
        if isinstance(beta, Tensor):
            if tensor_unsupported:
                raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                 "capturable=False and foreach=True")
            if beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
