"""gradcheck/gradgradcheck (ember/autograd/gradcheck.py), long chains and once_differentiable."""

import numpy as np
import pytest
import torch

import ember

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
