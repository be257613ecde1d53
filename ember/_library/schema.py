"""Operator schemas as PyTorch writes them, `ns::name.overload(Tensor x, int n=2) -> Tensor`:
parsing (with the parser's error messages), printing as `OpOverload._schema` prints, and
matching a Python call against a schema as `torch.ops` does (its conversions and errors).

NOTE [What a schema type is]
A type is a base name (`Tensor`, `SymInt`, `float`, ...) with an optional alias annotation
(`Tensor(a!)`: written to in place) and suffixes read left to right: `[]` (or `[N]`) makes a
list, `?` makes it optional, so `Tensor?[]` is a list of optional tensors and `SymInt[]?` an
optional list. `SchemaType` keeps that nesting (`kind` "base", "list" or "optional").
"""

import re

from ember import _dtype as _dtypes
from ember._device import device as _device
from ember._tensor import Tensor

_BASE_TYPES = ("Tensor", "SymInt", "int", "float", "bool", "str", "Scalar", "ScalarType",
               "Device", "Layout", "MemoryFormat", "Generator", "Storage", "Stream", "t", "Any",
               "SymFloat", "SymBool", "complex")
# how PyTorch names a schema type in a type-mismatch message (`Type::repr_str`)
_REPR = {"SymInt": "int", "ScalarType": "int", "Layout": "int", "MemoryFormat": "int",
         "Scalar": "number", "SymFloat": "float", "SymBool": "bool"}
# torch's ScalarType codes, as a dtype default is printed and as an int passed for a dtype reads
SCALAR_TYPE_CODES = {0: "uint8", 1: "int8", 2: "int16", 3: "int32", 4: "int64", 5: "float16",
                     6: "float32", 7: "float64", 9: "complex64", 10: "complex128", 11: "bool",
                     15: "bfloat16"}
_CODE_OF = {name: code for code, name in SCALAR_TYPE_CODES.items()}
_UNKNOWN_TYPE = (
    "\nunknown type specifier. Common valid schema types include Tensor, SymInt, int, float, "
    "bool, Scalar; for a full list, please see "
    "https://github.com/pytorch/pytorch/blob/main/aten/src/ATen/native/README.md#func :")
_NO_DEFAULT = object()
_TOKEN = re.compile(r"\s*(?:(?P<arrow>->)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
                    r"|(?P<string>\"[^\"]*\"|'[^']*')|(?P<char>\S))")


# ---- types, arguments, schemas --------------------------------------------------------------
class SchemaType:
    """One schema type (NOTE [What a schema type is])."""

    __slots__ = ("kind", "inner", "base", "alias", "size")

    def __init__(self, kind, inner=None, base=None, alias=None, size=None):
        self.kind, self.inner, self.base, self.alias, self.size = kind, inner, base, alias, size

    @property
    def base_type(self) -> "SchemaType":
        """The innermost type, the one with the base name and the alias annotation."""
        return self if self.kind == "base" else self.inner.base_type

    def is_tensor_like(self) -> bool:
        """Whether values of this type are tensors (or lists / optionals of them)."""
        return self.base_type.base == "Tensor"

    def repr_str(self) -> str:
        """The type as PyTorch names it in errors: 'Optional[Tensor]', 'List[int]'."""
        if self.kind == "optional":
            return f"Optional[{self.inner.repr_str()}]"
        if self.kind == "list":
            return f"List[{self.inner.repr_str()}]"
        return _REPR.get(self.base, self.base)

    def __str__(self):
        if self.kind == "optional":
            return f"{self.inner}?"
        if self.kind == "list":
            return f"{self.inner}[{'' if self.size is None else self.size}]"
        return self.base + (f"({self.alias[0]}{'!' if self.alias[1] else ''})" if self.alias
                            else "")


class Argument:
    """One parameter of a schema: its name, type, default and whether it is keyword-only."""

    __slots__ = ("name", "type", "default", "kwarg_only")

    def __init__(self, name, type_, default=_NO_DEFAULT, kwarg_only=False):
        self.name, self.type, self.default, self.kwarg_only = name, type_, default, kwarg_only

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT

    @property
    def is_write(self) -> bool:
        """Whether the schema says the op writes to this argument (`Tensor(a!)`)."""
        alias = self.type.base_type.alias
        return alias is not None and alias[1]

    def __str__(self):
        text = f"{self.type} {self.name}"
        return text if not self.has_default else f"{text}={_format_default(self.default)}"


class Return:
    """One result of a schema: its type and optional name."""

    __slots__ = ("name", "type")

    def __init__(self, name, type_):
        self.name, self.type = name, type_

    def __str__(self):
        return f"{self.type} {self.name}" if self.name else str(self.type)


class FunctionSchema:
    """A parsed schema (torch's `FunctionSchema`); str() prints it as PyTorch does."""

    def __init__(self, name, overload_name, arguments, returns):
        self.name, self.overload_name = name, overload_name
        self.arguments, self.returns = tuple(arguments), tuple(returns)

    @property
    def is_mutable(self) -> bool:
        return any(a.is_write for a in self.arguments)

    def is_view(self) -> bool:
        """Whether a result aliases an input without writing it (`-> Tensor(a)`)."""
        return any(r.type.base_type.alias is not None for r in self.returns)

    def __str__(self):
        params, keyword_only = [], False
        for argument in self.arguments:
            if argument.kwarg_only and not keyword_only:
                params.append("*")
                keyword_only = True
            params.append(str(argument))
        returns = self.returns
        if len(returns) == 1 and not returns[0].name:
            result = str(returns[0])
        else:
            result = "(" + ", ".join(str(r) for r in returns) + ")"
        name = self.name + (f".{self.overload_name}" if self.overload_name else "")
        return f"{name}({', '.join(params)}) -> {result}"


def _format_default(value) -> str:
    """A default value as PyTorch prints it in a schema (`1.`, `"cpu"`-less `cpu`, dtype codes)."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        text = f"{value:.17g}"
        return text if any(c in text for c in ".en") else text + "."
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_format_default(v) for v in value) + "]"
    if isinstance(value, _dtypes.dtype):
        return str(_CODE_OF.get(value.name, value.name))
    return str(value)


# ---- parsing --------------------------------------------------------------------------------
class _Token:
    __slots__ = ("kind", "text", "start", "end")

    def __init__(self, kind, text, start, end):
        self.kind, self.text, self.start, self.end = kind, text, start, end


def _tokens(text):
    """The schema's tokens as torch's lexer splits them, ending with an 'eof' token."""
    found, position = [], 0
    while True:
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            found.append(_Token("eof", "", len(text), len(text)))
            return found
        kind = match.lastgroup
        value = match.group(kind)
        found.append(_Token(value if kind == "char" else kind, value, match.start(kind),
                            match.end(kind)))
        position = match.end()


class _Parser:
    """A recursive-descent reader of one schema string."""

    def __init__(self, text):
        self.text, self.tokens, self.index = text, _tokens(text), 0

    def peek(self, kind=None):
        token = self.tokens[self.index]
        return token if kind is None else token.kind == kind

    def take(self):
        self.index += 1
        return self.tokens[self.index - 1]

    def expect(self, kind) -> _Token:
        if not self.peek(kind):
            raise self.error(f"expected {kind} but found '{self.peek().kind}' here:")
        return self.take()

    def error(self, what, token=None) -> RuntimeError:
        """RuntimeError(what), then the schema with the offending token underlined, as torch."""
        token = token or self.peek()
        if token.kind == "eof":
            return RuntimeError(f"{what}\n{self.text}")
        marker = " " * token.start + "~" * (token.end - token.start)
        return RuntimeError(f"{what}\n{self.text}\n{marker} <--- HERE\n")


def parse_qualname(text: str) -> tuple:
    """('ns', 'name') of 'ns::name', refusing what is not two identifiers as torch does."""
    parser = _Parser(text)
    namespace, name = parser.expect("ident").text, ""
    if parser.peek(":"):
        parser.take()
        parser.expect(":")
        name = parser.expect("ident").text
    parser.expect("eof")
    return namespace, name


def parse_schema(text: str) -> FunctionSchema:
    """The FunctionSchema of 'name.overload(args) -> returns' (a RuntimeError as torch's)."""
    parser = _Parser(text)
    name = parser.expect("ident").text
    if parser.peek(":"):
        parser.take()
        parser.expect(":")
        name = f"{name}::{parser.expect('ident').text}"
    overload = ""
    if parser.peek("."):
        parser.take()
        overload = parser.expect("ident").text
    if not parser.peek("("):
        parser.expect("eof")
    arguments = _parse_arguments(parser)
    parser.expect("arrow")
    returns = _parse_returns(parser)
    return FunctionSchema(name, overload, arguments, returns)


def _parse_arguments(parser) -> list:
    """The arguments of '(type name=default, *, ...)', keyword-only after '*'."""
    parser.expect("(")
    arguments, keyword_only = [], False
    while not parser.peek(")"):
        if parser.peek("*"):
            parser.take()
            keyword_only = True
        else:
            type_ = _parse_type(parser)
            name = parser.expect("ident").text
            default = _parse_default(parser, type_) if parser.peek("=") else _NO_DEFAULT
            arguments.append(Argument(name, type_, default, keyword_only))
        _list_separator(parser)
        if parser.peek(")") and parser.tokens[parser.index - 1].kind == ",":
            parser.expect("ident")  # torch refuses a trailing comma
    parser.take()
    return arguments


def _list_separator(parser):
    """Take the ',' between two items of a (...) list; its error when neither ',' nor ')'."""
    if parser.peek(","):
        parser.take()
    elif not parser.peek(")"):
        raise parser.error(f"expected ) but found '{parser.peek().kind}' here:")


def _parse_returns(parser) -> list:
    """The results: one type, or '(type [name], ...)'."""
    if not parser.peek("("):
        return [Return("", _parse_type(parser))]
    parser.take()
    returns = []
    while not parser.peek(")"):
        type_ = _parse_type(parser)
        name = parser.take().text if parser.peek("ident") else ""
        returns.append(Return(name, type_))
        _list_separator(parser)
    parser.take()
    return returns


def _parse_type(parser) -> SchemaType:
    """A type with its alias annotation and suffixes (NOTE [What a schema type is])."""
    token = parser.expect("ident")
    if token.text not in _BASE_TYPES:
        raise parser.error(_UNKNOWN_TYPE, token)
    type_ = SchemaType("base", base=token.text)
    if parser.peek("("):  # an alias annotation, `Tensor(a!)`
        parser.take()
        alias = parser.expect("ident").text
        write = parser.peek("!")
        if write:
            parser.take()
        parser.expect(")")
        type_.alias = (alias, write)
    while parser.peek("[") or parser.peek("?"):
        if parser.take().kind == "?":
            type_ = SchemaType("optional", type_)
            continue
        size = int(parser.take().text) if parser.peek("number") else None
        parser.expect("]")
        type_ = SchemaType("list", type_, size=size)
    return type_


def _parse_default(parser, type_):
    """The default value after '=', as the Python value a call gets."""
    parser.take()
    value = _parse_value(parser)
    if type_.kind == "list" and not isinstance(value, list) and value is not None:
        value = [value] * (type_.size or 1)
    base = type_.base_type.base
    if base in ("float", "SymFloat") and type(value) is int:
        value = float(value)
    elif base in ("float", "SymFloat") and isinstance(value, list):
        value = [float(v) for v in value]
    elif base == "ScalarType" and isinstance(value, (str, int)):
        value = getattr(_dtypes, SCALAR_TYPE_CODES.get(value, value) if isinstance(value, int)
                        else value)
    elif base == "Device" and isinstance(value, str):
        value = _device(value)
    return value


def _parse_value(parser):
    """One default value: a number, string, name, None/True/False or [list]."""
    token = parser.take()
    if token.kind == "[":
        items = []
        while not parser.peek("]"):
            items.append(_parse_value(parser))
            if not parser.peek("]"):
                parser.expect(",")
        parser.take()
        return items
    if token.kind == "-":
        return -_parse_value(parser)
    if token.kind == "number":
        return float(token.text) if any(c in token.text for c in ".eE") else int(token.text)
    if token.kind == "string":
        return token.text[1:-1]
    if token.kind == "ident":
        return {"None": None, "True": True, "False": False}.get(token.text, token.text)
    raise parser.error(f"expected a default value but found '{token.kind}' here:", token)


# ---- matching a call ------------------------------------------------------------------------
class _Mismatch(Exception):
    """A value that does not convert to its schema type; args[0] is torch's detail line."""


def _cast_detail(value) -> str:
    """pybind11's words for a value it cannot convert."""
    return (f"\nCast error details: Unable to cast Python instance of type {type(value)} to C++ "
            "type '?' (#define PYBIND11_DETAILED_ERROR_MESSAGES or compile in debug mode for "
            "details)")


def _one_element(value):
    """The Python number in a one-element tensor, else the value itself."""
    return value.item() if isinstance(value, Tensor) and value.numel() == 1 else value


def _to_int(value):
    """An int argument: an int or bool, or a one-element tensor's value."""
    if isinstance(value, Tensor) and value.numel() == 1:
        return int(value.item())  # (a float tensor's value truncated, as torch reads it)
    if type(value) in (int, bool):
        return int(value)
    raise _Mismatch(_cast_detail(value))


def _to_float(value):
    """A float argument: any Python real number, or a one-element tensor's value."""
    value = _one_element(value)
    if type(value) in (int, float, bool):
        return float(value)
    raise _Mismatch(_cast_detail(value))


def _to_bool(value):
    """A bool argument: torch takes any number (and None, as False)."""
    value = _one_element(value)
    if value is None or type(value) in (int, float, bool):
        return bool(value)
    raise _Mismatch(_cast_detail(value))


def _to_str(value):
    """A str argument: a str only."""
    if isinstance(value, str):
        return value
    raise _Mismatch(_cast_detail(value))


def _to_tensor(value):
    """A Tensor argument (None passes: torch takes it as an undefined tensor)."""
    if value is None or isinstance(value, Tensor):
        return value
    raise _Mismatch(f"\nCast error details: Unable to cast {value} to Tensor")


def _to_number(value):
    """A Scalar argument: a Python number, or a one-element tensor's value."""
    value = _one_element(value)
    if type(value) in (int, float, bool, complex):
        return value
    raise _Mismatch(f"\nCast error details: Cannot cast {value} to number")


def _to_dtype(value):
    """A ScalarType argument: a dtype, or its ScalarType code."""
    if isinstance(value, _dtypes.dtype):
        return value
    if type(value) is int and value in SCALAR_TYPE_CODES:
        return getattr(_dtypes, SCALAR_TYPE_CODES[value])
    raise _Mismatch(_cast_detail(value))


def _to_device(value):
    """A Device argument: a device or a device string."""
    if isinstance(value, (_device, str)):
        return _device(value)
    raise _Mismatch(_cast_detail(value))


_CONVERTERS = {"Tensor": _to_tensor, "SymInt": _to_int, "int": _to_int, "float": _to_float,
               "SymFloat": _to_float, "bool": _to_bool, "SymBool": _to_bool, "str": _to_str,
               "Scalar": _to_number, "complex": _to_number, "ScalarType": _to_dtype,
               "Device": _to_device}


def _convert(type_, value):
    """value as a kernel receives it for an argument of this type; _Mismatch if it doesn't fit."""
    if type_.kind == "optional":
        return None if value is None else _convert(type_.inner, value)
    if type_.kind == "list":
        return _convert_list(type_, value)
    converter = _CONVERTERS.get(type_.base)
    return value if converter is None else converter(value)


def _convert_list(type_, value):
    """A list argument: a list or tuple whose items convert, as a new list."""
    if isinstance(value, Tensor) or isinstance(value, (str, bytes)):
        raise _Mismatch(_cast_detail(value))
    if not isinstance(value, (list, tuple)):
        if type_.inner.repr_str() != "int":  # (torch iterates only what an int list is given)
            raise _Mismatch(_cast_detail(value))
        try:
            value = list(value)
        except TypeError as error:
            raise _Mismatch(f"\n Python error details: TypeError: {error}") from None
    items = []
    for item in value:
        try:
            items.append(_convert(type_.inner, item))
        except _Mismatch:  # torch names the list for tensor lists, the element otherwise
            raise _Mismatch(_cast_detail(value if type_.is_tensor_like() else item)) from None
    return items


def convert_argument(schema, index, value):
    """The value of argument `index` converted, or torch's RuntimeError for a mismatch."""
    argument = schema.arguments[index]
    try:
        return _convert(argument.type, value)
    except _Mismatch as mismatch:
        raise RuntimeError(
            f"{schema.name}() Expected a value of type '{argument.type.repr_str()}' for argument "
            f"'{argument.name}' but instead found type '{type(value).__name__}'.\n"
            f"Position: {index}\nValue: {value!r}\nDeclaration: {schema}{mismatch.args[0]}"
        ) from None


def bind(schema, args, kwargs) -> list:
    """One converted value per schema argument, defaults filled in, as torch.ops matches a
    call (`createStackForSchema`); its RuntimeError when the call does not fit."""
    params = schema.arguments
    given = len(args) + len(kwargs)
    if given > len(params):
        raise RuntimeError(f"{schema.name}() expected at most {len(params)} argument(s) but "
                           f"received {given} argument(s). Declaration: {schema}")
    values = []
    for index, value in enumerate(args):
        if params[index].kwarg_only:
            raise RuntimeError(f"{schema.name}() takes {index} positional argument(s) but "
                               f"{len(args)} was/were given.  Declaration: {schema}")
        values.append(convert_argument(schema, index, value))
    consumed = 0
    for index in range(len(args), len(params)):
        param = params[index]
        if param.name in kwargs:
            values.append(convert_argument(schema, index, kwargs[param.name]))
            consumed += 1
        elif param.has_default:
            values.append(list(param.default) if isinstance(param.default, list)
                          else param.default)
        else:
            raise RuntimeError(f"{schema.name}() is missing value for argument '{param.name}'. "
                               f"Declaration: {schema}")
    if consumed != len(kwargs):
        raise RuntimeError(_kwargs_problem(schema, kwargs))
    return values


def _kwargs_problem(schema, kwargs) -> str:
    """Why some keyword arguments were left over (`FunctionSchema::findErrorInKwargs`)."""
    names = {param.name for param in schema.arguments}
    for key in kwargs:
        if key not in names:
            return (f"Unknown keyword argument '{key}' for operator '{schema.name}'. "
                    f"Schema: {schema}")
    duplicated = next(p.name for p in schema.arguments if p.name in kwargs)
    return (f"Argument '{duplicated}' specified both as positional and keyword argument. "
            f"Schema: {schema}")


def split(schema, values) -> tuple:
    """(positional args, keyword-only kwargs) of bound values, all of them (`fill_defaults`)."""
    args = tuple(v for v, p in zip(values, schema.arguments) if not p.kwarg_only)
    kwargs = {p.name: v for v, p in zip(values, schema.arguments) if p.kwarg_only}
    return args, kwargs


def _is_default(param, value) -> bool:
    """Whether value is the parameter's default (same type and value)."""
    if not param.has_default:
        return False
    if param.default is None or value is None or isinstance(value, Tensor):
        return value is param.default
    return type(value) is type(param.default) and value == param.default


def strip_defaults(schema, values) -> tuple:
    """(args, kwargs) as the dispatcher hands them to a Python kernel: trailing positional
    values equal to their defaults dropped, and keyword-only ones equal to their defaults."""
    args, kwargs = split(schema, values)
    positional = [p for p in schema.arguments if not p.kwarg_only]
    end = len(args)
    while end and _is_default(positional[end - 1], args[end - 1]):
        end -= 1
    by_name = {p.name: p for p in schema.arguments}
    kept = {k: v for k, v in kwargs.items() if not _is_default(by_name[k], v)}
    return args[:end], kept


# ---- results --------------------------------------------------------------------------------
def _return_value(type_, value):
    """One result converted as the dispatcher takes it from a Python kernel, or its error."""
    if type_.kind == "list":
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"Object of type '{type(value).__name__}' is not an instance of "
                            "'sequence'")
        return [_return_value(type_.inner, v) for v in value]
    if type_.kind == "optional" and value is None:
        return None
    if type_.base_type.base == "Tensor" and not isinstance(value, Tensor):
        raise RuntimeError(f"Unable to cast {value} to Tensor")
    try:
        return _convert(type_, value)
    except _Mismatch as mismatch:
        raise RuntimeError(mismatch.args[0].removeprefix("\nCast error details: ")) from None


def check_returns(schema, result, qualname):
    """A kernel's result as the op returns it, after torch's checks against the schema."""
    returns = schema.returns
    if not returns:
        if result is not None:
            raise RuntimeError(f"Expected PythonKernelHolder for {qualname} to return None but "
                               "it returned something else instead.")
        return None
    if len(returns) == 1:
        return _return_value(returns[0].type, result)
    if not isinstance(result, (tuple, list)) or len(result) != len(returns):
        shown = result[0] if isinstance(result, (tuple, list)) and result else result
        raise TypeError(f"Object of type '{type(shown).__name__}' is not an instance of "
                        "'sequence'")
    return tuple(_return_value(r.type, v) for r, v in zip(returns, result))
