"""`out=`: which dtypes an op's out may have, what it computes in, its autograd refusals
(ember/_out_dtypes.py, ember/ops/_out_rules.py), torch against ember."""

import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, run_both
from tests.ops import _out_sweep

# entries whose out= still differs from torch's in some form (what differs: `python -m
# tests.ops._out_sweep NAME` shows how)
LEFT = {
    "arange": "warnings",
    "addbmm": "warnings",
    "cross": "warnings",
    "sparse.sampled_addmm": "same, resized, empty, dtype rule, autograd refusal",
    "frexp": "dtype rule",
    "heaviside": "dtype rule",
    "nn.functional.normalize": "same, warnings, empty, dtype rule, autograd refusal",
    "native_batch_norm": "no out=",
    "_native_batch_norm_legit": "no out=",
    "nn.functional.linear": "warnings (a 1-D input: torch resizes out twice)",
    "torch._scaled_mm_v2": "dtype rule, autograd refusal",
    "torch._scaled_mm": "autograd refusal",
    "nn.functional.logsigmoid": "warnings (torch resizes its out silently)",
    "mode": "warnings",
    "narrow_copy": "warnings",
    "svd": "autograd refusal",
    "bernoulli": "resized, empty, dtype rule, autograd refusal",
    "_chunk_cat": "no out=",
    "histc": "autograd refusal",
    "norm.nuc": "dtype rule, autograd refusal",
    "hash_tensor": "no out=",
}


@pytest.mark.parametrize("eid", [e for e in _out_sweep.entries() if e not in LEFT])
def test_out_forms_agree_with_torch(eid):
    """Every op_db op taking out=: right dtype, resized, empty, each other dtype, requiring
    grad, and an input requiring grad (tests/ops/_out_sweep.py)."""
    assert _out_sweep.disagreements(eid) == []


def test_a_float_result_is_refused_by_an_integer_out():
    """`mul(1.0, 2.0, out=long)` is torch's cast error, as is a float reduction into it."""
    for fn in (lambda m: m.mul(1.0, 2.0, out=m.zeros((), dtype=m.long)),
               lambda m: m.add(m.ones(3), 1, out=m.zeros(3, dtype=m.long)),
               lambda m: m.std(m.ones(2, 3), 0, out=m.zeros(3, dtype=m.long)),
               lambda m: m.sin(m.ones(3), out=m.zeros(3, dtype=m.bool))):
        assert_same_error(fn, same_message=True, exact_type=True)


def test_reductions_compute_in_out_dtype():
    """sum/prod/cumsum cast the input to out's dtype first; mean, std over a dim take a wider
    out's dtype; all/any into uint8 reduce the input cast to uint8."""
    x = torch.randn(3, 4).numpy() * 3
    for fn in (lambda m, a: m.sum(a, 0, out=m.zeros(4, dtype=m.long)),
               lambda m, a: m.prod(a, 1, out=m.zeros(3, dtype=m.long)),
               lambda m, a: m.cumsum(a, 1, out=m.zeros(3, 4, dtype=m.int32)),
               lambda m, a: m.mean(a, 0, out=m.zeros(4, dtype=m.float64)),
               lambda m, a: m.std(a, 0, out=m.zeros(4, dtype=m.float64)),
               lambda m, a: m.var(a, out=m.zeros((), dtype=m.complex64)),
               lambda m, a: m.nansum(a, 0, out=m.zeros(4, dtype=m.float64)),
               lambda m, a: m.logsumexp(a, 0, out=m.zeros(4, dtype=m.float64)),
               lambda m, a: m.all(a / 10, 0, out=m.zeros(4, dtype=m.uint8)),
               lambda m, a: m.argmax(a, 1, out=m.zeros(3, dtype=m.long))):
        e, t = run_both(fn, x)
        assert_same(e, t, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("call", [
    lambda m, t: m.sum(t, 0, dtype=m.float64, out=m.zeros(4)),
    lambda m, t: m.mean(t, out=m.zeros((), dtype=m.long)),
    lambda m, t: m.nansum(t, 0, dtype=m.float64, out=m.zeros(4)),
    lambda m, t: m.logsumexp(t, 0, out=m.zeros(4, dtype=m.bool)),
    lambda m, t: m.any(t, 0, out=m.zeros(4, dtype=m.long)),
    lambda m, t: m.argmin(t, 0, out=m.zeros(4, dtype=m.int32)),
    lambda m, t: m.abs(t, out=m.zeros(3, 4, dtype=m.float64)),
    lambda m, t: m.dot(t[0], t[1], out=m.zeros((), dtype=m.float64)),
    lambda m, t: m.where(t > 0, t, t, out=m.zeros(3, 4, dtype=m.float64)),
    lambda m, t: m.cumsum(t, 0, out=m.zeros(3, 4, dtype=m.bool)),
    lambda m, t: m.sum(t, 0, out=m.zeros(4, requires_grad=True)),
    lambda m, t: m.var(t, 0, out=m.zeros(4, dtype=m.complex64)),
    lambda m, t: m.zeros(3, dtype=m.float32, out=m.zeros(3, dtype=m.float64)),
])
def test_out_refusals_are_torchs(call):
    """The op's own refusal of out's dtype, or of an out requiring grad."""
    x = torch.randn(3, 4).numpy()
    assert_same_error(lambda m: call(m, m.tensor(x)), same_message=True, exact_type=True)


def _factory_outcome(m, call, out, grad):
    """(dtype, shape, requires_grad, values) of out after a factory call, or the error."""
    try:
        with m.set_grad_enabled(grad):
            result = call(m, out)
    except RuntimeError as error:
        return str(error)
    assert result is out
    return str(out.dtype), tuple(out.shape), out.requires_grad, out.detach().tolist()


@pytest.mark.parametrize("call", [
    lambda m, o: m.zeros(3, out=o), lambda m, o: m.full((3,), 2.0, out=o),
    lambda m, o: m.arange(3, out=o), lambda m, o: m.linspace(0, 1, 3, out=o),
    lambda m, o: m.eye(2, out=o), lambda m, o: m.randint(5, (3,), out=o),
    lambda m, o: m.randn(3, out=o), lambda m, o: m.rand(3, out=o),
    lambda m, o: m.randperm(3, out=o), lambda m, o: m.zeros(3, out=o, requires_grad=True),
])
@pytest.mark.parametrize("grad", [True, False])
def test_factory_outs(call, grad):
    """A factory's out=: its dtype, a silent resize (arange keeps a same-sized shape), an out
    requiring grad refused while grad is on (randn: always), and out's requires_grad set to the
    call's requires_grad= after (`zeros(3, out=t)` under no_grad makes t need no grad)."""
    for make in (lambda m: m.zeros(3, dtype=m.long), lambda m: m.zeros(1, 3),
                 lambda m: m.zeros(7), lambda m: m.zeros(3, requires_grad=True)):
        outcomes = []
        for m in (ember, torch):
            m.manual_seed(0)
            outcomes.append(_factory_outcome(m, call, make(m), grad))
        assert outcomes[0] == outcomes[1]
