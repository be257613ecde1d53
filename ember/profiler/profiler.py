"""`profile` with schedules and trace handlers (matches `torch.profiler.profiler`).

Ported from PyTorch's torch/profiler/profiler.py (BSD-3-Clause license, Copyright (c) Facebook,
Inc. and its affiliates and the PyTorch contributors): the schedule's actions, the transitions
between them on `step()`, `on_trace_ready` at the end of each active cycle and the warnings
are torch's. The recording itself is ember.autograd.profiler's (CPU only); Kineto's device
collection, the CUPTI monitor, the execution trace observer and the memory timeline are not
there (an `execution_trace_observer` object is still started and stopped with the profile).
"""

import gzip
import os
import shutil
import tempfile
from enum import Enum
from functools import partial
from warnings import warn

import ember.autograd.profiler as prof
from ember.autograd.profiler import ProfilerActivity, _supported_activities

__all__ = ["supported_activities", "ProfilerAction", "schedule", "tensorboard_trace_handler",
           "profile"]
PROFILER_STEP_NAME = "ProfilerStep"

_WARNINGS_SHOWN = set()


def _warn_once(msg, category=UserWarning, stacklevel=2):
    """Warn with msg the first time only."""
    if msg not in _WARNINGS_SHOWN:
        _WARNINGS_SHOWN.add(msg)
        warn(msg, category=category, stacklevel=stacklevel)


def supported_activities():
    """The activities ember can record: {ProfilerActivity.CPU}."""
    return _supported_activities()


def _parse_activities(activities):
    """A list of activities (or {activity: [names]} filters) as a set and a filter dict."""
    parsed_activities, activity_filters = set(), {}
    for item in activities:
        if isinstance(item, ProfilerActivity):
            if item in parsed_activities:
                raise ValueError(f"Activity {item} specified more than once")
            parsed_activities.add(item)
        elif isinstance(item, dict):
            for key, val in item.items():
                if key in parsed_activities:
                    raise ValueError(f"Activity {key} specified more than once")
                parsed_activities.add(key)
                activity_filters[key] = set(val)
        else:
            raise TypeError(f"Expected ProfilerActivity or dict, got {type(item)}")
    return parsed_activities, activity_filters


class _KinetoProfile:
    """Low-level profiler: start()/stop() around the code, then its events and traces."""

    def __init__(self, *, activities=None, record_shapes=False, profile_memory=False,
                 with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False,
                 custom_trace_id_callback=None, post_processing_timeout_s=None):
        if activities is not None:
            self.activities, self.activity_filters = _parse_activities(activities)
        else:
            self.activities, self.activity_filters = supported_activities(), {}
        self.record_shapes, self.with_flops = record_shapes, with_flops
        self.profile_memory, self.with_stack = profile_memory, with_stack
        self.with_modules = with_modules
        self.experimental_config = experimental_config
        self.execution_trace_observer = execution_trace_observer
        self.acc_events = acc_events
        self.custom_trace_id_callback = custom_trace_id_callback
        self.post_processing_timeout_s = post_processing_timeout_s
        self.profiler = None
        self.has_cudagraphs = False
        self.mem_tl = None
        self.use_device = None
        for activity, device in ((ProfilerActivity.CUDA, "cuda"), (ProfilerActivity.XPU, "xpu"),
                                 (ProfilerActivity.MTIA, "mtia"), (ProfilerActivity.HPU, "hpu")):
            if activity in self.activities:
                self.use_device = device
                break
        self.preset_metadata = {}
        self._trace_metadata = {}

    def start(self) -> None:
        self.prepare_trace()
        self.start_trace()

    def stop(self) -> None:
        self.stop_trace()

    def prepare_trace(self) -> None:
        """Make the recording profiler of a new cycle (or keep the last one, acc_events)."""
        if (self.profiler is not None) and (not self.acc_events):
            _warn_once("Warning: Profiler clears events at the end of each cycle. Only events "
                       "from the current cycle will be reported. To keep events across "
                       "cycles, set acc_events=True.")
        if (self.profiler is None) or (not self.acc_events):
            self.profiler = prof.profile(
                use_cpu=(ProfilerActivity.CPU in self.activities), use_device=self.use_device,
                record_shapes=self.record_shapes, with_flops=self.with_flops,
                profile_memory=self.profile_memory, with_stack=self.with_stack,
                with_modules=self.with_modules, use_kineto=True,
                experimental_config=self.experimental_config, acc_events=self.acc_events,
                custom_trace_id_callback=self.custom_trace_id_callback,
                post_processing_timeout_s=self.post_processing_timeout_s,
                activity_filters=self.activity_filters or None)
        self.profiler._prepare_trace()

    def start_trace(self) -> None:
        """Start recording; note the options in the trace's metadata."""
        if self.execution_trace_observer:
            self.execution_trace_observer.start()
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before starting trace")
        self.profiler._start_trace()
        for flag in ("profile_memory", "with_stack", "record_shapes", "with_modules",
                     "with_flops"):
            if getattr(self, flag):
                self.add_metadata_json(flag, "1")
        for k, v in self.preset_metadata.items():
            self.add_metadata_json(k, v)

    def stop_trace(self) -> None:
        """Stop recording (the events stay for the results)."""
        if self.execution_trace_observer:
            self.execution_trace_observer.stop()
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before stopping trace")
        self.profiler.__exit__(None, None, None)

    def export_chrome_trace(self, path: str, use_python_export: bool = False):
        """Write the last cycle's trace in Chrome's JSON format (gzipped for a .gz path)."""
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before exporting chrome trace")
        if not path.endswith(".gz"):
            return self.profiler.export_chrome_trace(path, self._trace_metadata)
        with tempfile.TemporaryDirectory() as directory:
            plain = os.path.join(directory, "trace.json")
            self.profiler.export_chrome_trace(plain, self._trace_metadata)
            with open(plain, "rb") as fin, gzip.open(path, "wb") as fout:
                shutil.copyfileobj(fin, fout)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total"):
        """Save stack traces to a file (metric: self_cpu_time_total)."""
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before exporting stacks")
        return self.profiler.export_stacks(path, metric)

    def toggle_collection_dynamic(self, enable: bool, activities) -> None:
        """Pause or resume the collection of the given activities (CPU: the ops)."""
        if self.profiler is None:
            return
        self.profiler.toggle_collection_dynamic(enable, activities)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False):
        """The events averaged per operator name (and input shapes, stack, overload)."""
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before getting key averages")
        return self.profiler.key_averages(group_by_input_shape, group_by_stack_n,
                                          group_by_overload_name)

    def events(self):
        """The unaggregated FunctionEvents of the last cycle."""
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before accessing events")
        return self.profiler.function_events

    def add_metadata(self, key: str, value: str) -> None:
        """Add a string metadata entry to the trace file."""
        self._trace_metadata[key] = '"' + value.replace('"', '\\"') + '"'

    def add_metadata_json(self, key: str, value: str) -> None:
        """Add a metadata entry given as JSON text to the trace file."""
        self._trace_metadata[key] = value

    def preset_metadata_json(self, key: str, value: str) -> None:
        """Set a metadata entry added to the trace when recording starts."""
        self.preset_metadata[key] = value


class ProfilerAction(Enum):
    """Profiler actions that can be taken at the specified intervals (DEVICE_STOPPED is set
    by the profiler itself and must not be returned by a schedule)."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0):
    """A profiler schedule: skip `skip_first` steps, then cycles of `wait` steps doing
    nothing, `warmup` steps warming up and `active` steps recording (the last one saves), for
    `repeat` cycles (0: until the end); skip_first_wait skips the first cycle's wait."""

    def schedule_fn(step: int) -> ProfilerAction:
        """The action of one step."""
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        num_steps = wait + warmup + active
        if repeat > 0 and step / num_steps >= repeat:
            return ProfilerAction.NONE
        mod_step = step % num_steps
        if mod_step < wait:
            return ProfilerAction.NONE
        if mod_step < wait + warmup:
            return ProfilerAction.WARMUP
        return (ProfilerAction.RECORD if mod_step < num_steps - 1
                else ProfilerAction.RECORD_AND_SAVE)

    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
            f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
            f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)
    return schedule_fn


def _default_schedule_fn(_: int) -> ProfilerAction:
    """Record from the start, every step."""
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name: str, worker_name=None, use_gzip: bool = False,
                              use_python_export: bool = False):
    """An on_trace_ready handler writing each trace to dir_name as
    `<worker_name>.<time in ns>.pt.trace.json[.gz]` (worker_name: `<hostname>_<pid>`), for
    TensorBoard's profiler plugin."""
    import socket
    import time

    def handler_fn(prof) -> None:
        """Write prof's trace into dir_name."""
        nonlocal worker_name
        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except Exception as e:
                raise RuntimeError("Can't create directory: " + dir_name) from e
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        # nanoseconds, so that two traces never get the same name
        file_name = f"{worker_name}.{time.time_ns()}.pt.trace.json"
        if use_gzip:
            file_name = file_name + ".gz"
        prof.export_chrome_trace(os.path.join(dir_name, file_name),
                                 use_python_export=use_python_export)

    return handler_fn


def _check_action(action):
    """Refuse DEVICE_STOPPED from a user's schedule."""
    if action == ProfilerAction.DEVICE_STOPPED:
        raise ValueError("ProfilerAction.DEVICE_STOPPED is set internally by the profiler and "
                         "must not be returned by a user-provided schedule")
    return action


class profile(_KinetoProfile):
    """Profiler context manager (matches `torch.profiler.profile`; CPU only).

    schedule(step) gives the ProfilerAction of each step (default: record all along);
    `step()` signals that the next step starts; on_trace_ready(prof) is called at the end of
    each active cycle (RECORD_AND_SAVE) and on exit while recording. Steps are recorded as
    `ProfilerStep#<n>` ranges when a schedule is given.
    """

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False, with_flops=False,
                 with_modules=False, experimental_config=None, execution_trace_observer=None,
                 acc_events=False, use_cuda=None, custom_trace_id_callback=None,
                 post_processing_timeout_s=None):
        activities_set = set()
        if activities is not None:
            for item in activities:
                activities_set.update(item.keys() if isinstance(item, dict) else (item,))
        else:
            activities_set = supported_activities()
        if use_cuda is not None:
            warn("`use_cuda` is deprecated, use `activities` argument instead", FutureWarning,
                 stacklevel=2)
            if use_cuda:
                activities_set.add(ProfilerActivity.CUDA)
            elif ProfilerActivity.CUDA in activities_set:
                activities_set.remove(ProfilerActivity.CUDA)
        if len(activities_set) == 0:
            raise AssertionError("No valid profiler activities found")
        super().__init__(
            activities=activities, record_shapes=record_shapes, profile_memory=profile_memory,
            with_stack=with_stack, with_flops=with_flops, with_modules=with_modules,
            experimental_config=experimental_config,
            execution_trace_observer=execution_trace_observer, acc_events=acc_events,
            custom_trace_id_callback=custom_trace_id_callback,
            post_processing_timeout_s=post_processing_timeout_s)
        self.schedule = schedule if schedule else _default_schedule_fn
        self.record_steps = bool(schedule)  # step markers in the trace and table view
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.step_rec_fn = None
        self.current_action = _check_action(self.schedule(self.step_num))
        self._prev_schedule_action = self.current_action
        self.action_map = self._actions()
        prof.KinetoStepTracker.init_step_count(PROFILER_STEP_NAME)

    def _actions(self):
        """(previous action, current action) -> what to do, as torch's profile does."""
        A = ProfilerAction
        start, stop, ready, prepare = (self.start_trace, self.stop_trace, self._trace_ready,
                                       self.prepare_trace)
        return {
            (A.NONE, A.NONE): [], (A.NONE, A.WARMUP): [prepare],
            (A.NONE, A.RECORD): [prepare, start], (A.NONE, A.RECORD_AND_SAVE): [prepare, start],
            (A.WARMUP, A.NONE): [partial(warn, "Incorrect schedule: WARMUP followed by NONE"),
                                 start, stop],
            (A.WARMUP, A.WARMUP): [], (A.WARMUP, A.RECORD): [start],
            (A.WARMUP, A.RECORD_AND_SAVE): [start],
            (A.RECORD, A.NONE): [partial(warn, "Incorrect schedule: RECORD followed by NONE"),
                                 stop],
            (A.RECORD, A.WARMUP): [partial(warn, "Incorrect schedule: RECORD followed by "
                                           "WARMUP"), stop],
            (A.RECORD, A.RECORD): [], (A.RECORD, A.RECORD_AND_SAVE): [],
            (A.RECORD_AND_SAVE, A.NONE): [stop, ready],
            (A.RECORD_AND_SAVE, A.WARMUP): [stop, ready, prepare],
            (A.RECORD_AND_SAVE, A.RECORD): [stop, ready, prepare, start],
            (A.RECORD_AND_SAVE, A.RECORD_AND_SAVE): [stop, ready, prepare, start],
            # used for exit action
            (A.WARMUP, None): [start, stop], (A.RECORD, None): [stop, ready],
            (A.RECORD_AND_SAVE, None): [stop, ready],
        }

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.stop()
        prof.KinetoStepTracker.erase_step_count(PROFILER_STEP_NAME)
        if self.execution_trace_observer:
            self.execution_trace_observer.cleanup()

    def start(self) -> None:
        self._transit_action(ProfilerAction.NONE, self.current_action)
        if self.record_steps:
            self.step_rec_fn = prof.record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def stop(self) -> None:
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        self._transit_action(self.current_action, None)
        self.current_action = self._prev_schedule_action

    def step(self) -> None:
        """Signals the profiler that the next profiling step has started."""
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        prev_action = self.current_action
        next_step = self.step_num + 1
        schedule_action = _check_action(self.schedule(next_step))
        self.step_num = next_step
        self.current_action = self._prev_schedule_action = schedule_action
        self._transit_action(prev_action, self.current_action)
        if self.record_steps:
            self.step_rec_fn = prof.record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def set_custom_trace_id_callback(self, callback) -> None:
        """Set the trace id generator, called at the start of each cycle."""
        self.custom_trace_id_callback = callback

    def get_trace_id(self):
        """The current cycle's trace id."""
        if self.profiler is None:
            return None
        return self.profiler.trace_id

    def _trace_ready(self) -> None:
        """Hand the finished cycle to on_trace_ready."""
        if self.on_trace_ready:
            self.on_trace_ready(self)

    def _transit_action(self, prev_action, current_action) -> None:
        """Run what the change of action calls for."""
        for action in self.action_map.get((prev_action, current_action)) or ():
            action()

    def _stats(self):
        """The recording's timing statistics (torch's developer stats)."""
        if self.profiler is None:
            return None
        return self.profiler._stats
