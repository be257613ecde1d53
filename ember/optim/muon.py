"""Muon: momentum SGD for 2-d weights whose update is orthogonalised by a few Newton–Schulz
iterations in bfloat16 (matches `torch.optim.Muon`)."""

import math

from ember._tensor import Tensor
from ember.ops.linalg import addmm
from ember.optim.optimizer import Optimizer, _check_lr, _require, _zeros_like

EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315  # Keller Jordan's quintic
DEFAULT_NS_STEPS = 5


def _zeropower_via_newtonschulz(grad: Tensor, ns_coefficients, ns_steps: int, eps: float):
    """About U·Vᵀ for G = U·S·Vᵀ: G scaled to norm <= 1 then X ← a·X + (b·A + c·A²)·X with
    A = X·Xᵀ, ns_steps times, in bfloat16 on the wide side's transpose (torch's iteration)."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if len(grad.shape) != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    tall = grad.shape[0] > grad.shape[1]
    x = grad.bfloat16()
    if tall:
        x = x.T
    x = x / x.norm().clamp(min=eps)
    for _ in range(ns_steps):
        gram = x @ x.T
        x = addmm(x, addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return x.T if tall else x


def _adjust_lr(lr: float, adjust_lr_fn, param_shape) -> float:
    """The update's scale per shape: √max(1, A/B) ("original"), 0.2·√max(A, B)
    ("match_rms_adamw": AdamW's RMS)."""
    rows, cols = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    """Muon (matches `torch.optim.Muon`): for 2-d parameters only."""

    _sparse_refusal = "Muon does not support sparse gradients"

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS,
                 ns_steps=DEFAULT_NS_STEPS, adjust_lr_fn=None):
        _check_lr(lr, "Learning rate should be >= 0 but is: {}")
        _require(0.0 <= momentum, f"momentum should be >= 0 but is: {momentum}")
        _require(0.0 <= weight_decay, f"weight decay should be >= 0 but is: {weight_decay}")
        _require(adjust_lr_fn in (None, "original", "match_rms_adamw"),
                 f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum,
                    "nesterov": nesterov, "ns_coefficients": ns_coefficients, "eps": eps,
                    "ns_steps": ns_steps, "adjust_lr_fn": adjust_lr_fn}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    def _init_state(self, p, group):
        if p.dtype.is_complex:
            raise RuntimeError("Muon does not support complex parameters")
        return {"momentum_buffer": _zeros_like(p)}

    def _update(self, param, grad, state, hyper):
        """B ← lerp(B, g, 1 - μ); update = lerp(g, B, μ) (Nesterov) or B, orthogonalised;
        p ← p·(1 - lr·wd) - lr'·update."""
        g, buf = Tensor._make(grad), Tensor._make(state["momentum_buffer"])
        momentum = hyper["momentum"]
        buf.lerp_(g, 1 - momentum)
        update = g.lerp(buf, momentum) if hyper["nesterov"] else buf
        update = _zeropower_via_newtonschulz(update, hyper["ns_coefficients"],
                                             hyper["ns_steps"], hyper["eps"])
        lr = hyper["lr"]
        adjusted = _adjust_lr(lr, hyper["adjust_lr_fn"], param.shape)
        p = Tensor._make(param)
        p.mul_(1 - lr * hyper["weight_decay"])
        p.add_(update, alpha=-adjusted)
