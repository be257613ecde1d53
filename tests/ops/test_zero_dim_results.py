"""Every op on 0-d tensors gives a tensor holding a 0-d array, never a NumPy scalar (NumPy's
ufuncs return scalars for 0-d inputs; a tensor holding one breaks in-place ops on it)."""

import warnings

import numpy as np
import pytest

import ember
from ember import _registry

# functions that change global state or read files: not called with a tensor here
_SKIP = {"empty", "set_default_dtype", "manual_seed", "seed", "set_rng_state",
         "set_printoptions", "set_default_device", "set_num_threads", "set_num_interop_threads",
         "use_deterministic_algorithms", "set_default_tensor_type", "set_grad_enabled", "save",
         "load", "set_anomaly_enabled", "set_flush_denormal", "set_warn_always"}


def _zero_dim(value, requires_grad):
    dtype = np.float32 if isinstance(value, float) else None
    return ember.Tensor._make(np.asarray(value, dtype=dtype)).requires_grad_(requires_grad)


def _scalar_holders(results):
    outputs = results if isinstance(results, tuple) else (results,)
    return [o for o in outputs if isinstance(o, ember.Tensor) and o.layout is ember.strided
            and type(o._data) is not np.ndarray]


@pytest.mark.parametrize("value, requires_grad", [(0.7, False), (0.7, True), (-2.5, True),
                                                  (3, False), (True, False)])
def test_functions_and_methods_of_zero_dim_tensors_hold_arrays(value, requires_grad):
    holders = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fn in sorted(_registry.FUNCTIONS.items()):
            if not callable(fn) or name in _SKIP:
                continue
            for others in ((), (_zero_dim(1.5, False),)):
                try:
                    results = fn(_zero_dim(value, requires_grad), *others)
                except Exception:
                    continue  # (an op that needs other arguments or refuses these)
                if _scalar_holders(results):
                    holders.add(name)
        for name in dir(ember.Tensor):
            if name.startswith("_") or name in ("backward", "register_hook", "share_memory_"):
                continue
            try:
                results = getattr(_zero_dim(value, requires_grad), name)()
            except Exception:
                continue
            if _scalar_holders(results):
                holders.add(f"Tensor.{name}")
    assert not holders
