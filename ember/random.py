"""Random number generation: `Generator`, `manual_seed`, and the default generator.

ember draws from NumPy's PCG64. Runs are reproducible under `manual_seed` (the same seed gives
the same numbers in ember), but the numbers are not PyTorch's: its Mersenne-Twister/Philox
streams are not reproduced.
"""

import json

from ember._backend import xp
from ember._tensor import Tensor


class Generator:
    """A source of random numbers with its own state (matches `torch.Generator`)."""

    def __init__(self, device="cpu"):
        self._seed = 67280421310721
        self._rng = xp.random.Generator(xp.random.PCG64(self._seed))
        self.device = device

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        self._rng = xp.random.Generator(xp.random.PCG64(self._seed & 0xFFFFFFFFFFFFFFFF))
        return self

    def seed(self) -> int:
        seed = int(xp.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        """The state as a uint8 tensor (JSON of PCG64's state), for set_state."""
        text = json.dumps(self._rng.bit_generator.state).encode()
        return Tensor._make(xp.frombuffer(text, dtype=xp.uint8).copy())

    def set_state(self, state) -> "Generator":
        self._rng.bit_generator.state = json.loads(state._data.tobytes().decode())
        return self


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
