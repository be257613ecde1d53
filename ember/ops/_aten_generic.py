"""The aten ops of `ember.ops.aten` made from torch's schemas (ember/ops/_aten_schemas.txt): each
overload binds a call as `torch.ops` does and runs the ember function of the same op.

NOTE [Generic aten overloads]
tools/gen_aten_schemas.py writes, for every aten op that ember has (NOTE [How an aten overload
becomes an ember call] there), each of torch's overloads in torch's order: its schema and a
recipe `target/npos[/ignored[/g]]` (`_Recipe`), or `-` for an overload ember cannot run (a
TorchScript scalar op such as `add.int`, or a form ember's function lacks): listed, so that
`overloads()` and the errors are torch's, but NotImplementedError when called.
`ember.ops.aten.__getattr__` makes a packet of them on first access (ember/ops/aten.py). A
call:
  1. binds the arguments to the schema (ember/_library/schema.py's `bind`: torch's conversions
     and RuntimeErrors), after the conversions torch.ops makes that `bind` does not
     (`_prepared`): a Python number where add/mul/... take a Tensor (torch's
     `should_allow_numbers_as_tensors`), a single int for an `int[N]`, a bool or one-element
     tensor for a dtype (its ScalarType code); and the refusal of a tensor for a Scalar;
  2. calls `ember.<target>` (`.name`: the method of the first argument) with the first `npos`
     arguments positionally and the others by name (None ones left out: "not given");
     arguments equal to their defaults are left out too (ember's functions have the same
     defaults); arguments ember's function lacks (`ignored`) must hold a neutral value (None,
     the default, False where that is no change, strided, cpu; any for cuDNN switches), else
     NotImplementedError;
  3. writes an out= overload's result into its `Tensor(a!)` keyword arguments (`write_out`;
     with flag `g`, like torch, refusing while gradients are recorded for an argument that
     requires grad), and returns results as torch.ops does (a tuple, a list for `Tensor[]`,
     a ScalarType's code).
"""

import functools
import importlib
import os
import re

from ember._device import device as _device
from ember._library.schema import SCALAR_TYPE_CODES, FunctionSchema, bind, parse_schema
from ember._registry import write_out
from ember._tensor import Tensor, strided
from ember import _dtype as _dtypes
from ember.autograd.grad_mode import is_grad_enabled

_DATA = os.path.join(os.path.dirname(__file__), "_aten_schemas.txt")
_NUMBERS = (int, float, bool, complex)
# arguments whose values change no result of ember's (cuDNN switches, expand's tracing flag)
_NO_EFFECT = frozenset(("cudnn_enable", "cudnn_enabled", "implicit"))
_py_slice = slice
# schema syntax ember's parser does not read, and what it reads instead (`_Schema`)
_UNREAD = ((re.compile(r"\((\w+!?) -> \*\)"), r"(\1)"), (re.compile(r"\(\w+\|(\w+)\)"), r"(\1)"),
           (re.compile(r"\[\]\([^)]*\)"), "[]"), (re.compile(r"\(\*\)"), ""),
           (re.compile(r"\bDict\([^)]*\)|\bAnyEnumType\b|\bQScheme\b"), "Any"))
# torch's `should_allow_numbers_as_tensors` (torch/csrc/utils/python_arg_parser.cpp): the ops
# whose Tensor arguments torch.ops also fills from Python numbers
NUMBERS_AS_TENSORS = frozenset((
    "add", "add_", "div", "div_", "divide", "divide_", "mul", "mul_", "multiply", "multiply_",
    "sub", "sub_", "subtract", "subtract_", "true_divide", "true_divide_", "to", "_to_copy",
    "copy_", "copy", "floor_divide", "floor_divide_", "_conj"))


@functools.cache
def table() -> dict:
    """{aten name: [(overload, schema text, recipe)]} from _aten_schemas.txt, read on first use."""
    found = {}
    with open(_DATA) as data:
        for line in data:
            if not line.startswith("#"):
                text, recipe = line.rstrip("\n").split("\t")
                name, _, overload = text[:text.index("(")].partition(".")
                found.setdefault(name, []).append((overload or "default", text, recipe))
    return found


def overloads_of(name: str):
    """The (overload, schema text, recipe) rows of aten op `name`, or None: ember lacks it."""
    return table().get(name)


@functools.cache
def schema_of(name: str, overload: str):
    """The schema of an overload of aten op `name` in the table, or None."""
    for found, text, _ in table().get(name, ()):
        if found == overload:
            return _Schema("aten::" + text)
    return None


class _Recipe:
    """How an overload calls ember (NOTE [Generic aten overloads], step 2): `target/npos`, then
    optionally `/ignored` (names, comma-separated) and `/g` (an out= overload that refuses
    arguments requiring grad)."""

    __slots__ = ("target", "npos", "ignored", "refuses_grad")

    def __init__(self, text):
        target, npos, ignored, flags = (text + "///").split("/")[:4]
        self.target, self.npos = target, int(npos)
        self.ignored = frozenset(ignored.split(",")) - {""}
        self.refuses_grad = "g" in flags

    def call(self, positional, keywords):
        """Run the target with these arguments."""
        if self.target.startswith("."):
            return getattr(positional[0], self.target[1:])(*positional[1:], **keywords)
        return _function(self.target)(*positional, **keywords)


@functools.cache
def _function(target: str):
    """`ember.<target>` ('linalg.solve': ember.linalg.solve), found on first use."""
    module, _, name = target.rpartition(".")
    return getattr(importlib.import_module("ember." + module if module else "ember"), name)


class AtenOverload:
    """One schema of a generic aten op (torch's `OpOverload`): callable, `aten.add.Tensor`."""

    def __init__(self, packet, overload, text, recipe):
        self.overloadpacket, self._overloadname = packet, overload
        self.namespace, self._opname = "aten", packet.__name__
        self.__name__ = f"{packet.__name__}.{overload}"
        self._text, self._recipe = text, None if recipe == "-" else _Recipe(recipe)

    @functools.cached_property
    def _schema(self):
        """The schema (a FunctionSchema that prints as torch's `_schema`), parsed on use."""
        return _Schema("aten::" + self._text)

    def name(self) -> str:
        """'aten::add.Tensor' ('aten::mm' for a default overload)."""
        suffix = "" if self._overloadname == "default" else "." + self._overloadname
        return self.overloadpacket._qualified_op_name + suffix

    def mismatch(self, args, kwargs):
        """Why (args, kwargs) do not fit this schema, in torch's words (None: they fit)."""
        try:
            self.bound(args, kwargs)
        except RuntimeError as problem:
            return str(problem)
        return None

    def bound(self, args, kwargs) -> list:
        """One value per schema argument, converted as torch.ops converts them."""
        schema = self._schema
        numbers_ok = self._opname in NUMBERS_AS_TENSORS
        prepared, named, numbers = _prepared(schema, args, kwargs, numbers_ok)
        values = bind(schema, prepared, named)
        if schema.generic:
            _refuse_generic(schema, args, kwargs)
        for index, number in numbers.items():
            values[index] = number
        return values

    def call_fitting(self, args, kwargs):
        """Run the op on arguments that fit the schema."""
        return self.run(self.bound(args, kwargs))

    def __call__(self, /, *args, **kwargs):
        return self.run(self.bound(args, kwargs))

    def run(self, values):
        """Call ember's function with the bound values (NOTE [Generic aten overloads])."""
        recipe = self._recipe
        if recipe is None:
            raise NotImplementedError(f"ember does not implement the aten operator {self.name()}")
        outs, positional, keywords = [], [], {}
        for param, value in zip(self._schema.arguments, values):
            if param.kwarg_only and param.is_write:
                outs.append(value)
            elif param.name in recipe.ignored:
                self._check_neutral(param, value)
            elif len(positional) < recipe.npos:
                positional.append((param, value))
            elif value is not None and not _is_default(param, value):
                keywords[param.name] = value
        while positional and _is_default(*positional[-1]):
            positional.pop()  # (ember's function has the same defaults)
        if recipe.refuses_grad and is_grad_enabled() and _requires_grad(values, outs):
            raise RuntimeError(f"{self._opname}(): functions with out=... arguments don't support "
                               "automatic differentiation, but one of the arguments requires grad.")
        result = recipe.call([value for _, value in positional], keywords)
        if outs:
            result = write_out(result, outs[0] if len(outs) == 1 else tuple(outs),
                               False)  # (refuses_grad checked above, per overload)
        return _returned(self._schema, result)

    def _check_neutral(self, param, value):
        """NotImplementedError for a value ember's function has no argument to take."""
        unchanged = value is False and (not param.has_default or param.default in (None, False))
        cpu = isinstance(value, _device) and value.type == "cpu"
        if value is None or unchanged or cpu or value is strided or param.name in _NO_EFFECT or \
                _is_default(param, value):
            return
        raise NotImplementedError(f"{self.name()}: ember's {self._recipe.target.lstrip('.')} "
                                  f"takes no argument '{param.name}' (given {value!r})")

    def __repr__(self):
        return f"<OpOverload(op='aten.{self._opname}', overload='{self._overloadname}')>"

    def __str__(self):
        return f"aten.{self.__name__}"


class _Schema(FunctionSchema):
    """A schema parsed from torch's text, printing as that text: ember's parser reads no alias
    sets (`Tensor(a -> *)`), dicts or enums, so it reads a plainer text (`_UNREAD`)."""

    def __init__(self, text):
        plain = text
        for pattern, replacement in _UNREAD:
            plain = pattern.sub(replacement, plain)
        parsed = parse_schema(plain)
        super().__init__(parsed.name, parsed.overload_name, parsed.arguments, parsed.returns)
        self.text = text
        self.generic = any(a.type.base_type.base == "t" for a in self.arguments)

    def __str__(self):
        return self.text


def _is_default(param, value) -> bool:
    """Whether a value is the argument's default (None; a number of the default's type)."""
    if not param.has_default:
        return False
    default = param.default
    if default is None or value is None:
        return value is default
    return type(value) is type(default) and value == default


# ---- adapters: aten ops that are one line of ember's (targets `ops._aten_generic._<name>`) ---
def _to_copy(self, *, dtype=None, device=None, non_blocking=False, memory_format=None):
    """aten._to_copy: a copy of self, cast and moved as asked (`Tensor.to`, always a copy)."""
    return self.to(dtype=dtype, device=device, non_blocking=non_blocking, copy=True,
                   memory_format=memory_format)


def _index(self, indices):
    """aten.index.Tensor: self indexed by one tensor per dim, None for a whole dim."""
    return self[tuple(_py_slice(None) if i is None else i for i in indices)]


def _alias(self):
    """aten.alias: a view of all of self."""
    return self.view(self.shape)


def _threshold_backward(grad_output, self, threshold):
    """aten.threshold_backward: the gradient of threshold(self, threshold, value) (its value
    does not matter): grad_output where self > threshold, else 0."""
    return grad_output.masked_fill(self <= threshold, 0)


def _refuse_generic(schema, args, kwargs):
    """torch.ops' RuntimeError for a value given for a generic type (`t`, `t[]`), which it
    converts no Python value to (TorchScript's own list ops, `add.t`)."""
    for index, param in enumerate(schema.arguments):
        if param.type.base_type.base != "t" or index >= len(args) and param.name not in kwargs:
            continue
        value = args[index] if index < len(args) else kwargs[param.name]
        raise RuntimeError(
            f"{schema.name}() Expected a value of type '{param.type.repr_str()}' for argument "
            f"'{param.name}' but instead found type '{type(value).__name__}'.\nPosition: "
            f"{index}\nValue: {value!r}\nDeclaration: {schema}\nCast error details: "
            "toIValue() cannot handle converting to type: t")


def _requires_grad(values, outs) -> bool:
    """Whether a tensor argument other than the outs requires grad."""
    for value in values:
        for item in value if isinstance(value, list) else (value,):
            if isinstance(item, Tensor) and item.requires_grad and \
                    not any(item is out for out in outs):
                return True
    return False


class _NoNumber:
    """A tensor given for a Scalar, which torch.ops refuses (`bind` would take a one-element
    one): `bind` refuses this, which prints as the tensor in a message naming type 'Tensor'."""

    def __init__(self, tensor):
        self.tensor = tensor

    def __repr__(self):
        return repr(self.tensor)

    __str__ = __repr__


_NoNumber.__name__ = "Tensor"


def _prepared(schema, args, kwargs, numbers_ok):
    """(args, kwargs, {index: number}): torch.ops' conversions that `bind` lacks made (NOTE
    [Generic aten overloads], step 1); numbers for Tensor arguments are held out of `bind`
    (a placeholder tensor stands in) and put back after it."""
    params, numbers = schema.arguments, {}
    args = [_prepared_value(params[i], v, numbers, i, numbers_ok) if i < len(params) else v
            for i, v in enumerate(args)]
    index = {p.name: i for i, p in enumerate(params)}
    kwargs = {k: _prepared_value(params[index[k]], v, numbers, index[k], numbers_ok)
              if k in index else v for k, v in kwargs.items()}
    return args, kwargs, numbers


def _prepared_value(param, value, numbers, index, numbers_ok):
    """One argument after torch.ops' own conversions (NOTE [Generic aten overloads])."""
    type_ = param.type.inner if param.type.kind == "optional" else param.type
    if type_.base_type.base == "t":
        return [] if type_.kind == "list" else value  # (refused after `bind`: _refuse_generic)
    if type_.kind == "base":
        if type_.base == "Tensor" and numbers_ok and type(value) in _NUMBERS:
            numbers[index] = value
            return _placeholder()
        if type_.base == "Scalar" and isinstance(value, Tensor):
            return _NoNumber(value)
        return _dtype_value(value) if type_.base == "ScalarType" else value
    element = type_.inner
    if type_.kind == "list" and type_.size and element.kind == "base":
        # (pybind_utils' toIValue: a Python int for an int[N], a float for a float[N])
        if element.base == "int" and isinstance(value, int) or \
                element.base == "float" and isinstance(value, float):
            return [value] * type_.size
    return value


def _dtype_value(value):
    """A dtype argument as torch.ops reads it: a dtype, or a ScalarType code given as an int,
    a bool (True is int8's) or a one-element tensor; other values as they are (refused)."""
    if isinstance(value, Tensor) and value.numel() == 1:
        number = value.item()
        if type(number) is float and not -2.0 ** 63 <= number < 2.0 ** 63:
            return value  # torch's matching refuses NaN, inf and floats beyond int64
        value = int(number)
    if type(value) is bool:
        value = int(value)
    if type(value) is int:
        code = (value + 128) % 256 - 128  # (torch reads an int8_t: the low byte)
        return getattr(_dtypes, SCALAR_TYPE_CODES[code]) if code in SCALAR_TYPE_CODES else value
    return value


@functools.cache
def _placeholder() -> Tensor:
    """The tensor `bind` sees for a number in a Tensor argument (never used as one)."""
    return Tensor.__new__(Tensor)


_CODES = {name: code for code, name in SCALAR_TYPE_CODES.items()}


def _returned(schema, result):
    """A result as torch.ops returns it: several results a tuple, a `Tensor[]` a list, a
    ScalarType its code."""
    returns = schema.returns
    if len(returns) > 1:
        return tuple(result)
    if len(returns) == 1 and returns[0].type.kind == "list" and isinstance(result, tuple):
        return list(result)
    if len(returns) == 1 and str(returns[0].type) == "ScalarType" and \
            isinstance(result, _dtypes.dtype):
        return _CODES.get(str(result).rsplit(".", 1)[-1], result)
    return result
