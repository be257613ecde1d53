"""ember.masked against torch.masked: every function with and without a mask (full-shape,
broadcast, partly and fully masked-out slices), dims and keepdim, float32/float64 values,
gradients, float64 finite differences, integer dtypes and the errors."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import (assert_same, assert_same_error, assert_same_grads, gradcheck64,
                                to_ember, to_torch)

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4, 5))
MASK = RNG.random((3, 4, 5)) > 0.4
MASK[0, 1] = False  # a fully masked-out row along the last dim
ROW_MASK = RNG.random((4, 1)) > 0.3  # broadcast over dims 0 and 2

REDUCTIONS = ["sum", "prod", "amax", "amin", "mean", "logsumexp", "var", "std", "norm"]
# name -> call(lib, x, mask) for the ops that need a dim or extra arguments
CALLS = {
    **{f"{name}_all": (lambda n: lambda lib, x, m: getattr(lib.masked, n)(x, mask=m))(name)
       for name in REDUCTIONS},
    **{f"{name}_dims": (lambda n: lambda lib, x, m: getattr(lib.masked, n)(
        x, (0, 2), keepdim=True, mask=m))(name) for name in REDUCTIONS if name != "norm"},
    "norm_dim": lambda lib, x, m: lib.masked.norm(x, 2.0, 1, mask=m),
    "norm_1": lambda lib, x, m: lib.masked.norm(x, 1.0, (0, 1), mask=m),
    "norm_inf": lambda lib, x, m: lib.masked.norm(x, float("inf"), -1, mask=m),
    "var_unbiased": lambda lib, x, m: lib.masked.var(x, 2, unbiased=False, mask=m),
    "std_correction": lambda lib, x, m: lib.masked.std(x, 1, correction=2, mask=m),
    "cumsum": lambda lib, x, m: lib.masked.cumsum(x, 2, mask=m),
    "cumprod": lambda lib, x, m: lib.masked.cumprod(x, -1, mask=m),
    "median": lambda lib, x, m: lib.masked.median(x, 1, mask=m),
    "median_keepdim": lambda lib, x, m: lib.masked.median(x, 0, keepdim=True, mask=m),
    "softmax": lambda lib, x, m: lib.masked.softmax(x, 1, mask=m),
    "log_softmax": lambda lib, x, m: lib.masked.log_softmax(x, 0, mask=m),
    "softmin": lambda lib, x, m: lib.masked.softmin(x, 1, mask=m),
    "normalize": lambda lib, x, m: lib.masked.normalize(x, 2.0, 1, mask=m),
    "logaddexp": lambda lib, x, m: lib.masked.logaddexp(x, x.flip(0), input_mask=m,
                                                        other_mask=m),
}
NONDIFF = {  # indices come out in the input's dtype, as torch gives them
    "argmax": lambda lib, x, m: lib.masked.argmax(x, 2, mask=m),
    "argmin_keepdim": lambda lib, x, m: lib.masked.argmin(x, 1, keepdim=True, mask=m),
}
MASKS = {"none": None, "full": MASK, "broadcast": ROW_MASK, "int64": MASK[0].astype(np.int64)}


def _run(call, dtype, mask, grad=True):
    """(ember output, torch output, ember leaf, torch leaf) of call on X and the mask."""
    t_x = torch.tensor(X, dtype=dtype, requires_grad=grad)
    e_x = to_ember(t_x)
    t_m = None if mask is None else torch.tensor(mask)
    return call(ember, e_x, to_ember(t_m)), call(torch, t_x, t_m), e_x, t_x


@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", CALLS)
def test_values_and_grads(name, dtype, mask):
    """Values, dtype and shape as torch, and the input gradient of a weighted sum."""
    e, t, e_x, t_x = _run(CALLS[name], dtype, MASKS[mask])
    tol = 1e-5 if dtype is torch.float32 else 1e-10
    assert_same(e, t, tol, tol)
    w = np.random.default_rng(1).standard_normal(tuple(t.shape))
    finite = torch.isfinite(t).detach()  # a fully masked-out slice: -inf / nan, no gradient
    t_w = torch.tensor(w, dtype=dtype)
    (t.where(finite, 0.0) * t_w).sum().backward()
    (e.where(to_ember(finite), 0.0) * to_ember(t_w)).sum().backward()
    assert_same_grads([e_x], [t_x], 10 * tol, 10 * tol)


@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("name", NONDIFF)
def test_arg_reductions(name, mask):
    e, t, _, _ = _run(NONDIFF[name], torch.float32, MASKS[mask], grad=False)
    assert_same(e, t, exact=True)


@pytest.mark.parametrize("name", ["sum", "prod", "amax", "amin", "argmax", "cumsum"])
@pytest.mark.parametrize("dtype", [torch.int32, torch.int64, torch.uint8])
def test_integer_inputs(name, dtype):
    """Identities of integer dtypes (iinfo bounds) and sum/prod's promotion to int64."""
    x = RNG.integers(0, 5, (3, 4))
    args = (1,) if name == "cumsum" else ()

    def call(lib, t, m):
        return getattr(lib.masked, name)(t, *args, mask=m)

    e = call(ember, ember.tensor(x, dtype=to_ember(dtype)), ember.tensor(MASK[0, :3, :4]))
    t = call(torch, torch.tensor(x, dtype=dtype), torch.tensor(MASK[0, :3, :4]))
    assert_same(e, t, exact=True)


@pytest.mark.parametrize("name", ["sum_all", "mean_dims", "var_all", "softmax", "normalize",
                                  "cumprod", "logsumexp_dims", "norm_dim", "logaddexp"])
def test_gradcheck(name):
    mask = ember.tensor(MASK)
    assert gradcheck64(lambda x: CALLS[name](ember, x, mask).nan_to_num(0.0, 0.0, 0.0), X)


def test_dtype_argument_and_zero_dim():
    """dtype= casts the result; a 0-d input with dim=0 keeps one dim; a 0-d mask broadcasts."""
    x = np.float32(2.5)
    e = ember.masked.sum(ember.tensor(X, dtype=ember.float32), 1, dtype=ember.float64,
                         mask=ember.tensor(ROW_MASK))
    t = torch.masked.sum(torch.tensor(X, dtype=torch.float32), 1, dtype=torch.float64,
                         mask=torch.tensor(ROW_MASK))
    assert_same(e, t)
    e = ember.masked.prod(ember.tensor(x), 0, keepdim=True, mask=ember.tensor(False))
    t = torch.masked.prod(torch.tensor(x), 0, keepdim=True, mask=torch.tensor(False))
    assert_same(e, t)


ERRORS = {
    "mask_too_many_dims": lambda lib, x: lib.masked.sum(x, mask=lib.ones(2, 3, 4, 5) > 0),
    "repeated_dim": lambda lib, x: lib.masked.sum(x, (1, 1)),
    "dim_out_of_range": lambda lib, x: lib.masked.amax(x, 3),
    "mean_of_ints": lambda lib, x: lib.masked.mean(x.long()),
    "median_int_fully_masked": lambda lib, x: lib.masked.median(
        x.long(), 2, mask=lib.zeros(3, 4, 5) > 0),
    "amax_of_bool": lambda lib, x: lib.masked.amax(x > 0, mask=x > 0),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    assert_same_error(ERRORS[name], to_torch(torch.tensor(X)))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["sum_all", "mean_dims", "amax_dims", "median", "softmax",
                                  "cumprod", "norm_dim", "var_all", "logaddexp"])
def test_16_bit(name, dtype):
    """float16/bfloat16 results: torch's dtype, and its values to 16-bit precision."""
    x = (X * 0.5).astype(np.float32)
    t_x = torch.from_numpy(x).to(getattr(torch, dtype))
    e_x = ember.from_numpy(x).to(getattr(ember, dtype))
    e = CALLS[name](ember, e_x, ember.tensor(MASK))
    t = CALLS[name](torch, t_x, torch.tensor(MASK))
    assert str(e.dtype) == str(t.dtype)
    assert_same(e.float(), t.float(), rtol=2e-2, atol=2e-2)


DIM_TENSORS = {"int_1d": [1], "int_0d": 1, "float_1d": [1.0], "float_0d": 1.0,
               "repeated_float": [0.0, 3.0], "two_by_two": [[0, 1], [1, 2]]}


@pytest.mark.parametrize("name", ["sum", "amax", "softmax", "cumsum", "mean"])
@pytest.mark.parametrize("dim", DIM_TENSORS)
def test_a_tensor_as_dim(name, dim):
    """A tensor dim goes through torch.masked's own checks first (repeats, range, a tensor
    used as a bool) and then the op's argument parser (an integer tensor is a dim, a float
    tensor a TypeError)."""
    def call(lib, x):
        return getattr(lib.masked, name)(x, lib.tensor(DIM_TENSORS[dim]))

    x = torch.tensor(X[0])
    try:
        expected = call(torch, x)
    except Exception:  # noqa: BLE001 - the class is what is compared
        assert_same_error(call, x)
        return
    assert_same(call(ember, to_ember(x)), expected)
