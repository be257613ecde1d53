"""Batching rules: each op applied once to a whole batch (see NOTE [Batched tensors]).

A rule receives the op class, the vmap level and the op's arguments, in which the tensors
batched at that level are logical (one batch element's shape). It rewrites the arguments for the
physical tensors, whose batch dim is in front: elementwise ops line the batch dims up under
broadcasting, reductions and dim-taking ops shift their dims by one, shape ops prepend the batch
size, matrix products and the nn ops fold the batch into dims the op already loops over. Then it
applies the same op (so autograd records it) and wraps the result. A rule returns NotImplemented
for a case it does not cover; the op then runs once per batch element (`per_element`).
"""

from ember._backend import xp
from ember._tensor import Tensor, contiguous_format, wrap_dim
from ember.autograd.function import Op
from ember.func._batched import (STATS, Unbatchable, _aligned_array, array_level, batch_size,
                                 level_of, physical, wrap, wrap_outputs)
from ember.ops import (_scalar_ops, activation, comparison, complex, conversion, elementwise,
                       elementwise_ext, extrema, indexing, joins, linalg, linalg_core,
                       linalg_decomp, linalg_solve, power, rearrange, rectifier, reduction,
                       scans, shape, softmax, unary, unary_ext, unary_special)
from ember.ops.broadcast import ExpandTo
from ember.ops.indexing import BasicIndex
from ember.ops.joins import stack

RULES = {}  # Op class -> rule(cls, level, args, kwargs)
_LOOKUP = {}  # Op class -> its rule or None, found through the class's bases


def rule_for(cls):
    """The batching rule of an op class (or of the op it specialises), else None."""
    if cls not in _LOOKUP:
        _LOOKUP[cls] = next((RULES[k] for k in cls.__mro__ if k in RULES), None)
    return _LOOKUP[cls]


def ops_without_rules():
    """The names of the op classes that run per batch element under vmap (the fallback)."""
    found, pending = set(), [Op]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                pending.append(sub)
    return sorted(f"{c.__module__.rsplit('.', 1)[-1]}.{c.__name__}" for c in found
                  if rule_for(c) is None)


def dispatch(cls, args, kwargs):
    """The hook of Function.apply while a vmap runs: batched arguments go to a rule."""
    level = 0
    for a in args:
        found = level_of(a)
        if found > level:
            level = found
    if not level:
        return NotImplemented
    if "Inplace" in cls.__name__:
        raise Unbatchable(cls.__name__)  # in-place ops on a batch: vmap loops instead
    rule = rule_for(cls)
    if rule is not None:
        result = rule(cls, level, args, kwargs)
        if result is not NotImplemented:
            STATS["rule"][cls.__name__] += 1
            return result
    STATS["op_fallback"][cls.__name__] += 1
    return per_element(cls, level, args, kwargs)


# ---- the per-op fallback ----------------------------------------------------------------------
def _element(a, level, i):
    value = physical(a, level)
    return a if value is None else value[i]


def per_element(cls, level, args, kwargs):
    """Apply the op to each batch element and stack the results (ops without a rule)."""
    size = next(batch_size(a, level) for a in args if level_of(a) == level)
    results = [cls.apply(*[_element(a, level, i) for a in args], **kwargs) for i in range(size)]
    first = results[0]
    if isinstance(first, tuple):
        return tuple(_stacked([r[k] for r in results], level) for k in range(len(first)))
    return _stacked(results, level)


def _stacked(pieces, level):
    if not isinstance(pieces[0], Tensor):
        return pieces[0]
    return wrap(stack(pieces, 0), level)


# ---- helpers --------------------------------------------------------------------------------
def _aligned(t, level, rank):
    """A tensor batched at level as (B, 1..., *shape) of rank+1; other values unchanged."""
    if isinstance(t, xp.ndarray):
        return _aligned_array(t, level, rank)
    value = physical(t, level)
    if value is None:
        return t
    pad = rank - t.dim()
    return value[(slice(None),) + (None,) * pad] if pad else value


def _expanded(t, level, size):
    """The physical value of t at level; an unbatched t repeated (as a view) along a new dim 0."""
    value = physical(t, level)
    if value is not None:
        return value
    return t.unsqueeze(0).expand((size,) + tuple(t.shape))


def _batched_only(args, level, positions):
    """Whether only the arguments at `positions` are batched at `level`."""
    return all(level_of(a) != level for i, a in enumerate(args) if i not in positions)


def _shift(dims, ndim):
    """Logical dims (None: all; int; sequence) as the physical ones behind a front batch dim."""
    if dims is None:
        return tuple(range(1, ndim + 1))
    if isinstance(dims, (tuple, list)):
        return tuple(wrap_dim(int(d), ndim) + 1 for d in dims)
    if ndim == 0:
        raise Unbatchable("a dim of a 0-d batched tensor")
    return wrap_dim(int(dims), ndim) + 1


def _rank(args):
    return max(a.dim() if isinstance(a, Tensor) else xp.ndim(a)
               for a in args if isinstance(a, (Tensor, xp.ndarray)))


# ---- elementwise ------------------------------------------------------------------------------
def broadcasting(cls, level, args, kwargs):
    """Elementwise ops: batched operands as (B, 1..., *shape) so they broadcast under B."""
    rank = _rank(args)
    return wrap_outputs(cls.apply(*[_aligned(a, level, rank) for a in args], **kwargs), level)


def _register(rule, *classes):
    for cls in classes:
        RULES[cls] = rule


def _op_classes(module):
    return [v for v in vars(module).values() if isinstance(v, type) and hasattr(v, "forward")
            and v.__module__ == module.__name__]


_ELEMENTWISE_MODULES = (unary, rectifier, unary_ext, unary_special, elementwise, power,
                        _scalar_ops, elementwise_ext, complex)
for _module in _ELEMENTWISE_MODULES:
    _register(broadcasting, *[c for c in _op_classes(_module) if c.__name__ != "Frexp"])
_register(broadcasting, comparison.Where, comparison.Clamp, comparison.ClampTensor,
          comparison.Maximum, conversion.Clone, conversion.ToCopy, indexing.MaskedFill,
          *[c for c in _op_classes(activation) if c.__name__ not in ("Prelu", "Rrelu")])


# ---- ops on the trailing dims (batched matrices): the batch is one more leading dim ----------
def leading(cls, level, args, kwargs):
    """Ops that treat every leading dim as a batch (triangles, decompositions): apply as is."""
    if not _batched_only(args, level, (0,)) or args[0].dim() < 2:
        return NotImplemented
    return wrap_outputs(cls.apply(physical(args[0], level), *args[1:], **kwargs), level)


_register(leading, rearrange.Tril, rearrange.Triu, linalg.MatrixTranspose,
          linalg_decomp.Cholesky, linalg_decomp.Eigh, linalg_decomp.QR, linalg_decomp.SVD,
          linalg_solve.Det, linalg_solve.Inv, linalg_solve.Slogdet)


# ---- dims shift by one ------------------------------------------------------------------------
def dims_at(*positions, extra=0):
    """The rule of an op whose arguments at `positions` are dims of its first input."""

    def rule(cls, level, args, kwargs):
        if not _batched_only(args, level, (0,)):
            return NotImplemented
        x = args[0]
        new = list(args)
        new[0] = physical(x, level)
        for p in positions:
            new[p] = _shift(args[p], x.dim() + extra)
        return wrap_outputs(cls.apply(*new, **kwargs), level)

    return rule


_register(dims_at(1), reduction.Sum, reduction.Mean, reduction.Prod, reduction.Nansum,
          reduction.Std, reduction.Var, reduction.VarMean, reduction.Cumsum, reduction.Cumprod,
          extrema.Amax, extrema.Aminmax, extrema.Logsumexp, extrema.MaxDim, softmax.Softmax,
          softmax.LogSoftmax, rearrange.Flip, joins.Split, joins.Unbind, scans.Cummax,
          scans.Logcumsumexp)
_register(dims_at(2), extrema.Norm)
_register(dims_at(1, 2), shape.Transpose)
_register(dims_at(2, 3), linalg_core.Diagonal)


def permute(cls, level, args, kwargs):
    """permute(x, dims): the batch dim stays first."""
    x, dims = args
    order = (0,) + _shift(tuple(dims), x.dim())
    return wrap(cls.apply(physical(x, level), order), level)


def max_all(cls, level, args, kwargs):
    """max()/min() of everything: of everything but the batch dim (amax splits ties alike)."""
    x, take_max = args
    return wrap(extrema.Amax.apply(physical(x, level), _shift(None, x.dim()), False, take_max),
                level)


_register(permute, shape.Permute)
_register(max_all, extrema.MaxAll)


# ---- shapes -----------------------------------------------------------------------------------
def reshape(cls, level, args, kwargs):
    """view/reshape/squeeze/unsqueeze to `shape`: to (B, *shape), copying if it must."""
    x, target = args[0], args[1]
    value = physical(x, level)
    return wrap(linalg.Reshape.apply(value, (batch_size(x, level),) + tuple(target)), level)


def expand(cls, level, args, kwargs):
    """expand to `shape`: to (B, *shape) once x has the target's rank."""
    x, target = args
    value = _aligned(x, level, len(target))
    return wrap(ExpandTo.apply(value, (batch_size(x, level),) + tuple(target)), level)


def basic_index(cls, level, args, kwargs):
    """x[ints, slices, None, ...]: the same index after a full slice of the batch dim."""
    x, basic = args
    return wrap(cls.apply(physical(x, level), (slice(None),) + tuple(basic)), level)


def join(cls, level, args, kwargs):
    """cat(dim, memory format, *xs) / stack(dim, *xs): every piece batched (unbatched ones
    repeated), dim shifted; the batched cat laid out contiguously."""
    dim, xs = args[0], args[2:] if cls is joins.Cat else args[1:]
    first = next(x for x in xs if level_of(x) == level)
    ndim = first.dim() + (1 if cls is joins.Stack else 0)
    size = batch_size(first, level)
    layout = (contiguous_format,) if cls is joins.Cat else ()
    return wrap(cls.apply(_shift(dim, ndim), *layout, *[_expanded(x, level, size) for x in xs]),
                level)


def repeat(cls, level, args, kwargs):
    """repeat: x given the repeats' rank, the batch dim repeated once."""
    x, repeats = args
    return wrap(cls.apply(_aligned(x, level, len(repeats)), (1,) + tuple(repeats)), level)


def roll(cls, level, args, kwargs):
    """roll along dims (shifted); a roll of the flattened tensor (dims None) has no rule."""
    x, shifts, dims = args
    if dims is None or (isinstance(dims, (tuple, list)) and not dims):
        return NotImplemented
    return wrap(cls.apply(physical(x, level), shifts, _shift(dims, x.dim())), level)


def advanced_index(cls, level, args, kwargs):
    """x[index arrays] (also gather, index_select): constant indices keep the batch as a full
    slice; batched indices pick each element's own rows through an arange over the batch."""
    x, adv = args
    positions = [i for i, a in enumerate(adv) if isinstance(a, xp.ndarray)]
    if not positions:
        return NotImplemented
    if not any(array_level(a) == level for a in adv):
        if positions != list(range(positions[0], positions[-1] + 1)):
            return NotImplemented  # NumPy would move the indexed dims in front of the batch
        return wrap(cls.apply(physical(x, level), (slice(None),) + tuple(adv)), level)
    if len(positions) != len(adv):
        return NotImplemented
    rank = max(a.ndim for a in adv)
    arrays = tuple(_aligned_array(a, level, rank) for a in adv)
    if level_of(x) != level:
        return wrap(cls.apply(x, arrays), level)
    size = batch_size(x, level)
    batch = xp.arange(size, dtype=xp.int64).reshape((size,) + (1,) * rank)
    return wrap(cls.apply(physical(x, level), (batch,) + arrays), level)


_register(advanced_index, indexing.Index)
_register(repeat, joins.Repeat)
_register(roll, rearrange.Roll)
_register(reshape, shape.View, shape.UnsafeView, shape.Squeeze, linalg.Reshape)
_register(expand, ExpandTo)
_register(basic_index, BasicIndex)
_register(join, joins.Cat, joins.Stack)
