"""Intermediate layer between `Timer` and `valgrind` (matches
`torch.utils.benchmark.utils.valgrind_wrapper.timer_interface`).

Ported from PyTorch's torch/utils/benchmark/utils/valgrind_wrapper/timer_interface.py
(BSD-3-Clause license, Copyright (c) Facebook, Inc. and its affiliates and the PyTorch
contributors). The result containers (FunctionCount, FunctionCounts, CallgrindStats) and
CopyIfCallgrind are torch's. Collecting a profile needs the Callgrind toggles compiled into
torch (`torch._C._valgrind_toggle`); ember has none, so its wrapper reports what torch's does
when those bindings say the platform is unsupported: OSError("Valgrind is not supported on
this platform.").
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import itertools as it
import operator
import re
import textwrap
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, cast

from ember import _tensor_str
from ember.jit._script import ScriptFunction, ScriptModule
from ember.nn.modules.module import Module
from ember.utils.benchmark.utils import common

__all__ = ["FunctionCount", "FunctionCounts", "CallgrindStats", "CopyIfCallgrind"]


class FunctionCount(NamedTuple):
    """An instruction count and the function it was spent in."""
    count: int  # type: ignore[assignment]
    function: str


@dataclasses.dataclass(repr=False, eq=False, frozen=True)
class FunctionCounts:
    """Container for manipulating Callgrind results.

    It supports:
        1) Addition and subtraction to combine or diff results.
        2) Tuple-like indexing.
        3) A `denoise` function which strips CPython calls which are known to
           be non-deterministic and quite noisy.
        4) Two higher order methods (`filter` and `transform`) for custom
           manipulation.
    """
    _data: tuple[FunctionCount, ...]
    inclusive: bool
    truncate_rows: bool = True

    # For normal use, the tensor print options' linewidth determines
    # the print settings. This is simply to allow hermetic unit tests.
    _linewidth: int | None = None

    def __iter__(self) -> Iterator[FunctionCount]:
        """The (count, function) pairs, largest count first."""
        yield from self._data

    def __len__(self) -> int:
        """The number of functions."""
        return len(self._data)

    def __getitem__(self, item: Any) -> FunctionCount | FunctionCounts:
        """One FunctionCount, or a FunctionCounts for a slice."""
        data: FunctionCount | tuple[FunctionCount, ...] = self._data[item]
        return (
            FunctionCounts(cast(tuple[FunctionCount, ...], data), self.inclusive,
                           truncate_rows=False)
            if isinstance(data, tuple) else data
        )

    def __repr__(self) -> str:
        """One line per function (long names shortened in the middle), then the total."""
        count_len = 0
        for c, _ in self:
            # Account for sign in string length.
            count_len = max(count_len, len(str(c)) + int(c < 0))

        lines = []
        linewidth = self._linewidth or _tensor_str.PRINT_OPTS.linewidth
        fn_str_len = max(linewidth - count_len - 4, 40)
        for c, fn in self:
            if len(fn) > fn_str_len:
                left_len = int((fn_str_len - 5) // 2)
                fn = fn[:left_len] + " ... " + fn[-(fn_str_len - left_len - 5):]
            lines.append(f"  {c:>{count_len}}  {fn}")

        if self.truncate_rows and len(lines) > 18:
            lines = lines[:9] + ["...".rjust(count_len + 2)] + lines[-9:]

        if not self.inclusive:
            lines.extend(["", f"Total: {self.sum()}"])

        return "\n".join([super().__repr__()] + lines)

    def __add__(self, other: FunctionCounts) -> FunctionCounts:
        """The counts of both, added per function."""
        return self._merge(other, lambda c: c)

    def __sub__(self, other: FunctionCounts) -> FunctionCounts:
        """The difference of the counts, per function."""
        return self._merge(other, operator.neg)

    def __mul__(self, other: int | float) -> FunctionCounts:
        """The counts scaled by other (truncated to ints)."""
        return self._from_dict({
            fn: int(c * other) for c, fn in self._data
        }, self.inclusive)

    def transform(self, map_fn: Callable[[str], str]) -> FunctionCounts:
        """Apply `map_fn` to all of the function names.

        This can be used to regularize function names (e.g. stripping irrelevant
        parts of the file path), coalesce entries by mapping multiple functions
        to the same name (in which case the counts are added together), etc.
        """
        counts: collections.defaultdict[str, int] = collections.defaultdict(int)
        for c, fn in self._data:
            counts[map_fn(fn)] += c

        return self._from_dict(counts, self.inclusive)

    def filter(self, filter_fn: Callable[[str], bool]) -> FunctionCounts:
        """Keep only the elements where `filter_fn` applied to function name returns True."""
        return FunctionCounts(tuple(i for i in self if filter_fn(i.function)), self.inclusive)

    def sum(self) -> int:
        """The total instruction count."""
        return sum(c for c, _ in self)

    def denoise(self) -> FunctionCounts:
        """Remove known noisy instructions (CPython's unicode dictionary lookups)."""
        return self.filter(lambda fn: "dictobject.c:lookdict_unicode" not in fn)

    def _merge(
        self,
        second: FunctionCounts,
        merge_fn: Callable[[int], int]
    ) -> FunctionCounts:
        """Combine per function: self's counts plus merge_fn of second's."""
        if self.inclusive != second.inclusive:
            raise AssertionError("Cannot merge inclusive and exclusive counts.")
        counts: collections.defaultdict[str, int] = collections.defaultdict(int)
        for c, fn in self:
            counts[fn] += c

        for c, fn in second:
            counts[fn] += merge_fn(c)

        return self._from_dict(counts, self.inclusive)

    @staticmethod
    def _from_dict(counts: dict[str, int], inclusive: bool) -> FunctionCounts:
        """The nonzero counts, largest first."""
        flat_counts = (FunctionCount(c, fn) for fn, c in counts.items() if c)
        return FunctionCounts(tuple(sorted(flat_counts, reverse=True)), inclusive)


@dataclasses.dataclass(repr=False, eq=False, frozen=True)
class CallgrindStats:
    """Top level container for Callgrind results collected by Timer.

    Manipulation is generally done using the FunctionCounts class, which is
    obtained by calling `CallgrindStats.stats(...)`. Several convenience
    methods are provided as well; the most significant is
    `CallgrindStats.as_standardized()`.
    """
    task_spec: common.TaskSpec
    number_per_run: int
    built_with_debug_symbols: bool
    baseline_inclusive_stats: FunctionCounts
    baseline_exclusive_stats: FunctionCounts
    stmt_inclusive_stats: FunctionCounts
    stmt_exclusive_stats: FunctionCounts
    stmt_callgrind_out: str | None

    def __repr__(self) -> str:
        """The task, total and baseline instruction counts (with and without noise)."""
        base_stats = self.baseline_exclusive_stats
        threads = self.task_spec.num_threads
        output = f"""
{super().__repr__()}
{self.task_spec.summarize()}
  {'':>25}All{'':>10}Noisy symbols removed
    Instructions: {self.counts(denoise=False):>12}{'':>15}{self.counts(denoise=True):>12}
    Baseline:     {base_stats.sum():>12}{'':>15}{base_stats.denoise().sum():>12}
{self.number_per_run} runs per measurement, {threads} thread{'s' if threads > 1 else ''}
""".strip()
        if not self.built_with_debug_symbols:
            output += textwrap.dedent("""
            Warning: PyTorch was not built with debug symbols.
                     Source information may be limited. Rebuild with
                     REL_WITH_DEB_INFO=1 for more detailed results.""")
        return output

    def stats(self, inclusive: bool = False) -> FunctionCounts:
        """Returns detailed function counts (inclusive: counts include children's)."""
        return self.stmt_inclusive_stats if inclusive else self.stmt_exclusive_stats

    def counts(self, *, denoise: bool = False) -> int:
        """Returns the total number of instructions executed.

        See `FunctionCounts.denoise()` for an explanation of the `denoise` arg.
        """
        stats = self.stmt_exclusive_stats
        return (stats.denoise() if denoise else stats).sum()

    def delta(self, other: CallgrindStats, inclusive: bool = False) -> FunctionCounts:
        """Diff two sets of counts, per function."""
        return self.stats(inclusive=inclusive) - other.stats(inclusive=inclusive)

    def as_standardized(self) -> CallgrindStats:
        """Strip library names and some path prefixes from function strings, so that
        profiles of builds in different folders diff cleanly."""
        return CallgrindStats(
            task_spec=self.task_spec,
            number_per_run=self.number_per_run,
            built_with_debug_symbols=self.built_with_debug_symbols,
            baseline_inclusive_stats=_strip(self.baseline_inclusive_stats),
            baseline_exclusive_stats=_strip(self.baseline_exclusive_stats),
            stmt_inclusive_stats=_strip(self.stmt_inclusive_stats),
            stmt_exclusive_stats=_strip(self.stmt_exclusive_stats),

            # `as_standardized` will change symbol names, so the contents will
            # no longer map directly to `callgrind.out`
            stmt_callgrind_out=None,
        )


_STANDARDIZE = (
    # PyTorch may have been built in different locations.
    (r"^.+build/\.\./", "build/../"),
    (r"^.+/" + re.escape("build/aten/"), "build/aten/"),

    # "Python" and "Objects" come from CPython.
    (r"^.+/" + re.escape("Python/"), "Python/"),
    (r"^.+/" + re.escape("Objects/"), "Objects/"),

    # Strip library name. e.g. `libtorch.so`
    (r"\s\[.+\]$", ""),
)


def _strip(stats: FunctionCounts) -> FunctionCounts:
    """The counts with _STANDARDIZE's substitutions applied to the function names."""
    for before, after in _STANDARDIZE:
        stats = stats.transform(lambda fn, b=before, a=after: re.sub(b, a, fn))
    return stats


class Serialization(enum.Enum):
    """How a CopyIfCallgrind global would be sent to the profiled process."""
    PICKLE = 0
    TORCH = 1
    TORCH_JIT = 2


_GLOBALS_ALLOWED_TYPES: dict[Serialization, tuple[Any, ...]] = {
    Serialization.PICKLE: (str, bytes, bool, int, float, complex),
    Serialization.TORCH_JIT: (ScriptFunction, ScriptModule),
    Serialization.TORCH: (Module,),
}


class CopyIfCallgrind:
    """Signal that a global may be replaced with a deserialized copy.

    Timer's timing methods use the wrapped value itself (`unwrap_all`).
    """

    def __init__(self, value: Any, *, setup: str | None = None) -> None:
        for method, supported_types in _GLOBALS_ALLOWED_TYPES.items():
            if any(isinstance(value, t) for t in supported_types):
                self._value: Any = value
                self._setup: str | None = setup
                self._serialization: Serialization = method
                break
        else:
            supported_str = "\n".join([
                getattr(t, "__name__", repr(t))
                for t in it.chain(_GLOBALS_ALLOWED_TYPES.values())])

            raise ValueError(
                f"Unsupported type: {type(value)}\n"
                f"`collect_callgrind` restricts globals to the following types:\n"
                f"{textwrap.indent(supported_str, '  ')}"
            )

    @property
    def value(self) -> Any:
        """The wrapped global."""
        return self._value

    @property
    def setup(self) -> str | None:
        """Code to run in the profiled process before loading the value."""
        return self._setup

    @property
    def serialization(self) -> Serialization:
        """How the value would be transferred."""
        return self._serialization

    @staticmethod
    def unwrap_all(globals: dict[str, Any]) -> dict[str, Any]:
        """The globals with every CopyIfCallgrind replaced by its value."""
        return {
            k: (v.value if isinstance(v, CopyIfCallgrind) else v)
            for k, v in globals.items()
        }


class _ValgrindWrapper:
    """torch's Callgrind driver, reduced to its platform check: ember has no Callgrind
    toggles (torch._C._valgrind_supported_platform would say False)."""

    def __init__(self) -> None:
        self._supported_platform: bool = False

    def _validate(self) -> None:
        """Raise torch's OSError for a platform without Valgrind support."""
        if not self._supported_platform:
            raise OSError("Valgrind is not supported on this platform.")

    def collect_callgrind(self, task_spec: common.TaskSpec, globals: dict[str, Any], *,
                          number: int, repeats: int, collect_baseline: bool, is_python: bool,
                          retain_out_file: bool) -> tuple[CallgrindStats, ...]:
        """Collect stats: on ember, always the unsupported-platform OSError."""
        self._validate()
        raise AssertionError("unreachable: ember never reports Valgrind support")


CALLGRIND_SINGLETON: _ValgrindWrapper | None = None


def wrapper_singleton() -> _ValgrindWrapper:
    """The process's one Callgrind wrapper."""
    global CALLGRIND_SINGLETON
    if CALLGRIND_SINGLETON is None:
        CALLGRIND_SINGLETON = _ValgrindWrapper()
    return CALLGRIND_SINGLETON
