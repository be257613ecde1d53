"""Tensors as MPI buffers: contiguous arrays handed to mpi4py without pickling.

NOTE [Buffers MPI can reduce]
Moving data (broadcast, gather, send) needs only bytes, so every dtype travels as a uint8 view
of its contiguous array. Reducing needs a type MPI knows: the ints, float32/64 and complex go
as they are; float16 and bfloat16 are reduced in float32 and rounded back, and bool in uint8
(SUM, MAX and BOR are logical or, PRODUCT, MIN and BAND logical and, BXOR logical xor), as
torch's CPU backend (gloo) reduces them.

NOTE [Reductions torch refuses]
Checked on every rank before anything is sent, so a refused call raises everywhere and no rank is
left waiting: complex tensors take only SUM and AVG (ValueError from all_reduce, RuntimeError from
the other reductions, as torch); BAND/BOR/BXOR need integers or bool; AVG needs floating or
complex values (gloo computes the mean in floating point and cannot store it back into ints).
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


# torch's C++ names of the integer dtypes, as its "can't be cast" message spells them
_SCALAR_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
                 "int64": "Long", "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64"}
_BITWISE = (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR)


def check_reduction(tensor, op, name: str) -> None:
    """Raise as torch does for a reduction it refuses (NOTE [Reductions torch refuses])."""
    op = RedOpType(op)
    dtype = tensor.dtype
    if dtype.is_complex and op not in (RedOpType.SUM, RedOpType.AVG):
        error = ValueError if name == "all_reduce" else RuntimeError
        raise error(f"{name} does not support RedOpType.{op.name} on complex tensors")
    if op in _BITWISE and (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with non-integral dtype")
    if op == RedOpType.AVG and not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError("result type Float can't be cast to the desired output type "
                           f"{_SCALAR_NAMES[tensor._data.dtype.name]}")


def mpi_op(op, dtype):
    """The MPI reduction for a ReduceOp on arrays of `dtype` (AVG is SUM, divided after)."""
    MPI = _mpi.load()
    op = RedOpType(op)
    if dtype.name == "bool":
        if op == RedOpType.BXOR:
            return MPI.LXOR
        return MPI.LOR if op in (RedOpType.SUM, RedOpType.MAX, RedOpType.BOR) else MPI.LAND
    table = {RedOpType.SUM: MPI.SUM, RedOpType.AVG: MPI.SUM, RedOpType.PRODUCT: MPI.PROD,
             RedOpType.MIN: MPI.MIN, RedOpType.MAX: MPI.MAX, RedOpType.BAND: MPI.BAND,
             RedOpType.BOR: MPI.BOR, RedOpType.BXOR: MPI.BXOR}
    if op not in table:
        raise ValueError(f"ReduceOp {op.name} is not supported")
    return table[op]


def average(array, size: int) -> None:
    """array /= size in place (floating or complex arrays only: check_reduction)."""
    xp.divide(array, size, out=array)


def store(tensor, array) -> None:
    """Write array's values into the tensor in place and bump its version."""
    if array is not tensor._data:
        tensor._data[...] = array.astype(tensor._data.dtype, copy=False)
    tensor._version_counter.value += 1
