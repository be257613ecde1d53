"""`torch._C`: the few names of torch's C extension that programs reach for directly (the
`__torch_function__` switches of ember/overrides.py), loaded on first use."""

from ember.overrides import (DisableTorchFunction, DisableTorchFunctionSubclass,
                             _disabled_torch_function_impl, _is_torch_function_enabled,
                             _is_torch_function_mode_enabled, _len_torch_function_stack)
from ember.ops.linalg_core import LinAlgError as _LinAlgError
from ember.overrides import has_torch_function as _has_torch_function
from ember.overrides import has_torch_function_unary as _has_torch_function_unary
from ember.overrides import has_torch_function_variadic as _has_torch_function_variadic

__all__ = ["DisableTorchFunction", "DisableTorchFunctionSubclass", "_LinAlgError",
           "_disabled_torch_function_impl", "_has_torch_function", "_has_torch_function_unary",
           "_has_torch_function_variadic", "_is_torch_function_enabled",
           "_is_torch_function_mode_enabled", "_len_torch_function_stack"]
