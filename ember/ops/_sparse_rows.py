"""The gather / scatter-add pair every sparse op is written with, and PyTorch's merge of two
entry lists (`sparse + sparse`)."""

from ember._backend import get_array_module, xp
from ember.autograd.function import Op


class GatherRows(Op):
    """y = x[ids] (rows picked along dim 0);  gx = gy scatter-added back into those rows."""

    node_name = "IndexSelectBackward0"

    @staticmethod
    def forward(ctx, x, ids):
        ctx.ids, ctx.n = ids, x._data.shape[0]
        return x._data[ids]

    @staticmethod
    def backward(ctx, gy):
        return ScatterAddRows.apply(gy, ctx.ids, ctx.n), None


class ScatterAddRows(Op):
    """y = zeros(n, ...) with y[ids[k]] += x[k];  gx = gy[ids] (a gather)."""

    node_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, x, ids, n):
        ctx.ids = ids
        y = get_array_module(x._data).zeros((n,) + x._data.shape[1:], dtype=x._data.dtype)
        xp.add.at(y, ids, x._data)
        return y

    @staticmethod
    def backward(ctx, gy):
        return GatherRows.apply(gy, ctx.ids), None, None


def merge_slots(a_keys, b_keys):
    """Where each entry of a and of b lands in PyTorch's sum of two uncoalesced sparse tensors,
    and the key of each slot: (slots of a, slots of b, keys).

    NOTE [PyTorch's sparse merge]
    PyTorch adds two sparse COO tensors (`add_out_sparse_contiguous`) by one two-pointer walk
    over their entry lists as stored, as if both were sorted: the smaller key goes out first,
    equal keys go out as one entry holding both values. On coalesced operands that is the
    sorted union; on uncoalesced ones it keeps most repeats apart (keys [2, 0] + [0, 2] gives
    [0, 2, 0]), and that is the `_nnz()` and order of an accumulated sparse gradient. Each step
    depends on where the last one left both pointers, so the walk is a loop, over Python ints.
    """
    a, b = a_keys.tolist(), b_keys.tolist()
    slots_a, slots_b, keys = [], [], []
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] <= b[j]:
            slots_a.append(len(keys))
            if a[i] == b[j]:
                slots_b.append(len(keys))
                j += 1
            keys.append(a[i])
            i += 1
        else:
            slots_b.append(len(keys))
            keys.append(b[j])
            j += 1
    slots_a.extend(range(len(keys), len(keys) + len(a) - i))
    keys.extend(a[i:])
    slots_b.extend(range(len(keys), len(keys) + len(b) - j))
    keys.extend(b[j:])
    as_array = lambda values: xp.asarray(values, dtype=xp.int64)  # noqa: E731
    return as_array(slots_a), as_array(slots_b), as_array(keys)
