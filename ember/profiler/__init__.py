"""The profiler (matches `torch.profiler`): what ember's ops cost, on the CPU.

`profile` records every op call, `record_function` range, backward node and optimizer step
while it runs (ember/autograd/_profiler_record.py), then prints torch's tables
(`prof.key_averages().table(...)`) and writes Chrome / TensorBoard traces. Schedules
(`schedule`, `step()`, `on_trace_ready`) work as torch's. Only ProfilerActivity.CPU is
recorded: asking for CUDA/XPU warns as torch does without the device. Kineto's device
collection, ITT, the execution trace observer and the memory timeline are not there.
"""

from ember.autograd.profiler import (KinetoStepTracker, ProfilerActivity, RecordScope,
                                     kineto_available, record_function)
from ember.autograd.profiler import _supported_activities  # noqa: F401
from ember.autograd.profiler_util import DeviceType
from ember.profiler.profiler import _KinetoProfile  # noqa: F401
from ember.profiler.profiler import (ProfilerAction, profile, schedule, supported_activities,
                                     tensorboard_trace_handler)

__all__ = ["profile", "schedule", "supported_activities", "tensorboard_trace_handler",
           "ProfilerAction", "ProfilerActivity", "kineto_available", "DeviceType",
           "record_function", "KinetoStepTracker", "RecordScope"]
