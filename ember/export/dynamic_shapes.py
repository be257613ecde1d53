"""Dynamic shapes: `Dim`, `Dim.AUTO` / `Dim.STATIC` / `Dim.DYNAMIC`, and the checks export
makes of a `dynamic_shapes` spec against its example inputs (matches
`torch.export.dynamic_shapes`).

NOTE [Guards of an exported module]
torch's exported module checks each call's inputs against the shapes it was exported for:
a static dimension must equal the example's size, a dynamic one must lie in its Dim's range
(`AssertionError: Guard failed: x.size()[0] <= 16`). Lower bounds of 0, 1 and 2 are not
checked (torch assumes every dynamic size is at least 2 while tracing, and does not guard
sizes 0 and 1 either). ember records one `Guard` per dimension of each tensor input and
checks them the same way before the graph runs.
"""

import dataclasses
import inspect
import math
from enum import Enum, auto
from typing import NamedTuple

from ember._tensor import Tensor
from ember.export._errors import (_DOCS, ConstraintViolationError, UserError,
                                   spec_error)


class _DimHintType(Enum):
    AUTO = auto()
    STATIC = auto()
    DYNAMIC = auto()


@dataclasses.dataclass
class _DimHint:
    """Dim.AUTO / Dim.STATIC / Dim.DYNAMIC, callable once for bounds (`Dim.AUTO(min=2)`)."""

    type: _DimHintType
    min: object = None
    max: object = None
    _factory: object = True

    def __call__(self, min=None, max=None):
        if not self._factory:
            raise TypeError(f"'{type(self)}' object is not callable")
        if min is not None and min < 0:
            raise AssertionError(f"min must be non-negative, got {min}")
        if max is not None and max < 0:
            raise AssertionError(f"max must be non-negative, got {max}")
        if min is not None and max is not None and min > max:
            raise AssertionError(f"min must be <= max, got min={min}, max={max}")
        return _DimHint(self.type, min=min, max=max, _factory=False)

    def __repr__(self):
        parts = [self.type.name] + [f"{k}={v}" for k, v in (("min", self.min), ("max", self.max))
                                    if v is not None]
        return f"DimHint({', '.join(parts)})"


class Dim:
    """A named dynamic dimension with an optional range (matches `torch.export.Dim`)."""

    AUTO = _DimHint(_DimHintType.AUTO)
    DYNAMIC = _DimHint(_DimHintType.DYNAMIC)
    STATIC = _DimHint(_DimHintType.STATIC)

    def __init__(self, name: str, *, min=None, max=None):
        low = 0 if min is None else min
        high = math.inf if max is None else max
        if not high > low:
            raise AssertionError(f"Cannot create Dim with inconsistent min={min}, max={max}")
        if not name.isidentifier():
            raise AssertionError(f"Dim name must be a valid identifier, got {name}")
        self.__name__, self.min, self.max = name, low, high

    def __repr__(self):
        low = None if self.min == 2 else self.min  # torch leaves out its default bounds
        high = None if self.max == math.inf else self.max
        bounds = "".join(f", {k}={v}" for k, v in (("min", low), ("max", high)) if v is not None)
        return f"Dim('{self.__name__}'{bounds})"

    # ---- derived Dims: increasing linear functions of a Dim (`dx + 1`, `2 * dx`) ------------
    def _derive(self, scale, offset):
        root = getattr(self, "root", self)
        scale, offset = self.scale * scale, self.offset * scale + offset
        return _DerivedDim(root, scale, offset)

    scale, offset = 1, 0

    def _linear_error(self, verb, other, expected="an integer"):
        return NotImplementedError(f"Attempted to {verb} {self.__name__}, where {expected} was "
                                   f"expected. (Only increasing linear operations with integer "
                                   f"coefficients are supported.)")

    def __add__(self, other):
        if type(other) is not int:
            raise self._linear_error(f"add {other} to", other)
        return self._derive(1, other)

    __radd__ = __add__

    def __sub__(self, other):
        if type(other) is not int:
            raise self._linear_error(f"subtract {other} from", other)
        return self._derive(1, -other)

    def __rsub__(self, other):
        raise NotImplementedError(f"Attempted to negate {self.__name__}. (Only increasing "
                                  f"linear operations with integer coefficients are supported.)")

    def __mul__(self, other):
        if type(other) is not int or other <= 0:
            raise self._linear_error(f"multiply {other} with", other, "a positive integer")
        return self._derive(other, 0)

    __rmul__ = __mul__


class _DerivedDim(Dim):
    """scale * root + offset (matches torch's derived Dims, named as sympy prints them)."""

    def __init__(self, root, scale, offset):
        self.root, self.scale, self.offset = root, scale, offset
        head = root.__name__ if scale == 1 else f"{scale}*{root.__name__}"
        tail = f" + {offset}" if offset > 0 else f" - {-offset}" if offset < 0 else ""
        self.__name__ = head + tail
        self.min = scale * root.min + offset
        self.max = scale * root.max + offset

    def __repr__(self):
        return self.__name__


def dims(*names, min=None, max=None):
    """Several Dims with the same range (matches `torch.export.dims`)."""
    return tuple(Dim(name, min=min, max=max) for name in names)


class ShapesCollection:
    """dynamic_shapes keyed by the input tensors themselves (matches
    `torch.export.ShapesCollection`): `shapes[x] = {0: batch}`, then `dynamic_shapes(m, args)`."""

    def __init__(self):
        self._shapes = {}

    def __setitem__(self, tensor, shape):
        if not isinstance(tensor, Tensor):
            raise AssertionError(f"Cannot assign shape to non-tensor or non-_IntWrapper type "
                                 f"{type(tensor)}")
        if id(tensor) in self._shapes and self._shapes[id(tensor)] != shape:
            raise AssertionError(f"Shapes assigned to input do not match: expected "
                                 f"{self._shapes[id(tensor)]}, got {shape}")
        self._shapes[id(tensor)] = shape

    def __getitem__(self, tensor):
        return self._shapes.setdefault(id(tensor), {})

    def __len__(self):
        return len(self._shapes)

    def dynamic_shapes(self, m, args, kwargs=None):
        """The spec by input name, in the structure of the inputs (None where unlisted)."""
        found = set()

        def spec(value):
            if isinstance(value, Tensor):
                found.add(id(value))
                return self._shapes.get(id(value))
            if isinstance(value, (tuple, list)):
                return type(value)(spec(v) for v in value)
            if isinstance(value, dict):
                return {k: spec(v) for k, v in value.items()}
            return None
        kwargs = kwargs or {}
        names = _input_names(m.forward, args, kwargs)
        shapes = {n: spec(v) for n, v in zip(names, list(args) + list(kwargs.values()))}
        if set(self._shapes) - found:
            raise ValueError("Some tensors that were assigned shapes were not found in args. "
                             "Maybe such tensors were copied when passing them as args? Maybe "
                             "such tensors are contained in classes that were not registered "
                             "with pytree?")
        return shapes


class Guard(NamedTuple):
    """One checked dimension of a tensor input (NOTE [Guards of an exported module])."""

    input: str  # the input's name in the messages (`x`)
    path: tuple  # where the tensor sits inside the flat user inputs
    dim: int
    size: object  # the static size, or None
    min: object
    max: object
    symbol: str = ""  # the Dim's name: dimensions of one Dim change together
    auto: bool = False  # Dim.AUTO: becomes static if the program specializes it
    scale: int = 1  # a derived Dim's size is scale * symbol + offset
    offset: int = 0


def check_guards(guards, *inputs):
    """Raise torch's AssertionError for the first input dimension a guard refuses."""
    seen = {}  # Dim name -> (where, size) of its first dimension
    for g in guards:
        value = inputs[g.path[0]]
        for key in g.path[1:]:
            value = value[key]
        size = value.shape[g.dim]  # IndexError for a tensor of fewer dims, as torch
        where = g.input + "".join(f"[{k!r}]" for k in g.path[1:]) + f".size()[{g.dim}]"
        if g.size is not None and size != g.size:
            raise AssertionError(f"Guard failed: {where} == {g.size}")
        if g.size is None and g.min > 2 and size < g.min:
            raise AssertionError(f"Guard failed: {where} >= {g.min}")
        if g.size is None and g.max != math.inf and size > g.max:
            raise AssertionError(f"Guard failed: {where} <= {g.max}")
        if g.size is None:  # the dimensions of one Dim agree on its size
            root = (size - g.offset) / g.scale
            first = seen.setdefault(g.symbol, (where, root, g))
            if first[1] != root:
                raise AssertionError(f"Guard failed: {where} == {_formula(g, first)}")


def _formula(guard, first):
    """What a dimension must equal, written from the first dimension of its Dim."""
    where, _, other = first
    if other.scale == 1 and other.offset == 0:
        base = where if guard.scale == 1 else f"{guard.scale}*{where}"
        tail = guard.offset
    else:
        base = f"({where} - {other.offset}) // {other.scale}"
        base = base if guard.scale == 1 else f"{guard.scale}*{base}"
        tail = guard.offset
    return base + (f" + {tail}" if tail > 0 else f" - {-tail}" if tail < 0 else "")


# ---- checking a spec against the example inputs ---------------------------------------------
def _dim_guard(name, path, i, size, spec):
    """The guard of dimension i of an input whose example size is `size`."""
    where = f"L['{name}'].size()[{i}]"
    if spec is None or (isinstance(spec, _DimHint) and spec.type == _DimHintType.STATIC):
        return Guard(name, path, i, size, size, size)
    if isinstance(spec, int) and not isinstance(spec, bool):
        if spec != size:
            raise ConstraintViolationError(f"Static shape constraint of {spec} does not match "
                                           f"input size of {size}, for {where}")
        return Guard(name, path, i, size, size, size)
    low = 0 if spec.min is None else spec.min
    high = math.inf if spec.max is None else spec.max
    if not low <= size <= high:
        raise ConstraintViolationError(f"{size} not in range [{low}, {_bound(high)}]")
    if isinstance(spec, _DerivedDim):
        return Guard(name, path, i, None, low, high, spec.root.__name__, False, spec.scale,
                     spec.offset)
    if isinstance(spec, Dim):
        return Guard(name, path, i, None, low, high, spec.__name__)
    where = name + "".join(f"[{k!r}]" for k in path[1:]) + f".size()[{i}]"
    return Guard(name, path, i, None, low, high, where, spec.type == _DimHintType.AUTO)


def _bound(value):
    return "int_oo" if value == math.inf else value


def _tensor_guards(name, path, tensor, spec, where):
    """The guards of one tensor input under its spec (a dict or a list of per-dim specs)."""
    shape = tuple(tensor.shape)
    if spec is None:
        spec = {}
    if isinstance(spec, (tuple, list)):
        if len(spec) != len(shape):
            raise spec_error(f"Expected dynamic shape spec {list(spec)} specified at "
                             f"`dynamic_shapes{where}` to have the same length as the actual "
                             f"tensor shape torch.Size({list(shape)}) (expected {len(shape)}, "
                             f"but got {len(spec)} instead)")
        spec = dict(enumerate(spec))
    if not isinstance(spec, dict):
        raise spec_error(f"Unexpected dynamic_shape {spec} of Tensor, try None instead")
    for i, item in spec.items():
        if not (item is None or isinstance(item, (int, Dim, _DimHint))):
            raise spec_error(f"Unexpected dimension mapped to index {i} in input tensor shape "
                             f"{spec} specified at `dynamic_shapes{where}` (expected None, an "
                             f"int, a Dim, Dim.AUTO, Dim.STATIC, or Dim.DYNAMIC,  but got "
                             f"{item!r} instead)")
    return [_dim_guard(name, path, i, size, spec.get(i)) for i, size in enumerate(shape)]


def _guards_of(name, path, value, spec, where):
    """The guards of one input (a tensor or a nested tuple/list/dict of them)."""
    if isinstance(value, Tensor):
        return _tensor_guards(name, path, value, spec, where)
    if isinstance(value, (tuple, list, dict)) and spec is not None:
        keys = list(value.keys()) if isinstance(value, dict) else list(range(len(value)))
        if isinstance(value, dict) != isinstance(spec, dict) or len(spec) != len(keys):
            raise spec_error(f"Detected mismatch between the structure of `inputs` and "
                             f"`dynamic_shapes`: `inputs{where}` has {len(keys)} elements, but "
                             f"`dynamic_shapes{where}` has {len(spec)} elements")
        found = []
        for k in keys:
            found += _guards_of(name, (*path, k), value[k], spec[k], f"{where}[{k!r}]")
        return found
    if isinstance(value, (tuple, list, dict)):
        keys = value.keys() if isinstance(value, dict) else range(len(value))
        return [g for k in keys for g in _guards_of(name, (*path, k), value[k], None, where)]
    return []


def guards_for(mod, args, kwargs, dynamic_shapes):
    """The guards of every tensor input, after checking dynamic_shapes' structure."""
    forward = mod.forward
    if isinstance(dynamic_shapes, ShapesCollection):
        dynamic_shapes = dynamic_shapes.dynamic_shapes(mod, args, kwargs)
    names = _input_names(forward, args, kwargs)
    values = list(args) + list(kwargs.values())
    if dynamic_shapes is None:
        specs = [None] * len(values)
    elif isinstance(dynamic_shapes, dict):
        if set(dynamic_shapes) - set(names):
            raise UserError(f"When `dynamic_shapes` is specified as a dict, its top-level keys "
                            f"must be the arg names {names} of `inputs`, but here they are "
                            f"{list(dynamic_shapes)}. Alternatively, you could also ignore arg "
                            f"names entirely and specify `dynamic_shapes` as a list/tuple "
                            f"matching `inputs`. {_DOCS}")
        specs = [dynamic_shapes.get(n) for n in names]
    elif isinstance(dynamic_shapes, (tuple, list)):
        if len(dynamic_shapes) != len(values):
            raise spec_error(f"Detected mismatch between the structure of `inputs` and "
                             f"`dynamic_shapes`: `inputs` has {len(values)} elements, but "
                             f"`dynamic_shapes` has {len(dynamic_shapes)} elements")
        specs = list(dynamic_shapes)
    else:
        raise spec_error(f"Unexpected dynamic_shapes {dynamic_shapes!r}: expected a dict, a "
                         f"tuple or a list")
    guards = []
    for i, (name, value, spec) in enumerate(zip(names, values, specs)):
        guards += _guards_of(name, (i,), value, spec, f"['{name}']")
    return guards


def _input_names(forward, args, kwargs):
    """The forward parameter each input binds to, in (args, kwargs) order."""
    signature = inspect.signature(forward)
    signature.bind(*args, **kwargs)  # a TypeError for inputs forward does not take
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p.name for p in signature.parameters.values() if p.kind in kinds]
    names = [positional[i] if i < len(positional) else f"args_{i}" for i in range(len(args))]
    return names + list(kwargs)


__all__ = ["Dim", "ShapesCollection", "dims"]
