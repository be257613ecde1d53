"""Random number generation: torch's CPU generator (mt19937), `manual_seed`, the default generator.

A `Generator` holds the same mt19937 state as torch's `CPUGeneratorImpl`: seeded the same way
(`init_genrand(seed & 0xffffffff)`), it yields the same 32-bit words, so every sampler built on
`_uint32` / `_uint64` can reproduce torch's numbers (NOTE [PyTorch's random streams]).
"""

import json

from ember._backend import xp
from ember._tensor import Tensor

# torch's seed for a `Generator()` made by the user (c10's default_rng_seed_val).
DEFAULT_SEED = 67280421310721
_UINT64 = 0xFFFF_FFFF_FFFF_FFFF


def _wrap_seed(seed) -> int:
    """A seed as torch stores it: negative seeds wrap to 0xffff_ffff_ffff_ffff + seed + 1."""
    seed = int(seed)
    if not -0x8000_0000_0000_0000 <= seed <= _UINT64:
        raise RuntimeError(f"Overflow when unpacking long long: {seed}")
    return seed & _UINT64


class Generator:
    """A source of random numbers with its own mt19937 state (matches `torch.Generator`)."""

    def __init__(self, device="cpu"):
        self.device = device
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from `seed`; also forgets cached normal samples, as torch does."""
        self._seed = _wrap_seed(seed)
        self._bits = xp.random.MT19937()
        self._bits._legacy_seeding(self._seed & 0xFFFFFFFF)  # mt19937's init_genrand
        self._next_double_normal = None   # torch caches the second Box-Muller value
        self._next_float_normal = None
        return self

    def _uint32(self, n: int) -> xp.ndarray:
        """The next `n` 32-bit words of the stream (torch's `random()`), as uint32."""
        return self._bits.random_raw(int(n)).astype(xp.uint32)

    def _uint64(self, n: int) -> xp.ndarray:
        """The next `n` 64-bit words (torch's `random64()`): two words each, the first is high."""
        words = self._bits.random_raw(2 * int(n))
        return (words[0::2] << xp.uint64(32)) | words[1::2]

    def seed(self) -> int:
        seed = int(xp.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        """The state as a uint8 tensor, for set_state (transitional format: JSON of mt19937)."""
        state = self._bits.state
        state = {"key": state["state"]["key"].tolist(), "pos": state["state"]["pos"]}
        text = json.dumps(state).encode()
        return Tensor._make(xp.frombuffer(text, dtype=xp.uint8).copy())

    def set_state(self, state) -> "Generator":
        saved = json.loads(state._data.tobytes().decode())
        self._bits.state = {"bit_generator": "MT19937",
                            "state": {"key": xp.asarray(saved["key"], dtype=xp.uint32),
                                      "pos": saved["pos"]}}
        return self

    @property
    def _rng(self) -> xp.random.Generator:
        """A NumPy Generator over this stream, for samplers not yet ported to torch's."""
        return xp.random.Generator(self._bits)


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (matches `torch.manual_seed`)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)


def rng(generator=None) -> xp.random.Generator:
    """The NumPy generator to draw from: the given Generator's, else the default one."""
    return (generator or default_generator)._rng


def _sample_dtype(dtype):
    """NumPy draws float32 natively (twice as fast as float64 then a cast); others via float64."""
    return xp.float32 if xp.dtype(dtype) in (xp.float32, xp.float16) else xp.float64


def uniform(shape, low, high, dtype=xp.float32, generator=None) -> xp.ndarray:
    """An array of U(low, high) samples of `dtype`, drawn at that precision when NumPy can."""
    sample_dtype = _sample_dtype(dtype)
    values = rng(generator).random(shape, dtype=sample_dtype)
    values *= sample_dtype(high - low)
    values += sample_dtype(low)
    return values.astype(dtype, copy=False)


def normal(shape, mean, std, dtype=xp.float32, generator=None) -> xp.ndarray:
    """An array of N(mean, std²) samples of `dtype`, drawn at that precision when NumPy can."""
    sample_dtype = _sample_dtype(dtype)
    values = rng(generator).standard_normal(shape, dtype=sample_dtype)
    values *= sample_dtype(std)
    values += sample_dtype(mean)
    return values.astype(dtype, copy=False)
