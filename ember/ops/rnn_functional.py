"""`torch.lstm`, `torch.gru`, `torch.rnn_tanh`, `torch.rnn_relu`: the stacked recurrent networks
as functions of flat weight lists (matches torch's aten forms, which `nn.LSTM` & co. call).

Each has two forms, told apart by their arguments as torch's overloads are: padded,
`lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)`,
and packed, `lstm(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train,
bidirectional)`. `params` lists each layer's and direction's (w_ih, w_hh[, b_ih, b_hh][, w_hr])
in turn, as `nn.LSTM._flat_weights` does. They run ember/ops/rnn.py's `run_layers`.
"""

from ember import _dtype
from ember._registry import torch_function
from ember._tensor import Tensor
from ember._warnings import warn_at_caller
from ember.ops.rnn import run_layers

# torch's CPU LSTM runs oneDNN's kernel, which has no projections: a TORCH_WARN_ONCE
_PROJECTION_WARNING = ("LSTM with projections is not supported with oneDNN. Using default "
                       "implementation. (Triggered internally at "
                       "/__w/pytorch/pytorch/aten/src/ATen/native/RNN.cpp:1512.)")
_PROJECTION_WARNED = [False]


def _layer_weights(mode, params, has_biases, num_layers, bidirectional):
    """(w_ih, w_hh, b_ih, b_hh, w_hr) per layer and direction from the flat list."""
    count = num_layers * (2 if bidirectional else 1)
    per = len(params) // count
    if per * count != len(params) or per < 2:
        raise RuntimeError(f"{mode.lower()}: expected {count} groups of weights, got "
                           f"{len(params)} weights")
    weights = []
    for k in range(count):
        group = list(params[k * per:(k + 1) * per])
        w_ih, w_hh = group[:2]
        b_ih, b_hh = group[2:4] if has_biases else (None, None)
        w_hr = group[-1] if per in (3, 5) else None  # (LSTM with projections)
        weights.append((w_ih, w_hh, b_ih, b_hh, w_hr))
    return weights


def _padded(mode, input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
            batch_first):
    """The padded form: (output (T, B, ·) or batch-first, final states...)."""
    x = input.transpose(0, 1) if batch_first else input
    steps, batch = x.shape[0], x.shape[1]
    if steps == 0:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    weights = _layer_weights(mode, params, has_biases, num_layers, bidirectional)
    if weights[0][4] is not None and x.dtype in (_dtype.float32, _dtype.bfloat16) and \
            not _PROJECTION_WARNED[0]:
        _PROJECTION_WARNED[0] = True
        warn_at_caller(_PROJECTION_WARNING, UserWarning)
    rows = x.reshape(steps * batch, x.shape[2])
    out, finals = run_layers(mode, rows, [batch] * steps, hx, weights, num_layers,
                             bidirectional, dropout if train else 0.0)
    out = out.reshape(steps, batch, out.shape[-1])
    return (out.transpose(0, 1) if batch_first else out, *finals)


def _packed(mode, data, batch_sizes, hx, params, has_biases, num_layers, dropout, train,
            bidirectional):
    """The packed form: (output rows, final states...)."""
    sizes = [int(b) for b in batch_sizes.tolist()]
    weights = _layer_weights(mode, params, has_biases, num_layers, bidirectional)
    out, finals = run_layers(mode, data, sizes, hx, weights, num_layers, bidirectional,
                             dropout if train else 0.0)
    return (out, *finals)


def _run(mode, args, states):
    """Either form, from the arguments as given; hx is a (h, c) pair for LSTM (states=2)."""
    packed = isinstance(args[1], Tensor) and (states == 2 or isinstance(args[2], Tensor))
    if packed:
        data, batch_sizes, hx, *rest = args
        return _packed(mode, data, batch_sizes, tuple(hx) if states == 2 else (hx,), *rest)
    input, hx, *rest = args
    return _padded(mode, input, tuple(hx) if states == 2 else (hx,), *rest)


@torch_function()
def lstm(*args):
    """The stacked LSTM: (output, h_n, c_n) (matches `torch.lstm`)."""
    return _run("LSTM", args, 2)


@torch_function()
def gru(*args):
    """The stacked GRU: (output, h_n) (matches `torch.gru`)."""
    return _run("GRU", args, 1)


@torch_function()
def rnn_tanh(*args):
    """The stacked tanh RNN: (output, h_n) (matches `torch.rnn_tanh`)."""
    return _run("RNN_TANH", args, 1)


@torch_function()
def rnn_relu(*args):
    """The stacked ReLU RNN: (output, h_n) (matches `torch.rnn_relu`)."""
    return _run("RNN_RELU", args, 1)
