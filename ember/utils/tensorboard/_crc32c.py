"""CRC-32C (Castagnoli), the checksum TFRecord files put around every record.

TFRecord framing (what TensorBoard's readers check):

    uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)

all little-endian. zlib only has the IEEE CRC-32, so CRC-32C is computed here with NumPy.
"""

import numpy as np

_POLY = 0x82F63B78  # the Castagnoli polynomial, bit-reversed (the CRC is "reflected")
_MASK_DELTA = 0xA282EAD8


def _make_table() -> np.ndarray:
    """table[b] = the CRC register after shifting byte b through 8 steps of the polynomial."""
    crc = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        crc = np.where(crc & 1, (crc >> 1) ^ np.uint32(_POLY), crc >> 1).astype(np.uint32)
    return crc


_TABLE = _make_table()


def _feed(registers: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Run each register through its column of bytes (one NumPy step per byte position)."""
    for i in range(columns.shape[1]):
        registers = _TABLE[(registers ^ columns[:, i]) & 0xFF] ^ (registers >> 8)
    return registers


def crc32c(data: bytes) -> int:
    """The CRC-32C of `data` (init and final xor 0xFFFFFFFF), as TFRecord uses it."""
    # NOTE [Lane-parallel CRC]
    # A byte-at-a-time CRC is a Python loop over every byte. The CRC register update is linear
    # over GF(2), so instead the data is cut into K lanes of L bytes that are run side by side
    # (L NumPy steps on K-element arrays), and the lanes are then joined left to right with
    # r = shift_L(r) ^ lane_crc, where shift_L (feeding L zero bytes) is a linear map applied
    # through its 32 columns (the images of the 32 one-bit registers).
    # Two facts keep this exact: zero bytes fed to a zero register leave it zero, so the data
    # can be left-padded with zeros to K*L bytes; and starting the register at 0xFFFFFFFF is
    # the same as starting it at 0 with the first 4 data bytes xor-ed with 0xFF.
    buf = np.frombuffer(bytes(data), dtype=np.uint8).astype(np.uint32)
    n = buf.size
    if n < 4:
        crc = _feed(np.array([0xFFFFFFFF], dtype=np.uint32), buf[None, :])
        return int(crc[0]) ^ 0xFFFFFFFF
    buf[:4] ^= 0xFF
    lanes = max(1, int(np.sqrt(n)))
    length = -(-n // lanes)
    padded = np.zeros(lanes * length, dtype=np.uint32)
    padded[lanes * length - n:] = buf
    lane_crcs = _feed(np.zeros(lanes, dtype=np.uint32), padded.reshape(lanes, length))
    one_bits = np.left_shift(np.uint32(1), np.arange(32, dtype=np.uint32))
    columns = _feed(one_bits, np.zeros((32, length), dtype=np.uint32)).tolist()
    crc = 0
    for lane_crc in lane_crcs.tolist():
        shifted = 0
        for bit in range(32):
            if crc >> bit & 1:
                shifted ^= columns[bit]
        crc = shifted ^ lane_crc
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """CRC-32C rotated right by 15 bits plus a constant: the form TFRecord stores."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF
