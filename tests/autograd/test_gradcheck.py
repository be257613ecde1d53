"""gradcheck/gradgradcheck (ember/autograd/gradcheck.py), long chains and once_differentiable."""

import numpy as np
import pytest
import torch
from torch.autograd.gradcheck import GradcheckError as TorchGradcheckError

import ember
from ember.autograd.gradcheck import GradcheckError as EmberGradcheckError

RNG = np.random.default_rng(0)
TOL = {"rtol": 1e-6, "atol": 1e-8}



# ---- deep graphs and gradcheck -------------------------------------------------------------------
def test_very_long_chain_has_no_recursion_error():
    x = ember.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_long_chain_higher_order():
    x = ember.tensor([0.3], dtype=ember.float64, requires_grad=True)
    y = x
    for _ in range(2000):
        y = y + x * x * 0.001  # y = x + 2x²
    (g,) = ember.autograd.grad(y.sum(), x, create_graph=True)
    assert abs(g.item() - (1 + 4 * 0.3)) < 1e-9
    (h,) = ember.autograd.grad(g.sum(), x)  # the 2000-op gradient is itself a graph
    assert abs(h.item() - 4.0) < 1e-9


def _wrong_backward_function():
    class WrongSquare(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            return gy * x  # should be 2·x

    return WrongSquare


def test_gradcheck_catches_a_wrong_backward():
    x = ember.from_numpy(RNG.standard_normal(3)).requires_grad_()
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(_wrong_backward_function().apply, (x,))
    assert ember.autograd.gradcheck(_wrong_backward_function().apply, (x,),
                                    raise_exception=False) is False
    assert ember.autograd.gradcheck(lambda v: v * v, (x,))


def test_gradcheck_error_is_runtime_error_like_torch():
    class TorchWrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            return gy * x

    x = torch.from_numpy(RNG.standard_normal(3)).requires_grad_()
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        torch.autograd.gradcheck(TorchWrong.apply, (x,))


def test_gradgradcheck():
    x = ember.from_numpy(RNG.standard_normal(3)).requires_grad_()
    assert ember.autograd.gradgradcheck(lambda v: (v * v).sin(), (x,))


def test_once_differentiable_double_backward_raises():
    class ArrayOnly(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @ember.autograd.once_differentiable
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            return 2 * x._data * gy._data

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = ArrayOnly.apply(x)
    (g,) = ember.autograd.grad((y * y).sum(), x, create_graph=True)  # gy = 2y needs grad
    assert g.tolist() == [4.0, 32.0]  # d(x⁴)/dx = 4x³
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()
    (g,) = ember.autograd.grad(ArrayOnly.apply(x).sum(), x, create_graph=True)
    assert not g.requires_grad  # a constant seed: nothing to differentiate, as in PyTorch


# ---- complex inputs and outputs (NOTE [gradcheck of complex functions]) --------------------------
def _square_function(lib, conjugate: bool):
    """z ↦ z² with the backward gy·conj(2z) (PyTorch's convention) or, wrongly, gy·2z."""

    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z * z

        @staticmethod
        def backward(ctx, gy):
            (z,) = ctx.saved_tensors
            local = 2 * z.detach()
            return gy * (local.conj() if conjugate else local)

    return Square


def _complex_leaf(lib, shape=(3,)):
    z = RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)
    return lib.from_numpy(z).requires_grad_()


@pytest.mark.parametrize("conjugate", [True, False])
def test_complex_gradcheck_agrees_with_torch(conjugate):
    verdicts = []
    for lib in (ember, torch):
        fn = _square_function(lib, conjugate).apply
        verdicts.append(lib.autograd.gradcheck(fn, (_complex_leaf(lib),), raise_exception=False))
    assert verdicts[0] is conjugate and verdicts[1] is conjugate


COMPLEX_CHECKS = {
    "holomorphic": (lambda z, w: (z * w).exp(), ("complex", "complex")),
    "complex_to_real": (lambda z: z.abs() * z.angle(), ("complex",)),
    "real_to_complex": (lambda x, y: ember.polar(x.abs() + 0.5, y), ("real", "real")),
    "mixed_operands": (lambda z, x: (z * x).sum(), ("complex", "real")),
    "several_outputs": (lambda z: (z.real, z.conj() * z, z.sgn()), ("complex",)),
    "view_as_real": (lambda z: ember.view_as_real(z.sqrt()), ("complex",)),
}


@pytest.mark.parametrize("name", sorted(COMPLEX_CHECKS))
def test_complex_gradcheck_and_gradgradcheck(name):
    fn, kinds = COMPLEX_CHECKS[name]
    leaves = [_complex_leaf(ember) if kind == "complex" else
              ember.from_numpy(RNG.standard_normal(3)).requires_grad_() for kind in kinds]
    assert ember.autograd.gradcheck(fn, leaves)
    assert ember.autograd.gradgradcheck(fn, leaves)


def test_complex_gradcheck_catches_a_missing_conjugate():
    z = _complex_leaf(ember)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(_square_function(ember, False).apply, (z,))


# ---- torch's messages, draws and verdicts ------------------------------------------------------
def _scaled_function(lib, once=False):
    """A Function whose backward is wrong (3 for 2), or right but once_differentiable."""
    class Scaled(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin() if once else x * 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.cos() if once else g * 3

    if once:
        Scaled.backward = staticmethod(lib.autograd.function.once_differentiable(
            Scaled.backward))
    return Scaled


@pytest.mark.parametrize("check", ["gradcheck", "gradgradcheck_once"])
def test_gradcheck_error_message_matches_torch(check):
    """GradcheckError (a RuntimeError) naming the output and input, Jacobians as tensors in
    torch's layout; gradgradcheck sees that a once_differentiable backward has no derivative."""
    messages = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([1.5], dtype=lib.float64, requires_grad=True)
        if check == "gradcheck":
            call = lambda: lib.autograd.gradcheck(  # noqa: E731
                lambda a, b: (a * b, _scaled_function(lib).apply(a)), (x, y))
        else:
            call = lambda: lib.autograd.gradgradcheck(  # noqa: E731
                _scaled_function(lib, once=True).apply, (x,))
        error = EmberGradcheckError if lib is ember else TorchGradcheckError
        with pytest.raises(error) as info:
            call()
        assert isinstance(info.value, RuntimeError)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_gradcheck_no_raise_float32_warning_and_no_input():
    for lib in (ember, torch):
        x = lib.tensor([0.5, 2.0], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradcheck(_scaled_function(lib).apply, (x,),
                                      raise_exception=False) is False
        with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double"):
            lib.autograd.gradcheck(lambda v: v * 2, (x.float().detach().requires_grad_(),),
                                   raise_exception=False)
        with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
            lib.autograd.gradcheck(lambda v: v * 2, (x.detach(),))


def test_gradgradcheck_draws_grad_outputs_as_torch():
    """torch's gradgradcheck draws its grad_outputs with make_tensor from the global
    generator: a seeded program's next draws follow."""
    draws = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        x = lib.tensor([0.5, 1.0], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradgradcheck(lambda v: (v ** 3, v.exp()), (x,))
        draws.append(lib.randn(3).tolist())
    assert draws[0] == draws[1]
