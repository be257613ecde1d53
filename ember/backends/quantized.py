"""torch.backends.quantized: the quantized engine (matches `torch.backends.quantized`). ember's
quantized kernels compute as FBGEMM does (ember/_quantized_arith.py), which is what PyTorch's
'x86' engine (the default) and 'fbgemm' engine run for dynamic quantization; 'qnnpack' and
'onednn' compute otherwise, so ember supports, as a PyTorch built without them, only these two.
"""

import sys
import types

_ENGINES = {"none": "NoQEngine", "": "NoQEngine", None: "NoQEngine", "fbgemm": "FBGEMM",
            "qnnpack": "QNNPACK", "onednn": "ONEDNN", "x86": "X86"}
_SUPPORTED = ["x86", "fbgemm"]
_state = {"engine": "x86"}


class _QEngineProp:
    """`torch.backends.quantized.engine`: the engine's name; setting checks it as torch does."""

    def __get__(self, obj, objtype) -> str:
        return _state["engine"]

    def __set__(self, obj, value) -> None:
        if value not in _ENGINES:
            raise RuntimeError(f"{value} is not a valid value for quantized engine")
        if value not in _SUPPORTED:
            raise RuntimeError(f"quantized engine {_ENGINES[value]} is not supported")
        _state["engine"] = value


class _SupportedQEnginesProp:
    """`torch.backends.quantized.supported_engines` (read only)."""

    def __get__(self, obj, objtype) -> list:
        return list(_SUPPORTED)

    def __set__(self, obj, value) -> None:
        raise RuntimeError("Assignment not supported")


class QuantizedEngine(types.ModuleType):
    """This module, with `engine` and `supported_engines` as properties (torch's trick)."""

    def __init__(self, m, name):
        super().__init__(name)
        self.m = m

    def __getattr__(self, attr):
        return self.m.__getattribute__(attr)

    engine = _QEngineProp()
    supported_engines = _SupportedQEnginesProp()


sys.modules[__name__] = QuantizedEngine(sys.modules[__name__], __name__)
