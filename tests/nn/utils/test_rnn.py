"""ember.nn.utils.rnn against torch.nn.utils.rnn: pad_sequence, pack_padded_sequence,
pad_packed_sequence, pack_sequence, unpad_sequence, unpack_sequence, invert_permutation and
PackedSequence (fields, conversions, repr); values, gradients and errors; padded batches packed
through LSTM and GRU and padded back."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, copy_state

LENGTHS = {"sorted": [5, 3, 3, 1], "unsorted": [2, 5, 1, 4], "one": [3]}


def _sequences(lengths, tail=(2,), dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n,) + tail).astype(dtype) for n in lengths]


def _leaves(lib, arrays):
    return [lib.tensor(a, requires_grad=True) for a in arrays]


def _backward_weighted(lib, tensor, seed=1):
    w = np.random.default_rng(seed).standard_normal(tuple(tensor.shape))
    (tensor * lib.tensor(w.astype(tensor.detach().numpy().dtype))).sum().backward()


def _same_packed(e, t, **tol):
    assert type(e).__name__ == "PackedSequence"
    assert_same(e.data, t.data, **tol)
    assert_same(e.batch_sizes, t.batch_sizes, exact=True)
    for field in ("sorted_indices", "unsorted_indices"):
        a, b = getattr(e, field), getattr(t, field)
        assert (a is None) == (b is None)
        if b is not None:
            assert_same(a, b, exact=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("tail", [(), (2,), (2, 3)])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("padding_value", [0.0, -1.5])
def test_pad_sequence(dtype, tail, batch_first, padding_side, padding_value):
    arrays = _sequences(LENGTHS["unsorted"], tail, dtype)
    results = []
    for lib in (ember, torch):
        leaves = _leaves(lib, arrays)
        out = lib.nn.utils.rnn.pad_sequence(leaves, batch_first=batch_first,
                                            padding_value=padding_value,
                                            padding_side=padding_side)
        _backward_weighted(lib, out)
        results.append([out] + [leaf.grad for leaf in leaves])
    for a, b in zip(*results):
        assert_same(a, b)


def test_pad_sequence_of_a_tensor_and_integer_dtype():
    for value in (np.arange(6).reshape(2, 3), np.arange(6, dtype=np.int64).reshape(3, 2)):
        assert_same(ember.nn.utils.rnn.pad_sequence(ember.tensor(value)),
                    torch.nn.utils.rnn.pad_sequence(torch.tensor(value)), exact=True)
    seqs = [np.array([1, 2, 3]), np.array([4])]
    assert_same(ember.nn.utils.rnn.pad_sequence([ember.tensor(s) for s in seqs], True, 9),
                torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], True, 9),
                exact=True)


@pytest.mark.parametrize("case", ["sorted", "unsorted", "one"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths_as", ["list", "tensor", "int32 tensor"])
@pytest.mark.parametrize("tail", [(2,), (2, 3)])
def test_pack_padded_sequence_and_back(case, batch_first, lengths_as, tail):
    """pack (with its gradient to the padded input), then pad back with total_length."""
    lengths = LENGTHS[case]
    enforce_sorted = case != "unsorted"
    steps = max(lengths) + 1  # one extra padded step
    rng = np.random.default_rng(2)
    shape = (len(lengths), steps) if batch_first else (steps, len(lengths))
    padded = rng.standard_normal(shape + tail)
    results = []
    for lib in (ember, torch):
        utils = lib.nn.utils.rnn
        x = lib.tensor(padded, requires_grad=True)
        given = {"list": lengths, "tensor": lib.tensor(lengths),
                 "int32 tensor": lib.tensor(lengths, dtype=lib.int32)}[lengths_as]
        packed = utils.pack_padded_sequence(x, given, batch_first=batch_first,
                                            enforce_sorted=enforce_sorted)
        out, out_lengths = utils.pad_packed_sequence(packed, batch_first=batch_first,
                                                     padding_value=7.0, total_length=steps + 1)
        _backward_weighted(lib, out)
        results.append((packed, out, out_lengths, x.grad))
    (e_packed, *e_rest), (t_packed, *t_rest) = results
    _same_packed(e_packed, t_packed)
    for a, b in zip(e_rest, t_rest):
        assert_same(a, b)


@pytest.mark.parametrize("enforce_sorted,case", [(True, "sorted"), (False, "unsorted")])
def test_pack_sequence_unpack_sequence_unpad_sequence(enforce_sorted, case):
    arrays = _sequences(LENGTHS[case], (3,))
    results = []
    for lib in (ember, torch):
        utils = lib.nn.utils.rnn
        leaves = _leaves(lib, arrays)
        packed = utils.pack_sequence(leaves, enforce_sorted=enforce_sorted)
        unpacked = utils.unpack_sequence(packed)
        padded = utils.pad_sequence(leaves)
        unpadded = utils.unpad_sequence(padded, lib.tensor(LENGTHS[case]))
        padded_bf = utils.pad_sequence(leaves, batch_first=True)
        unpadded_bf = utils.unpad_sequence(padded_bf, lib.tensor(LENGTHS[case]), True)
        total = sum(((k + 1) * s * s).sum() for k, s in enumerate(unpacked + unpadded_bf))
        total.backward()
        results.append((packed, unpacked + unpadded + unpadded_bf, [x.grad for x in leaves]))
    (e_packed, e_seqs, e_grads), (t_packed, t_seqs, t_grads) = results
    _same_packed(e_packed, t_packed)
    for a, b in zip(e_seqs + e_grads, t_seqs + t_grads):
        assert_same(a, b)


def test_packed_sequence_fields_conversions_and_repr():
    arrays = _sequences(LENGTHS["unsorted"], (2,), np.float32)
    e = ember.nn.utils.rnn.pack_sequence([ember.tensor(a) for a in arrays], enforce_sorted=False)
    t = torch.nn.utils.rnn.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted=False)
    assert repr(e) == repr(t)
    assert e._fields == t._fields and isinstance(e, tuple) and len(e) == 4
    data, batch_sizes, sorted_indices, unsorted_indices = e
    assert data is e.data and batch_sizes is e.batch_sizes
    for convert in ("double", "float", "half", "long", "int", "short", "char", "byte", "cpu"):
        _same_packed(getattr(e, convert)(), getattr(t, convert)())
    _same_packed(e.to(ember.float64), t.to(torch.float64))
    assert e.to(ember.float32) is e and t.to(torch.float32) is t
    assert e.is_cuda is False and e.is_pinned() is False
    # built from (data, batch_sizes) and with only sorted_indices
    e2 = ember.nn.utils.rnn.PackedSequence((e.data, e.batch_sizes))
    assert e2.sorted_indices is None and e2.unsorted_indices is None
    e3 = ember.nn.utils.rnn.PackedSequence(e.data, e.batch_sizes, e.sorted_indices)
    assert_same(e3.unsorted_indices, t.unsorted_indices, exact=True)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_grad_fn_names_as_torch(batch_first, enforce_sorted):
    """Printed grad_fns: packing is torch's one PackPaddedSequence node; padding (pad_sequence,
    pad_packed_sequence of sorted time-major data) copies into a new tensor (CopySlices)."""
    names = []
    for lib in (torch, ember):
        rnn = lib.nn.utils.rnn
        x = lib.ones(4, 4, 2, requires_grad=True)
        lengths = [4, 3, 1, 1] if enforce_sorted else [3, 4, 1, 2]
        packed = rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
        padded, _ = rnn.pad_packed_sequence(packed, batch_first, total_length=5)
        seqs = [lib.ones(3, 2, requires_grad=True), lib.ones(2, 2, requires_grad=True)]
        outs = [packed.data, padded, rnn.pad_sequence(seqs, batch_first),
                rnn.pad_sequence(seqs, padding_side="left"), rnn.pack_sequence(seqs).data]
        names.append([(t.grad_fn.name(), repr(t.grad_fn).split(" object at")[0]) for t in outs])
    assert names[1] == names[0]


def test_invert_permutation():
    perm = [3, 0, 2, 1]
    assert_same(ember.nn.utils.rnn.invert_permutation(ember.tensor(perm)),
                torch.nn.utils.rnn.invert_permutation(torch.tensor(perm)), exact=True)
    assert ember.nn.utils.rnn.invert_permutation(None) is None


def _pack(lib, shape, lengths, **kwargs):
    return lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(*shape), lengths, **kwargs)


@pytest.mark.parametrize("call", [
    lambda lib: _pack(lib, (5, 3, 2), [2, 3, 1]),                      # unsorted, enforced
    lambda lib: _pack(lib, (5, 3, 2), [3, 2, 0]),                      # a zero length
    lambda lib: _pack(lib, (5, 3, 2), [2, 0, 1], enforce_sorted=False),
    lambda lib: _pack(lib, (5, 3, 2), [3, 2]),                         # len(lengths) != batch
    lambda lib: _pack(lib, (3, 5, 2), [3, 2], batch_first=True),
    lambda lib: _pack(lib, (5, 3, 2), lib.tensor([[3, 2, 1]])),        # 2-D lengths
    lambda lib: lib.nn.utils.rnn.pad_packed_sequence(
        lib.nn.utils.rnn.pack_sequence([lib.zeros(3)]), total_length=2),
    lambda lib: lib.nn.utils.rnn.pad_sequence([]),
    lambda lib: lib.nn.utils.rnn.pad_sequence([lib.zeros(2, 3)], padding_side="middle"),
    lambda lib: lib.nn.utils.rnn.pad_sequence([lib.zeros(3, 2), lib.zeros(2, 3)]),
    lambda lib: lib.nn.utils.rnn.pad_sequence(5),
])
def test_errors_as_torch(call):
    error, expected = assert_same_error(call)
    assert str(error) == str(expected) or "Expected iterable" in str(expected)


@pytest.mark.parametrize("cls,kwargs", [
    ("LSTM", {"num_layers": 2, "bidirectional": True}), ("LSTM", {"proj_size": 2}),
    ("GRU", {"num_layers": 2, "batch_first": True}), ("GRU", {"bidirectional": True}),
])
def test_padded_batch_packed_through_lstm_and_gru(cls, kwargs):
    """The usual variable-length recipe: pack_padded_sequence (unsorted lengths) -> layer ->
    pad_packed_sequence; outputs, final states and gradients to the padded input and weights."""
    t = getattr(torch.nn, cls)(3, 4, **kwargs).double()
    e = getattr(ember.nn, cls)(3, 4, **kwargs).double()
    copy_state(t, e)
    batch_first = kwargs.get("batch_first", False)
    lengths = [3, 6, 1, 4, 6]
    shape = (5, 6, 3) if batch_first else (6, 5, 3)
    x = np.random.default_rng(3).standard_normal(shape)
    results = []
    for lib, module in ((ember, e), (torch, t)):
        utils = lib.nn.utils.rnn
        xt = lib.tensor(x, requires_grad=True)
        packed = utils.pack_padded_sequence(xt, lib.tensor(lengths), batch_first=batch_first,
                                            enforce_sorted=False)
        out, hidden = module(packed)
        padded, _ = utils.pad_packed_sequence(out, batch_first=batch_first)
        states = list(hidden) if isinstance(hidden, tuple) else [hidden]
        loss = (padded * padded).sum() + sum((s * s * s).sum() for s in states)
        loss.backward()
        results.append([padded] + states + [xt.grad] + [p.grad for p in module.parameters()])
    for a, b in zip(*results):
        assert_same(a, b, 1e-9, 1e-11)


def test_gradcheck_through_packing_and_a_bidirectional_lstm():
    """Finite differences (float64) through pack_padded_sequence -> LSTM -> pad_packed_sequence,
    with unsorted lengths: the padded input and the initial states."""
    lstm = ember.nn.LSTM(2, 3, bidirectional=True).double()
    rng = np.random.default_rng(4)
    x = ember.tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    h0 = ember.tensor(rng.standard_normal((2, 3, 3)), requires_grad=True)
    c0 = ember.tensor(rng.standard_normal((2, 3, 3)), requires_grad=True)
    utils = ember.nn.utils.rnn

    def fn(x, h0, c0):
        packed = utils.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
        out, (h, c) = lstm(packed, (h0, c0))
        return utils.pad_packed_sequence(out)[0], h, c

    assert ember.autograd.gradcheck(fn, (x, h0, c0))
    assert ember.autograd.gradgradcheck(fn, (x, h0, c0))
