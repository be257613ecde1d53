"""A whole LSTM layer (one direction, every sequence the same length) as one fused op.

NOTE [One op per layer]
An LSTM layer over T steps is the input projection X·W_ihᵀ of all steps (one matmul), then per
step the hidden matmul h·W_hhᵀ, the biases and the gate nonlinearities. `LSTMLayer` runs that
loop on arrays inside one op (the graph gets one node per layer and direction, like torch's
`MkldnnRnnLayerBackward0`), writing into buffers made once per call: the gates of every step
(T, B, 4H), activated in place, and the hidden and cell states (T+1, B, H), whose first or
last T rows are exactly the inputs of the hidden matmuls. After the loop the forward computes,
for all steps at once (blocks of steps on the intra-op threads), the factors that turn the
incoming gradients into each step's gate gradients (`_save_factors`), so the backward walks
back through time with five small array passes and one matmul per step, writing every step's
gate gradient d into one (T, B, 4H) array D; the weight gradients are then single matmuls over
all steps: gW_ih = Dᵀ·X, gW_hh = Dᵀ·H, gb = Σ D, gX = D·W_ih. (PyTorch's oneDNN kernel fuses
all of this; on NumPy a step still costs its two thin matmuls plus about 15 small array
passes, forward and backward together.)
With create_graph=True the backward recomputes the steps with ember ops from the saved inputs
and applies the same formulas to Tensors, so the gradient is itself differentiable.
`ember.ops.rnn` uses this op for LSTM layers without a projection whose batch never shrinks
(every padded input), and its per-step ops for the rest (packed batches that shrink,
proj_size, GRU and RNN).
"""

from ember import _autocast
from ember._backend import get_array_module, xp
from ember._tensor import Tensor
from ember._threads import parallel_blocks
from ember.autograd import grad_mode
from ember.autograd.function import Op
from ember.ops.joins import cat, split
from ember.ops.nn_ops import linear

_state = grad_mode._state


def _gate_constants(gates):
    """Per-column constants of the LSTM gate array [i f g o] (sigmoid, sigmoid, tanh, sigmoid):
    the scale and offset that make σ(a) = ½·tanh(a/2) + ½ and tanh(a) one formula, and which
    columns are sigmoids."""
    key = (gates.shape[-1], gates.dtype.str)
    if key not in _GATE_CONSTANTS:
        size = gates.shape[-1] // 4
        module = get_array_module(gates)
        sigmoid = module.ones(gates.shape[-1], dtype=gates.dtype)
        sigmoid[2 * size:3 * size] = 0
        scale = 0.5 + 0.5 * (1 - sigmoid)
        _GATE_CONSTANTS[key] = (scale, 0.5 * sigmoid, sigmoid, 1 - sigmoid)
    return _GATE_CONSTANTS[key]


_GATE_CONSTANTS = {}


def _lstm_activate_(gates):
    """σ on the i, f, o columns and tanh on the g columns, in place, in four array passes."""
    scale, offset, _, _ = _gate_constants(gates)
    gates *= scale
    xp.tanh(gates, out=gates)
    gates *= scale
    gates += offset


def _lstm_grads(needs, gh, gc, gates, tc, h_full, h, c, w_hh, w_hr):
    """One LSTM step's gradients with ember ops (for create_graph): with
    ĝc = gc' + gh'·o·(1 - tanh²c'), d = [ĝc·g·i(1-i), ĝc·c·f(1-f), ĝc·i·(1-g²), gh'·tanh c'·o(1-o)];
    returns (gxg, gh, gc, gW_hh, gb_hh, gW_hr) = (d, d·W_hh, ĝc·f, dᵀ·h, Σ d, gh'ᵀ·h_full)."""
    i, f, g, o = gates
    gw_hr = None
    if w_hr is not None:
        gw_hr = gh.T @ h_full if needs[5] else None
        gh = gh @ w_hr
    gc_total = gc + gh * o * (1 - tc * tc)
    d = cat([gc_total * g * i * (1 - i), gc_total * c * f * (1 - f),
             gc_total * i * (1 - g * g), gh * tc * o * (1 - o)], 1)
    return (d if needs[0] else None,
            d @ w_hh if needs[1] else None,
            gc_total * f if needs[2] else None,
            d.T @ h if needs[3] else None,
            d.sum(0) if needs[4] else None,
            gw_hr)


def _order(steps: int, reverse: bool):
    """The time steps in the order the layer visits them."""
    return range(steps - 1, -1, -1) if reverse else range(steps)


class LSTMLayer(Op):
    """One LSTM layer and direction over T equal-length steps (NOTE [One op per layer]):
    (X (T·B, I), W_ih, W_hh, b_ih, b_hh, h0, c0) -> (Y (T·B, H), h_T, c_T).

    Per step (formulas of `LSTMStep`): i, f, g, o = σ, σ, tanh, σ of xgₜ + h·W_hhᵀ;
    c' = f·c + i·g;  h' = o·tanh c'.  Backward: with ĝc = gc' + gh'·o·(1 - tanh²c'),
    dₜ = [ĝc·g·i(1-i), ĝc·c·f(1-f), ĝc·i·(1-g²), gh'·tanh c'·o(1-o)], gh = dₜ·W_hh (+ gYₜ₋₁),
    gc = ĝc·f;  gX = D·W_ih,  gW_ih = Dᵀ·X,  gW_hh = Dᵀ·H,  gb_ih = gb_hh = Σ D.
    """

    node_name = "MkldnnRnnLayerBackward0"

    @staticmethod
    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh, h0, c0, steps, reverse):
        saving = any(ctx.needs_input_grad)
        hs, c, buffers = _forward_arrays(x, w_ih, w_hh, b_ih, b_hh, h0._data, c0._data, steps,
                                         reverse, saving)
        if saving:
            ctx.gates, ctx.factors, ctx.tanh_slope = buffers
            ctx.hs, ctx.steps, ctx.reverse = hs, steps, reverse
            ctx.save_for_backward(x, w_ih, w_hh, b_ih, b_hh, h0, c0)
        outputs = hs[:steps] if reverse else hs[1:]
        # Y is a copy: the user may change it in place, and hs stays saved for the backward
        return (outputs.reshape(steps * hs.shape[1], hs.shape[2]).copy(),
                hs[0 if reverse else steps].copy(), c)


    @staticmethod
    def backward(ctx, gy, gh, gc):
        if _state["enabled"]:  # create_graph: a differentiable backward
            return _backward_ops(ctx, gy, gh, gc)
        return _backward_arrays(ctx, gy._data, gh._data, gc._data)


def _forward_arrays(x, w_ih, w_hh, b_ih, b_hh, h0, c0, steps, reverse, saving):
    """The forward loop on arrays. Returns the hidden states (T+1, B, H) (row 0 the initial
    state, or row T when reverse), the last cell state, and, when saving for the backward, the
    activated gates (T, B, 4H) with their derivative factors (`_save_factors`)."""
    loop = ForwardLoop(w_ih._data, w_hh._data, _bias(b_ih, b_hh), h0, c0, steps, reverse)
    loop.project(x._data, 0, steps)
    loop.run(0, steps)
    return loop.finish(saving)


class ForwardLoop:
    """The arrays of one layer and direction's forward loop (NOTE [One op per layer]): the
    gates of every step (T, B, 4H), filled by `project` (the input part, for any block of
    steps) and activated in place by `run` (the steps of a block, in the layer's order); the
    hidden and cell states (T+1, B, H), row t being the state step t reads (row t+1 when
    reverse), and tanh c' of every step."""

    def __init__(self, w_ih, w_hh, bias, h0, c0, steps, reverse):
        batch, size = h0.shape
        self.size, self.steps, self.reverse = size, steps, reverse
        self.scale, self.offset, _, _ = _gate_constants(w_hh.T)
        # the gates' pre-activations come out already scaled for σ(a) = ½·tanh(a/2) + ½:
        # scaled copies of the weights (exact: a power of two) save one pass per step
        self.w_ih = w_ih.T * self.scale
        self.bias = None if bias is None else bias * self.scale
        module = get_array_module(h0)
        self.gates = module.empty((steps, batch, 4 * size), dtype=h0.dtype)
        # W_hhᵀ, scaled, laid out for the thin matmul (NOTE [Thin matmuls in column blocks])
        self.w_t, self.sums = _column_blocks(w_hh.T, batch, self.gates, self.scale)
        self.hs = module.empty((steps + 1, batch, size), dtype=h0.dtype)
        self.cs = module.empty_like(self.hs)
        self.hs[steps if reverse else 0] = h0
        self.cs[steps if reverse else 0] = c0
        self.tcs = module.empty_like(self.hs[1:])  # tanh c' of every step
        self.ig = module.empty_like(c0)
        self.hidden = module.empty(self.sums.shape[1:], dtype=h0.dtype)

    def project(self, x, start, stop):
        """The input part of the gates of steps [start, stop): x (rows of those steps, ·)·W_ihᵀ
        (+ b_ih + b_hh), scaled; one matmul for the block."""
        rows = self.gates[start:stop].reshape(-1, self.gates.shape[2])
        xp.matmul(x, self.w_ih, out=rows)
        if self.bias is not None:
            rows += self.bias

    def run(self, start, stop):
        """The steps [start, stop) in the layer's order (their gates' input part projected)."""
        gates, hs, cs, tcs, sums = self.gates, self.hs, self.cs, self.tcs, self.sums
        scale, offset, size, ig, hidden = self.scale, self.offset, self.size, self.ig, self.hidden
        order = range(stop - 1, start - 1, -1) if self.reverse else range(start, stop)
        for t in order:
            before, after = (t + 1, t) if self.reverse else (t, t + 1)
            a, c_new = gates[t], cs[after]
            xp.matmul(hs[before], self.w_t, out=hidden)
            xp.add(sums[t], hidden, out=sums[t])
            xp.tanh(a, out=a)  # σ(a) = ½·tanh(a/2) + ½ and tanh(a), in three passes
            a *= scale
            a += offset
            xp.multiply(a[:, size:2 * size], cs[before], out=c_new)  # c' = f·c + i·g
            xp.multiply(a[:, :size], a[:, 2 * size:3 * size], out=ig)
            c_new += ig
            xp.tanh(c_new, out=tcs[t])
            xp.multiply(a[:, 3 * size:], tcs[t], out=hs[after])  # h' = o·tanh c'

    def finish(self, saving):
        """(hidden states (T+1, B, H), the last cell state, (gates, factors, tanh slope)); the
        factors of all steps at once, in blocks of steps over the intra-op threads."""
        steps, gates, cs, tcs = self.steps, self.gates, self.cs, self.tcs
        c_last = cs[0 if self.reverse else steps].copy()
        if not saving:
            return self.hs, c_last, (gates, None, None)
        factors = get_array_module(gates).empty_like(gates)
        c_before = cs[1:] if self.reverse else cs[:steps]
        parallel_blocks(lambda start, stop: _save_factors(
            gates[start:stop], c_before[start:stop], tcs[start:stop], factors[start:stop]),
            steps, max(1, _FACTOR_BLOCK // gates[0].size))
        return self.hs, c_last, (gates, factors, tcs)


# Gate elements per thread below which `_save_factors` runs as one block.
_FACTOR_BLOCK = 1 << 15


# NOTE [Thin matmuls in column blocks]
# A step's hidden product (B, K)·(K, N) is thin (B = batch), and OpenBLAS spends most of its time
# on it packing the weight. Its AVX-512 builds multiply products with m·n·k ≤ 100³ by a kernel
# that reads the operands as they are, so the step multiplies by column blocks of the weight
# under that size instead: one batched matmul over a (N/w, K, w) copy made once per call, its
# (N/w, B, w) result read through a view of the (B, N) layout. Each output element is still
# one dot product over K (bit-identical where the kernels sum alike, within rounding where not).
# Measured for (20, 256)·(256, 1024) float32 on one core: 125 µs as one matmul, 70–90 µs as
# 8 blocks; (20, 1024)·(1024, 256): 135 µs, 85 µs as 8 blocks.
_SMALL_PRODUCT = 100 ** 3


def _column_blocks(w, rows, out, scale=None):
    """For the products x (rows, K)·w (K, N) accumulated into or written to out (·, rows, N):
    (w·scale as (N/b, K, b) column blocks, out viewed as (·, N/b, rows, b)) when blocks of a
    width b (a multiple of 16) fit OpenBLAS's small-product kernel, else (w·scale row by row,
    out). w may be a transposed view: the copy and the scaling are one pass either way."""
    inner, cols = w.shape
    if rows * inner * cols > _SMALL_PRODUCT and out.flags.c_contiguous:
        for width in range(cols // 2 // 16 * 16, 15, -16):
            if cols % width == 0 and rows * inner * width <= _SMALL_PRODUCT:
                blocks = cols // width
                w_blocks = get_array_module(w).empty((blocks, inner, width), dtype=w.dtype)
                factor = 1 if scale is None else scale.reshape(blocks, 1, width)
                xp.multiply(w.reshape(inner, blocks, width).transpose(1, 0, 2), factor,
                            out=w_blocks)
                view = out.reshape(out.shape[:-1] + (blocks, width)).swapaxes(-2, -3)
                return w_blocks, view
    if scale is None and w.flags.c_contiguous:
        return w, out
    rows_of_w = get_array_module(w).empty((inner, cols), dtype=w.dtype)
    xp.multiply(w, 1 if scale is None else scale, out=rows_of_w)  # thin matmuls like rows
    return rows_of_w, out


def _bias(b_ih, b_hh):
    """b_ih + b_hh as a new array (either may be None)."""
    if b_ih is None or b_hh is None:
        b = b_ih if b_hh is None else b_hh
        return None if b is None else b._data.copy()
    return b_ih._data + b_hh._data


def _save_factors(a, c, tc, p):
    """The factors that turn ĝc (and gh' for o) into the gate gradients of a block of steps
    (arrays (steps, B, ·)), written into p: [g·i(1-i), c·f(1-f), i·(1-g²), tanh c'·o(1-o)];
    then tc is overwritten with o·(1 - tanh²c')."""
    size = c.shape[-1]
    _, _, sigmoid, tanh = _gate_constants(a)
    xp.subtract(sigmoid, a, out=p)  # s(1 - s) on the sigmoid columns, 1 - g² on tanh's
    p *= a
    p += tanh
    p[..., :size] *= a[..., 2 * size:3 * size]
    p[..., size:2 * size] *= c
    p[..., 2 * size:3 * size] *= a[..., :size]
    p[..., 3 * size:] *= tc
    xp.multiply(tc, tc, out=tc)
    xp.subtract(1, tc, out=tc)
    tc *= a[..., 3 * size:]


def _backward_arrays(ctx, gy, gh_last, gc_last):
    """LSTMLayer's backward on arrays (its docstring's formulas, NOTE [One op per layer])."""
    x, w_ih, w_hh, _, _, _, _ = ctx.saved_tensors
    needs, steps = ctx.needs_input_grad, ctx.steps
    loop = BackwardLoop(ctx.gates, ctx.factors, ctx.tanh_slope, w_hh._data, gh_last, gc_last,
                        ctx.reverse, needs[5] or needs[6])
    loop.run(gy.reshape(steps, *gh_last.shape), 0, steps)
    before = ctx.hs[1:] if ctx.reverse else ctx.hs[:steps]
    rows = loop.d.reshape(steps * gh_last.shape[0], -1)
    grads = ((rows @ w_ih._data if needs[0] else None,)
             + loop.weight_grads(x._data, before, needs[1:5]))
    grads += (loop.gh if needs[5] else None, loop.gc if needs[6] else None)
    return tuple(None if g is None else Tensor._make(g) for g in grads)


class BackwardLoop:
    """The arrays of one layer and direction's walk back through time: every step's gate
    gradient d into one (T, B, 4H) array, and the running gradients gh, gc of the state."""

    def __init__(self, gates, factors, tanh_slope, w_hh, gh_last, gc_last, reverse, to_start):
        self.gates, self.factors, self.tanh_slope = gates, factors, tanh_slope
        self.reverse, self.to_start = reverse, to_start  # to_start: gh, gc of the first state
        steps, batch, width = gates.shape
        self.size = width // 4
        self.d = xp.empty_like(gates)
        self.gh, self.gc = gh_last.copy(), gc_last.copy()
        self.hat = xp.empty_like(self.gh)
        self.w, self.gh_sums = _column_blocks(w_hh, batch, self.gh[None])  # gh = d·W_hh

    def run(self, gy, start, stop):
        """The steps [start, stop) in backward order, gy (T, B, H) the outputs' gradients."""
        size, gh, gc, hat, gates = self.size, self.gh, self.gc, self.hat, self.gates
        steps, batch = gates.shape[:2]
        d4 = self.d.reshape(steps, batch, 4, size)
        p4 = self.factors.reshape(steps, batch, 4, size)
        order = range(start, stop) if self.reverse else range(stop - 1, start - 1, -1)
        first = steps - 1 if self.reverse else 0  # the step that reads the initial state
        for t in order:
            gh += gy[t]
            xp.multiply(gh, self.tanh_slope[t], out=hat)  # ĝc = gc' + gh'·o·(1 - tanh²c')
            hat += gc
            xp.multiply(p4[t, :, :3], hat[:, None, :], out=d4[t, :, :3])
            xp.multiply(p4[t, :, 3], gh, out=d4[t, :, 3])
            if t != first or self.to_start:
                xp.multiply(hat, gates[t, :, size:2 * size], out=gc)  # gc = ĝc·f
                xp.matmul(self.d[t], self.w, out=self.gh_sums[0])

    def weight_grads(self, x, before, needs):
        """(gW_ih, gW_hh, gb_ih, gb_hh) = (Dᵀ·X, Dᵀ·H, Σ D, Σ D) over all steps, where needed;
        x (T·B, I) the layer's input, before (T, B, H) the state each step read."""
        rows = self.d.reshape(-1, self.d.shape[2])
        bias = rows.sum(0) if needs[2] or needs[3] else None
        return (rows.T @ x if needs[0] else None,
                rows.T @ before.reshape(rows.shape[0], -1) if needs[1] else None,
                bias if needs[2] else None,
                bias if needs[3] else None)


def _backward_ops(ctx, gy, gh, gc):
    """LSTMLayer's backward with ember ops (create_graph): recompute the steps from the saved
    inputs, then the same formulas on Tensors, so the gradient can be differentiated again."""
    x, w_ih, w_hh, b_ih, b_hh, h0, c0 = ctx.saved_tensors
    needs, steps, reverse = ctx.needs_input_grad, ctx.steps, ctx.reverse
    batch = h0.shape[0]
    xg = linear(x, w_ih, b_ih)
    if b_hh is not None:
        xg = xg + b_hh
    xs, gys = split(xg, batch), split(gy, batch)
    saved, h, c = [None] * steps, h0, c0
    for t in _order(steps, reverse):
        i, f, g, o = (xs[t] + h.matmul(w_hh.t())).chunk(4, 1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c_new = f * c + i * g
        tc = c_new.tanh()
        saved[t] = ((i, f, g, o), tc, h, c)
        h, c = o * tc, c_new
    ds = [None] * steps
    step_needs = (True, True, True, False, False, False)
    for t in _order(steps, not reverse):
        gates, tc, h, c = saved[t]
        ds[t], gh, gc, _, _, _ = _lstm_grads(step_needs, gh + gys[t], gc, gates, tc, None, h, c,
                                             w_hh, None)
    d = cat(ds, 0)
    hidden = cat([saved[t][2] for t in range(steps)], 0)
    bias = d.sum(0) if needs[3] or needs[4] else None
    return (d @ w_ih if needs[0] else None,
            d.T @ x if needs[1] else None,
            d.T @ hidden if needs[2] else None,
            bias if needs[3] else None,
            bias if needs[4] else None,
            gh if needs[5] else None,
            gc if needs[6] else None)


def lstm_layer(x, weights, state, steps: int, reverse: bool = False):
    """One LSTM layer and direction over packed rows x (T·B, features) of T equal-length steps
    (no projection); returns (output rows (T·B, H), (h_T, c_T))."""
    w_ih, w_hh, b_ih, b_hh, _ = weights
    y, h, c = LSTMLayer.apply(x, w_ih, w_hh, b_ih, b_hh, state[0], state[1], steps, reverse)
    return y, (h, c)


def fits_lstm_layer(mode, x, batch_sizes, state, weights) -> bool:
    """Whether `lstm_layer` can run this layer: LSTM, no projection, every step the full batch,
    and float32/float64 throughout (or autocast on)."""
    w_ih, w_hh, _, _, w_hr = weights
    if (mode != "LSTM" or w_hr is not None or state[0].shape[0] != batch_sizes[0]
            or any(b != batch_sizes[0] for b in batch_sizes)):
        return False
    if _autocast.ACTIVE[0] and _autocast.is_enabled("cpu"):
        return True  # the op is on autocast's list: it casts every input to one dtype
    dtype = x._data.dtype
    return (dtype in (xp.float32, xp.float64) and w_ih._data.dtype == dtype
            and w_hh._data.dtype == dtype and all(s._data.dtype == dtype for s in state))
