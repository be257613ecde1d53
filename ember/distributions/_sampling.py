"""The samplers the distributions need beyond ember.ops.sampling: Gamma and Dirichlet draws
with their reparameterisation gradients, Poisson and binomial counts.

The draws are PyTorch's: torch's samplers on the same generator stream (ember/ops/sampling.py).
"""

from ember import _scipy
from ember._backend import xp
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops import sampling


def _gamma_sample_grad(alpha, x):
    """dx/dα of a Gamma(α, 1) draw x, by implicit differentiation of its CDF P(α, x).

    NOTE [Implicit reparameterisation of Gamma]
    x = F⁻¹(u; α) with u fixed, so dx/dα = -∂P(α, x)/∂α / p(x; α). ∂P/∂α (the regularised lower
    incomplete gamma's derivative in its shape) has no closed form: a central difference in
    float64 with a relative step of 1e-5 is accurate to ~1e-9. PyTorch uses series expansions
    (`_standard_gamma_grad`) for the same quantity.
    """
    a = alpha.astype(xp.float64)
    v = x.astype(xp.float64)
    gammainc, gammaln = _scipy.function("gammainc"), _scipy.function("gammaln")
    h = 1e-5 * a
    dP_da = (gammainc(a + h, v) - gammainc(a - h, v)) / (2 * h)
    with xp.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log_pdf = (a - 1) * xp.log(v) - v - gammaln(a)
        result = -dP_da / xp.exp(log_pdf)
    return xp.where(xp.isfinite(result), result, 0.0).astype(alpha.dtype)


class StandardGamma(Op):
    """x ~ Gamma(α, 1);  gα = gy·dx/dα (NOTE [Implicit reparameterisation of Gamma])."""

    @staticmethod
    def forward(ctx, alpha):
        a = alpha._data
        x = sampling.standard_gamma_array(a)  # torch's draws, clamped to the smallest normal
        ctx.save_for_backward(alpha)
        ctx.x = x
        return x

    @staticmethod
    def backward(ctx, gy):
        (alpha,) = ctx.saved_tensors
        return gy * Tensor._make(_gamma_sample_grad(alpha._data, ctx.x))


def standard_gamma(alpha: Tensor) -> Tensor:
    """Gamma(α, 1) draws, one per element of alpha, differentiable in alpha."""
    return StandardGamma.apply(alpha)


def standard_gamma_grad(alpha: Tensor, x: Tensor) -> Tensor:
    """dx/dα for Gamma(α, 1) draws x (the quantity of `torch._standard_gamma_grad`)."""
    return Tensor._make(_gamma_sample_grad(alpha._data, x._data))


def _dirichlet_sample_grad(x, alpha, total):
    """dxᵢ/dαᵢ / (1 - xᵢ) for a Beta(αᵢ, total - αᵢ) draw xᵢ at fixed total - αᵢ (the scaled
    quantity of `torch._dirichlet_grad`), by implicit differentiation of the Beta CDF
    I(x; α, β) as in NOTE [Implicit reparameterisation of Gamma]: -∂I/∂α / p(x; α, β),
    ∂I/∂α by a central difference in float64."""
    a, v = alpha.astype(xp.float64), x.astype(xp.float64)
    b = total.astype(xp.float64) - a
    betainc, betaln = _scipy.function("betainc"), _scipy.function("betaln")
    h = 1e-5 * a
    dI_da = (betainc(a + h, b, v) - betainc(a - h, b, v)) / (2 * h)
    with xp.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log_pdf = (a - 1) * xp.log(v) + (b - 1) * xp.log1p(-v) - betaln(a, b)
        result = -dI_da / xp.exp(log_pdf) / (1 - v)
    return xp.where(xp.isfinite(result), result, 0.0).astype(alpha.dtype)


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
        grad = Tensor._make(_dirichlet_sample_grad(ctx.x, ctx.alpha, total))
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
