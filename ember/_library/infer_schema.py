"""`infer_schema`: an operator schema read off a function's type annotations, exactly as
`torch.library.infer_schema` writes it ("(Tensor x, SymInt[] box) -> Tensor"), with its errors.

The table of supported annotations is PyTorch's (`torch._library.infer_schema`), built over
ember's Tensor, dtype and device; `Number` is `torch.types.Number` (int | float | bool).
"""

import collections.abc
import inspect
import typing
from types import GenericAlias

from ember._device import device
from ember._dtype import dtype
from ember._tensor import Tensor

Number = int | float | bool  # torch.types.Number
UNKNOWN_MUTATES = "unknown"


def _derived_types(base_type, cpp_type, list_base, optional_base_list, optional_list_base):
    """The annotations one base type stands for: itself, Optional, and the list forms."""
    result = [(base_type, cpp_type), (typing.Optional[base_type], f"{cpp_type}?")]

    def sequences(typ):
        return (typing.Sequence[typ], typing.List[typ],  # noqa: UP006
                GenericAlias(collections.abc.Sequence, (typ,)), GenericAlias(list, (typ,)))

    if list_base:
        result.extend((seq, f"{cpp_type}[]") for seq in sequences(base_type))
    if optional_base_list:
        result.extend((seq, f"{cpp_type}?[]") for seq in sequences(typing.Optional[base_type]))
    if optional_list_base:
        result.extend((typing.Optional[seq], f"{cpp_type}[]?") for seq in sequences(base_type))
    return result


def _supported_param_types() -> dict:
    """Annotation -> schema type, in torch's order (its error message lists them)."""
    data = [(Tensor, "Tensor", True, True, False), (int, "SymInt", True, False, True),
            (float, "float", True, False, True), (bool, "bool", True, False, True),
            (str, "str", False, False, False), (Number, "Scalar", True, False, False),
            (dtype, "ScalarType", False, False, False), (device, "Device", False, False, False)]
    result = []
    for line in data:
        result.extend(_derived_types(*line))
    return dict(result)


SUPPORTED_PARAM_TYPES = _supported_param_types()
SUPPORTED_RETURN_TYPES = {Tensor: "Tensor", typing.List[Tensor]: "Tensor[]",  # noqa: UP006
                          list[Tensor]: "Tensor[]", int: "SymInt", float: "float", bool: "bool",
                          Number: "Scalar"}


def infer_schema(prototype_function, /, *, mutates_args, op_name=None, tags=()) -> str:
    """The schema of a function with type hints (matches `torch.library.infer_schema`):
    `op_name(args) -> returns`, or `(args) -> returns` without a name."""
    sig = inspect.signature(prototype_function)
    if type(mutates_args) is not str:
        mutates_args = tuple(mutates_args)

    def error_fn(what):
        raise ValueError(f"infer_schema(func): {what} Got func with signature {sig})")

    resolve = _annotation_resolver(prototype_function.__globals__, error_fn)
    params, seen = [], set()
    for idx, (name, param) in enumerate(sig.parameters.items()):
        if param.kind not in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              inspect.Parameter.KEYWORD_ONLY):
            error_fn("We do not support positional-only args, varargs, or varkwargs.")
        if param.kind == inspect.Parameter.KEYWORD_ONLY and "*" not in params:
            params.append("*")
        if param.annotation is inspect.Parameter.empty:
            error_fn(f"Parameter {name} must have a type annotation.")
        schema_type = _param_schema_type(name, param, resolve(param.annotation), error_fn)
        schema_type = _mark_mutated(name, idx, schema_type, mutates_args, error_fn)
        seen.add(name)
        params.append(_param_text(name, param, schema_type, error_fn))
    if mutates_args != UNKNOWN_MUTATES:
        not_seen = set(mutates_args) - seen
        if not_seen:
            error_fn(f"{not_seen} in mutates_args were not found in the custom op's signature. "
                     "mutates_args should contain the names of all args that the custom op "
                     "mutates, or just the string 'unknown' if you don't know.")
    ret = parse_return(resolve(sig.return_annotation), error_fn)
    if op_name is not None:
        return f"{op_name}({', '.join(params)}) -> {ret}"
    return f"({', '.join(params)}) -> {ret}"


def _annotation_resolver(globals_, error_fn):
    """A function turning an annotation into a type, evaluating string annotations (also
    inside generics, `list["Tensor"]`) in the function's globals."""

    def convert(text):
        try:
            return eval(text, globals_)  # noqa: S307 (torch evaluates string annotations so)
        except NameError as e:
            error_fn(f"Unsupported type annotation {text}. It is not a type. ({e}). If you are "
                     "using 'from __future__ import annotations', note that annotations are "
                     "evaluated lazily as strings; make sure all types referenced in "
                     "annotations are importable at module scope, not only inside a local "
                     "function.")
        except Exception as e:
            error_fn(f"Unsupported type annotation {text}. It is not a type. "
                     f"({type(e).__name__}: {e})")

    def resolve(annotation):
        if isinstance(annotation, str):
            return convert(annotation)
        origin = typing.get_origin(annotation)
        if origin:
            args = tuple(resolve(a) for a in typing.get_args(annotation))
            if args != typing.get_args(annotation):
                return GenericAlias(origin, args)
        return annotation

    return resolve


def _param_schema_type(name, param, annotation, error_fn) -> str:
    """The schema type of one parameter's annotation, or torch's error for an unsupported one."""
    if annotation in SUPPORTED_PARAM_TYPES:
        return SUPPORTED_PARAM_TYPES[annotation]
    valid = f"The valid types are: {SUPPORTED_PARAM_TYPES.keys()}."
    if getattr(annotation, "__origin__", None) is tuple:
        list_type = _tuple_to_list(annotation)
        example = f"For example, {list_type}.\n\n" if list_type in SUPPORTED_PARAM_TYPES \
            else "\n\n"
        error_fn(f"Parameter {name} has unsupported type {param.annotation}. We do not support "
                 "Tuple inputs in schema. As a workaround, please try to use List instead. "
                 f"{example}{valid}")
    error_fn(f"Parameter {name} has unsupported type {param.annotation}. {valid}")


def _tuple_to_list(tuple_type):
    """list[...] with a tuple annotation's element types (torch's suggestion in its error)."""
    args = typing.get_args(tuple_type)
    if tuple_type is typing.Tuple or tuple_type is tuple or not args:  # noqa: UP006
        return list
    if len(args) == 1 or (len(args) == 2 and args[1] is Ellipsis):
        return list[args[0]]
    return list[typing.Union[tuple(args)]]


def _mark_mutated(name, idx, schema_type, mutates_args, error_fn) -> str:
    """`Tensor(a<idx>!)...` for a parameter the op writes to, else the type unchanged."""
    if type(mutates_args) is str:
        if mutates_args != UNKNOWN_MUTATES:
            raise ValueError("mutates_args must either be a sequence of the names of the "
                             "arguments that are mutated or the string 'unknown'. ")
        if not schema_type.startswith("Tensor"):
            return schema_type
    elif name not in mutates_args:
        return schema_type
    elif not schema_type.startswith("Tensor"):
        error_fn(f"Parameter {name} is in mutable_args but only Tensors or collections of "
                 "Tensors can be mutated")
    return f"Tensor(a{idx}!){schema_type[len('Tensor'):]}"


def _param_text(name, param, schema_type, error_fn) -> str:
    """`type name` or `type name=default`, the default written as torch writes it."""
    default = param.default
    if default is inspect.Parameter.empty:
        return f"{schema_type} {name}"
    if default is None or isinstance(default, (int, float, bool)):
        text = str(default)
    elif isinstance(default, (str, device)):
        text = f'"{default}"'
    elif isinstance(default, dtype):
        text = str(default).removeprefix("torch.")
    else:
        error_fn(f"Parameter {name} has an unsupported default value type {type(default)}. "
                 "Please file an issue on GitHub so we can prioritize this.")
    return f"{schema_type} {name}={text}"


def parse_return(annotation, error_fn) -> str:
    """The schema of the return annotation: 'Tensor', '(Tensor, SymInt)', '()' for None."""
    if annotation is None:
        return "()"
    if annotation is inspect.Parameter.empty:
        error_fn("No return type annotation was provided. Please add one.")
    if typing.get_origin(annotation) is not tuple:
        if annotation not in SUPPORTED_RETURN_TYPES:
            error_fn(f"Return has unsupported type {annotation}. The valid types are: "
                     f"{SUPPORTED_RETURN_TYPES}.")
        return SUPPORTED_RETURN_TYPES[annotation]
    args = typing.get_args(annotation)
    for arg in args:
        if arg not in SUPPORTED_RETURN_TYPES:
            error_fn(f"Return has unsupported type {annotation}. The valid types are: "
                     f"{SUPPORTED_RETURN_TYPES}.")
    output = ", ".join(SUPPORTED_RETURN_TYPES[arg] for arg in args)
    return f"(({output}))" if len(args) == 1 else f"({output})"
