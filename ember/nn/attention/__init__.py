"""Functions and classes that alter the behaviour of `ember.nn.functional.
scaled_dot_product_attention` (matches `torch.nn.attention`).

`sdpa_kernel` chooses the backends attention may use; on CPU only the math and flash ones count
(NOTE [SDPA backends on CPU] in `_sdp`). The submodules `bias` (causal masks that dispatch
attention themselves) and `flex_attention` load when imported, not with the package, as in
PyTorch.
"""

import contextlib
from ember._warnings import warn as _warn
from collections.abc import Iterable
from typing import Union  # noqa: F401  (PyTorch's module namespace has it)

from ember.nn.attention import _registry
from ember.nn.attention._sdp import (SDPAParams, SDPBackend, can_use_efficient_attention,
                                     can_use_flash_attention, is_enabled, priority_order,
                                     set_enabled, set_priority_order)

__all__: list = [
    "SDPBackend",
    "sdpa_kernel",
    "WARN_FOR_UNFUSED_KERNELS",
    "register_flash_attention_impl",
    "activate_flash_attention_impl",
    "list_flash_attention_impls",
    "current_flash_attention_impl",
    "restore_flash_attention_impl",
]

# If True, attention with a bias subclass (`bias.CausalBias`) that falls back to an unfused
# kernel warns why the fused kernels can't run (matches PyTorch's flag, read at each call).
WARN_FOR_UNFUSED_KERNELS = False


def _raise_kernel_warnings(params: SDPAParams) -> None:
    """Warn why the fused kernels can't run, when WARN_FOR_UNFUSED_KERNELS is set (on CPU the
    kernels' checks give no further reasons)."""
    if WARN_FOR_UNFUSED_KERNELS:
        if not can_use_efficient_attention(params):
            _warn("Efficient attention can't be used because:", stacklevel=2)
            can_use_efficient_attention(params, True)
        if not can_use_flash_attention(params):
            _warn("Flash attention can't be used because:", stacklevel=2)
            can_use_flash_attention(params, True)


_backend_names = {
    "cudnn": "CUDNN_ATTENTION",
    "flash": "FLASH_ATTENTION",
    "mem_efficient": "EFFICIENT_ATTENTION",
    "math": "MATH",
    "overrideable": "OVERRIDEABLE",
}


def _backend_from_string(name: str):
    """The SDPBackend member called `name`."""
    return getattr(SDPBackend, name)


def _cur_sdpa_kernel_backends(with_priority: bool = False) -> list:
    """The enabled backends, in flag order or (with_priority) in priority order."""
    backends = [SDPBackend[val] for name, val in _backend_names.items() if is_enabled(name)]
    if with_priority:
        order = priority_order()
        backends.sort(key=lambda backend: order.index(int(backend)))
    return backends


def _sdpa_kernel(backends: Iterable, set_priority: bool = False) -> None:
    """Enable exactly `backends`; with set_priority, put them first in the priority order."""
    for name, val in _backend_names.items():
        set_enabled(name, SDPBackend[val] in backends)
    if set_priority:
        user_priority = [int(backend) for backend in backends]
        user_priority += [b for b in priority_order() if b not in user_priority]
        set_priority_order(user_priority)


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority: bool = False):
    """Allow only `backends` (one SDPBackend or a list) for scaled dot-product attention inside
    the block or decorated function; the previous flags come back on exit (matches
    `torch.nn.attention.sdpa_kernel`)."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend "
                             f"instances, got {type(backends).__name__}")
    if isinstance(backends, SDPBackend):
        backends = [backends]
    backends = list(dict.fromkeys(backends))
    previous_backends = _cur_sdpa_kernel_backends(with_priority=set_priority)
    try:
        _sdpa_kernel(backends, set_priority)
        yield {}
    finally:
        _sdpa_kernel(previous_backends, set_priority)


@contextlib.contextmanager
def _sdpa_kernel_variadic(*backends: SDPBackend):
    """sdpa_kernel taking the backends as arguments (PyTorch's form for its compiler)."""
    with sdpa_kernel(list(backends)):
        yield


def _get_flash_version() -> str:
    """The flash attention release PyTorch's kernel matches."""
    return "2.5.7"


_FlashAttentionImpl = str
register_flash_attention_impl = _registry.register_flash_attention_impl
activate_flash_attention_impl = _registry.activate_flash_attention_impl
list_flash_attention_impls = _registry.list_flash_attention_impls
current_flash_attention_impl = _registry.current_flash_attention_impl
restore_flash_attention_impl = _registry.restore_flash_attention_impl
for _fn in (register_flash_attention_impl, activate_flash_attention_impl,
            list_flash_attention_impls, current_flash_attention_impl,
            restore_flash_attention_impl):
    _fn.__module__ = __name__
del _fn
