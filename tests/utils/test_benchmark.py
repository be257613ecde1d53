"""ember.utils.benchmark (torch.utils.benchmark) and ember.utils.model_zoo, compared with torch.

Timings are never compared as numbers: the texts (Measurement repr, Compare tables) are
compared on Measurements built from the same raw times in both libraries, the Timer's loop is
compared with a fake clock, and real timing runs are checked for their structure only.
"""

import os
import pickle
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
import torch.utils.benchmark as tb
from torch.utils.benchmark.op_fuzzers import binary as t_binary
from torch.utils.benchmark.op_fuzzers import sparse_binary as t_sparse_binary
from torch.utils.benchmark.op_fuzzers import spectral as t_spectral
from torch.utils.benchmark.op_fuzzers import unary as t_unary
from torch.utils.benchmark.utils import fuzzer as t_fuzzer

import ember
import ember.utils.benchmark as eb
import ember.utils.model_zoo
from ember.utils.benchmark.op_fuzzers import binary as e_binary
from ember.utils.benchmark.op_fuzzers import sparse_binary as e_sparse_binary
from ember.utils.benchmark.op_fuzzers import spectral as e_spectral
from ember.utils.benchmark.op_fuzzers import unary as e_unary

RNG = np.random.default_rng(0)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_this_checkout_is_tested():
    assert os.path.dirname(os.path.abspath(ember.__file__)) == os.path.join(REPO, "ember")
    assert eb.Timer.__module__ == "ember.utils.benchmark.utils.timer"


def test_public_names_are_torchs():
    ours = {n for n in dir(eb) if not n.startswith("_")}
    theirs = {n for n in dir(tb) if not n.startswith("_")} - {"Number", "math", "torch"}
    assert ours == theirs  # (torch also leaks sparse_fuzzer's imports Number, math, torch)


# ---- Measurement ------------------------------------------------------------------------
def _spec(lib, **kw):
    return lib.TaskSpec(**{"stmt": "x + y", "setup": "pass", **kw})


def _measurement(lib, raw_times, number=100, **kw):
    return lib.Measurement(number_per_run=number, raw_times=list(raw_times),
                           task_spec=_spec(lib, **kw))


def _text(obj):
    """repr/str with the first `<... object at 0x...>` line made library-neutral."""
    text = repr(obj) if not isinstance(obj, (tb.Compare, eb.Compare)) else str(obj)
    return re.sub(r"<(ember|torch)\.(\S+) object at 0x[0-9a-f]+>", r"<\2>", text)


_MEASUREMENT_CASES = [
    ([3.2e-6], {}),
    ([5.7e-4, 5.9e-4], {"label": "add", "sub_label": "float"}),
    ([1.0e-2, 1.1e-2, 1.3e-2], {"description": "n=4"}),
    ([4.0e-7, 4.1e-7, 4.05e-7, 4.2e-7, 3.99e-7], {"num_threads": 4}),
    ([2.1, 2.9, 1.5, 2.2, 2.0, 4.0], {"label": "gross spread"}),
    ([1.0, 1.15, 1.08, 0.95, 1.02], {"label": "mild spread"}),
    ([1.5e-5] * 8, {"stmt": "a = 1\nb = a + 1", "setup": "import math\nx = 2"}),
    ([7.7e-8, 8.1e-8, 7.9e-8, 8.3e-8], {"stmt": "y = 1\ny += 1", "sub_label": "two lines",
                                        "setup": "y = 0"}),
    ([0.25e-3, 0.3e-3, 0.27e-3, 0.26e-3], {"env": "A", "label": "L", "description": "d"}),
]


@pytest.mark.parametrize("raw, kw", _MEASUREMENT_CASES)
@pytest.mark.parametrize("number", [1, 100])
def test_measurement_repr_and_statistics_are_torchs(raw, kw, number):
    e, t = _measurement(eb, raw, number, **kw), _measurement(tb, raw, number, **kw)
    assert _text(e) == _text(t)
    assert repr(e).startswith("<ember.utils.benchmark.utils.common.Measurement object at ")
    assert e.mean == pytest.approx(t.mean, rel=1e-14)  # (float64 sums: last bit may differ)
    for name in ("median", "iqr", "times", "number_per_run", "raw_times",
                 "significant_figures", "has_warnings", "title", "as_row_name", "env",
                 "label", "sub_label", "description", "num_threads", "stmt", "setup"):
        assert getattr(e, name) == getattr(t, name), name
    for threshold in (0.01, 0.1, 0.5):
        assert e.meets_confidence(threshold) == t.meets_confidence(threshold)


def test_random_measurements_match_torch():
    for _ in range(60):
        scale = 10.0 ** RNG.uniform(-9, 1)
        raw = list(scale * (1 + RNG.uniform(0, RNG.uniform(0.001, 0.6), RNG.integers(1, 40))))
        e, t = _measurement(eb, raw, 10), _measurement(tb, raw, 10)
        assert _text(e) == _text(t)
        assert (e.significant_figures, e.median, e.iqr) == (t.significant_figures, t.median,
                                                            t.iqr)


def test_merge_and_pickle():
    raws = ([1e-6, 2e-6], [1.5e-6, 1.2e-6, 1.3e-6], [4e-6])
    for lib in (eb, tb):
        ms = [_measurement(lib, r, n, env=env) for r, n, env in zip(raws, (1, 10, 5),
                                                                    ("A", "A", "B"))]
        merged = lib.Measurement.merge(ms)
        assert [(m.number_per_run, m.raw_times, m.env, m.metadata) for m in merged] == [
            (1, [1e-6, 2e-6, 1.5e-7, 1.2e-7, 1.3e-7], "A", None), (1, [8e-7], "B", None)]
    e = _measurement(eb, [1e-3, 2e-3, 3e-3, 4e-3], label="L")
    back = pickle.loads(pickle.dumps(e))
    assert (back.median, back.task_spec, _text(back)) == (e.median, e.task_spec, _text(e))


def test_helpers_match_torch():
    for x in [1e-10, 3e-9, 1e-9, 999e-9, 1e-6, 2.5e-5, 1e-3, 0.5, 1.0, 12.0, 5000.0]:
        assert eb.select_unit(x) == tb.select_unit(x)
    for x in [3.14159, 0.000123456, 98765.4, 1.0, 2.5]:
        for n in (1, 2, 3, 4):
            assert eb.trim_sigfig(x, n) == tb.trim_sigfig(x, n)
    with pytest.raises(AssertionError, match="must be an integer"):
        eb.trim_sigfig(1.0, 1.5)
    assert [eb.unit_to_english(u) for u in ("ns", "us", "ms", "s")] == [
        tb.unit_to_english(u) for u in ("ns", "us", "ms", "s")]
    assert eb.ordered_unique([3, 1, 3, 2, 1]) == tb.ordered_unique([3, 1, 3, 2, 1]) == [3, 1, 2]
    before = ember.get_num_threads()
    with eb.set_torch_threads(1):
        assert ember.get_num_threads() == 1
    assert ember.get_num_threads() == before


def test_taskspec_matches_torch():
    for kw in ({}, {"label": "L"}, {"label": "L", "sub_label": "s"}, {"stmt": "a\nb"},
               {"stmt": "a\nb", "sub_label": "s", "setup": "p\nq", "description": "d"}):
        e, t = _spec(eb, **kw), _spec(tb, **kw)
        assert (e.title, e.setup_str(), e.summarize()) == (t.title, t.setup_str(), t.summarize())
    assert hash(_spec(eb)) == hash(_spec(eb))


# ---- Compare ----------------------------------------------------------------------------
def _table_results(lib, seed, envs=("A",), labels=("Batched dot",)):
    """The same synthetic measurements for lib: labels x envs x threads x rows x columns."""
    rng, out = np.random.default_rng(seed), []
    for label in labels:
        for env in envs:
            for threads in (1, 4):
                for row in ("[1, 1]", "[64, 64]", "[1024, 64]"):
                    for col, base in (("mul/sum", 3e-6), ("bmm", 2e-5), ("einsum", 8e-4)):
                        if (row, col) == ("[1, 1]", "einsum"):
                            continue  # a missing cell
                        spread = rng.choice([0.01, 0.05, 0.3])
                        raw = base * rng.uniform(1, 30) * (1 + rng.uniform(0, spread, 12))
                        out.append(lib.Measurement(50, list(raw), lib.TaskSpec(
                            "f(x)", "pass", label=label, sub_label=row, description=col,
                            env=env if len(envs) > 1 else None, num_threads=threads)))
    return out


_COMPARE_OPTIONS = [(), ("trim_significant_figures",), ("colorize",), ("colorize_rowwise",),
                    ("highlight_warnings",),
                    ("trim_significant_figures", "colorize", "highlight_warnings")]


def _compare(lib, results, options):
    compare = lib.Compare(results[: len(results) // 2])
    compare.extend_results(results[len(results) // 2:])
    for option in options:
        if option == "colorize_rowwise":
            compare.colorize(rowwise=True)
        else:
            getattr(compare, option)()
    return compare


@pytest.mark.parametrize("options", _COMPARE_OPTIONS)
@pytest.mark.parametrize("layout", [{}, {"envs": ("env A", "env B")},
                                    {"labels": ("first", "second")}])
def test_compare_table_is_torchs(options, layout):
    for seed in range(3):
        e = _compare(eb, _table_results(eb, seed, **layout), options)
        t = _compare(tb, _table_results(tb, seed, **layout), options)
        assert str(e) == str(t)


def test_compare_merges_replicates_as_torch(capsys):
    printed = []
    for lib in (eb, tb):
        results = [lib.Measurement(n, [t], lib.TaskSpec("f()", "pass", label="L",
                                                        description="d"))
                   for n, t in ((1, 1e-3), (10, 1.2e-2), (1, 1.1e-3), (2, 1.8e-3))]
        lib.Compare(results).print()
        printed.append(capsys.readouterr().out)
        with pytest.raises(TypeError):  # torch's table needs a description (column name)
            str(lib.Compare([lib.Measurement(1, [1.0], lib.TaskSpec("f()", "pass"))]))
    assert printed[0] == printed[1] and "f()" in printed[0]


def test_compare_print_equals_str(capsys):
    results = _table_results(eb, 0)
    eb.Compare(results).print()
    assert capsys.readouterr().out == str(eb.Compare(results)) + "\n"


def test_compare_rejects_other_objects():
    for lib in (eb, tb):
        with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
            lib.Compare([1.0])


# ---- Timer ------------------------------------------------------------------------------
class _Clock:
    """A fake clock: each call is one second later."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 1.0
        return self.now


def _timer_runs(lib):
    """The Timer's measurement loops on a fake clock (deterministic)."""
    out = []
    for method, kw in (("timeit", {"number": 7}), ("blocked_autorange", {}),
                       ("adaptive_autorange", {}),
                       ("adaptive_autorange", {"threshold": 0.0, "max_run_time": 5.5})):
        seen = []
        timer = lib.Timer("x + 1", "x = 2", timer=_Clock(), label="L", num_threads=2)
        if method != "timeit":
            kw = {**kw, "callback": lambda n, t: seen.append((n, t))}
        m = getattr(timer, method)(**kw)
        out.append((m.number_per_run, m.raw_times, m.num_threads, m.label, seen, _text(m)))
    return out


def test_timer_loops_match_torch_on_a_fake_clock():
    assert _timer_runs(eb) == _timer_runs(tb)


def test_timer_globals_setup_and_normalization():
    for lib, pkg in ((eb, ember), (tb, torch)):
        calls, user_globals = [], {"calls": None}
        user_globals["calls"] = calls
        t = lib.Timer(stmt="""
            calls.append(torch.zeros(1).numel())
        """, setup="\n    calls.append('setup')\n", globals=user_globals)
        assert t._globals["torch"] is pkg and "torch" not in user_globals
        m = t.timeit(3)
        assert calls == ["setup", 1, 1, "setup", 1, 1, 1]  # warmup (2 runs), then 3 runs
        assert (m.stmt, m.setup) == ("calls.append(torch.zeros(1).numel())",
                                     "calls.append('setup')")
        assert "__builtins__" not in user_globals
        mine = object()
        assert lib.Timer("torch", globals={"torch": mine})._globals["torch"] is mine


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


@pytest.mark.parametrize("call", [
    lambda lib: lib.Timer(stmt=lambda: None),
    lambda lib: lib.Timer("x", language="fortran"),
    lambda lib: lib.Timer("x", global_setup="#include <x>"),
    lambda lib: lib.Timer("pass").repeat(),
    lambda lib: lib.Timer("pass").autorange(),
    lambda lib: lib.Timer("undefined_name").timeit(1),
    lambda lib: lib.Timer("pass", setup="raise KeyError('s')").timeit(1),
    lambda lib: lib.Timer("pass").collect_callgrind(repeats=0),
])
def test_timer_errors_are_torchs(call):
    assert _error(lambda: call(eb)) == _error(lambda: call(tb))


def test_cpp_and_callgrind_are_refused():
    for language in ("cpp", "c++", eb.Language.CPP):
        with pytest.raises(ValueError, match=f"^Invalid language `{re.escape(str(language))}`"):
            eb.Timer("x", language=language)
    assert eb.Timer("pass", language="py")._language is eb.Language.PYTHON
    # torch without Valgrind support raises this OSError; its statement check runs first
    with pytest.raises(OSError, match="^Valgrind is not supported on this platform.$"):
        eb.Timer("pass").collect_callgrind()
    with pytest.raises(NameError):
        eb.Timer("nope").collect_callgrind()


def test_copy_if_callgrind_is_unwrapped():
    for lib in (eb, tb):  # (the message then lists the library's own Module classes)
        with pytest.raises(ValueError, match="^Unsupported type: <class 'object'>\n`collect_"):
            lib.CopyIfCallgrind(object())
    lin = ember.nn.Linear(2, 2)
    seen = []
    t = eb.Timer("seen.append(m(x))", globals={"m": eb.CopyIfCallgrind(lin), "x": ember.ones(2),
                                              "seen": seen})
    t.timeit(1)
    assert seen and all(isinstance(y, ember.Tensor) for y in seen)
    wrapped = eb.CopyIfCallgrind(3, setup="import math")
    assert (wrapped.value, wrapped.setup, wrapped.serialization.name) == (3, "import math",
                                                                         "PICKLE")


def test_function_counts_and_callgrind_stats_match_torch():
    data = {"a.c:f": 100, "b.c:g": -20, "dictobject.c:lookdict_unicode": 7, "x" * 90: 3}

    def build(lib):
        fc = lib.FunctionCounts._from_dict(data, inclusive=False)
        other = lib.FunctionCounts._from_dict({"a.c:f": 40, "c.c:h": 5}, inclusive=False)
        stats = lib.CallgrindStats(_spec(lib, label="L"), 10, False, other, other, fc, fc, None)
        return [_text(x) for x in (fc, fc + other, fc - other, fc * 2, fc.denoise(), fc[:2],
                                   fc.transform(lambda s: s[:1]), stats,
                                   stats.as_standardized(), stats.delta(stats))] + [
            fc.sum(), len(fc), tuple(fc[0]), stats.counts(denoise=True)]

    assert build(eb) == build(tb)


# ---- Fuzzer -----------------------------------------------------------------------------
def _take(lib, make, n):
    """Tensors (as lists), properties and params of n fuzzer steps."""
    out = []
    for tensors, props, params in make(lib).take(n):
        props = {k: {**v, "order": list(v["order"])} for k, v in props.items()}
        values = {k: (v.tolist(), tuple(v.shape), v.stride(), v.is_contiguous())
                  for k, v in tensors.items()}
        out.append((values, props, params))
    return out


def _tutorial_fuzzer(lib):
    return lib.Fuzzer(
        parameters=[lib.FuzzedParameter("k0", minval=1, maxval=10000, distribution="loguniform"),
                    lib.FuzzedParameter("k1", minval=1, maxval=10000, distribution="loguniform")],
        tensors=[lib.FuzzedTensor("x", size=("k0", "k1"), min_elements=128, max_elements=4000,
                                  probability_contiguous=0.6)],
        seed=0)


def _strided_fuzzer(lib):
    return lib.Fuzzer(
        parameters=[lib.FuzzedParameter("n", minval=2, maxval=12, distribution="uniform"),
                    [lib.FuzzedParameter(f"s{i}", minval=1, maxval=3, distribution="uniform")
                     for i in range(3)],
                    lib.FuzzedParameter("d", minval=1, maxval=3, distribution="uniform",
                                        strict=True),
                    lib.FuzzedParameter("f", minval=0.5, maxval=2.5, distribution="uniform")],
        tensors=[lib.FuzzedTensor("x", size=("n", 3, "n"), steps=("s0", "s1", "s2"),
                                  dim_parameter="d", probability_contiguous=0.3),
                 lib.FuzzedTensor("i", size=("n", "n"), dtype=ember_or_torch(lib).int32,
                                  max_allocation_bytes=300, probability_contiguous=0.0)],
        constraints=[lambda params: params["n"] % 2 == 0], seed=1234)


def _constructor_fuzzer(lib):
    pkg = ember_or_torch(lib)
    return lib.Fuzzer(
        parameters=[lib.FuzzedParameter("n", minval=1, maxval=64, distribution="loguniform")],
        tensors=[lib.FuzzedTensor("x", size=("n", 5), probability_contiguous=0.5,
                                  tensor_constructor=lambda size, dtype, **kw: pkg.randn(
                                      size, dtype=dtype) * kw["n"])],
        seed=7)


def ember_or_torch(lib):
    return ember if lib is eb else torch


@pytest.mark.parametrize("make", [_tutorial_fuzzer, _strided_fuzzer, _constructor_fuzzer])
def test_seeded_fuzzer_is_torchs(make):
    assert _take(eb, make, 6) == _take(tb, make, 6)
    f_e, f_t = make(eb), make(tb)
    list(f_e.take(3)), list(f_t.take(3))
    assert f_e.rejection_rate == f_t.rejection_rate


@pytest.fixture
def torch_dict_distributions(monkeypatch):
    """torch 2.13's normalization check is inverted (every normalized dict raises); skip it
    in torch so that its sampling can be compared with ember's."""
    assert _error(lambda: tb.FuzzedParameter("p", distribution={1: 0.5, 2: 0.5})) == (
        AssertionError, "Distribution is not normalized")
    monkeypatch.setattr(t_fuzzer.FuzzedParameter, "_check_distribution", lambda self, d: d)


def _alias_fuzzer(lib):
    return lib.Fuzzer(
        parameters=[lib.FuzzedParameter("x_len", 4, 64, distribution="uniform"),
                    lib.FuzzedParameter("y_len", distribution={
                        1: 0.5, lib.ParameterAlias("x_len"): 0.5}),
                    lib.FuzzedParameter("dt", distribution={"a": 0.2, "b": 0.3, "c": 0.5})],
        tensors=[lib.FuzzedTensor("x", size=("x_len",)), lib.FuzzedTensor("y", size=("y_len",))],
        seed=3)


def test_dict_distributions_and_aliases_sample_as_torch(torch_dict_distributions):
    assert _take(eb, _alias_fuzzer, 8) == _take(tb, _alias_fuzzer, 8)
    with pytest.raises(AssertionError, match="Distribution is not normalized"):
        eb.FuzzedParameter("p", distribution={1: 0.5, 2: 0.4})
    with pytest.raises(ValueError, match="ParameterAlias cycle detected"):
        eb.Fuzzer._resolve_aliases({"a": eb.ParameterAlias("b"), "b": eb.ParameterAlias("a")})
    assert repr(eb.ParameterAlias("k")) == repr(tb.ParameterAlias("k"))


@pytest.mark.parametrize("makers", [
    (lambda s: e_binary.BinaryOpFuzzer(seed=s), lambda s: t_binary.BinaryOpFuzzer(seed=s)),
    (lambda s: e_unary.UnaryOpFuzzer(seed=s), lambda s: t_unary.UnaryOpFuzzer(seed=s)),
    (lambda s: e_spectral.SpectralOpFuzzer(seed=s, probability_regular=0.6),
     lambda s: t_spectral.SpectralOpFuzzer(seed=s, probability_regular=0.6)),
    (lambda s: e_sparse_binary.BinaryOpSparseFuzzer(seed=s),
     lambda s: t_sparse_binary.BinaryOpSparseFuzzer(seed=s)),
])
def test_op_fuzzer_parameters_are_torchs(torch_dict_distributions, makers):
    # (their tensors reach 2 GB allocations; the parameter draws are compared)
    for seed in (0, 5):
        e, t = makers[0](seed), makers[1](seed)
        state_e, state_t = np.random.RandomState(seed), np.random.RandomState(seed)
        assert [e._generate(state_e) for _ in range(15)] == [
            t._generate(state_t) for _ in range(15)]


def _sparse_fuzzer(lib):
    params = [lib.FuzzedParameter("k0", minval=2, maxval=30, distribution="uniform"),
              lib.FuzzedParameter("k1", minval=2, maxval=30, distribution="uniform"),
              lib.FuzzedParameter("dim_parameter", minval=1, maxval=2, distribution="uniform"),
              lib.FuzzedParameter("sparse_dim", minval=1, maxval=2, distribution="uniform"),
              lib.FuzzedParameter("density", minval=0.05, maxval=0.5, distribution="uniform"),
              lib.FuzzedParameter("coalesced", minval=0, maxval=1, distribution="uniform")]
    return lib.Fuzzer(params, [lib.FuzzedSparseTensor(
        "x", size=("k0", "k1"), dim_parameter="dim_parameter", sparse_dim="sparse_dim",
        density="density", coalesced="coalesced")], seed=11)


def test_sparse_fuzzer_is_torchs():
    def take(lib):
        out = []
        for tensors, props, params in _sparse_fuzzer(lib).take(6):
            x = tensors["x"]
            out.append((x.to_dense().tolist(), x._indices().tolist(), x._values().tolist(),
                        {**props["x"], "shape": tuple(props["x"]["shape"])}, params))
        return out

    assert take(eb) == take(tb)


# ---- the tutorial -----------------------------------------------------------------------
_TUTORIAL = '''
import pickle
from itertools import product
import ember as torch
import ember.utils.benchmark as benchmark
from ember.utils.benchmark import Fuzzer, FuzzedParameter, FuzzedTensor, ParameterAlias
from ember.utils.benchmark.op_fuzzers import binary

def batched_dot_mul_sum(a, b):
    return a.mul(b).sum(-1)

def batched_dot_bmm(a, b):
    a = a.reshape(-1, 1, a.shape[-1])
    b = b.reshape(-1, b.shape[-1], 1)
    return torch.bmm(a, b).flatten(-3)

x = torch.randn(100, 64)
assert batched_dot_mul_sum(x, x).allclose(batched_dot_bmm(x, x))
t0 = benchmark.Timer(stmt="batched_dot_mul_sum(x, x)",
                     setup="from __main__ import batched_dot_mul_sum", globals={"x": x},
                     num_threads=torch.get_num_threads(), label="Multithreaded batch dot",
                     sub_label="Implemented using mul and sum")
print(t0.timeit(100))
m0 = t0.blocked_autorange()
print(m0)
print(f"Mean:   {m0.mean * 1e6:6.2f} us")
results = []
for b, n in product([1, 64], [1, 64]):
    x = torch.ones((b, n))
    for num_threads in [1, 2]:
        for stmt, name in (("batched_dot_mul_sum(x, x)", "mul/sum"),
                           ("batched_dot_bmm(x, x)", "bmm")):
            results.append(benchmark.Timer(
                stmt=stmt, setup="from __main__ import batched_dot_mul_sum, batched_dot_bmm",
                globals={"x": x}, num_threads=num_threads, label="Batched dot",
                sub_label=f"[{b}, {n}]", description=name).blocked_autorange(min_run_time=0.005))
compare = benchmark.Compare(results)
compare.print()
ab = [pickle.dumps(benchmark.Timer(stmt="batched_dot(x, x)",
                                   globals={"x": torch.ones((4, 4)), "batched_dot": fn},
                                   label="Batched dot", description="[4, 4]", env=env,
                                   ).blocked_autorange(min_run_time=0.005))
      for env, fn in (("environment A: mul/sum", batched_dot_mul_sum),
                      ("environment B: bmm", batched_dot_bmm))]
compare = benchmark.Compare([pickle.loads(i) for i in ab])
compare.trim_significant_figures()
compare.colorize()
compare.print()
fuzzer = Fuzzer(parameters=[FuzzedParameter(k, minval=1, maxval=1000, distribution="loguniform")
                            for k in ("k0", "k1")],
                tensors=[FuzzedTensor("x", size=("k0", "k1"), min_elements=128,
                                      max_elements=10000, probability_contiguous=0.6)], seed=0)
results = []
for tensors, tensor_params, params in fuzzer.take(3):
    contiguous = tensor_params['x']['is_contiguous']
    sub_label = f"{params['k0']:<6} x {params['k1']:<4} {'' if contiguous else '(discontiguous)'}"
    results.append(benchmark.Timer(stmt="batched_dot_mul_sum(x, x)",
                                   setup="from __main__ import batched_dot_mul_sum",
                                   globals=tensors, label="Batched dot", sub_label=sub_label,
                                   description="mul/sum").blocked_autorange(min_run_time=0.005))
compare = benchmark.Compare(results)
compare.trim_significant_figures()
compare.print()
print(type(binary.BinaryOpFuzzer(seed=0)).__name__)
try:
    t0.collect_callgrind()
except OSError as e:
    print("callgrind:", e)
'''


def test_tutorial_program_runs(tmp_path):
    script = tmp_path / "tutorial.py"
    script.write_text(textwrap.dedent(_TUTORIAL))
    env = {**os.environ, "PYTHONPATH": REPO}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "<ember.utils.benchmark.utils.common.Measurement object at" in out
    assert "Multithreaded batch dot: Implemented using mul and sum" in out
    assert re.search(r"\n  Median: [\d.]+ (ns|us|ms|s)\n  IQR:    ", out)
    assert re.search(r"\[-+ Batched dot -+\]\n +\|  mul/sum  \|  bmm \n1 threads: -+\n", out)
    assert "2 threads: " in out and "(environment B: bmm)" in out and "\033[1m" in out
    assert out.count("Times are in ") == 3
    assert "BinaryOpFuzzer" in out
    assert "callgrind: Valgrind is not supported on this platform." in out


# ---- model_zoo --------------------------------------------------------------------------
def test_model_zoo_load_url_is_the_hubs():
    assert ember.utils.model_zoo.load_url is ember.hub.load_state_dict_from_url
    import torch.utils.model_zoo as t_zoo
    assert ember.utils.model_zoo.tqdm is t_zoo.tqdm
