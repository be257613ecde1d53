"""torch.sparse's construction helpers: spdiags (a matrix from its diagonals) and
check_sparse_tensor_invariants (the switch that makes constructors validate their indices)."""

from ember._backend import xp
from ember._tensor import Tensor, short_name
from ember.ops._sparse_compressed import sparse_csc, sparse_csr
from ember.ops._sparse_coo import INVARIANT_CHECKS, sparse_coo
from ember.ops.sparse import sparse_coo_tensor


def _check_spdiags(diagonals: Tensor, offsets: Tensor, shape, layout):
    """PyTorch's argument errors of spdiags."""
    if layout not in (None, sparse_coo, sparse_csr, sparse_csc):
        word = "".join(part.capitalize() for part in str(layout).rsplit(".", 1)[-1].split("_"))
        raise RuntimeError("Only output layouts (Sparse, SparseCsc, SparseCsr) are supported, "
                           f"got {word}")
    if len(shape) != 2:
        raise RuntimeError("Output shape must be 2d")
    if diagonals.dim() not in (1, 2):
        raise RuntimeError("Diagonals must be vector or matrix")
    if offsets.dim() > 1:
        raise RuntimeError("Offsets must be scalar or vector")
    if offsets.dtype.name != "int64":
        raise RuntimeError("Offset Tensor must have dtype Long but got "
                           f"{short_name(offsets.dtype)}")
    rows = diagonals.shape[0] if diagonals.dim() == 2 else 1
    if rows != offsets.numel():
        raise RuntimeError(f"Number of diagonals ({rows}) does not match the number of offsets "
                           f"({offsets.numel()})")
    if len(set(offsets.reshape(-1).tolist())) != offsets.numel():
        raise RuntimeError("Offset tensor contains duplicate values")


def spdiags(diagonals: Tensor, offsets: Tensor, shape, layout=None) -> Tensor:
    """A sparse matrix with row i of diagonals on diagonal offsets[i]: out[j - k, j] =
    diagonals[i, j] for k = offsets[i] (matches `torch.sparse.spdiags`; not differentiable,
    as in PyTorch)."""
    _check_spdiags(diagonals, offsets, shape, layout)
    data = diagonals._data.reshape(-1, diagonals._data.shape[-1])
    m, n = (int(s) for s in shape)
    rows, cols, picks = [], [], []
    for i, k in enumerate(offsets.reshape(-1).tolist()):
        j = xp.arange(max(0, k), max(0, min(n, m + k, data.shape[1])), dtype=xp.int64)
        rows.append(j - k)
        cols.append(j)
        picks.append(data[i, j])
    index = xp.stack([xp.concatenate(rows), xp.concatenate(cols)])
    out = sparse_coo_tensor(Tensor._make(index), Tensor._make(xp.concatenate(picks)), (m, n),
                            check_invariants=False)  # (torch's C++ spdiags does not warn)
    if layout is sparse_csr:
        return out.to_sparse_csr()
    return out.to_sparse_csc() if layout is sparse_csc else out


class check_sparse_tensor_invariants:  # noqa: N801 - PyTorch's name
    """Turn the index checks of sparse constructors on or off: as a context manager, a
    decorator, or through enable()/disable() (matches
    `torch.sparse.check_sparse_tensor_invariants`)."""

    @staticmethod
    def is_enabled() -> bool:
        """Whether constructors check their invariants by default."""
        return INVARIANT_CHECKS["enabled"]

    @staticmethod
    def enable():
        """Constructors check their invariants unless told check_invariants=False."""
        INVARIANT_CHECKS.update(enabled=True, explicit=True)

    @staticmethod
    def disable():
        """Constructors check their invariants only when told check_invariants=True."""
        INVARIANT_CHECKS.update(enabled=False, explicit=True)

    def __init__(self, enable=True):
        self.state = enable
        self.saved_state = None

    def __enter__(self):
        if self.saved_state is not None:
            raise RuntimeError("This context manager instance is already activated. Use a "
                               "different context manager instance for context nesting.")
        self.saved_state = self.is_enabled()
        INVARIANT_CHECKS.update(enabled=bool(self.state), explicit=True)

    def __exit__(self, exc_type, exc_value, traceback):
        INVARIANT_CHECKS["enabled"] = self.saved_state
        self.saved_state = None

    def __call__(self, function):
        def checked(*args, **kwargs):
            with type(self)(self.state):
                return function(*args, **kwargs)

        return checked
