"""torch.return_types: the classes of ops' named-tuple results, their `_out` twins, pickling."""

import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, run_both

CALLS = [
    ("max", lambda m, t: m.max(t, 1)), ("min", lambda m, t: m.min(t, 0)),
    ("sort", lambda m, t: m.sort(t)), ("topk", lambda m, t: m.topk(t, 2)),
    ("kthvalue", lambda m, t: m.kthvalue(t, 2)), ("median", lambda m, t: m.median(t, 1)),
    ("mode", lambda m, t: m.mode(t, 1)), ("cummax", lambda m, t: m.cummax(t, 0)),
    ("aminmax", lambda m, t: m.aminmax(t)), ("frexp", lambda m, t: m.frexp(t)),
    ("linalg_qr", lambda m, t: m.linalg.qr(t)), ("linalg_svd", lambda m, t: m.linalg.svd(t)),
]


@pytest.mark.parametrize("name, call", CALLS, ids=[c[0] for c in CALLS])
def test_result_is_an_instance_of_its_return_type(name, call):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    e, t = run_both(call, x)
    assert type(t).__name__ == type(e).__name__ == name
    assert isinstance(e, getattr(ember.return_types, name))
    assert isinstance(t, getattr(torch.return_types, name))
    assert repr(e) == repr(t)


@pytest.mark.parametrize("op", ["max", "min", "sort", "topk", "median"])
def test_out_call_returns_the_out_twin(op):
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)

    def call(m, t):
        v, i = m.empty(0), m.empty(0, dtype=m.long)
        args = (2,) if op == "topk" else (1,)
        result = getattr(m, op)(t, *args, out=(v, i))
        assert result.values is v and result.indices is i
        return result

    e, t = run_both(call, x)
    assert type(e).__name__ == type(t).__name__ == op + "_out"
    assert isinstance(e, getattr(ember.return_types, op + "_out"))
    assert repr(e) == repr(t)


def test_resizing_a_nonempty_out_warns_as_torch():
    def call(m):
        out = m.zeros(3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m.max(m.arange(12.0).reshape(3, 4), out=out)
        return out, [str(w.message) for w in caught]

    (e, e_msgs), (t, t_msgs) = call(ember), call(torch)
    assert_same(e, t)
    assert e_msgs == t_msgs and len(t_msgs) == 1


def test_results_pickle_as_their_return_type():
    r = ember.sort(ember.tensor([3.0, 1.0, 2.0]))
    back = pickle.loads(pickle.dumps(r))
    assert type(back) is ember.return_types.sort
    assert back.indices.tolist() == [1, 2, 0]


def test_return_type_counts_fields_as_torch():
    for name in ("max", "linalg_svd", "linalg_lstsq"):
        e, t = getattr(ember.return_types, name), getattr(torch.return_types, name)
        assert (e.n_fields, e.n_sequence_fields, e.n_unnamed_fields) == (
            t.n_fields, t.n_sequence_fields, t.n_unnamed_fields)
    assert {c.__name__ for c in torch.return_types.all_return_types} <= {
        c.__name__ for c in ember.return_types.all_return_types}
