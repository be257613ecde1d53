"""Random number generation: torch's CPU generator (mt19937), its state, and its samplers.

NOTE [PyTorch's random streams]
A `Generator` holds the same mt19937 state as torch's `CPUGeneratorImpl`: seeded the same way
(`init_genrand(seed & 0xffffffff)`, NumPy's `MT19937._legacy_seeding`), it yields the same
32-bit words (`_uint32`, torch's `random()`; `_uint64` is `random64()`, two words, the first
high). Every sampler draws exactly the words torch's CPU kernel draws, in the same order, and
transforms them with the same arithmetic (ember/_rng: the samplers, the float32 SIMD
Box–Muller, glibc's libm, emulated fused multiply-adds), so `manual_seed(s)` followed by the
same calls gives torch's numbers bit for bit. The generator also caches the second value of the
scalar Box–Muller (`next_double_normal_sample`), as torch does, and `get_state` / `set_state`
use torch's 5056-byte layout, so an RNG state saved by torch restores the same stream here.
"""

import contextlib
import numbers
import os
import sys

from ember._backend import xp
from ember._device import device as _device
from ember._rng import samplers
from ember._rng.samplers import (normal_scalar, random_bits, random_from_to,  # noqa: F401
                                 random_full_range, randperm, uniform_float32, uniform_float64)
from ember._tensor import Tensor

# torch's seed for a `Generator()` made by the user (c10's default_rng_seed_val).
DEFAULT_SEED = 67280421310721
_UINT64 = 0xFFFF_FFFF_FFFF_FFFF
_N = 624  # mt19937's state words
_STATE_BYTES = 5056


def _wrap_seed(seed) -> int:
    """A seed as torch stores it: an int in [-2^63, 2^64), negative ones wrapped to uint64."""
    if isinstance(seed, numbers.Integral) and not isinstance(seed, int):
        raise TypeError("an integer is required")  # NumPy integers, as torch's binding says
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    if not -0x8000_0000_0000_0000 <= seed <= _UINT64:
        raise ValueError("Overflow when unpacking long long")
    return seed & _UINT64


def _seeded_key(seed: int):
    """mt19937's key after `init_genrand(seed & 0xffffffff)`."""
    bits = xp.random.MT19937()
    bits._legacy_seeding(seed & 0xFFFF_FFFF)
    return bits.state["state"]["key"]


class Generator:
    """A source of random numbers with its own mt19937 state (matches `torch.Generator`)."""

    def __init__(self, device="cpu"):
        self.device = _device(device)
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from `seed`; also forgets cached normal samples, as torch does."""
        self._seed = _wrap_seed(seed)
        self._bits = xp.random.MT19937()
        self._bits._legacy_seeding(self._seed & 0xFFFF_FFFF)  # mt19937's init_genrand
        self._next_double_normal = None  # torch caches the second Box-Muller value
        self._next_float_normal = None
        return self

    def _uint32(self, n: int):
        """The next `n` 32-bit words of the stream (torch's `random()`), as uint32."""
        # MT19937's raw outputs are its 32-bit words (as uint64): 6x less call overhead than
        # Generator.integers over the full uint32 range, which returns the same words
        return self._bits.random_raw(int(n)).astype(xp.uint32)

    def _uint64(self, n: int):
        """The next `n` 64-bit words (torch's `random64()`): two words each, the first is high."""
        words = self._uint32(2 * int(n)).view(xp.uint64)  # pairs of words, in native order
        if sys.byteorder == "big":
            return words  # already first << 32 | second
        high = words << xp.uint64(32)  # little-endian: swap the halves
        words >>= xp.uint64(32)
        words |= high
        return words

    def seed(self) -> int:
        """Seed from the OS's entropy and return the seed (matches `torch.Generator.seed`)."""
        seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """The seed the stream started from (matches `torch.Generator.initial_seed`)."""
        return self._seed

    def get_state(self) -> Tensor:
        """The state as torch's 5056-byte uint8 tensor (matches `torch.Generator.get_state`)."""
        return Tensor._make(_pack_state(self))

    def set_state(self, new_state) -> "Generator":
        """Restore a state from `get_state`, ember's or torch's (matches `set_state`)."""
        _unpack_state(self, new_state)
        return self

    def clone_state(self) -> "Generator":
        """A new generator in the same state (matches `torch.Generator.clone_state`)."""
        return Generator(self.device).set_state(self.get_state())

    def graphsafe_get_state(self):
        raise NotImplementedError("graphsafe_get_state is not supported in this Generator")

    def graphsafe_set_state(self, state):
        raise NotImplementedError("graphsafe_set_state is not supported in this Generator")

    def get_offset(self):
        raise RuntimeError("CPU Generator does not use offset")

    def set_offset(self, offset):
        raise RuntimeError("CPU Generator does not use offset")


# NOTE [torch's RNG state bytes]
# CPUGeneratorImpl::get_state writes a CPUGeneratorImplState: the legacy THGenerator struct
# (initial seed u64, left i32, seeded i32, next u64, 624 state words as u64, normal_x/y/rho f64,
# normal_is_valid i32, padding) then the float normal cache (f32, bool, padding): 5056 bytes,
# with the cached double normal in normal_y. mt19937's `left`/`next` and NumPy's `pos` say the
# same thing: after seeding left = 1, next = 0 (pos = 624: twist before the next word); after k
# words of a twisted block, next = k and left = 625 - k (pos = k).
_LAYOUT = {"seed": (0, "<u8"), "left": (8, "<i4"), "seeded": (12, "<i4"), "next": (16, "<u8"),
           "normal_y": (5024, "<f8"), "normal_valid": (5040, "<i4"), "float_normal": (5048, "<f4"),
           "float_valid": (5052, "u1")}


def _field(buffer, name, value=None):
    """Read (or write) one scalar field of the state bytes."""
    offset, fmt = _LAYOUT[name]
    view = buffer[offset:offset + xp.dtype(fmt).itemsize].view(fmt)
    if value is not None:
        view[0] = value
    return view[0].item()


def _pack_state(gen):
    """torch's state bytes for a generator."""
    buffer = xp.zeros(_STATE_BYTES, dtype=xp.uint8)
    state = gen._bits.state["state"]
    key, pos = state["key"], int(state["pos"])
    if pos == _N:  # a twist is due: fresh from seeding (next = 0) or a block used up
        fresh = xp.array_equal(key, _seeded_key(gen._seed))
        left, next_ = 1, (0 if fresh else _N)
    else:
        left, next_ = _N + 1 - pos, pos
    _field(buffer, "seed", gen._seed)
    _field(buffer, "left", left)
    _field(buffer, "seeded", 1)
    _field(buffer, "next", next_)
    buffer[24:24 + 8 * _N].view("<u8")[:] = key
    if gen._next_double_normal is not None:
        _field(buffer, "normal_y", gen._next_double_normal)
        _field(buffer, "normal_valid", 1)
    if gen._next_float_normal is not None:
        _field(buffer, "float_normal", gen._next_float_normal)
        _field(buffer, "float_valid", 1)
    return buffer


def _unpack_state(gen, new_state):
    """Set a generator from torch's state bytes, with torch's checks."""
    if not isinstance(new_state, Tensor) or new_state._data.dtype != xp.uint8:
        raise TypeError("RNG state must be a torch.ByteTensor")
    buffer = xp.ascontiguousarray(new_state._data.reshape(-1))
    if buffer.size != _STATE_BYTES:
        raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_BYTES} but found "
                           f"the input RNG state size to be {buffer.size}")
    left, next_ = _field(buffer, "left"), _field(buffer, "next") & 0xFFFF_FFFF
    if not (_field(buffer, "seeded") and 0 < left <= _N and next_ <= _N):
        raise RuntimeError("Invalid mt19937 state")
    key = buffer[24:24 + 8 * _N].view("<u8").astype(xp.uint32)
    gen.manual_seed(_field(buffer, "seed"))
    gen._bits.state = {"bit_generator": "MT19937",
                       "state": {"key": key, "pos": _N if left == 1 else next_}}
    gen._next_double_normal = _field(buffer, "normal_y") if _field(buffer, "normal_valid") else None
    gen._next_float_normal = (_field(buffer, "float_normal") if _field(buffer, "float_valid")
                              else None)


default_generator = Generator()
default_generator.seed()  # torch seeds its default generator from the OS's entropy per process


def manual_seed(seed) -> Generator:
    """Seed the default generator (matches `torch.manual_seed`)."""
    return default_generator.manual_seed(int(seed))


def seed() -> int:
    """Seed the default generator non-deterministically (matches `torch.seed`)."""
    return default_generator.seed()


def initial_seed() -> int:
    """The default generator's seed (matches `torch.initial_seed`)."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state as torch's bytes (matches `torch.get_rng_state`)."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the default generator's state (matches `torch.set_rng_state`)."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type=None):
    """Restore the CPU generator's state on exit (matches `torch.random.fork_rng` on CPU)."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def _generator(generator):
    """The generator to draw from: the given one, else the default."""
    return default_generator if generator is None else generator


def uniform(shape, low, high, dtype=xp.float32, generator=None):
    """U(low, high) samples of `dtype` in C order, as torch's `uniform_` draws them."""
    n = int(xp.prod(shape, dtype=xp.int64))
    values = samplers.uniform(_generator(generator), n, dtype, low, high) if n else xp.empty(0)
    return values.astype(dtype, copy=False).reshape(shape)


def normal(shape, mean, std, dtype=xp.float32, generator=None):
    """N(mean, std²) samples of `dtype` for a contiguous tensor, as torch's `normal_` draws them."""
    n = int(xp.prod(shape, dtype=xp.int64))
    values = samplers.normal(_generator(generator), n, dtype, mean, std) if n else xp.empty(0)
    return values.astype(dtype, copy=False).reshape(shape)


def normal_strided(shape, mean, std, dtype=xp.float32, generator=None):
    """N(mean, std²) samples for a non-contiguous tensor: torch's scalar sampler, whatever n."""
    n = int(xp.prod(shape, dtype=xp.int64))
    values = normal_scalar(_generator(generator), n, mean, std)
    return samplers.from_double(values, dtype).reshape(shape)
