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
import sys
import types

from ember import _schemas
from ember._backend import get_array_module, xp
from ember._device import Size as _Size
from ember._grad_state import GRAD_STATE
from ember._tensor import Tensor
from ember.overrides import ACTIVE, PLAIN, dispatch, wants_dispatch
from ember._in_place import MIN_ELEMENTS, assert_no_internal_overlap, set_target
from ember._out_dtypes import check_out_dtype, out_grad_name
from ember.return_types import out_type
from ember._warnings import warn_at_caller

FUNCTIONS = {}  # name -> callable: the `ember.<name>` faces, bound by ember/__init__.py


def tensor_method(*names):
    """Decorator: make the function `Tensor.<name>` for each name (default: its own name)."""

    def bind(fn):
        for name in names or (fn.__name__,):
            setattr(Tensor, name, checked_method(fn, name))
        return fn

    return bind


def rewrap_tensor_method(name, wrap):
    """Make `Tensor.<name>` wrap(the method declared so far): a later module taking over some
    calls of it (the sparse operands of `add_`: ember/ops/sparse_inplace.py)."""
    setattr(Tensor, name, wrap(getattr(Tensor, name)))


def torch_function(*names):
    """Decorator: make the function `ember.<name>` for each name (default: its own name)."""

    def declare(fn):
        for name in names or (fn.__name__,):
            FUNCTIONS[name] = checked_function(fn, name)
        return fn

    return declare


def op(fn=None, *, function=True, method=False, inplace=False, aliases=(), operators=(),
       reflected=(), inplace_operators=(), out=False, writes_in_place=False):
    """Decorator declaring an op's public faces (see NOTE [Declaring an op's public faces]).

    function: `ember.<name>` (and `ember.<alias>`); method: `Tensor.<name>` (and aliases);
    inplace: `Tensor.<name>_` (and `<alias>_`), computed out of place then written into self;
    operators: dunder methods bound to the op itself (`__add__`, `__radd__` for a symmetric op);
    reflected: dunder methods that swap the operands (`__rsub__(self, other)` = op(other, self));
    inplace_operators: dunder methods bound to the in-place variant (`__iadd__`);
    out: the `ember.<name>` face takes `out=` and writes the result into that tensor (True,
      or the name of its dtype rule: NOTE [out= dtypes] in ember/_out_dtypes.py);
    writes_in_place: the in-place variant's kernel writes into self (NOTE [Writing in place]).
    """

    def declare(fn):
        names = (fn.__name__,) + tuple(aliases)
        if function:
            public = with_out(fn, out) if out else fn
            for name in names:
                FUNCTIONS[name] = tensor_arguments(public, schema="torch." + name,
                                                   direct=fn)
        if method:
            for name in names:
                setattr(Tensor, name, checked_method(fn, name))
        for name in operators:
            setattr(Tensor, name, equality_operator(fn) if name in ("__eq__", "__ne__") else fn)
        for name in reflected:
            setattr(Tensor, name, reflected_variant(fn, name))
        if inplace:
            variant = inplace_variant(fn, writes_in_place)
            for name in names:
                setattr(Tensor, name + "_", checked_method(variant, name + "_"))
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
# Every other argument is checked against torch's own signatures for the name
# (NOTE [torch's argument parser] in ember/_schemas.py): `torch.cumsum(t, 1.5)` is torch's
# "cumsum(): argument 'dim' (position 2) must be int, not float" before the op runs, and a value
# the parser accepts but the op's code would not (a 0-d integer tensor where an int goes) is
# converted. Every face does it: `ember.<name>`, `Tensor.<name>` (`checked_method`), and the
# faces of torch.nn.functional / linalg / special / fft made here. A call pays for it only past
# its leading tensors, and then a set lookup of its argument types once they passed (`_Schema`).
# Names whose torch function is Python code have no signatures; there, an argument is checked
# where torch's parser would refuse it by what the op's code tripped over (`_argument_error`):
# an AttributeError "'float' object has no attribute ..." names the argument of that type
# (`addcmul(t, t, 1.5)`: must be Tensor, not float), and a tensor of several elements used as a
# number ("only one element tensors can be converted",
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


def _broadcast_error(error):
    """NumPy's broadcasting ValueError as torch's RuntimeError; any other error as it is."""
    if isinstance(error, ValueError) and "be broadcast" in str(error):
        return RuntimeError(str(error))
    return error


def tensor_arguments(fn, python_level=False, schema=None, direct=None):
    """fn, or a face of fn that raises torch's TypeError for a non-tensor input (see NOTE) and
    checks its arguments as torch's parser does (NOTE [torch's argument parser]); schema: the
    torch name whose signatures it checks ("torch.roll"; None: the public name the face is
    found under, on its first checked call). python_level: fn stands for a Python function of
    torch's (`_argument_error`). direct: what a call without keyword arguments may run instead
    of fn (the op itself, where fn is its `with_out` wrapper: one call less)."""
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
        return _checked_call(fn, name, params, python_level, schema)

    def refuse(position, param, value):
        param = "input" if param == "x" else param  # torch's name for it
        return TypeError(f"{name}(): argument '{param}' (position {position + 1}) must be "
                         f"Tensor, not {type(value).__name__}")

    count = len(checked)  # 1 (input) or 2 (input, other), in first positions
    parsed = _Schema(schema)
    passed = parsed.passed
    direct = direct or fn

    @functools.wraps(fn)
    def face(*args, **kwargs):
        # the common case first: plain tensors where tensors go, and nothing else to check
        # (NOTE [__torch_function__ in ember] in ember/overrides.py: PLAIN, ACTIVE)
        if not (len(args) >= count and type(args[0]) in PLAIN and (
                count == 1 or type(args[1]) in PLAIN)):
            if wants_dispatch(args, kwargs):
                return dispatch(face, args, kwargs, python_level)
            args, kwargs = parsed.check(face, args, kwargs)
            for position, param in checked:
                value = args[position] if len(args) > position else kwargs.get(param, _MISSING)
                if isinstance(value, _NEVER_TENSORS):
                    raise refuse(position, param, value)
        elif kwargs or len(args) > count and (ACTIVE[0] or _pattern(args) not in passed):
            if ACTIVE[0] and wants_dispatch(args, kwargs):
                return dispatch(face, args, kwargs, python_level)
            args, kwargs = parsed.check(face, args, kwargs)
        try:
            return fn(*args, **kwargs) if kwargs else direct(*args)
        except (AttributeError, ValueError, RuntimeError, TypeError) as error:
            if isinstance(error, TypeError) and not kwargs and len(args) == count:
                parsed.check(face, args, kwargs)  # (unparsed: a required argument missing?)
            if parsed.has_signatures():  # torch's parser took the arguments: the op's error
                raise _broadcast_error(error) from None
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


def _checked_call(fn, name, params, python_level=False, schema=None):
    """A face of fn whose arguments are checked as torch's parser does (`_Schema`), and whose
    errors are torch's TypeError (`_argument_error`)."""
    parsed = _Schema(schema)
    passed = parsed.passed

    @functools.wraps(fn)
    def face(*args, **kwargs):
        if ACTIVE[0] and wants_dispatch(args, kwargs):
            return dispatch(face, args, kwargs, python_level)
        if kwargs or args and _pattern(args) not in passed:
            args, kwargs = parsed.check(face, args, kwargs)
        try:
            return fn(*args, **kwargs)
        except (AttributeError, ValueError, RuntimeError, TypeError) as error:
            if parsed.has_signatures():  # torch's parser took the arguments: the op's error
                raise _broadcast_error(error) from None
            refused = _argument_error(name, params, args, kwargs, error, first=0,
                                      python_level=python_level)
            if refused is not None:
                raise refused from None
            raise

    return face


def checked_function(fn, name):
    """`ember.<name>` for a function declared with `torch_function`: fn itself, or a face that
    checks its arguments as torch's parser does when torch's `torch.<name>` has one."""
    if type(fn) is not types.FunctionType or "torch." + name not in _schemas.table():
        return fn
    parsed = _Schema("torch." + name)
    passed = parsed.passed

    @functools.wraps(fn)
    def face(*args, **kwargs):
        if ACTIVE[0] and wants_dispatch(args, kwargs):
            return dispatch(face, args, kwargs)
        if kwargs or _pattern(args) not in passed:
            args, kwargs = parsed.check(face, args, kwargs)
        return fn(*args, **kwargs)

    return face


def checked_method(fn, name):
    """`Tensor.<name>`: fn itself, or a method that checks its arguments (past `self`) as
    torch's parser does when torch's `Tensor.<name>` has one (NOTE [torch's argument parser]).
    A call with no argument past self costs one test."""
    if type(fn) is not types.FunctionType or "Tensor." + name not in _schemas.table():
        return fn
    parsed = _Schema("Tensor." + name)
    passed = parsed.passed

    @functools.wraps(fn)
    def method(self, *args, **kwargs):
        try:
            # the common calls cost a test: no argument, or argument types that passed before
            # (an overloaded argument, NOTE [__torch_function__ in ember], takes the call)
            if kwargs:
                if ACTIVE[0] and wants_dispatch((self, *args), kwargs):
                    return dispatch(method, (self, *args), kwargs)
                args, kwargs = parsed.check(method, args, kwargs)
                return fn(self, *args, **kwargs)
            if not args:
                return fn(self)
            if ACTIVE[0] and wants_dispatch((self, *args)):
                return dispatch(method, (self, *args), None)
            if _pattern(args) not in passed:
                args, kwargs = parsed.check(None, args, kwargs)
                return fn(self, *args, **kwargs)
            return fn(self, *args)
        except AttributeError:
            if isinstance(self, Tensor):
                raise
            # `Tensor.uniform_(None)`: torch's method descriptors refuse what is no tensor
            raise TypeError(f"descriptor '{name}' for 'torch._C.TensorBase' objects doesn't "
                            f"apply to a '{type(self).__name__}' object") from None

    return method


# the public namespaces a face made by `tensor_arguments` without a schema may be found in,
# with the namespace of torch's signatures for them (ember/_schemas.txt)
_NAMESPACES = (("ember.linalg", "linalg"), ("ember.special", "special"), ("ember.fft", "fft"),
               ("ember.nn.functional", "nn"))


class _Schema:
    """The signatures a face checks its calls against, found on the face's first checked call,
    and the patterns of argument types that passed unchanged before: a call of such a pattern
    passes again without being parsed (`Parser.cacheable`). A tuple or list of ints counts as
    one type in a pattern (its ints pass any int[] alike)."""

    __slots__ = ("key", "parser", "passed")

    def __init__(self, key):
        self.key, self.parser, self.passed = key, _MISSING, set()

    def has_signatures(self) -> bool:
        """Whether torch's signatures checked this face's calls (so an error is the op's)."""
        return self.parser is not None and self.parser is not _MISSING

    def check(self, face, args, kwargs):
        """(args, kwargs) as torch's parser converts them; its TypeError when it refuses."""
        kinds = _pattern(args)
        if kwargs:
            kinds += (*kwargs, *map(type, kwargs.values()))
        if kinds in self.passed:
            return args, kwargs
        if _SEQUENCES.intersection(kinds):  # a tuple of ints is a type of its own here
            kinds = tuple(map(_kind, args))
            if kwargs:
                kinds += (*kwargs, *map(_kind, kwargs.values()))
            if kinds in self.passed:
                return args, kwargs
        if self.parser is _MISSING:
            self.parser = _schemas.parser(self.key or _public_key(face))
        if self.parser is None:  # torch's function is Python code: nothing to check
            self.passed.add(kinds)
            return args, kwargs
        parsed, matched = self.parser.parse(args, kwargs)
        if kwargs:
            renamed = _keywords_taken(face, self.parser.signatures[matched], parsed[1])
            if renamed is not parsed[1]:  # (never cached: the next call needs renaming too)
                return parsed[0], renamed
        if self.parser.cacheable(args, kwargs, parsed, matched):
            self.passed.add(kinds)
        return parsed


def _keywords_taken(face, signature, kwargs):
    """kwargs, or a copy whose keywords the op's code does not take are renamed to the alias
    it takes: torch's parser accepts numpy's names (`keepdims`, `axis`, `x`) for its own
    (`keepdim`, `dim`, `input`) and ember's code may spell a parameter either way."""
    fn = face.__wrapped__ if hasattr(face, "__wrapped__") else None
    if fn is None:
        return kwargs
    try:
        params = parameter_names(fn)
    except (TypeError, ValueError):
        return kwargs
    if "kwargs" in params or all(key in params for key in kwargs):
        return kwargs
    renamed = {}
    for key, value in kwargs.items():
        if key not in params:
            names = next((p.names for p in signature.params if key in p.names), ())
            key = next((name for name in names if name in params), key)
        renamed[key] = value
    return renamed


def _pattern(args) -> tuple:
    """The types of a call's positional arguments (spelled out for one and two: the hot
    calls, `t.sum(0)`, `t.transpose(0, 1)`)."""
    count = len(args)
    if count == 1:
        return (type(args[0]),)
    if count == 2:
        return type(args[0]), type(args[1])
    return tuple(map(type, args))


_SEQUENCES = frozenset((tuple, list, _Size))


def _kind(value):
    """A value's type, or for a tuple or list of ints (not bools) its type and emptiness."""
    cls = type(value)
    if cls is tuple or cls is list or cls is _Size:
        if all(type(item) is int for item in value):
            return cls, bool(value)
    return cls


def _public_key(face) -> str:
    """The `namespace.name` of torch's signatures for a face: where it is public in ember."""
    for module_name, namespace in _NAMESPACES:
        module = sys.modules.get(module_name)
        for name, value in vars(module or types).items():
            if value is face:
                return f"{namespace}.{name}"
    return ""


def equality_operator(fn):
    """`t == x` / `t != x` for an x that is never a tensor: NotImplemented, so Python answers
    False / True as it does for torch tensors (`torch.eq(t, None)` still raises)."""

    @functools.wraps(fn)
    def method(self, other):
        if isinstance(other, _NEVER_TENSORS):
            return NotImplemented
        return fn(self, other)

    return method


def inplace_variant(fn, writes_in_place=False):
    """`x.fn_(...)`: compute fn(x, ...) out of place, then write it into x's memory; with
    `writes_in_place`, fn's kernel may write into x's memory itself (NOTE [Writing in place] in
    ember/_in_place.py)."""

    @functools.wraps(fn)
    def method(self, *args, **kwargs):
        assert_no_internal_overlap(self._data)  # (torch checks before computing)
        if writes_in_place and self._base is None and self._data.size >= MIN_ELEMENTS:
            self._check_inplace()  # (before any memory changes)
            set_target(self._data)
            try:
                result = fn(self, *args, **kwargs)
            finally:
                set_target(None)
            return self._inplace_update(result)
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


def with_out(fn, rule=True):
    """fn with PyTorch's `out=` argument: the result is copied into `out`, which is returned;
    rule: which dtypes out may have (NOTE [out= dtypes]; True: "cast"), or a function
    rule(fn, out, *args, **kwargs) that computes and writes the result itself."""
    name = fn.__name__  # (now: a function also bound as a dunder may be renamed later)
    rule = "cast" if rule is True else rule

    @functools.wraps(fn)
    def function(*args, out=None, **kwargs):
        if out is not None and callable(rule):  # the op's own out= (ember/ops/_out_rules.py)
            return rule(fn, out, *args, **kwargs)
        result = fn(*args, **kwargs)
        return result if out is None else write_out(result, out, name, rule)

    return function


_RESIZED = (
    "An output with one or more elements was resized since it had shape {}, which does not "
    "match the required output shape {}. This behavior is deprecated, and in a future PyTorch "
    "release outputs will not be resized unless they have zero elements. You can explicitly "
    "reuse an out tensor t by resizing it, inplace, to zero elements with t.resize_(0). "
    "(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/Resize.cpp:30.)")


_OUT_GRAD = ("{}(): functions with out=... arguments don't support automatic differentiation, "
             "but one of the arguments requires grad.")


# factory functions: torch's error names their aten op
_FACTORIES = frozenset(("zeros", "ones", "full", "arange", "range", "linspace", "logspace",
                        "eye"))


def check_out_grad(result, out, name):
    """torch's refusal of out= in a differentiable call while grad mode is on and an input
    (the result then requires grad) or out requires grad (ops with a float result: torch's
    non-differentiable ops, comparisons and indices, skip the check)."""
    if not GRAD_STATE["enabled"]:
        return
    results = result if isinstance(result, tuple) else (result,)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    name, inputs_checked = out_grad_name(name or sys._getframe(2).f_code.co_name)
    if inputs_checked and any(r._requires_grad for r in results) or (
            any(o._requires_grad for o in outs)
            and any(r.dtype.is_floating_point or r.dtype.is_complex for r in results)):
        raise RuntimeError(_OUT_GRAD.format(f"aten::{name}" if name in _FACTORIES else name))


def write_out(result, out, name=None, rule="cast"):
    """Copy `result` into `out` (resized if its shape differs, as PyTorch does) and return out;
    name: the op's, for the autograd error (default: the calling function's name); rule:
    which dtypes out may have (NOTE [out= dtypes] in ember/_out_dtypes.py)."""
    if name is not False:
        check_out_grad(result, out, name)
    if isinstance(result, tuple):
        written = [write_out(r, o, False, rule) for r, o in zip(result, out)]
        return out_type(type(result))(*written) if hasattr(result, "_fields") else tuple(written)
    check_out_dtype(result, out, rule)
    assert_no_internal_overlap(out._data)
    if out._data.shape != result._data.shape:
        if out._data.size:
            warn_at_caller(_RESIZED.format(list(out._data.shape), list(result._data.shape)))
        out._data = get_array_module(out._data).empty(result._data.shape, dtype=out._data.dtype)
    xp.copyto(out._data, result._data, casting="unsafe")
    out._version_counter.value += 1
    return out
