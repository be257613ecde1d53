"""The recurrent layers of ember/nn/modules/rnn.py (RNN, LSTM, GRU and their cells) against
torch: outputs, final states and every gradient (input, initial states, each parameter) for every
flag combination in float32 and float64, with torch's weights loaded through state_dict;
unbatched and packed input; state_dict round trips both ways; parameter names, shapes, init and
reprs; dropout between layers; constructor and forward errors; PyTorch's module_db entries;
float64 finite differences and second derivatives (the create_graph path of the fused step ops).
"""

import itertools
import math
import warnings

import numpy as np
import pytest
import torch
from torch.testing._internal.common_modules import module_db

import ember
from tests.differential import assert_same, assert_same_error, copy_state, to_ember

DTYPES = (np.float32, np.float64)
T, B, I, H = 4, 3, 5, 6  # noqa: E741 - steps, batch, input and hidden size


def _tol(dtype):
    return (2e-4, 2e-5) if dtype == np.float32 else (1e-9, 1e-11)


def _pair(cls, args=(), kwargs=None, dtype=np.float64):
    """(ember, torch) modules built alike, torch's parameters copied into ember."""
    kwargs = kwargs or {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = getattr(torch.nn, cls)(*args, **kwargs).to(getattr(torch, np.dtype(dtype).name))
        e = getattr(ember.nn, cls)(*args, **kwargs).to(getattr(ember, np.dtype(dtype).name))
    copy_state(t, e)
    return e, t


def _leaves(lib, arrays):
    return [lib.tensor(a, requires_grad=True) for a in arrays]


def _weighted_sum(lib, tensors, seed):
    """Σ wₖ·tₖ with fixed random weights, so every output position gets its own gradient."""
    rng = np.random.default_rng(seed)
    total = 0
    for t in tensors:
        w = rng.standard_normal(tuple(t.shape)).astype(t.detach().numpy().dtype)
        total = total + (t * lib.tensor(w)).sum()
    return total


def _flat(result):
    """The tensors of (output, h_n) or (output, (h_n, c_n)) or a cell's result."""
    if isinstance(result, ember.Tensor | torch.Tensor):
        return [result]
    out = []
    for r in result:
        out += _flat(r)
    return out


def _compare_forward_backward(e, t, arrays, call, dtype, seed=0):
    """call(module, leaves) in both libraries; compare outputs, then every gradient."""
    rtol, atol = _tol(dtype)
    results = []
    for lib, module in ((ember, e), (torch, t)):
        leaves = _leaves(lib, arrays)
        with warnings.catch_warnings():  # torch: "LSTM with projections is not supported with
            warnings.simplefilter("ignore")  # oneDNN"
            outputs = _flat(call(lib, module, leaves))
        _weighted_sum(lib, outputs, seed).backward()
        results.append((outputs, leaves, [p.grad for p in module.parameters()]))
    (e_out, e_leaves, e_grads), (t_out, t_leaves, t_grads) = results
    assert len(e_out) == len(t_out)
    for a, b in zip(e_out, t_out):
        assert_same(a, b, rtol, atol)
    for a, b in zip(e_leaves, t_leaves):
        assert_same(a.grad, b.grad, rtol, atol)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    for a, b in zip(e_grads, t_grads):
        assert_same(a, b, rtol, atol)


# ---- RNN / LSTM / GRU over every flag combination -----------------------------------------------
def _configs():
    rows = []
    flags = list(itertools.product((1, 2), (True, False), (False, True), (False, True)))
    for cls, extra in (("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("GRU", {}),
                       ("LSTM", {}), ("LSTM", {"proj_size": 2})):
        for layers, bias, batch_first, bidirectional in flags:
            kwargs = dict(extra, num_layers=layers, bias=bias, batch_first=batch_first,
                          bidirectional=bidirectional)
            rows.append(pytest.param(cls, kwargs, id=f"{cls}-" + "-".join(
                f"{k}={v}" for k, v in kwargs.items())))
    return rows


def _states(cls, kwargs, batch=B, rng=None):
    """Random initial states: [h0] or [h0, c0], shaped for kwargs."""
    rng = rng or np.random.default_rng(1)
    count = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    shapes = [(count, batch, kwargs.get("proj_size") or H)]
    if cls == "LSTM":
        shapes.append((count, batch, H))
    return [rng.standard_normal(s) for s in shapes]


def _call_with_states(cls, states_given):
    def call(lib, module, leaves):
        if not states_given:
            return module(leaves[0])
        hx = tuple(leaves[1:]) if cls == "LSTM" else leaves[1]
        return module(leaves[0], hx)
    return call


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls,kwargs", _configs())
def test_recurrent_layers_match_torch(cls, kwargs, dtype):
    e, t = _pair(cls, (I, H), kwargs, dtype)
    assert repr(e) == repr(t)
    rng = np.random.default_rng(0)
    shape = (B, T, I) if kwargs["batch_first"] else (T, B, I)
    x = rng.standard_normal(shape).astype(dtype)
    states = [s.astype(dtype) for s in _states(cls, kwargs, rng=rng)]
    _compare_forward_backward(e, t, [x] + states, _call_with_states(cls, True), dtype)
    if dtype == np.float64:  # zero initial states (the default), once per configuration
        e.zero_grad()
        t.zero_grad()
        _compare_forward_backward(e, t, [x], _call_with_states(cls, False), dtype, seed=1)


@pytest.mark.parametrize("cls,kwargs", [
    ("RNN", {}), ("RNN", {"nonlinearity": "relu", "num_layers": 2}), ("GRU", {"num_layers": 2}),
    ("LSTM", {"bidirectional": True}), ("LSTM", {"proj_size": 3, "batch_first": True}),
])
@pytest.mark.parametrize("with_states", [True, False])
def test_unbatched_input(cls, kwargs, with_states):
    e, t = _pair(cls, (I, H), kwargs)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((T, I))
    states = [s[:, 0] for s in _states(cls, kwargs, rng=rng)] if with_states else []
    _compare_forward_backward(e, t, [x] + states, _call_with_states(cls, with_states),
                              np.float64)


@pytest.mark.parametrize("cls,kwargs", [
    ("RNN", {"num_layers": 2}), ("GRU", {"bidirectional": True}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}), ("LSTM", {"proj_size": 2}),
])
@pytest.mark.parametrize("enforce_sorted,batch_first", [(True, False), (False, False),
                                                         (False, True)])
def test_packed_sequence_through_layers(cls, kwargs, enforce_sorted, batch_first):
    """PackedSequence in and out: data, batch sizes, permutations, final states, gradients."""
    kwargs = dict(kwargs, batch_first=batch_first)
    e, t = _pair(cls, (I, H), kwargs)
    lengths = [5, 4, 4, 2] if enforce_sorted else [2, 5, 1, 4]
    rng = np.random.default_rng(3)
    seqs = [rng.standard_normal((n, I)) for n in lengths]
    states = _states(cls, kwargs, batch=len(lengths), rng=rng)

    def call(lib, module, leaves):
        utils = lib.nn.utils.rnn
        packed = utils.pack_sequence(leaves[:len(seqs)], enforce_sorted=enforce_sorted)
        hx = leaves[len(seqs):]
        out, hidden = module(packed, tuple(hx) if cls == "LSTM" else hx[0])
        assert type(out).__name__ == "PackedSequence"
        padded, out_lengths = utils.pad_packed_sequence(out, batch_first=batch_first)
        for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
            value = getattr(out, field)
            assert (value is None) == enforce_sorted or field == "batch_sizes"
        return padded, out_lengths.double(), hidden

    _compare_forward_backward(e, t, seqs + states, call, np.float64)


# ---- cells --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
@pytest.mark.parametrize("cls,kwargs", [
    ("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("RNNCell", {"bias": False}),
    ("LSTMCell", {}), ("LSTMCell", {"bias": False}), ("GRUCell", {}), ("GRUCell", {"bias": False}),
])
def test_cells_match_torch(cls, kwargs, with_state, batched, dtype):
    e, t = _pair(cls, (I, H), kwargs, dtype)
    assert repr(e) == repr(t)
    rng = np.random.default_rng(4)
    lead = (B,) if batched else ()
    x = rng.standard_normal(lead + (I,)).astype(dtype)
    count = 2 if cls == "LSTMCell" else 1
    states = [rng.standard_normal(lead + (H,)).astype(dtype) for _ in range(count)]

    def call(lib, module, leaves):
        if not with_state:
            return module(leaves[0])
        return module(leaves[0], tuple(leaves[1:]) if cls == "LSTMCell" else leaves[1])

    _compare_forward_backward(e, t, [x] + (states if with_state else []), call, dtype)


@pytest.mark.parametrize("name,chunks", [("rnn_tanh_cell", 1), ("rnn_relu_cell", 1),
                                         ("lstm_cell", 4), ("gru_cell", 3)])
def test_cell_functions(name, chunks):
    """torch.lstm_cell & co.: values and gradients of every argument."""
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(s) for s in [(B, I), (B, H), (chunks * H, I), (chunks * H, H),
                                               (chunks * H,), (chunks * H,), (B, H)]]

    def run(lib):
        leaves = _leaves(lib, arrays)
        hx = (leaves[1], leaves[6]) if name == "lstm_cell" else leaves[1]
        out = _flat(getattr(lib, name)(leaves[0], hx, *leaves[2:6]))
        _weighted_sum(lib, out, 0).backward()
        used = leaves if name == "lstm_cell" else leaves[:6]
        return out + [leaf.grad for leaf in used]

    for a, b in zip(run(ember), run(torch)):
        assert_same(a, b, 1e-10, 1e-12)


# ---- structure: parameters, init, state_dict, repr ----------------------------------------------
@pytest.mark.parametrize("cls,kwargs", [
    ("RNN", {"num_layers": 2, "bidirectional": True}), ("GRU", {"bias": False, "num_layers": 3}),
    ("LSTM", {"num_layers": 2, "proj_size": 4, "bidirectional": True}),
    ("LSTM", {"bias": False, "proj_size": 2}), ("RNNCell", {}), ("LSTMCell", {"bias": False}),
    ("GRUCell", {}),
])
def test_parameters_names_shapes_and_state_dict_both_ways(cls, kwargs):
    e, t = _pair(cls, (I, H), kwargs)
    assert [(n, tuple(p.shape)) for n, p in e.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    assert list(e.state_dict()) == list(t.state_dict())
    if cls.endswith("Cell"):
        return
    assert e._flat_weights_names == t._flat_weights_names
    assert [tuple(w.shape) for w in e._flat_weights] == [tuple(w.shape) for w in t._flat_weights]
    assert [[tuple(w.shape) for w in ws] for ws in e.all_weights] == \
        [[tuple(w.shape) for w in ws] for ws in t.all_weights]
    assert e.flatten_parameters() is None
    # ember -> torch: a fresh torch module loads ember's (re-initialized) state_dict
    e2 = getattr(ember.nn, cls)(I, H, **kwargs).double()
    t2 = getattr(torch.nn, cls)(I, H, **kwargs).double()
    t2.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in
                        e2.state_dict().items()})
    for (k, a), (_, b) in zip(e2.state_dict().items(), t2.state_dict().items()):
        assert_same(a, b, exact=True)
    # replacing a parameter is seen by _flat_weights
    e2.weight_ih_l0 = ember.nn.Parameter(ember.zeros(*e2.weight_ih_l0.shape, dtype=ember.float64))
    assert e2._flat_weights[0] is e2.weight_ih_l0


@pytest.mark.parametrize("cls,kwargs", [("LSTM", {"num_layers": 2, "proj_size": 2}),
                                        ("GRU", {"bidirectional": True}), ("RNNCell", {})])
def test_whole_torch_module_checkpoint_loads(cls, kwargs, tmp_path):
    """torch.save(module) -> ember.load gives ember's class with the same computation."""
    t = getattr(torch.nn, cls)(I, H, **kwargs)
    torch.save(t, tmp_path / "m.pt")
    e = ember.load(tmp_path / "m.pt", weights_only=False)
    assert type(e) is getattr(ember.nn, cls) and repr(e) == repr(t)
    x = np.random.default_rng(9).standard_normal((T, B, I) if cls != "RNNCell" else (B, I))
    x = x.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(_flat(e(ember.tensor(x)))[0], _flat(t(torch.tensor(x)))[0], 1e-5, 1e-6)


def test_default_init_and_dtype_argument():
    bound = 1 / math.sqrt(64)
    for module in (ember.nn.LSTM(16, 64, 2, proj_size=8), ember.nn.GRU(16, 64),
                   ember.nn.RNNCell(16, 64)):
        for p in module.parameters():
            a = p.detach().numpy()
            assert p.dtype is ember.float32 and p.requires_grad
            assert np.abs(a).max() <= bound and np.abs(a).max() > 0.9 * bound
    m = ember.nn.GRU(3, 4, dtype=ember.float64)
    assert all(p.dtype is ember.float64 for p in m.parameters())


@pytest.mark.parametrize("cls,args,kwargs", [
    ("RNN", (3, 4), {}), ("RNN", (3, 4, 2, "relu", False, True, 0.5, True), {}),
    ("LSTM", (3, 4), {"proj_size": 2, "num_layers": 2, "dropout": 0.25}),
    ("GRU", (3, 4), {"bias": False, "batch_first": True, "bidirectional": True}),
    ("RNNCell", (3, 4), {"nonlinearity": "relu", "bias": False}), ("LSTMCell", (3, 4), {}),
    ("GRUCell", (3, 4), {"bias": False}),
])
def test_repr(cls, args, kwargs):
    e, t = _pair(cls, args, kwargs)
    assert repr(e) == repr(t)


# ---- dropout between layers ---------------------------------------------------------------------
@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers(cls):
    """dropout=1 in training zeroes the second layer's input (as torch); eval ignores dropout;
    dropout=0.5 in training changes the output and scales kept values by 2."""
    x = np.random.default_rng(6).standard_normal((T, B, I))
    for p, train in ((1.0, True), (0.5, False)):
        e, t = _pair(cls, (I, H), {"num_layers": 2, "dropout": p})
        e.train(train)
        t.train(train)
        _compare_forward_backward(e, t, [x], _call_with_states(cls, False), np.float64)
    e, _ = _pair(cls, (I, H), {"num_layers": 2, "dropout": 0.5})
    xe = ember.tensor(x)
    eval_out = e.eval()(xe)[0].detach().numpy()
    train_out = e.train()(xe)[0].detach().numpy()
    assert not np.allclose(eval_out, train_out)


@pytest.mark.parametrize("cls,layers,bidirectional", [("LSTM", 3, False), ("LSTM", 2, True),
                                                   ("GRU", 2, False), ("RNN", 3, True)])
def test_dropout_masks_are_torchs_after_the_same_seed(cls, layers, bidirectional):
    """Training with dropout 0.4 between layers, seeded alike: torch's masks, so torch's
    outputs, final states and every gradient."""
    results = []
    for lib in (ember, torch):
        lib.manual_seed(3)
        rnn = getattr(lib.nn, cls)(I, H, num_layers=layers, dropout=0.4,
                                   bidirectional=bidirectional).double()
        x = lib.randn(T, B, I, dtype=lib.float64, requires_grad=True)
        y, state = rnn(x)
        h = state[0] if cls == "LSTM" else state
        (y * y).sum().add(h.sum()).backward()
        results.append([y, h, x.grad] + [p.grad for p in rnn.parameters()])
    for e, t in zip(*results):
        assert_same(e, t, 1e-10, 1e-12)


# ---- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,kwargs,shapes", [
    ("LSTM", {}, [(T, B, I + 1)]),                        # feature size
    ("GRU", {}, [(T, B, I, 1)]),                          # rank
    ("RNN", {}, [(T,)]),
    ("RNN", {}, [(T, B, I), (1, B + 1, H)]),             # h0 batch
    ("GRU", {"num_layers": 2}, [(T, B, I), (1, B, H)]),   # h0 layers
    ("RNN", {}, [(T, B, I), (B, H)]),                     # h0 rank for batched input
    ("GRU", {}, [(T, I), (1, 1, H)]),                     # h0 rank for unbatched input
    ("LSTM", {}, [(T, B, I), (1, B, H + 1), (1, B, H)]),
    ("LSTM", {}, [(T, B, I), (1, B, H), (2, B, H)]),
    ("LSTM", {"proj_size": 2}, [(T, B, I), (1, B, H), (1, B, H)]),
    ("LSTM", {}, [(T, B, I), (B, H), (1, B, H)]),
    ("LSTM", {}, [(T, I), (1, B, H), (1, B, H)]),
    ("LSTM", {}, [(0, B, I)]),                            # empty sequence
    ("RNNCell", {}, [(B, I + 1)]), ("RNNCell", {}, [(B, I), (B + 1, H)]),
    ("GRUCell", {}, [(B, I), (B, H + 1)]), ("GRUCell", {}, [(B, I, 1)]),
    ("LSTMCell", {}, [(B, I), (B, H), (B, H + 2)]), ("LSTMCell", {}, [(B, I), (B, H, 1), (B, H)]),
])
def test_forward_errors_as_torch(cls, kwargs, shapes):
    arrays = [np.zeros(s) for s in shapes]

    def call(lib, *tensors):
        torch.manual_seed(0)
        module = getattr(lib.nn, cls)(I, H, **kwargs).double()
        if len(tensors) == 1:
            return module(tensors[0])
        states = tensors[1:]
        return module(tensors[0], tuple(states) if len(states) == 2 else states[0])

    assert_same_error(call, *arrays, same_message=True)


def test_dtype_mismatch_error():
    assert_same_error(lambda lib: lib.nn.LSTM(3, 4)(lib.zeros(2, 1, 3, dtype=lib.float64)),
                      same_message=True)


@pytest.mark.parametrize("cls,args,kwargs", [
    ("LSTM", (3, 4), {"dropout": 1.5}), ("RNN", (3, 4), {"dropout": True}),
    ("GRU", (3, 0), {}), ("GRU", (0, 3), {}), ("GRU", (3, 4), {"num_layers": 0}),
    ("LSTM", (3, 4), {"proj_size": 4}), ("LSTM", (3, 4), {"proj_size": -1}),
    ("GRU", (3, 4), {"proj_size": 2}), ("RNN", (3, 4), {"proj_size": 2}),
    ("RNN", (3, 4), {"nonlinearity": "sigmoid"}), ("LSTM", (3, 4), {"bias": 1}),
    ("LSTM", (3, 4), {"batch_first": 0}), ("LSTM", (3.0, 4), {}), ("LSTM", (3, 4.0), {}),
])
def test_constructor_errors_as_torch(cls, args, kwargs):
    assert_same_error(lambda lib: getattr(lib.nn, cls)(*args, **kwargs), same_message=True)


def test_dropout_warning_with_one_layer():
    for lib in (torch, ember):
        with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
            lib.nn.LSTM(3, 4, dropout=0.5)


@pytest.mark.parametrize("cls,kwargs,dtype", [
    ("LSTM", {}, "float32"), ("LSTM", {"num_layers": 2}, "float64"),
    ("LSTM", {"bidirectional": True}, "float32"), ("LSTM", {"batch_first": True}, "float32"),
    ("LSTM", {"proj_size": 2}, "float32"), ("LSTM", {}, "bfloat16"), ("LSTM", {}, "float16"),
    ("GRU", {}, "float32"), ("GRU", {"batch_first": True, "bidirectional": True}, "float32"),
    ("RNN", {"nonlinearity": "relu", "batch_first": True}, "float64"), ("RNN", {}, "float32"),
])
def test_output_grad_fn_names_as_torch(cls, kwargs, dtype):
    """The padded output's grad_fn, printed in its repr, names torch's last node: oneDNN's
    LSTM layer for float32/bfloat16 LSTMs (the Sequence models tutorial's `print(out)`), the
    stacked steps, the directions' cat, and batch_first's transpose (in place for RNN/GRU)."""
    names = []
    for lib in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (the projections' once-per-process warning)
            module = getattr(lib.nn, cls)(5, 4, **kwargs).to(getattr(lib, dtype))
            out, _ = module(lib.ones(3, 2, 5, dtype=getattr(lib, dtype)))
        names.append(out.grad_fn.name())
    assert names[1] == names[0]


@pytest.mark.parametrize("cls,kwargs", [("LSTMCell", {}), ("GRUCell", {}), ("RNNCell", {}),
                                        ("RNNCell", {"nonlinearity": "relu"})])
def test_cell_output_grad_fn_names_as_torch(cls, kwargs):
    """A cell's outputs print torch's last nodes: LSTMCell's h' = o·tanh(c') (MulBackward0)
    and c' = f·c + i·g (AddBackward0); unbatched input squeezes both."""
    names = []
    for lib in (torch, ember):
        cell = getattr(lib.nn, cls)(3, 4, **kwargs)
        outs = [cell(lib.ones(2, 3)), cell(lib.ones(3))]
        names.append([t.grad_fn.name() for out in outs
                      for t in (out if isinstance(out, tuple) else (out,))])
    assert names[1] == names[0]


def test_lstm_projection_warning_once_as_torch(monkeypatch):
    """A float32 LSTM with projections warns (once per process) that oneDNN cannot run it."""
    from ember.nn.modules import rnn
    monkeypatch.setattr(rnn, "_PROJECTION_WARNED", [False])
    with pytest.warns(UserWarning, match="LSTM with projections is not supported with oneDNN"):
        ember.nn.LSTM(3, 4, proj_size=2)(ember.ones(2, 1, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.nn.LSTM(3, 4, proj_size=2)(ember.ones(2, 1, 3))
        ember.nn.LSTM(3, 4, proj_size=2).double()(ember.ones(2, 1, 3, dtype=ember.float64))


def test_rnn_cell_unknown_nonlinearity_at_forward():
    assert_same_error(lambda lib: lib.nn.RNNCell(3, 4, nonlinearity="gelu")(lib.zeros(2, 3)),
                      same_message=True)


# ---- finite differences and second derivatives --------------------------------------------------
@pytest.mark.parametrize("cls,kwargs", [
    ("RNN", {"nonlinearity": "tanh", "bidirectional": True}), ("GRU", {"num_layers": 2}),
    ("LSTM", {"proj_size": 2, "bidirectional": True}), ("LSTM", {"num_layers": 2}),
])
def test_gradcheck_and_gradgradcheck(cls, kwargs):
    m = getattr(ember.nn, cls)(2, 3, **kwargs).double()
    rng = np.random.default_rng(7)
    x = ember.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    params = list(m.parameters())

    def fn(x, *ps):
        with torch_like_parameters(m, ps):
            out, hidden = m(x)
        return (out,) + (hidden if isinstance(hidden, tuple) else (hidden,))

    assert ember.autograd.gradcheck(fn, (x, *params))
    assert ember.autograd.gradgradcheck(fn, (x,))  # parameters: test_double_backward_matches_torch


class torch_like_parameters:
    """Temporarily use the given tensors as the module's parameters (for gradcheck)."""

    def __init__(self, module, tensors):
        self.module, self.tensors = module, tensors

    def __enter__(self):
        self.saved = dict(self.module.named_parameters())
        for (name, _), value in zip(self.saved.items(), self.tensors):
            self.module._parameters[name] = value

    def __exit__(self, *exc):
        self.module._parameters.update(self.saved)


@pytest.mark.parametrize("cls,kwargs", [("LSTM", {"proj_size": 2}), ("GRU", {}),
                                        ("LSTM", {"num_layers": 2, "bidirectional": True}),
                                        ("RNN", {"nonlinearity": "relu"}), ("RNN", {})])
def test_double_backward_matches_torch(cls, kwargs):
    """create_graph=True: first derivatives (the ember-op path of the step ops) and the
    gradient of their squared norm, against torch."""
    e, t = _pair(cls, (2, 3), kwargs)
    x = np.random.default_rng(8).standard_normal((3, 2, 2))
    results = []
    for lib, m in ((ember, e), (torch, t)):
        xt = lib.tensor(x, requires_grad=True)
        out = _flat(m(xt))
        params = list(m.parameters())
        grads = lib.autograd.grad(_weighted_sum(lib, out, 0), [xt] + params, create_graph=True)
        penalty = sum((g * g).sum() for g in grads)
        second = lib.autograd.grad(penalty, [xt] + params)
        results.append(list(grads) + list(second))
    for a, b in zip(*results):
        assert_same(a, b, 1e-8, 1e-10)


# ---- PyTorch's module_db entries ----------------------------------------------------------------
def _module_db_cases():
    cases = []
    names = ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")
    for info in module_db:
        name = info.module_cls.__name__
        if name not in names:
            continue
        for dtype in (torch.float32, torch.float64):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                items = info.module_inputs_func(info, device="cpu", dtype=dtype,
                                                requires_grad=True, training=True)
            for i, item in enumerate(items):
                cases.append(pytest.param(info.module_cls, item, dtype, id=f"{name}-{dtype}-{i}"))
    return cases


@pytest.mark.parametrize("cls,item,dtype", _module_db_cases())
def test_module_db(cls, item, dtype):
    ctor = item.constructor_input
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = cls(*ctor.args, **ctor.kwargs).to(dtype)
        e = getattr(ember.nn, cls.__name__)(*ctor.args, **ctor.kwargs).to(to_ember(dtype))
        assert repr(e) == repr(t)
        copy_state(t, e)
        t_args = item.forward_input.args
        e_args = to_ember(t_args)
        t_out, e_out = _flat(t(*t_args)), _flat(e(*e_args))
    tol = 2e-5 if dtype == torch.float32 else 1e-10
    for a, b in zip(e_out, t_out):
        assert_same(a, b, tol, tol)
    _weighted_sum(torch, t_out, 0).backward()
    _weighted_sum(ember, e_out, 0).backward()
    for a, b in zip(_flat(e_args), _flat(t_args)):
        if b.grad is not None:
            assert_same(a.grad, b.grad, tol * 10, tol)
    for a, b in zip(e.parameters(), t.parameters()):
        assert_same(a.grad, b.grad, tol * 10, tol)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_backward_twice_with_retain_graph(cls):
    """Two backward passes over one graph accumulate exactly twice one pass's gradients (the
    layer's tape of hidden inputs is reused, NOTE [Hidden weight gradient])."""
    e, t = _pair(cls, (I, H), {"num_layers": 2})
    x = np.random.default_rng(10).standard_normal((T, B, I))
    grads = []
    for lib, m in ((ember, e), (torch, t)):
        loss = _weighted_sum(lib, _flat(m(lib.tensor(x))), 0)
        loss.backward(retain_graph=True)
        loss.backward()
        grads.append([p.grad for p in m.parameters()])
    for a, b in zip(*grads):
        assert_same(a, b, 1e-9, 1e-11)


@pytest.mark.parametrize("kwargs, shapes, double", [
    ({"input_size": 5}, ((1, 4, 3), (1, 4, 3)), False), ({}, ((1, 4, 3), (1, 4, 3)), True),
    ({"num_layers": 2}, ((1, 4, 3), (1, 4, 3)), False), ({}, ((2, 4, 3), (2, 4, 3)), False),
    ({"bidirectional": True}, ((1, 4, 3), (1, 4, 3)), False),
    ({}, ((1, 4, 5), (1, 4, 3)), False), ({"proj_size": 2}, ((1, 4, 3), (1, 4, 3)), False),
    ({}, ((1, 3, 3), (1, 3, 3)), False), ({}, ((1, 5, 3), (1, 5, 3)), False),
    ({}, ((1, 1, 3), (1, 1, 3)), False), ({}, ((1, 4, 3), (1, 3, 3)), False),
    ({}, ((4, 3), (4, 3)), False)])
def test_lstm_on_packed_input_raises_the_kernels_errors(kwargs, shapes, double):
    """torch's LSTM does not check packed input in Python: a wrong feature size, dtype or
    state is its kernel's error (`mat1 and mat2 shapes cannot be multiplied (7x2 and 5x12)`)."""
    x = np.random.default_rng(0).standard_normal((3, 4, 2)).astype(np.float32)
    messages = []
    for lib in (ember, torch):
        data = lib.tensor(x, dtype=lib.float64 if double else lib.float32)
        packed = lib.nn.utils.rnn.pack_padded_sequence(data, [3, 2, 1, 1])
        lstm = lib.nn.LSTM(**{"input_size": 2, "hidden_size": 3, **kwargs})
        with pytest.raises(Exception) as info:
            lstm(packed, tuple(lib.zeros(*shape) for shape in shapes))
        messages.append((info.type, str(info.value)))
    assert messages[0] == messages[1]
