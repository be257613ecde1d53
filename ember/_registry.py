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


def tensor_arguments(fn):
    """fn, or a face of fn that raises torch's TypeError for a non-tensor input (see NOTE)."""
    try:
        params = parameter_names(fn)
    except (TypeError, ValueError):
        return fn
    # torch's names for Tensor parameters in first and second position (complex(real, imag),
    # polar(abs, angle) included).
    firsts, seconds = ("input", "x", "A", "self", "real", "abs"), ("other", "imag", "angle")
    checked = [(i, p) for i, p in enumerate(params[:2]) if p in (firsts, seconds)[i]]
    if not checked or checked[0][0] != 0:
        return fn
    name = fn.__name__

    def refuse(position, param, value):
        param = "input" if param == "x" else param  # torch's name for it
        return TypeError(f"{name}(): argument '{param}' (position {position + 1}) must be "
                         f"Tensor, not {type(value).__name__}")

    count = len(checked)  # 1 (input) or 2 (input, other), in first positions

    @functools.wraps(fn)
    def face(*args, **kwargs):
        # the common case first: tensors where tensors go, so nothing to refuse
        if len(args) >= count and isinstance(args[0], Tensor) and (
                count == 1 or isinstance(args[1], Tensor)):
            return fn(*args, **kwargs)
        values = [args[i] if len(args) > i else kwargs.get(p, _MISSING) for i, p in checked]
        for (position, param), value in zip(checked, values):
            if isinstance(value, _NEVER_TENSORS):
                raise refuse(position, param, value)
        try:
            return fn(*args, **kwargs)
        except AttributeError:
            # a number where the op needs a tensor: the op's code tripped over it
            for (position, param), value in zip(checked, values):
                if value is not _MISSING and not isinstance(value, Tensor):
                    raise refuse(position, param, value) from None
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
