"""The nested tensor (matches a `torch.Tensor` with `is_nested`, layouts `torch.strided` and
`torch.jagged`): a batch of tensors of different lengths stored as one packed values buffer.

NOTE [Nested tensors are a Tensor subclass holding a packed values Tensor]
Components t_0 ... t_(B-1) (same dim, same dtype) are stored concatenated along their first dim
as one dense `values` Tensor: (sum of lengths, *rest) for the jagged layout (torch's NJT, whose
`values()` is this buffer), flattened to 1-D for the strided layout (torch's C++ buffer; its
components may differ in any dim). `_nt_sizes` is the (B, dim) int64 array of component shapes,
`_nt_offsets` the int64 offsets (B + 1) into the buffer's first dim (jagged) or elements
(strided). Autograd is the buffer's: every op applies ember's dense op to the whole buffer once,
so gradients flow back to whatever made it, and a leaf nested tensor's `.grad` is its buffer's
gradient with its own structure. Ops reach the class through `__torch_function__`
(ember/nested/_ops.py), as torch's NJT reaches its op table.
"""

from ember._device import CPU
from ember._tensor import Tensor, layout, strided, wrap_dim

jagged = layout("jagged")
_NESTED_INT_COUNTER = [1]


class NestedInt:
    """The symbolic size of a ragged dim (prints as torch's nested int, `j1`)."""

    __slots__ = ("id",)

    def __init__(self):
        self.id = _NESTED_INT_COUNTER[0]
        _NESTED_INT_COUNTER[0] += 1

    def __repr__(self):
        return f"j{self.id}"

    __str__ = __repr__



# What NestedTensor's methods call in ember/nested/_ops.py, put here by that module when it loads
# (it imports this one: the op table reaches the class, not the reverse).
_OPS = {}

class NestedTensor(Tensor):
    """A batch of tensors of different shapes in one buffer (matches torch's nested tensor)."""

    __slots__ = ("_nt_values", "_nt_sizes", "_nt_offsets", "_nt_layout", "_nt_ragged",
                 "_nt_ridx", "_nt_home")

    @classmethod
    def _wrap(cls, values: Tensor, sizes, offsets, nt_layout, ragged=None, ragged_idx=1,
              home=None):
        """Wrap a packed values Tensor and its (B, dim) sizes array, unchecked; ragged_idx: the
        dim the ragged one is shown at (jagged; the buffer keeps it first); home: the
        ragged_idx at which torch's values would be contiguous (a transpose moves away)."""
        t = object.__new__(cls)
        t._nt_ridx = ragged_idx
        t._nt_home = ragged_idx if home is None else home
        t._nt_values = values
        t._nt_sizes = sizes
        t._nt_offsets = offsets
        t._nt_layout = nt_layout
        t._nt_ragged = ragged if ragged is not None or nt_layout is strided else NestedInt()
        return t

    def _like(self, values: Tensor, last=None):
        """A nested tensor of this structure over new values (last: a new last-dim size)."""
        sizes = self._nt_sizes
        offsets = self._nt_offsets
        if last is not None and self._nt_layout is strided:
            old = int(sizes[0, -1]) if len(sizes) else 1
            sizes = sizes.copy()
            sizes[:, -1] = last
            offsets = offsets // max(old, 1) * last
        elif last is not None:
            sizes = sizes.copy()
            sizes[:, -1] = last
        return NestedTensor._wrap(values, sizes, offsets, self._nt_layout, self._nt_ragged,
                                  self._nt_ridx, self._nt_home)

    # ---- metadata ---------------------------------------------------------------------------
    @property
    def is_nested(self) -> bool:
        return True

    @property
    def layout(self):
        return self._nt_layout

    @property
    def dtype(self):
        return self._nt_values.dtype

    @property
    def device(self):
        return CPU

    def dim(self) -> int:
        return self._nt_sizes.shape[1] + 1

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self.dim()

    def _regular(self, d):
        """The size of dim d when all components agree, else None."""
        if d == 0:
            return len(self._nt_sizes)
        column = self._nt_sizes[:, self._column(d)]
        if len(column) and (column == column[0]).all() and not (
                self._nt_layout is jagged and d == self._nt_ridx):
            return int(column[0])
        return None if len(column) else 0

    def size(self, dim=None):
        """One dim's size; a ragged dim raises (strided) or is a nested int (jagged)."""
        if dim is None:
            if self._nt_layout is strided:
                raise RuntimeError("Internal error: NestedTensorImpl doesn't support sizes. "
                                   "Please file an issue.")
            return _JaggedSize(self._jagged_shape())
        d = wrap_dim(dim, self.dim())
        n = self._regular(d)
        if n is None:
            if self._nt_layout is jagged:
                return self._nt_ragged
            raise RuntimeError(f"Given dimension {d} is irregular and does not have a size.")
        return n

    @property
    def shape(self):
        return self.size()

    def _column(self, d):
        """The column of `_nt_sizes` (a dim of the stored components) showing as dim d >= 1."""
        r = self._nt_ridx
        return d if d < r else 0 if d == r else d - 1

    def _jagged_shape(self):
        """(B, j, *rest) of a jagged tensor (j at `_ragged_idx`)."""
        rest = tuple(self._nt_values.shape[1:])
        r = self._nt_ridx
        return (len(self._nt_sizes),) + rest[:r - 1] + (self._nt_ragged,) + rest[r - 1:]

    def __len__(self):
        return len(self._nt_sizes) if self._nt_layout is jagged else self.size()[0]

    def numel(self) -> int:
        return self._nt_values.numel()

    def is_contiguous(self, memory_format=None) -> bool:
        return self._nt_ridx == self._nt_home  # a transposed jagged tensor is a view in torch

    # ---- jagged accessors -------------------------------------------------------------------
    def values(self) -> Tensor:
        """The packed (sum of lengths, *rest) buffer, with its autograd (jagged only)."""
        if self._nt_layout is strided:
            raise RuntimeError("Cannot access values for a nested tensor with strided layout")
        r = self._nt_ridx  # torch keeps the ragged dim where it is shown
        return self._nt_values if r == 1 else self._nt_values.movedim(0, r - 1)

    def offsets(self) -> Tensor:
        """The int64 offsets of the components into values()."""
        return Tensor._make(self._nt_offsets)

    def lengths(self):
        return None

    @property
    def _ragged_idx(self):
        return self._nt_ridx

    def _nested_tensor_size(self) -> Tensor:
        return Tensor._make(self._nt_sizes.copy())

    # ---- components ---------------------------------------------------------------------------
    def unbind(self, dim=0):
        """The components as dense tensors, views of the buffer (autograd flows to it)."""
        d = wrap_dim(dim, self.dim())
        if d != 0 and self._nt_layout is strided:
            raise RuntimeError("NestedTensor can only be unbound along dimension 0 got "
                               f"dimension {d} instead.")
        if d != 0:
            raise RuntimeError("unbind(): only supported for NestedTensor on dim=0")
        values, off = self._nt_values, self._nt_offsets
        if self._nt_layout is jagged:
            parts = tuple(values[int(off[i]):int(off[i + 1])] for i in range(len(off) - 1))
            r = self._nt_ridx
            return parts if r == 1 else tuple(p.movedim(0, r - 1) for p in parts)
        return tuple(values[int(off[i]):int(off[i + 1])].reshape(tuple(int(s) for s in size))
                     for i, size in enumerate(self._nt_sizes))

    def __iter__(self):
        return iter(self.unbind())

    def __getitem__(self, index):
        if isinstance(index, int):
            component = self.unbind()[index]
            if component.grad_fn is None:
                return component
            return _OPS["named"]("SelectBackwardAutogradNestedTensor0").apply(
                component, tuple(component.shape))
        raise NotImplementedError("nested tensors support only an integer index")

    # ---- autograd: the buffer's ---------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._nt_values.requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self._nt_values.requires_grad = value

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad on the buffer; return self."""
        self._nt_values.requires_grad_(requires_grad)
        return self

    @property
    def grad_fn(self):
        return self._nt_values.grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._nt_values.grad_fn is None

    @property
    def grad(self):
        """The buffer's gradient with this tensor's structure."""
        g = self._nt_values.grad
        return None if g is None else self._like(g)

    @grad.setter
    def grad(self, value):
        self._nt_values.grad = None if value is None else value._nt_values

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Backpropagate from the buffer (gradient: a nested tensor of the same structure)."""
        if gradient is None:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        self._nt_values.backward(gradient._nt_values, retain_graph, create_graph)

    def detach(self):
        return self._like(self._nt_values.detach())

    def clone(self, memory_format=None):
        return self._like(self._nt_values.clone())

    def contiguous(self, memory_format=None):
        return self

    def to_padded_tensor(self, padding, output_size=None):
        """The components padded into one dense tensor (matches `Tensor.to_padded_tensor`)."""
        return _OPS["to_padded_tensor"](self, padding, output_size)

    # ---- printing -----------------------------------------------------------------------------
    def __repr__(self):
        if self._nt_layout is jagged:
            return self._jagged_repr()
        suffix = ""
        if self.grad_fn is not None:
            suffix = f", grad_fn=<{type(self.grad_fn).__name__}>"
        elif self.requires_grad:
            suffix = ", requires_grad=True"
        # the components print as leaves carrying the nested tensor's requires_grad
        parts = [_indent(repr(c.detach().requires_grad_(self.requires_grad)))
                 for c in self.unbind()]
        body = ",\n".join(parts) + ("\n" if parts else "")
        return "nested_tensor([\n" + body + "]" + suffix + ")"

    def _jagged_repr(self):
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.grad_fn is not None:
            extra = f", grad_fn={self.grad_fn}"
        size = "(" + ", ".join(str(s) for s in self._jagged_shape()) + ")"
        offsets = repr(Tensor._make(self._nt_offsets))
        return (f"NestedTensor(size={size}, offsets={offsets}{extra}, "
                f"contiguous={self.is_contiguous()})")

    __str__ = __repr__

    def __torch_function__(cls, func, types, args=(), kwargs=None):
        """Run func on the packed buffers (the op table of ember/nested/_ops.py)."""
        return _OPS["dispatch"](func, args, kwargs or {})

    __torch_function__ = classmethod(__torch_function__)


class _JaggedSize(tuple):
    """`torch.Size([2, j1, 3])` with a nested int inside."""

    def __repr__(self):
        return "torch.Size([" + ", ".join(str(s) for s in self) + "])"

    __str__ = __repr__


def _indent(text):
    """A component's repr indented by two spaces, as torch's nested_tensor repr."""
    return "\n".join("  " + line for line in text.split("\n"))
