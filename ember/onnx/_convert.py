"""From recorded events to ONNX nodes: the converter table and what a converter sees.

A converter is a function `convert(s)` registered under an op class name (`@converts("Add")`)
or a module class name (`@converts("module:LSTM")`). It reads its inputs through the `Step` `s`
(`s.input(i)` is the ONNX name of argument i, `s.arg(i)` the recorded argument itself,
`s.twin_arg(i)` the same argument in the second run) and names its outputs with `s.output(k,
name)`. An op with no converter stops the export with an error naming it and the module path.
"""

import re

import numpy as np

from ember.onnx._graph import Builder, require_onnx
from ember.onnx._trace import Ref

CONVERTERS = {}


def converts(*names):
    """Decorator: register a converter for these op class names."""

    def register(fn):
        for name in names:
            CONVERTERS[name] = fn
        return fn

    return register


def op_label(event) -> str:
    """The op's name for error messages: its grad_fn name in snake case (`fft_r2c`), or the
    module's class name."""
    if event.name.startswith("module:"):
        return event.name[len("module:"):]
    name = re.sub(r"Backward[0-9]*$", "", getattr(event.op, "_backward_cls", event.op).__name__)
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()


class Step:
    """One event being converted, with its twin from the second run."""

    def __init__(self, conv: "Conversion", event, twin):
        self.conv, self.b = conv, conv.builder
        self.event, self.twin = event, twin

    # ---- arguments ----------------------------------------------------------------------------
    def arg(self, i, default=None):
        return self.event.args[i] if i < len(self.event.args) else default

    def twin_arg(self, i, default=None):
        return self.twin.args[i] if i < len(self.twin.args) else default

    def n_args(self) -> int:
        return len(self.event.args)

    def input(self, i) -> str:
        """The ONNX name of tensor argument i (None for a None argument)."""
        ref = self.arg(i)
        if ref is None:
            return None
        return self.conv.name_of(ref, self.twin_arg(i))

    def name_of(self, ref, twin=None) -> str:
        return self.conv.name_of(ref, twin)

    def array(self, i):
        """The recorded data of a parameter or constant argument (None for a graph value)."""
        ref = self.arg(i)
        return ref.array if isinstance(ref, Ref) else None

    # ---- outputs ------------------------------------------------------------------------------
    def out_ref(self, k: int = 0) -> Ref:
        return self.event.outputs[k]

    def out_shape(self, k: int = 0) -> tuple:
        return self.conv.shapes1[self.event.outputs[k].key][0]

    def out_twin_shape(self, k: int = 0) -> tuple:
        return self.conv.shapes2[self.event.outputs[k].key][0]

    def out_dtype(self, k: int = 0):
        return self.conv.shapes1[self.event.outputs[k].key][1]

    def n_outputs(self) -> int:
        return len(self.event.outputs)

    def output(self, k: int, name: str) -> None:
        """Bind output k to the ONNX value `name` (its facts come from the recorded runs)."""
        ref = self.event.outputs[k]
        if ref is None:
            return
        name = self.b.cast(name, ref.dtype) if name in self.b.info else name
        self.conv.bind(ref.key, name)

    def unsupported(self, detail: str = ""):
        """The error for an op (or a use of it) with no ONNX mapping, naming op and module."""
        label = op_label(self.event)
        extra = f": {detail}" if detail else ""
        return self.b.error(f"no ONNX mapping for '{label}'{extra}")


class Conversion:
    """Walks the events of both runs, calling the converters in order."""

    def __init__(self, builder: Builder, shapes1, shapes2, param_input: bool):
        self.builder = builder
        self.shapes1, self.shapes2 = shapes1, shapes2
        self.names = {}  # value id -> ONNX name
        self.param_input = param_input  # export_params=False: parameters are graph inputs
        self.params_done = {}
        self.param_inputs = []

    def bind(self, vid: int, name: str) -> None:
        """Value `vid` of the recording is the ONNX value `name` from now on."""
        (s1, dtype), (s2, _) = self.shapes1[vid], self.shapes2[vid]
        if name in self.builder.info:
            _, one, _ = self.builder.info[name]
            if one != tuple(s1):  # a converter handed back a value of another shape
                name = self.builder.node("Reshape", [name, self.builder.ints(s1)])
        self.builder.note(name, dtype, s1, s2)
        self.names[vid] = name

    def name_of(self, ref, twin=None) -> str:
        """The ONNX name of a recorded argument: a value, a parameter (an initializer under its
        state_dict name, or a graph input with export_params=False) or a constant."""
        b = self.builder
        if ref.kind == "value":
            if ref.key not in self.names:
                raise b.error("a value used before it was computed (an op that is not recorded)")
            if isinstance(twin, Ref) and (twin.kind, twin.key) != ("value", ref.key):
                # found by its contents (an in-place result, an attention mask's bias) and the
                # second run found another: which one it is cannot be told
                raise b.error(f"a tensor of size {list(ref.shape)} matched a recorded value by "
                              "its contents in one run and not in the other")
            return self.names[ref.key]
        if ref.kind == "param":
            if ref.key not in self.params_done:
                if self.param_input:
                    b.note(ref.key, ref.dtype, ref.shape)
                    self.param_inputs.append(ref.key)
                    self.params_done[ref.key] = ref.key
                else:
                    self.params_done[ref.key] = b.initializer(ref.key, ref.array)
            name = self.params_done[ref.key]
            if ref.shape != b.shape(name):  # a view of a buffer (BatchNorm's running stats)
                return b.constant(ref.array)
            return name
        if _filled_alike(ref, twin):  # torch.zeros(x.size(0), 3), zeros_like(x), new_ones(...)
            return self.filled(ref, twin)
        if _counting(ref) and _counting(twin):  # torch.arange(x.size(1)): positions
            return self.counting(ref, twin)
        if isinstance(twin, Ref) and (twin.shape != ref.shape or (
                twin.kind == "const" and not np.array_equal(twin.array, ref.array,
                                                            equal_nan=True))):
            raise b.error(f"a tensor of size {list(ref.shape)} changes with the inputs but does "
                          "not come from ops export records (an op that export does not record "
                          "made it: a value read with .item() or .numpy(), or a tensor made in "
                          "forward from sizes or values read from an input)")
        return b.constant(ref.array)

    def filled(self, ref, twin) -> str:
        """A constant of one value whose shape follows dynamic axes: ConstantOfShape of the
        sizes as the running model sees them (Builder.shape_tensor)."""
        b = self.builder
        shape = b.shape_tensor(ref.shape, twin.shape)
        value = require_onnx().numpy_helper.from_array(ref.array.reshape(-1)[:1].copy(), "value")
        out = b.node("ConstantOfShape", [shape], value=value)
        return b.note(out, ref.dtype, ref.shape, twin.shape)

    def counting(self, ref, twin) -> str:
        """arange(n) whose n follows a dynamic axis: Range(0, n, 1) with n read from the input."""
        b = self.builder
        n = b.node("Squeeze", [b.size_tensor(ref.shape[0], twin.shape[0]), b.ints([0])])
        start, step = (b.constant(np.asarray(v, dtype=ref.dtype)) for v in (0, 1))
        out = b.node("Range", [start, b.cast(b.note(n, np.int64, ()), ref.dtype), step])
        return b.note(out, ref.dtype, ref.shape, twin.shape)

    def run(self, events1, events2) -> None:
        """Convert every event, each with its twin from the second run."""
        for event, twin in zip(events1, events2):
            self.builder.path = "model" + ("." + event.path if event.path else "")
            converter = CONVERTERS.get(event.name)
            step = Step(self, event, twin)
            if converter is None:
                raise step.unsupported()
            _check_numbers(self.builder, event, twin)
            converter(step)


def _check_numbers(builder, event, twin) -> None:
    """A float argument that differs between the runs was computed from the inputs outside the
    recorded ops (`x * x.max().item()`): baking in the first run's value would be wrong."""
    pairs = list(zip(event.args, twin.args))
    pairs += [(v, twin.kwargs.get(k)) for k, v in event.kwargs.items()]
    for a, b in pairs:
        if isinstance(a, float) and isinstance(b, float) and a != b and a == a:
            raise builder.error(f"a number ({a}) changes with the inputs: it was read from a "
                                "tensor (.item(), float(t)), which export cannot record")


def _filled_alike(ref, twin) -> bool:
    """Whether two constants of different shapes (same rank) hold one and the same value."""
    if not (isinstance(twin, Ref) and ref.kind == twin.kind == "const"
            and twin.shape != ref.shape and len(twin.shape) == len(ref.shape)
            and ref.array.size and twin.array.size and ref.array.dtype == twin.array.dtype):
        return False
    first = ref.array.reshape(-1)[:1]
    return bool((ref.array == first).all() and (twin.array == first).all())


def _counting(ref) -> bool:
    """Whether a recorded constant is 0, 1, 2, ... (an arange), of at least two entries."""
    return (isinstance(ref, Ref) and ref.kind == "const" and ref.array.ndim == 1
            and ref.array.size > 1 and ref.array.dtype.kind in "iuf"
            and np.array_equal(ref.array, np.arange(ref.array.size)))


def as_tuple(value) -> tuple:
    """value as a tuple (a single dim becomes a 1-tuple)."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)
