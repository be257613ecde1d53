"""The registry of flash attention implementations (matches `torch.nn.attention._registry`).

PyTorch registers FA3 and FA4, CUDA kernels from the flash_attn packages: activating one imports
its package and installs its kernels in the dispatcher. ember registers the same names with
functions that import the same packages; with a package present there are still no CUDA kernels
to install, so activation fails as PyTorch's does when the package lacks them.
"""

import importlib
import logging

__all__: list = []

logger = logging.getLogger("ember.nn.attention._registry")

_FLASH_ATTENTION_IMPLS: dict = {}
_FLASH_ATTENTION_ACTIVE = None  # (name, handle) of the activated implementation


def register_flash_attention_impl(impl, *, register_fn) -> None:
    """Register the callable that activates flash attention implementation `impl`."""
    _FLASH_ATTENTION_IMPLS[impl] = register_fn


def activate_flash_attention_impl(impl) -> None:
    """Activate a registered implementation, after restoring the default one."""
    global _FLASH_ATTENTION_ACTIVE
    restore_flash_attention_impl(_raise_warn=False)
    register_fn = _FLASH_ATTENTION_IMPLS.get(impl)
    if register_fn is None:
        raise ValueError(f"Unknown flash attention impl '{impl}'. Available implementations: "
                         f"{list_flash_attention_impls()}")
    handle = register_fn()
    if handle is not None:
        _FLASH_ATTENTION_ACTIVE = (impl, handle)


def list_flash_attention_impls() -> list:
    """The names of the registered implementations, sorted."""
    return sorted(_FLASH_ATTENTION_IMPLS)


def current_flash_attention_impl():
    """The activated implementation's name, or None for the default."""
    return None if _FLASH_ATTENTION_ACTIVE is None else _FLASH_ATTENTION_ACTIVE[0]


def restore_flash_attention_impl(_raise_warn: bool = True) -> None:
    """Restore the default (FA2) implementation; logs a warning if none other was active."""
    global _FLASH_ATTENTION_ACTIVE
    if _FLASH_ATTENTION_ACTIVE is not None:
        _FLASH_ATTENTION_ACTIVE[1].remove()
    elif _raise_warn:
        logger.warning("Trying to restore default FA2 impl when no custom impl was activated")
    _FLASH_ATTENTION_ACTIVE = None


def _register_fa3(module_path: str = "flash_attn_interface"):
    """FA3: import its package; its kernels are CUDA ones, which ember can't install."""
    importlib.import_module(module_path)
    raise RuntimeError(f"Module '{module_path}' does not expose FA3 kernels")


def _register_fa4(module_path: str = "flash_attn.cute.interface"):
    """FA4: import its package; its kernels are CUDA ones, which ember can't install."""
    importlib.import_module(module_path)
    raise RuntimeError(f"Module '{module_path}' does not expose FA4 kernels")


register_flash_attention_impl("FA3", register_fn=_register_fa3)
register_flash_attention_impl("FA4", register_fn=_register_fa4)
