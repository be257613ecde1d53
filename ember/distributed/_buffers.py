"""Tensors as MPI buffers: contiguous arrays handed to mpi4py without pickling.

NOTE [Buffers MPI can reduce]
Moving data (broadcast, gather, send) needs only bytes, so every dtype travels as a uint8 view
of its contiguous array. Reducing needs a type MPI knows: the ints, float32/64 and complex go
as they are; float16 and bfloat16 are reduced in float32 and rounded back, and bool in uint8
(SUM and MAX are logical or, PRODUCT and MIN logical and), as torch's CPU backend reduces them.
"""

from ember._backend import xp
from ember.distributed import _mpi
from ember.distributed.process_group import RedOpType

_NATIVE = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float32", "float64", "complex64", "complex128"}


def as_bytes(array):
    """The bytes of a contiguous array, as a 1-d uint8 view."""
    return array.reshape(-1).view(xp.uint8)


def contiguous(array):
    """array itself if C-contiguous and writable, else a contiguous copy."""
    if array.flags.c_contiguous and array.flags.writeable:
        return array
    return xp.ascontiguousarray(array)


def reducible(array):
    """A contiguous array of a dtype MPI can reduce holding array's values."""
    name = array.dtype.name
    if name in _NATIVE:
        return contiguous(array)
    if name == "bool":
        return array.astype(xp.uint8)
    return array.astype(xp.float32)  # float16, bfloat16


def mpi_op(op, dtype):
    """The MPI reduction for a ReduceOp on arrays of `dtype` (AVG is SUM, divided after)."""
    MPI = _mpi.load()
    op = RedOpType(op)
    if dtype.name == "bool":
        return MPI.LOR if op in (RedOpType.SUM, RedOpType.MAX, RedOpType.BOR) else MPI.LAND
    table = {RedOpType.SUM: MPI.SUM, RedOpType.AVG: MPI.SUM, RedOpType.PRODUCT: MPI.PROD,
             RedOpType.MIN: MPI.MIN, RedOpType.MAX: MPI.MAX, RedOpType.BAND: MPI.BAND,
             RedOpType.BOR: MPI.BOR, RedOpType.BXOR: MPI.BXOR}
    if op not in table:
        raise ValueError(f"ReduceOp {op.name} is not supported")
    return table[op]


def average(array, size: int) -> None:
    """array /= size in place (floor division for integers, as torch's AVG on ints)."""
    if array.dtype.kind in "iu":
        xp.floor_divide(array, size, out=array)
    else:
        xp.divide(array, size, out=array)


def store(tensor, array) -> None:
    """Write array's values into the tensor in place and bump its version."""
    if array is not tensor._data:
        tensor._data[...] = array.astype(tensor._data.dtype, copy=False)
    tensor._version.value += 1
