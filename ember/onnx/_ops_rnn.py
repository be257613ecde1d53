"""Converters of whole recurrent modules (RNN, LSTM, GRU) to ONNX's RNN/LSTM/GRU ops.

NOTE [Gate order]
torch stacks an LSTM's gate weights as (input, forget, cell, output) and ONNX as (input,
output, forget, cell); a GRU's as (reset, update, new) and ONNX as (update, reset, hidden).
The weights are re-stacked in ONNX's order. torch's GRU applies the reset gate after the
hidden-to-hidden product, which is ONNX's `linear_before_reset=1`.
"""

import numpy as np

from ember.onnx._convert import converts
from ember.onnx._trace import Ref, _host

_ONNX_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}
_ONNX_OP = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


def _reorder(array, mode: str):
    """Gate blocks re-stacked in ONNX's order (see NOTE)."""
    chunks = np.split(array, len(_ONNX_ORDER[mode]), axis=0)
    return np.concatenate([chunks[i] for i in _ONNX_ORDER[mode]], axis=0)


def _layer_weights(m, layer: int, dtype):
    """W (dirs, G·H, in), R (dirs, G·H, H), B (dirs, 2·G·H) of one layer, in ONNX's order."""
    ws, rs, bs = [], [], []
    for direction in range(2 if m.bidirectional else 1):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        w_ih = _host(getattr(m, "weight_ih" + suffix)._data)
        w_hh = _host(getattr(m, "weight_hh" + suffix)._data)
        if m.bias:
            b_ih = _host(getattr(m, "bias_ih" + suffix)._data)
            b_hh = _host(getattr(m, "bias_hh" + suffix)._data)
        else:
            b_ih = b_hh = np.zeros(w_ih.shape[0], dtype=w_ih.dtype)
        ws.append(_reorder(w_ih, m.mode))
        rs.append(_reorder(w_hh, m.mode))
        bs.append(np.concatenate([_reorder(b_ih, m.mode), _reorder(b_hh, m.mode)]))
    return tuple(np.stack(a).astype(dtype) for a in (ws, rs, bs))


def _initial(s, ref, layer: int, dirs: int, batched: bool):
    """The initial state of one layer (dirs, batch, H) from the module's hx, or "" (zeros)."""
    if ref is None:
        return ""
    b = s.b
    h = s.name_of(ref)
    if not batched:
        h = b.node("Unsqueeze", [h, b.ints([1])])
    return b.node("Slice", [h, b.ints([layer * dirs]), b.ints([(layer + 1) * dirs]),
                            b.ints([0])])


@converts("module:LSTM", "module:GRU", "module:RNN")
def recurrent(s):
    """One ONNX recurrent node per layer; outputs (output, h_n[, c_n]) as torch returns them."""
    m, b = s.event.op, s.b
    if not isinstance(s.arg(0), Ref):
        raise s.unsupported("a PackedSequence input")
    if m.proj_size:
        raise s.unsupported("proj_size > 0")
    mode, dirs, hidden = m.mode, (2 if m.bidirectional else 1), m.hidden_size
    x = s.input(0)
    dtype = b.dtype(x)
    batched = len(b.shape(x)) == 3
    if not batched:
        x = b.node("Unsqueeze", [x, b.ints([1])])
    elif m.batch_first:
        x = b.node("Transpose", [x], perm=[1, 0, 2])
    hx = s.arg(1)
    h0, c0 = (hx if isinstance(hx, (tuple, list)) else (hx, None))
    finals_h, finals_c = [], []
    attrs = dict(hidden_size=hidden, direction="bidirectional" if dirs == 2 else "forward")
    if mode == "GRU":
        attrs["linear_before_reset"] = 1
    if mode.startswith("RNN"):
        attrs["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"] * dirs
    prefix = s.event.path or "rnn"
    for layer in range(m.num_layers):
        w, r, bias = _layer_weights(m, layer, dtype)
        names = [b.initializer(f"{prefix}.onnx_{kind}_l{layer}", a)
                 for kind, a in (("W", w), ("R", r), ("B", bias))]
        inputs = [x] + names + ["", _initial(s, h0, layer, dirs, batched)]
        if mode == "LSTM":
            inputs.append(_initial(s, c0, layer, dirs, batched))
        outs = b.node(_ONNX_OP[mode], inputs, n_outputs=3 if mode == "LSTM" else 2, **attrs)
        y = b.node("Transpose", [outs[0]], perm=[0, 2, 1, 3])  # (seq, batch, dirs, H)
        x = b.node("Reshape", [y, b.ints([0, 0, dirs * hidden])])
        finals_h.append(outs[1])
        if mode == "LSTM":
            finals_c.append(outs[2])
    if not batched:
        x = b.node("Squeeze", [x, b.ints([1])])
    elif m.batch_first:
        x = b.node("Transpose", [x], perm=[1, 0, 2])
    s.output(0, x)
    for k, finals in ((1, finals_h), (2, finals_c)):
        if not finals:
            continue
        state = b.node("Concat", finals, axis=0) if len(finals) > 1 else finals[0]
        if not batched:
            state = b.node("Squeeze", [state, b.ints([1])])
        s.output(k, state)
