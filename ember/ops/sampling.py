"""Random sampling: `normal`, `bernoulli`, `multinomial` and the in-place fills
(`normal_`, `uniform_`, `bernoulli_`, `random_`, `exponential_`, `cauchy_`, `geometric_`,
`log_normal_`), with PyTorch's checks of their parameters.

The draws come from ember's generators (ember/random.py): reproducible under `manual_seed`,
but not PyTorch's streams. Samples are constants: they carry no gradient.
"""

from ember import _dtype, random
from ember._backend import quiet, xp
from ember._registry import op, tensor_method
from ember._tensor import Tensor
from ember.ops.creation import _fill_inplace, _finish
from ember.random import rng


@op(out=True)
def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, layout=None,
           device=None, requires_grad=False) -> Tensor:
    """Normal samples with the given mean and std, scalars or tensors (matches `torch.normal`)."""
    mean_array = mean._data if isinstance(mean, Tensor) else mean
    std_array = std._data if isinstance(std, Tensor) else std
    if xp.any(xp.asarray(std_array) < 0):
        raise RuntimeError(f"normal expects all elements of std >= 0.0, but found "
                           f"std {xp.min(std_array)}")
    if size is None:
        size = xp.broadcast_shapes(xp.shape(mean_array), xp.shape(std_array))
    if dtype is None:
        dtype = next((t.dtype for t in (mean, std) if isinstance(t, Tensor)),
                     _dtype.get_default_dtype())
    dtype = _dtype.to_dtype(dtype)
    array = rng(generator).normal(mean_array, std_array, size=tuple(size)).astype(dtype.numpy)
    return _finish(array, None, requires_grad, device)


@op(method=True)
def bernoulli(input, p=None, *, generator=None, out=None) -> Tensor:
    """0/1 samples with probabilities `input` (matches `torch.bernoulli`)."""
    probabilities = input._data if p is None else p
    draws = rng(generator).random(input._data.shape) < probabilities
    result = Tensor._make(draws.astype(input._data.dtype))
    if out is None:
        return result
    if 0 in out.stride() and out.numel() > 1:
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.")
    if xp.shares_memory(out._data, input._data):
        raise RuntimeError("unsupported operation: some elements of the input tensor and the "
                           "written-to tensor refer to a single memory location.")
    return out.copy_(result)


@op(method=True)
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None) -> Tensor:
    """Sample category indices by weight (matches `torch.multinomial`) for 1-D or 2-D input."""
    _check_multinomial(input, num_samples, replacement)
    if out is not None and out.dtype is not _dtype.int64:
        raise RuntimeError(f"multinomial expects Long tensor out, got: {out.dtype}")
    weights = xp.atleast_2d(input._data.astype(xp.float64))
    draw = rng(generator)
    if replacement:
        rows = [draw.choice(len(row), size=num_samples, p=row / row.sum()) for row in weights]
        result = xp.array(rows, dtype=xp.int64)
    else:
        # NOTE [Sampling without replacement]
        # The top num_samples of keys -E/w (E ~ Exp(1)) are a weighted draw without
        # replacement; categories of weight 0 have key -inf and, as in PyTorch (no error),
        # come last once the others are used up (PyTorch's order among them is arbitrary;
        # ember's is index order).
        with quiet():
            keys = -draw.exponential(size=weights.shape) / weights
        order = xp.argsort(-keys, axis=-1, kind="stable")
        result = order[:, :num_samples].astype(xp.int64)
    result = Tensor._make(result if input._data.ndim == 2 else result[0])
    return result if out is None else out.copy_(result)


def _check_multinomial(input, num_samples, replacement):
    """PyTorch's errors for multinomial's arguments."""
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.dtype.is_floating_point:
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    categories = input.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if categories > 2 ** 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    weights = input._data
    if not xp.all(xp.isfinite(weights)) or xp.any(weights < 0):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = weights.reshape(-1, categories)
    if xp.any(rows.sum(axis=-1) <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")



# ---- in-place random fills ---------------------------------------------------------------
@tensor_method("normal_")
def tensor_normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with N(mean, std²) samples (matches `Tensor.normal_`)."""
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _fill_inplace(self, random.normal(self._data.shape, mean, std, self._data.dtype,
                                             generator))


@tensor_method("uniform_")
def tensor_uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with U(from, to) samples (matches `Tensor.uniform_`)."""
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={a} > to={b}")
    return _fill_inplace(self, random.uniform(self._data.shape, a, b, self._data.dtype, generator))


@tensor_method("bernoulli_")
def tensor_bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1 samples, 1 with probability p (matches `Tensor.bernoulli_`)."""
    p = p._data if isinstance(p, Tensor) else p
    return _fill_inplace(self, rng(generator).random(self._data.shape) < p)


@tensor_method("random_")
def tensor_random_(self, low=0, high=None, *, generator=None):
    """Fill with integers uniform in [low, high) (matches `Tensor.random_`)."""
    if high is None:
        low, high = 0, low if low else 2 ** 24
    return _fill_inplace(self, rng(generator).integers(low, high, size=self._data.shape))


@tensor_method("exponential_")
def tensor_exponential_(self, lambd=1.0, *, generator=None):
    """Fill with Exp(lambd) samples (matches `Tensor.exponential_`)."""
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill_inplace(self, rng(generator).exponential(1 / lambd, size=self._data.shape))


@tensor_method("cauchy_")
def tensor_cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy(median, sigma) samples (matches `Tensor.cauchy_`)."""
    if sigma <= 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    draws = rng(generator).standard_cauchy(size=self._data.shape)
    return _fill_inplace(self, median + sigma * draws)


@tensor_method("geometric_")
def tensor_geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials to the first success (matches
    `Tensor.geometric_`)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill_inplace(self, rng(generator).geometric(p, size=self._data.shape))


@tensor_method("log_normal_")
def tensor_log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp(N(mean, std²)) samples (matches `Tensor.log_normal_`)."""
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    return _fill_inplace(self, rng(generator).lognormal(mean, std, size=self._data.shape))
