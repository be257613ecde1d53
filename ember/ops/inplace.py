"""In-place ops and views: the region ops, the history rewrite after an in-place write through
a view (PyTorch's CopySlices), and `Tensor._inplace_update`, the last step of every `op_`.

NOTE [Regions]
The gradients of indexing are all "put gy into a region of zeros", "take a region of gy" or
"zero a region of gy". A region is a view function (array -> writable view: a basic index or a
view op's `_view_fn`) followed by an optional advanced index. The three region ops are each
other's backward, so indexing is differentiable any number of times.
"""

from ember import _backend, _dtype
from ember._backend import get_array_module, xp
from ember._in_place import assert_no_internal_overlap, writable
from ember._registry import tensor_method
from ember._schemas import type_name
from ember._tensor import Tensor, short_name
from ember.autograd import grad_mode
from ember._threads import flat_blocks
from ember.autograd.function import Op
from ember.autograd.saved_tensors import SavedOutput
from ember.ops.conversion import real_part_for

_state = grad_mode._state


def identity(array):
    """The view function of a whole tensor: the array itself."""
    return array


# ---- region ops -------------------------------------------------------------------------------
class RegionTake(Op):
    """y = view_fn(g)[adv] (a copy);  gg = zeros with gy put back into the region."""

    node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, g, view_fn, adv):
        ctx.region = (g._data.shape, view_fn, adv)
        part = view_fn(g._data)
        return xp.copy(part[adv] if adv is not None else part)

    @staticmethod
    def backward(ctx, gy):
        shape, view_fn, adv = ctx.region
        return RegionPut.apply(gy, shape, view_fn, adv), None, None


class RegionPut(Op):
    """y = zeros(shape) with g added into the region (repeats accumulate);  gg = gy's region."""

    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, g, shape, view_fn, adv):
        ctx.region = (view_fn, adv)
        out = get_array_module(g._data).zeros(shape, dtype=g._data.dtype)
        if adv is None:
            view_fn(out)[...] = g._data
        else:
            _backend.scatter_add(view_fn(out), adv, g._data)
        return out

    @staticmethod
    def backward(ctx, gy):
        return RegionTake.apply(gy, *ctx.region), None, None, None


class RegionZero(Op):
    """y = g with the region set to 0;  gg = gy with the region set to 0."""

    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, g, view_fn, adv):
        ctx.region = (view_fn, adv)
        out = xp.copy(g._data)
        if adv is None:
            view_fn(out)[...] = 0
        else:
            view_fn(out)[adv] = 0
        return out

    @staticmethod
    def backward(ctx, gy):
        return RegionZero.apply(gy, *ctx.region), None, None


# ---- in-place ops on views ----------------------------------------------------------------------
class AsStrided(Op):
    """y = view_fn(base) (a view);  gbase = zeros with gy put into the view's region."""

    @staticmethod
    def forward(ctx, base, view_fn):
        ctx.input_shape = base._data.shape
        ctx.view_fn = view_fn
        return view_fn(base._data)

    @staticmethod
    def backward(ctx, gy):
        return RegionPut.apply(gy, ctx.input_shape, ctx.view_fn, None), None


class CopySlices(Op):
    """base' = base with its view region replaced by `result`;  gbase = gy with the region
    zeroed,  gresult = gy's region."""

    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, result, view_fn):
        ctx.view_fn = view_fn
        return base._data

    @staticmethod
    def backward(ctx, gy):
        gbase = RegionZero.apply(gy, ctx.view_fn, None) if ctx.needs_input_grad[0] else None
        gresult = RegionTake.apply(gy, ctx.view_fn, None) if ctx.needs_input_grad[1] else None
        return gbase, gresult, None


def copy_slices_name(node) -> str:
    return "torch::autograd::CopySlices"  # PyTorch's C++ node keeps its namespace in name()


for _op in (RegionZero, CopySlices):
    _op._backward_cls.name = copy_slices_name


def check_inplace_view(view: Tensor) -> None:
    """PyTorch's errors for in-place ops on views of leaves and on multi-output views.

    NOTE [No-grad views]
    As in PyTorch, a view made in no_grad (or inference) mode of a tensor that requires grad
    requires grad too, without a grad_fn (`_as_view_of`); an in-place op on it with grad mode
    on is refused, since whether to record it is ambiguous."""
    base = view._base
    if view._requires_grad and view.grad_fn is None:
        raise RuntimeError(
            "A view was created in no_grad mode and is being modified inplace with grad mode "
            "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. "
            "You can clarify your code by moving both the view and the inplace either both "
            "inside the no_grad block (if you don't want the inplace to be tracked) or both "
            "outside (if you want the inplace to be tracked).")
    if base._requires_grad and base.grad_fn is None:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place "
            "operation.")
    node = view.grad_fn
    if node is not None and getattr(node._function, "multi_view", False):
        name = type(node).__name__.replace("Backward0", "")
        raise RuntimeError(
            f"Output {view._output_nr} of {name} is a view and is being modified inplace. This "
            "view is the output of a function that returns multiple views. Such functions do not "
            "allow the output views to be modified inplace. You should replace the inplace "
            "operation by an out-of-place one.")


def rebase_view_history(view: Tensor, result: Tensor) -> None:
    """After an in-place op wrote `result` into `view`, make the base's history
    CopySlices(old base, result) and the view's history a view of the new base.

    A tensor that is not a view is its own base (used when a constant overwrites a tensor in a
    graph: its old history then gets zero gradient)."""
    if view._base is None:
        new = CopySlices.apply(view, result, identity)
        view.grad_fn, view._output_nr, view._requires_grad = new.grad_fn, 0, True
        return
    base = view._base
    new_base = CopySlices.apply(base, result, view._view_fn)
    base.grad_fn, base._output_nr, base._requires_grad = new_base.grad_fn, 0, True
    new_view = AsStrided.apply(base, view._view_fn)
    view.grad_fn, view._output_nr, view._requires_grad = new_view.grad_fn, 0, True


@tensor_method()
def _check_inplace(self):
    """PyTorch's errors for an in-place write to a leaf that requires grad or to a view of one."""
    if self._base is not None and _state["enabled"]:
        check_inplace_view(self)  # view of a leaf, output of split/unbind, no-grad view
    if self._requires_grad and self.grad_fn is None and _state["enabled"]:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation.")


@tensor_method()
def _inplace_update(self, result, fill=False):
    """Write `result` (already computed out of place) into self's memory; rebase history
    (`fill`: one value everywhere, which torch writes into an expanded tensor too).

    NOTE [In-place ops and autograd]
    An in-place op computes its value out of place with the normal differentiable op, copies
    the values into this tensor's array (so views and aliases see them), bumps the version
    counter, and makes the out-of-place result's grad_fn this tensor's grad_fn. If this
    tensor is a view of a base that is part of a graph, the base's history is rewritten too:
    the base now comes from "old base with the view's region replaced by result".
    """
    self._check_inplace()
    if not fill:
        assert_no_internal_overlap(self._data)
    if result._data.shape != self._data.shape:
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the "
                           f"broadcast shape {list(result._data.shape)}")
    if result.dtype is not self.dtype:
        if not _can_cast(result.dtype, self.dtype):
            raise RuntimeError(
                f"result type {short_name(result.dtype)} can't be cast to the desired "
                f"output type {short_name(self.dtype)}")
    if result.grad_fn is not None and result.grad_fn._saved and _state["enabled"]:
        _keep_saved_originals(result.grad_fn, self, result)
    if result._data is not self._data:
        _write(writable(self._data) if fill else self._data, result._data)
    self._version_counter.value += 1
    in_graph = self._requires_grad or (self._base is not None and self._base._requires_grad)
    if not (_state["enabled"] and (result._requires_grad or in_graph)):
        return self
    if self._base is not None or not result._requires_grad:
        rebase_view_history(self, result)  # a view, or overwritten by a constant
    else:
        self.grad_fn = result.grad_fn
        self._output_nr = result._output_nr
        self._requires_grad = True
    return self


def _write(target, values):
    """target[...] = values (cast as PyTorch's in-place ops cast); a big contiguous write of
    one dtype is shared out to the intra-op threads (a conv net's relu_ and `out += x`)."""
    if (values.dtype == target.dtype and values.shape == target.shape
            and not xp.may_share_memory(target, values)):  # (overlaps: NumPy's one copy)
        flat_blocks(xp.copyto, target, values)
    else:
        xp.copyto(target, values, casting="unsafe")


# ---- copy_ ----------------------------------------------------------------------------------
class CopyFrom(Op):
    """y = src cast to dst's dtype and broadcast to dst's shape (what `dst.copy_(src)` writes);
    gdst = 0 (overwritten), gsrc = gy summed over the broadcast dims, cast back to src's dtype."""

    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, dst, src):
        ctx.src_shape, ctx.src_dtype = src._data.shape, src.dtype
        target = dst._data.dtype
        if _dtype.is_float8_cast(src._data.dtype, target):  # NOTE [float8 casts]
            return xp.broadcast_to(_dtype.cast_array(src._data, target), dst._data.shape)
        values = real_part_for(src._data, target)  # (a complex src into a real dst: warned)
        return xp.broadcast_to(values.astype(target, copy=False), dst._data.shape)

    @staticmethod
    def backward(ctx, gy):
        gdst = gy.new_zeros(gy.shape) if ctx.needs_input_grad[0] else None
        if not ctx.needs_input_grad[1]:
            return gdst, None
        shape = ctx.src_shape
        lead = gy.dim() - len(shape)
        dims = tuple(range(lead)) + tuple(
            lead + i for i, size in enumerate(shape) if size == 1 and gy.shape[lead + i] != 1)
        gsrc = gy.sum(dim=dims, keepdim=True).reshape(shape) if dims else gy
        return gdst, gsrc.to(ctx.src_dtype)


def _copy_backwards_name(node) -> str:
    return "torch::autograd::CopyBackwards"  # a C++ node: name() keeps its namespace


CopyFrom._backward_cls.name = _copy_backwards_name


@tensor_method("copy_")
def copy_(self, src, non_blocking=False):
    """Write src's values into self, broadcast and cast to self's dtype (matches
    `Tensor.copy_`).

    Autograd as in PyTorch: self's old values get no gradient, src gets the gradient of the
    region it was copied to, summed over broadcast dims (`param.data.copy_(w)` and `copy_` under
    `no_grad` write without recording anything).
    """
    if not isinstance(src, Tensor):
        if isinstance(src, (bool, int, float, complex)):
            return self._inplace_update(Tensor._make(
                xp.full(self._data.shape, src, dtype=self._data.dtype)))
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not "
                        f"{type_name(src)}")
    shape = self._data.shape
    if len(src._data.shape) > len(shape) or any(
            s not in (1, t) for s, t in zip(reversed(src._data.shape), reversed(shape))):
        raise RuntimeError(_copy_shape_error(shape, src._data.shape))
    return self._inplace_update(CopyFrom.apply(self, src))


def _copy_shape_error(target, source) -> str:
    """PyTorch's message when copy_'s source does not broadcast to the target."""
    for i in range(1, min(len(target), len(source)) + 1):
        if source[-i] not in (1, target[-i]):
            return (f"The size of tensor a ({target[-i]}) must match the size of tensor b "
                    f"({source[-i]}) at non-singleton dimension {len(target) - i}")
    return (f"expand(torch.FloatTensor{{{list(source)}}}, size={list(target)}): the number of "
            f"sizes provided ({len(target)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({len(source)})")


# ---- Python-level element maps and storage sharing ---------------------------------------
def _check_no_grad(self, name):
    if self._requires_grad:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use "
                           f"var.detach().{name}() instead.")


@tensor_method("apply_")
def apply_(self, callable):
    """Replace each element x by callable(x), a Python function (matches `Tensor.apply_`)."""
    _check_no_grad(self, "apply_")
    mapped = [callable(v) for v in self._data.reshape(-1).tolist()]
    return self._inplace_update(Tensor._make(xp.asarray(mapped).reshape(self._data.shape)))


@tensor_method("map_")
def map_(self, tensor, callable):
    """Replace each x by callable(x, y), y from tensor broadcast to self (matches
    `Tensor.map_`)."""
    _check_no_grad(self, "map_")
    other = xp.broadcast_to(tensor._data, self._data.shape).reshape(-1).tolist()
    mapped = [callable(a, b) for a, b in zip(self._data.reshape(-1).tolist(), other)]
    return self._inplace_update(Tensor._make(xp.asarray(mapped).reshape(self._data.shape)))


@tensor_method("map2_")
def map2_(self, x, y, callable):
    """Replace each a by callable(a, b, c), b and c from x and y broadcast to self (matches
    `Tensor.map2_`)."""
    _check_no_grad(self, "map2_")
    bs = xp.broadcast_to(x._data, self._data.shape).reshape(-1).tolist()
    cs = xp.broadcast_to(y._data, self._data.shape).reshape(-1).tolist()
    mapped = [callable(a, b, c) for a, b, c in zip(self._data.reshape(-1).tolist(), bs, cs)]
    return self._inplace_update(Tensor._make(xp.asarray(mapped).reshape(self._data.shape)))


@tensor_method("set_")
def set_(self, source=None, storage_offset=0, size=None, stride=None):
    """Make self share source's memory, shape and strides (matches `Tensor.set_` with a
    tensor, a storage read as self's dtype, or with nothing: an empty tensor)."""
    if source is None:
        array = xp.empty((0,), dtype=self._data.dtype)
    elif isinstance(source, Tensor):
        if source.dtype is not self.dtype:
            raise RuntimeError(f"Could not set tensor of type {source.dtype} to a tensor of "
                               f"type {self.dtype}")
        array = source._data
    elif hasattr(source, "untyped"):  # an UntypedStorage (or a TypedStorage: its bytes)
        array = _storage_elements(source.untyped(), self._data.dtype)
        if size is None and storage_offset == 0:
            size = (array.size,)
        _check_in_storage(array.size, storage_offset, size, stride)
    else:
        raise TypeError(f"set_(): expected a Tensor source, got {type(source).__name__}")
    if size is not None:
        itemsize = array.itemsize
        strides = tuple(s * itemsize for s in (stride or _contiguous_strides(size)))
        array = xp.lib.stride_tricks.as_strided(array.reshape(-1)[storage_offset:],
                                                tuple(size), strides)
    self._data = array
    self._version_counter.value += 1
    return self


def _storage_elements(storage, dtype):
    """A storage's bytes read as a flat array of dtype (its whole elements)."""
    raw = storage._bytes
    return raw[:raw.size - raw.size % dtype.itemsize].view(dtype)


def _check_in_storage(available, offset, size, stride):
    """Refuse a layout reaching past the storage's end: torch would grow the storage, which
    ember cannot do to memory other tensors view."""
    size = tuple(size)
    stride = tuple(stride) if stride else _contiguous_strides(size)
    needed = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if needed > available:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset} need {needed} elements, but the storage holds "
                           f"{available}; ember cannot grow a storage other tensors view")


def _contiguous_strides(size):
    strides, step = [], 1
    for n in reversed(tuple(size)):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


class Alias(Op):
    """y = x, the same memory seen again;  gx = gy."""

    node_name = "AliasBackward0"

    @staticmethod
    def forward(ctx, x):
        return x._data.view()

    @staticmethod
    def backward(ctx, gy):
        return gy


@tensor_method("as_subclass")
def as_subclass(self, cls):
    """self's data as an instance of the Tensor subclass cls, sharing memory, and attached to
    self's graph by an alias as torch's is (AliasBackward0) (matches `Tensor.as_subclass`)."""
    source = Alias.apply(self)._as_view_of(self, _same_array) if self.requires_grad else self
    out = cls._make(source._data, source._requires_grad)
    out.grad_fn, out._output_nr = source.grad_fn, source._output_nr
    out._version_counter = source._version_counter
    out._base, out._view_fn = source._base, source._view_fn
    return out


def _same_array(array):
    return array


@tensor_method("module_load")
def module_load(self, other, assign=False):
    """The tensor `load_state_dict` swaps in for self: other, or self with other's values
    (matches `Tensor.module_load`)."""
    return other.detach() if assign else self.copy_(other).detach()


def _keep_saved_originals(node, target, result):
    """Swap the tensors `node` saved that `target`'s coming in-place write would change for
    copies of their current values.

    NOTE [Saved inputs of an in-place op]
    `y.mul_(w)` computes `y * w` out of place; that Mul saved y (for w's gradient), and y is about
    to be overwritten. PyTorch saves a copy of the original `self` for such in-place ops, so their
    backward works; only tensors saved by *earlier* ops raise the version error. The node that
    produced the result is this op's own node, so its saved aliases of target are copied here.
    An op that saved its output (relu_) saves `target` from now on, at the version this write
    gives it, so a later in-place change of target is caught as in PyTorch.
    """
    saved = []
    for t, version in node._saved:
        if t is not None and t._version_counter is target._version_counter and \
                version == t._version_counter.value:
            original = Tensor._make(t._data.copy(), t._requires_grad)
            original.grad_fn, original._output_nr = t.grad_fn, t._output_nr
            saved.append((original, 0))
        elif t is result or type(t) is SavedOutput and \
                t._version_counter is result._version_counter:
            # an op saving its output (relu_, exp_) now saves the tensor it wrote, at the
            # version this write gives it (still without its node: NOTE [Saved outputs])
            saved.append((SavedOutput(target, t.output_nr), target._version_counter.value + 1))
        else:
            saved.append((t, version))
    node._saved = tuple(saved)


def _can_cast(source, target) -> bool:
    """PyTorch's in-place rule: a float result cannot go into an integer tensor, etc."""
    return _dtype._category(source) <= _dtype._category(target)
