"""ember.quasirandom.SobolEngine against torch.quasirandom.SobolEngine, bit for bit: states,
draws, draw_base2, fast_forward, reset, scrambling (seeded and from the default generator),
dtypes, `out=`, repr and the errors of bad calls."""

import importlib.util
import warnings

import numpy as np
import pytest
import torch

import ember
from ember import quasirandom
from tests.differential import assert_same_error, dtype_name

DIMS = [1, 2, 3, 10, 100, 1000, 21201]


def assert_bits(e, t):
    """e (ember tensor) and t (torch tensor): same dtype, shape and bytes (so -0.0 != 0.0)."""
    assert dtype_name(e) == dtype_name(t), (e.dtype, t.dtype)
    a, b = e.numpy(), t.detach().numpy()
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.tobytes() == b.tobytes(), np.flatnonzero(a.ravel() != b.ravel())[:10]


def engines(dimension, **kwargs):
    """The same engine in ember and in torch."""
    return (ember.quasirandom.SobolEngine(dimension, **kwargs),
            torch.quasirandom.SobolEngine(dimension, **kwargs))


def assert_same_state(e, t):
    """Every state tensor and the counter agree."""
    for name in ("sobolstate", "shift", "quasi"):
        assert_bits(getattr(e, name), getattr(t, name))
    assert e.num_generated == t.num_generated


def dtypes(dtype):
    """(ember dtype, torch dtype) from a name, or (None, None)."""
    return (None, None) if dtype is None else (getattr(ember, dtype), getattr(torch, dtype))


def test_wired_as_a_lazy_namespace():
    """`ember.quasirandom` is loaded on first use; torch's class constants."""
    assert "quasirandom" in ember._LAZY_MODULES
    assert ember.quasirandom is quasirandom
    assert quasirandom.SobolEngine.MAXBIT == torch.quasirandom.SobolEngine.MAXBIT == 30
    assert quasirandom.SobolEngine.MAXDIM == torch.quasirandom.SobolEngine.MAXDIM == 21201


@pytest.mark.parametrize("dimension", DIMS)
def test_state_and_first_draws(dimension):
    """Unscrambled state (Joe & Kuo via SciPy) and the first points, up to 21201 dims."""
    e, t = engines(dimension)
    assert_same_state(e, t)
    assert (e.dimension, e.scramble, e.seed) == (t.dimension, t.scramble, t.seed)
    assert_bits(e.draw(300 if dimension < 21201 else 64), t.draw(300 if dimension < 21201
                                                                 else 64))
    assert_same_state(e, t)


@pytest.mark.parametrize("scramble,seed", [(False, None), (True, 0), (True, 7)])
@pytest.mark.parametrize("dimension", [1, 2, 5, 40])
def test_successive_draws(dimension, scramble, seed):
    """Draws of several sizes and dtypes in a row keep torch's stream and state."""
    e, t = engines(dimension, scramble=scramble, seed=seed)
    for n, dtype in [(1, None), (1, "float64"), (2, None), (5, "float64"), (0, None),
                     (37, "float32"), (256, "float64"), (3, None)]:
        de, dt = dtypes(dtype)
        assert_bits(e.draw(n, dtype=de), t.draw(n, dtype=dt))
        assert_same_state(e, t)


@pytest.mark.parametrize("first", [0, 2, 7])
@pytest.mark.parametrize("dtype", [None, "float32", "float64"])
def test_first_draw_of_many_points(first, dtype):
    """A long draw, first or after a few points: the vectorised XOR walk."""
    e, t = engines(6, scramble=True, seed=11)
    de, dt = dtypes(dtype)
    if first:
        assert_bits(e.draw(first), t.draw(first))
    assert_bits(e.draw(1000, dtype=de), t.draw(1000, dtype=dt))
    assert_same_state(e, t)


@pytest.mark.parametrize("seed", [0, 1, 123, 2 ** 40 + 5, -3])
@pytest.mark.parametrize("dimension", [1, 3, 300])
def test_scrambled_with_seeds(dimension, seed):
    """Seeded scrambling: shift, scrambled state, first point and draws."""
    e, t = engines(dimension, scramble=True, seed=seed)
    assert_same_state(e, t)
    assert_bits(e._first_point, t._first_point)
    assert_bits(e.draw(129, dtype=ember.float64), t.draw(129, dtype=torch.float64))
    assert_bits(e.draw(64), t.draw(64))


def test_scrambled_largest_dimension():
    """Scrambling all 21201 dimensions (the batched GF(2) products)."""
    e, t = engines(21201, scramble=True, seed=2024)
    assert_same_state(e, t)
    assert_bits(e.draw(33, dtype=ember.float64), t.draw(33, dtype=torch.float64))


@pytest.mark.parametrize("seed", [0, 5, 31337])
def test_scrambled_without_seed_uses_the_default_generator(seed):
    """seed=None draws from the default generator, as torch."""
    ember.manual_seed(seed)
    torch.manual_seed(seed)
    e, t = engines(4, scramble=True)
    assert e.seed is None and t.seed is None
    assert_same_state(e, t)
    assert_bits(e.draw(50), t.draw(50))
    assert_bits(ember.rand(5), torch.rand(5))  # the default streams went on alike


def test_seeded_scrambling_leaves_the_default_generator_alone():
    """A seed means a private generator: the default stream is untouched."""
    ember.manual_seed(3)
    torch.manual_seed(3)
    engines(4, scramble=True, seed=9)
    assert_bits(ember.rand(5), torch.rand(5))


@pytest.mark.parametrize("made,drawn", [("float64", "float32"), ("float64", "float64"),
                                         ("float32", "float64")])
def test_default_dtype_at_construction_and_draw(made, drawn):
    """The first point is divided in the default dtype of construction, then cast."""
    old = ember.get_default_dtype()
    try:
        ember.set_default_dtype(getattr(ember, made))
        torch.set_default_dtype(getattr(torch, made))
        e, t = engines(5, scramble=True, seed=4)
        ember.set_default_dtype(getattr(ember, drawn))
        torch.set_default_dtype(getattr(torch, drawn))
        assert_bits(e.draw(), t.draw())
        assert_bits(e.draw(9), t.draw(9))
        e.reset()
        t.reset()
        assert_bits(e.draw(4), t.draw(4))
    finally:
        ember.set_default_dtype(old)
        torch.set_default_dtype(getattr(torch, dtype_name(old)))


@pytest.mark.parametrize("scramble", [False, True])
@pytest.mark.parametrize("plan", [[1, 3, 2, 4], [4, 4, 8], [0, 0, 5], [2, 1, 0, 2, 3]])
def test_draw_base2(plan, scramble):
    """draw_base2 results, and torch's ValueError when the total is no power of 2."""
    e, t = engines(3, scramble=scramble, seed=8)
    for m in plan:
        try:
            expected = t.draw_base2(m, dtype=torch.float64)
        except ValueError as error:
            with pytest.raises(ValueError) as raised:
                e.draw_base2(m, dtype=ember.float64)
            assert str(raised.value) == str(error)
        else:
            assert_bits(e.draw_base2(m, dtype=ember.float64), expected)
        assert_same_state(e, t)


@pytest.mark.parametrize("scramble", [False, True])
@pytest.mark.parametrize("plan", [[("ff", 10), ("draw", 5)], [("draw", 1), ("ff", 1), ("draw", 3)],
                                  [("ff", 0), ("draw", 4)], [("draw", 3), ("ff", 0), ("draw", 2)],
                                  [("ff", 1), ("draw", 2), ("ff", 2 ** 20 + 3), ("draw", 6)],
                                  [("ff", 1000), ("ff", 777), ("draw", 40)],
                                  [("ff", -3), ("draw", 6)],
                                  [("draw", 2), ("ff", -5), ("draw", 8)]])
def test_fast_forward(plan, scramble):
    """fast_forward (closed-form column parities) then draws, negative n included."""
    e, t = engines(7, scramble=scramble, seed=21)
    for step, n in plan:
        if step == "ff":
            assert e.fast_forward(n) is e
            t.fast_forward(n)
        else:
            assert_bits(e.draw(n, dtype=ember.float64), t.draw(n, dtype=torch.float64))
        assert_same_state(e, t)


def test_fast_forward_updates_quasi_in_place():
    """fast_forward writes into the quasi tensor itself, as torch's ff_."""
    e, t = engines(3, scramble=True, seed=2)
    e.draw(3)
    t.draw(3)
    e_quasi, t_quasi = e.quasi, t.quasi
    e.fast_forward(9)
    t.fast_forward(9)
    assert e.quasi is e_quasi
    assert_bits(e_quasi, t_quasi)


@pytest.mark.parametrize("scramble", [False, True])
def test_reset(scramble):
    """reset returns to the first point and the same stream."""
    e, t = engines(5, scramble=scramble, seed=6)
    first_e, first_t = e.draw(20), t.draw(20)
    e.fast_forward(13)
    t.fast_forward(13)
    assert e.reset() is e
    t.reset()
    assert_same_state(e, t)
    again = e.draw(20)
    assert_bits(again, t.draw(20))
    assert_bits(again, first_t)
    assert_bits(first_e, first_t)


@pytest.mark.parametrize("out_dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("n", [1, 6])
def test_out(n, out_dtype):
    """out= is resized and written (cast to its dtype) and returned."""
    e, t = engines(3, scramble=True, seed=1)
    e_out = ember.empty(5, dtype=getattr(ember, out_dtype))
    t_out = torch.empty(5, dtype=getattr(torch, out_dtype))
    assert e.draw(n, out=e_out, dtype=ember.float64) is e_out
    t.draw(n, out=t_out, dtype=torch.float64)
    assert_bits(e_out, t_out)
    e, t = engines(3, scramble=True, seed=1)
    e_out, t_out = ember.empty(0), torch.empty(0)
    assert e.draw_base2(3, out=e_out) is e_out
    t.draw_base2(3, out=t_out)
    assert_bits(e_out, t_out)


@pytest.mark.parametrize("kwargs", [{}, {"scramble": True}, {"seed": 5},
                                    {"scramble": True, "seed": 5}, {"scramble": 1, "seed": 0}])
def test_repr(kwargs):
    """repr as torch prints it."""
    e, t = engines(3, **kwargs)
    assert repr(e) == repr(t)


@pytest.mark.parametrize("dimension", [0, -1, 21202, 2.0, True, "3", None])
def test_dimension_errors(dimension):
    """Dimensions outside [1, 21201] or not ints: torch's errors."""
    assert_same_error(lambda lib: lib.quasirandom.SobolEngine(dimension), same_message=True)


@pytest.mark.parametrize("seed", [2.5, "1"])
def test_seed_errors(seed):
    """Seeds manual_seed refuses: torch's errors."""
    assert_same_error(lambda lib: lib.quasirandom.SobolEngine(3, scramble=True, seed=seed),
                      same_message=True)


CALLS = {
    "draw(0)": lambda lib, s: s.draw(0),
    "draw(-1)": lambda lib, s: s.draw(-1),
    "draw(2.0)": lambda lib, s: s.draw(2.0),
    "draw(True)": lambda lib, s: s.draw(True),
    "draw('a')": lambda lib, s: s.draw("a"),
    "draw(float16)": lambda lib, s: s.draw(3, dtype=lib.float16),
    "draw(bfloat16)": lambda lib, s: s.draw(3, dtype=lib.bfloat16),
    "draw(int64)": lambda lib, s: s.draw(3, dtype=lib.int64),
    "draw(bool)": lambda lib, s: s.draw(3, dtype=lib.bool),
    "draw(complex64)": lambda lib, s: s.draw(3, dtype=lib.complex64),
    "draw(dtype=str)": lambda lib, s: s.draw(3, dtype="float64"),
    "draw(-2, float16)": lambda lib, s: s.draw(-2, dtype=lib.float16),
    "fast_forward(2.0)": lambda lib, s: s.fast_forward(2.0),
    "fast_forward(True)": lambda lib, s: s.fast_forward(True),
    "draw_base2(-1)": lambda lib, s: s.draw_base2(-1),
    "draw_base2(2.0)": lambda lib, s: s.draw_base2(2.0),
    "out requires grad": lambda lib, s: s.draw(3, out=lib.empty(2, requires_grad=True)),
}


@pytest.mark.parametrize("drawn", [0, 1])
@pytest.mark.parametrize("name", list(CALLS))
def test_bad_calls(name, drawn):
    """torch's exception and message, or (where torch accepts the call) torch's result."""
    def run(lib):
        engine = lib.quasirandom.SobolEngine(2)
        if drawn:
            engine.draw(drawn)
        return engine, CALLS[name](lib, engine)
    try:
        t_engine, expected = run(torch)
    except Exception:  # noqa: BLE001 - whatever torch raises, ember must raise alike
        assert_same_error(lambda lib: run(lib), same_message=True)
        return
    e_engine, result = run(ember)
    assert_bits(result if isinstance(result, ember.Tensor) else result.quasi,
                expected if isinstance(expected, torch.Tensor) else expected.quasi)
    assert e_engine.num_generated == t_engine.num_generated


@pytest.mark.parametrize("dtype", ["float16", "int64", "bool", "bfloat16"])
def test_first_point_alone_in_any_dtype(dtype):
    """draw(1) on a new engine only casts the first point: no float-only check."""
    e, t = engines(3, scramble=True, seed=3)
    assert_bits(e.draw(1, dtype=getattr(ember, dtype)).float(),
                t.draw(1, dtype=getattr(torch, dtype)).float())


def test_no_warnings():
    """Valid use warns about nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = ember.quasirandom.SobolEngine(4, scramble=True, seed=1)
        e.draw(16)
        e.draw_base2(4)
        e.fast_forward(3)


def test_past_the_last_point_is_refused():
    """Counters past 2^30 - 2 would need a 31st direction number (torch reads out of bounds)."""
    e = ember.quasirandom.SobolEngine(2)
    e.fast_forward(2 ** 30 - 1)
    assert e.draw(1).shape == (1, 2)  # the last of the 2^30 points
    with pytest.raises(RuntimeError, match="2\\*\\*30"):
        e.draw(1)
    with pytest.raises(RuntimeError, match="2\\*\\*30"):
        ember.quasirandom.SobolEngine(2).fast_forward(2 ** 30 + 1)
    assert ember.quasirandom.SobolEngine(2).fast_forward(2 ** 30).num_generated == 2 ** 30


def test_state_is_cached_and_copied():
    """The cached state serves smaller dimensions, never shared between engines."""
    e1 = ember.quasirandom.SobolEngine(50, scramble=True, seed=1)
    e2, t2 = engines(20)
    assert_bits(e2.sobolstate, t2.sobolstate)  # a prefix of the cached 50-dimension state
    assert not np.shares_memory(e1.sobolstate.numpy(), e2.sobolstate.numpy())


def test_missing_scipy_names_the_extra(monkeypatch):
    """Without SciPy's table: an ImportError naming the extra."""
    monkeypatch.setattr(quasirandom, "_CACHE", {})
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    with pytest.raises(ImportError, match=r"pip install ember\[scipy\]"):
        ember.quasirandom.SobolEngine(3)
