"""`torch._foreach_*`: one op applied to each tensor of a list (the multi-tensor ops of optimizers).

NOTE [Foreach ops]
PyTorch's optimizers (and EMA, Muon, ... written after them) update every parameter with one
call: `torch._foreach_lerp_(ema, params, 0.01)` is `e.lerp_(p, 0.01)` for each pair. On CUDA a
fused kernel does it; on CPU torch runs the op tensor by tensor, and so does ember: each
`_foreach_X` here calls ember's public `X` on each tensor and returns a tuple of the results
(differentiable through the per-tensor ops), and each `_foreach_X_` calls `Tensor.X_` (or, for
an op without that method, writes `X`'s result in place) and returns the list it was given.

The arguments past the list follow torch's overloads (ember/_schemas.txt; the public faces
check calls against them before the op runs, so the types are right here):
- Scalar: one number used with every tensor;
- ScalarList: one number per tensor (a list or tuple, empty too);
- TensorList: one tensor per tensor (a non-empty list or tuple of tensors);
- Tensor: one 0-d tensor used with every tensor (`Tensor scalars` of addcmul/addcdiv is a
  1-d tensor holding one number per tensor instead).
`_spread` turns each argument into one value per tensor after torch's checks, with torch's
messages: the op names are generated from the table `_KINDS` (name -> kind of arguments), and
the few ops of their own (norm, powsum, max, mm, clone, copy_, zero_) are written out below.
"""

from ember import _registry
from ember._tensor import Tensor
from ember.ops.linalg_norms import vector_norm

_EMPTY = "Tensor list must have at least one tensor."
_SCALAR_LIST = "Tensor list must have same number of elements as scalar list."

# name -> the kind of its arguments; each name gives `_foreach_<name>` and `_foreach_<name>_`
_UNARY_NAMES = (
    "abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1",
    "floor", "frac", "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal", "round",
    "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc")
_KINDS = {
    **{name: "unary" for name in _UNARY_NAMES},  # (self)
    # (self, Scalar | ScalarList | TensorList | Tensor other); alpha with a tensor other
    **{name: "binary" for name in (
        "add", "sub", "mul", "div", "clamp_min", "clamp_max", "maximum", "minimum", "pow")},
    # (self, tensor1, tensor2, Scalar value=1 | ScalarList scalars | Tensor scalars)
    "addcmul": "pointwise", "addcdiv": "pointwise",
    # (self, tensors1, Scalar | ScalarList | TensorList weight)
    "lerp": "lerp",
}
# torch's maximum/minimum take tensors only: with numbers the foreach ops are clamp_min/_max
_WITH_NUMBERS = {"maximum": "clamp_min", "minimum": "clamp_max"}
# the keyword names torch's signatures give the argument after the list(s)
_OPERAND_NAMES = ("scalar", "scalars", "other", "exponent", "value", "weight", "weights")


# ---- checks and spreading --------------------------------------------------------------------
def _check_lists(tensors, *others):
    """torch's checks of the tensor lists of one call: non-empty, all of one length."""
    if not tensors:
        raise RuntimeError(_EMPTY)
    for other in others:
        if len(other) != len(tensors):
            raise RuntimeError("Tensor lists must have the same number of tensors, got "
                               f"{len(tensors)} and {len(other)}")


def _is_tensor_list(value) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(
        isinstance(item, Tensor) for item in value)


def _spread(tensors, value):
    """value as one argument per tensor: a list's own items (checked for length), or the
    same number / 0-d tensor for each."""
    if _is_tensor_list(value):
        _check_lists(tensors, value)
        return list(value)
    if isinstance(value, (list, tuple)):
        if len(value) != len(tensors):
            raise RuntimeError(_SCALAR_LIST)
        return list(value)
    return [value] * len(tensors)


def _check_scalar_tensor(value):
    """The `Tensor other` overloads take a 0-d tensor only."""
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(f"scalar tensor expected to be 0 dim but it has {value.dim()} "
                           f"dimensions and {value.numel()} elements.")


def _unpack_scalars(scalars, count):
    """The numbers of a `Tensor scalars` argument (addcmul/addcdiv): a 1-d tensor, one each."""
    if scalars.dim() != 1:
        raise RuntimeError("Expected packed scalar Tensor to be of dimension 1. Got "
                           f"{scalars.dim()} instead.")
    if scalars.numel() != count:
        raise RuntimeError(f"Expected length of scalars to match input of length {count} but "
                           f"got {scalars.numel()} instead.")
    return scalars.detach().tolist()


def _operand(args, kwargs, default=None):
    """The argument after the list(s): positional, or under one of torch's keyword names."""
    if args:
        return args[0]
    for name in _OPERAND_NAMES:
        if name in kwargs:
            return kwargs.pop(name)
    return default


# ---- applying an op to each tensor ------------------------------------------------------------
def _function(name):
    """ember's public `name` (looked up per call: a later module may re-file it)."""
    return _registry.FUNCTIONS[name]


def _each(name, inplace, tensors, columns, kwargs=None):
    """`name` applied to each tensor with its row of `columns` (one list per argument): a
    tuple of the results, or, in place, the list given."""
    kwargs = kwargs or {}
    rows = zip(tensors, *columns)
    if not inplace:
        fn = _function(name)
        return tuple(fn(tensor, *row, **kwargs) for tensor, *row in rows)
    method = getattr(Tensor, name + "_", None)
    for tensor, *row in rows:
        if method is not None:
            method(tensor, *row, **kwargs)
        else:  # no `Tensor.maximum_`: compute out of place, write into the tensor
            tensor._inplace_update(_function(name)(tensor, *row, **kwargs))
    return tensors


def _unary(name, inplace):
    def foreach(self):
        _check_lists(self)
        return _each(name, inplace, self, ())

    return foreach


def _binary(name, inplace):
    def foreach(self, *args, **kwargs):
        if name == "pow" and not isinstance(self, (list, tuple)):
            return _scalar_base_pow(self, *args, **kwargs)
        other = _operand(args, kwargs)
        _check_scalar_tensor(other)
        _check_lists(self)
        op = name if _is_tensor_list(other) else _WITH_NUMBERS.get(name, name)
        return _each(op, inplace, self, [_spread(self, other)], kwargs)  # kwargs: alpha

    return foreach


def _scalar_base_pow(self, *args, **kwargs):
    """`_foreach_pow(2, exponents)`: torch.pow(2, e) for each e."""
    exponent = _operand(args, kwargs)
    _check_lists(exponent)
    return tuple(_function("pow")(self, e) for e in exponent)


def _pointwise(name, inplace):
    def foreach(self, tensor1, tensor2, *args, **kwargs):
        scalars = _operand(args, kwargs, default=1)
        if isinstance(scalars, Tensor):
            scalars = _unpack_scalars(scalars, len(self))
        _check_lists(self, tensor1, tensor2)
        values = _spread(self, scalars)
        if not inplace:
            fn = _function(name)
            return tuple(fn(t, a, b, value=v) for t, a, b, v in zip(self, tensor1, tensor2, values))
        for t, a, b, v in zip(self, tensor1, tensor2, values):
            getattr(t, name + "_")(a, b, value=v)
        return self

    return foreach


def _lerp(name, inplace):
    def foreach(self, tensors1, *args, **kwargs):
        weight = _operand(args, kwargs)
        _check_lists(self, tensors1)
        return _each(name, inplace, self, [list(tensors1), _spread(self, weight)])

    return foreach


_MAKERS = {"unary": _unary, "binary": _binary, "pointwise": _pointwise, "lerp": _lerp}


def _declare(public, fn, about):
    """Make fn the function `ember.<public>` (its argument checks are torch's signatures)."""
    fn.__name__ = fn.__qualname__ = public
    fn.__doc__ = about
    _registry.torch_function(public)(fn)


for _name, _kind in _KINDS.items():
    for _inplace in (False, True):
        _declare(f"_foreach_{_name}{'_' * _inplace}", _MAKERS[_kind](_name, _inplace),
                 f"Apply :func:`torch.{_name}{'_' * _inplace}` to each Tensor of the input list.")


# ---- the ops of their own ---------------------------------------------------------------------
def _foreach_norm(self, ord=2, dtype=None):
    """`torch.vector_norm(t, ord, dtype=dtype)` of each tensor: a tuple of 0-d tensors."""
    _check_lists(self)
    if type(ord) not in (int, float):
        raise RuntimeError("foreach_tensor_norm_slow expects ord to be integer or float")
    if ord == float("inf") and any(t.numel() == 0 for t in self):
        raise RuntimeError("_foreach_norm cannot compute the infinity norm on an empty tensor "
                           "because the operation does not have an identity")
    return tuple(vector_norm(t, ord, dtype=dtype) for t in self)


def _foreach_powsum(self, ord=2, dtype=None):
    """sum(|t| ** ord) of each tensor (in dtype, when given): a tuple of 0-d tensors."""
    _check_lists(self)
    results = []
    for t in self:
        t = t if dtype is None else t.to(dtype)
        if not (t.is_floating_point() or t.is_complex()):
            # (torch computes integer and bool tensors as int64, which its kernel refuses)
            raise NotImplementedError('"powsum_cpu" not implemented for \'Long\'')
        results.append((t.abs() ** ord).sum())
    return tuple(results)


def _foreach_max(self):
    """The largest element of each tensor: a tuple of 0-d tensors."""
    _check_lists(self)
    if any(t.numel() == 0 for t in self):
        raise RuntimeError("_foreach_max cannot compute the maximum of an empty tensor; max "
                           "over zero elements is undefined.")
    return tuple(_function("max")(t) for t in self)


def _foreach_mm(self, mat2):
    """`torch.mm(a, b)` of each pair."""
    if not self or not mat2:
        raise RuntimeError("_foreach_mm requires non-empty tensor lists")
    if len(self) != len(mat2):
        raise RuntimeError("_foreach_mm: self and mat2 must have the same number of tensors")
    return tuple(_function("mm")(a, b) for a, b in zip(self, mat2))


def _foreach_clone(self, *, memory_format=None):
    """A copy of each tensor (differentiable, as `torch.clone`)."""
    _check_lists(self)
    if memory_format is None:
        return tuple(_function("clone")(t) for t in self)
    return tuple(_function("clone")(t, memory_format=memory_format) for t in self)


def _foreach_copy_(self, src, non_blocking=False):
    """`t.copy_(s)` for each pair; returns the list given."""
    _check_lists(self, src)
    for t, s in zip(self, src):
        t.copy_(s, non_blocking)
    return self


def _foreach_zero_(self):
    """`t.zero_()` for each tensor; returns the list given."""
    _check_lists(self)
    for t in self:
        t.zero_()
    return self


for _fn in (_foreach_norm, _foreach_powsum, _foreach_max, _foreach_mm, _foreach_clone,
            _foreach_copy_, _foreach_zero_):
    _registry.torch_function()(_fn)
