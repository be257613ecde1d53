"""LSTM layers on two intra-op threads (every sequence the same length): a stack of layers in
one direction as one op whose layers run as a pipeline, and the two directions of a
bidirectional layer side by side.

NOTE [Pipelined layers]
Step t of layer l reads only step t of layer l−1 and step t−1 of itself, so a stack of layers
can run as a wavefront: layer l works on the steps layer l−1 finished a moment ago. `LSTMStack`
cuts time into blocks of steps (`_threads.run_wavefront`). Each layer above the first (a
`rnn_layer.ForwardLoop`) projects a block of its input (the block of outputs of the layer below,
through the dropout mask) with one matmul, runs that block's steps and hands the block on. A
step is a thin matmul plus ~10 small array passes, all of which release the GIL, so two layers
on two threads really run at once. The backward is the mirror image: the top layer walks back
through a block of steps (a `rnn_layer.BackwardLoop`), turns that block's gate gradients into
the gradient of its input (one matmul) and hands it down. The weight gradients are then one
matmul each over all steps, after the wavefront. Every number is computed by the same calls as
in `LSTMLayer` run layer after layer; only the input projections are split into blocks of rows.
With create_graph=True the backward recomputes the lower layers' outputs with `LSTMLayer` ops
and runs each layer's differentiable backward (`rnn_layer._backward_ops`), top layer first.
"""

from types import SimpleNamespace

from ember._backend import xp
from ember._tensor import Tensor
from ember._threads import get_num_threads, parallel_blocks, run_wavefront
from ember.ops.joins import stack
from ember.ops.rnn_layer import (BackwardLoop, ForwardLoop, LayerOp, _backward_ops, _bias,
                                 fits_lstm_layer, lstm_layer)
from ember.ops.sampling import dropout_noise


# Blocks of time a layer hands on at once: more blocks start the layer above sooner, fewer make
# each input projection a bigger matmul.
_BLOCKS = 8


def _blocks(steps: int):
    """The blocks of steps [(start, stop), ...] in time order."""
    size = -(-steps // min(_BLOCKS, steps))
    return [(start, min(start + size, steps)) for start in range(0, steps, size)]


class LSTMStack(LayerOp):
    """L unidirectional LSTM layers over T equal-length steps (NOTE [Pipelined layers]):
    (X (T·B, I), h0 (L, B, H), c0 (L, B, H), dropout masks between layers or None, T,
    W_ih, W_hh, b_ih, b_hh of each layer) -> (Y (T·B, H), h_T (L, B, H), c_T (L, B, H)).
    Each layer's formulas are `LSTMLayer`'s; layer l's input is layer l−1's output times
    mask l−1, so the gradient handed down to layer l−1's output is gXₗ·maskₗ₋₁.
    """

    node_name = "MkldnnRnnLayerBackward0"

    @staticmethod
    def forward(ctx, x, h0, c0, masks, steps, *weights):
        saving = any(ctx.needs_input_grad)
        layers, batch = len(weights) // 4, h0.shape[1]
        loops = [ForwardLoop(w_ih._data, w_hh._data, _bias(b_ih, b_hh), h0._data[k],
                             c0._data[k], steps, False)
                 for k, (w_ih, w_hh, b_ih, b_hh) in enumerate(_per_layer(weights))]
        inputs = [x._data] + [_layer_input(loops[k], masks and masks[k])
                              for k in range(layers - 1)]
        blocks = _blocks(steps)
        loops[0].project(x._data, 0, steps)  # the first layer's input is all there: one matmul

        def run(layer, block):
            start, stop = blocks[block]
            if layer:  # the input: the outputs of the layer below (times its dropout mask)
                rows = slice(start * batch, stop * batch)
                if masks:
                    below = loops[layer - 1].hs[start + 1:stop + 1]
                    xp.multiply(below.reshape(-1, below.shape[2]), masks[layer - 1][rows],
                                out=inputs[layer][rows])
                loops[layer].project(inputs[layer][rows], start, stop)
            loops[layer].run(start, stop)

        run_wavefront(run, layers, len(blocks))
        finished = [loop.finish(saving) for loop in loops]
        if saving:
            ctx.loops, ctx.inputs, ctx.masks, ctx.steps = finished, inputs, masks, steps
            ctx.save_for_backward(x, h0, c0, *weights)
        y = loops[-1].hs[1:]
        return (y.reshape(steps * batch, -1).copy(),
                xp.stack([loop.hs[steps] for loop in loops]),
                xp.stack([c for _, c, _ in finished]))



# Where the weights begin among LSTMStack's arguments (x, h0, c0, masks, steps, weights...).
_WEIGHTS = 5


def _per_layer(weights):
    """The flat (W_ih, W_hh, b_ih, b_hh, W_ih, ...) as one 4-tuple per layer."""
    return [tuple(weights[k:k + 4]) for k in range(0, len(weights), 4)]


def _layer_input(loop, mask):
    """Where the layer above reads its input rows (T·B, H): the outputs of `loop` themselves,
    or a new array for them times the dropout mask."""
    outputs = loop.hs[1:]
    if mask is None:
        return outputs.reshape(-1, outputs.shape[2])
    return xp.empty(mask.shape, dtype=outputs.dtype)


def _backward_arrays_stack(ctx, gy, gh, gc):
    """LSTMStack's backward on arrays: the layers walk back through the blocks of time as a
    wavefront, top layer first, each handing down its input gradient block by block."""
    saved, needs, masks, steps = ctx.saved_tensors, ctx.needs_input_grad, ctx.masks, ctx.steps
    weights = _per_layer(saved[3:])
    layers, batch = len(weights), gh.shape[1]
    loops = [BackwardLoop(gates, factors, slope, weights[k][1]._data, gh[k], gc[k], False,
                          needs[1] or needs[2])
             for k, (_, _, (gates, factors, slope)) in enumerate(ctx.loops)]
    gys = [xp.empty_like(hs[1:]) for hs, _, _ in ctx.loops[:-1]] + [gy.reshape(steps, batch, -1)]
    blocks = _blocks(steps)[::-1]

    def run(stage, block):
        layer = layers - 1 - stage
        start, stop = blocks[block]
        loops[layer].run(gys[layer], start, stop)
        if layer:  # the gradient of this block of the layer's input, handed down
            d = loops[layer].d[start:stop]
            below = gys[layer - 1][start:stop]
            xp.matmul(d.reshape(-1, d.shape[2]), weights[layer][0]._data,
                      out=below.reshape(-1, below.shape[2]))
            if masks:
                below *= masks[layer - 1][start * batch:stop * batch].reshape(below.shape)

    run_wavefront(run, layers, len(blocks))
    grads = [None] * (_WEIGHTS + len(saved) - 3)
    if needs[0]:
        grads[0] = loops[0].d.reshape(steps * batch, -1) @ weights[0][0]._data
    if needs[1]:
        grads[1] = xp.stack([loop.gh for loop in loops])
    if needs[2]:
        grads[2] = xp.stack([loop.gc for loop in loops])
    for k, loop in enumerate(loops):
        first = _WEIGHTS + 4 * k
        grads[first:first + 4] = loop.weight_grads(ctx.inputs[k], ctx.loops[k][0][:steps],
                                                   needs[first:first + 4])
    return tuple(None if g is None else Tensor._make(g) for g in grads)


def _backward_ops_stack(ctx, gy, gh, gc):
    """LSTMStack's backward with ember ops (create_graph): the lower layers' outputs are
    recomputed with `LSTMLayer` ops, then each layer's differentiable backward runs, top first."""
    saved, needs, masks, steps = ctx.saved_tensors, ctx.needs_input_grad, ctx.masks, ctx.steps
    x, h0, c0, weights = saved[0], saved[1], saved[2], _per_layer(saved[3:])
    inputs = [x]
    for k, layer_weights in enumerate(weights[:-1]):
        y, _ = lstm_layer(inputs[k], layer_weights + (None,), (h0[k], c0[k]), steps)
        inputs.append(y * Tensor._make(masks[k]) if masks else y)
    grads = [None] * (_WEIGHTS + len(saved) - 3)
    gh0, gc0 = [None] * len(weights), [None] * len(weights)
    for k in range(len(weights) - 1, -1, -1):
        first = _WEIGHTS + 4 * k
        flags = (k > 0 or needs[0],) + needs[first:first + 4] + needs[1:3]
        gx, grads[first:first + 4], gh0[k], gc0[k] = _layer_backward_ops(
            inputs[k], weights[k], h0[k], c0[k], gy, gh[k], gc[k], flags, steps, False)
        gy = gx * Tensor._make(masks[k - 1]) if k and masks else gx
    return _with_input_grads(grads, needs, gy, gh0, gc0)


def _layer_backward_ops(x, weights, h0, c0, gy, gh, gc, needs, steps, reverse):
    """One layer and direction's differentiable backward (`rnn_layer._backward_ops`) inside a
    bigger op; needs flags (x, W_ih, W_hh, b_ih, b_hh, h0, c0). Returns (gx, [gW_ih, gW_hh,
    gb_ih, gb_hh], gh0, gc0)."""
    layer = SimpleNamespace(saved_tensors=(x,) + weights + (h0, c0), needs_input_grad=needs,
                            steps=steps, reverse=reverse)
    gx, *weight_grads, gh0, gc0 = _backward_ops(layer, gy, gh, gc)
    return gx, weight_grads, gh0, gc0


def _with_input_grads(grads, needs, gx, gh0, gc0):
    """grads with those of (x, h0, c0) put in front where needed: gx, and the per-layer (or
    per-direction) state gradients stacked."""
    grads[0] = gx if needs[0] else None
    grads[1] = stack(gh0, 0) if needs[1] else None
    grads[2] = stack(gc0, 0) if needs[2] else None
    return tuple(grads)


LSTMStack.backward_arrays = staticmethod(_backward_arrays_stack)
LSTMStack.backward_ops = staticmethod(_backward_ops_stack)


def fits_lstm_stack(mode, x, batch_sizes, hx, weights, bidirectional) -> bool:
    """Whether `lstm_stack` runs these layers: unidirectional LSTM, two or more layers that each
    fit `LSTMLayer` (no projection, one float dtype, every step the full batch), and more than
    one intra-op thread to pipeline them on."""
    dtype = x._data.dtype
    return (mode == "LSTM" and not bidirectional and len(weights) > 1
            and get_num_threads() > 1 and dtype in (xp.float32, xp.float64)
            and all(s._data.dtype == dtype and s.shape[1] == batch_sizes[0] for s in hx)
            and all(b == batch_sizes[0] for b in batch_sizes)
            and all(w[4] is None and w[0]._data.dtype == dtype and w[1]._data.dtype == dtype
                    and w[1].shape == weights[0][1].shape for w in weights))


def dropout_mask(shape, p: float, dtype):
    """torch's dropout noise for a layer's input: kept units 1/(1-p), the rest 0 (all 0 at p=1)."""
    return xp.zeros(shape, dtype=dtype) if p == 1 else dropout_noise(tuple(shape), p, dtype)


def lstm_stack(x, hx, weights, steps: int, dropout: float):
    """The LSTM layers over packed rows x (T·B, features) of T equal-length steps; returns
    (output rows (T·B, H), (h_T, c_T) stacked (L, B, H)). Dropout (training only) masks between
    the layers are drawn first, layer by layer: the draws torch makes between the layers."""
    masks = None
    if dropout > 0:
        shape = (x.shape[0], weights[0][1].shape[1])
        masks = tuple(dropout_mask(shape, dropout, x._data.dtype) for _ in weights[1:])
    flat = tuple(t for w in weights for t in w[:4])
    y, h, c = LSTMStack.apply(x, hx[0], hx[1], masks, steps, *flat)
    return y, (h, c)


# NOTE [Both directions at once]
# The two directions of a bidirectional layer share only their input, so `LSTMBidirectional`
# runs their loops side by side on two threads (`parallel_blocks`, a direction per block) after
# projecting the input for both (the BLAS matmuls stay outside the threads); the backward walks
# both back through time the same way, then adds the two input gradients. The numbers are
# `LSTMLayer`'s for each direction.
class LSTMBidirectional(LayerOp):
    """Both directions of one LSTM layer over T equal-length steps, side by side (NOTE [Both
    directions at once]): (X (T·B, I), h0 (2, B, H), c0 (2, B, H), T, the four weights of the
    forward direction, then of the reverse one) -> (Y (T·B, 2H) [forward | reverse],
    h_T (2, B, H), c_T (2, B, H)); gX = gX_forward + gX_reverse.
    """

    node_name = "MkldnnRnnLayerBackward0"

    @staticmethod
    def forward(ctx, x, h0, c0, steps, *weights):
        saving = any(ctx.needs_input_grad)
        batch = h0.shape[1]
        loops = [ForwardLoop(w_ih._data, w_hh._data, _bias(b_ih, b_hh), h0._data[k],
                             c0._data[k], steps, k == 1)
                 for k, (w_ih, w_hh, b_ih, b_hh) in enumerate(_per_layer(weights))]
        for loop in loops:
            loop.project(x._data, 0, steps)
        finished = [None, None]

        def run(start, stop):
            for k in range(start, stop):
                loops[k].run(0, steps)
                finished[k] = loops[k].finish(saving)

        parallel_blocks(run, 2)
        if saving:
            ctx.loops, ctx.steps = finished, steps
            ctx.save_for_backward(x, h0, c0, *weights)
        y = xp.concatenate([loop.outputs() for loop in loops], axis=2)
        return (y.reshape(steps * batch, -1),
                xp.stack([loops[0].hs[steps], loops[1].hs[0]]),
                xp.stack([c for _, c, _ in finished]))



def _backward_arrays_bidirectional(ctx, gy, gh, gc):
    """LSTMBidirectional's backward on arrays: both directions walk back through time side by
    side; then gX = D_f·W_ih_f + D_r·W_ih_r and each weight's gradient, one matmul each."""
    saved, needs, steps = ctx.saved_tensors, ctx.needs_input_grad, ctx.steps
    x, weights = saved[0], _per_layer(saved[3:])
    batch, size = gh.shape[1], gh.shape[2]
    loops = [BackwardLoop(gates, factors, slope, weights[k][1]._data, gh[k], gc[k], k == 1,
                          needs[1] or needs[2])
             for k, (_, _, (gates, factors, slope)) in enumerate(ctx.loops)]
    gy = gy.reshape(steps, batch, 2 * size)
    parallel_blocks(lambda start, stop: [loops[k].run(gy[..., k * size:(k + 1) * size], 0, steps)
                                         for k in range(start, stop)], 2)
    rows = [loop.d.reshape(steps * batch, -1) for loop in loops]
    grads = [None] * (4 + len(saved) - 3)
    if needs[0]:
        grads[0] = rows[0] @ weights[0][0]._data
        grads[0] += rows[1] @ weights[1][0]._data
    if needs[1]:
        grads[1] = xp.stack([loop.gh for loop in loops])
    if needs[2]:
        grads[2] = xp.stack([loop.gc for loop in loops])
    for k, loop in enumerate(loops):
        hs = ctx.loops[k][0]
        first = 4 + 4 * k
        grads[first:first + 4] = loop.weight_grads(x._data, hs[1:] if k else hs[:steps],
                                                   needs[first:first + 4])
    return tuple(None if g is None else Tensor._make(g) for g in grads)


def _backward_ops_bidirectional(ctx, gy, gh, gc):
    """LSTMBidirectional's backward with ember ops (create_graph): each direction's
    differentiable backward (`rnn_layer._backward_ops`), the input gradients added."""
    saved, needs, steps = ctx.saved_tensors, ctx.needs_input_grad, ctx.steps
    x, h0, c0, weights = saved[0], saved[1], saved[2], _per_layer(saved[3:])
    size = gh.shape[2]
    grads = [None] * (4 + len(saved) - 3)
    gx, gh0, gc0 = None, [None, None], [None, None]
    for k in range(2):
        first = 4 + 4 * k
        flags = (needs[0],) + needs[first:first + 4] + needs[1:3]
        part, grads[first:first + 4], gh0[k], gc0[k] = _layer_backward_ops(
            x, weights[k], h0[k], c0[k], gy[:, k * size:(k + 1) * size], gh[k], gc[k], flags,
            steps, k == 1)
        gx = part if gx is None else gx + part
    return _with_input_grads(grads, needs, gx, gh0, gc0)


LSTMBidirectional.backward_arrays = staticmethod(_backward_arrays_bidirectional)
LSTMBidirectional.backward_ops = staticmethod(_backward_ops_bidirectional)


def fits_lstm_bidirectional(mode, x, batch_sizes, states, weights) -> bool:
    """Whether `lstm_bidirectional` runs this layer: both directions (their (h0, c0) states and
    weights) fit `LSTMLayer`, and there are two intra-op threads."""
    return (mode == "LSTM" and get_num_threads() > 1
            and all(fits_lstm_layer(mode, x, batch_sizes, state, w)
                    for state, w in zip(states, weights)))


def lstm_bidirectional(x, state, weights, steps: int):
    """Both directions of one LSTM layer over packed rows x (T·B, features) of T equal-length
    steps; state (h0, c0) each (2, B, H). Returns (rows (T·B, 2H), (h_T, c_T) each (2, B, H))."""
    flat = tuple(t for w in weights for t in w[:4])
    y, h, c = LSTMBidirectional.apply(x, state[0], state[1], steps, *flat)
    return y, (h, c)
