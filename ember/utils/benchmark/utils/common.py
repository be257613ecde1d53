"""Base shared classes and utilities: TaskSpec, Measurement, select_unit, ... (matches
`torch.utils.benchmark.utils.common`).

Ported closely from PyTorch's torch/utils/benchmark/utils/common.py (BSD-3-Clause license,
Copyright (c) Facebook, Inc. and its affiliates and the PyTorch contributors). The statistics
are computed with ember's tensors where torch computes them with its own (float64 quantiles,
float32 standard deviation), and float32 logarithms as torch rounds them (log10_float32), so
medians, IQRs, units and significant figures are torch's for the same raw times.
"""

import collections
import contextlib
import dataclasses
import math
import os
import shutil
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from ember._backend import xp
from ember._dtype import float64
from ember._threads import get_num_threads, set_num_threads
from ember.ops.creation import tensor as _tensor

__all__ = ["TaskSpec", "Measurement", "select_unit", "unit_to_english", "trim_sigfig",
           "ordered_unique", "set_torch_threads"]


_MAX_SIGNIFICANT_FIGURES = 4
_MIN_CONFIDENCE_INTERVAL = 25e-9  # 25 ns

# Measurement will include a warning if the distribution is suspect. All
# runs are expected to have some variation; these parameters set the
# thresholds.
_IQR_WARN_THRESHOLD = 0.1
_IQR_GROSS_WARN_THRESHOLD = 0.25


@dataclasses.dataclass(init=True, repr=False, eq=True, frozen=True)
class TaskSpec:
    """Container for information used to define a Timer. (except globals)"""
    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self) -> str:
        """Best effort attempt at a string label for the measurement."""
        if self.label is not None:
            return self.label + (f": {self.sub_label}" if self.sub_label else "")
        elif "\n" not in self.stmt:
            return self.stmt + (f": {self.sub_label}" if self.sub_label else "")
        return (
            f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n"
            f"{textwrap.indent(self.stmt, '  ')}"
        )

    def setup_str(self) -> str:
        """The setup line(s) of a summary; nothing when setup is empty or `pass`."""
        return (
            "" if (self.setup == "pass" or not self.setup)
            else f"setup:\n{textwrap.indent(self.setup, '  ')}" if "\n" in self.setup
            else f"setup: {self.setup}"
        )

    def summarize(self) -> str:
        """Build TaskSpec portion of repr string for other containers."""
        sections = [
            self.title,
            self.description or "",
            self.setup_str(),
        ]
        return "\n".join([f"{i}\n" if "\n" in i else i for i in sections if i])


_TASKSPEC_FIELDS = tuple(i.name for i in dataclasses.fields(TaskSpec))


@dataclasses.dataclass(init=True, repr=False)
class Measurement:
    """The result of a Timer measurement.

    This class stores one or more measurements of a given statement. It is
    serializable and provides several convenience methods
    (including a detailed __repr__) for downstream consumers.
    """
    number_per_run: int
    raw_times: list[float]
    task_spec: TaskSpec
    metadata: dict[Any, Any] | None = None  # Reserved for user payloads.

    def __post_init__(self) -> None:
        """Start with no statistics: they are computed on first use (_lazy_init)."""
        self._sorted_times: tuple[float, ...] = ()
        self._warnings: tuple[str, ...] = ()
        self._median: float = -1.0
        self._mean: float = -1.0
        self._p25: float = -1.0
        self._p75: float = -1.0

    def __getattr__(self, name: str) -> Any:
        """Forward TaskSpec fields (label, env, num_threads, ...) for convenience.

        torch's class also has an `env` property that reads the missing attribute `taskspec`;
        its AttributeError lands here, so `m.env` is `m.task_spec.env` (None when unset).
        ember leaves the property out and gives the same value.
        """
        if name in _TASKSPEC_FIELDS:
            return getattr(self.task_spec, name)
        return super().__getattribute__(name)

    # These statistics use raw time divided by number_per_run; this is an
    # extrapolation and hides the fact that different number_per_run will
    # result in different amortization of overheads, however if Timer has
    # selected an appropriate number_per_run then this is a non-issue.
    @property
    def times(self) -> list[float]:
        """Seconds per run of each measurement (raw time / number_per_run)."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self) -> float:
        """The median time per run, in seconds."""
        self._lazy_init()
        return self._median

    @property
    def mean(self) -> float:
        """The mean time per run, in seconds."""
        self._lazy_init()
        return self._mean

    @property
    def iqr(self) -> float:
        """The interquartile range of the times per run, in seconds."""
        self._lazy_init()
        return self._p75 - self._p25

    @property
    def significant_figures(self) -> int:
        """Approximate significant figure estimate (1 to 4), as `Compare` uses it.

        Only the interquartile region is used, to mitigate skew from the tails, with a
        static z value of 1.645 (n is not expected to be small, so z can approximate t).
        As in torch, the arithmetic is float32 tensor arithmetic.
        """
        self._lazy_init()
        n_total = len(self._sorted_times)
        lower_bound = int(n_total // 4)
        upper_bound = int(_tensor(3 * n_total / 4).ceil())
        interquartile_points: tuple[float, ...] = self._sorted_times[lower_bound:upper_bound]
        std = _tensor(interquartile_points).std(unbiased=False).item()
        sqrt_n = _tensor(len(interquartile_points)).sqrt().item()

        # Rough estimates. These are by no means statistically rigorous.
        confidence_interval = max(1.645 * std / sqrt_n, _MIN_CONFIDENCE_INTERVAL)
        relative_ci = log10_float32(self._median / confidence_interval)
        num_significant_figures = math.floor(relative_ci)
        return min(max(num_significant_figures, 1), _MAX_SIGNIFICANT_FIGURES)

    @property
    def has_warnings(self) -> bool:
        """Whether the spread of the times is suspect (see _IQR_WARN_THRESHOLD)."""
        self._lazy_init()
        return bool(self._warnings)

    def _lazy_init(self) -> None:
        """Compute the quantiles and mean (float64, as torch) and the variance warnings."""
        if self.raw_times and not self._sorted_times:
            self._sorted_times = tuple(sorted(self.times))
            _sorted_times = _tensor(self._sorted_times, dtype=float64)
            self._median = _sorted_times.quantile(.5).item()
            self._mean = _sorted_times.mean().item()
            self._p25 = _sorted_times.quantile(.25).item()
            self._p75 = _sorted_times.quantile(.75).item()

            if not self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD):
                self._add_warning("This suggests significant environmental influence.")
            elif not self.meets_confidence(_IQR_WARN_THRESHOLD):
                self._add_warning("This could indicate system fluctuation.")

    def _add_warning(self, msg: str) -> None:
        """Record a high-variance warning with the relative IQR."""
        rel_iqr = self.iqr / self.median * 100
        self._warnings += (
            f"  WARNING: Interquartile range is {rel_iqr:.1f}% "
            f"of the median measurement.\n           {msg}",
        )

    def meets_confidence(self, threshold: float = _IQR_WARN_THRESHOLD) -> bool:
        """Whether IQR / median is below threshold."""
        return self.iqr / self.median < threshold

    @property
    def title(self) -> str:
        """The task's title (label or stmt, with sub_label)."""
        return self.task_spec.title

    @property
    def as_row_name(self) -> str:
        """The row name `Compare` uses: sub_label, else stmt."""
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self) -> str:
        """
        Example repr:
            <ember.utils.benchmark.utils.common.Measurement object at 0x7f395b6ac110>
              Broadcasting add (4x8)
              Median: 5.73 us
              IQR:    2.25 us (4.01 to 6.26)
              372 measurements, 100 runs per measurement, 1 thread
              WARNING: Interquartile range is 39.4% of the median measurement.
                       This suggests significant environmental influence.
        """
        self._lazy_init()
        skip_line, newline = "MEASUREMENT_REPR_SKIP_LINE", "\n"
        n = len(self._sorted_times)
        time_unit, time_scale = select_unit(self._median)
        iqr_filter = '' if n >= 4 else skip_line
        scaled = [x / time_scale for x in (self._median, self.iqr, self._p25, self._p75)]
        s_if_many = 's' if n > 1 else ''
        runs = 'per measurement,' if n > 1 else ','
        threads = f"{self.num_threads} thread{'s' if self.num_threads > 1 else ''}"

        repr_str = f"""
{super().__repr__()}
{self.task_spec.summarize()}
  {'Median: ' if n > 1 else ''}{scaled[0]:.2f} {time_unit}
  {iqr_filter}IQR:    {scaled[1]:.2f} {time_unit} ({scaled[2]:.2f} to {scaled[3]:.2f})
  {n} measurement{s_if_many}, {self.number_per_run} runs {runs} {threads}
{newline.join(self._warnings)}""".strip()

        return "\n".join(
            line for line in repr_str.splitlines(keepends=False) if skip_line not in line)

    @staticmethod
    def merge(measurements: Iterable["Measurement"]) -> list["Measurement"]:
        """Convenience method for merging replicates.

        Merge will extrapolate times to `number_per_run=1` and will not
        transfer any metadata. (Since it might differ between replicates)
        """
        grouped: collections.defaultdict[TaskSpec, list[Measurement]] = (
            collections.defaultdict(list))
        for m in measurements:
            grouped[m.task_spec].append(m)
        return [_merge_group(t, g) for t, g in grouped.items()]


def _merge_group(task_spec: TaskSpec, group: list[Measurement]) -> Measurement:
    """One Measurement of a task's replicates (`.times` normalizes their number_per_run)."""
    times: list[float] = []
    for m in group:
        times.extend(m.times)
    return Measurement(number_per_run=1, raw_times=times, task_spec=task_spec, metadata=None)


def select_unit(t: float) -> tuple[str, float]:
    """Determine how to scale times for O(1) magnitude.

    This utility is used to format numbers for human consumption.
    """
    time_unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(log10_float32(t) // 3), "s")
    time_scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1}[time_unit]
    return time_unit, time_scale


def log10_float32(x: float) -> float:
    """log10 of x as `torch.tensor(x).log10().item()` gives it: x rounded to float32, its
    logarithm correctly rounded to float32.

    torch's float32 log10 is correctly rounded; ember's (NumPy's) can be an ulp or two off
    (log10(1e-6) is -6.0000005), which moves an exact power of 1000 to the smaller unit and
    can change a digit count. The float64 logarithm rounded to float32 is torch's value.
    """
    with xp.errstate(divide="ignore", invalid="ignore"):  # 0 and negatives: -inf, nan
        return float(xp.float32(xp.log10(xp.float64(xp.float32(x)))))


def unit_to_english(u: str) -> str:
    """The English name of a time unit ("us" -> "microsecond")."""
    return {
        "ns": "nanosecond",
        "us": "microsecond",
        "ms": "millisecond",
        "s": "second",
    }[u]


def trim_sigfig(x: float, n: int) -> float:
    """Trim `x` to `n` significant figures. (e.g. 3.14159, 2 -> 3.10000)"""
    if n != int(n):
        raise AssertionError("Number of significant figures must be an integer")
    magnitude = int(math.ceil(log10_float32(abs(x))))
    scale = 10 ** (magnitude - n)
    return float(_tensor(x / scale).round() * scale)


def ordered_unique(elements: Iterable[Any]) -> list[Any]:
    """The distinct elements in first-seen order."""
    return list(collections.OrderedDict(dict.fromkeys(elements)).keys())


@contextlib.contextmanager
def set_torch_threads(n: int) -> Iterator[None]:
    """Run the block with `n` intra-op threads, restoring the prior count after."""
    prior_num_threads = get_num_threads()
    try:
        set_num_threads(n)
        yield
    finally:
        set_num_threads(prior_num_threads)


def _make_temp_dir(prefix: str | None = None, gc_dev_shm: bool = False) -> str:
    """Create a temporary directory. The caller is responsible for cleanup.

    Like `tempfile.mkdtemp`, but in shared memory if the `BENCHMARK_USE_DEV_SHM`
    environment variable is set (as torch's internal utility, kept for code reusing it).
    """
    use_dev_shm: bool = (os.getenv("BENCHMARK_USE_DEV_SHM") or "").lower() in ("1", "true")
    root = _dev_shm_root(gc_dev_shm) if use_dev_shm else tempfile.gettempdir()

    # We include the time so names sort by creation time, and add a UUID
    # to ensure we don't collide.
    name = f"{prefix or tempfile.gettempprefix()}__{int(time.time())}__{uuid.uuid4()}"
    path = os.path.join(root, name)
    os.makedirs(path, exist_ok=False)

    if use_dev_shm:
        with open(os.path.join(path, "owner.pid"), "w") as f:
            f.write(str(os.getpid()))

    return path


def _dev_shm_root(gc_dev_shm: bool) -> str:
    """The shared-memory root folder, optionally removing folders of dead processes."""
    root = "/dev/shm/pytorch_benchmark_utils"
    if os.name != "posix":
        raise AssertionError(f"tmpfs (/dev/shm) is POSIX only, current platform is {os.name}")
    if not os.path.exists("/dev/shm"):
        raise AssertionError("This system does not appear to support tmpfs (/dev/shm).")
    os.makedirs(root, exist_ok=True)

    # Because we're working in shared memory, it is more important than usual to clean up
    # ALL intermediate files; only callers sure to avoid contention ask for it.
    if gc_dev_shm:
        for i in os.listdir(root):
            _remove_if_orphaned(os.path.join(root, i))
    return root


def _remove_if_orphaned(folder: str) -> None:
    """Remove a shared-memory folder whose owner process no longer exists."""
    owner_file = os.path.join(folder, "owner.pid")
    if not os.path.exists(owner_file):
        return
    with open(owner_file) as f:
        owner_pid = int(f.read())
    if owner_pid == os.getpid():
        return
    try:
        os.kill(owner_pid, 0)
    except OSError:
        print(f"Detected that {folder} was orphaned in shared memory. Cleaning up.")
        shutil.rmtree(folder)
