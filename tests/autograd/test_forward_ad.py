"""torch.autograd.forward_ad against torch: the forward-mode AD tutorial's programs (a function
of two duals, a module with dual parameters set by setattr and through functional_call), J·t
for a batch of ops, primal/tangent of what depends on no dual, reverse mode through a dual
whose primal requires grad, levels and refusals."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, to_ember, to_torch

RNG = np.random.default_rng(0)


def _tangent_of(lib, convert, fn, primals, tangents):
    """unpack_dual(fn(*duals)) in one library: (primal, tangent)."""
    fwad = lib.autograd.forward_ad
    with fwad.dual_level():
        duals = [fwad.make_dual(convert(p), convert(t)) for p, t in zip(primals, tangents)]
        return fwad.unpack_dual(fn(lib, *duals))


FUNCTIONS = {
    "squares": lambda lib, x, y: x ** 2 + y ** 2,
    "matmul_tanh": lambda lib, x, y: (x @ y.T).tanh().sum(1),
    "softmax_log": lambda lib, x, y: lib.log_softmax(x * y, dim=-1),
    "views": lambda lib, x, y: (x.t().reshape(-1)[2:] * y.flatten()[:-2]).cumsum(0),
    "reduce": lambda lib, x, y: (x.exp() / (1 + y.abs())).mean(),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_tangents_match_torch(name):
    primals = [RNG.standard_normal((3, 3)), RNG.standard_normal((3, 3))]
    tangents = [RNG.standard_normal((3, 3)), RNG.standard_normal((3, 3))]
    e = _tangent_of(ember, to_ember, FUNCTIONS[name], primals, tangents)
    t = _tangent_of(torch, to_torch, FUNCTIONS[name], primals, tangents)
    assert_same(e.primal.detach(), t.primal.detach())
    assert_same(e.tangent, t.tangent)


def _module_jvp(lib, convert, way):
    """The tutorial's Linear(5, 5) with dual parameters: out and its tangent."""
    lib.manual_seed(0)
    model = lib.nn.Linear(5, 5)
    x = convert(RNG_FIXED["input"])
    params = dict(model.named_parameters())
    tangents = {name: convert(RNG_FIXED[name]) for name in params}
    fwad = lib.autograd.forward_ad
    with fwad.dual_level():
        if way == "setattr":
            for name, p in params.items():
                delattr(model, name)
                setattr(model, name, fwad.make_dual(p, tangents[name]))
            out = model(x)
        else:
            duals = {name: fwad.make_dual(p, tangents[name]) for name, p in params.items()}
            out = lib.func.functional_call(model, duals, (x,))
        return fwad.unpack_dual(out)


_fixed = np.random.default_rng(1)
RNG_FIXED = {"input": _fixed.standard_normal((16, 5)).astype(np.float32),
             "weight": _fixed.random((5, 5)).astype(np.float32),
             "bias": _fixed.random(5).astype(np.float32)}


@pytest.mark.parametrize("way", ["setattr", "functional_call"])
def test_module_with_dual_parameters(way):
    e, t = _module_jvp(ember, to_ember, way), _module_jvp(torch, to_torch, way)
    assert_same(e.primal.detach(), t.primal.detach())
    assert_same(e.tangent, t.tangent)


def test_no_dual_no_tangent_and_reverse_through_a_dual():
    for lib in (ember, torch):
        fwad = lib.autograd.forward_ad
        with fwad.dual_level() as level:
            assert level == 0
            plain = lib.ones(3)
            assert fwad.unpack_dual(plain).tangent is None
            q = lib.ones(3, requires_grad=True)
            z = (fwad.make_dual(q, lib.tensor([1.0, 2.0, 3.0])) ** 2).sum()
            assert float(fwad.unpack_dual(z).tangent.detach()) == 12.0
            z.backward()
            assert q.grad.tolist() == [2.0, 2.0, 2.0]
        assert fwad.unpack_dual(z).tangent is None  # the level is gone


@pytest.mark.parametrize("case", ["no_level", "size", "int_primal", "nested", "exit_wrong"])
def test_refusals_as_torch(case):
    def run(lib):
        fwad = lib.autograd.forward_ad
        if case == "no_level":
            return fwad.make_dual(lib.ones(2), lib.ones(2))
        if case == "exit_wrong":
            return fwad.exit_dual_level(level=3)
        with fwad.dual_level():
            if case == "size":
                fwad.make_dual(lib.ones(3), lib.ones(4))
            elif case == "int_primal":
                fwad.make_dual(lib.arange(3), lib.arange(3))
            else:
                with fwad.dual_level():
                    pass
    assert_same_error(run)


def _exp_function(lib, with_backward):
    """The tutorial's Fn: exp with a jvp (and, if asked, a backward under the name vjp)."""
    class Fn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, foo):
            result = lib.exp(foo)
            ctx.result = result
            return result

        @staticmethod
        def jvp(ctx, g_in):
            g_out = g_in * ctx.result
            del ctx.result  # (the tutorial's: jvp runs once per forward)
            return g_out

    if with_backward:
        Fn.vjp = staticmethod(lambda ctx, g: g * 2)
    return Fn


def test_a_function_defined_by_its_jvp_alone():
    """The tutorial's custom Function with only jvp: forward mode gives gI·exp(x),
    gradcheck(check_forward_ad=True, check_backward_ad=False) passes, backward refuses."""
    primal = RNG.standard_normal((3, 4))
    tangent = RNG.standard_normal((3, 4))
    seen = []
    for lib, convert in ((ember, to_ember), (torch, to_torch)):
        fn = _exp_function(lib, False).apply
        with lib.autograd.forward_ad.dual_level():
            dual = lib.autograd.forward_ad.make_dual(convert(primal), convert(tangent))
            jvp = lib.autograd.forward_ad.unpack_dual(fn(dual)).tangent
        checked = lib.autograd.gradcheck(fn, (convert(primal).requires_grad_(),),
                                         check_forward_ad=True, check_backward_ad=False,
                                         check_undefined_grad=False, check_batched_grad=False)
        seen.append((jvp, checked))
    assert_same(*[jvp for jvp, _ in seen])
    assert seen[0][1] is seen[1][1] is True
    assert_same_error(lambda lib: _exp_function(lib, False).apply(
        lib.ones(2, requires_grad=True)).sum().backward(), same_message=True, exact_type=True)


def test_vjp_is_backwards_other_name():
    grads = []
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        _exp_function(lib, True).apply(x).sum().backward()
        grads.append(x.grad)
    assert_same(*grads)


def test_dual_tensors_print_their_tangent_as_torch():
    """repr in a dual level shows `tangent=` and none of the requires_grad / grad_fn ember's
    duals carry for its double backward; a dual of a leaf requiring grad is a view."""
    printed = []
    for lib in (ember, torch):
        fwad = lib.autograd.forward_ad
        p = lib.tensor([1.0, 2.0])
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        t = lib.tensor([1.0, 0.0])
        with fwad.dual_level():
            d = fwad.make_dual(p, t)
            dw = fwad.make_dual(w, lib.ones(2))
            lines = [repr(d), repr(d * 2), repr(w * 2), repr(dw), repr(d[:0] + 1),
                     fwad.unpack_dual(d).tangent is t, repr(p)]
            transposed = lib.ones(2, 3)
            dual_t = fwad.make_dual(lib.zeros(3, 2), transposed.T)
            lines += [fwad.unpack_dual(dual_t).tangent is transposed.T,
                      fwad.unpack_dual(dual_t).tangent.stride()]
        printed.append(lines + [repr(d)])
    assert printed[0] == printed[1]
