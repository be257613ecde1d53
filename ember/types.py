"""The type aliases PyTorch code annotates with (matches `torch.types`): `Number`, `Device`,
`FileLike`, `_size`, `_dtype`, ... (ember has no symbolic sizes: the Sym* names stand for the
plain Python types they wrap)."""

import os
from typing import IO, Union

from ember._device import Size, device as _device_class
from ember._dtype import dtype as _dtype_class
from ember._tensor import Tensor, layout as _layout_class
from ember.storage import UntypedStorage as Storage

_bool, _complex, _float, _int, _str, _bytes = bool, complex, float, int, str, bytes
SymInt, SymFloat, SymBool = int, float, bool  # (no symbolic shapes here)
_dtype, _layout, _device = _dtype_class, _layout_class, _device_class
_size = Union[Size, list[int], tuple[int, ...]]
_symsize = Union[Size, tuple[int, ...]]
_TensorOrTensors = Union[Tensor, tuple[Tensor, ...], list[Tensor]]
_TensorOrOptionalTensors = Union[Tensor, tuple[Union[Tensor, None], ...],
                                 list[Union[Tensor, None]], None]
Number = Union[int, float, bool]
_Number = (int, float, bool)
IntLikeType = Union[int, SymInt]
FloatLikeType = Union[float, SymFloat]
BoolLikeType = Union[bool, SymBool]
PySymType = Union[SymInt, SymFloat, SymBool]
py_sym_types = (SymInt, SymFloat, SymBool)
Device = Union[_device, str, int, None]
FileLike = Union[str, os.PathLike[str], IO[bytes]]

__all__ = ["Number", "Device", "FileLike", "Storage", "Size", "SymInt", "SymFloat", "SymBool",
           "IntLikeType", "FloatLikeType", "BoolLikeType", "PySymType", "py_sym_types"]
