"""The profiler table's formatting: `_build_table` and the time, share and memory formats.

Ported closely from PyTorch's torch/autograd/profiler_util.py (BSD-3-Clause license, Copyright
(c) Facebook, Inc. and its affiliates and the PyTorch contributors): the same columns, widths,
headers, percentages, units and "Self CPU time total" footer. ember/autograd/profiler_util.py
re-exports these under torch's names; they live apart to keep each file short.
"""

import enum
import math


class DeviceType(enum.Enum):
    """Where an event ran (matches `torch.autograd.DeviceType`; ember's are all CPU)."""

    CPU = 0
    CUDA = 1
    MKLDNN = 2
    OPENGL = 3
    OPENCL = 4
    IDEEP = 5
    HIP = 6
    FPGA = 7
    MAIA = 8
    XLA = 9
    Vulkan = 10
    Metal = 11
    XPU = 12
    MPS = 13
    Meta = 14
    HPU = 15
    VE = 16
    Lazy = 17
    IPU = 18
    MTIA = 19
    PrivateUse1 = 20

    def __int__(self):
        return self.value




def _format_time(time_us):
    """A time in microseconds as torch prints it: 3 decimals, in s, ms or us."""
    US_IN_SECOND = 1000.0 * 1000.0
    US_IN_MS = 1000.0
    if time_us >= US_IN_SECOND:
        return f"{time_us / US_IN_SECOND:.3f}s"
    if time_us >= US_IN_MS:
        return f"{time_us / US_IN_MS:.3f}ms"
    return f"{time_us:.3f}us"


def _format_time_share(time_us, total_time_us):
    """A time as a percentage of the total ("NaN" for a zero total)."""
    if total_time_us == 0:
        if time_us != 0:
            raise AssertionError(f"Expected time_us == 0 but got {time_us}")
        return "NaN"
    return f"{time_us * 100.0 / total_time_us:.2f}%"


def _format_memory(nbytes):
    """A byte count in B, KB, MB or GB (2 decimals above bytes)."""
    KB = 1024
    MB = 1024 * KB
    GB = 1024 * MB
    if abs(nbytes) >= GB:
        return f"{nbytes * 1.0 / GB:.2f} GB"
    if abs(nbytes) >= MB:
        return f"{nbytes * 1.0 / MB:.2f} MB"
    if abs(nbytes) >= KB:
        return f"{nbytes * 1.0 / KB:.2f} KB"
    return str(nbytes) + " B"



_DEVICE_EVENT_TYPES = (DeviceType.CUDA, DeviceType.PrivateUse1, DeviceType.MTIA, DeviceType.XPU)
_FLOP_HEADERS = ["FLOPs", "KFLOPs", "MFLOPs", "GFLOPs", "TFLOPs", "PFLOPs"]
DEFAULT_COLUMN_WIDTH = 12
SPACING_SIZE = 2


def _sort_key(sort_by):
    """torch's cuda/xpu/privateuse1 sort keys all read the device_* attribute."""
    return sort_by.replace("cuda", "device").replace("xpu", "device").replace("privateuse1",
                                                                               "device")


def _auto_scale_flops(flops):
    """The scale and header (FLOPs, KFLOPs, ...) that fit the smallest flop count."""
    if flops <= 0:
        raise AssertionError(f"Expected flops to be positive, but got {flops}")
    log_flops = max(0, min(math.log10(flops) / 3, float(len(_FLOP_HEADERS) - 1)))
    return pow(10, (math.floor(log_flops) * -3.0)), _FLOP_HEADERS[int(log_flops)]


def _override_time_unit(time_us, default_str, time_unit):
    """A time in the table's fixed unit when one is asked for, else its own format."""
    if time_unit == "s":
        return f"{time_us / (1000.0 * 1000.0):.3f}s"
    if time_unit == "ms":
        return f"{time_us / 1000.0:.3f}ms"
    if time_unit == "us":
        return f"{time_us:.3f}us"
    return default_str


def _trim_path(path, src_column_width):
    """A source location cut from the left to the column's width, marked with '...'."""
    if len(path) > src_column_width:
        path = path[len(path) - src_column_width:]
        if len(path) > 3:
            path = "..." + path[3:]
    return path


class _Columns:
    """The table's row format, separator line and width, built one column at a time."""

    def __init__(self):
        self.row_format, self.header_sep, self.line_length = "", "", -SPACING_SIZE

    def add(self, padding, text_dir=">"):
        """Add a column of that width, right-aligned unless text_dir says '<'."""
        self.row_format += "{: " + text_dir + str(padding) + "}" + (" " * SPACING_SIZE)
        self.header_sep += "-" * padding + (" " * SPACING_SIZE)
        self.line_length += padding + SPACING_SIZE


class _Shown:
    """Which optional columns a table has, and the widths of the sized ones."""

    def __init__(self, events, max_name_column_width, max_shapes_column_width,
                 max_src_column_width, profile_memory, with_flops):
        self.device_time = any(event.self_device_time_total > 0 for event in events)
        self.device_memory = (bool(events[0].use_device) and
                              any(event.self_device_memory_usage > 0 for event in events))
        self.input_shapes = any((event.input_shapes is not None and len(event.input_shapes) > 0)
                                for event in events)
        self.overload_names = any((event.overload_name is not None and
                                   len(event.overload_name) > 0) for event in events)
        self.node_id = any(evt.node_id != -1 for evt in events)  # only with a valid Node ID
        self.memory = profile_memory
        self.name_width = _capped(max(len(evt.key) for evt in events) + 4,
                                  max_name_column_width)
        self.shapes_width = _capped(max(len(str(evt.input_shapes)) for evt in events) + 4,
                                    max_shapes_column_width)
        stacks = [evt.stack for evt in events if evt.stack is not None and len(evt.stack) > 0]
        self.stack = len(stacks) > 0
        self.src_width = None
        if self.stack:
            self.src_width = _capped(max(max(len(entry) for entry in stack)
                                         for stack in stacks) + 4, max_src_column_width)
        raw_flops = [evt.flops for evt in events if evt.flops > 0] if with_flops else []
        self.flops = len(raw_flops) != 0  # (no column without a valid flop count)
        self.flops_scale, self.flops_header = (_auto_scale_flops(min(raw_flops)) if self.flops
                                               else (None, None))


def _capped(width, cap):
    """A column width, at most cap (no cap: None)."""
    return width if cap is None else min(width, cap)


def _headers(shown, use_device):
    """The column titles and the row format of a table."""
    headers = ["Name"]
    if shown.overload_names:
        headers.append("Overload Name")
    headers += ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    device_name = use_device.upper() if use_device is not None else "None"
    if shown.device_time:
        headers.extend([f"Self {device_name}", f"Self {device_name} %", f"{device_name} total",
                        f"{device_name} time avg"])
    if shown.memory:
        headers.extend(["CPU Mem", "Self CPU Mem"])
        if shown.device_memory:
            headers.extend([f"{device_name} Mem", f"Self {device_name} Mem"])
    headers.append("# of Calls")
    if shown.node_id:
        headers.append("Node ID")
    columns = _Columns()
    columns.add(shown.name_width)
    if shown.overload_names:
        columns.add(shown.name_width)
    for _ in headers[1 + shown.overload_names:]:
        columns.add(DEFAULT_COLUMN_WIDTH)
    if shown.input_shapes:
        headers.append("Input Shapes")
        columns.add(shown.shapes_width)
    if shown.stack:
        headers.append("Source Location")
        columns.add(shown.src_width, text_dir="<")
    if shown.flops:
        headers.append(f"Total {shown.flops_header}")
        columns.add(DEFAULT_COLUMN_WIDTH)
    return headers, columns


def _build_table(events, sort_by=None, header=None, row_limit=100, max_src_column_width=75,
                 max_name_column_width=55, max_shapes_column_width=80, with_flops=False,
                 profile_memory=False, top_level_events_only=False, time_unit=None):
    """A summary of events (FunctionEvents or FunctionEventAvgs) as torch's table."""
    if len(events) == 0:
        return ""
    use_device = events[0].use_device
    shown = _Shown(events, max_name_column_width, max_shapes_column_width,
                   max_src_column_width, profile_memory, with_flops)
    if not use_device and shown.device_time:
        raise RuntimeError("use_device is None, but there is device performance data.")
    if sort_by is not None:
        events = sorted(events, key=lambda evt: getattr(evt, _sort_key(sort_by)), reverse=True)
    headers, columns = _headers(shown, use_device)
    sums = _sums(events)
    row_format = columns.row_format
    lines = []
    if header is not None:
        lines += ["=" * columns.line_length, header]
    if top_level_events_only:
        lines += ["=" * columns.line_length, "This report only display top-level ops statistics"]
    lines += [columns.header_sep, row_format.format(*headers), columns.header_sep]
    event_limit = 0
    for evt in events:
        if event_limit == row_limit:
            break
        if top_level_events_only and evt.cpu_parent is not None:
            continue
        event_limit += 1
        lines.append(row_format.format(*_row(evt, shown, max_name_column_width, time_unit,
                                             sums)))
        if shown.stack:
            empty_headers = [""] * (len(headers) - 1)
            for entry in evt.stack[1:]:
                lines.append(row_format.format(
                    *(empty_headers + [_trim_path(entry, shown.src_width)])))
            lines.append(row_format.format(*(empty_headers + [""])))
    lines += [columns.header_sep, "Self CPU time total: " + _override_time_unit(
        sums[0], _format_time(sums[0]), time_unit)]
    if shown.device_time:
        lines.append(f"Self {use_device.upper() if use_device is not None else 'None'} time "
                     f"total: {_override_time_unit(sums[1], _format_time(sums[1]), time_unit)}")
    return "".join(line + "\n" for line in lines)  # (a newline after the last line too)


def _sums(events):
    """The total self CPU time, and the total self device time of the device events."""
    sum_self_cpu_time_total = 0
    sum_self_device_time_total = 0
    for evt in events:
        sum_self_cpu_time_total += evt.self_cpu_time_total
        if evt.device_type == DeviceType.CPU and evt.is_legacy:
            # in legacy profiler, kernel info is stored in cpu events
            sum_self_device_time_total += evt.self_device_time_total
        elif evt.device_type in _DEVICE_EVENT_TYPES and not evt.is_user_annotation:
            sum_self_device_time_total += evt.self_device_time_total
    return sum_self_cpu_time_total, sum_self_device_time_total


def _row(evt, shown, max_name_column_width, time_unit, sums):
    """One event's cells: name, times, memory, calls and the optional columns."""
    name = evt.key
    if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
        name = name[:(max_name_column_width - 3)] + "..."
    evt.self_cpu_percent = _format_time_share(evt.self_cpu_time_total, sums[0])
    evt.total_cpu_percent = (_format_time_share(evt.cpu_time_total, sums[0])
                             if not evt.is_async else 0)
    row_values = [name]
    if shown.overload_names:
        overload_name = evt.overload_name
        if max_name_column_width is not None and \
                len(overload_name) >= max_name_column_width - 3:
            overload_name = overload_name[:(max_name_column_width - 3)] + "..."
        row_values += [overload_name]
    row_values += [
        evt.self_cpu_percent,  # Self CPU total %, 0 for async events.
        _override_time_unit(evt.self_cpu_time_total, evt.self_cpu_time_total_str, time_unit),
        evt.total_cpu_percent,  # CPU total %, 0 for async events.
        _override_time_unit(evt.cpu_time_total, evt.cpu_time_total_str, time_unit),
        _override_time_unit(evt.cpu_time, evt.cpu_time_str, time_unit),  # CPU time avg
    ]
    if shown.device_time:
        evt.total_device_percent = _format_time_share(evt.self_device_time_total, sums[1])
        row_values.extend([
            _override_time_unit(evt.self_device_time_total, evt.self_device_time_total_str,
                                time_unit),
            evt.total_device_percent,  # device time total %
            _override_time_unit(evt.device_time_total, evt.device_time_total_str, time_unit),
            _override_time_unit(evt.device_time, evt.device_time_str, time_unit),
        ])
    if shown.memory:
        row_values.extend([_format_memory(evt.cpu_memory_usage),
                           _format_memory(evt.self_cpu_memory_usage)])
        if shown.device_memory:
            row_values.extend([_format_memory(evt.device_memory_usage),
                               _format_memory(evt.self_device_memory_usage)])
    row_values.append(evt.count)  # Number of calls
    if shown.node_id:
        row_values.append(evt.node_id)
    if shown.input_shapes:
        row_values.append(str(evt.input_shapes)[:shown.shapes_width])
    if shown.flops:
        row_values.append("--" if evt.flops <= 0 else f"{evt.flops * shown.flops_scale:8.3f}")
    if shown.stack:
        row_values.append(_trim_path(evt.stack[0], shown.src_width) if len(evt.stack) > 0
                          else "")
    return row_values
