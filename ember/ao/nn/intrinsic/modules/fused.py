"""Fused module containers (matches `torch.ao.nn.intrinsic.modules.fused`).

Each is an `nn.Sequential` of the modules `fuse_modules` joined (a Conv2d and its ReLU, ...),
checked for their exact types; it runs them in turn. Quantization would swap one for a single
fused quantized kernel; in float it computes what its modules did.
"""

from ember import nn
from ember.nn.utils.parametrize import type_before_parametrizations

__all__ = ["ConvReLU1d", "ConvReLU2d", "ConvReLU3d", "LinearReLU", "ConvBn1d", "ConvBn2d",
           "ConvBnReLU1d", "ConvBnReLU2d", "ConvBn3d", "ConvBnReLU3d", "BNReLU2d", "BNReLU3d",
           "LinearBn1d", "LinearLeakyReLU", "LinearTanh", "ConvAdd2d", "ConvAddReLU2d"]


class _FusedModule(nn.Sequential):
    """The base of the fused containers (how quantization recognises them)."""


def _check_types(modules, expected) -> None:
    """Each module is exactly of its expected type, or torch's AssertionError."""
    types = [type_before_parametrizations(m) for m in modules]
    if any(t is not e for t, e in zip(types, expected)):
        names = [t.__name__ for t in types]
        listed = (" and ".join(names) if len(names) == 2
                  else ", ".join(names[:-1]) + ", and " + names[-1])
        raise AssertionError(f"Incorrect types for input modules: {listed}")


class ConvReLU1d(_FusedModule):
    """A sequential container calling the Conv1d and ReLU modules."""

    def __init__(self, conv, relu):
        _check_types((conv, relu), (nn.Conv1d, nn.ReLU))
        super().__init__(conv, relu)


class ConvReLU2d(_FusedModule):
    """A sequential container calling the Conv2d and ReLU modules."""

    def __init__(self, conv, relu):
        _check_types((conv, relu), (nn.Conv2d, nn.ReLU))
        super().__init__(conv, relu)


class ConvReLU3d(_FusedModule):
    """A sequential container calling the Conv3d and ReLU modules."""

    def __init__(self, conv, relu):
        _check_types((conv, relu), (nn.Conv3d, nn.ReLU))
        super().__init__(conv, relu)


class LinearReLU(_FusedModule):
    """A sequential container calling the Linear and ReLU modules."""

    def __init__(self, linear, relu):
        _check_types((linear, relu), (nn.Linear, nn.ReLU))
        super().__init__(linear, relu)


class ConvBn1d(_FusedModule):
    """A sequential container calling the Conv1d and BatchNorm1d modules."""

    def __init__(self, conv, bn):
        _check_types((conv, bn), (nn.Conv1d, nn.BatchNorm1d))
        super().__init__(conv, bn)


class ConvBn2d(_FusedModule):
    """A sequential container calling the Conv2d and BatchNorm2d modules."""

    def __init__(self, conv, bn):
        _check_types((conv, bn), (nn.Conv2d, nn.BatchNorm2d))
        super().__init__(conv, bn)


class ConvBnReLU1d(_FusedModule):
    """A sequential container calling the Conv1d, BatchNorm1d and ReLU modules."""

    def __init__(self, conv, bn, relu):
        _check_types((conv, bn, relu), (nn.Conv1d, nn.BatchNorm1d, nn.ReLU))
        super().__init__(conv, bn, relu)


class ConvBnReLU2d(_FusedModule):
    """A sequential container calling the Conv2d, BatchNorm2d and ReLU modules."""

    def __init__(self, conv, bn, relu):
        _check_types((conv, bn, relu), (nn.Conv2d, nn.BatchNorm2d, nn.ReLU))
        super().__init__(conv, bn, relu)


class ConvBn3d(_FusedModule):
    """A sequential container calling the Conv3d and BatchNorm3d modules."""

    def __init__(self, conv, bn):
        _check_types((conv, bn), (nn.Conv3d, nn.BatchNorm3d))
        super().__init__(conv, bn)


class ConvBnReLU3d(_FusedModule):
    """A sequential container calling the Conv3d, BatchNorm3d and ReLU modules."""

    def __init__(self, conv, bn, relu):
        _check_types((conv, bn, relu), (nn.Conv3d, nn.BatchNorm3d, nn.ReLU))
        super().__init__(conv, bn, relu)


class BNReLU2d(_FusedModule):
    """A sequential container calling the BatchNorm2d and ReLU modules."""

    def __init__(self, batch_norm, relu):
        _check_types((batch_norm, relu), (nn.BatchNorm2d, nn.ReLU))
        super().__init__(batch_norm, relu)


class BNReLU3d(_FusedModule):
    """A sequential container calling the BatchNorm3d and ReLU modules."""

    def __init__(self, batch_norm, relu):
        _check_types((batch_norm, relu), (nn.BatchNorm3d, nn.ReLU))
        super().__init__(batch_norm, relu)


class LinearBn1d(_FusedModule):
    """A sequential container calling the Linear and BatchNorm1d modules."""

    def __init__(self, linear, bn):
        _check_types((linear, bn), (nn.Linear, nn.BatchNorm1d))
        super().__init__(linear, bn)


class LinearLeakyReLU(_FusedModule):
    """A sequential container calling the Linear and LeakyReLU modules."""

    def __init__(self, linear, leaky_relu):
        _check_types((linear, leaky_relu), (nn.Linear, nn.LeakyReLU))
        super().__init__(linear, leaky_relu)


class LinearTanh(_FusedModule):
    """A sequential container calling the Linear and Tanh modules."""

    def __init__(self, linear, tanh):
        _check_types((linear, tanh), (nn.Linear, nn.Tanh))
        super().__init__(linear, tanh)


class ConvAdd2d(_FusedModule):
    """A Conv2d whose output is added to a second input by `add`."""

    def __init__(self, conv, add):
        super().__init__(conv)
        self.add = add

    def forward(self, x1, x2):
        """add(conv(x1), x2)."""
        return self.add(self[0](x1), x2)


class ConvAddReLU2d(_FusedModule):
    """A Conv2d whose output is added to a second input by `add`, then ReLU."""

    def __init__(self, conv, add, relu):
        super().__init__(conv)
        self.add = add
        self.relu = relu

    def forward(self, x1, x2):
        """relu(add(conv(x1), x2))."""
        return self.relu(self.add(self[0](x1), x2))
