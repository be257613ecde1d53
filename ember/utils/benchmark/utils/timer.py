"""Timer class based on the timeit.Timer class, but ember aware (matches
`torch.utils.benchmark.utils.timer`).

Ported closely from PyTorch's torch/utils/benchmark/utils/timer.py (BSD-3-Clause license,
Copyright (c) Facebook, Inc. and its affiliates and the PyTorch contributors). ember runs on
the CPU only, so the default timer never has an accelerator to synchronize, and there is no
C++ frontend: `language="cpp"` is refused with torch's error for a language it does not know.
`collect_callgrind` needs torch's Callgrind bindings, which ember has not; it raises the
OSError torch raises on a platform without Valgrind support.
"""

import enum
import textwrap
import timeit
from collections.abc import Callable
from typing import Any, NoReturn

import ember  # the package, handed to statements as `torch` (as torch's Timer does)
from ember import accelerator
from ember.ops.creation import tensor as _tensor
from ember.utils.benchmark.utils import common
from ember.utils.benchmark.utils._stubs import TimerClass
from ember.utils.benchmark.utils.valgrind_wrapper import timer_interface as valgrind_timer_interface

__all__ = ["Timer", "timer", "Language"]


def timer() -> float:
    """The current time, after synchronizing the accelerator if any (ember has none)."""
    if accelerator.is_available():
        accelerator.synchronize()
    return timeit.default_timer()


class Language(enum.Enum):
    """The language of a Timer's statements (ember runs PYTHON only)."""
    PYTHON = 0
    CPP = 1


_PYTHON_NAMES = (Language.PYTHON, "py", "python")
_CPP_NAMES = (Language.CPP, "cpp", "c++")


class Timer:
    """Helper class for measuring execution time of PyTorch (ember) statements.

    For a full tutorial on how to use this class, see:
    https://pytorch.org/tutorials/recipes/recipes/benchmark.html

    The Timer is based on `timeit.Timer` (and in fact uses `timeit.Timer` internally), but
    with several key differences:

    1) Runtime aware: Timer performs warmups and sets the thread pool size so that
       comparisons are apples-to-apples.
    2) Focus on replicates: `blocked_autorange` and `adaptive_autorange` measure many
       replicates so that noise can be quantified and the median computed.
    3) Optional metadata: `label`, `sub_label`, `description` and `env` are shown in the
       result object's repr and used by `Compare` to group and display results.

    Args:
        stmt: Code snippet to be run in a loop and timed.
        setup: Optional setup code. Used to define variables used in `stmt`.
        global_setup: (C++ only, so refused by ember's Python timer, as by torch's.)
        timer: Callable which returns the current time.
        globals: A dict which defines the global variables when `stmt` is being executed.
            `torch` is added (as the ember package) if not given.
        label: String which summarizes `stmt` (e.g. "ReLU(x + 1)").
        sub_label: Supplemental information to disambiguate measurements with identical
            stmt or label (e.g. "float"); `Compare` uses it for the rows.
        description: String to distinguish measurements with identical label and
            sub_label; `Compare` uses it for the columns.
        env: Tags otherwise identical tasks run in different environments; `Compare` treats
            Measurements with different `env` as distinct when merging replicates.
        num_threads: The size of the intra-op thread pool when executing `stmt` (default 1).
        language: "python" (or "py", `Language.PYTHON`).
    """

    _timer_cls: type[TimerClass] = timeit.Timer

    def __init__(
        self,
        stmt: str = "pass",
        setup: str = "pass",
        global_setup: str = "",
        timer: Callable[[], float] = timer,
        globals: dict[str, Any] | None = None,
        label: str | None = None,
        sub_label: str | None = None,
        description: str | None = None,
        env: str | None = None,
        num_threads: int = 1,
        language: Language | str = Language.PYTHON,
    ) -> None:
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")

        # We copy `globals` to prevent mutations from leaking.
        # (For instance, `eval` adds the `__builtins__` key)
        self._globals = dict(globals or {})
        self._language = _check_language(language, global_setup)
        # Include `torch` if not specified as a convenience feature.
        self._globals.setdefault("torch", ember)

        stmt, setup = _normalize(stmt), _normalize(setup)
        self._timer = self._timer_cls(
            stmt=stmt,
            setup=setup,
            timer=timer,
            globals=valgrind_timer_interface.CopyIfCallgrind.unwrap_all(self._globals),
        )
        self._task_spec = common.TaskSpec(
            stmt=stmt,
            setup=setup,
            global_setup=global_setup,
            label=label,
            sub_label=sub_label,
            description=description,
            env=env,
            num_threads=num_threads,
        )

    def _timeit(self, number: int) -> float:
        """Seconds for `number` runs; at least 1 ns (no real operation is faster, and this
        prevents divide by zero errors)."""
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number: int = 1000000) -> common.Measurement:
        """Mirrors the semantics of timeit.Timer.timeit().

        Execute the main statement (`stmt`) `number` times.
        https://docs.python.org/3/library/timeit.html#timeit.Timer.timeit
        """
        with common.set_torch_threads(self._task_spec.num_threads):
            # Warmup
            self._timeit(number=max(int(number // 100), 2))

            return common.Measurement(
                number_per_run=number,
                raw_times=[self._timeit(number=number)],
                task_spec=self._task_spec
            )

    def repeat(self, repeat: int = -1, number: int = -1) -> None:
        """Not supported, as in torch: use blocked_autorange."""
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback: Callable[[int, float], NoReturn] | None = None) -> None:
        """Not supported, as in torch: use blocked_autorange."""
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _threaded_measurement_loop(
        self,
        number: int,
        time_hook: Callable[[], float],
        stop_hook: Callable[[list[float]], bool],
        min_run_time: float,
        max_run_time: float | None = None,
        callback: Callable[[int, float], NoReturn] | None = None
    ) -> list[float]:
        """Measure blocks until min_run_time has passed and stop_hook agrees (or
        max_run_time has passed)."""
        total_time = 0.0
        can_stop = False
        times: list[float] = []
        with common.set_torch_threads(self._task_spec.num_threads):
            while (total_time < min_run_time) or (not can_stop):
                time_spent = time_hook()
                times.append(time_spent)
                total_time += time_spent
                if callback:
                    callback(number, time_spent)
                can_stop = stop_hook(times)
                if max_run_time and total_time > max_run_time:
                    break
        return times

    def _estimate_block_size(self, min_run_time: float) -> int:
        """The number of runs per block that makes timer overhead negligible (also a
        warmup)."""
        with common.set_torch_threads(self._task_spec.num_threads):
            overhead = _median([self._timeit(0) for _ in range(5)])
            number = 1
            while True:
                time_taken = self._timeit(number)
                relative_overhead = overhead / time_taken
                if relative_overhead <= 1e-4 and time_taken >= min_run_time / 1000:
                    break
                if time_taken > min_run_time:
                    break
                # Avoid overflow in C++ pybind11 interface (torch's limit, kept)
                if number * 10 > 2147483647:
                    break
                number *= 10
        return number

    def blocked_autorange(
        self,
        callback: Callable[[int, float], NoReturn] | None = None,
        min_run_time: float = 0.2,
    ) -> common.Measurement:
        """Measure many replicates while keeping timer overhead to a minimum.

        At a high level, blocked_autorange executes the following pseudo-code::

            `setup`

            total_time = 0
            while total_time < min_run_time
                start = timer()
                for _ in range(block_size):
                    `stmt`
                total_time += (timer() - start)

        The block size is set by a warmup period, increasing it until timer overhead is
        less than 0.1% of the overall computation. A small block gives more replicates;
        a large one amortizes the timer's cost.

        Returns:
            A `Measurement` object that contains measured runtimes and
            repetition counts, and can be used to compute statistics.
            (mean, median, etc.)
        """
        number = self._estimate_block_size(min_run_time)
        times = self._threaded_measurement_loop(
            number, lambda: self._timeit(number), lambda times: True,
            min_run_time=min_run_time,
            callback=callback)
        return common.Measurement(
            number_per_run=number,
            raw_times=times,
            task_spec=self._task_spec
        )

    def adaptive_autorange(
            self,
            threshold: float = 0.1,
            *,
            min_run_time: float = 0.01,
            max_run_time: float = 10.0,
            callback: Callable[[int, float], NoReturn] | None = None,
    ) -> common.Measurement:
        """Similar to `blocked_autorange` but also checks for variablility in measurements
        and repeats until iqr/median is smaller than `threshold` or `max_run_time` is reached.

        At a high level, adaptive_autorange executes the following pseudo-code::

            `setup`

            times = []
            while times.sum < max_run_time
                start = timer()
                for _ in range(block_size):
                    `stmt`
                times.append(timer() - start)

                enough_data = len(times)>3 and times.sum > min_run_time
                small_iqr=times.iqr/times.mean<threshold

                if enough_data and small_iqr:
                    break

        Args:
            threshold: value of iqr/median threshold for stopping
            min_run_time: total runtime needed before checking `threshold`
            max_run_time: total runtime  for all measurements regardless of `threshold`

        Returns:
            A `Measurement` object that contains measured runtimes and
            repetition counts, and can be used to compute statistics.
            (mean, median, etc.)
        """
        number = self._estimate_block_size(min_run_time=0.05)

        def stop_hook(times: list[float]) -> bool:
            """Stop once there are more than 3 blocks whose spread meets the threshold."""
            if len(times) > 3:
                return common.Measurement(
                    number_per_run=number,
                    raw_times=times,
                    task_spec=self._task_spec
                ).meets_confidence(threshold=threshold)
            return False

        times = self._threaded_measurement_loop(
            number, lambda: self._timeit(number), stop_hook, min_run_time, max_run_time,
            callback=callback)
        return common.Measurement(
            number_per_run=number,
            raw_times=times,
            task_spec=self._task_spec
        )

    def collect_callgrind(
        self,
        number: int = 100,
        *,
        repeats: int | None = None,
        collect_baseline: bool = True,
        retain_out_file: bool = False,
    ) -> Any:
        """Collect instruction counts using Callgrind.

        torch runs `stmt` under Valgrind in a subprocess, toggling collection with bindings
        compiled into torch. ember has no such bindings, so after torch's argument checks
        (and one run of `stmt`, which catches a faulty statement early) this raises the
        OSError torch raises where Valgrind is not supported.
        """
        if not isinstance(self._task_spec.stmt, str):
            raise ValueError("`collect_callgrind` currently only supports string `stmt`")

        if repeats is not None and repeats < 1:
            raise ValueError("If specified, `repeats` must be >= 1")

        # Check that the statement is valid. It doesn't guarantee success, but it's much
        # simpler and quicker to raise an exception for a faulty `stmt` or `setup` in
        # the parent process rather than the valgrind subprocess.
        self._timeit(1)
        result = valgrind_timer_interface.wrapper_singleton().collect_callgrind(
            task_spec=self._task_spec,
            globals=self._globals,
            number=number,
            repeats=repeats or 1,
            collect_baseline=collect_baseline,
            is_python=True,
            retain_out_file=retain_out_file,
        )
        return (result[0] if repeats is None else result)


def _check_language(language: Language | str, global_setup: str) -> Language:
    """Language.PYTHON for a Python timer; torch's ValueError otherwise (ember has no C++)."""
    if language in _PYTHON_NAMES:
        if global_setup:
            raise ValueError(
                f"global_setup is C++ only, got `{global_setup}`. Most "
                "likely this code can simply be moved to `setup`."
            )
        return Language.PYTHON
    if language in _CPP_NAMES:
        # torch would compile the statements with its C++ extension toolchain
        raise ValueError(f"Invalid language `{language}`. ember has no C++ frontend: only "
                         "Python statements (language='python') can be timed.")
    raise ValueError(f"Invalid language `{language}`.")


def _normalize(code: str) -> str:
    """Dedent a snippet and drop the leading newline of a block string and trailing space.

    This keeps multi-line snippets defined in functions from IndentationError and makes
    reprs nicer, without changing what gets executed.
    """
    code = textwrap.dedent(code)
    return (code[1:] if code and code[0] == "\n" else code).rstrip()


def _median(values: list[float]) -> float:
    """torch.tensor(values).median(): the lower middle value of the float32-rounded values."""
    return float(_tensor(values).median().item())
