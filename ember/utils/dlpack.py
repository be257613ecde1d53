"""Zero-copy exchange of tensors with other array libraries through DLPack (matches
`torch.utils.dlpack` and `torch.from_dlpack`, `Tensor.__dlpack__`).

A tensor's array is a NumPy array, which speaks DLPack itself: exporting hands out its
capsule, importing wraps what `xp.from_dlpack` makes of the other library's array (sharing its
memory, as in PyTorch)."""

import enum

from ember._backend import xp
from ember._registry import tensor_method, torch_function
from ember._tensor import Tensor

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]


class DLDeviceType(enum.IntEnum):
    """DLPack's device codes (matches `torch.utils.dlpack.DLDeviceType`)."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


@tensor_method("__dlpack__")
def tensor_dlpack(self, *, stream=-1, max_version=None, dl_device=None, copy=None):
    """This tensor's memory as a DLPack capsule (matches `Tensor.__dlpack__`)."""
    _check_exportable(self)
    kwargs = {} if max_version is None else {"max_version": max_version}
    if copy is not None:
        kwargs["copy"] = copy
    return self._data.__dlpack__(**kwargs)


def _check_exportable(tensor) -> None:
    if tensor.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")


@tensor_method("__dlpack_device__")
def tensor_dlpack_device(self):
    """(device type, index) of this tensor's memory: the CPU's (matches
    `Tensor.__dlpack_device__`)."""
    return DLDeviceType.kDLCPU, 0


class _Capsule:
    """A bare DLPack capsule dressed as an exporter, for `xp.from_dlpack`."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return DLDeviceType.kDLCPU, 0


@torch_function()
def from_dlpack(ext_tensor) -> Tensor:
    """A tensor sharing the memory of an object with `__dlpack__` (another library's array or
    tensor) or of a DLPack capsule (matches `torch.from_dlpack`)."""
    if isinstance(ext_tensor, Tensor):
        _check_exportable(ext_tensor)
        return Tensor._make(ext_tensor._data)
    source = ext_tensor if hasattr(ext_tensor, "__dlpack__") else _Capsule(ext_tensor)
    try:
        array = xp.from_dlpack(source)
    except (TypeError, ValueError, BufferError) as error:
        raise RuntimeError("from_dlpack received an invalid capsule. Note that DLTensor "
                           "capsules can be consumed only once, so you might have already "
                           "constructed a tensor from it once.") from error
    return Tensor._make(array)


@torch_function()
def to_dlpack(tensor: Tensor):
    """A DLPack capsule of the tensor's memory (matches `torch.to_dlpack`, also
    `torch.utils.dlpack.to_dlpack`)."""
    return tensor.__dlpack__()
