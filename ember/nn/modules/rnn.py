"""Recurrent layers: RNN, LSTM, GRU and their single-step cells (matches `torch.nn.modules.rnn`).

The modules hold the parameters under PyTorch's names (`weight_ih_l0`, `bias_hh_l1_reverse`,
`weight_hr_l0` ...), check their inputs as PyTorch does and hand the computation to
`ember.ops.rnn`: one input-projection matmul per layer and direction, then one fused op per time
step (NOTE [One op per time step] there), or for LSTM over padded input one op for the whole
layer (NOTE [One op per layer] in `ember.ops.rnn_layer`). Padded input runs as packed rows with
equal batch sizes.
"""

import math
import numbers

from ember._warnings import warn as _warn
from ember import _dtype
from ember.nn import init
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter
from ember.nn.utils.rnn import PackedSequence
from ember._registry import FUNCTIONS
from ember._tensor import short_name
from ember.ops import creation
from ember.ops import rnn as _rnn
from ember.overrides import ACTIVE, wants_dispatch
from ember.ops._node_names import renamed_node  # NOTE [grad_fn names of composite ops]
from ember.ops.rnn_functional import _PROJECTION_WARNED, _PROJECTION_WARNING
from ember.ops.scatter import index_select

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
_ONEDNN_DTYPES = (_dtype.float32, _dtype.bfloat16)  # the LSTM torch's CPU runs with oneDNN


def _empty(*shape, dtype=None):
    """Uninitialized parameter storage in `dtype` (the default float dtype if None)."""
    return creation.empty(*shape, dtype=dtype or _dtype.get_default_dtype())


def _check_constructor(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                       proj_size):
    """PyTorch's argument checks of RNNBase, in its order."""
    if (not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1
            or isinstance(dropout, bool)):
        raise ValueError("dropout should be a number in range [0, 1] representing the "
                         "probability of an element being zeroed")
    if dropout > 0 and num_layers == 1:
        _warn("dropout option adds dropout after all but last recurrent layer, so "
                      "non-zero dropout expects num_layers greater than 1, but got "
                      f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
    for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                              ("input_size", input_size, int)):
        if not isinstance(value, kind):
            raise TypeError(f"{name} should be of type {kind.__name__}, got: "
                            f"{type(value).__name__}")
    if input_size <= 0:
        raise ValueError("input_size must be greater than zero")
    if not isinstance(hidden_size, int):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")


class RNNBase(Module):
    """The parameters, checks and repr shared by RNN, LSTM and GRU (matches
    `torch.nn.RNNBase`)."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        _check_constructor(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                           proj_size)
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(self._directions):
                self._add_layer_parameters(layer, direction, dtype)
        self.reset_parameters()

    def _add_layer_parameters(self, layer, direction, dtype):
        """weight_ih_l{k}, weight_hh_l{k}, [bias_ih_l{k}, bias_hh_l{k}], [weight_hr_l{k}]."""
        gates = _GATES[self.mode] * self.hidden_size
        real_hidden = self.proj_size or self.hidden_size
        inputs = self.input_size if layer == 0 else real_hidden * self._directions
        shapes = {"weight_ih": (gates, inputs), "weight_hh": (gates, real_hidden)}
        if self.bias:
            shapes.update(bias_ih=(gates,), bias_hh=(gates,))
        if self.proj_size > 0:
            shapes["weight_hr"] = (self.proj_size, self.hidden_size)
        suffix = "_reverse" if direction == 1 else ""
        names = []
        for kind, shape in shapes.items():
            name = f"{kind}_l{layer}{suffix}"
            setattr(self, name, Parameter(_empty(*shape, dtype=dtype)))
            names.append(name)
        self._flat_weights_names.extend(names)
        self._all_weights.append(names)

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _flat_weights(self):
        """The parameters in `_flat_weights_names` order (as PyTorch's `_flat_weights`)."""
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters grouped per layer and direction (matches `RNNBase.all_weights`)."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """A no-op, as in PyTorch on the CPU (it packs weights for cuDNN)."""

    def reset_parameters(self) -> None:
        """Every parameter ~ U(±1/√hidden_size), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _layer_weights(self):
        """(w_ih, w_hh, b_ih, b_hh, w_hr) per layer and direction (None where absent)."""
        weights = []
        for names in self._all_weights:
            params = dict(zip((n.split("_l")[0] for n in names), (getattr(self, n)
                                                                  for n in names)))
            weights.append(tuple(params.get(kind) for kind in (
                "weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")))
        return weights

    # ---- checks (PyTorch's messages) --------------------------------------------------------
    def check_input(self, input, batch_sizes) -> None:
        """dtype, rank and feature size of the input (matches `RNNBase.check_input`)."""
        weight_dtype = self._flat_weights[0].dtype
        if input.dtype != weight_dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                f"Convert input: input.to({weight_dtype}), or convert model: "
                f"model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def _mini_batch(self, input, batch_sizes) -> int:
        if batch_sizes is not None:
            return int(batch_sizes[0])
        return input.size(0) if self.batch_first else input.size(1)

    def get_expected_hidden_size(self, input, batch_sizes):
        """(layers·directions, batch, proj_size or hidden_size)."""
        return (self.num_layers * self._directions, self._mini_batch(input, batch_sizes),
                self.proj_size or self.hidden_size)

    def check_hidden_size(self, hx, expected_hidden_size,
                          msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return index_select(hx, 1, permutation)

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ---- the computation ------------------------------------------------------------------
    def _zeros(self, batch, size, like):
        return creation.zeros(self.num_layers * self._directions, batch, size, dtype=like.dtype)

    def _prepare(self, input, hx):
        """(input, batch_sizes, hx, how to finish) for padded or packed input; the initial
        state of unbatched input gets its batch dim (ranks checked as PyTorch does)."""
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_indices, unsorted_indices = input
            sizes = [int(b) for b in batch_sizes._data]
            return data, sizes, self._permute(hx, sorted_indices), ("packed", input)
        if input.dim() not in (2, 3):
            raise ValueError(f"{self._name}: Expected input to be 2D or 3D, got {input.dim()}D"
                             f"{' tensor' if self.mode.startswith('RNN') else ''} instead")
        batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not batched:
            input = input.unsqueeze(batch_dim)
        hx = self._check_hx_rank(hx, batched)
        return input, None, hx, ("padded", batched)

    def _permute(self, hx, permutation):
        return hx if hx is None else self.permute_hidden(hx, permutation)

    def _run(self, input, batch_sizes, hx):
        """Run the layers on a checked padded (3-D) or packed input; (output, final states)."""
        if batch_sizes is None and ACTIVE[0] and wants_dispatch((input, *hx)):
            return self._run_overridden(input, hx)
        dropout = self.dropout if self.training else 0.0
        weights = self._layer_weights()
        if batch_sizes is not None:
            return _rnn.run_layers(self.mode, input, batch_sizes, hx, weights, self.num_layers,
                                   self.bidirectional, dropout)
        x = input.transpose(0, 1) if self.batch_first else input
        steps, batch = x.shape[0], x.shape[1]
        if steps == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        rows = x.reshape(steps * batch, x.shape[2])
        out, finals = _rnn.run_layers(self.mode, rows, [batch] * steps, hx, weights,
                                      self.num_layers, self.bidirectional, dropout)
        out = renamed_node(out.reshape(steps, batch, out.shape[-1]), self._output_node(x))
        if not self.batch_first:
            return out, finals
        # (torch's LSTM transposes its output back; RNN and GRU, in place: transpose_)
        out = out.transpose(0, 1)
        return renamed_node(out, "TransposeBackward1") if self.mode != "LSTM" else out, finals

    def _run_overridden(self, input, hx):
        """A Tensor-like input (NOTE [__torch_function__ in ember]): the call of `torch.lstm`
        (`torch.gru`, ...) torch's module makes, which its `__torch_function__` takes."""
        function = FUNCTIONS[self.mode.lower()]
        hidden = tuple(hx) if self.mode == "LSTM" else hx[0]
        result = function(input, hidden, self._flat_weights, self.bias, self.num_layers,
                          float(self.dropout), self.training, self.bidirectional,
                          self.batch_first)
        return result[0], tuple(result[1:])

    def _output_node(self, x) -> str:
        """The grad_fn name of torch's padded output (before batch_first's transpose): the
        directions' cat, oneDNN's LSTM layer (float32 or bfloat16, no projections) or the
        stacked steps."""
        if self.bidirectional:
            return "CatBackward0"
        if self.mode == "LSTM" and x.dtype in _ONEDNN_DTYPES:
            if not self.proj_size:
                return "MkldnnRnnLayerBackward0"
            if not _PROJECTION_WARNED[0]:  # (TORCH_WARN_ONCE, at the module's call of the op)
                _PROJECTION_WARNED[0] = True
                _warn(_PROJECTION_WARNING, UserWarning, stacklevel=3)
        return "StackBackward0"

    def _finish(self, output, hidden, how):
        """Wrap packed output, restore the batch order, drop the batch dim of unbatched input."""
        kind, info = how
        if kind == "packed":
            _, batch_sizes, sorted_indices, unsorted_indices = info
            packed = PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices)
            return packed, self._permute(hidden, unsorted_indices)
        if not info:
            output = output.squeeze(0 if self.batch_first else 1)
            hidden = (tuple(h.squeeze(1) for h in hidden) if isinstance(hidden, tuple)
                      else hidden.squeeze(1))
        return output, hidden


class _SingleStateRNN(RNNBase):
    """RNN and GRU: one state tensor h."""

    def _check_hx_rank(self, hx, batched):
        if hx is None:
            return None
        if not batched:
            if hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got "
                                   f"{hx.dim()}-D tensor")
            return hx.unsqueeze(1)
        if hx.dim() != 3:
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got "
                               f"{hx.dim()}-D tensor")
        return hx

    def forward(self, input, hx=None):
        x, batch_sizes, hx, how = self._prepare(input, hx)
        if hx is None:
            hx = self._zeros(self._mini_batch(x, batch_sizes), self.hidden_size, x)
        self.check_forward_args(x, hx, batch_sizes)
        output, (hidden,) = self._run(x, batch_sizes, (hx,))
        return self._finish(output, hidden, how)


class RNN(_SingleStateRNN):
    """Elman RNN, h' = tanh or relu(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) (matches `torch.nn.RNN`)."""

    _name = "RNN"

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        if self.nonlinearity not in modes:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__(modes[self.nonlinearity], *args, **kwargs)


class GRU(_SingleStateRNN):
    """Gated recurrent unit layers (matches `torch.nn.GRU`)."""

    _name = "GRU"

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory layers, optionally with projections (matches `torch.nn.LSTM`)."""

    _name = "LSTM"

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes):
        """(layers·directions, batch, hidden_size)."""
        return (self.num_layers * self._directions, self._mini_batch(input, batch_sizes),
                self.hidden_size)

    def check_forward_args(self, input, hidden, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return index_select(hx[0], 1, permutation), index_select(hx[1], 1, permutation)

    def _check_hx_rank(self, hx, batched):
        if hx is None:
            return None
        ranks = (hx[0].dim(), hx[1].dim())
        if batched and ranks != (3, 3):
            raise RuntimeError(f"For batched 3-D input, hx and cx should also be 3-D but got "
                               f"({ranks[0]}-D, {ranks[1]}-D) tensors")
        if not batched:
            if ranks != (2, 2):
                raise RuntimeError(f"For unbatched 2-D input, hx and cx should also be 2-D but "
                                   f"got ({ranks[0]}-D, {ranks[1]}-D) tensors")
            return hx[0].unsqueeze(1), hx[1].unsqueeze(1)
        return hx

    def forward(self, input, hx=None):
        x, batch_sizes, hx, how = self._prepare(input, hx)
        if hx is None:
            batch = self._mini_batch(x, batch_sizes)
            hx = (self._zeros(batch, self.proj_size or self.hidden_size, x),
                  self._zeros(batch, self.hidden_size, x))
        if batch_sizes is None:
            self.check_forward_args(x, hx, batch_sizes)
        else:  # (torch's LSTM checks nothing for packed input: its kernel's errors)
            self._check_packed(x, hx, batch_sizes[0])
        output, hidden = self._run(x, batch_sizes, tuple(hx))
        return self._finish(output, hidden, how)

    def _check_packed(self, data, hx, batch) -> None:
        """The errors torch's LSTM kernel raises for packed data and states that do not fit:
        the input projection's, then the states' count, sizes and batch."""
        weight, gates = self._flat_weights[0], 4 * self.hidden_size
        if data.dtype != weight.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                               f"{short_name(data.dtype)} and {short_name(weight.dtype)}")
        if data.dim() != 2 or data.size(-1) != self.input_size:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({data.size(0)}x"
                               f"{data.size(-1)} and {self.input_size}x{gates})")
        h, c = hx
        if h.dim() != 3 or c.dim() != 3:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[-{min(h.dim(), c.dim())}, {min(h.dim(), c.dim()) - 1}], but got 2)")
        if h.size(0) != self.num_layers * self._directions:
            raise RuntimeError("Odd number of params or hiddens given to a bidirectional RNN"
                               if self.bidirectional and h.size(0) % 2 else
                               "Expected more hidden states in stacked_rnn")
        if h.size(2) != (self.proj_size or self.hidden_size) or c.size(2) != self.hidden_size:
            raise RuntimeError("got an incorrect number of RNN parameters")
        if h.size(1) == 1 and batch > 1:
            raise RuntimeError(f"output with shape [1, {gates}] doesn't match the broadcast "
                               f"shape [{batch}, {gates}]")
        if h.size(1) != batch:
            raise RuntimeError(f"The size of tensor a ({h.size(1)}) must match the size of "
                               f"tensor b ({batch}) at non-singleton dimension 0")
        if c.size(1) != batch:
            raise RuntimeError(f"The size of tensor a ({batch}) must match the size of "
                               f"tensor b ({c.size(1)}) at non-singleton dimension 0")


# ---- cells ------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """weight_ih, weight_hh, bias_ih, bias_hh of a single-step cell (matches
    `torch.nn.RNNCellBase`)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(_empty(num_chunks * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(_empty(num_chunks * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(_empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(_empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        """Every parameter ~ U(±1/√hidden_size), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _batch(self, input, states, name):
        """Check ranks (1-D or 2-D) and add the batch dim to unbatched input and states."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        for label, state in states:
            if state is not None and state.dim() not in (1, 2):
                raise ValueError(f"{name}: Expected {label} to be 1D or 2D, got {state.dim()}D "
                                 "instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
            states = [(label, None if s is None else s.unsqueeze(0)) for label, s in states]
        return input, [s for _, s in states], batched

    def _zeros(self, input):
        return creation.zeros(input.size(0), self.hidden_size, dtype=input.dtype)


class RNNCell(RNNCellBase):
    """One Elman RNN step (matches `torch.nn.RNNCell`)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (hx,), batched = self._batch(input, [("hidden", hx)], "RNNCell")
        hx = self._zeros(input) if hx is None else hx
        if self.nonlinearity == "tanh":
            cell = _rnn.rnn_tanh_cell
        elif self.nonlinearity == "relu":
            cell = _rnn.rnn_relu_cell
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        out = cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step, (h', c') from (h, c) (matches `torch.nn.LSTMCell`)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, dtype=dtype)

    def forward(self, input, hx=None):
        states = [("hx[0]", None), ("hx[1]", None)] if hx is None else [
            (f"hx[{k}]", s) for k, s in enumerate(hx)]
        input, states, batched = self._batch(input, states, "LSTMCell")
        if hx is None:
            zeros = self._zeros(input)
            states = [zeros, zeros]
        h, c = _rnn.lstm_cell(input, tuple(states), self.weight_ih, self.weight_hh, self.bias_ih,
                              self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step (matches `torch.nn.GRUCell`)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, dtype=dtype)

    def forward(self, input, hx=None):
        input, (hx,), batched = self._batch(input, [("hidden", hx)], "GRUCell")
        hx = self._zeros(input) if hx is None else hx
        out = _rnn.gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih,
                            self.bias_hh)
        return out if batched else out.squeeze(0)
