"""Group norm's per-channel affine map, y = x̂·w[c] + b[c], as one op whose node has PyTorch's
group norm name (the normalisation itself is `NormalizeGroup` in ember/ops/nn_ops.py).

As two elementwise ops the map cost group norm most of its time: their backward reduced
gy·x̂ and gy over every dim but the channels with broadcast sums (`sum_to`). Here the forward
is batch norm's affine kernel and the backward its kernels (NOTE [Batch norm in few passes]
in ember/ops/nn_norm_kernels.py): gx = gy·w, and Σ gy and Σ gy·x̂ per channel as row sums in
float64. y and gx are the bits of the two ops; gw and gb are closer sums than theirs.
"""

from ember._backend import xp
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.autograd.grad_mode import _state
from ember.ops import nn_norm_kernels as kernels


class ChannelAffine(Op):
    """y = x·w + b per channel (dim 1);  gx = gy·w,  gw = Σ gy·x,  gb = Σ gy (over every dim
    but 1)."""

    node_name = "NativeGroupNormBackward0"

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, w)
        return kernels.affine(x._data, w._data.reshape(-1),
                              None if b is None else b._data.reshape(-1))

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        g = gy._data
        if _state["enabled"] or g.dtype != w._data.dtype:  # create_graph: with ember ops
            return _graph_grads(gy, x, w, ctx.needs_input_grad)
        gx = Tensor._make(kernels.scaled(g, w._data.reshape(-1))) if need_x else None
        gw = gb = None
        if need_w:
            sum_g, sum_gx = kernels.grad_sums(g, x._data)
            gw = Tensor._make(sum_gx.astype(g.dtype))
            gb = Tensor._make(sum_g.astype(g.dtype)) if need_b else None
        elif need_b:
            gb = Tensor._make(g.sum(axis=(0,) + tuple(range(2, g.ndim)), dtype=xp.float64)
                              .astype(g.dtype))
        return gx, gw, gb


def _graph_grads(gy, x, w, needs):
    """ChannelAffine's backward written with ember ops (differentiable again)."""
    dims = (0,) + tuple(range(2, gy.ndim))
    shape = (1, -1) + (1,) * (gy.ndim - 2)
    gx = gy * w.reshape(shape) if needs[0] else None
    gw = (gy * x).sum(dims) if needs[1] else None
    gb = gy.sum(dims) if needs[2] else None
    return gx, gw, gb


def channel_affine(x: Tensor, weight: Tensor, bias) -> Tensor:
    """x·weight[c] + bias[c] for float32/float64 x of at least 2 dims and parameters of its
    dtype (group norm's last step)."""
    return ChannelAffine.apply(x, weight, bias)
