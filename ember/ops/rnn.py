"""Recurrent layers as fused ops: one op per time step (RNN tanh/relu, LSTM with an optional
projection, GRU), the loop over the time steps of one layer and direction, and the stack of
layers and directions.

Builds on nn_ops (tier 7): the cell functions project their input with `linear`.

NOTE [One op per time step]
A recurrent layer is x·W_ihᵀ + b_ih for all T steps at once (one matmul, `RecurrentInput`, then
one `split` into per-step pieces), then per step one op that does the hidden matmul h·W_hhᵀ and
the gate nonlinearities on whole (batch, gates) arrays. Its backward computes the gate gradients
in a few array passes, so backpropagation through time costs T nodes instead of the dozens of
tiny nodes per step a composition of primitives would make. An ordinary backward (recording off)
runs on arrays; with create_graph=True the activations are recomputed from the saved inputs with
ember ops and the same formulas run on Tensors, so the gradient is itself differentiable (RNN and
GRU share one formula function for both; LSTM's array path is fused further).
An LSTM layer without a projection whose batch never shrinks (every padded input) goes further
still: the whole layer is one op, `rnn_layer.LSTMLayer` (NOTE [One op per layer]); the per-step
ops serve packed batches that shrink, proj_size, GRU and RNN.

NOTE [Packed rows]
Every sequence is handled as packed rows: x is (N, features) where step t holds the first
batch_sizes[t] rows of the batch (sequences sorted by decreasing length). A padded (T, B, ·)
input is the case batch_sizes = [B]·T. When the batch shrinks, the sequences that ended keep
their last state; in the reverse direction a sequence starts from its h0 at its own last step.
"""

from ember._backend import xp
from ember._registry import op
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.autograd.function import Op
from ember.ops.conversion import Clone
from ember.ops.joins import cat, split, stack, unbind
from ember.ops.nn_ops import MaskScale, linear
from ember.ops._node_names import renamed_node  # NOTE [grad_fn names of composite ops]
from ember.ops.sampling import dropout_mask
from ember.ops.rnn_layer import (_gate_constants, _lstm_activate_, _lstm_grads, fits_lstm_layer,
                                   lstm_layer)
from ember.ops.shape import narrow

_state = grad_mode._state


def _sigmoid_(a):
    """σ(a) in place, as ½·tanh(a/2) + ½ (no overflow warning for large |a|)."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def _join(parts):
    """Concatenate gate blocks along the feature dim (arrays or Tensors)."""
    if isinstance(parts[0], Tensor):
        return cat(parts, 1)
    return xp.concatenate(parts, axis=1)


def _tensors(grads):
    """Wrap the arrays of an array-path backward as Tensors."""
    return tuple(g if g is None or isinstance(g, Tensor) else Tensor._make(g) for g in grads)


def _hidden_projection(h, w_hh, b_hh, w_hh_t):
    """h·W_hhᵀ + b_hh on arrays (a fresh array, safe to modify in place); w_hh_t is W_hhᵀ made
    contiguous once per layer (a thin matmul runs faster on it), or None."""
    out = h._data @ (w_hh._data.T if w_hh_t is None else w_hh_t)
    if b_hh is not None:
        out += b_hh._data
    return out


def _recompute_gates(xg, h, w_hh, b_hh):
    """xg + h·W_hhᵀ + b_hh with ember ops (the create_graph path; xg may be None)."""
    pre = h.matmul(w_hh.t())
    if xg is not None:
        pre = xg + pre
    return pre + b_hh if b_hh is not None else pre


def _weight_grads(ctx, d, h, w_index):
    """(gW_hh, gb_hh) = (dᵀ·h, Σ d) of one step, unless the layer's tape gathers them."""
    needs, tape = ctx.needs_input_grad, ctx.tape
    if tape is None or _state["enabled"]:
        if tape is not None:
            tape.recomputed = True
        return (d.T @ h if needs[w_index] else None,
                d.sum(0) if needs[w_index + 1] else None)
    if not tape.gradient_is_d and (needs[w_index] or needs[w_index + 1]):
        tape.grads[ctx.t] = d  # NOTE [Hidden weight gradient]
    return None, None


class Tape:
    """What the steps of one layer and direction leave for the input projection's backward:
    each step's hidden input (forward) and, where needed, the gradient d of its h·W_hhᵀ + b_hh.

    NOTE [Hidden weight gradient]
    gW_hh = Σₜ dₜᵀ·hₜ₋₁ sums over every step. Per step that is a thin matmul plus an
    accumulation of a (gates, hidden) array, T times; instead the input projection's backward
    (`RecurrentInput`), which runs after every step's backward since the steps consume its
    output, forms Dᵀ·H in one matmul over all rows. For LSTM and RNN the dₜ are the rows of the
    projection's own output gradient (gxg = d) and b_hh is folded into the projection's bias, so
    nothing needs recording; GRU's d differs from gxg in the n block (scaled by r, and b_hn stays
    in the step), so its steps leave their dₜ here. With create_graph=True the steps return their
    own weight gradients with ember ops, and the recomputation feeds gradient into xg outside the
    steps; a later backward through that graph records every step's dₜ instead.
    """

    def __init__(self, steps: int, fold_bias: bool):
        self.hidden = [None] * steps
        self.grads = {}
        self.fold_bias = fold_bias
        self.recomputed = False

    @property
    def gradient_is_d(self) -> bool:
        """Whether the projection's output gradient is exactly the stacked step gradients d."""
        return self.fold_bias and not self.recomputed


class RecurrentInput(Op):
    """xg = x·W_ihᵀ + b_ih (+ b_hh when folded): the input projection of all steps of a layer.

    gx = g·W_ih,  gW_ih = gᵀ·x,  gb_ih = Σ g (= gb_hh when folded);  and with the steps' d
    (NOTE [Hidden weight gradient]) gW_hh = Dᵀ·H,  gb_hh = Σ D.
    """

    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, w_ih, b_ih, w_hh, b_hh, tape):
        y = x._data @ w_ih._data.T
        if b_ih is not None:
            y += b_ih._data
        if b_hh is not None and tape.fold_bias:
            y += b_hh._data
        ctx.tape = tape
        ctx.save_for_backward(x, w_ih)
        return y

    @staticmethod
    def backward(ctx, g):
        x, w_ih = ctx.saved_tensors
        needs, tape = ctx.needs_input_grad, ctx.tape
        gw_hh = gb_hh = None
        if not _state["enabled"]:
            g, x, w_ih = g._data, x._data, w_ih._data
            gw_hh, gb_hh = _gathered_hidden_grads(g, tape, needs)
        if tape.fold_bias and needs[4]:
            gb_hh = g.sum(0)
        return _tensors((g @ w_ih if needs[0] else None,
                         g.T @ x if needs[1] else None,
                         g.sum(0) if needs[2] else None,
                         gw_hh, gb_hh, None))


def _gathered_hidden_grads(g, tape, needs):
    """gW_hh = Dᵀ·H and gb_hh = Σ D over all steps (arrays); D is g itself or the recorded d."""
    if tape.gradient_is_d:
        hidden = xp.concatenate(tape.hidden, axis=0)
        return (g.T @ hidden if needs[3] else None), None
    if not tape.grads:
        return None, None
    steps = sorted(tape.grads)
    d = xp.concatenate([tape.grads[t] for t in steps], axis=0)
    tape.grads = {}
    gw = d.T @ xp.concatenate([tape.hidden[t] for t in steps], axis=0) if needs[3] else None
    gb = d.sum(0) if needs[4] and not tape.fold_bias else None
    return gw, gb


# ---- the cells --------------------------------------------------------------------------------
class RNNStep(Op):
    """h' = act(xg + h·W_hhᵀ + b_hh), act = tanh or relu, with xg = x·W_ihᵀ + b_ih.

    d = gh'·(1 - h'²) (tanh) or gh'·[h' > 0] (relu);  gxg = d,  gh = d·W_hh,  gW_hh = dᵀ·h,
    gb_hh = Σ d.
    """

    @staticmethod
    def forward(ctx, xg, h, w_hh, b_hh, relu, w_hh_t=None, tape=None, t=0):
        a = _hidden_projection(h, w_hh, b_hh, w_hh_t)
        a += xg._data
        y = xp.maximum(a, 0, out=a) if relu else xp.tanh(a, out=a)
        ctx.y, ctx.relu, ctx.tape, ctx.t = y, relu, tape, t
        if tape is not None:
            tape.hidden[t] = h._data
        ctx.save_for_backward(xg, h, w_hh, b_hh)
        return y

    @staticmethod
    def backward(ctx, gy):
        xg, h, w_hh, b_hh = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if _state["enabled"]:  # create_graph: recompute h' from the inputs with ember ops
            pre = _recompute_gates(xg, h, w_hh, b_hh)
            y = pre.relu() if ctx.relu else pre.tanh()
        else:
            gy, y, h, w_hh = gy._data, ctx.y, h._data, w_hh._data
        d = gy * (y > 0) if ctx.relu else gy * (1 - y * y)
        gw_hh, gb_hh = _weight_grads(ctx, d, h, 2)
        return _tensors((d if needs[0] else None, d @ w_hh if needs[1] else None, gw_hh, gb_hh))


class LSTMStep(Op):
    """One LSTM step: i, f, g, o = σ, σ, tanh, σ of (xg + h·W_hhᵀ + b_hh);
    c' = f·c + i·g;  h' = o·tanh(c'), then h'·W_hrᵀ with a projection.

    With ĝc = gc' + gh'·o·(1 - tanh²c') (gh' taken through W_hr first), the gate gradients
    di = ĝc·g·i(1-i), df = ĝc·c·f(1-f), dg = ĝc·i·(1-g²), do = gh'·tanh c'·o(1-o) make
    d = [di df dg do];  gxg = d,  gh = d·W_hh,  gc = ĝc·f,  gW_hh = dᵀ·h,  gb_hh = Σ d,
    gW_hr = gh'ᵀ·(o·tanh c').
    """

    @staticmethod
    def forward(ctx, xg, h, c, w_hh, b_hh, w_hr, w_hh_t=None, tape=None, t=0):
        size = c._data.shape[1]
        gates = _hidden_projection(h, w_hh, b_hh, w_hh_t)
        gates += xg._data
        _lstm_activate_(gates)
        i, f, g, o = (gates[:, k * size:(k + 1) * size] for k in range(4))
        c_new = f * c._data
        c_new += i * g
        tc = xp.tanh(c_new)
        h_new = o * tc
        ctx.gates, ctx.tc, ctx.h_full, ctx.tape, ctx.t = gates, tc, h_new, tape, t
        if tape is not None:
            tape.hidden[t] = h._data
        ctx.save_for_backward(xg, h, c, w_hh, b_hh, w_hr)
        if w_hr is not None:
            h_new = h_new @ w_hr._data.T
        return h_new, c_new

    @staticmethod
    def backward(ctx, gh, gc):
        xg, h, c, w_hh, b_hh, w_hr = ctx.saved_tensors
        if not _state["enabled"]:
            return _tensors(_lstm_backward_arrays(ctx, gh._data, gc._data, h, c, w_hh, w_hr))
        # create_graph: recompute the activations with ember ops, then the docstring's formulas
        if ctx.tape is not None:
            ctx.tape.recomputed = True  # NOTE [Hidden weight gradient]
        i, f, g, o = _recompute_gates(xg, h, w_hh, b_hh).chunk(4, 1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        tc = (f * c + i * g).tanh()
        return _lstm_grads(ctx.needs_input_grad, gh, gc, (i, f, g, o), tc, o * tc, h, c, w_hh,
                           w_hr)


def _lstm_backward_arrays(ctx, gh, gc, h, c, w_hh, w_hr):
    """LSTMStep's backward on arrays: the docstring's formulas in few whole-array passes."""
    needs, gates, tc = ctx.needs_input_grad, ctx.gates, ctx.tc
    size = tc.shape[1]
    i, f, g, o = (gates[:, k * size:(k + 1) * size] for k in range(4))
    gw_hr = None
    if w_hr is not None:
        gw_hr = gh.T @ ctx.h_full if needs[5] else None
        gh = gh @ w_hr._data
    gc_total = tc * tc
    xp.subtract(1, gc_total, out=gc_total)
    gc_total *= o
    gc_total *= gh
    gc_total += gc
    d = xp.empty_like(gates)  # [ĝc·g, ĝc·c, ĝc·i, gh'·tanh c'] times each gate's derivative
    xp.multiply(gc_total, g, out=d[:, :size])
    xp.multiply(gc_total, c._data, out=d[:, size:2 * size])
    xp.multiply(gc_total, i, out=d[:, 2 * size:3 * size])
    xp.multiply(gh, tc, out=d[:, 3 * size:])
    _, _, sigmoid, tanh = _gate_constants(gates)
    slope = gates * sigmoid  # s(1 - s) on sigmoid columns, 1 - g² on tanh columns
    slope += tanh
    slope -= gates * gates
    d *= slope
    gw_hh, gb_hh = _weight_grads(ctx, d, h._data, 3)
    return (d if needs[0] else None,
            d @ w_hh._data if needs[1] else None,
            gc_total * f if needs[2] else None,
            gw_hh, gb_hh, gw_hr)


class GRUStep(Op):
    """One GRU step, with (hr, hz, hn) = h·W_hhᵀ + b_hh and (xr, xz, xn) = xg:
    r = σ(xr + hr), z = σ(xz + hz), n = tanh(xn + r·hn), h' = (1 - z)·n + z·h.

    dn = gh'·(1-z)·(1-n²), dz = gh'·(h-n)·z(1-z), dr = dn·hn·r(1-r);  gxg = [dr dz dn];
    with d = [dr dz dn·r] (the gradient of h·W_hhᵀ + b_hh): gh = gh'·z + d·W_hh,
    gW_hh = dᵀ·h,  gb_hh = Σ d.
    """

    @staticmethod
    def forward(ctx, xg, h, w_hh, b_hh, w_hh_t=None, tape=None, t=0):
        size = h._data.shape[1]
        hidden = _hidden_projection(h, w_hh, b_hh, w_hh_t)
        x = xg._data
        rz = hidden[:, :2 * size]
        rz += x[:, :2 * size]
        _sigmoid_(rz)
        r, z, hn = rz[:, :size], rz[:, size:], hidden[:, 2 * size:]
        n = r * hn
        n += x[:, 2 * size:]
        xp.tanh(n, out=n)
        h_new = h._data - n
        h_new *= z
        h_new += n
        ctx.r, ctx.z, ctx.n, ctx.hn, ctx.tape, ctx.t = r, z, n, hn, tape, t
        if tape is not None:
            tape.hidden[t] = h._data
        ctx.save_for_backward(xg, h, w_hh, b_hh)
        return h_new

    @staticmethod
    def backward(ctx, gy):
        xg, h, w_hh, b_hh = ctx.saved_tensors
        if _state["enabled"]:  # create_graph: recompute the activations with ember ops
            xr, xz, xn = xg.chunk(3, 1)
            hr, hz, hn = _recompute_gates(None, h, w_hh, b_hh).chunk(3, 1)
            r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
            n = (xn + r * hn).tanh()
        else:
            r, z, n, hn = ctx.r, ctx.z, ctx.n, ctx.hn
            gy, h, w_hh = gy._data, h._data, w_hh._data
        return _tensors(_gru_grads(ctx, gy, r, z, n, hn, h, w_hh))


def _gru_grads(ctx, gy, r, z, n, hn, h, w_hh):
    """GRUStep's gradients (formulas in its docstring), on arrays or on Tensors alike."""
    needs = ctx.needs_input_grad
    dn = gy * (1 - z) * (1 - n * n)
    dz = gy * (h - n) * z * (1 - z)
    dr = dn * hn * r * (1 - r)
    d = _join([dr, dz, dn * r])
    gw_hh, gb_hh = _weight_grads(ctx, d, h, 2)
    return (_join([dr, dz, dn]) if needs[0] else None,
            gy * z + d @ w_hh if needs[1] else None,
            gw_hh, gb_hh)


# ---- the cell functions (torch.rnn_tanh_cell, torch.lstm_cell, ...) --------------------------
def _check_cell(input, hx, w_ih, w_hh, names):
    """PyTorch's checks of a cell call: input and hidden sizes and batch sizes."""
    if input.shape[1] != w_ih.shape[1]:
        raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected "
                           f"{w_ih.shape[1]}")
    for name, h in zip(names, hx):
        if h.shape[0] != input.shape[0]:
            raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match {name} batch "
                               f"size {h.shape[0]}")
        if h.shape[1] != w_hh.shape[1]:
            raise RuntimeError(f"{name} has inconsistent hidden_size: got {h.shape[1]}, "
                               f"expected {w_hh.shape[1]}")


@op
def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One tanh RNN step, h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) (matches
    `torch.rnn_tanh_cell`)."""
    _check_cell(input, (hx,), w_ih, w_hh, ("hidden0",))
    return renamed_node(RNNStep.apply(linear(input, w_ih, b_ih), hx, w_hh, b_hh, False),
                        "TanhBackward0")  # (PyTorch's cell ends in tanh)


@op
def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One relu RNN step (matches `torch.rnn_relu_cell`)."""
    _check_cell(input, (hx,), w_ih, w_hh, ("hidden0",))
    return renamed_node(RNNStep.apply(linear(input, w_ih, b_ih), hx, w_hh, b_hh, True),
                        "ReluBackward0")


@op
def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step; hx = (h, c); returns (h', c') (matches `torch.lstm_cell`)."""
    _check_cell(input, hx, w_ih, w_hh, ("hidden0", "hidden1"))
    h, c = LSTMStep.apply(linear(input, w_ih, b_ih), hx[0], hx[1], w_hh, b_hh, None)
    if h.grad_fn is None:
        return h, c
    # (PyTorch's cell ends in two nodes, c' = f·c + i·g and h' = o·tanh(c'), where ember's
    # fused step is one: h' leaves through a copy named as torch's last node)
    return renamed_node(Clone.apply(h), "MulBackward0"), renamed_node(c, "AddBackward0")


@op
def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (matches `torch.gru_cell`)."""
    _check_cell(input, (hx,), w_ih, w_hh, ("hidden0",))
    return renamed_node(GRUStep.apply(linear(input, w_ih, b_ih), hx, w_hh, b_hh),
                        "AddBackward0")  # (PyTorch's ends in adding the gated update)


# ---- the loop over time steps -----------------------------------------------------------------
def _stepper(mode, w_hh, b_hh, w_hr, tape):
    """step(t, x_t, state) -> new state, for a mode ('RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU')."""
    w_hh_t = xp.ascontiguousarray(w_hh._data.T)
    if mode == "LSTM":
        return lambda t, x, state: LSTMStep.apply(x, state[0], state[1], w_hh, b_hh, w_hr,
                                                  w_hh_t, tape, t)
    if mode == "GRU":
        return lambda t, x, state: (GRUStep.apply(x, state[0], w_hh, b_hh, w_hh_t, tape, t),)
    relu = mode == "RNN_RELU"
    return lambda t, x, state: (RNNStep.apply(x, state[0], w_hh, b_hh, relu, w_hh_t, tape, t),)


def _rows(state, start, length):
    """Rows start:start+length of every state tensor."""
    return tuple(narrow(s, 0, start, length) for s in state)


def _forward_in_time(step, steps, batch_sizes, state):
    """Steps 0..T-1; a sequence that ends keeps its last state (NOTE [Packed rows])."""
    outputs, finished = [], []
    for t, (x_t, size) in enumerate(zip(steps, batch_sizes)):
        rows = state[0].shape[0]
        if size < rows:
            finished.append(_rows(state, size, rows - size))
            state = _rows(state, 0, size)
        state = step(t, x_t, state)
        outputs.append(state[0])
    if finished:  # later steps hold the lower batch rows
        finished.append(state)
        state = tuple(cat([f[k] for f in reversed(finished)], 0) for k in range(len(state)))
    return outputs, state


def _backward_in_time(step, steps, batch_sizes, initial):
    """Steps T-1..0; a sequence starts from its initial state at its last step."""
    outputs = [None] * len(steps)
    state = initial
    if batch_sizes[-1] < initial[0].shape[0]:
        state = _rows(initial, 0, batch_sizes[-1])
    for t in range(len(steps) - 1, -1, -1):
        rows = state[0].shape[0]
        if batch_sizes[t] > rows:
            fresh = _rows(initial, rows, batch_sizes[t] - rows)
            state = tuple(cat([s, f], 0) for s, f in zip(state, fresh))
        state = step(t, steps[t], state)
        outputs[t] = state[0]
    return outputs, state


def run_direction(mode, x, batch_sizes, state, weights, reverse=False):
    """One layer in one direction over packed rows x (N, features).

    weights = (w_ih, w_hh, b_ih, b_hh, w_hr) (biases and w_hr may be None); state is (h0,) or
    (h0, c0). Returns (the output rows (N, hidden), the final state tuple).
    """
    if fits_lstm_layer(mode, x, batch_sizes, state, weights):  # NOTE [One op per layer]
        return lstm_layer(x, weights, state, len(batch_sizes), reverse)
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    fold = mode != "GRU"  # b_hh joins b_ih, except inside GRU's r·(h·W_hnᵀ + b_hn)
    tape = Tape(len(batch_sizes), fold)
    xg = RecurrentInput.apply(x, w_ih, b_ih, w_hh, b_hh, tape)  # one matmul for every step
    steps = split(xg, list(batch_sizes))
    step = _stepper(mode, w_hh, None if fold else b_hh, w_hr, tape)
    run = _backward_in_time if reverse else _forward_in_time
    outputs, state = run(step, steps, batch_sizes, state)
    return cat(outputs, 0), state


def run_layers(mode, x, batch_sizes, hx, weights, num_layers, bidirectional, dropout=0.0):
    """The stacked recurrent network on packed rows x (N, input_size) (matches the computation
    of `torch.lstm` / `torch.gru` / `torch.rnn_tanh`).

    hx is (h0,) or (h0, c0), each (layers·directions, batch, ·); weights holds one
    (w_ih, w_hh, b_ih, b_hh, w_hr) tuple per layer and direction; dropout (training only: pass
    0 otherwise) is applied to every layer's input but the first. Returns (output rows, tuple
    of final states stacked like hx).
    """
    directions = 2 if bidirectional else 1
    initial = [unbind(s, 0) for s in hx]
    finals = [[] for _ in hx]
    for layer in range(num_layers):
        if layer and dropout > 0:
            x = MaskScale.apply(x, dropout_mask(x.shape, dropout, x._data.dtype))
        first = layer * directions
        states = [tuple(s[k] for s in initial) for k in range(first, first + directions)]
        pair = weights[first:first + directions]
        outputs = []
        for direction, state in enumerate(states):
            out, state = run_direction(mode, x, batch_sizes, state, pair[direction],
                                       direction == 1)
            outputs.append(out)
            for kept, s in zip(finals, state):
                kept.append(s)
        x = outputs[0] if directions == 1 else cat(outputs, 1)
    return x, tuple(stack(kept, 0) for kept in finals)
