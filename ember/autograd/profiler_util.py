"""The profiler's events and their tables (matches `torch.autograd.profiler_util`).

Ported closely from PyTorch's pure-Python torch/autograd/profiler_util.py (BSD-3-Clause
license, Copyright (c) Facebook, Inc. and its affiliates and the PyTorch contributors), so that
`EventList.table()` prints torch's columns, widths, percentages, units and footer. What ember
leaves out: the Kineto kernel metadata (`EventMetadata`), C++ name demangling (`StringTable`
returns names unchanged) and the device columns, which only device events fill (ember profiles
the CPU alone).
"""

import bisect
import itertools

from ember._warnings import warn as _warn
from collections import defaultdict, namedtuple
from operator import attrgetter

from ember.autograd._profiler_format import (DeviceType, _build_table,  # noqa: F401
                                             _format_memory, _format_time, _format_time_share)

__all__ = ["EventList", "FormattedTimesMixin", "Interval", "Kernel", "FunctionEvent",
           "FunctionEventAvg", "StringTable", "MemRecordsAcc"]


_DEVICE_TYPES = (DeviceType.CUDA, DeviceType.PrivateUse1, DeviceType.MTIA, DeviceType.HPU,
                 DeviceType.XPU)


class EventList(list):
    """A list of profiling events with helper methods for analysis and visualization."""

    def __init__(self, *args, **kwargs):
        use_device = kwargs.pop("use_device", None)
        profile_memory = kwargs.pop("profile_memory", False)
        with_flops = kwargs.pop("with_flops", False)
        super().__init__(*args, **kwargs)
        self._use_device = use_device
        self._profile_memory = profile_memory
        self._tree_built = False
        self._with_flops = with_flops

    def _build_tree(self):
        """Link parents and children (by time ranges) and drop directly repeated names."""
        self._populate_cpu_children()
        self._remove_dup_nodes()
        self._set_backward_stacktraces()
        self._tree_built = True

    def __str__(self):
        return self.table()

    def _remove_dup_nodes(self):
        """Fold an only child named as its parent into the parent (torch's rule)."""
        while True:
            to_delete = set()
            for idx in range(len(self)):
                event = self[idx]
                parent = event.cpu_parent
                if parent is not None and parent.name == event.name and \
                        len(parent.cpu_children) == 1:
                    parent.cpu_children = event.cpu_children
                    parent.kernels = event.kernels  # lift kernels up
                    for ch in event.cpu_children:
                        ch.cpu_parent = parent
                    to_delete.add(idx)
            if len(to_delete) == 0:
                break
            new_evts = [ev for ind, ev in enumerate(self) if ind not in to_delete]
            self.clear()
            self.extend(new_evts)

    def _populate_cpu_children(self):
        """Make each event the child of the innermost event whose [start, end) holds its own,
        per thread (an O(N log N) sweep with a stack of open parents, as torch's)."""
        sync_events = [evt for evt in self
                       if not evt.is_async and evt.device_type == DeviceType.CPU]
        events = sorted(sync_events, key=attrgetter("thread"))
        threads = itertools.groupby(events, key=lambda event: (event.thread, event.node_id))
        for _thread_id, thread_events in threads:
            thread_events_ = sorted(
                thread_events, key=lambda event: [event.time_range.start, -event.time_range.end])
            current_events = []
            for event in thread_events_:
                while len(current_events) > 0:
                    parent = current_events[-1]
                    if event.time_range.start >= parent.time_range.end or \
                            event.time_range.end > parent.time_range.end:
                        current_events.pop()  # this can't be a parent
                    else:
                        parent.append_cpu_child(event)
                        if event.cpu_parent is not None:
                            raise AssertionError(
                                f"There is already a CPU parent event for {event.key}")
                        event.set_cpu_parent(parent)
                        break
                current_events.append(event)

    def _set_backward_stacktraces(self):
        """Give the events of a backward function the stack of the forward op it came from."""
        def bw_parent(evt):
            """The backward-function event evt is in, if any."""
            if evt is None:
                return None
            if evt.scope == 1:  # BACKWARD_FUNCTION
                return evt
            return bw_parent(evt.cpu_parent)

        fwd_stacks = {}
        for evt in self:
            if bw_parent(evt) is None and evt.stack is not None:
                t = (evt.sequence_nr, evt.thread)
                if t not in fwd_stacks:
                    fwd_stacks[t] = evt.stack
        for evt in self:
            p = bw_parent(evt)
            if p is not None:
                if p.fwd_thread is None:
                    raise AssertionError("Expected fwd_thread to be set for backward parent")
                evt.stack = fwd_stacks.get((p.sequence_nr, p.fwd_thread), [])

    @property
    def self_cpu_time_total(self):
        return sum(event.self_cpu_time_total for event in self)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None):
        """The events as torch's formatted table (sort_by: an attribute such as
        ``cpu_time_total``, ``self_cpu_time_total``, ``cpu_memory_usage`` or ``count``;
        time_unit: ``s``, ``ms`` or ``us`` for every time)."""
        return _build_table(
            self, sort_by=sort_by, row_limit=row_limit,
            max_src_column_width=max_src_column_width,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width, header=header,
            profile_memory=self._profile_memory, with_flops=self._with_flops,
            top_level_events_only=top_level_events_only, time_unit=time_unit)

    def export_chrome_trace(self, path):
        """Write the events as a Chrome trace (a JSON array; open it in chrome://tracing)."""
        import os

        with open(path, "w") as f:
            f.write("[")
            for evt in self:
                if evt.trace_name is None:
                    continue
                f.write(
                    '{{"name": "{}", "ph": "X", "ts": {}, "dur": {}, "tid": {}, '
                    '"pid": "CPU functions", "args": {{}}}}, '.format(
                        evt.trace_name, evt.time_range.start, evt.time_range.elapsed_us(),
                        evt.thread if not evt.is_remote
                        else f'" node_id:{evt.node_id}, thread_id:{evt.thread} "'))
            if len(self) > 0:
                f.seek(f.tell() - 2, os.SEEK_SET)  # remove trailing whitespace and comma
                f.truncate()
            f.write("]")

    def supported_export_stacks_metrics(self):
        """The metrics export_stacks takes."""
        return ["self_cpu_time_total", "self_cuda_time_total", "self_xpu_time_total",
                "self_privateuse1_time_total"]

    def export_stacks(self, path: str, metric: str):
        """Write one line per event with a stack: its frames root first, then the metric."""
        if metric not in self.supported_export_stacks_metrics():
            raise ValueError("metric should be one of: "
                             + str(self.supported_export_stacks_metrics()))
        translate_table = str.maketrans(" ;\t\n", "____")
        with open(path, "w") as f:
            for evt in self:
                if evt.stack and len(evt.stack) > 0:
                    metric_value = getattr(evt, _device_attribute(metric))
                    if int(metric_value) > 0:
                        stack_str = ""
                        for entry in reversed(evt.stack):
                            stack_str += entry.translate(translate_table)
                            stack_str += ";"
                        stack_str = stack_str[:-1] + " " + str(int(metric_value))
                        f.write(stack_str + "\n")

    def key_averages(self, group_by_input_shapes=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """The events averaged per key (and input shapes / top stack frames / overload when
        asked): an EventList of FunctionEventAvg."""
        if not self._tree_built:
            raise AssertionError("Expected tree to be built before calling key_averages")
        stats = defaultdict(FunctionEventAvg)

        def get_key(event):
            """The grouping key of one event."""
            key = [str(event.key), str(event.node_id), str(event.device_type),
                   str(event.is_legacy), str(event.is_user_annotation)]
            if group_by_overload_name:
                key.append(event.overload_name)
            if group_by_input_shapes:
                key.append(str(event.input_shapes))
            if group_by_stack_n > 0:
                key += event.stack[:group_by_stack_n]
            return tuple(key)

        for evt in self:
            stats[get_key(evt)].add(evt)
        avg_list = EventList(stats.values(), use_device=self._use_device,
                             profile_memory=self._profile_memory, with_flops=self._with_flops)
        for evt in avg_list:
            evt.stack = evt.stack[:group_by_stack_n]
            if not group_by_input_shapes:
                evt.input_shapes = ""
            if not group_by_overload_name:
                evt.overload_name = ""
        return avg_list

    def total_average(self):
        """All events summed into one FunctionEventAvg keyed "Total"."""
        total_stat = FunctionEventAvg()
        for evt in self:
            total_stat += evt
            total_stat.key = None
        total_stat.key = "Total"
        return total_stat


def _device_attribute(name):
    """torch's cuda/xpu/privateuse1 attribute names all read the device_* attribute."""
    return name.replace("cuda", "device").replace("xpu", "device").replace("privateuse1",
                                                                             "device")


def _attr_formatter(name):
    """A property giving attribute `name` (a time) formatted."""
    return property(lambda self: _format_time(getattr(self, name)))


def _deprecated(message):
    """A FutureWarning naming the device_* replacement of a cuda_* attribute."""
    _warn(message, FutureWarning, stacklevel=3)


class FormattedTimesMixin:
    """Helpers for FunctionEvent and FunctionEventAvg: formatted times and per-call averages.

    The subclass should define `*_time_total` and `count` attributes.
    """

    cpu_time_str = _attr_formatter("cpu_time")
    device_time_str = _attr_formatter("device_time")
    cpu_time_total_str = _attr_formatter("cpu_time_total")
    device_time_total_str = _attr_formatter("device_time_total")
    self_cpu_time_total_str = _attr_formatter("self_cpu_time_total")
    self_device_time_total_str = _attr_formatter("self_device_time_total")

    @property
    def cpu_time(self):
        return 0.0 if self.count == 0 else 1.0 * self.cpu_time_total / self.count

    @property
    def device_time(self):
        return 0.0 if self.count == 0 else 1.0 * self.device_time_total / self.count

    @property
    def cuda_time(self):  # To be deprecated
        _deprecated("`cuda_time` is deprecated, please use `device_time` instead.")
        return self.device_time


class Interval:
    """A [start, end) time range in microseconds."""

    def __init__(self, start, end):
        self.start = start
        self.end = end

    def elapsed_us(self):
        """The length of the interval."""
        return self.end - self.start


Kernel = namedtuple("Kernel", ["name", "device", "duration"])


class FunctionEvent(FormattedTimesMixin):
    """Profiling information about one call of a function (an op, a user range, a backward
    node): its time range, thread, input shapes, memory and its parent and children."""

    def __init__(self, id, name, thread, start_us, end_us, overload_name=None, fwd_thread=None,
                 input_shapes=None, stack=None, scope=0, use_device=None, cpu_memory_usage=0,
                 device_memory_usage=0, is_async=False, is_remote=False, sequence_nr=-1,
                 node_id=-1, device_type=DeviceType.CPU, device_index=0,
                 device_resource_id=None, is_legacy=False, flops=None, trace_name=None,
                 concrete_inputs=None, kwinputs=None, is_user_annotation=False,
                 is_python_function=False, activity_type=None, metadata_json=None,
                 flow_id=None, flow_type=None, flow_start=None, external_id=0,
                 linked_correlation_id=0, extra_meta=None, structured_input_shapes=None,
                 structured_input_strides=None, input_dtypes=None, python_id=-1,
                 python_parent_id=-1, python_module_id=-1):
        self.id, self.node_id, self.name = id, node_id, name
        self.overload_name, self.trace_name = overload_name, trace_name
        self.time_range = Interval(start_us, end_us)
        self.thread, self.fwd_thread = thread, fwd_thread
        self.kernels = []
        self.count = 1
        self.cpu_children = []
        self.cpu_parent = None
        self.input_shapes, self.concrete_inputs, self.kwinputs = (input_shapes, concrete_inputs,
                                                                  kwinputs)
        self.stack, self.scope, self.use_device = stack, scope, use_device
        self.cpu_memory_usage, self.device_memory_usage = cpu_memory_usage, device_memory_usage
        self.is_async, self.is_remote, self.sequence_nr = is_async, is_remote, sequence_nr
        self.device_type, self.device_index = device_type, device_index
        self.device_resource_id = thread if device_resource_id is None else device_resource_id
        self.is_legacy, self.flops = is_legacy, flops
        self.is_user_annotation, self.is_python_function = (is_user_annotation,
                                                            is_python_function)
        self.activity_type = activity_type
        self.self_cpu_percent = self.total_cpu_percent = self.total_device_percent = -1
        self._metadata_json = metadata_json
        self.flow_id, self.flow_type, self.flow_start = flow_id, flow_type, flow_start
        self.external_id, self.linked_correlation_id = external_id, linked_correlation_id
        self.event_metadata = None  # (Kineto's kernel metadata: ember has no device events)
        self.structured_input_shapes = structured_input_shapes
        self.structured_input_strides = structured_input_strides
        self.input_dtypes = input_dtypes
        self.python_id, self.python_parent_id = python_id, python_parent_id
        self.python_module_id = python_module_id

    def append_kernel(self, name, device, duration):
        """Attach a device kernel's time to this CPU event."""
        if self.device_type != DeviceType.CPU:
            raise AssertionError("Expected device_type to be CPU")
        self.kernels.append(Kernel(name, device, duration))

    def append_cpu_child(self, child):
        """Append a direct CPU child (only direct children, for the self times to be right)."""
        if self.device_type != DeviceType.CPU:
            raise AssertionError("Expected device_type to be CPU")
        if not isinstance(child, FunctionEvent):
            raise AssertionError("Expected child to be a FunctionEvent")
        if child.device_type != DeviceType.CPU:
            raise AssertionError("Expected child device_type to be CPU")
        self.cpu_children.append(child)

    def set_cpu_parent(self, parent):
        """Set the immediate CPU parent, whose range holds this event's range."""
        if self.device_type != DeviceType.CPU:
            raise AssertionError("Expected device_type to be CPU")
        if not isinstance(parent, FunctionEvent):
            raise AssertionError("Expected parent to be a FunctionEvent")
        if parent.device_type != DeviceType.CPU:
            raise AssertionError("Expected parent device_type to be CPU")
        self.cpu_parent = parent

    # async events don't have children, are not used when computing 'self' metrics of other
    # events, and have only a total cpu time
    @property
    def self_cpu_memory_usage(self):
        """The memory of this event less its children's."""
        if self.is_async or self.device_type != DeviceType.CPU:
            return 0
        return self.cpu_memory_usage - sum(child.cpu_memory_usage
                                           for child in self.cpu_children)

    @property
    def self_device_memory_usage(self):
        if self.is_async or self.device_type != DeviceType.CPU:
            return 0
        return self.device_memory_usage - sum(child.device_memory_usage
                                              for child in self.cpu_children)

    @property
    def metadata_json(self):
        _deprecated("`metadata_json` is deprecated. Use `event_metadata` instead.")
        return self._metadata_json

    @property
    def self_cuda_memory_usage(self):  # To be deprecated
        _deprecated("`self_cuda_memory_usage` is deprecated. Use `self_device_memory_usage` "
                    "instead.")
        return self.self_device_memory_usage

    @property
    def cpu_time_total(self):
        return self.time_range.elapsed_us() if self.device_type == DeviceType.CPU else 0

    @property
    def self_cpu_time_total(self):
        if self.is_async or self.device_type != DeviceType.CPU:
            return 0
        return self.cpu_time_total - sum(child.cpu_time_total for child in self.cpu_children)

    @property
    def device_time_total(self):
        if self.is_async or not self.use_device:
            return 0
        if self.device_type == DeviceType.CPU:
            kernels = sum(kinfo.duration for kinfo in self.kernels)
            if self.is_legacy:  # each legacy cpu event has a single (fake) kernel
                return kernels
            return kernels + sum(ch.device_time_total for ch in self.cpu_children)
        if self.device_type not in _DEVICE_TYPES:
            raise AssertionError("Expected device_type to be CUDA, PrivateUse1, MTIA, HPU or "
                                 f"XPU, but got {self.device_type}")
        return self.time_range.elapsed_us()

    @property
    def cuda_time_total(self):  # To be deprecated
        _deprecated("`cuda_time_total` is deprecated. Use `device_time_total` instead.")
        return self.device_time_total

    @property
    def self_device_time_total(self):
        if self.is_async or not self.use_device:
            return 0
        if self.device_type == DeviceType.CPU:
            return self.device_time_total - sum(child.device_time_total
                                                for child in self.cpu_children)
        if self.device_type not in _DEVICE_TYPES:
            raise AssertionError("Expected device_type to be CUDA, PrivateUse1, MTIA, HPU or "
                                 f"XPU, but got {self.device_type}")
        return self.device_time_total

    @property
    def self_cuda_time_total(self):  # To be deprecated
        _deprecated("`self_cuda_time_total` is deprecated. Use `self_device_time_total` "
                    "instead.")
        return self.self_device_time_total

    @property
    def key(self):
        return self.name

    def __repr__(self):
        device_name = self.use_device
        return (
            f"<FunctionEvent id={self.id} name={self.name} overload_name={self.overload_name} "
            f"device_type={self.device_type} node_id={self.node_id} "
            f"cpu_time={self.cpu_time_str} start_us={self.time_range.start} "
            f"end_us={self.time_range.end} "
            f"cpu_children={str([child.id for child in self.cpu_children])} "
            f"{device_name}_time={self.device_time_str} name={self.name} "
            f"thread={self.thread} input_shapes={str(self.input_shapes)} "
            f"cpu_memory_usage={self.cpu_memory_usage} "
            f"{device_name}_memory_usage={self.device_memory_usage} is_async={self.is_async} "
            f"is_remote={self.is_remote} seq_nr={self.sequence_nr} "
            f"is_legacy={self.is_legacy}>")


class FunctionEventAvg(FormattedTimesMixin):
    """Statistics summed over the FunctionEvents of one key (what key_averages() lists)."""

    def __init__(self) -> None:
        self.key = None
        self.count = 0
        self.node_id = 0
        self.is_async = False
        self.is_remote = False
        self.use_device = None
        self.cpu_time_total = self.device_time_total = 0
        self.self_cpu_time_total = self.self_device_time_total = 0
        self.input_shapes = self.overload_name = self.stack = self.scope = None
        self.cpu_memory_usage = self.device_memory_usage = 0
        self.self_cpu_memory_usage = self.self_device_memory_usage = 0
        self.cpu_children = self.cpu_parent = None
        self.device_type = DeviceType.CPU
        self.is_legacy = False
        self.flops = 0

    def add(self, other):
        """Add one event's (or average's) times, memory, calls and flops."""
        if self.key is None:
            # the first function recorded as part of this average: propagate its fields
            self.key = other.key
            self.node_id, self.is_async = other.node_id, other.is_async
            self.is_remote = other.is_remote
            self.cpu_parent, self.cpu_children = other.cpu_parent, other.cpu_children
            self.overload_name, self.input_shapes = other.overload_name, other.input_shapes
            self.stack, self.scope = other.stack, other.scope
            self.device_type, self.is_legacy = other.device_type, other.is_legacy
            self.use_device = other.use_device
            self.is_user_annotation = other.is_user_annotation
        if not isinstance(other, (FunctionEvent, FunctionEventAvg)):
            raise AssertionError("Expected other to be a FunctionEvent or FunctionEventAvg")
        if other.key != self.key:
            raise AssertionError(f"Expected keys to match, but got {other.key} vs {self.key}")
        self.cpu_time_total += other.cpu_time_total
        self.device_time_total += other.device_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.self_device_time_total += other.self_device_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.device_memory_usage += other.device_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        self.self_device_memory_usage += other.self_device_memory_usage
        self.count += other.count
        if self.flops is None:
            self.flops = other.flops
        elif other.flops is not None:
            self.flops += other.flops
        return self

    def __iadd__(self, other):
        return self.add(other)

    def __repr__(self):
        device_name = "cuda" if not self.use_device else self.use_device
        return (
            f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
            f"cpu_time={self.cpu_time_str}  self_{device_name}_time="
            f"{self.self_device_time_total_str} {device_name}_time={self.device_time_str} "
            f"input_shapes={str(self.input_shapes)} cpu_memory_usage={self.cpu_memory_usage} "
            f"{device_name}_memory_usage={self.device_memory_usage}>")


class StringTable(defaultdict):
    """Event names by their raw names (torch demangles C++ names here; ember's are plain)."""

    def __missing__(self, key):
        self[key] = key
        return key


class MemRecordsAcc:
    """Memory records sorted by start time, to find those inside a time interval."""

    def __init__(self, mem_records):
        self._mem_records = mem_records
        self._start_nses = []
        self._indices = []
        if len(mem_records) > 0:
            tmp = sorted([(r[0].start_ns(), i) for i, r in enumerate(mem_records)])
            self._start_nses, self._indices = zip(*tmp)

    def in_interval(self, start_ns, end_ns):
        """All records that start in [start_ns, end_ns]."""
        start_idx = bisect.bisect_left(self._start_nses, start_ns)
        end_idx = bisect.bisect_right(self._start_nses, end_ns)
        for i in range(start_idx, end_idx):
            yield self._mem_records[self._indices[i]]


def _filter_stack_entry(entry):
    """Whether a stack entry is kept (not one of autograd's or the test harness's)."""
    filtered_entries = [("autograd/__init__", "_make_grads"), ("autograd/__init__", "backward"),
                        ("torch/tensor", "backward"), ("_internal/common_utils", "prof_callable"),
                        ("_internal/common_utils", "prof_func_call"),
                        ("_internal/common_utils", "prof_meth_call")]
    return all(not (f[0] in entry and f[1] in entry) for f in filtered_entries)


MEMORY_EVENT_NAME = "[memory]"
OUT_OF_MEMORY_EVENT_NAME = "[OutOfMemory]"


def _filter_name(name):
    """Whether an event of this name is a profiler utility, left out of the results."""
    return name in (MEMORY_EVENT_NAME, OUT_OF_MEMORY_EVENT_NAME,
                    "profiler::_record_function_enter", "profiler::_record_function_enter_new",
                    "profiler::_record_function_exit", "aten::is_leaf", "aten::output_nr",
                    "aten::_version")


def _rewrite_name(name, with_wildcard=False):
    """The event's name; with_wildcard groups the numbered ProfilerStep#N as ProfilerStep*."""
    name = StringTable()[name]
    if with_wildcard and name.startswith("ProfilerStep#"):
        name = "ProfilerStep*"
    return name
