"""The float32 Box–Muller kernel (ember/_rng/mathfun.py) against torch on words we choose.

torch's mt19937 hands out its state words (tempered) until the next twist, so a state whose
words are the untempered values we pick makes torch's `randn` run its vectorised kernel on
exactly those words: the edges of the log and sine/cosine (k = 0, 2^24 - 1, the powers of two,
√½'s mantissa, the octant boundaries) and a random sample of the 2^24 values of each half.
The same states drive ember's generator, so the generator path is checked too.
"""

import numpy as np
import pytest
import torch

import ember
from ember._rng.mathfun import box_muller, normal_from_words

_WORDS_PER_STATE = 623  # left = 624, next = 1: words 1..623 of the state come out untwisted
_BLOCKS_PER_STATE = _WORDS_PER_STATE // 16
RNG = np.random.default_rng(17)


def _untemper(y):
    """The inverse of mt19937's tempering (uint64 arrays of 32-bit values)."""
    y = y ^ (y >> 18)
    y = y ^ ((y << 15) & 0xEFC60000)
    x = y
    for _ in range(4):  # y ^= (y << 7) & b, undone 7 bits at a time
        x = y ^ ((x << 7) & 0x9D2C5680)
    return (x ^ (x >> 11) ^ (x >> 22)) & 0xFFFFFFFF


def _state_for(words):
    """torch's 5056 state bytes whose next words are `words` (at most 623 uint32)."""
    torch.manual_seed(0)
    state = torch.get_rng_state().numpy().copy()
    state[8:12].view("<i4")[0] = 624  # left
    state[16:24].view("<u8")[0] = 1  # next
    key = state[24:24 + 8 * 624].view("<u8")
    key[1:1 + len(words)] = _untemper(np.asarray(words, dtype=np.uint64))
    return state


def test_untemper_inverts_torch_tempering():
    words = RNG.integers(0, 2 ** 32, 600, dtype=np.uint64)
    torch.set_rng_state(torch.from_numpy(_state_for(words)))
    low = (torch.rand(600, dtype=torch.float32).numpy() * 2 ** 24).astype(np.uint64)
    assert np.array_equal(low, words & 0xFFFFFF)  # torch's uniforms are these words' low bits
    ember.set_rng_state(ember.tensor(_state_for(words)))
    assert np.array_equal(ember.random.default_generator._uint32(600), words.astype(np.uint32))


def _edge_values():
    """Values of the low 24 bits where the kernel's branches change."""
    k = [0, 1, 2, 3, (1 << 24) - 1, (1 << 24) - 2, 1 << 23, (1 << 23) + 1, (1 << 23) - 1]
    k += [1 << p for p in range(24)] + [(1 << 24) - (1 << p) for p in range(24)]
    root = int(round((1 - 0.70710677) * 2 ** 24))  # 1 - u around √½
    k += list(range(root - 40, root + 40))
    for octant in range(1, 9):  # θ = 2π·k/2^24 around multiples of π/4
        centre = octant * (1 << 21)
        k += list(range(centre - 20, centre + 20))
    return np.array(sorted(set(v for v in k if 0 <= v < 1 << 24)), dtype=np.uint32)


def _compare_with_torch(low_bits):
    """Run torch's randn on words with these low 24 bits in both halves; compare bit for bit."""
    n = len(low_bits)
    high = RNG.integers(0, 256, n, dtype=np.uint32) << 24  # the high byte is ignored
    first = (low_bits | high).reshape(-1, 8)
    second = (np.roll(low_bits, 3) | high[::-1]).reshape(-1, 8)
    words = np.concatenate([first, second], axis=1)  # rows of 16: log half, sine half
    ours = normal_from_words(words, 0.0, 1.0)
    per_state = _BLOCKS_PER_STATE
    for start in range(0, words.shape[0], per_state):
        rows = words[start:start + per_state]
        torch.set_rng_state(torch.from_numpy(_state_for(rows.reshape(-1))))
        expected = torch.randn(rows.size).numpy().reshape(-1, 16)
        assert np.array_equal(ours[start:start + per_state].view(np.int32),
                              expected.view(np.int32)), f"rows {start}.."


def test_edges_of_both_halves_match_torch():
    edges = _edge_values()
    edges = np.concatenate([edges, edges[: (-len(edges)) % 8]])  # whole rows of 8
    _compare_with_torch(edges)


def test_random_sample_of_all_inputs_matches_torch():
    """2^16 of the 2^24 inputs of each half (all of them agree: checked once, 2 × 2^24)."""
    _compare_with_torch(RNG.integers(0, 1 << 24, 1 << 16, dtype=np.uint32))


def test_generator_path_on_chosen_words():
    words = np.concatenate([_edge_values()[:600], np.zeros(23, dtype=np.uint32)])[:608]
    state = _state_for(words)
    torch.set_rng_state(torch.from_numpy(state))
    ember.set_rng_state(ember.tensor(state))
    expected = torch.randn(608).numpy()
    assert np.array_equal(ember.randn(608).numpy().view(np.int32), expected.view(np.int32))
    assert ember.get_rng_state().numpy().tobytes() == torch.get_rng_state().numpy().tobytes()


@pytest.mark.parametrize("mean, std", [(0.0, 1.0), (0.3, 1.7), (-2.0, 0.02)])
def test_box_muller_from_uniforms_equals_from_words(mean, std):
    words = RNG.integers(0, 2 ** 32, (300, 16), dtype=np.uint32)
    u = (words & 0xFFFFFF).astype(np.float32) * np.float32(2.0 ** -24)
    assert np.array_equal(box_muller(u, mean, std).view(np.int32),
                          normal_from_words(words, mean, std).view(np.int32))
