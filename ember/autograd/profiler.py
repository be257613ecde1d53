"""The autograd profiler (matches `torch.autograd.profiler`): `profile`, `record_function`.

`profile` records, on the CPU, every ember op call, `record_function` range, backward node and
optimizer step made while it is entered (NOTE [How the profiler sees ops] in
_profiler_record.py), under torch's names (`aten::addmm`), and gives them as torch's
`EventList` of `FunctionEvent`s (ember/autograd/profiler_util.py: tables, averages). Its chrome
trace is the JSON object Kineto writes (traceEvents of "X" events in microseconds, with the
input dims, types and concrete values when shapes are recorded).

Device profiling (CUDA, XPU, ...) is not there: asking for it warns and profiles the CPU, as
torch does on a machine without the device. NVTX, ITT and nvprof (`emit_nvtx`, `emit_itt`,
`load_nvprof`) are left out.
"""

import enum
import os
import socket
import time
from collections import defaultdict
from contextlib import ContextDecorator
from dataclasses import dataclass
from time import perf_counter_ns
from warnings import warn

from ember.autograd._profiler_record import ACTIVE, USER_SCOPE, Recorder
from ember.autograd.profiler_util import (MEMORY_EVENT_NAME, OUT_OF_MEMORY_EVENT_NAME,  # noqa
                                         DeviceType, EventList, FunctionEvent, MemRecordsAcc,
                                         _filter_name, _filter_stack_entry, _rewrite_name)

__all__ = ["profile", "record_function", "KinetoStepTracker", "EventList", "FunctionEvent",
           "MemRecordsAcc"]


class ProfilerActivity(enum.Enum):
    """The activity groups a profiler can record (matches `torch.profiler.ProfilerActivity`;
    ember records CPU alone)."""

    CPU = 0
    XPU = 1
    MTIA = 4
    CUDA = 2
    HPU = 3
    PrivateUse1 = 5

    def __int__(self):
        return self.value


class RecordScope(enum.Enum):
    """What kind of function an event is (matches `torch.profiler.RecordScope`)."""

    FUNCTION = 0
    BACKWARD_FUNCTION = 1
    TORCHSCRIPT_FUNCTION = 2
    KERNEL_FUNCTION_DTYPE = 3
    CUSTOM_CLASS = 4
    BUILD_FEATURE = 5
    LITE_INTERPRETER = 6
    USER_SCOPE = 7
    STATIC_RUNTIME_OP = 8
    STATIC_RUNTIME_MODEL = 9

    def __int__(self):
        return self.value


def kineto_available() -> bool:
    """True: ember's profiler is the Kineto-style one (schedules, chrome traces), CPU only."""
    return True


def _supported_activities() -> set:
    """The activities ember records: the CPU's."""
    return {ProfilerActivity.CPU}


_is_profiler_enabled: bool = False


def _set_is_profiler_enabled(enable: bool):
    """Note whether a profiler records (torch's fast Python check)."""
    global _is_profiler_enabled
    _is_profiler_enabled = enable


@dataclass
class _ProfilerStats:
    "Profiler timing and stats used by developers to catch issues/regressions"

    profiling_window_duration_sec: float = 0
    number_of_events: int = 0
    profiler_prepare_call_duration_us: int = 0
    profiler_enable_call_duration_us: int = 0
    profiler_disable_call_duration_us: int = 0
    parse_kineto_call_duration_us: int = 0
    function_events_build_tree_call_duration_us: int = 0


_DEVICE_WARNINGS = {"cuda": "CUDA is not available, disabling CUDA profiling",
                    "xpu": "XPU is not available, disabling XPU profiling",
                    "hpu": "HPU is not available, disabling HPU profiling"}


class profile:
    """Context manager recording the ops run inside it (matches
    `torch.autograd.profiler.profile`; CPU only)."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,
                 custom_trace_id_callback=None, post_processing_timeout_s=None,
                 activity_filters=None):
        self.enabled = enabled
        if not self.enabled:
            return
        self.use_cuda = use_cuda
        if use_cuda:
            warn("The attribute `use_cuda` will be deprecated soon, please use "
                 "``use_device = 'cuda'`` instead.", FutureWarning, stacklevel=2)
            use_device = "cuda"
        self.use_device = _checked_device(use_device)
        self._function_events = self._old_function_events = None
        self._needs_processing = False
        self.entered = False
        self.record_shapes = record_shapes or with_flops
        self.with_flops, self.profile_memory = with_flops, profile_memory
        self.with_stack, self.with_modules = with_stack, with_modules
        self.use_cpu, self.acc_events = use_cpu, acc_events
        self.experimental_config = experimental_config
        self.kineto_results = None  # the Recorder of the last recording
        self._recorder = None
        self.profiling_start_time_ns = self.profiling_end_time_ns = 0
        self._stats = _ProfilerStats()
        self.custom_trace_id_callback = custom_trace_id_callback
        self.post_processing_timeout_s = post_processing_timeout_s
        self.activity_filters = activity_filters or {}
        self.trace_id = ""
        if not self.use_cpu:
            if not use_kineto:
                raise AssertionError(
                    "Device-only events supported only with Kineto (use_kineto=True)")
            raise AssertionError("No activities specified for the profiler")
        if post_processing_timeout_s is not None and post_processing_timeout_s < 0:
            raise ValueError("post_processing_timeout_s must be non-negative")

    def default_trace_id(self):
        """A random trace id (32 hex digits, as torch's)."""
        import uuid  # (not loaded by `import ember`)

        return f"{uuid.uuid4().int:032X}"

    def create_trace_id(self):
        """A new cycle's trace id: the user's callback's, else a random one."""
        if self.custom_trace_id_callback:
            return self.custom_trace_id_callback()
        return self.default_trace_id()

    def __enter__(self):
        if not self.enabled:
            return
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self._prepare_trace()
        self._start_trace()
        return self

    def _prepare_trace(self):
        """Ready a new recording (a new trace id); nothing is recorded before _start_trace."""
        self.entered = True
        t0 = perf_counter_ns()
        self.trace_id = self.create_trace_id()
        self._recorder = Recorder(self.record_shapes, self.profile_memory, self.with_stack,
                                  self.with_flops)
        self._stats.profiler_prepare_call_duration_us = int((perf_counter_ns() - t0) / 1000)

    def _start_trace(self):
        """Start recording (install the op hook)."""
        self.entered = True
        if self._recorder is None:
            self._prepare_trace()
        t0 = perf_counter_ns()
        self._recorder.install()
        _set_is_profiler_enabled(True)
        t1 = perf_counter_ns()
        self._stats.profiler_enable_call_duration_us = int((t1 - t0) / 1000)
        self.profiling_start_time_ns = t1

    def __exit__(self, exc_type, exc_val, exc_tb):
        """Stop recording; the events are made when first asked for."""
        if not self.enabled:
            return
        if self._function_events and self.acc_events:
            self._old_function_events = self._function_events
        self._function_events = None
        self._needs_processing = True
        t0 = perf_counter_ns()
        if self._recorder is not None:
            self._recorder.uninstall()
        self.kineto_results, self._recorder = self._recorder, None
        self._stats.profiler_disable_call_duration_us = int((perf_counter_ns() - t0) / 1000)
        self.profiling_end_time_ns = t0
        _set_is_profiler_enabled(False)
        self._stats.profiling_window_duration_sec = (
            (self.profiling_end_time_ns - self.profiling_start_time_ns) * 1.0 / 1e9)
        if self.acc_events:
            self._ensure_function_events()
        return False

    def __repr__(self):
        if self._needs_processing:
            self._ensure_function_events()
        if self._function_events is None:
            return "<unfinished torch.autograd.profile>"
        return repr(self._function_events)

    def __str__(self):
        if self._needs_processing:
            self._ensure_function_events()
        if self._function_events is None:
            return "<unfinished torch.autograd.profile>"
        return str(self._function_events)

    def _ensure_function_events(self):
        """Turn the last recording into an EventList (once)."""
        if self._function_events is not None:
            return
        self._needs_processing = False
        t0 = perf_counter_ns()
        parsed = _function_events(self.kineto_results, self.use_device)
        self._stats.parse_kineto_call_duration_us = int((perf_counter_ns() - t0) / 1000)
        self._function_events = EventList(parsed, use_device=self.use_device,
                                          profile_memory=self.profile_memory,
                                          with_flops=self.with_flops)
        t0 = perf_counter_ns()
        self._function_events._build_tree()
        self._stats.function_events_build_tree_call_duration_us = int(
            (perf_counter_ns() - t0) / 1000)
        self._stats.number_of_events = len(self._function_events)
        if self._old_function_events and self.acc_events:
            for evt in self._old_function_events:
                self._function_events.append(evt)
            self._old_function_events = None

    @property
    def function_events(self):
        """The recorded events (an EventList), made on first use."""
        if self._function_events is None or self._needs_processing:
            self._ensure_function_events()
        return self._function_events

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False):
        """The recorded events as torch's table (EventList.table)."""
        self._ensure_function_events()
        return self._function_events.table(
            sort_by=sort_by, row_limit=row_limit, max_src_column_width=max_src_column_width,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width, header=header,
            top_level_events_only=top_level_events_only)

    def export_chrome_trace(self, path, metadata=None, use_python_export=False):
        """Write the last recording as a Chrome trace (Kineto's JSON format)."""
        if self.kineto_results is None:
            self._ensure_function_events()
            return self._function_events.export_chrome_trace(path)
        write_chrome_trace(self.kineto_results, path, metadata or {}, self.trace_id)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total"):
        """Write the events' stacks with a metric, for flame graphs (needs with_stack)."""
        self._ensure_function_events()
        if not self.with_stack:
            raise AssertionError("export_stacks() requires with_stack=True")
        return self._function_events.export_stacks(path, metric)

    def toggle_collection_dynamic(self, enabled: bool, activities):
        """Pause (False) or resume (True) recording the CPU activity."""
        if ProfilerActivity.CPU not in set(activities) or self._recorder is None:
            return
        if enabled:
            self._recorder.install()
        else:
            self._recorder.uninstall(final=False)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """The events averaged per name (EventList.key_averages)."""
        self._ensure_function_events()
        return self._function_events.key_averages(group_by_input_shape, group_by_stack_n,
                                                  group_by_overload_name)

    def total_average(self):
        """All events summed into one average (EventList.total_average)."""
        self._ensure_function_events()
        return self._function_events.total_average()

    @property
    def self_cpu_time_total(self):
        """Returns total time spent on CPU: the sum of the events' self times."""
        self._ensure_function_events()
        return self._function_events.self_cpu_time_total


def _checked_device(use_device):
    """The device to profile besides the CPU: none in ember, with torch's warnings."""
    if use_device is None:
        return None
    if use_device not in ("cuda", "xpu", "mtia", "hpu"):
        warn(f"The {use_device} is not a valid device option.", stacklevel=3)
        return None
    if use_device == "mtia":
        raise AssertionError("Legacy MTIA profiling is not supported. Requires "
                             "use_kineto=True on MTIA devices.")
    warn(_DEVICE_WARNINGS[use_device], stacklevel=3)
    return None


def _function_events(recorder, use_device) -> list:
    """A recording's ranges as FunctionEvents, sorted by start (longer first on a tie)."""
    if recorder is None:
        return []
    start, threads, events = recorder.start_ns, {}, []
    for index, r in enumerate(recorder.ranges, start=1):
        if r.end is None or _filter_name(r.name):
            continue
        thread = threads.setdefault(r.tid, len(threads) + 1)
        events.append(FunctionEvent(
            id=index, name=_rewrite_name(r.name, with_wildcard=True), overload_name="",
            trace_name=_rewrite_name(r.name), thread=thread, start_us=(r.start - start) / 1000,
            end_us=(r.end - start) / 1000, fwd_thread=thread, input_shapes=r.shapes or [],
            concrete_inputs=r.concrete or [], stack=r.stack or [], scope=r.scope,
            use_device=use_device, cpu_memory_usage=r.memory, sequence_nr=r.sequence_nr,
            device_type=DeviceType.CPU, flops=r.flops, is_user_annotation=r.scope == USER_SCOPE,
            structured_input_shapes=r.structured or [], input_dtypes=r.dtypes or []))
    events.sort(key=lambda evt: [evt.time_range.start, -evt.time_range.end])
    return events


def write_chrome_trace(recorder, path, metadata, trace_id=""):
    """Write a recording as Kineto writes a CPU trace: a JSON object whose traceEvents are
    "X" events (ts and dur in microseconds), thread names and "[memory]" instant events."""
    import json  # (not loaded by `import ember`)

    pid = os.getpid()
    origin = recorder.start_ns / 1000
    events = [_meta("process_name", origin, pid, 0, name="python"),
              _meta("process_labels", origin, pid, 0, labels="CPU"),
              _meta("process_sort_index", origin, pid, 0, sort_index=pid)]
    for tid in dict.fromkeys(r.tid for r in recorder.ranges):
        events += [_meta("thread_name", origin, pid, tid, name=f"thread {tid} (python)"),
                   _meta("thread_sort_index", origin, pid, tid, sort_index=tid)]
    ranges = [r for r in recorder.ranges if r.end is not None]
    ranges.sort(key=lambda r: (r.start, -r.end))
    memory = []
    for index, r in enumerate(ranges):
        events.append(_x_event(r, index, pid))
        if r.own_memory:
            memory.append((r.end, r))
    for index, (when, r) in enumerate(memory, start=len(ranges)):
        events.append({"ph": "i", "cat": "cpu_instant_event", "s": "t", "name": "[memory]",
                       "pid": pid, "tid": r.tid, "ts": round(when / 1000, 3),
                       "args": {"Bytes": r.own_memory, "Device Id": -1, "Device Type": 0,
                                "Ev Idx": index}})
    end = recorder.end_ns if recorder.end_ns is not None else perf_counter_ns()
    events.append({"ph": "X", "cat": "Trace", "name": "PyTorch Profiler (0)", "pid": "Spans",
                   "tid": "PyTorch Profiler", "ts": round(origin, 3),
                   "dur": round((end - recorder.start_ns) / 1000, 3), "args": {"Op count": 0}})
    trace = {"schemaVersion": 1, "deviceProperties": [], "trace_id": trace_id}
    for key, value in metadata.items():
        trace[key] = _json_value(value)
    trace.update({"host_name": socket.gethostname(), "displayTimeUnit": "ms",
                  "baseTimeNanoseconds": time.time_ns() - perf_counter_ns(),
                  "traceEvents": events, "traceName": path})
    with open(path, "w") as f:
        json.dump(trace, f, indent=1)


def _meta(kind, ts, pid, tid, **args):
    """A Chrome trace metadata ("M") event: process or thread names and sort order."""
    return {"ph": "M", "name": kind, "ts": round(ts, 3), "pid": pid, "tid": tid, "args": args}


def _x_event(r, index, pid):
    """One range as a complete ("X") event, its inputs in args as Kineto writes them."""
    args = {"External id": index + 1}
    if r.sequence_nr >= 0:
        args.update({"Sequence number": r.sequence_nr, "Fwd thread id": 0})
    args["Record function id"] = 0
    if r.shapes is not None:
        args["Concrete Inputs"] = ["" if v is None else str(v) for v in r.concrete]
        args["Input type"] = r.dtypes
        args["Input Dims"] = r.structured
    args["Ev Idx"] = index
    return {"ph": "X", "cat": "user_annotation" if r.scope == USER_SCOPE else "cpu_op",
            "name": r.name, "pid": pid, "tid": r.tid, "ts": round(r.start / 1000, 3),
            "dur": round((r.end - r.start) / 1000, 3), "args": args}


def _json_value(text):
    """A metadata value given as JSON text (add_metadata_json), else the string itself."""
    import json

    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


class record_function(ContextDecorator):
    """Context manager / decorator labelling a block of code as one event while a profiler
    records (matches `torch.autograd.profiler.record_function`); costs nothing otherwise."""

    def __init__(self, name: str, args=None):
        self.name = name
        self.args = args
        self.run_callbacks_on_exit = True  # whether exiting ends the range
        self.record = None  # (the recorder, its range) while entered under a profiler

    def __enter__(self):
        recorder = ACTIVE[0]
        if recorder is not None:
            self.record = (recorder, recorder.begin(self.name, USER_SCOPE))
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if not self.run_callbacks_on_exit or self.record is None:
            return
        recorder, r = self.record
        self.record = None
        recorder.end(r)

    def _call_end_callbacks_on_future(self, fut):
        """End the range when `fut` completes, instead of on exit."""
        if not self.run_callbacks_on_exit:
            raise RuntimeError("_call_end_callbacks_on_future can only be called once.")
        self.run_callbacks_on_exit = False
        record, self.record = self.record, None

        def finish(value):
            if record is not None:
                record[0].end(record[1])
            return value.wait() if hasattr(value, "wait") else value

        return fut.then(finish)


class KinetoStepTracker:
    """The global profiler step: the highest step count of its requesters (the profiler's
    step() and the optimizers'), so that two of them do not count one step twice."""

    _current_step = 0
    _step_dict = defaultdict(int)

    @classmethod
    def init_step_count(cls, requester: str):
        """Initialize for a given requester."""
        cls._step_dict[requester] = cls._current_step

    @classmethod
    def erase_step_count(cls, requester: str) -> bool:
        """Remove a given requester."""
        return cls._step_dict.pop(requester, None) is not None

    @classmethod
    def increment_step(cls, requester: str) -> int:
        """Increment the requester's count; the global step is the highest count."""
        if requester not in cls._step_dict:
            cls.init_step_count(requester)
        cls._step_dict[requester] += 1
        new_step = max(cls._step_dict.values())
        if new_step > cls._current_step:
            delta = new_step - cls._current_step
            if delta > 1:
                warn("Profiler step count has increased more than 1 - current_step = "
                     f"{cls._current_step} step dict =  {cls._step_dict}", stacklevel=2)
            cls._current_step = new_step
        return cls._current_step

    @classmethod
    def current_step(cls) -> int:
        """Get the latest step for any requester."""
        return cls._current_step
