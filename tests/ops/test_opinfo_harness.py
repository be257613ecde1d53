"""The op_db harness itself (tests/ops/_opinfo.py, _opinfo_memory.py, _opinfo_grads.py): how it
converts samples and what it compares where torch's results need care (shared memory, tensors
ember cannot hold, seeded random ops, sign-free outputs, gradients OpInfo expects torch to get
wrong)."""

import types

import numpy as np
import pytest
import torch

import ember
from tests.ops import _opinfo
from tests.ops._opinfo_grads import gradcheck_instead, torch_grad_expected_to_fail


def _sample(input, *args, **kwargs):
    return types.SimpleNamespace(input=input, args=args, kwargs=kwargs,
                                 output_process_fn_grad=None, broadcasts_input=False)


def _convert_sample(s):
    memo = {}
    _opinfo.share_storages([s.input, list(s.args), list(s.kwargs.values())], memo)
    return (_opinfo.convert(s.input, memo), _opinfo.convert(s.args, memo),
            _opinfo.convert(s.kwargs, memo))


# ---- shared memory ---------------------------------------------------------------------------
def test_views_of_one_storage_stay_views_of_one_array():
    """gather's error input: index ind[1:] and out=ind[:1] view one storage; so do ember's."""
    ind = torch.tensor([2, 1, 0])
    e_in, (dim, index), kwargs = _convert_sample(_sample(ind.clone(), 0, ind[1:], out=ind[:1]))
    out = kwargs["out"]
    assert index.tolist() == [1, 0] and out.tolist() == [2]
    assert np.shares_memory(index._data, out._data) is False  # disjoint elements ...
    base = index._data.base if index._data.base is not None else index._data
    assert out._data.base is base  # ... of one array, as torch's are of one storage
    assert not np.shares_memory(e_in._data, index._data)  # the clone has its own memory


def test_overlapping_views_share_memory_and_strides():
    """A transposed view and a row of the same base: same values, strides, shared memory."""
    base = torch.arange(12.0).reshape(3, 4)
    a, (b,), _ = _convert_sample(_sample(base.mT, base[1]))
    assert a.tolist() == base.mT.tolist() and b.tolist() == base[1].tolist()
    assert [st // 4 for st in a._data.strides] == list(base.mT.stride())
    assert np.shares_memory(a._data, b._data)


def test_unshared_tensors_are_converted_as_before():
    """Tensors with storages of their own are separate copies (no base array)."""
    x, (y,), _ = _convert_sample(_sample(torch.ones(3), torch.zeros(3)))
    assert not np.shares_memory(x._data, y._data)
    assert x.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("lib_call", [
    lambda lib, ind: lib.gather(ind.clone(), 0, ind[1:], out=ind[:1]),
    lambda lib, ind: lib.take(ind.clone(), ind[1:], out=ind[:-1]),
])
def test_out_overlapping_index_raises_like_torch(lib_call):
    """With the sharing kept, ember refuses the overlap as torch does (RuntimeError)."""
    with pytest.raises(RuntimeError, match="single memory location") as expected:
        lib_call(torch, torch.tensor([2, 1, 0]))
    with pytest.raises(RuntimeError) as raised:
        lib_call(ember, ember.tensor([2, 1, 0]))
    assert str(raised.value) == str(expected.value)


# ---- tensors ember cannot hold -----------------------------------------------------------------
@pytest.mark.parametrize("tensor, cause", [
    (torch.zeros([1] * 65), RuntimeError),
    (torch.zeros(3, dtype=torch.int64, device="meta"), NotImplementedError),
])
def test_unholdable_tensors_are_refused_by_embers_constructor(tensor, cause):
    """65 dims or the meta device: ember's own constructor's error is the answer."""
    with pytest.raises(_opinfo.Refused) as refused:
        _opinfo.convert(tensor, {})
    assert type(refused.value.__cause__) is cause


# ---- seeded random ops ---------------------------------------------------------------------
def test_wrapper_set_seed_seeds_ember_like_torch():
    """op_db's wrapper_set_seed for ember: the draws torch's wrapper gives, the state kept."""
    from torch.testing._utils import wrapper_set_seed
    ember.manual_seed(3)
    before = ember.get_rng_state()
    e = _opinfo._ember_wrapper_set_seed(lambda n: ember.randn(n), 5)
    t = wrapper_set_seed(lambda n: torch.randn(n), 5)
    assert np.array_equal(e.numpy(), t.numpy())
    assert ember.get_rng_state().tolist() == before.tolist()


def test_rebound_op_db_lambda_uses_embers_seeding():
    """svd_lowrank's op_db lambda, rebound to ember, seeds ember's generator."""
    info = _opinfo.ENTRIES["svd_lowrank"]
    fn = _opinfo.resolve(info.op)
    a = ember.from_numpy(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    b = ember.from_numpy(np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32))
    first, second = fn(a, b, q=2), fn(a, b, q=2)
    for x, y in zip(first, second):
        assert np.array_equal(x.numpy(), y.numpy())


# ---- sign-free outputs ---------------------------------------------------------------------
def test_sign_free_entries_compare_the_processed_output():
    """svd_lowrank / pca_lowrank pass; a sign flip of one singular pair is not a mismatch,
    a changed singular value is."""
    for eid in _opinfo.SIGN_FREE:
        _opinfo.check(eid, "function")
    s = _opinfo.samples("svd_lowrank")[0]
    fn = s.output_process_fn_grad
    u, sv, v = torch.linalg.svd(torch.randn(4, 3), full_matrices=False)
    flip = torch.tensor([-1.0, 1.0, 1.0])
    same = fn((u * flip, sv, v.mH * flip))
    for x, y in zip(same, fn((u, sv, v.mH))):
        torch.testing.assert_close(x, y)
    with pytest.raises(AssertionError):
        torch.testing.assert_close(fn((u, sv * 2, v.mH))[1], fn((u, sv, v.mH))[1])


# ---- gradients OpInfo expects torch to get wrong -------------------------------------------
def test_only_marked_entries_fall_back_to_gradcheck():
    """as_strided_scatter's OpInfo expects torch's gradcheck to fail; add's does not."""
    assert torch_grad_expected_to_fail(_opinfo.ENTRIES["as_strided_scatter"])
    assert not torch_grad_expected_to_fail(_opinfo.ENTRIES["add"])
    assert not torch_grad_expected_to_fail(_opinfo.ENTRIES["as_strided"])


def test_torchs_as_strided_scatter_gradient_is_the_complement():
    """The evidence: torch's input gradient is 1 where src overwrites input, 0 elsewhere."""
    x = torch.zeros(3, 3, dtype=torch.float64, requires_grad=True)
    src = torch.zeros(2, 2, dtype=torch.float64)
    torch.as_strided_scatter(x, src, (2, 2), (1, 2)).sum().backward()
    written = torch.zeros(9, dtype=torch.float64)
    written[[0, 1, 2, 3]] = 1
    assert torch.equal(x.grad.reshape(-1), written)  # the true gradient is 1 - written
    e = ember.zeros(3, 3, dtype=ember.float64, requires_grad=True)
    ember.as_strided_scatter(e, ember.zeros(2, 2, dtype=ember.float64), (2, 2), (1, 2)).sum() \
        .backward()
    assert e.grad.reshape(-1).tolist() == (1 - written).tolist()


def _gradcheck(s, torch_fn, ember_fn):
    gradcheck_instead(s, torch_fn, ember_fn, to_ember=lambda v: _opinfo.convert(v, {}),
                      process=_opinfo._process)


def test_gradcheck_fallback_holds_ember_to_the_true_gradient():
    """The fallback passes for ember's as_strided_scatter and fails for a wrong gradient."""
    info = _opinfo.ENTRIES["as_strided_scatter"]
    s = _opinfo.samples("as_strided_scatter")[2]
    _gradcheck(s, info.op, ember.as_strided_scatter)

    def wrong(x, src, *args, **kwargs):  # no gradient reaches x at all
        return ember.as_strided_scatter(x.detach(), src, *args, **kwargs)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        _gradcheck(s, info.op, wrong)


def test_fallback_refuses_where_torchs_gradcheck_passes():
    """Should torch's gradient be right where ember's differs, the check fails."""
    s = _opinfo.samples("add")[0]
    with pytest.raises(AssertionError, match="whose gradcheck passes"):
        _gradcheck(s, torch.add, ember.add)


# ---- finding ember's callable ----------------------------------------------------------------
@pytest.mark.parametrize("overload", [torch.ops.aten.slice.Tensor,
                                      torch.ops.aten.native_dropout_backward.default])
def test_an_aten_overload_resolves_to_embers_overload(overload):
    """op_db's `aten.slice.Tensor` is that schema, not the packet: ember's packet would pick the
    `str` overload for a str self, where torch's Tensor overload refuses it (issue #19)."""
    assert _opinfo.resolve(overload).name() == overload.name()


def test_aten_slice_tensor_of_a_str_raises_as_torchs():
    for overload in (torch.ops.aten.slice.Tensor, _opinfo.resolve(torch.ops.aten.slice.Tensor)):
        with pytest.raises(RuntimeError, match="Expected a value of type 'Tensor'"):
            overload("a", 0)
