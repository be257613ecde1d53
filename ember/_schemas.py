"""torch's argument parser: which values each of an op's parameters accepts, and its TypeErrors.

NOTE [torch's argument parser]
torch's C++ ops reach Python through `PythonArgParser` (torch/csrc/utils/python_arg_parser.cpp):
each public name has a list of signatures ("roll(Tensor input, SymIntArrayRef[1] shifts,
IntArrayRef[1] dims=None)"), and a call is matched against them in order; when none fits,
the call raises TypeError before any computing. ember's ops are Python functions that would
take anything, so the faces of ember/_registry.py ask this module first. The signatures are
torch's own, generated once by tools/gen_schemas.py into ember/_schemas.txt.

The acceptance rules, read from torch 2.13 by experiment (tests/test_schemas.py holds them):
- int (int64_t): a Python int (never a bool), a NumPy integer, a 0-d integer tensor (not
  bool) that does not require grad. SymInt: also a one-element integer or bool tensor.
- int[] / SymInt[]: a tuple or list whose FIRST element is an int as SymInt takes it (a bool
  there is refused); the other elements are converted later, where bools pass and anything
  else is "failed to unpack the object at pos k". With a size (`int[2]`) a single int (as
  SymInt takes it) is also accepted. A function whose only positional parameter is an int[]
  also takes the ints as separate arguments (`t.view(2, 3)`).
- float (double): int, float, bool, any NumPy scalar, a 0-d tensor that does not require grad.
- Scalar ("Number"): as float, plus complex numbers.
- bool: a Python bool only. str: str. torch.dtype: a dtype or one of int/float/bool/complex.
  torch.device: a device, a str or an int.
- Tensor: a tensor (a number too for add/sub/mul/div and their aliases).
- Tensor[]: a tuple or list of tensors, else "expected Tensor as element i in argument k".
- `T?` and `T x=None` also take None.
A value that passes is converted here where ember's op code would not take it (a 0-d integer
tensor or a NumPy integer where an int goes becomes that int).
"""

import functools
import operator
import os

from ember._dtype import dtype as _dtype_class
from ember._tensor import Tensor

_DATA = os.path.join(os.path.dirname(__file__), "_schemas.txt")
_PYTHON_SCALAR_TYPES = (int, float, bool, complex)

# torch's parser: names whose Tensor parameters also take Python numbers
_NUMBERS_AS_TENSORS = {
    "add", "add_", "div", "div_", "divide", "divide_", "mul", "mul_", "multiply", "multiply_",
    "sub", "sub_", "subtract", "subtract_", "true_divide", "true_divide_", "to", "copy_",
    "floor_divide", "floor_divide_"}
# numpy-style keyword names torch's parser also accepts for a parameter
_NUMPY_NAMES = {"dim": ("axis",), "keepdim": ("keepdims",), "input": ("x", "a", "x1"),
                "other": ("x2",)}

# parser type -> the name torch's messages give it
_TYPE_NAMES = {
    "Tensor": "Tensor", "Scalar": "Number", "int64_t": "int", "SymInt": "int",
    "DeviceIndex": "int", "double": "float", "complex": "complex", "TensorList": "tuple of Tensors",
    "c10::List<::std::optional<Tensor>>": "tuple of Tensors", "IntArrayRef": "tuple of ints",
    "SymIntArrayRef": "tuple of ints", "ArrayRef<double>": "tuple of floats",
    "Generator": "torch.Generator", "bool": "bool", "PyObject*": "object",
    "ScalarType": "torch.dtype", "Layout": "torch.layout", "MemoryFormat": "torch.memory_format",
    "Device": "torch.device", "c10::string_view": "str", "std::string_view": "str",
    "ScalarList": "tuple of Scalars", "Stream": "torch.Stream", "Storage": "torch.Storage",
}


@functools.cache
def table() -> dict:
    """{"namespace.name": (signature, ...)} from ember/_schemas.txt, read on first use."""
    found = {}
    with open(_DATA) as data:
        for line in data:
            if not line.startswith("#"):
                key, signature = line.rstrip("\n").split("\t")
                found.setdefault(key, []).append(signature)
    return {key: tuple(signatures) for key, signatures in found.items()}


def type_name(value) -> str:
    """The name torch's messages give a value's type ("int", "Tensor", "numpy.float64")."""
    cls = type(value)
    module = cls.__module__
    if module == "builtins":
        return cls.__name__
    if module.startswith("numpy"):
        return "numpy." + cls.__name__
    if isinstance(value, Tensor):
        return cls.__name__
    if module.startswith("ember.") and cls.__name__ in (
            "dtype", "device", "layout", "memory_format", "Size"):
        return "torch." + cls.__name__
    if module == "ember.random":
        return "torch._C." + cls.__name__
    return cls.__name__


class Refused(Exception):
    """A value a parameter does not take: `element` is the index of the first bad element."""

    def __init__(self, element=None):
        super().__init__(element)
        self.element = element


class Unpack(Exception):
    """An int[] element after the first that is no int (torch finds it converting the list)."""


class Parameter:
    """One parameter of a signature: its type, size (`int[2]`), default, keyword-only flag."""

    def __init__(self, text, keyword_only):
        kind, _, name = text.partition(" ")
        self.allow_none = kind.endswith("?")
        kind = kind.rstrip("?")
        self.size = 0
        if kind.endswith("]"):
            kind, _, size = kind[:-1].partition("[")
            self.size = int(size)
        name, eq, default = name.partition("=")
        self.name, self.kind, self.keyword_only = name, kind, keyword_only
        self.optional = bool(eq)
        self.default = default if eq else None
        self.allow_none = self.allow_none or default == "None"
        self.names = (name,) + _NUMPY_NAMES.get(name, ())
        self.numbers_as_tensors = False

    def shown(self) -> str:
        """The parameter as torch lists it in "expected one of" ("tuple of ints dim = None")."""
        text = f"{_TYPE_NAMES.get(self.kind, self.kind)} {self.name}"
        return text if self.default is None else f"{text} = {self.default}"


class Signature:
    """One of torch's signature strings, parsed as `FunctionSignature` parses it."""

    def __init__(self, text):
        self.hidden = text.endswith(("|deprecated", "|hidden"))
        text = text.split("|")[0]
        self.name, _, inner = text[:-1].partition("(")
        self.params, keyword_only = [], False
        for part in inner.split(", ") if inner else ():
            if part == "*":
                keyword_only = True
            else:
                self.params.append(Parameter(part, keyword_only))
        for param in self.params:
            param.numbers_as_tensors = self.name in _NUMBERS_AS_TENSORS
        self.positional = sum(not p.keyword_only for p in self.params)
        self.required = sum(not p.optional for p in self.params)
        # `t.view(2, 3)`: the only positional parameter is an int[], so ints come as varargs
        self.varargs = self.positional == 1 and self.params[0].kind in (
            "IntArrayRef", "SymIntArrayRef")

    def shown(self) -> str:
        """`(Tensor input, int dim, *, Tensor out = None)` as torch lists it."""
        parts, starred = [], False
        for param in self.params:
            if param.keyword_only and not starred:
                parts.append("*")
                starred = True
            parts.append(param.shown())
        return "(" + ", ".join(parts) + ")"

    def parse(self, args, kwargs, raise_error):
        """(args, kwargs) converted as torch converts them, or None when they do not fit this
        signature (TypeError with torch's message instead when raise_error)."""
        nargs = len(args)
        if nargs > self.positional and not self.varargs:
            return self._fail(raise_error, self._extra_args, nargs)
        args, kwargs = list(args), dict(kwargs)
        used = 0  # keyword arguments consumed
        position = 0
        # what torch finds only when converting a matched signature's values (an int[]'s later
        # element that is no int, a bool tensor as an int): raised if this signature fits
        late = None
        for index, param in enumerate(self.params):
            keyword = None
            if position < nargs:
                if param.keyword_only:
                    return self._fail(raise_error, self._extra_args, nargs)
                value = args[position]
            else:
                keyword = next((k for k in param.names if k in kwargs), None)
                value = kwargs[keyword] if keyword is not None else _MISSING
            if value is _MISSING:
                if not param.optional:
                    return self._fail(raise_error, self._missing, param)
                continue
            if value is None and param.allow_none:
                pass
            else:
                try:
                    converted = accept(param, value, index)
                except Unpack as error:
                    late = late or TypeError(f"{self.name}(): argument '{param.name}' {error}")
                    converted = value
                except RuntimeError as error:
                    late = late or error
                    converted = value
                except Refused as refused:
                    if self.varargs and index == 0 and keyword is None and \
                            not isinstance(value, (tuple, list)):
                        args = self._varargs(args, raise_error)
                        if args is None:
                            return None
                        position = nargs
                        continue
                    return self._fail(raise_error, self._refused, param, value, refused,
                                      None if keyword else position)
                if converted is not value:
                    if keyword is None:
                        args[position] = converted
                    else:
                        kwargs[keyword] = converted
            if keyword is None:
                position += 1
            else:
                used += 1
        if used < len(kwargs):
            return self._fail(raise_error, self._extra_kwargs, kwargs, nargs)
        if late is not None:
            raise late
        return args, kwargs

    def _varargs(self, args, raise_error):
        """`t.view(2, 3)`: every positional argument is one element of the int[] (the list of
        converted arguments, or None when they are not ints)."""
        param = self.params[0]
        try:
            return list(accept(param, tuple(args), 0))
        except Unpack as error:
            raise TypeError(f"{self.name}(): argument '{param.name}' {error}") from None
        except Refused:
            if len(args) > self.positional:
                return self._fail(raise_error, self._extra_args, len(args))
            return self._fail(raise_error, self._refused, param, args[0], Refused(), 0)

    def _fail(self, raise_error, message, *details):
        if raise_error:  # (called in an `except Refused:`, which torch's traceback does not show)
            raise TypeError(message(*details)) from None
        return None

    def _extra_args(self, nargs):
        if self.required != self.positional:
            return (f"{self.name}() takes from {self.required} to {self.positional} positional "
                    f"arguments but {nargs} were given")
        plural = "" if self.positional == 1 else "s"
        return (f"{self.name}() takes {self.positional} positional argument{plural} but {nargs} "
                f"{'was' if nargs == 1 else 'were'} given")

    def _missing(self, param):
        start = self.params.index(param)
        names = [f'"{p.name}"' for p in self.params[start:] if not p.optional]
        # torch's own message says "arguments" for one and "argument" for several
        return (f"{self.name}() missing {len(names)} required positional "
                f"argument{'s' if len(names) == 1 else ''}: {', '.join(names)}")

    def _refused(self, param, value, refused, position):
        where = "" if position is None else f" (position {position + 1})"
        expected = _TYPE_NAMES.get(param.kind, param.kind)
        if refused.element is not None and position is not None:
            return (f"{self.name}(): argument '{param.name}'{where} must be {expected}, but "
                    f"found element of type {type_name(value[refused.element])} at pos "
                    f"{refused.element}")
        return f"{self.name}(): argument '{param.name}'{where} must be {expected}, " \
               f"not {type_name(value)}"

    def _extra_kwargs(self, kwargs, nargs):
        for key in kwargs:
            index = next((i for i, p in enumerate(self.params) if key in p.names), None)
            if index is None:
                return f"{self.name}() got an unexpected keyword argument '{key}'"
            if index < nargs:
                return f"{self.name}() got multiple values for argument '{key}'"
        return "invalid keyword arguments"


_MISSING = object()


def _is_integer_tensor(value, bool_too) -> bool:
    """A one-element tensor of an integer dtype (or bool, if bool_too): torch's `__index__`."""
    kind = value._data.dtype.kind
    return value._data.size == 1 and (kind in "iu" or (bool_too and kind == "b"))


def _as_int(value):
    """An accepted int-like value as a Python int (a bool tensor is torch's RuntimeError)."""
    if isinstance(value, Tensor):
        if value._data.dtype.kind == "b":
            raise RuntimeError("Expected scalar.isIntegral(false) to be true, but got false.")
        return int(value._data.reshape(()).item())
    return value if type(value) is int else operator.index(value)


def _int(value) -> bool:
    """torch's int64_t: an int (not bool), a NumPy integer, a 0-d integer tensor."""
    if isinstance(value, int):  # an IntEnum too
        return type(value) is not bool
    if isinstance(value, Tensor):
        return value._data.ndim == 0 and value._data.dtype.kind in "iu"
    return _is_numpy_integer(value)


def _symint(value) -> bool:
    """torch's SymInt (`__index__`): also a one-element integer or bool tensor, and any
    object with `__index__` (torch's ScalingType)."""
    if isinstance(value, int):
        return type(value) is not bool
    if isinstance(value, Tensor):
        return _is_integer_tensor(value, bool_too=True) and not value.requires_grad
    return _is_numpy_integer(value) or hasattr(type(value), "__index__")


def _is_numpy_integer(value) -> bool:
    cls = type(value)
    return cls.__module__ == "numpy" and hasattr(value, "dtype") and value.dtype.kind in "iu" \
        and getattr(value, "ndim", 1) == 0


def _is_numpy_scalar(value) -> bool:
    return type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0 and \
        hasattr(value, "dtype")


def _double(value) -> bool:
    """torch's double: int, float, bool, a NumPy scalar, a 0-d tensor without grad."""
    if type(value) in (float, int, bool):
        return True
    if isinstance(value, Tensor):
        return value._data.ndim == 0 and not value.requires_grad
    return isinstance(value, (int, float)) or _is_numpy_scalar(value)


def _int_list(param, value):
    """torch's int[] check and conversion (see NOTE); raises Refused."""
    if isinstance(value, (tuple, list)):
        if not value:
            return value
        if type(value[0]) is bool or not _symint(value[0]):
            raise Refused(element=0)
        if all(type(v) is int for v in value):
            return value
        items = []
        for index, item in enumerate(value):
            if type(item) is bool or _symint(item):
                items.append(_as_int(item))
                continue
            raise Unpack(f"failed to unpack the object at pos {index + 1} with error "
                         f"\"type must be tuple of ints,but got {type_name(item)}\"")
        return type(value)(items) if type(value) in (tuple, list) else tuple(items)
    if param.size > 0 and type(value) is not bool and _symint(value):
        # a one-element bool tensor is 0 or 1 here (torch reads the list's ints, not SymInts)
        return int(value.item()) if isinstance(value, Tensor) else _as_int(value)
    raise Refused()


def accept(param, value, index):
    """value as the parameter takes it (converted where ember's code needs it), or Refused.
    `index` is the parameter's index (torch's "argument k" of a Tensor[] element message)."""
    kind = param.kind
    if kind in ("Tensor",):
        if isinstance(value, Tensor):
            return value
        if param.numbers_as_tensors and (
                type(value) in _PYTHON_SCALAR_TYPES or _is_numpy_scalar(value)):
            return value
        raise Refused()
    if kind in ("int64_t", "DeviceIndex"):
        if type(value) is int:
            return value
        if type(value) is not bool and _int(value) and not getattr(value, "requires_grad", 0):
            return _as_int(value)
        raise Refused()
    if kind == "SymInt":
        if type(value) is int:
            return value
        if type(value) is not bool and _symint(value):
            return _as_int(value)
        raise Refused()
    if kind in ("IntArrayRef", "SymIntArrayRef"):
        return _int_list(param, value)
    if kind == "double":
        if _double(value):
            return _as_number(value, float)
        raise Refused()
    if kind in ("Scalar", "complex"):
        if type(value) in _PYTHON_SCALAR_TYPES:
            return value
        if _double(value) or _is_numpy_scalar(value):
            return _as_number(value, None)
        raise Refused()
    if kind == "bool":
        if type(value) is bool:
            return value
        raise Refused()
    if kind in ("TensorList", "c10::List<::std::optional<Tensor>>"):
        if not isinstance(value, (tuple, list)):
            raise Refused()
        for i, item in enumerate(value):
            if not isinstance(item, Tensor):
                raise TypeError(f"expected Tensor as element {i} in argument {index}, but got "
                                f"{type_name(item)}")
        return value
    if kind == "ArrayRef<double>":
        if isinstance(value, (tuple, list)) and (
                not value or _double(value[0]) and not isinstance(value[0], Tensor)
                or type(value[0]) is complex):
            return value
        raise Refused()
    if kind == "ScalarList":
        if isinstance(value, (tuple, list)) and all(
                type(v) in _PYTHON_SCALAR_TYPES or _is_numpy_scalar(v) for v in value):
            return value
        raise Refused()
    return _accept_other(kind, value)


def _as_number(value, cast):
    """A 0-d tensor or NumPy scalar where a number goes, as a Python number."""
    if isinstance(value, Tensor):
        number = value._data.item()
        return cast(number) if cast is not None else number
    if type(value) in _PYTHON_SCALAR_TYPES:
        return value
    number = value.item()
    return cast(number) if cast is not None and not isinstance(number, complex) else number


def _accept_other(kind, value):
    """The parameter types that are one class each (dtype, device, str, generator...)."""
    cls = type(value)
    if kind == "ScalarType":
        ok = isinstance(value, _dtype_class) or (cls is type and value in _PYTHON_SCALAR_TYPES)
    elif kind == "Device":
        ok = cls is str or (cls is int) or cls.__name__ == "device"
    elif kind in ("c10::string_view", "std::string_view", "std::string"):
        ok = cls is str
    elif kind == "Layout":
        ok = cls.__name__ == "layout"
    elif kind == "MemoryFormat":
        ok = cls.__name__ == "memory_format"
    elif kind == "Generator":
        ok = cls.__name__ == "Generator"
    else:  # PyObject*, Storage, Stream, Dimname: not checked here
        ok = True
    if not ok:
        raise Refused()
    return value


# parameter types whose acceptance of a tensor depends on its value (0-d, dtype, grad)
_VALUE_DEPENDENT = {"int64_t", "DeviceIndex", "SymInt", "double", "Scalar", "complex",
                    "IntArrayRef", "SymIntArrayRef", "PyObject*"}
# argument types every value of which a parameter takes or refuses alike
_PLAIN = frozenset((int, float, bool, str, type(None), _dtype_class))


class Parser:
    """A public name's signatures, matched against a call as `PythonArgParser` does."""

    def __init__(self, signatures):
        parsed = [Signature(s) for s in signatures]
        # deprecated signatures are tried last
        self.signatures = [s for s in parsed if not s.hidden] + [s for s in parsed if s.hidden]
        self.name = self.signatures[0].name
        # per signature: positions and keywords where a tensor passes or not by its value
        self.dependent = [
            {key for index, param in enumerate(signature.params)
             if param.kind in _VALUE_DEPENDENT or signature.varargs
             for key in (index, *param.names)}
            for signature in self.signatures]

    def cacheable(self, args, kwargs, parsed, matched) -> bool:
        """Whether any call with these arguments' types parses as this one did (signature
        `matched`), unchanged: no value was converted, and each is of a plain type, a tuple of
        ints, or a tensor where neither this signature nor an earlier one looks at its value."""
        dependent = set().union(*self.dependent[:matched + 1])
        for key, value in (*enumerate(args), *kwargs.items()):
            if type(value) not in _PLAIN and not (
                    isinstance(value, Tensor) and key not in dependent) and not (
                    isinstance(value, (tuple, list)) and all(type(v) is int for v in value)):
                return False
        parsed_args, parsed_kwargs = parsed
        return all(a is b for a, b in zip(parsed_args, args)) and all(
            parsed_kwargs[k] is v for k, v in kwargs.items())

    def parse(self, args, kwargs):
        """((args, kwargs) as torch's parser converts them, the index of the signature that
        took them); TypeError (torch's message) when none does."""
        if len(self.signatures) == 1:
            return self.signatures[0].parse(args, kwargs, True), 0
        for index, signature in enumerate(self.signatures):
            parsed = signature.parse(args, kwargs, False)
            if parsed is not None:
                return parsed, index
        count = len(args) + len(kwargs)
        plausible = [s for s in self.signatures if not s.hidden and
                     s.required <= count <= len(s.params)]
        if len(plausible) == 1:
            plausible[0].parse(args, kwargs, True)
        got = [type_name(a) for a in args] + [f"{k}={type_name(kwargs[k])}"
                                               for k in sorted(kwargs)]
        shown = [s.shown() for s in self.signatures if not s.hidden]
        # torch's format_invalid_args: one signature inline, several as a list
        expected = shown[0] if len(shown) == 1 else "one of:\n" + "".join(
            f" * {line}\n" for line in shown)
        described = "".join(f"{item}, " for item in got)  # (torch drops the last ", " only
        described = described[:-2] if args else described  # after positional arguments)
        raise TypeError(f"{self.name}() received an invalid combination of arguments - got "
                        f"({described}), but expected {expected}")


@functools.cache
def parser(key):
    """The Parser of torch's `namespace.name` ("torch.roll", "Tensor.view", "nn.pad"), or None
    when torch's public object is not C-bound (its Python code has no such parser)."""
    signatures = table().get(key)
    return Parser(signatures) if signatures else None
