"""The dynamically quantized LSTM (matches `torch.ao.nn.quantized.dynamic.LSTM`): per layer and
direction a packed qint8 w_ih (with b_ih) and w_hh (with b_hh), run as PyTorch's CPU
`quantized_lstm` runs them (NOTE [The quantized LSTM's steps]).

NOTE [The quantized LSTM's steps]
ATen's `FullLayer` first applies the dynamically quantized w_ih to the whole sequence at once
(one activation scale for all steps, from the min and max of the whole layer input), then for
each step t: gates = linear_dynamic(h, w_hh) + ih[t] (h quantized afresh each step), the four
chunks i, f, g, o through sigmoid, sigmoid, tanh, sigmoid, c = f * c + i * g, h = o * tanh(c).
A reverse direction runs its own whole-sequence w_ih over the same input, then the steps from
the last. Dropout (training only) goes between layers. The quantized products are FBGEMM's to
the bit; sigmoid and tanh are ember's, which may differ from ATen's vectorized ones in the last
place, and such a difference can move a later step's quantized activations by one level.
"""

import numbers

from ember._warnings import warn as _warn
from ember import _dtype
from ember._quantized import quantize_per_tensor
from ember.ao.nn.quantized import _packed
from ember.ao.nn.quantized.modules.utils import _quantize_weight
from ember.ao.quantization.qconfig import default_dynamic_qconfig
from ember._library.ops import warn_not_implemented
from ember.autograd.grad_mode import no_grad
from ember.nn import functional as F
from ember.nn.modules.container import ModuleList
from ember.nn.modules.module import Module, _addindent
from ember.nn.modules.rnn import LSTM as _FloatLSTM
from ember.nn.utils.rnn import PackedSequence
from ember.ops import creation
from ember.ops.joins import cat, stack

__all__ = ["PackedParameter", "RNNBase", "LSTM"]


class CellParamsDynamic:
    """One layer-direction's packed w_ih and w_hh with their biases (PyTorch's
    `QuantizedCellParamsDynamic`, a TorchScript object there)."""

    def __init__(self, packed_ih, packed_hh, b_ih, b_hh, reduce_range=True):
        self.packed_ih, self.packed_hh = packed_ih, packed_hh
        self.b_ih, self.b_hh, self.reduce_range = b_ih, b_hh, reduce_range

    def __str__(self):
        return "ScriptObject <__torch__.torch.classes.rnn.CellParamsBase>"

    def __repr__(self):
        return f"<torch.ScriptObject object at {id(self):#x}>"

    def __getstate__(self):
        """PyTorch's serialization tuple: (kind, biases, doubles, longs, packed weights)."""
        return (("quantized_dynamic", [self.b_ih, self.b_hh], [], [int(self.reduce_range)],
                 [self.packed_ih, self.packed_hh]),)

    def __setstate__(self, state):
        _, (b_ih, b_hh), _, longs, (packed_ih, packed_hh) = state[0]
        self.__init__(packed_ih, packed_hh, b_ih, b_hh, bool(longs[0]) if longs else True)

    def linear_ih(self, x):
        """x @ w_ih.T + b_ih, dynamically quantized (FBGEMM's)."""
        return self.packed_ih.apply_dynamic(x, self.reduce_range)

    def linear_hh(self, h):
        """h @ w_hh.T + b_hh, dynamically quantized (FBGEMM's)."""
        return self.packed_hh.apply_dynamic(h, self.reduce_range)


class PackedParameter(Module):
    """A module holding one packed cell's parameters (matches `PackedParameter`)."""

    def __init__(self, param):
        super().__init__()
        self.param = param

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "param"] = self.param

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs, assign=False):
        self.param = state_dict[prefix + "param"]
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys,
                                      unexpected_keys, error_msgs, assign)


def _pack_cell(w_ih, w_hh, b_ih, b_hh):
    """A cell's parameters from qint8 weights and float biases (version 2: reduce_range)."""
    return CellParamsDynamic(_packed.linear_prepack(w_ih, b_ih),
                             _packed.linear_prepack(w_hh, b_hh), b_ih, b_hh, True)


def _check_rnn_arguments(mode, dropout, num_layers):
    """PyTorch's checks of a quantized RNN's dropout and mode."""
    if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout,
                                                                                       bool):
        raise ValueError("dropout should be a number in range [0, 1] representing the "
                         "probability of an element being zeroed")
    if dropout > 0 and num_layers == 1:
        _warn("dropout option adds dropout after all but last recurrent layer, so "
                      "non-zero dropout expects num_layers greater than 1, but got "
                      f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
    if mode != "LSTM":
        if mode == "GRU":
            raise NotImplementedError("ember: dynamically quantized GRU")
        raise ValueError("Unrecognized RNN mode: " + mode)


class RNNBase(Module):
    """What the dynamically quantized RNNs share (matches `torch.ao.nn.quantized.dynamic.
    RNNBase`): the packed cells in `_all_weight_values`, the checks and the repr."""

    _FLOAT_MODULE = _FloatLSTM
    _version = 2

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, dtype=_dtype.qint8):
        super().__init__()
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.dtype = float(dropout), bidirectional, dtype
        self.version = 2
        self.training = False
        _check_rnn_arguments(mode, dropout, num_layers)
        if dtype is not _dtype.qint8:
            raise NotImplementedError(f"ember: dynamically quantized {mode} with {dtype}")
        cells = []
        for layer in range(num_layers):
            for _ in range(self._directions):
                inputs = input_size if layer == 0 else hidden_size * self._directions
                weights = [creation.randn(4 * hidden_size, n) for n in (inputs, hidden_size)]
                w_ih, w_hh = (q_tensor(w) for w in weights)
                b_ih, b_hh = creation.randn(4 * hidden_size), creation.randn(4 * hidden_size)
                cells.append(PackedParameter(_pack_cell(w_ih, w_hh, b_ih, b_hh)))
        self._all_weight_values = ModuleList(cells)

    @property
    def _directions(self):
        return 2 if self.bidirectional else 1

    def _get_name(self):
        return "DynamicQuantizedRNN"

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): {_addindent(repr(module), 2)}"
                       for key, module in self._modules.items()
                       if not isinstance(module, (PackedParameter, ModuleList))]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def check_input(self, input, batch_sizes):
        """PyTorch's checks of the input's rank and feature size."""
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes):
        batch = input.size(0) if self.batch_first else input.size(1)
        return self.num_layers * self._directions, batch, self.hidden_size

    def check_hidden_size(self, hx, expected, msg="Expected hidden size {}, got {}"):
        if tuple(hx.size()) != tuple(expected):
            raise RuntimeError(msg.format(expected, list(hx.size())))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs, assign=False):
        self.version = local_metadata.get("version", None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys,
                                      unexpected_keys, error_msgs, assign)

    def _weight_bias(self):
        """{'weight': {name: qint8 weight}, 'bias': {name: float bias}} per layer/direction."""
        result = {"weight": {}, "bias": {}}
        for index, (layer, suffix) in enumerate(self._cell_names()):
            cell = self._all_weight_values[index].param
            for kind, packed in (("ih", cell.packed_ih), ("hh", cell.packed_hh)):
                weight, bias = packed.unpack()
                result["weight"][f"weight_{kind}_l{layer}{suffix}"] = weight
                result["bias"][f"bias_{kind}_l{layer}{suffix}"] = bias
        return result

    def _cell_names(self):
        """(layer, direction suffix) of each packed cell, in `_all_weight_values` order."""
        return [(layer, "_reverse" if d else "") for layer in range(self.num_layers)
                for d in range(self._directions)]

    def get_weight(self):
        return self._weight_bias()["weight"]

    def get_bias(self):
        return self._weight_bias()["bias"]

    def set_weight_bias(self, weight_bias_dict):
        """Repack the cells from {weight_ih_l0: qweight, bias_ih_l0: bias, ...}."""
        cells = []
        for layer, suffix in self._cell_names():
            w = [weight_bias_dict[f"{k}_{g}_l{layer}{suffix}"] for k in ("weight", "bias")
                 for g in ("ih", "hh")]
            cells.append(PackedParameter(_pack_cell(w[0], w[1], w[2], w[3])))
        self._all_weight_values = ModuleList(cells)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamically quantized copy of a float LSTM with a `qconfig`: every w_ih and
        w_hh observed and quantized on its own (qint8, symmetric per tensor by default)."""
        if type(mod) is not _FloatLSTM:
            if type(mod).__name__ == "GRU":
                raise NotImplementedError("ember: dynamically quantized GRU")
            raise AssertionError(
                "nn.quantized.dynamic.RNNBase.from_float only works for nn.LSTM and nn.GRU")
        if not hasattr(mod, "qconfig"):
            raise AssertionError("Input float module must have qconfig defined")
        make_observer = (mod.qconfig.weight if mod.qconfig is not None
                         and mod.qconfig.weight is not None else default_dynamic_qconfig.weight)
        dtype = make_observer().dtype
        if dtype not in (_dtype.qint8, _dtype.float16):
            raise RuntimeError(f"Unsupported dtype for dynamic RNN quantization: {dtype}")
        qmod = LSTM(mod.input_size, mod.hidden_size, mod.num_layers, mod.bias, mod.batch_first,
                    mod.dropout, mod.bidirectional, dtype)
        if not mod.bias:
            raise AssertionError("mod.bias must be True")
        cells = []
        for layer, suffix in qmod._cell_names():
            w_ih, w_hh = (_observed_weight(getattr(mod, f"weight_{g}_l{layer}{suffix}"),
                                           make_observer) for g in ("ih", "hh"))
            b_ih, b_hh = (getattr(mod, f"bias_{g}_l{layer}{suffix}") for g in ("ih", "hh"))
            cells.append(PackedParameter(_pack_cell(w_ih, w_hh, b_ih, b_hh)))
        qmod._all_weight_values = ModuleList(cells)
        return qmod


def q_tensor(w):
    """A random initial weight quantized with scale 0.1 (PyTorch's placeholder weights)."""
    return quantize_per_tensor(w, 0.1, 0, _dtype.qint8)


def _observed_weight(weight, make_observer):
    """weight observed by a fresh observer and quantized with its parameters."""
    observer = make_observer()
    observer(weight)
    return _quantize_weight(weight.float(), observer)


class LSTM(RNNBase):
    """A dynamically quantized LSTM with float inputs and outputs (matches
    `torch.ao.nn.quantized.dynamic.LSTM`; NOTE [The quantized LSTM's steps])."""

    _FLOAT_MODULE = _FloatLSTM

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def _get_name(self):
        return "DynamicQuantizedLSTM"

    def forward(self, input, hx=None):
        """(output, (h_n, c_n)) as `nn.LSTM` returns them."""
        if isinstance(input, PackedSequence):
            raise NotImplementedError("ember: a PackedSequence into a quantized LSTM")
        batch = input.size(0) if self.batch_first else input.size(1)
        if hx is None:
            zeros = creation.zeros(self.num_layers * self._directions, batch, self.hidden_size,
                                   dtype=input.dtype)
            hx = (zeros, zeros)
        self.check_input(input, None)
        expected = self.get_expected_hidden_size(input, None)
        self.check_hidden_size(hx[0], expected, "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hx[1], expected, "Expected hidden[1] size {}, got {}")
        with no_grad():
            output, (h, c) = self._run(input, hx)
        if self.dtype is _dtype.qint8:  # (aten::quantized_lstm has no autograd formula)
            warn_not_implemented("aten::quantized_lstm", (output, h, c), (input, *hx))
        return output, (h, c)

    def _run(self, input, hx):
        """The layers one after the other; dropout between them when training."""
        x = input.transpose(0, 1) if self.batch_first else input
        if x.size(0) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        h_n, c_n = [], []
        cells = [m.param for m in self._all_weight_values]
        for layer in range(self.num_layers):
            outputs = []
            for d in range(self._directions):
                index = layer * self._directions + d
                out, h, c = _run_direction(x, hx[0][index], hx[1][index], cells[index], d == 1)
                outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outputs[0] if len(outputs) == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        output = x.transpose(0, 1) if self.batch_first else x
        return output, (stack(h_n, 0), stack(c_n, 0))


def _run_direction(x, h, c, cell, reverse):
    """One direction of one layer over the sequence x (T, B, I): (outputs, h_T, c_T)."""
    ih = cell.linear_ih(x)  # the whole sequence at once
    steps = range(x.size(0) - 1, -1, -1) if reverse else range(x.size(0))
    outputs = [None] * x.size(0)
    for t in steps:
        gates = cell.linear_hh(h) + ih[t]
        i, f, g, o = gates.chunk(4, 1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        outputs[t] = h
    return stack(outputs, 0), h, c
