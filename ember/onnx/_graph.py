"""The ONNX graph being written: values, initializers, nodes, and the sizes that vary.

NOTE [Values and their twins]
Export runs the model twice: once on the example inputs and once on inputs with other values,
grown along each dynamic axis (by a different amount per axis label, `_growths` in
_export.py, so that H and W of a square example are told apart). Both runs record the same ops
in the same order, so every value of the first run has a twin in the second; a dimension whose
size differs between the twins depends on a dynamic axis. The builder keeps, for each ONNX
value name, its dtype and both shapes, and the converters ask it for an int64 tensor holding a
size as the running model will see it (`size_tensor`). The second run's inputs also hold other
values: a constant whose values differ between the runs was computed from the inputs by
something that is not recorded, and export stops with an error rather than bake it into the
file (a constant of one value, or 0, 1, 2, ..., whose size follows an input is rebuilt in the
graph: ConstantOfShape, Range). Last, ONNX shape inference at the second run's input sizes must
give its output sizes (`_check_second_sizes`).
"""

import itertools

import numpy as np

INT64_MAX = 2 ** 63 - 1
_LOADED = {}  # "onnx" -> the onnx package, imported by the first export (it takes ~0.4 s)


class OnnxExporterError(RuntimeError):
    """Raised when a model cannot be exported (matches `torch.onnx.OnnxExporterError`)."""


def require_onnx():
    """The onnx package, or an ImportError that names the extra to install.

    NOTE [onnx is imported on first use]
    `import ember` imports ember.onnx (scripts write `import torch.onnx`), and importing onnx
    costs more than a third of a second, so the package is imported when an export needs it.
    """
    if "onnx" not in _LOADED:
        try:
            import onnx
            import onnx.numpy_helper
            import onnx.shape_inference
            import onnx.version_converter
        except ImportError:  # the optional extra
            raise ImportError('ember.onnx.export needs the onnx package: pip install '
                              '"ember[onnx]" (or pip install onnx)') from None
        _LOADED["onnx"] = onnx
    return _LOADED["onnx"]


def onnx_dtype(np_dtype) -> int:
    """The TensorProto element type of a NumPy dtype."""
    return require_onnx().helper.np_dtype_to_tensor_dtype(np.dtype(np_dtype))


class Builder:
    """Collects the nodes, initializers and value facts of one exported graph."""

    def __init__(self, opset: int):
        self.opset = opset
        self.nodes, self.initializers = [], []
        self.info = {}  # name -> (numpy dtype, shape of run 1, shape of run 2)
        self.inputs = []  # (name, dynamic axes {axis: label})
        self._counter = itertools.count()
        self._constants = {}  # (dtype, shape, bytes) -> name, to share equal small constants
        self.path = ""  # the module path of the op being converted, for error messages

    # ---- names and facts ----------------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        """A new unique value name."""
        return f"{hint}_{next(self._counter)}"

    def note(self, name: str, dtype, shape1, shape2=None) -> str:
        """Record a value's dtype and its shapes in both runs."""
        shape1 = tuple(int(s) for s in shape1)
        self.info[name] = (np.dtype(dtype), shape1,
                           shape1 if shape2 is None else tuple(int(s) for s in shape2))
        return name

    def dtype(self, name: str):
        return self.info[name][0]

    def shape(self, name: str) -> tuple:
        return self.info[name][1]

    # ---- making things ------------------------------------------------------------------------
    def node(self, op_type: str, inputs, n_outputs: int = 1, **attrs):
        """Append a node; returns its output name (or names, when n_outputs > 1)."""
        outputs = [self.fresh(op_type.lower()) for _ in range(n_outputs)]
        self.nodes.append(require_onnx().helper.make_node(op_type, list(inputs), outputs,
                                           name=f"{op_type}_{len(self.nodes)}", **attrs))
        return outputs[0] if n_outputs == 1 else outputs

    def initializer(self, name: str, array) -> str:
        """Add a named initializer (a parameter, buffer or constant)."""
        array = np.array(array, order="C", copy=None)  # (ascontiguousarray makes 0-d 1-d)
        self.initializers.append(require_onnx().numpy_helper.from_array(array, name))
        return self.note(name, array.dtype, array.shape)

    def constant(self, array, dtype=None) -> str:
        """An initializer holding a constant array (equal small constants are shared)."""
        array = np.asarray(array, dtype=dtype)
        key = None
        if array.size <= 64:
            key = (array.dtype.str, array.shape, array.tobytes())
            if key in self._constants:
                return self._constants[key]
        name = self.initializer(self.fresh("const"), array)
        if key is not None:
            self._constants[key] = name
        return name

    def ints(self, values) -> str:
        """A 1-D int64 constant."""
        return self.constant(np.asarray(list(values), dtype=np.int64).reshape(-1))

    def scalar(self, value, like: str) -> str:
        """A 0-d constant of the dtype of value `like`."""
        return self.constant(np.asarray(value, dtype=self.dtype(like)))

    def cast(self, name: str, dtype) -> str:
        """name converted to dtype (no node when it already has it)."""
        dtype = np.dtype(dtype)
        if self.dtype(name) == dtype:
            return name
        _, one, two = self.info[name]
        out = self.node("Cast", [name], to=onnx_dtype(dtype))
        return self.note(out, dtype, one, two)

    def size_tensor(self, v1: int, v2: int) -> str:
        """A 1-D int64 tensor holding one size: constant, or read from the input it follows."""
        if v1 == v2:
            return self.ints([v1])
        for name, axes in self.inputs:
            _, one, two = self.info[name]
            for axis in axes:
                if (one[axis], two[axis]) == (v1, v2):
                    shape = self.node("Shape", [name], start=axis, end=axis + 1)
                    return self.note(shape, np.int64, (1,))
        raise self.error(f"a size ({v1}) that follows a dynamic axis but is not the size of an "
                         "input's dynamic axis")

    def shape_tensor(self, sizes1, sizes2) -> str:
        """A 1-D int64 tensor of sizes (see size_tensor), as one Concat or one constant."""
        if tuple(sizes1) == tuple(sizes2):
            return self.ints(sizes1)
        parts = [self.size_tensor(a, b) for a, b in zip(sizes1, sizes2)]
        out = self.node("Concat", parts, axis=0)
        return self.note(out, np.int64, (len(parts),))

    def error(self, message: str) -> OnnxExporterError:
        where = f" (in {self.path})" if self.path else ""
        return OnnxExporterError(f"ember.onnx.export: {message}{where}")


def value_info(name: str, dtype, shape, axes=None):
    """A graph input/output declaration; dims in `axes` ({axis: label}) are symbolic."""
    axes = axes or {}
    dims = [axes.get(i, s) for i, s in enumerate(shape)]
    return require_onnx().helper.make_tensor_value_info(name, onnx_dtype(dtype), dims)
