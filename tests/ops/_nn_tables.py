"""Builders of the table-driven tests shared by the nn op families of ember/ops.

conv.py, conv_transpose.py and fold.py (tests/ops/test_conv.py, test_conv_transpose.py,
test_fold.py), pool.py, pool_avg.py and pool_adaptive.py (test_pool*.py) and padding.py
(test_padding.py) are tested the same way: a file owns its table of calls, cases
`id -> (call(F, *inputs), input shapes)` where F is `ember.nn.functional` or
`torch.nn.functional` (a single shape stands for one input), and gets the generic tests by
calling a builder, e.g. `test_float64_values_and_grads = forward_backward(RNG, CASES, ...)`;
each builder returns one parametrised test function, which pytest collects under the name it is
bound to. `rng` is the test module's `RNG` (tests/conftest.py reseeds it for every test id).
Errors tables map `id -> call(F, lib)`.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from tests.differential import assert_same, assert_same_error


def functional(lib):
    """The functional namespace of lib (ember.nn.functional or torch.nn.functional)."""
    return EF if lib is ember else TF


def shape_list(shapes):
    """A case's input shapes as a list: one shape (a tuple of ints) stands for one input."""
    return [shapes] if shapes and isinstance(shapes[0], int) else list(shapes)


def randn(rng, shapes, dtype=np.float64):
    """Standard-normal arrays of dtype, one per shape (None stays None)."""
    return [None if s is None else rng.standard_normal(s).astype(dtype) for s in shapes]


def run(call, lib, arrays, requires_grad=True):
    """(call(F, *tensors), tensors): fresh leaves of lib made from arrays (None stays None)."""
    tensors = [None if a is None else lib.tensor(a.copy(), requires_grad=requires_grad)
               for a in arrays]
    return call(functional(lib), *tensors), tensors


def first(result):
    """The values of a (values, indices) result; a tensor as it is."""
    return result[0] if isinstance(result, tuple) else result


def check_against_torch(rng, call, arrays, tol):
    """Same inputs into ember and torch: the output (and int64 indices, exactly), then every
    input's gradient for a seeded output gradient."""
    ye, te = run(call, ember, arrays)
    yt, tt = run(call, torch, arrays)
    if isinstance(yt, tuple):
        assert ye[1].dtype == ember.int64
        assert ye[1].tolist() == yt[1].tolist()
        ye, yt = ye[0], yt[0]
    assert_same(ye, yt, tol, tol)
    dtype = next(a for a in arrays if a is not None).dtype
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    for e, t in zip(te, tt):
        if t is not None:
            assert_same(e.grad, t.grad, tol, tol)


def ties(rng, shape):
    """Small integers in [0, 2]: many ties, so a pooling gradient must land where torch's does."""
    return rng.integers(0, 3, shape)


def positive(rng, shape):
    """float64 values in [0.1, ∞) (lp_pool's power of a negative input is not real)."""
    return np.abs(rng.standard_normal(shape)) + 0.1


# ---- builders ---------------------------------------------------------------------------------
def forward_backward(rng, cases, dtype, tol, draw=None):
    """Every case: output and input gradients match torch, inputs of dtype.

    draw(rng, shape) makes one input (standard normal by default)."""
    @pytest.mark.parametrize("case", cases)
    def test(case):
        call, shapes = cases[case]
        shapes = shape_list(shapes)
        arrays = (randn(rng, shapes, dtype) if draw is None else
                  [None if s is None else draw(rng, s).astype(dtype) for s in shapes])
        check_against_torch(rng, call, arrays, tol)
    return test


def batch_one_shapes(keep=()):
    """shapes for `gradcheck_float64`: batch of one, spatial sizes cut to at most 4 (the cases
    in keep keep their spatial sizes), so finite differences stay cheap."""
    def shapes_for(case, shapes):
        small = [None if s is None else tuple(min(d, 4) if i >= 2 else d
                                              for i, d in enumerate(s)) for s in shapes]
        if case in keep:
            small = list(shapes)
        small[0] = (1,) + tuple(small[0][1:])
        return small
    return shapes_for


def gradcheck_float64(rng, cases, names, shapes_for=None):
    """ember's finite-difference gradcheck of the cases names (of their values output), on
    float64 inputs of the case's shapes, or shapes_for(case, shapes)."""
    @pytest.mark.parametrize("case", names)
    def test(case):
        call, shapes = cases[case]
        shapes = shape_list(shapes)
        if shapes_for is not None:
            shapes = shapes_for(case, shapes)
        inputs = [ember.tensor(a, requires_grad=True) for a in randn(rng, shapes)
                  if a is not None]
        assert ember.autograd.gradcheck(lambda *t: first(call(EF, *t)), inputs)
    return test


def input_weight_double_backward(rng, cases, names):
    """d/d(x, w) of <grad_x(y), v> + |grad_w(y)|² matches torch (conv's backward written with
    conv ops)."""
    @pytest.mark.parametrize("case", names)
    def test(case):
        call, shapes = cases[case]
        arrays = randn(rng, shapes)
        results = []
        for lib in (ember, torch):
            y, tensors = run(call, lib, arrays)
            x, w = tensors[0], tensors[1]
            g = lib.tensor(np.linspace(-1, 1, int(np.prod(y.shape))).reshape(tuple(y.shape)))
            gx, gw = (lib.autograd.grad((y * g).sum(), [x, w], create_graph=True))
            v = lib.tensor(np.cos(np.arange(int(np.prod(gx.shape)))).reshape(tuple(gx.shape)))
            total = (gx * v).sum() + (gw * gw).sum()
            results.append(lib.autograd.grad(total, [x, w]))
        for e, t in zip(*results):
            assert_same(e, t, 1e-8, 1e-8)
    return test


def input_double_backward(rng, cases, names):
    """d/dx of <grad_x(|y|²), v> matches torch (one input; y the values output)."""
    @pytest.mark.parametrize("case", names)
    def test(case):
        call, shape = cases[case]
        array = rng.standard_normal(shape)
        results = []
        for lib in (ember, torch):
            y, (x,) = run(call, lib, [array])
            y = first(y)
            (gx,) = lib.autograd.grad((y * y).sum(), [x], create_graph=True)
            v = lib.tensor(np.sin(np.arange(int(np.prod(shape)))).reshape(shape))
            results.append(lib.autograd.grad((gx * v).sum(), [x])[0])
        assert_same(results[0], results[1], 1e-10, 1e-10)
    return test


def gradgradcheck_float64(rng, cases, names):
    """ember's gradgradcheck in (x, w) of the cases names (batch of one; the bias, if the case
    has one, is None)."""
    @pytest.mark.parametrize("case", names)
    def test(case):
        call, shapes = cases[case]
        x, w = (ember.tensor(a, requires_grad=True)
                for a in randn(rng, [(1,) + tuple(shapes[0][1:]), shapes[1]]))
        with_bias = len(shapes) == 3

        def f(x, w):
            return call(EF, x, w, None) if with_bias else call(EF, x, w)

        assert ember.autograd.gradgradcheck(f, [x, w])
    return test


def batch_blocks(rng, cases, names):
    """With a tiny block budget every batch item is its own block (NOTE [Batch blocks] in
    ember/ops/_conv_kernels.py): float64 and float32 (batch of 5) still match torch."""
    @pytest.mark.parametrize("case", names)
    def test(case, monkeypatch):
        import ember.ops._conv_kernels

        monkeypatch.setattr(ember.ops._conv_kernels, "_BLOCK_BYTES", 1)
        call, shapes = cases[case]
        check_against_torch(rng, call, randn(rng, shapes, np.float64), 1e-9)
        check_against_torch(rng, call, randn(rng, [(5,) + shapes[0][1:]] + shapes[1:],
                                             np.float32), 2e-4)
    return test


def grad_fn_names(rng, cases, names):
    """The output's grad_fn has torch's name (of the values output)."""
    @pytest.mark.parametrize("case", names)
    def test(case):
        call, shapes = cases[case]
        arrays = randn(rng, shape_list(shapes))
        ye, _ = run(call, ember, arrays)
        yt, _ = run(call, torch, arrays)
        assert first(ye).grad_fn.name() == first(yt).grad_fn.name()
    return test


def errors_match_torch(errors):
    """Every call of errors (`id -> call(F, lib)`) raises torch's exception type and message."""
    @pytest.mark.parametrize("case", errors)
    def test(case):
        assert_same_error((lambda: errors[case](EF, ember), lambda: errors[case](TF, torch)),
                          same_message=True)
    return test


def bias_of_another_dtype(rng, cases, out_channels_axis):
    """A test over cases {name: (function, kwargs, dtype, input shape, weight shape, bias dtype,
    refuses)}: a convolution with a bias of another dtype than its input computes what torch
    computes or refuses with torch's message (NOTE [A bias of another dtype]). The bias has
    the weight's size along out_channels_axis (0 for conv, 1 for conv_transpose)."""
    @pytest.mark.parametrize("case", cases)
    def test(case):
        name, kwargs, dtype, x_shape, w_shape, b_dtype, refuses = cases[case]
        x = rng.standard_normal(x_shape).astype(dtype)
        w = rng.standard_normal(w_shape).astype(dtype)
        b = (rng.standard_normal(w_shape[out_channels_axis]) * 3).astype(b_dtype)

        def call(lib):
            return getattr(functional(lib), name)(lib.tensor(x), lib.tensor(w), lib.tensor(b),
                                                  **kwargs)

        if refuses:
            assert_same_error((lambda: call(ember), lambda: call(torch)), same_message=True)
        else:
            assert_same(call(ember), call(torch), 1e-5, 1e-5)
    return test


def bias_grad_in_its_dtype(rng, name, kwargs, x_shape, w_shape, out_channels_axis):
    """A float64 bias on a float32 convolution gets torch's gradient, in float64 (a kernel that
    takes a bias of another dtype casts it differentiably: NOTE [A bias of another dtype])."""
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[out_channels_axis])
    grads = []
    for lib in (ember, torch):
        bias = lib.tensor(b, requires_grad=True)
        out = getattr(functional(lib), name)(lib.tensor(x), lib.tensor(w), bias, **kwargs)
        out.sum().backward()
        grads.append(bias.grad)
    assert_same(*grads)
