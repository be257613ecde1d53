"""The profiler's recorder: times every op call, user range and backward node while profiling.

NOTE [How the profiler sees ops]
Every ember op runs through `Function.apply`, which hands the call to `EXPORT_HOOK[0]` when it
is set (NOTE [The export hook] in ember/autograd/function.py; the ops' array fast paths take
`apply` too while it is set, `unrecorded()`). While a profile records, the hook is a `Recorder`:
it notes the op's name and inputs, then runs the op through `apply` with the hook off, as
ONNX export's recorder does. Ops that an op calls inside its forward must be recorded too,
nested in it, so the hook is switched back on the moment `apply` has passed its hook check:
`apply` next asks `VMAP_HOOK[0]` (vmap's dispatch), and the recorder puts a one-shot `_Rearm`
there that restores both slots (and defers to vmap's dispatch when one was set). An op whose
`apply` never reaches that point gets its slots restored when it returns. When no profile
records, neither slot is touched: the hot path is as before.

NOTE [Two events for a composite]
An op that stands for one of torch's composite functions (`Linear`: `aten::linear` over
`aten::addmm`, NOTE [Profiler names of ember ops]) is recorded as two events: the function
from the hook's call to the op's return, and the kernel from the moment `apply` passes its
hook check (when `_Rearm` runs) to the same return. The function's self time is then the
call's dispatch (the argument scan, the node), the kernel's the computation.

NOTE [Backward nodes and optimizer steps]
The engine runs each node through `engine._run_node`; while a profile records, that module
attribute is a wrapper recording torch's two events per node: `autograd::engine::
evaluate_function: <node>` and `<node>` (scope BACKWARD_FUNCTION, with the sequence number of
the forward op that made the node). Global optimizer step hooks record `Optimizer.step#<class>
.step` ranges. Both are put back when recording stops.

profile_memory: an op's memory is the bytes of the output arrays it allocated (an output that
is an input, a view of one, or already counted for an op it called counts nothing); an event's
cpu_memory_usage adds those of the ops inside it, as torch's does. Frees are not recorded.
"""

import os
import sys
import threading

from ember._warnings import warn as _warn
import weakref
from time import perf_counter_ns

from ember._backend import is_array
from ember._tensor import Tensor
from ember.autograd import engine
from ember.autograd._profiler_names import FLOPS_ON_CALLED, flops, names
from ember.autograd.function import EXPORT_HOOK, VMAP_HOOK

ACTIVE = [None]  # the Recorder of the profile recording now, if any
FUNCTION_SCOPE, BACKWARD_SCOPE, USER_SCOPE = 0, 1, 7  # torch's RecordScope values

_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
               "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
               "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
               "bool": "bool", "complex64": "c10::complex<float>",
               "complex128": "c10::complex<double>"}
_PACKAGE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# ember's op plumbing, left out of recorded stacks: torch's has no Python frames there
_HIDDEN = tuple(os.path.join(_PACKAGE, "ember", part)
                for part in ("autograd" + os.sep, "ops" + os.sep, "profiler" + os.sep, "_"))


class Range:
    """One recorded event: a name, a [start, end) in ns, its thread and what it recorded."""

    __slots__ = ("name", "scope", "tid", "start", "end", "parent", "shapes", "structured",
                 "dtypes", "concrete", "stack", "memory", "own_memory", "counted", "flops",
                 "sequence_nr")

    def __init__(self, name, scope, parent):
        self.name, self.scope, self.parent = name, scope, parent
        self.tid = threading.get_native_id()
        self.end = None
        self.shapes = self.structured = self.dtypes = self.concrete = self.stack = None
        self.memory = self.own_memory = self.flops = 0
        self.counted = None
        self.sequence_nr = -1


class Recorder:
    """The op hook of a running profile and the events it has recorded (NOTE [How the
    profiler sees ops])."""

    def __init__(self, record_shapes=False, profile_memory=False, with_stack=False,
                 with_flops=False):
        self.record_shapes = record_shapes or with_flops
        self.profile_memory, self.with_stack, self.with_flops = (profile_memory, with_stack,
                                                                 with_flops)
        self.ranges = []  # in the order they began
        self.start_ns = self.end_ns = None
        self._local = threading.local()
        self._stacks = []  # every thread's stack of open ranges
        self._sequence = 0
        self._node_sequence = weakref.WeakKeyDictionary()  # node -> its forward op's number
        self._run_node = None
        self._installed = False
        self._step_hooks = ()
        self._steps = {}  # id(optimizer) -> its open step range

    # ---- ranges ---------------------------------------------------------------------------
    def _open(self):
        """This thread's stack of open ranges."""
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
            self._stacks.append(stack)
        return stack

    def begin(self, name, scope=FUNCTION_SCOPE, args=None) -> Range:
        """Open a range on this thread (timed from the end of this call)."""
        stack = self._open()
        r = Range(name, scope, stack[-1] if stack else None)
        if args is not None and self.record_shapes:
            _describe_inputs(r, args)
        if self.with_stack:
            r.stack = _python_stack()
        if self.profile_memory:
            r.counted = {}
        stack.append(r)
        self.ranges.append(r)
        r.start = perf_counter_ns()
        return r

    def end(self, r, now=None, result=None, args=None):
        """Close r (and any range left open inside it) at `now`; count its memory."""
        now = perf_counter_ns() if now is None else now
        if r.end is not None:
            return  # closed already (left open when recording stopped)
        stack = self._open()
        if r not in stack:
            r.end = now
            return
        while stack:
            top = stack.pop()
            top.end = now
            if top is r:
                break
            self._close_memory(top)
        if self.profile_memory and result is not None:
            r.own_memory = _fresh_bytes(result, args or (), r.counted)
            r.memory += r.own_memory
        self._close_memory(r)

    def _close_memory(self, r):
        """Pass a closed range's memory (and the buffers it counted) to its parent."""
        parent = r.parent
        if parent is not None and parent.end is None and r.counted is not None:
            parent.memory += r.memory
            parent.counted.update(r.counted)
        r.counted = None

    # ---- the op hook ----------------------------------------------------------------------
    def __call__(self, cls, args, kwargs):
        """Function.apply's hook: record one op call and the op calls inside it."""
        outer, kernel = names(cls, args)
        first = self.begin(outer or kernel, FUNCTION_SCOPE, args)
        rearm = _Rearm(self, kernel if outer is not None else None, args)
        EXPORT_HOOK[0], VMAP_HOOK[0] = None, rearm
        result = None
        try:
            result = cls.apply(*args, **kwargs)
            return result
        finally:
            now = perf_counter_ns()
            if VMAP_HOOK[0] is rearm:  # apply never asked for it: put both slots back
                EXPORT_HOOK[0], VMAP_HOOK[0] = self, rearm.previous
            inner = rearm.inner or first
            if result is not None:
                self._after_op(cls, args, result, first, inner)
            if rearm.inner is not None:
                self.end(rearm.inner, now, result, args)
            self.end(first, now, result, args)

    def _after_op(self, cls, args, result, first, inner):
        """Number the node the op made (for its backward's event) and count its flops."""
        out = result[0] if type(result) is tuple and result else result
        node = getattr(out, "grad_fn", None) if isinstance(out, Tensor) else None
        if node is not None and type(node) is cls._backward_cls:
            first.sequence_nr = inner.sequence_nr = self._sequence
            self._node_sequence[node] = self._sequence
            self._sequence += 1
        if self.with_flops:
            (first if cls.__name__ in FLOPS_ON_CALLED else inner).flops = flops(cls, args, result)

    def _evaluate_node(self, node, *rest):
        """engine._run_node while recording: torch's two events around one node's backward
        (NOTE [Backward nodes and optimizer steps])."""
        name = node.name()
        outer = self.begin("autograd::engine::evaluate_function: " + name)
        inner = self.begin(name, BACKWARD_SCOPE)
        inner.sequence_nr = outer.sequence_nr = self._node_sequence.get(node, -1)
        try:
            return self._run_node(node, *rest)
        finally:
            now = perf_counter_ns()
            self.end(inner, now)
            self.end(outer, now)

    def _step_begins(self, optimizer, args, kwargs):
        """The optimizer step pre-hook: open the step's range."""
        name = type(optimizer).__name__
        self._steps[id(optimizer)] = self.begin(f"Optimizer.step#{name}.step", USER_SCOPE)

    def _step_ends(self, optimizer, args, kwargs):
        """The optimizer step post-hook: close the step's range."""
        r = self._steps.pop(id(optimizer), None)
        if r is not None:
            self.end(r)

    # ---- on and off -----------------------------------------------------------------------
    def install(self):
        """Start recording: the op hook, the engine's node wrapper, the optimizer hooks."""
        if ACTIVE[0] is not None and ACTIVE[0] is not self:
            raise RuntimeError("ember.profiler: another profiler is already recording; "
                               "profilers cannot be nested")
        if EXPORT_HOOK[0] is not None and EXPORT_HOOK[0] is not self:
            raise RuntimeError(
                "ember.profiler: cannot record while another recorder holds the op hook (an "
                "ONNX export or a jit.trace is running): profile outside of it")
        if self.start_ns is None:
            self.start_ns = perf_counter_ns()
        if self._installed:
            return
        self._installed = True
        EXPORT_HOOK[0], ACTIVE[0] = self, self
        self._run_node, engine._run_node = engine._run_node, self._evaluate_node
        optimizer = sys.modules.get("ember.optim.optimizer")
        if optimizer is not None:
            self._step_hooks = (optimizer.register_optimizer_step_pre_hook(self._step_begins),
                                optimizer.register_optimizer_step_post_hook(self._step_ends))

    def uninstall(self, final=True):
        """Stop (final) or pause recording; a final stop also closes the ranges still open."""
        if self._installed:
            self._installed = False
            self._remove_hooks()
        if final:
            self.end_ns = perf_counter_ns()
            for stack in self._stacks:
                while stack:
                    r = stack.pop()
                    r.end = self.end_ns


    def _remove_hooks(self):
        """Put back what install() replaced (an op hook another recorder took stays)."""
        if EXPORT_HOOK[0] is self:
            EXPORT_HOOK[0] = None
        else:
            _warn("ember.profiler: the op hook was replaced while profiling (by an ONNX "
                          "export?); the ops run after that were not recorded", stacklevel=4)
        if ACTIVE[0] is self:
            ACTIVE[0] = None
        if engine._run_node == self._evaluate_node:
            engine._run_node = self._run_node
        for handle in self._step_hooks:
            handle.remove()
        self._step_hooks = ()


class _Rearm:
    """A one-shot VMAP_HOOK: puts the op hook back once apply is past its hook check (NOTE
    [How the profiler sees ops]) and opens the kernel's event (NOTE [Two events for a
    composite])."""

    __slots__ = ("recorder", "kernel", "args", "previous", "inner")

    def __init__(self, recorder, kernel, args):
        self.recorder, self.kernel, self.args = recorder, kernel, args
        self.previous, self.inner = VMAP_HOOK[0], None

    def __call__(self, cls, args, kwargs):
        EXPORT_HOOK[0], VMAP_HOOK[0] = self.recorder, self.previous
        if self.kernel is not None:
            self.inner = self.recorder.begin(self.kernel, FUNCTION_SCOPE, self.args)
        return NotImplemented if self.previous is None else self.previous(cls, args, kwargs)


def _describe_inputs(r, args):
    """Input shapes, structured shapes, type names and concrete values, as torch records."""
    shapes, structured, dtypes, concrete = [], [], [], []
    for a in args:
        if isinstance(a, Tensor) or is_array(a):
            shape = list(a.shape)
            shapes.append(shape)
            structured.append(shape)
            dtypes.append(_TYPE_NAMES.get(a.dtype.name, a.dtype.name))
            concrete.append(None)
            continue
        shapes.append([])
        if isinstance(a, (list, tuple)) and a and all(isinstance(t, Tensor) for t in a):
            structured.append([list(t.shape) for t in a])
            dtypes.append("TensorList")
            concrete.append(None)
            continue
        structured.append([])
        if isinstance(a, (bool, int, float, complex)):
            dtypes.append("Scalar")
            concrete.append(a)
        elif isinstance(a, (list, tuple)) and all(isinstance(v, (bool, int, float)) for v in a):
            dtypes.append("ScalarList")
            concrete.append(list(a))
        else:
            dtypes.append("")
            concrete.append(None)
    r.shapes, r.structured, r.dtypes, r.concrete = shapes, structured, dtypes, concrete


def _arrays(value):
    """The arrays in an op's arguments or result (tensors' arrays, in tuples and lists)."""
    if isinstance(value, Tensor):
        data = getattr(value, "_data", None)
        return [data] if is_array(data) else []
    if isinstance(value, (tuple, list)):
        return [a for item in value for a in _arrays(item)]
    return [value] if is_array(value) and hasattr(value, "nbytes") else []


def _root(array):
    """The array that owns an array's memory (a view's base, followed to the end)."""
    base = getattr(array, "base", None)
    while base is not None and is_array(base):
        array, base = base, getattr(base, "base", None)
    return array


def _fresh_bytes(result, args, counted) -> int:
    """The bytes of the output buffers an op allocated: neither an input's (a view, an
    in-place result) nor counted already by an op it called."""
    inputs = {id(_root(a)) for a in _arrays(args)}
    total = 0
    for a in _arrays(result):
        root = _root(a)
        key = id(root)
        if key in inputs:
            continue
        seen = counted.get(key, False)
        if seen is not False and (seen is None or seen() is root):
            continue
        try:
            counted[key] = weakref.ref(root)
        except TypeError:  # (an array type without weak references: matched by id alone)
            counted[key] = None
        total += int(root.nbytes)
    return total


_SHORT_PATHS = {}


def _python_stack() -> list:
    """The Python frames of the caller, innermost first, as torch writes them ("file.py(12):
    forward"), without ember's op and profiler internals."""
    entries = []
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        short = _SHORT_PATHS.get(path)
        if short is None:
            short = _SHORT_PATHS[path] = ("" if path.startswith(_HIDDEN) else
                                          os.path.relpath(path, _PACKAGE)
                                          if path.startswith(_PACKAGE + os.sep) else path)
        if short:
            entries.append(f"{short}({frame.f_lineno}): {frame.f_code.co_name}")
        frame = frame.f_back
    return entries
