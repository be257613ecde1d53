"""The checks behind test_complex_opinfo.py and test_complex_opinfo_grad.py: PyTorch's operator
database (`op_db`) in complex64, every CPU entry that supports complex64.

test_opinfo.py runs each entry in its preferred dtype (float32 where it has one), so the complex
kernels of the ops, and their backward formulas under PyTorch's conjugate (Wirtinger)
convention, are checked here: values, shapes and dtypes of the function, method and in-place
variants, and the input gradients of Re Σ(out·w) for a complex weight w (a real weight on real
outputs), all against torch. The first three samples of each entry are used, as in test_opinfo.py.
Entries that fail today are strict xfails in XFAIL with the reason (the file to fix).
"""

import warnings
import zlib

import pytest
import torch

import ember
from tests.ops import _opinfo
from tests.ops._opinfo_grads import _swap, torch_grad_expected_to_fail
from tests.ops._opinfo_memory import tensors_in

DTYPE = torch.complex64

# Entries whose outputs are eigenvectors: LAPACK picks each vector's phase (MKL in torch,
# OpenBLAS in ember), so they compare through the sample's gauge-invariant
# output_process_fn_grad (op_db's own gradient tests do the same).
GAUGE = {"linalg.eigh", "linalg.eig"} | _opinfo.SIGN_FREE

XFAIL = {
    "chalf": "complex32 (NumPy has no complex32)",
}
KINDS = ("function", "method", "inplace", "grad")


def entries(kinds=KINDS):
    """(entry id, kind) of every CPU entry supporting complex64 (CUDA-only jiterators out)."""
    out = []
    for eid, info in _opinfo.ENTRIES.items():
        if DTYPE not in info.supported_dtypes("cpu") or eid.startswith("jiterator"):
            continue
        for kind in _opinfo.kinds(info):
            if kind in kinds:
                out.append((eid, kind))
    return out


def params(kinds):
    """pytest params of the checks of those kinds, XFAIL keys marked strict xfail."""
    params = []
    for eid, kind in entries(kinds):
        reason = XFAIL.get(f"{eid}:{kind}", XFAIL.get(eid))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(eid, kind, id=f"{eid}:{kind}", marks=marks))
    return params


def check(eid, kind):
    """The check `kind` of op_db entry eid in complex64 gives what torch gives."""
    info = _opinfo.ENTRIES[eid]
    torch_fn = {"function": info.op, "grad": info.op, "method": info.method_variant,
                "inplace": info.inplace_variant}[kind]
    ember_fn = _opinfo.resolve(torch_fn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        samples = _opinfo.samples(eid, DTYPE)
        assert samples, "no complex64 sample"
        for s in samples:
            if kind == "inplace" and s.broadcasts_input:
                continue
            _check_sample(eid, kind, torch_fn, ember_fn, s)


def _check_sample(eid, kind, torch_fn, ember_fn, s):
    """One sample through both libraries; values, then (grad/inplace) the input gradients."""
    memo = {}
    _opinfo.share_storages([s.input, list(s.args), list(s.kwargs.values())], memo)
    e_in = _opinfo.convert(s.input, memo)
    e_args, e_kwargs = _opinfo.convert(s.args, memo), _opinfo.convert(s.kwargs, memo)
    t_in = s.input
    if kind == "inplace":
        t_in, e_in = s.input.clone(), e_in.clone()
    try:
        t_out = torch_fn(t_in, *s.args, **s.kwargs)
    except Exception as error:  # noqa: BLE001 - torch refuses: ember must raise the same type
        with pytest.raises(type(error)):
            ember_fn(e_in, *e_args, **e_kwargs)
        return
    e_out = ember_fn(e_in, *e_args, **e_kwargs)
    rtol, atol = _opinfo.tolerances(eid, DTYPE)
    random = eid in _opinfo.RANDOM or _opinfo.ENTRIES[eid].name in _opinfo.RANDOM
    gauge = eid in GAUGE
    _opinfo.compare(e_out, t_out, rtol, atol, random or gauge)
    if gauge:
        _opinfo.compare(_opinfo._process(s, e_out, ember=True), _opinfo._process(s, t_out),
                        rtol, atol, where="output_process_fn_grad(output)")
    if kind == "inplace":
        _opinfo.compare(e_in, t_in, rtol, atol, random, "mutated input")
        if not _opinfo.ENTRIES[eid].supports_inplace_autograd:
            return
    if kind in ("grad", "inplace") and not random:
        try:
            _check_grads(eid, s, memo, _opinfo._process(s, e_out, ember=True),
                         _opinfo._process(s, t_out))
        except AssertionError:  # NOTE [Gradients OpInfo expects torch to get wrong]
            if kind != "grad" or not torch_grad_expected_to_fail(_opinfo.ENTRIES[eid]):
                raise
            _gradcheck_instead(s, torch_fn, ember_fn)


def _check_grads(eid, s, memo, e_out, t_out):
    """Backward of Re Σ out_i·w_i over the differentiable outputs; every input leaf's grad."""
    pairs = [(e, t) for e, t in zip(_opinfo._tensors(e_out), _opinfo._tensors(t_out))
             if t.requires_grad and (t.is_floating_point() or t.is_complex())]
    if not pairs:
        return
    generator = torch.Generator().manual_seed(zlib.crc32(eid.encode()))
    t_loss, e_loss = 0, 0
    for e, t in pairs:
        assert isinstance(e, ember.Tensor) and e.requires_grad, "ember output needs no grad"
        w = torch.randn(t.shape, generator=generator, dtype=t.dtype)
        t_term, e_term = (t * w).sum(), (e * _opinfo.convert(w, {})).sum()
        if t.is_complex():
            t_term, e_term = t_term.real, e_term.real
        t_loss, e_loss = t_loss + t_term, e_loss + e_term
    try:
        t_loss.backward()
    except RuntimeError:  # e.g. an in-place op overwrote a value its backward needs
        with pytest.raises(RuntimeError):
            e_loss.backward()
        return
    e_loss.backward()
    rtol, atol = _opinfo.tolerances(eid, DTYPE, grad=True)
    for key, e in memo.items():
        t = _opinfo._leaf_by_id(s, key)
        if t is None or not t.requires_grad or not t.is_leaf:
            continue
        if t.grad is None:
            assert e.grad is None or not e.grad.detach().numpy().any(), "grad where torch has none"
            continue
        assert e.grad is not None, "no grad where torch has one"
        _opinfo.compare(e.grad, t.grad, rtol, atol, where="grad")


def _gradcheck_instead(s, torch_fn, ember_fn):
    """torch's gradcheck fails on the sample in complex128 and ember's passes."""
    leaves = [t for t in tensors_in([s.input, s.args, s.kwargs]) if t.requires_grad]
    doubles = [t.detach().to(torch.complex128).requires_grad_() for t in leaves]

    def of_leaves(fn, lib):
        def call(*xs):
            swap = {id(t): x for t, x in zip(leaves, xs)}
            held = (lambda v: _opinfo.convert(v, {})) if lib is ember else (lambda v: v)
            args = [_swap(v, swap, held) for v in (s.input, s.args, s.kwargs)]
            out = _opinfo._process(s, fn(args[0], *args[1], **args[2]), ember=lib is ember)
            return tuple(tensors_in(out))
        return call

    assert not torch.autograd.gradcheck(of_leaves(torch_fn, torch), doubles,
                                        raise_exception=False), "torch's gradcheck passes"
    assert ember.autograd.gradcheck(of_leaves(ember_fn, ember),
                                    [_opinfo.convert(d, {}) for d in doubles])
