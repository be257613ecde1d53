"""Where ops become public: `ember.<name>`, `Tensor.<name>`, in-place and operator forms.

NOTE [Declaring an op's public faces]
PyTorch shows one op under several names: the function `torch.mul`, the method `Tensor.mul`,
the in-place method `Tensor.mul_`, aliases (`torch.multiply`, `Tensor.multiply`), operators
(`a * b`, `2 * a`, `a *= b`) and an `out=` argument. ember declares all of them in one line,
a decorator right above the op's public function:

    @op(method=True, inplace=True, aliases=("multiply",), operators=("__mul__", "__rmul__"),
        inplace_operators=("__imul__",), out=True)
    def mul(input, other): ...

The decorator returns the function unchanged, so modules call each other's ops directly. It
binds the Tensor faces here, with `setattr`, and files the `ember.*` faces in `FUNCTIONS`,
which `ember/__init__.py` puts in the package namespace: those are the only two places where
anything is bound, and `Tensor` itself (`ember/_tensor.py`) holds no op. Methods that are not
ops (`Tensor.backward`, `Tensor.__repr__`) are declared the same way with `tensor_method`, in
the module that implements them. `grep -rn "def mul\\b" ember` finds every face of `mul`.

An in-place variant computes the result out of place with the op itself and writes it into
`self` (`Tensor._inplace_update`, see NOTE [In-place ops and autograd]); ops with a cheaper
in-place form define that method themselves with `tensor_method("relu_")`.
"""

import functools
import inspect
import types

from ember._backend import get_array_module, xp
from ember._tensor import Tensor

FUNCTIONS = {}  # name -> callable: the `ember.<name>` faces, bound by ember/__init__.py


def tensor_method(*names):
    """Decorator: make the function `Tensor.<name>` for each name (default: its own name)."""

    def bind(fn):
        for name in names or (fn.__name__,):
            setattr(Tensor, name, fn)
        return fn

    return bind


def torch_function(*names):
    """Decorator: make the function `ember.<name>` for each name (default: its own name)."""

    def declare(fn):
        for name in names or (fn.__name__,):
            FUNCTIONS[name] = fn
        return fn

    return declare


def op(fn=None, *, function=True, method=False, inplace=False, aliases=(), operators=(),
       reflected=(), inplace_operators=(), out=False):
    """Decorator declaring an op's public faces (see NOTE [Declaring an op's public faces]).

    function: `ember.<name>` (and `ember.<alias>`); method: `Tensor.<name>` (and aliases);
    inplace: `Tensor.<name>_` (and `<alias>_`), computed out of place then written into self;
    operators: dunder methods bound to the op itself (`__add__`, `__radd__` for a symmetric op);
    reflected: dunder methods that swap the operands (`__rsub__(self, other)` = op(other, self));
    inplace_operators: dunder methods bound to the in-place variant (`__iadd__`);
    out: the `ember.<name>` face takes `out=` and writes the result into that tensor.
    """

    def declare(fn):
        names = (fn.__name__,) + tuple(aliases)
        if function:
            public = tensor_arguments(with_out(fn) if out else fn)
            for name in names:
                FUNCTIONS[name] = public
        if method:
            for name in names:
                setattr(Tensor, name, fn)
        for name in operators:
            setattr(Tensor, name, equality_operator(fn) if name in ("__eq__", "__ne__") else fn)
        for name in reflected:
            setattr(Tensor, name, reflected_variant(fn, name))
        if inplace:
            variant = inplace_variant(fn)
            for name in names:
                setattr(Tensor, name + "_", variant)
            for name in inplace_operators:
                setattr(Tensor, name, variant)
        return fn

    return declare(fn) if fn is not None else declare


# NOTE [Not a tensor is a TypeError]
# `torch.abs(None)`, `torch.relu([1, 2])`, `torch.add(t, "a")` raise TypeError naming the argument
# in torch. Without a check, ember's op code would trip over the value somewhere inside (an
# AttributeError on `.dtype`, a NumPy ValueError), so the `ember.<name>` face of every op whose
# first parameter is `input` (and second, if it is `other`) checks for the values that can never
# be tensors (None, strings, containers) and raises torch's TypeError. Numbers pass through: many
# ops accept them, and those that don't raise their own error. Methods and operators need no
# check: there `self` is a tensor already.
# Any other argument is checked where torch's argument parser would refuse it, by what the op's
# code tripped over (`_argument_error`): an AttributeError "'float' object has no attribute ..."
# names the argument of that type (`addcmul(t, t, 1.5)`: must be Tensor, not float), and a
# tensor of several elements used as a number ("only one element tensors can be converted",
# "Boolean value of Tensor with more than one value", "only integer tensors of a single
# element") names the first such tensor after the input (`select(t, 0, t2)`: must be int, not
# Tensor); NumPy's broadcasting ValueError becomes torch's RuntimeError. tests/fuzz_ops.py
# throws such arguments at every op of op_db.
_NEVER_TENSORS = (type(None), str, bytes, list, tuple, dict, set)
_MISSING = object()


def parameter_names(fn) -> list:
    """fn's parameter names in order, as `inspect.signature(fn).parameters` lists them.

    For a plain function (or a `functools.wraps` chain ending in one) they are read from its code
    object, which gives the same names without building a Signature: `import ember` declares
    ~550 faces, and their signatures were a tenth of the import's time.
    """
    target = None  # where inspect.signature stops following the `__wrapped__` chain
    if type(fn) is types.FunctionType:
        target = inspect.unwrap(fn, stop=lambda f: hasattr(f, "__signature__"))
    if type(target) is not types.FunctionType or any(
            hasattr(target, name) for name in ("__signature__", "_partialmethod",
                                               "__text_signature__")):
        return list(inspect.signature(fn).parameters)
    code = target.__code__
    positional, keyword_only = code.co_argcount, code.co_kwonlyargcount
    names = code.co_varnames
    varargs = names[positional + keyword_only:][:1] if code.co_flags & inspect.CO_VARARGS else ()
    rest = positional + keyword_only + len(varargs)
    varkw = names[rest:rest + 1] if code.co_flags & inspect.CO_VARKEYWORDS else ()
    return [*names[:positional], *varargs, *names[positional:positional + keyword_only], *varkw]


_USED_AS_A_NUMBER = ("only one element tensors can be converted",
                     "Boolean value of Tensor with more than one value",
                     "only integer tensors of a single element",
                     "a Tensor with 0 elements cannot be converted")


def _arguments(params, args, kwargs):
    """(position, parameter name, value) of each argument of a call."""
    named = [p for p in params if not p.startswith("*")]
    for i, value in enumerate(args):
        yield i, named[i] if i < len(named) else f"args[{i}]", value
    for key, value in kwargs.items():
        yield (named.index(key) if key in named else len(args)), key, value


def _argument_error(name, params, args, kwargs, error, first=1, python_level=False):
    """torch's error for the argument `error` shows the op tripped over (see NOTE), or None
    when the error is the op's own; tensors from position `first` on are checked. In torch's
    Python-level functions (python_level: torch.nn.functional) `if flag:` on a tensor fails
    with the RuntimeError itself, so that one is left as it is."""
    message = str(error)
    if python_level and message.startswith("Boolean value of Tensor"):
        return None
    if isinstance(error, ValueError) and "be broadcast" in message:
        return RuntimeError(message)  # NumPy's broadcasting error: torch's is a RuntimeError
    for position, param, value in _arguments(params, args, kwargs):
        if isinstance(error, AttributeError) and not isinstance(value, Tensor) and \
                message.startswith(f"'{type(value).__name__}' object has no attribute"):
            return TypeError(f"{name}(): argument '{param}' (position {position + 1}) must be "
                             f"Tensor, not {type(value).__name__}")
        if position >= first and isinstance(value, Tensor) and value.numel() != 1 and \
                message.startswith(_USED_AS_A_NUMBER) and \
                (value.numel() > 1 or not message.startswith("Boolean")):
            return TypeError(f"{name}(): argument '{param}' (position {position + 1}) must be "
                             "a number or a tuple of ints, not Tensor")
    return None


def tensor_arguments(fn, python_level=False):
    """fn, or a face of fn that raises torch's TypeError for a non-tensor input (see NOTE);
    python_level: fn stands for a Python function of torch's (`_argument_error`)."""
    try:
        params = parameter_names(fn)
    except (TypeError, ValueError):
        return fn
    # torch's names for Tensor parameters in first and second position (complex(real, imag),
    # polar(abs, angle) included).
    firsts, seconds = ("input", "x", "A", "self", "real", "abs"), ("other", "imag", "angle")
    checked = [(i, p) for i, p in enumerate(params[:2]) if p in (firsts, seconds)[i]]
    name = fn.__name__
    if not checked or checked[0][0] != 0:
        return _checked_call(fn, name, params, python_level)

    def refuse(position, param, value):
        param = "input" if param == "x" else param  # torch's name for it
        return TypeError(f"{name}(): argument '{param}' (position {position + 1}) must be "
                         f"Tensor, not {type(value).__name__}")

    count = len(checked)  # 1 (input) or 2 (input, other), in first positions

    @functools.wraps(fn)
    def face(*args, **kwargs):
        # the common case first: tensors where tensors go, so nothing to refuse
        if not (len(args) >= count and isinstance(args[0], Tensor) and (
                count == 1 or isinstance(args[1], Tensor))):
            for position, param in checked:
                value = args[position] if len(args) > position else kwargs.get(param, _MISSING)
                if isinstance(value, _NEVER_TENSORS):
                    raise refuse(position, param, value)
        try:
            return fn(*args, **kwargs)
        except (AttributeError, ValueError, RuntimeError, TypeError) as error:
            # a number where the op needs a tensor: the op's code tripped over it
            for position, param in checked:
                value = args[position] if len(args) > position else kwargs.get(param, _MISSING)
                if isinstance(error, AttributeError) and value is not _MISSING and \
                        not isinstance(value, Tensor):
                    raise refuse(position, param, value) from None
            refused = _argument_error(name, params, args, kwargs, error,
                                      python_level=python_level)
            if refused is not None:
                raise refused from None
            raise

    return face


def _checked_call(fn, name, params, python_level=False):
    """A face of fn whose arguments' errors are torch's TypeError (`_argument_error`)."""

    @functools.wraps(fn)
    def face(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (AttributeError, ValueError, RuntimeError, TypeError) as error:
            refused = _argument_error(name, params, args, kwargs, error, first=0,
                                      python_level=python_level)
            if refused is not None:
                raise refused from None
            raise

    return face


def equality_operator(fn):
    """`t == x` / `t != x` for an x that is never a tensor: NotImplemented, so Python answers
    False / True as it does for torch tensors (`torch.eq(t, None)` still raises)."""

    @functools.wraps(fn)
    def method(self, other):
        if isinstance(other, _NEVER_TENSORS):
            return NotImplemented
        return fn(self, other)

    return method


def inplace_variant(fn):
    """`x.fn_(...)`: compute fn(x, ...) out of place, then write it into x's memory."""

    @functools.wraps(fn)
    def method(self, *args, **kwargs):
        return self._inplace_update(fn(self, *args, **kwargs))

    method.__name__ = method.__qualname__ = fn.__name__ + "_"
    return method


def reflected_variant(fn, name):
    """`other <op> self` for a non-commutative op: `__rsub__(self, other)` is fn(other, self)."""

    def method(self, other):
        return fn(other, self)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"other {fn.__name__} self, the reflected form of `{fn.__name__}`."
    return method


def with_out(fn):
    """fn with PyTorch's `out=` argument: the result is copied into `out`, which is returned."""

    @functools.wraps(fn)
    def function(*args, out=None, **kwargs):
        result = fn(*args, **kwargs)
        return result if out is None else write_out(result, out)

    return function


def write_out(result, out):
    """Copy `result` into `out` (resized if its shape differs, as PyTorch does) and return out."""
    if isinstance(result, tuple):
        written = [write_out(r, o) for r, o in zip(result, out)]
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
    if out._data.shape != result._data.shape:
        out._data = get_array_module(out._data).empty(result._data.shape, dtype=out._data.dtype)
    xp.copyto(out._data, result._data, casting="unsafe")
    out._version.value += 1
    return out
