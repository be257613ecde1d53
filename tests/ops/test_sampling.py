"""Random sampling (ember/ops/sampling.py): PyTorch's parameter checks, shapes, dtypes and the
statistics of each distribution (the streams are ember's own, so values are not compared)."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import error_of


@pytest.mark.parametrize("call", [
    lambda m: m.zeros(10).normal_(0, -1), lambda m: m.zeros(10).uniform_(3, -1),
    lambda m: m.zeros(10).exponential_(0), lambda m: m.zeros(10).cauchy_(0, 0),
    lambda m: m.zeros(10).geometric_(-1), lambda m: m.zeros(10).geometric_(1.5),
    lambda m: m.zeros(10).log_normal_(0, 0), lambda m: m.normal(m.zeros(3), -m.ones(3)),
    lambda m: m.multinomial(m.ones(1, 2, 3), 2),
    lambda m: m.multinomial(m.ones(2, dtype=m.int64), 1),
    lambda m: m.multinomial(m.ones(2), 0), lambda m: m.multinomial(m.ones(2), 3),
    lambda m: m.multinomial(m.tensor([1.0, -1.0]), 1),
    lambda m: m.multinomial(m.zeros(3), 1),
    lambda m: m.multinomial(m.ones(2), 1, out=m.zeros(1)),
    lambda m: m.bernoulli(m.rand(6), out=m.rand(1).expand(6)),
    # issue #19's fuzz: dtypes the kernels refuse, and a non-tensor through the unbound method
    lambda m: m.bernoulli(m.tensor([True])), lambda m: m.bernoulli(m.tensor([1, 0])),
    lambda m: m.Tensor.cauchy_(m.tensor([1])), lambda m: m.Tensor.cauchy_(m.ones(0).long()),
    lambda m: m.Tensor.cauchy_([1.0, 2.0]), lambda m: m.Tensor.geometric_(None, 0.5),
    lambda m: m.Tensor.geometric_(m.tensor([True]), 0.5)])
def test_parameter_errors(call):
    """The exception types torch raises for bad distribution parameters."""
    assert type(error_of(lambda: call(ember))) is type(error_of(lambda: call(torch)))


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "uint8"])
def test_multinomial_dtype_error_names_the_scalar_type(dtype):
    """torch's message names the dtype as ATen's scalar type ("got: Long")."""
    errors = [str(error_of(lambda m=m: m.multinomial(m.ones(3, dtype=getattr(m, dtype)), 1)))
              for m in (ember, torch)]
    assert errors[0] == errors[1]


# name -> (fill, expected mean, expected std) for 20000 draws
FILLS = {
    "normal_": (lambda x: x.normal_(2.0, 0.5), 2.0, 0.5),
    "uniform_": (lambda x: x.uniform_(-1.0, 3.0), 1.0, 4 / 12 ** 0.5),
    "exponential_": (lambda x: x.exponential_(2.0), 0.5, 0.5),
    "geometric_": (lambda x: x.geometric_(0.25), 4.0, 0.75 ** 0.5 / 0.25),
    "log_normal_": (lambda x: x.log_normal_(0.0, 0.25), np.exp(0.25 ** 2 / 2), None),
    "bernoulli_": (lambda x: x.bernoulli_(0.3), 0.3, 0.21 ** 0.5),
}


@pytest.mark.parametrize("name", sorted(FILLS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fill_statistics(name, dtype):
    """Each in-place fill returns self, keeps dtype and shape, and has the right moments."""
    ember.manual_seed(0)
    fill, mean, std = FILLS[name]
    x = ember.zeros(20000, dtype=getattr(ember, dtype))
    assert fill(x) is x and x.dtype is getattr(ember, dtype) and x.shape == (20000,)
    values = x.numpy().astype(np.float64)
    assert abs(values.mean() - mean) < 0.05 * max(1.0, abs(mean))
    if std is not None:
        assert abs(values.std() - std) < 0.05 * std


@pytest.mark.parametrize("call", [
    lambda m: m.bernoulli(m.ones(0, dtype=m.bool)), lambda m: m.bernoulli(m.ones(2).long(), 0.5),
    lambda m: m.zeros(0, dtype=m.bool).geometric_(0.5),
    lambda m: m.zeros(3).long().geometric_(0.5)])
def test_dtypes_sampled(call):
    """Integer and empty bool tensors the kernels accept: same dtype and shape as torch."""
    e, t = call(ember), call(torch)
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)


def test_cauchy_median():
    """Cauchy draws have the requested median (their mean does not exist)."""
    ember.manual_seed(0)
    x = ember.zeros(20000).cauchy_(1.5, 0.5)
    assert abs(np.median(x.numpy()) - 1.5) < 0.05


def test_multinomial_method_and_out():
    """Tensor.multinomial, out= of int64, no repeats without replacement."""
    ember.manual_seed(0)
    w = ember.tensor([[0.0, 1.0, 1.0, 2.0], [1.0, 0.0, 0.0, 0.0]])
    draws = w[:1].multinomial(3)
    assert draws.dtype is ember.int64 and sorted(draws.tolist()[0]) == [1, 2, 3]
    out = ember.zeros(2, dtype=ember.int64)
    assert ember.multinomial(w[1], 2, replacement=True, out=out) is out
    assert out.tolist() == [0, 0]


def test_multinomial_without_replacement():
    """Weighted draws without repeats; zero-weight categories come last, in index order."""
    ember.manual_seed(0)
    for m in (ember, torch):
        draws = m.multinomial(m.tensor([0.0, 1.0, 0.0, 0.0]), 3).tolist()
        assert draws[0] == 1 and len(set(draws)) == 3
    counts = np.zeros(3)
    draws = ember.multinomial(ember.tensor([1.0, 2.0, 7.0]).expand(4000, 3), 1)
    counts += np.bincount(draws.numpy()[:, 0], minlength=3)
    np.testing.assert_allclose(counts / counts.sum(), [0.1, 0.2, 0.7], atol=0.03)


def _outcome(call):
    """The exception type a call raises, or the shape and dtype of the tensor it fills."""
    try:
        result = call()
    except Exception as error:  # noqa: BLE001 - the type is what is compared
        return type(error)
    return tuple(result.shape), str(result.dtype).split(".")[-1]


# issue #19's fuzz: which check comes first, and the dtype checks of the kernels that run only
# when there are elements to fill (cauchy_ checks its dtype even then)
@pytest.mark.parametrize("dtype,shape,name,args", [
    *((dtype, shape, name, args) for dtype in ("int64", "bool", "complex64")
      for shape in ((0,), (2,))
      for name, args in (("exponential_", ()), ("exponential_", (-1,)), ("log_normal_", ()),
                         ("cauchy_", (0, -1)), ("geometric_", (0.5,)), ("geometric_", (2,)),
                         ("bernoulli_", ()), ("random_", ()))),
    ("complex64", (0,), "uniform_", (3, 1)), ("complex64", (2,), "uniform_", (3, 1)),
    ("float32", (0,), "uniform_", (3, 1))])
def test_fill_checks_in_torchs_order(dtype, shape, name, args):
    """Each fill raises what torch raises (or fills) for dtype, shape and parameters."""
    def call(m):
        return lambda: getattr(m.zeros(shape, dtype=getattr(m, dtype)), name)(*args)
    assert _outcome(call(ember)) == _outcome(call(torch))
