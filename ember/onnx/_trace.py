"""Recording a model's ops: run it once on the example inputs and note every op call.

NOTE [Recording through the op protocol]
Every ember op runs through `Function.apply`, so export sets the hook `EXPORT_HOOK[0]` there
(see NOTE [The export hook] in ember/autograd/function.py): each op call of the model is
recorded as an `Event` (the op class, its arguments with tensors replaced by `Ref`s, the ids of
its outputs, the module path it ran in). Ops that run inside another op are not recorded, and
neither are the ops inside a module that has its own converter (LSTM, GRU): global module hooks
record the whole module as one event instead, and keep the module path for error messages. The
ops that have no autograd node (comparisons, argmax) are recorded through their public faces
instead (NOTE [Ops outside the op protocol] in _untracked.py).

Arguments are resolved when the op is called, not later: an in-place op (`out += identity`,
`ReLU(inplace=True)`) computes its result out of place and copies it into the tensor, bumping
the tensor's version counter. A tensor whose version moved since it was recorded is looked up
among the recent op outputs holding the same values.

With `do_constant_folding`, an op none of whose arguments comes from the inputs is folded: its
outputs are constants. Export compares the folded constants of its two runs: an op whose
constant differs (a parameter sliced to an input's length, `pos[:, :x.size(1)]`) is kept as
an op in a third and fourth run (`keep`, by the op's call number).
"""

import contextlib
import inspect
from typing import NamedTuple

import numpy as np

from ember._backend import is_array
from ember._tensor import Tensor
from ember.autograd.function import EXPORT_HOOK
from ember.autograd.grad_mode import no_grad
from ember.nn.modules._hooks import (register_module_forward_hook,
                                     register_module_forward_pre_hook)
from ember.onnx._untracked import untracked_faces

STATE = {"exporting": False}  # read by ember.onnx.is_in_onnx_export


class Ref(NamedTuple):
    """A recorded tensor argument: a value of the graph, a parameter, or a constant."""

    kind: str  # "value", "param" or "const"
    key: object  # the value id, the parameter's state_dict name, or None
    array: object  # the data (parameters and constants; None for values)
    shape: tuple
    dtype: object


class Event(NamedTuple):
    """One recorded op call (or one whole module with its own converter)."""

    op: object  # the Function subclass, or the module
    name: str  # the converter's key: the op class name, or "module:<class name>"
    args: tuple
    kwargs: dict
    outputs: tuple  # per output: its value id (None for what is not a tensor)
    path: str


def _host(array):
    """A NumPy copy of an array (the model's arrays may live in another array library)."""
    return np.array(array.get() if hasattr(array, "get") else array)


class Recorder:
    """Turns op calls into Events (see NOTE [Recording through the op protocol])."""

    def __init__(self, model, params: dict, module_converters: dict, fold: bool,
                 keep=frozenset()):
        self.params = params  # id(tensor or array) -> (object, state_dict name)
        self.module_converters = module_converters  # module class -> converter name
        self.fold = fold
        self.keep = keep  # call numbers of the ops not to fold
        self.calls = 0  # op calls recorded so far
        self.folded = {}  # call number -> the folded op's output Refs
        self.values = {}  # id(tensor) -> (tensor, ref, version)
        self.produced = []  # (tensor, ref) of op outputs, for the in-place search
        self.shapes = []  # value id -> (shape, numpy dtype)
        self.events = []
        self.paths = {id(m): name for name, m in model.named_modules()}
        self.stack = []  # module paths of the modules running now
        self.muted = 0  # > 0 inside a module that has its own converter

    # ---- values -------------------------------------------------------------------------------
    def new_value(self, t: Tensor) -> Ref:
        ref = Ref("value", len(self.shapes), None, tuple(t._data.shape), t._data.dtype)
        self.shapes.append((ref.shape, ref.dtype))
        self.values[id(t)] = (t, ref, t._version_counter.value)
        return ref

    def const(self, t) -> Ref:
        data = _host(t._data if isinstance(t, Tensor) else t)
        ref = Ref("const", None, data, data.shape, data.dtype)
        if isinstance(t, Tensor):
            self.values[id(t)] = (t, ref, t._version_counter.value)
        return ref

    def ref(self, obj):
        """The Ref of a tensor or array argument; other arguments pass through."""
        if isinstance(obj, Tensor):
            entry = self.values.get(id(obj))
            if entry is not None and entry[0] is obj:
                if entry[2] == obj._version_counter.value:
                    return entry[1]
                return self._modified(obj)
            return self._param_or_const(obj)
        if is_array(obj):
            obj = _mask_source(obj)
            for t, ref, _ in self.values.values():
                if t._data is obj or (obj.base is not None and t._data is obj.base
                                      and obj.shape == t._data.shape):
                    return ref
            return self._bias_source(obj) or self._param_or_const(obj)
        if isinstance(obj, (tuple, list)) and any(isinstance(o, Tensor) or is_array(o)
                                                  for o in obj):
            return type(obj)(self.ref(o) for o in obj)
        return obj

    def _param_or_const(self, obj):
        for candidate in (obj, getattr(obj, "base", None)):
            found = self.params.get(id(candidate)) if candidate is not None else None
            if found is not None and found[0] is candidate:
                array = obj._data if isinstance(obj, Tensor) else obj
                data = np.asarray(array.get() if hasattr(array, "get") else array)  # no copy
                return Ref("param", found[1], data, data.shape, data.dtype)
        return self.const(obj)

    def _bias_source(self, array):
        """An attention bias made from a recorded bool mask (where(mask, 0, -inf), which
        scaled_dot_product_attention computes outside its op): the mask's Ref, else None."""
        if array.dtype.kind != "f" or array.ndim == 0:
            return None
        data = _host(array)
        blocked = np.isneginf(data)
        if not blocked.any() or not (blocked | (data == 0)).all():
            return None
        for out, ref in reversed(self.produced):
            if out._data.dtype == np.bool_ and out._data.shape == data.shape and \
                    np.array_equal(~_host(out._data), blocked):
                return ref
        return None

    def _modified(self, t: Tensor) -> Ref:
        """A tensor changed in place: the latest op output holding its values."""
        for out, ref in reversed(self.produced):
            if out is not t and out._data.shape == t._data.shape \
                    and out._data.dtype == t._data.dtype and np.array_equal(
                        _host(out._data), _host(t._data), equal_nan=True):
                self.values[id(t)] = (t, ref, t._version_counter.value)
                return ref
        return self.const(t)  # changed in place by values that came from nowhere traced

    def _outputs(self, result, constant: bool) -> tuple:
        items = result if isinstance(result, tuple) else (result,)
        refs = []
        for item in items:
            if isinstance(item, Tensor):
                ref = self.const(item) if constant else self.new_value(item)
                if not constant:
                    self.produced.append((item, ref))
                refs.append(ref)
            else:
                refs.append(None)
        return tuple(refs)

    # ---- the hooks ----------------------------------------------------------------------------
    def __call__(self, cls, args, kwargs):
        """The op hook: run the op with the hook off, then record it."""
        if self.muted:
            return self._run(cls, args, kwargs)
        refs = tuple(self.ref(a) for a in args)
        krefs = {k: self.ref(v) for k, v in kwargs.items()}
        result = self._run(cls, args, kwargs)
        call, self.calls = self.calls, self.calls + 1
        constant = (self.fold and call not in self.keep and not _any_value(refs)
                    and not _any_value(krefs.values()))
        outputs = self._outputs(result, constant)
        if constant:
            self.folded[call] = outputs
        else:
            self.events.append(Event(cls, cls.__name__, refs, krefs, outputs, self.path()))
        return result

    def _run(self, cls, args, kwargs):
        EXPORT_HOOK[0] = None
        try:
            return cls.apply(*args, **kwargs)
        finally:
            EXPORT_HOOK[0] = self

    def path(self) -> str:
        return self.stack[-1] if self.stack else ""

    def pre_hook(self, module, args):
        self.stack.append(self.paths.get(id(module), type(module).__name__))
        if self.muted or type(module) in self.module_converters:
            self.muted += 1

    def post_hook(self, module, args, kwargs, output):
        path = self.stack.pop() if self.stack else ""
        if not self.muted:
            return
        self.muted -= 1
        if self.muted == 0:  # the module with its own converter: one event for all of it
            bound = inspect.signature(module.forward).bind(*args, **kwargs)
            refs = tuple(self.ref(a) for a in bound.arguments.values())
            outputs = self._outputs(tuple(_flatten(output)), False)
            name = "module:" + self.module_converters[type(module)]
            self.events.append(Event(module, name, refs, {}, outputs, path))


def _mask_source(array):
    """The smaller mask a bool array was broadcast from (masked_fill broadcasts its mask to the
    input's shape), else the array: ONNX's Where broadcasts it back the same way, and a mask
    that follows a dynamic axis stays a graph value (or a constant of the smaller shape)."""
    base = getattr(array, "base", None)
    if array.dtype != np.bool_ or not is_array(base) or base.shape == array.shape:
        return array
    try:
        expected = np.broadcast_to(base, array.shape)
    except ValueError:
        return array
    start = getattr(array, "__array_interface__", {}).get("data", (None,))[0]
    if start is None or expected.strides != array.strides or \
            expected.__array_interface__["data"][0] != start:
        return array
    return base


def _any_value(refs) -> bool:
    for r in refs:
        if isinstance(r, Ref) and r.kind == "value":
            return True
        if isinstance(r, (tuple, list)) and _any_value(r):
            return True
    return False


def _flatten(output) -> list:
    """The tensors of a nested output (tuples, lists, dicts), in order."""
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, dict):
        output = list(output.values())
    if isinstance(output, (tuple, list)):
        return [t for item in output for t in _flatten(item)]
    return []


def flatten_output(output) -> list:
    """The model output's tensors in order (what becomes the graph's outputs)."""
    return _flatten(output)


@contextlib.contextmanager
def recording(recorder: Recorder):
    """Install the op hook and the module hooks while the model runs, under no_grad."""
    handles = [register_module_forward_pre_hook(recorder.pre_hook),
               register_module_forward_hook(recorder.post_hook, with_kwargs=True,
                                            always_call=True)]
    STATE["exporting"] = True
    EXPORT_HOOK[0] = recorder
    try:
        with no_grad(), untracked_faces():
            yield recorder
    finally:
        EXPORT_HOOK[0] = None
        STATE["exporting"] = False
        for handle in handles:
            handle.remove()
