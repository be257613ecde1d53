"""The von Mises distribution on the circle (matches `torch.distributions.VonMises`)."""

import math

from ember import _dtype
from ember._device import Size
from ember.autograd.grad_mode import no_grad
from ember.distributions import constraints
from ember.distributions.distribution import Distribution
from ember.distributions.utils import broadcast_all, lazy_property
from ember.ops.comparison import where
from ember.ops.creation import rand, zeros

__all__ = ["VonMises"]

# NOTE [Bessel functions of the von Mises normaliser]
# log I₀(κ) and log I₁(κ) by the polynomial approximations of Abramowitz & Stegun 9.8.1-9.8.4
# (relative error below 2e-7), in powers of (κ/3.75)² for κ < 3.75 and of 3.75/κ above, with
# e^κ/√κ factored out. PyTorch uses the same approximations, so values and gradients agree.
_SMALL = {
    0: [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2],
    1: [0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3],
}
_LARGE = {
    0: [0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2, -0.2057706e-1,
        0.2635537e-1, -0.1647633e-1, 0.392377e-2],
    1: [0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1, 0.2282967e-1,
        -0.2895312e-1, 0.1787654e-1, -0.420059e-2],
}


def _polynomial(y, coefficients):
    """Σ cᵢ·yⁱ by Horner's rule."""
    result = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        result = c + y * result
    return result


def log_modified_bessel(x, order=0):
    """log Iₒ(x) for x > 0 and order 0 or 1 (NOTE [Bessel functions of the von Mises ...])."""
    small = _polynomial((x / 3.75) ** 2, _SMALL[order])
    if order == 1:
        small = x.abs() * small
    large = x - 0.5 * x.log() + _polynomial(3.75 / x, _LARGE[order]).log()
    return where(x < 3.75, small.log(), large)


class VonMises(Distribution):
    """p(θ) = exp(κ·cos(θ - loc)) / (2π·I₀(κ)) on [-π, π) (matches
    `torch.distributions.VonMises`)."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, Size(), validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(VonMises, _instance)
        batch_shape = Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        return self._finish_expand(new, batch_shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return (self.concentration * (value - self.loc).cos() - math.log(2 * math.pi)
                - log_modified_bessel(self.concentration, order=0))

    @lazy_property
    def _proposal_r(self):
        """The wrapped-Cauchy envelope's parameter of Best & Fisher's sampler (float64)."""
        kappa = self.concentration.to(_dtype.float64)
        tau = 1 + (1 + 4 * kappa ** 2).sqrt()
        rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
        return where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho ** 2) / (2 * rho))

    def sample(self, sample_shape=Size()):
        """Best & Fisher (1979) rejection sampling in float64, all draws at once, as PyTorch:
        each round draws rand((3,) + shape) and every accepted element takes the round's value
        (a later acceptance overwrites an earlier one, as in torch's `_rejection_sample`)."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            kappa = self.concentration.to(_dtype.float64)
            r = self._proposal_r.detach()
            x = zeros(shape, dtype=_dtype.float64)
            done = zeros(shape, dtype=_dtype.bool)
            while not bool(done.all()):
                u1, u2, u3 = rand((3,) + tuple(shape), dtype=_dtype.float64).unbind(0)
                z = (math.pi * u1).cos()
                f = (1 + r * z) / (r + z)
                c = kappa * (r - f)
                accept = ((c * (2 - c) - u2) > 0) | ((c / u2).log() + 1 - c >= 0)
                if bool(accept.any()):
                    x = where(accept, (u3 - 0.5).sign() * f.acos(), x)
                    done = done | accept
            angle = (x + math.pi + self.loc.to(_dtype.float64)) % (2 * math.pi) - math.pi
            return angle.to(self.loc.dtype)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        """1 - I₁(κ)/I₀(κ) (the circular variance)."""
        return 1 - (log_modified_bessel(self.concentration, order=1)
                    - log_modified_bessel(self.concentration, order=0)).exp()
