"""Ready-made parametrizations (matches `torch.nn.utils.parametrizations`): weight_norm,
spectral_norm and orthogonal, registered through ember/nn/utils/parametrize.py."""

from ember.autograd.grad_mode import no_grad
from ember.nn.modules.module import Module
from ember.nn.utils._orthogonal import _OrthMaps, orthogonal  # noqa: F401 - re-exported
from ember.nn.utils.parametrize import register_parametrization
from ember.ops.creation import randn


def _norm_except_dim(v, dim):
    """The 2-norm of v over every dimension but `dim`, kept for broadcasting (as
    `torch.norm_except_dim`); dim=-1 (what None maps to) is PyTorch's code for the norm of the
    whole tensor, a 0-d result, not the last dimension."""
    if dim == -1:
        return v.norm(2)
    dims = [d for d in range(v.dim()) if d != dim % max(v.dim(), 1)]
    return v.norm(2, dim=dims, keepdim=True) if dims else v.abs()


class _WeightNorm(Module):
    """w = g · v / ‖v‖ (norm over all dims but `dim`); originals (g, v)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrize module.name as g·v/‖v‖ (matches `parametrizations.weight_norm`)."""
    register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    """w / σ(w), σ estimated by power iteration on buffers u, v (updated in training mode)."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.dim()
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            matrix = self._reshape_weight_to_matrix(weight)
            h, w = matrix.shape
            u = randn(h, dtype=weight.dtype)
            v = randn(w, dtype=weight.dtype)
            self.register_buffer("_u", u / u.norm().clamp_min(eps))
            self.register_buffer("_v", v / v.norm().clamp_min(eps))
            self._power_method(matrix, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *[d for d in range(weight.dim()) if d != self.dim])
        return weight.flatten(1)

    def _power_method(self, matrix, n_power_iterations):
        with no_grad():
            for _ in range(n_power_iterations):
                u = matrix.mv(self._v)
                self._u = u / u.norm().clamp_min(self.eps)
                v = matrix.t().mv(self._u)
                self._v = v / v.norm().clamp_min(self.eps)

    def forward(self, weight):
        if weight.dim() == 1:
            return weight / weight.norm().clamp_min(self.eps)
        matrix = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = u.dot(matrix.mv(v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide module.name by its spectral norm (matches `parametrizations.spectral_norm`)."""
    weight = getattr(module, name, None)
    if weight is None:
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


__all__ = ["spectral_norm", "weight_norm"]
