"""Lazy modules: layers that take their input size from the first input (matches
`torch.nn.LazyLinear`, `LazyConv*`, `LazyConvTranspose*`, `LazyBatchNorm*`, `LazyInstanceNorm*`).

NOTE [How a lazy module becomes its layer]
A lazy layer starts with `UninitializedParameter`s (no shape yet) and a forward pre-hook. The
first call reads the missing size from the input (`in_features` = last dim, channels = dim 1,
or dim 0 for an unbatched input), materializes the parameters, runs the layer's
`reset_parameters` (the same init as the eager layer), removes the hook and changes the
module's class to the eager one (`LazyLinear` -> `Linear`), as PyTorch does. Loading a
state_dict into a lazy module materializes its parameters with the stored shapes first.
"""

from ember.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from ember.nn.modules.conv import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,
                                   ConvTranspose3d)
from ember.nn.modules.instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from ember.nn.modules.linear import Linear
from ember.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from ember.ops.creation import empty, tensor


def _infer_parameters(module, args):
    """The forward pre-hook: materialize from the first input, then become the eager class."""
    module.initialize_parameters(*args)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {type(module).__name__} has not been fully initialized")
    module._initialize_hook.remove()
    module._load_hook_done = True
    module.__class__ = module.cls_to_become


class LazyModuleMixin:
    """The machinery shared by the Lazy* modules (matches `torch.nn.modules.lazy`)."""

    cls_to_become = None

    def _start_lazy(self):
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    def _materialize(self, name, shape):
        """Give the lazy parameter or buffer `name` its shape (a buffer is replaced)."""
        if name in self._parameters:
            self._parameters[name].materialize(shape)
        else:
            self._buffers[name] = empty(*shape, dtype=self._buffers[name].dtype)

    def _sizes_from_parameters(self):
        """Set size attributes from loaded parameters: only LazyLinear does, as in torch
        (a loaded LazyConv/LazyBatchNorm keeps printing 0 channels, as torch's does)."""

    def has_uninitialized_params(self) -> bool:
        tensors = list(self._parameters.values()) + list(self._buffers.values())
        return any(is_lazy(t) for t in tensors if t is not None)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """As Module's, but an uninitialized tensor is saved itself (it has no data to detach)."""
        for table in (self._parameters, self._buffers):
            for name, value in table.items():
                if value is None or table is self._buffers and \
                        name in self._non_persistent_buffers_set:
                    continue
                destination[prefix + name] = value if is_lazy(value) or keep_vars \
                    else value.detach()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs, *args, **kwargs):
        for table in (self._parameters, self._buffers):
            for name, value in list(table.items()):
                key = prefix + name
                if value is not None and is_lazy(value) and key in state_dict:
                    self._materialize(name, tuple(state_dict[key].shape))
        if not self.has_uninitialized_params():
            self._sizes_from_parameters()
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs, *args, **kwargs)


class LazyLinear(LazyModuleMixin, Linear):
    """Linear with in_features taken from the first input's last dimension."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        Linear.__init__(self, 0, 0, False)
        self.out_features = out_features
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        self._start_lazy()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def _sizes_from_parameters(self):
        self.in_features = self.weight.shape[1]

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.in_features = input.shape[-1]
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()


class _LazyConvMixin(LazyModuleMixin):
    """Conv and ConvTranspose with in_channels taken from the first input."""

    def _lazy_init(self, cls, out_channels, kernel_size, bias, dtype, **kwargs):
        cls.__init__(self, 0, 0, kernel_size, bias=False, **kwargs)
        self.out_channels = out_channels
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        self._start_lazy()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if not self.has_uninitialized_params():
            return
        unbatched = input.dim() == self._nd + 1
        self.in_channels = input.shape[0 if unbatched else 1]
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if self.transposed:
            shape = (self.in_channels, self.out_channels // self.groups)
        else:
            shape = (self.out_channels, self.in_channels // self.groups)
        self.weight.materialize(shape + tuple(self.kernel_size))
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()


def _lazy_conv(eager, transposed):
    """A LazyConv*/LazyConvTranspose* class for the eager class `eager`."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, *rest, bias=True,
                 device=None, dtype=None, **kwargs):
        names = (("output_padding", "groups", "bias_", "dilation", "padding_mode") if transposed
                 else ("dilation", "groups", "bias_", "padding_mode"))
        options = dict(zip(names, rest))
        bias = options.pop("bias_", bias)
        options.update(kwargs)
        self._lazy_init(eager, out_channels, kernel_size, bias, dtype, stride=stride,
                        padding=padding, **options)

    return type(f"Lazy{eager.__name__}", (_LazyConvMixin, eager),
                {"__init__": __init__, "cls_to_become": eager, "__module__": __name__,
                 "__doc__": f"{eager.__name__} with in_channels taken from the first input."})


LazyConv1d, LazyConv2d, LazyConv3d = (_lazy_conv(c, False) for c in (Conv1d, Conv2d, Conv3d))
LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d = (
    _lazy_conv(c, True) for c in (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d))


class _LazyNormMixin(LazyModuleMixin):
    """BatchNorm/InstanceNorm with num_features taken from the first input (dim 1)."""

    def _lazy_init(self, cls, eps, momentum, affine, track_running_stats, dtype):
        cls.__init__(self, 0, eps, momentum, False, False)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(dtype=dtype)
            self.bias = UninitializedParameter(dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(dtype=dtype)
            self.running_var = UninitializedBuffer(dtype=dtype)
            self.register_buffer("num_batches_tracked", tensor(0))
        self._start_lazy()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if not self.has_uninitialized_params():
            return
        unbatched = input.dim() == self._unbatched_dims
        self.num_features = input.shape[0 if unbatched else 1]
        for name in ("weight", "bias", "running_mean", "running_var"):
            value = getattr(self, name, None)
            if value is not None and is_lazy(value):
                self._materialize(name, (self.num_features,))
        self.reset_parameters()


def _lazy_norm(eager, unbatched_dims, affine_default, track_default):
    def __init__(self, eps=1e-5, momentum=0.1, affine=affine_default,
                 track_running_stats=track_default, device=None, dtype=None):
        self._lazy_init(eager, eps, momentum, affine, track_running_stats, dtype)

    return type(f"Lazy{eager.__name__}", (_LazyNormMixin, eager),
                {"__init__": __init__, "cls_to_become": eager, "__module__": __name__,
                 "_unbatched_dims": unbatched_dims,
                 "__doc__": f"{eager.__name__} with num_features taken from the first input."})


LazyBatchNorm1d = _lazy_norm(BatchNorm1d, -1, True, True)  # BatchNorm has no unbatched form
LazyBatchNorm2d = _lazy_norm(BatchNorm2d, -1, True, True)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d, -1, True, True)
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d, 2, True, True)
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d, 3, True, True)
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d, 4, True, True)

__all__ = ["LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d", "LazyConv2d",
           "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
           "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LazyLinear",
           "LazyModuleMixin"]
