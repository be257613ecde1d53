"""ember.profiler and ember.autograd.profiler against torch's: the tutorial's program, the
table's layout, event names and counts, nesting, input shapes, memory, traces, schedules.

Timings are never compared as numbers: the tables are compared by their layout (with the name
and shape columns given one width, the header lines are torch's to the character), and a
table of fixed synthetic events is compared whole.
"""

import gzip
import io
import json
import os
import re
import subprocess
import sys
import warnings

import pytest
import torch

import ember
from ember.autograd import engine
from ember.autograd.function import EXPORT_HOOK, VMAP_HOOK
from ember.optim import optimizer as ember_optimizer


def _mlp(lib):
    """The tutorial's Linear-ReLU-Linear model, seeded."""
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(10, 20), lib.nn.ReLU(), lib.nn.Linear(20, 5))


def _profiled(lib, **options):
    """The tutorial's first profile: a Linear-ReLU-Linear model inside a user range."""
    model, inputs = _mlp(lib), lib.randn(4, 10)
    with lib.profiler.profile(activities=[lib.profiler.ProfilerActivity.CPU],
                              **options) as prof:
        with lib.profiler.record_function("model_inference"):
            model(inputs)
    return prof


def _counts(events):
    """Calls per key."""
    return {e.key: e.count for e in events}


# ---- the tutorial -------------------------------------------------------------------------------
def test_the_tutorial_program_runs(tmp_path):
    """The brief's tutorial program, start to end."""
    from ember.profiler import (ProfilerActivity, profile, record_function, schedule,
                                tensorboard_trace_handler)

    model, inputs = _mlp(ember), ember.randn(4, 10)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True, profile_memory=True,
                 with_stack=False) as prof:
        with record_function("model_inference"):
            model(inputs)
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=10)
    assert "model_inference" in table and "aten::addmm" in table
    shapes = prof.key_averages(group_by_input_shape=True).table(sort_by="cpu_time_total",
                                                                row_limit=10)
    assert "Input Shapes" in shapes and "[[4, 10], [20, 10], [20]]" in shapes
    prof.export_chrome_trace(str(tmp_path / "trace.json"))
    assert json.loads((tmp_path / "trace.json").read_text())["traceEvents"]
    handler = tensorboard_trace_handler(str(tmp_path / "log"))
    with profile(activities=[ProfilerActivity.CPU],
                 schedule=schedule(wait=1, warmup=1, active=2, repeat=1),
                 on_trace_ready=handler) as p:
        for _ in range(8):
            model(inputs)
            p.step()
    assert len(os.listdir(tmp_path / "log")) == 1


# ---- the table ----------------------------------------------------------------------------------
def _layout(table):
    """A table's header lines and footer label, and each row's column count."""
    lines = table.splitlines()
    separator = next(line for line in lines if line.startswith("-"))
    at = lines.index(separator)
    footer = lines[-1]
    rows = lines[at + 3:-2]
    return (lines[:at + 3], re.sub(r"[0-9.]+(us|ms|s)$", "<time>", footer),
            {len(re.split(r"\s{2,}", row.strip())) for row in rows})


@pytest.mark.parametrize("options, table_options", [
    ({}, {"sort_by": "cpu_time_total", "row_limit": 10}),
    ({"record_shapes": True, "profile_memory": True}, {"sort_by": "self_cpu_time_total"}),
    ({"profile_memory": True}, {"header": "HEADER", "top_level_events_only": True}),
    ({"record_shapes": True}, {"sort_by": "count", "time_unit": "ms"}),
])
def test_table_layout_is_torchs(options, table_options):
    """Header lines, columns and footer as torch prints them for its own CPU profile (the
    name and shape columns at one width, where torch's longer names would widen them)."""
    widths = {"max_name_column_width": 12, "max_shapes_column_width": 20}
    for group in (False, True):
        tables = [_profiled(lib, **options).key_averages(group_by_input_shape=group).table(
            **table_options, **widths) for lib in (torch, ember)]
        theirs, ours = (_layout(t) for t in tables)
        assert ours == theirs
    assert "CUDA" not in tables[1]
    assert tables[1].endswith("\n") and tables[1].splitlines()[-1].startswith("Self CPU time")


def test_name_column_takes_the_longest_name_plus_four():
    """torch's width rule for the name column."""
    table = _profiled(ember).key_averages().table()
    assert table.splitlines()[0].split("  ")[0] == "-" * (len("model_inference") + 4)


def _synthetic(util):
    """Fixed events in torch's or ember's profiler_util: a tree with stacks, shapes, memory,
    flops, times from microseconds to seconds."""
    spec = [(1, "outer", 0.0, 2_500_000.0, [], 0, ["a.py(1): <module>"], 0),
            (2, "aten::linear", 10.0, 6000.5, [[4, 10], [20, 10], [20]], 320,
             ["nn/linear.py(125): forward", "a.py(3): f"], 0),
            (3, "aten::addmm", 20.0, 5990.25, [[20], [4, 10], [10, 20]], 320, ["x.py(9): g"],
             1600),
            (4, "aten::relu", 7000.0, 7012.125, [[4, 20]], 320, [], 0),
            (5, "aten::linear", 8000.0, 9000.0, [[4, 20], [5, 20], [5]], 80,
             ["nn/linear.py(125): forward"], 0),
            (6, "aten::addmm", 8001.0, 8999.0, [[5], [4, 20], [20, 5]], 80, ["x.py(9): g"], 800),
            (7, "a_rather_long_user_range_name_that_will_not_fit_in_any_column", 10_000.0,
             11_000.0, [], -64, [], 0)]
    events = util.EventList(
        [util.FunctionEvent(id=i, name=name, thread=1, start_us=start, end_us=end,
                            input_shapes=shapes, cpu_memory_usage=memory, stack=stack,
                            flops=flops, overload_name="", sequence_nr=-1, fwd_thread=1)
         for i, name, start, end, shapes, memory, stack, flops in spec],
        profile_memory=True, with_flops=True)
    events._build_tree()
    return events


@pytest.mark.parametrize("options", [
    {}, {"sort_by": "cpu_time_total", "row_limit": 3}, {"sort_by": "self_cpu_memory_usage"},
    {"header": "A header", "top_level_events_only": True}, {"time_unit": "s"},
    {"time_unit": "us", "max_name_column_width": 20}, {"max_src_column_width": 12},
])
def test_tables_of_the_same_events_are_torchs(options):
    """The port itself: the same events give torch's table to the character."""
    from torch.autograd import profiler_util as theirs

    from ember.autograd import profiler_util as ours

    for make in (lambda u: _synthetic(u), lambda u: _synthetic(u).key_averages(),
                 lambda u: _synthetic(u).key_averages(group_by_input_shapes=True),
                 lambda u: _synthetic(u).key_averages(group_by_stack_n=1)):
        assert make(ours).table(**options) == make(theirs).table(**options)
    assert repr(_synthetic(ours).total_average()) == repr(_synthetic(theirs).total_average())
    assert [repr(e) for e in _synthetic(ours).key_averages()] == \
        [repr(e) for e in _synthetic(theirs).key_averages()]


@pytest.mark.parametrize("value", [0, 0.5, 999.999, 1000.0, 123456.789, 1e6, 3.7e7])
def test_formats_are_torchs(value):
    """Time, share and memory formats against torch's functions."""
    from torch.autograd import profiler_util as theirs

    from ember.autograd import profiler_util as ours

    assert ours._format_time(value) == theirs._format_time(value)
    assert ours._format_time_share(value, 3.7e7) == theirs._format_time_share(value, 3.7e7)
    for nbytes in (int(value), -int(value), int(value) * 1024):
        assert ours._format_memory(nbytes) == theirs._format_memory(nbytes)


# ---- what is recorded ---------------------------------------------------------------------------
def test_linear_relu_names_and_counts_agree_with_torch():
    """ember records torch's top-level ops and kernels with torch's counts; torch's view and
    copy helpers inside linear/addmm and relu's clamp_min kernel have no ember op."""
    ours = _counts(_profiled(ember).key_averages())
    theirs = _counts(_profiled(torch).key_averages())
    assert ours == {"model_inference": 1, "aten::linear": 2, "aten::addmm": 2, "aten::relu": 1}
    assert all(theirs[name] == count for name, count in ours.items())
    assert set(theirs) - set(ours) <= {"aten::t", "aten::transpose", "aten::as_strided",
                                       "aten::expand", "aten::copy_", "aten::resolve_conj",
                                       "aten::clamp_min"}


def _tree(prof):
    """(event, parent) name pairs of a profile."""
    return {(e.name, e.cpu_parent.name if e.cpu_parent else None) for e in prof.events()}


def test_composite_layers_nest_as_torchs():
    """conv2d > convolution, batch_norm > native_batch_norm, max_pool2d > its kernel,
    adaptive_avg_pool2d > mean, softmax > _softmax: each of ember's (op, parent) pairs is an
    (op, ancestor) pair of torch's profile."""
    def run(lib):
        nn = lib.nn
        lib.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                              nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4),
                              nn.Softmax(-1)).eval()
        x = lib.randn(2, 3, 16, 16)
        with lib.no_grad(), lib.profiler.profile() as prof:
            model(x)
        return prof

    ours, theirs = run(ember), run(torch)
    ancestors = set()
    for e in theirs.events():
        parent = e.cpu_parent
        while parent is not None:
            ancestors.add((e.name, parent.name))
            parent = parent.cpu_parent
    nested = {pair for pair in _tree(ours) if pair[1] is not None}
    assert ("aten::convolution", "aten::conv2d") in nested
    assert ("aten::native_batch_norm", "aten::batch_norm") in nested
    assert ("aten::_softmax", "aten::softmax") in nested
    assert nested <= ancestors
    top = {name for name, parent in _tree(ours) if parent is None}
    assert top - {"aten::view"} <= {name for name, parent in _tree(theirs) if parent is None}
    assert ("aten::view", "aten::flatten") in ancestors  # ember's Flatten is its view alone


def test_backward_nodes_and_optimizer_steps_are_recorded():
    """torch's evaluate_function/node pairs and the optimizer's step range; ember's linear
    makes no TBackward0 node (its weight is not transposed by an op of its own)."""
    def run(lib):
        model = _mlp(lib)
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        with lib.profiler.profile() as prof:
            model(lib.randn(4, 10)).sum().backward()
            opt.step()
        return _counts(prof.key_averages())

    ours, theirs = run(ember), run(torch)
    evaluations = {name: count for name, count in ours.items() if "evaluate_function" in name}
    assert evaluations == {
        "autograd::engine::evaluate_function: SumBackward0": 1,
        "autograd::engine::evaluate_function: AddmmBackward0": 2,
        "autograd::engine::evaluate_function: ReluBackward0": 1,
        "autograd::engine::evaluate_function: torch::autograd::AccumulateGrad": 4}
    for name, count in evaluations.items():
        assert theirs[name] == count
        node = name.split(": ")[1]
        assert ours[node] == theirs[node] == count
    assert ours["Optimizer.step#SGD.step"] == theirs["Optimizer.step#SGD.step"] == 1
    assert ours["aten::threshold_backward"] == theirs["aten::threshold_backward"] == 1


def test_nesting_and_self_times():
    """A user range holds its ops; self times add up to the total."""
    prof = _profiled(ember)
    events = prof.events()
    (user,) = [e for e in events if e.name == "model_inference"]
    assert user.cpu_parent is None and user.is_user_annotation and user.scope == 7
    assert user.cpu_time_total >= sum(c.cpu_time_total for c in user.cpu_children)
    assert {c.name for c in user.cpu_children} == {"aten::linear", "aten::relu"}
    for e in events:
        assert e.self_cpu_time_total >= 0
        assert e.self_cpu_time_total == pytest.approx(
            e.cpu_time_total - sum(c.cpu_time_total for c in e.cpu_children))
        if e.name == "aten::addmm":
            assert e.cpu_parent.name == "aten::linear"
    assert sum(e.self_cpu_time_total for e in events) == pytest.approx(user.cpu_time_total)
    assert prof.key_averages().self_cpu_time_total == pytest.approx(user.cpu_time_total)
    total = prof.key_averages().total_average()
    assert total.key == "Total" and total.count == len(events)
    averages = {e.key: e for e in prof.key_averages()}
    assert averages["aten::linear"].cpu_time == pytest.approx(
        averages["aten::linear"].cpu_time_total / 2)


def test_group_by_input_shape_splits_by_shapes():
    """One row per (name, input shapes) when grouping by shapes."""
    model = ember.nn.Linear(3, 2)
    with ember.profiler.profile(record_shapes=True) as prof:
        model(ember.randn(4, 3))
        model(ember.randn(5, 3))
        model(ember.randn(5, 3))
    rows = [(e.key, e.input_shapes, e.count)
            for e in prof.key_averages(group_by_input_shape=True) if e.key == "aten::linear"]
    assert sorted(rows) == [("aten::linear", [[4, 3], [2, 3], [2]], 1),
                            ("aten::linear", [[5, 3], [2, 3], [2]], 2)]
    assert _counts(prof.key_averages())["aten::linear"] == 3
    (event, *_) = [e for e in prof.events() if e.name == "aten::linear"]
    assert event.input_dtypes == ["float", "float", "float"]


def test_memory_is_the_bytes_an_op_allocated():
    """Views cost nothing, outputs their bytes, a parent its children's."""
    x = ember.randn(8, 8)
    model = _mlp(ember)
    with ember.profiler.profile(profile_memory=True) as prof:
        x.view(64)
        x.t()
        x.relu()
        with ember.profiler.record_function("inference"):
            model(ember.randn(4, 10))
    memory = [(e.name, e.cpu_memory_usage, e.self_cpu_memory_usage) for e in prof.events()]
    assert memory[:3] == [("aten::view", 0, 0), ("aten::t", 0, 0), ("aten::relu", 256, 256)]
    assert ("aten::linear", 320, 0) in memory and ("aten::addmm", 320, 320) in memory
    assert ("inference", 720, 0) in memory
    assert "Self CPU Mem" in prof.key_averages().table()


def test_flops_are_torchs():
    """with_flops counts what torch counts, on the events torch puts them on."""
    def run(lib):
        model, x = _mlp(lib), lib.randn(4, 10)
        conv = lib.nn.Conv2d(3, 4, 3)
        with lib.profiler.profile(with_flops=True) as prof:
            model(x)
            x * x
            conv(lib.randn(1, 3, 8, 8))
            lib.bmm(lib.randn(2, 3, 4), lib.randn(2, 4, 5))
        return sorted((e.name, e.flops) for e in prof.events() if e.flops)

    assert run(ember) == run(torch)


def test_stacks_name_the_python_lines():
    """with_stack: the Python frames, innermost first, without ember's plumbing."""
    model = _mlp(ember)
    with ember.profiler.profile(with_stack=True) as prof:
        model(ember.randn(4, 10))
    (addmm, *_) = [e for e in prof.events() if e.name == "aten::addmm"]
    assert addmm.stack[0].startswith(os.path.join("ember", "nn", "modules", "linear.py"))
    assert any("test_profiler.py" in entry and "test_stacks" in entry for entry in addmm.stack)
    assert "Source Location" in prof.key_averages(group_by_stack_n=2).table()


# ---- traces -------------------------------------------------------------------------------------
def test_export_chrome_trace_writes_kinetos_json(tmp_path):
    """The trace loads as JSON with the X events' fields (and gzipped)."""
    prof = _profiled(ember, record_shapes=True)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    assert trace["schemaVersion"] == 1 and trace["record_shapes"] == 1
    ops = [e for e in trace["traceEvents"] if e["ph"] == "X" and e.get("cat") == "cpu_op"]
    assert [e["name"] for e in ops] == [e.name for e in prof.events() if e.scope == 0]
    for event in ops:
        assert {"name", "ph", "ts", "dur", "pid", "tid", "args"} <= set(event)
        assert event["dur"] >= 0 and "Input Dims" in event["args"]
    (linear, *_) = ops
    assert linear["args"]["Input Dims"] == [[4, 10], [20, 10], [20]]
    (user,) = [e for e in trace["traceEvents"] if e.get("cat") == "user_annotation"]
    assert user["ts"] <= linear["ts"] and user["ts"] + user["dur"] >= linear["ts"]
    assert user["dur"] == pytest.approx(prof.events()[0].cpu_time_total, abs=2e-3)
    prof.export_chrome_trace(str(tmp_path / "trace.json.gz"))
    with gzip.open(tmp_path / "trace.json.gz") as f:
        assert json.load(f)["traceEvents"]
    prof.events().export_chrome_trace(str(tmp_path / "list.json"))  # EventList's own format
    assert {e["name"] for e in json.loads((tmp_path / "list.json").read_text())} == \
        {"model_inference", "aten::linear", "aten::addmm", "aten::relu"}


def test_tensorboard_trace_handler_writes_a_trace(tmp_path):
    """<worker>.<ns>.pt.trace.json[.gz] in the directory."""
    for gz in (False, True):
        handler = ember.profiler.tensorboard_trace_handler(str(tmp_path / str(gz)), "worker",
                                                           use_gzip=gz)
        with ember.profiler.profile(on_trace_ready=handler):
            ember.relu(ember.randn(3))
        (name,) = os.listdir(tmp_path / str(gz))
        assert re.fullmatch(r"worker\.\d+\.pt\.trace\.json" + (r"\.gz" if gz else ""), name)
        opener = gzip.open if gz else open
        with opener(tmp_path / str(gz) / name) as f:
            assert "aten::relu" in {e["name"] for e in json.load(f)["traceEvents"]}


# ---- schedules ----------------------------------------------------------------------------------
SCHEDULES = [dict(wait=1, warmup=1, active=2, repeat=1), dict(wait=1, warmup=1, active=2),
             dict(wait=0, warmup=0, active=1), dict(wait=2, warmup=1, active=3, repeat=2,
                                                    skip_first=1),
             dict(wait=5, warmup=1, active=2, skip_first=3, skip_first_wait=1)]


@pytest.mark.parametrize("arguments", SCHEDULES)
def test_schedule_actions_are_torchs(arguments):
    """schedule(...)(step) for steps 0..20 equals torch's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = (lib.profiler.schedule(**arguments) for lib in (ember, torch))
    assert [ours(step).name for step in range(21)] == [theirs(step).name for step in range(21)]


@pytest.mark.parametrize("arguments", SCHEDULES)
def test_on_trace_ready_runs_at_torchs_steps_with_torchs_events(arguments):
    """The cycles: when on_trace_ready runs and which steps it sees."""
    def run(lib):
        calls = []

        def ready(p):
            steps = {e.trace_name for e in p.events() if e.name == "ProfilerStep*"}
            relus = sum(e.name == "aten::relu" for e in p.events())
            calls.append((p.step_num, sorted(steps), relus))

        x = lib.randn(3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.profiler.profile(schedule=lib.profiler.schedule(**arguments),
                                      on_trace_ready=ready) as p:
                for _ in range(10):
                    lib.relu(x)
                    p.step()
        return calls

    assert run(ember) == run(torch)


def test_schedule_warnings_and_refusals():
    """torch's warnings and errors for schedules and activities."""
    with pytest.warns(UserWarning, match="Profiler won't be using warmup"):
        ember.profiler.schedule(wait=0, warmup=0, active=1)
    with pytest.raises(AssertionError, match="Invalid profiler schedule arguments"):
        ember.profiler.schedule(wait=0, warmup=1, active=0)
    with pytest.raises(ValueError, match="DEVICE_STOPPED"):
        ember.profiler.profile(schedule=lambda step: ember.profiler.ProfilerAction.DEVICE_STOPPED)
    with pytest.warns(UserWarning, match="CUDA is not available, disabling CUDA profiling"):
        with ember.profiler.profile(activities=[ember.profiler.ProfilerActivity.CPU,
                                                ember.profiler.ProfilerActivity.CUDA]) as prof:
            ember.relu(ember.randn(2))
    assert "CUDA" not in prof.key_averages().table()
    with pytest.raises(AssertionError, match="No valid profiler activities found"):
        ember.profiler.profile(activities=[])


@pytest.mark.parametrize("acc_events", [False, True])
def test_acc_events_keeps_the_cycles_as_torchs(acc_events):
    """Each cycle's events alone, or all cycles' so far with acc_events."""
    def run(lib):
        seen, x = [], lib.randn(3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.profiler.profile(
                    schedule=lib.profiler.schedule(wait=0, warmup=1, active=1),
                    on_trace_ready=lambda p: seen.append(_counts(p.key_averages())),
                    acc_events=acc_events) as p:
                for _ in range(6):
                    lib.relu(x)
                    p.step()
        return [counts["aten::relu"] for counts in seen]

    assert run(ember) == run(torch) == ([1, 2, 3] if acc_events else [1, 1, 1])


def test_ops_inside_an_op_nest_in_it():
    """A Function's forward calls ops: they are recorded inside its event (the hook is back
    on while the forward runs)."""
    class Scaled(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.exp() * 2

        @staticmethod
        def backward(ctx, g):
            return g

    with ember.profiler.profile() as prof:
        Scaled.apply(ember.randn(3))
    assert sorted(_tree(prof)) == [("Scaled", None), ("aten::exp", "Scaled"),
                                   ("aten::mul", "Scaled")]

# ---- on and off ---------------------------------------------------------------------------------
def test_nothing_is_installed_when_not_profiling():
    """The hooks are in place only while a profile records."""
    run_node, pre = engine._run_node, list(ember_optimizer._global_step_pre_hooks)
    with ember.profiler.record_function("no profiler"):  # costs nothing, records nothing
        ember.relu(ember.randn(2))
    assert EXPORT_HOOK[0] is None and VMAP_HOOK[0] is None
    with ember.profiler.profile():
        assert EXPORT_HOOK[0] is not None and engine._run_node is not run_node
        assert len(ember_optimizer._global_step_pre_hooks) == len(pre) + 1
        ember.relu(ember.randn(2))
    assert EXPORT_HOOK[0] is None and VMAP_HOOK[0] is None and engine._run_node is run_node
    assert ember_optimizer._global_step_pre_hooks == pre
    with pytest.raises(ZeroDivisionError):
        with ember.profiler.profile():
            1 / 0
    assert EXPORT_HOOK[0] is None and engine._run_node is run_node


def test_profilers_do_not_nest_and_an_export_hook_is_refused():
    """A second profiler, or another op hook, is refused clearly."""
    with ember.profiler.profile():
        with pytest.raises(RuntimeError, match="already recording"):
            with ember.profiler.profile():
                pass
    EXPORT_HOOK[0] = lambda cls, args, kwargs: None
    try:
        with pytest.raises(RuntimeError, match="ONNX export or a jit.trace"):
            with ember.profiler.profile():
                pass
    finally:
        EXPORT_HOOK[0] = None


def test_onnx_export_works_after_and_during_profiling():
    """Export after a profile works; one during it warns that the hook was taken."""
    model, x = _mlp(ember), ember.randn(4, 10)
    with ember.profiler.profile():
        model(x)
    out = io.BytesIO()
    ember.onnx.export(model, (x,), out)
    assert len(out.getvalue()) > 0
    with pytest.warns(UserWarning, match="op hook was replaced"):
        with ember.profiler.profile() as prof:
            model(x)
            ember.onnx.export(model, (x,), io.BytesIO())
    assert _counts(prof.key_averages())["aten::linear"] == 2
    assert EXPORT_HOOK[0] is None


def test_toggle_collection_pauses_recording():
    """toggle_collection_dynamic(False) stops recording ops until resumed."""
    x = ember.randn(3)
    with ember.profiler.profile() as prof:
        ember.relu(x)
        prof.toggle_collection_dynamic(False, [ember.profiler.ProfilerActivity.CPU])
        ember.relu(x)
        assert EXPORT_HOOK[0] is None
        prof.toggle_collection_dynamic(True, [ember.profiler.ProfilerActivity.CPU])
        ember.relu(x)
    assert _counts(prof.key_averages()) == {"aten::relu": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (exiting while paused is no replaced hook)
        with ember.profiler.profile() as prof:
            prof.toggle_collection_dynamic(False, [ember.profiler.ProfilerActivity.CPU])
            ember.relu(x)
    assert len(prof.events()) == 0 and EXPORT_HOOK[0] is None


# ---- the legacy profiler and the namespaces -----------------------------------------------------
def test_autograd_profiler_profile_and_record_function():
    """The legacy API: profile, record_function (also as a decorator), backward."""
    x = ember.randn(2, 3, requires_grad=True)

    @ember.autograd.profiler.record_function("decorated")
    def square(t):
        return t * t

    with ember.autograd.profiler.profile(record_shapes=True) as prof:
        with ember.autograd.profiler.record_function("label-z"):
            y = square(x).sum()
        y.backward()
    names = [e.name for e in prof.function_events]
    assert names[:4] == ["label-z", "decorated", "aten::mul", "aten::sum"]
    assert "autograd::engine::evaluate_function: MulBackward0" in names
    assert str(prof) == prof.function_events.table()
    assert prof.self_cpu_time_total == pytest.approx(prof.function_events.self_cpu_time_total)
    assert "Input Shapes" in prof.table()


def test_public_names_are_torchs():
    """torch.profiler's names, less the documented absent ones."""
    assert set(torch.profiler.__all__) - set(dir(ember.profiler)) == {"ExecutionTraceObserver"}
    assert set(torch.autograd.profiler.__all__) - set(dir(ember.autograd.profiler)) == {
        "emit_itt", "emit_nvtx", "load_nvprof", "EnforceUnique", "parse_nvprof_trace"}
    for name in ("profile", "record_function", "ProfilerActivity", "ProfilerAction",
                 "schedule", "tensorboard_trace_handler", "supported_activities",
                 "_KinetoProfile", "DeviceType", "RecordScope", "kineto_available"):
        assert hasattr(ember.profiler, name)
    for name in ("profile", "record_function", "EventList", "FunctionEvent", "MemRecordsAcc",
                 "KinetoStepTracker"):
        assert hasattr(ember.autograd.profiler, name)
    assert [a.name for a in ember.profiler.ProfilerActivity] == \
        [a.name for a in torch.profiler.ProfilerActivity.__members__.values()]
    assert ember.profiler.supported_activities() == {ember.profiler.ProfilerActivity.CPU}
    assert [a.name for a in ember.profiler.ProfilerAction] == \
        [a.name for a in torch.profiler.ProfilerAction]


def test_import_ember_loads_no_profiler_module():
    """Both namespaces load on first use (`import ember` stays fast), then stay bound."""
    code = ("import sys, ember; before = [m for m in sys.modules if 'profil' in m]; "
            "ember.autograd.profiler.record_function, ember.profiler.profile; "
            "print(before, ember.autograd.profiler_util.EventList.__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "EventList"]
