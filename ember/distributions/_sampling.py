"""The samplers the distributions need beyond ember.ops.sampling: Gamma and Dirichlet draws
with their reparameterisation gradients, Poisson and binomial counts.

The draws are PyTorch's: torch's samplers on the same generator stream (ember/ops/sampling.py).
"""

from ember._backend import xp
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops import _reparam_grads, sampling


def standard_gamma(alpha: Tensor) -> Tensor:
    """Gamma(α, 1) draws, one per element of alpha, differentiable in alpha."""
    return sampling.standard_gamma(alpha)


def standard_gamma_grad(alpha: Tensor, x: Tensor) -> Tensor:
    """dx/dα for Gamma(α, 1) draws x (the quantity of `torch._standard_gamma_grad`)."""
    return sampling.standard_gamma_grad(alpha, x)


class SampleDirichlet(Op):
    """x ~ Dirichlet(α);  gα = dx/dα·(gy - Σ x·gy), dxᵢ/dαᵢ the marginal Beta draw's
    implicit gradient (PyTorch's `_Dirichlet` function)."""

    @staticmethod
    def forward(ctx, alpha):
        x = sampling.dirichlet_array(alpha._data)  # torch's `_sample_dirichlet`, its numbers
        ctx.alpha, ctx.x = alpha._data, x
        return x

    @staticmethod
    def backward(ctx, gy):
        total = xp.broadcast_to(ctx.alpha.sum(-1, keepdims=True), ctx.alpha.shape)
        grad = Tensor._make(_reparam_grads.dirichlet_grad(ctx.x, ctx.alpha, total))
        x = Tensor._make(ctx.x)
        return grad * (gy - (x * gy).sum(-1, keepdim=True))


def sample_dirichlet(alpha: Tensor) -> Tensor:
    """Dirichlet(α) draws over the last dim, differentiable in α (matches
    `torch._sample_dirichlet` with the `Dirichlet.rsample` gradient)."""
    return SampleDirichlet.apply(alpha)


def poisson(rate: Tensor) -> Tensor:
    """Poisson(rate) counts, in rate's dtype, without gradient (matches `torch.poisson`,
    torch's numbers)."""
    return sampling.poisson(rate.detach())


def binomial(count: Tensor, prob: Tensor) -> Tensor:
    """Binomial(count, prob) counts, in count's dtype, without gradient (matches
    `torch.binomial`, torch's numbers)."""
    return Tensor._make(sampling.binomial_array(count._data, prob._data))
