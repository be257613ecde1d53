"""Random sampling: `normal`, `bernoulli`, `multinomial` and the in-place fills
(`normal_`, `uniform_`, `bernoulli_`, `random_`, `exponential_`, `cauchy_`, `geometric_`,
`log_normal_`), with PyTorch's checks of their parameters.

bernoulli, multinomial, poisson, the dropout noise, the Gamma/binomial/Dirichlet arrays of
the distributions and the fills other than normal_/uniform_/random_ draw torch's numbers bit
for bit from the same generator state (ember/ops/_streams.py: uniforms, glibc's functions,
torch's visiting order; ember/ops/_sequential.py: the element-after-element samplers).
Samples are constants: they carry no gradient.
"""

import functools
import math

from ember import _dtype
from ember._backend import quiet, xp
from ember._registry import op, tensor_method, torch_function
from ember._rng.samplers import from_double
from ember._tensor import Tensor, short_name
from ember.autograd.function import Op
from ember.ops import _reparam_grads
from ember.ops._opmath import is_half
from ember.ops._sequential import binomial_counts, gamma_variates, poisson_counts
from ember.ops._streams import (below_uniform53, flat_in_memory_order, fma, generator_of,
                                in_memory_order, libm, standard_normals64, uniform24, uniform53)
from ember.ops.creation import _fill_inplace, _finish, _like, _out_filled
from ember.ops.random_creation import (_CPP_NAMES, _not_implemented, check_internal_overlap,
                                       check_out_grad, draw_integers, draw_normal, draw_random_bits,
                                       draw_target, draw_uniform, out_dtype, resize_output)
from ember.ops.sort import _topk_order


@op
def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, layout=None,
           device=None, requires_grad=False, out=None) -> Tensor:
    """Normal samples with the given mean and std, scalars or tensors (matches `torch.normal`).

    As torch: numbers draw `empty(size).normal_(mean, std)`; a tensor mean with a number std
    draws normal_(0, std) then adds mean; a tensor std draws normal_(0, 1), multiplies by std
    and adds mean, each step rounded in the output's dtype. An `out=` is drawn into in place,
    in its dtype (with a number std, its shape broadcasts with mean's, as torch's does).
    """
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments - got "
                            f"({type(mean).__name__}, {type(std).__name__}), but expected one "
                            "of: (Tensor mean, Tensor std), (Tensor mean, float std), "
                            "(float mean, Tensor std), (float mean, float std, tuple of ints "
                            "size)")
        dtype = out_dtype(out, dtype, "aten::normal") or _dtype.get_default_dtype()
        array = draw_normal(draw_target(out, tuple(size), dtype), mean, std, generator)
        return _finish(array, None, requires_grad, device) if out is None else \
            _out_filled(out, array, requires_grad)
    if isinstance(std, Tensor) and std.numel() and bool(xp.any(std._data < 0)):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if not isinstance(std, Tensor) and std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    check_out_grad("normal", out, mean, std)
    like = mean if isinstance(mean, Tensor) else std
    shape = _broadcast_shape(mean, std if out is None or isinstance(std, Tensor) else out)
    target = xp.empty(shape, like._data.dtype) if out is None else resize_output(out, shape)._data
    if isinstance(std, Tensor) and std._data.dtype.kind in "fc" and target.dtype.kind in "biu" \
            and not math.prod(shape):
        # torch draws nothing into an integer output, then its `draws *= std` refuses floats
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{short_name(like.dtype)}")
    if not isinstance(std, Tensor):
        values = draw_normal(target, 0.0, std, generator)
    else:
        values = _in_place(xp.multiply, draw_normal(target, 0.0, 1.0, generator), std._data)
    mean_array = mean._data if isinstance(mean, Tensor) else xp.asarray(mean, target.dtype)
    values = _in_place(xp.add, values, mean_array)
    if out is not None:
        return _fill_inplace(out, values)
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    node = {(True, False): Normal1, (False, True): Normal2}.get(
        (isinstance(mean, Tensor), isinstance(std, Tensor)), Normal3)
    return node.apply(Tensor._make(values), *tensors)


class Normal1(Op):
    """y = mean + std·z with z drawn: the draws are constants, and torch defines the gradients
    with respect to mean and std as zeros (derivatives.yaml)."""

    node_name = "NormalBackward1"

    @staticmethod
    def forward(ctx, values, *parameters):
        ctx.shapes = [p.shape for p in parameters]
        return values._data

    @staticmethod
    def backward(ctx, gy):
        return (None, *(gy.new_zeros(shape) for shape in ctx.shapes))


class Normal2(Normal1):
    node_name = "NormalBackward2"


class Normal3(Normal1):
    node_name = "NormalBackward3"


def _in_place(ufunc, values, other):
    """values.op_(other) as torch computes it: in the operands' common dtype (a 0-d or integer
    `other` does not promote), rounded back to values' dtype."""
    if other.ndim == 0 or other.dtype.kind in "iub":
        other = other.astype(values.dtype)
    return ufunc(values, other).astype(values.dtype, copy=False)


def _broadcast_shape(mean, std):
    """The shape of normal's output: mean's and std's broadcast (torch's `infer_size`)."""
    shapes = [tuple(t.shape) for t in (mean, std) if isinstance(t, Tensor)]
    try:
        return xp.broadcast_shapes(*shapes)
    except ValueError:
        a, b = shapes
        for dim in range(-1, -min(len(a), len(b)) - 1, -1):
            if a[dim] != b[dim] and 1 not in (a[dim], b[dim]):
                raise RuntimeError(f"The size of tensor a ({a[dim]}) must match the size of "
                                   f"tensor b ({b[dim]}) at non-singleton dimension "
                                   f"{max(len(a), len(b)) + dim}") from None
        raise


@op(method=True)
def bernoulli(input, p=None, *, generator=None, out=None) -> Tensor:
    """0/1 samples with probabilities `input`, or `p` when given (matches `torch.bernoulli`)."""
    if p is None and input._data.size and not (input.dtype.is_floating_point
                                               or input.dtype.is_complex):
        raise _not_implemented("bernoulli_tensor_cpu_p_", input.dtype)
    template = Tensor._make(xp.empty(input._data.shape, dtype=input._data.dtype))
    if p is None:
        tensor_bernoulli_(template, input, generator=generator)
    else:
        tensor_bernoulli_(template, p, generator=generator)
    result = template
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
        raise RuntimeError(f"multinomial expects Long tensor out, got: {short_name(out.dtype)}")
    weights = xp.atleast_2d(input._data)
    if replacement and num_samples > 1:
        result = _multinomial_with_replacement(weights, num_samples, generator)
    else:
        result = _multinomial_by_exponential_race(input, num_samples, generator)
    result = Tensor._make(result if input._data.ndim == 2 else result[0])
    return result if out is None else out.resize_(result.shape).copy_(result)  # (silently)


def _multinomial_by_exponential_race(input, num_samples, generator):
    """torch's path without replacement (and for one sample): the top `num_samples` of
    w / q with q ~ Exp(1) drawn by `exponential_` in w's dtype and layout (`empty_like`).

    NOTE [Sampling without replacement]
    argmax(w / q), q ~ Exp(1), is a draw with probabilities w / Σw (the Gumbel-max trick after
    exp), and the top k are a weighted draw without replacement. Categories of weight 0 have
    key 0 and come last once the others are used up, in the order of PyTorch's CPU topk among
    equal keys (ties are common in float16/bfloat16).
    """
    q = tensor_exponential_(_like(0, input, None, False), 1.0, generator=generator)
    with quiet():
        keys = xp.atleast_2d(input._data / q._data)
    if num_samples == 1:
        return xp.argmax(keys, axis=-1)[:, None].astype(xp.int64)
    return _topk_order(keys, -1, num_samples, True, True).astype(xp.int64)


def _multinomial_with_replacement(weights, num_samples, generator):
    """torch's inverse-CDF sampler: per row, the running sum in the row's dtype divided by
    the total (last entry set to 1), and for each sample the first category whose
    cumulative weight is >= a 53-bit uniform, rows one after the other."""
    # float16/bfloat16 weights are summed and normalised in float32 (torch's kernel for them)
    cumulative = xp.cumsum(weights, axis=-1, dtype=xp.float32 if is_half(weights.dtype)
                           else weights.dtype)
    cumulative = cumulative / cumulative[:, -1:]
    cumulative[:, -1] = 1
    uniforms = uniform53(generator, weights.shape[0] * num_samples)
    uniforms = uniforms.reshape(weights.shape[0], num_samples)
    rows = [xp.searchsorted(c.astype(xp.float64), u, side="left")
            for c, u in zip(cumulative, uniforms)]
    return xp.stack(rows).astype(xp.int64)


@op
def poisson(input, generator=None) -> Tensor:
    """Poisson(rate) counts, one per element of input, in input's dtype (matches
    `torch.poisson`: torch's sampler, element after element, on 53-bit uniforms)."""
    rates = input._data.reshape(-1).astype(xp.float64)
    if not xp.all(rates >= 0):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    counts = poisson_counts(rates.tolist(), generator_of(generator))
    return Tensor._make(xp.asarray(counts, dtype=input._data.dtype).reshape(input._data.shape))


@op
def binomial(count, prob, generator=None) -> Tensor:
    """Binomial(count, prob) counts in count's shape and dtype (matches `torch.binomial`)."""
    for name, t in (("count", count), ("prob", prob)):
        if not t.dtype.is_floating_point:
            raise ValueError(f"binomial only supports floating-point dtypes for {name}, got: "
                             f"{_dtype._SHORT.get(t.dtype.name, t.dtype.name)}")
    return Tensor._make(binomial_array(count._data, prob._data, generator))


def standard_gamma_array(alpha, generator=None):
    """Gamma(alpha, 1) variates of an alpha array, in its dtype, as `torch._standard_gamma`
    draws them (torch's sampler element after element; results below the dtype's smallest
    normal number are raised to it, as torch does)."""
    single = alpha.dtype == xp.float32
    values = gamma_variates(alpha.reshape(-1).tolist(), generator_of(generator), single)
    values = xp.asarray(values, dtype=xp.float64).astype(alpha.dtype).reshape(alpha.shape)
    return xp.maximum(values, xp.finfo(alpha.dtype).tiny)


class StandardGamma(Op):
    """x ~ Gamma(α, 1);  gα = gy·dx/dα, torch's approximation of it (NOTE [Reparameterised
    gradients of Gamma and Beta draws] in ember/ops/_reparam_grads.py)."""

    node_name = "StandardGammaBackward0"

    @staticmethod
    def forward(ctx, alpha, generator):
        ctx.save_for_backward(alpha)
        ctx.x = standard_gamma_array(alpha._data, generator)  # (clamped: not in the graph)
        return ctx.x

    @staticmethod
    def backward(ctx, gy):
        (alpha,) = ctx.saved_tensors
        return gy * Tensor._make(_reparam_grads.standard_gamma_grad(alpha._data, ctx.x)), None


def _check_gamma_dtype(input, kernel):
    """torch's Gamma and Dirichlet samplers run on float32 and float64 only."""
    if input.dtype.name not in ("float32", "float64"):
        raise _not_implemented(kernel, input.dtype)


@torch_function("_standard_gamma")
def standard_gamma(input, generator=None) -> Tensor:
    """Gamma(input, 1) draws, differentiable in input (matches `torch._standard_gamma`)."""
    _check_gamma_dtype(input, "gamma_cpu")
    return StandardGamma.apply(input, generator)


@torch_function("_standard_gamma_grad")
def standard_gamma_grad(input, output) -> Tensor:
    """dx/dα of Gamma(α, 1) draws (matches `torch._standard_gamma_grad`)."""
    return Tensor._make(_reparam_grads.standard_gamma_grad(input._data, output._data))


@torch_function("_sample_dirichlet")
def sample_dirichlet(input, generator=None) -> Tensor:
    """Dirichlet(input) draws over the last dim (matches `torch._sample_dirichlet`; no
    gradient, as torch has none)."""
    _check_gamma_dtype(input, "dirichlet")
    return Tensor._make(dirichlet_array(input._data, generator))


@torch_function("_dirichlet_grad")
def dirichlet_grad(x, alpha, total) -> Tensor:
    """The Beta marginals' scaled reparameterised gradient (matches `torch._dirichlet_grad`)."""
    return Tensor._make(_reparam_grads.dirichlet_grad(x._data, alpha._data, total._data))


def dirichlet_array(alpha, generator=None):
    """Dirichlet(alpha) draws over the last axis, as `torch._sample_dirichlet`: Gamma variates
    in double (raised to the smallest normal double), divided by their row sums, kept inside
    [smallest normal, largest value below 1] of alpha's dtype."""
    gammas = gamma_variates(alpha.reshape(-1).tolist(), generator_of(generator), False)
    gammas = xp.maximum(xp.asarray(gammas, dtype=xp.float64), xp.finfo(xp.float64).tiny)
    gammas = gammas.reshape(alpha.shape)
    values = (gammas / gammas.sum(axis=-1, keepdims=True)).astype(alpha.dtype)
    below_one = xp.nextafter(alpha.dtype.type(1), alpha.dtype.type(0))
    return xp.asarray(xp.clip(values, xp.finfo(alpha.dtype).tiny, below_one))  # (0-d: an array)


def binomial_array(count, prob, generator=None):
    """Binomial(count, prob) counts in count's shape and dtype, as `torch.binomial` draws them
    (torch's sampler element after element)."""
    probabilities = xp.broadcast_to(prob, count.shape).reshape(-1).tolist()
    values = binomial_counts(count.reshape(-1).tolist(), probabilities,
                             generator_of(generator), count.dtype == xp.float32)
    return xp.asarray(values, dtype=xp.float64).astype(count.dtype).reshape(count.shape)


def _check_multinomial(input, num_samples, replacement):
    """PyTorch's errors for multinomial's arguments."""
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.dtype.is_floating_point:
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{_dtype._SHORT.get(input.dtype.name, input.dtype.name)}")
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
def _fills_self(method):
    """An in-place fill, first refusing (before drawing, as torch does) an expanded self and
    a leaf that requires grad."""

    @functools.wraps(method)
    def fill(self, *args, **kwargs):
        if isinstance(self, Tensor):
            self._check_inplace()
            check_internal_overlap(self._data)
        return method(self, *args, **kwargs)

    return fill


@tensor_method("normal_")
@_fills_self
def tensor_normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with N(mean, std²) samples (matches `Tensor.normal_`)."""
    return _fill_inplace(self, draw_normal(self._data, mean, std, generator))


@tensor_method("uniform_")
@_fills_self
def tensor_uniform_(self, a=0.0, b=1.0, *, generator=None, **bounds):
    """Fill with U(from, to) samples (matches `Tensor.uniform_`; `from=`/`to=` accepted)."""
    a, b = bounds.pop("from", a), bounds.pop("to", b)
    if bounds:
        raise TypeError(f"uniform_() got an unexpected keyword argument '{next(iter(bounds))}'")
    return _fill_inplace(self, draw_uniform(self._data, float(a), float(b), generator))


@tensor_method("bernoulli_")
@_fills_self
def tensor_bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 0/1 samples, 1 with probability p (matches `Tensor.bernoulli_`).

    A number p: one 53-bit uniform u per element, 1 when u < p (torch 2.13 no longer routes
    this through MKL's MCG31 stream). A tensor p (broadcast to self): 53-bit uniforms for a
    float64 p, else 24-bit float32 uniforms compared with p in float32.
    """
    n = self._data.size
    if not isinstance(p, Tensor):
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        if n and self.dtype.is_complex:
            raise _not_implemented("bernoulli_scalar_cpu_", self.dtype)
        return _fill_inplace(self, in_memory_order(self._data, uniform53(generator, n) < p))
    if n and self.dtype.is_complex:
        raise _not_implemented("bernoulli_tensor_cpu_self_", self.dtype)
    if n and not p.dtype.is_floating_point:
        raise _not_implemented("bernoulli_tensor_cpu_p_", p.dtype)
    probabilities = flat_in_memory_order(p._data, self._data)
    if not n:
        return self
    if xp.any(probabilities < 0) or xp.any(probabilities > 1):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    if probabilities.dtype == xp.float64:
        draws = uniform53(generator, n) < probabilities
    else:
        draws = uniform24(generator, n) < probabilities.astype(xp.float32)
    return _fill_inplace(self, in_memory_order(self._data, draws))


def _keep_mask(shape, p, like):
    """`bernoulli_(1 - p)` of a fresh tensor: laid out like `like` (torch's `empty_like`
    keeps a dense input's strides, e.g. a transposed one), else C-contiguous."""
    keep = below_uniform53(None, math.prod(shape), 1 - p)
    if like is None:
        return keep.reshape(shape)
    return in_memory_order(like, keep)


def dropout_noise(shape, p: float, dtype, like=None):
    """torch's dropout noise: `empty_like(input).bernoulli_(1 - p)` then `div_(1 - p)`, so each
    kept unit is 1/(1-p) rounded as torch rounds it: a 16-bit float divides in float32 (its
    opmath, with 1 - p as a float32) and rounds once (NOTE [opmath])."""
    keep = _keep_mask(shape, p, like)
    if is_half(dtype):
        return (keep.astype(xp.float32) / xp.float32(1 - p)).astype(dtype)
    return keep.astype(dtype) / xp.asarray(1 - p, dtype=dtype)


def dropout_mask(shape, p: float, dtype, like=None):
    """`dropout_noise`, or all zeros at p = 1 (where 1/(1-p) does not exist; torch zeroes)."""
    if p == 1.0:
        return xp.zeros(shape, dtype=dtype)
    return dropout_noise(tuple(shape), p, xp.dtype(dtype), like)


# SELU's α·λ, the value an alpha-dropped unit takes (torch's Dropout.cpp constant).
_ALPHA_DROPPED = 1.7580993408473766


def alpha_dropout_noise(shape, p: float, dtype, like=None):
    """torch's alpha-dropout (noise·a, b): noise ~ bernoulli(1-p) in dtype,
    a = 1/√((α²p + 1)(1 - p)), b = (noise - 1)·αa + αap, each step rounded to dtype."""
    keep = _keep_mask(shape, p, like).astype(dtype)
    alpha = _ALPHA_DROPPED
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    b = (keep - dtype.type(1)) * xp.asarray(alpha * a, dtype) + xp.asarray(alpha * a * p, dtype)
    return keep * xp.asarray(a, dtype), b


def _fill_with(self, flat):
    """Write float64 draws (in torch's visiting order) into self, rounded to its dtype as
    torch's static_cast rounds them (float16/bfloat16 through float32: twice)."""
    return _fill_inplace(self, in_memory_order(self._data, from_double(flat, self._data.dtype)))


@tensor_method("random_")
@_fills_self
def tensor_random_(self, *args, generator=None, **bounds):
    """Fill with random integers (matches `Tensor.random_`): random_() takes [0, dtype's max]
    ([0, 2^mantissa] for floats), random_(to) [0, to), random_(from, to) [from, to), and
    random_(from, None) [from, dtype's max]; random_(-2^63, None) whole 64-bit words."""
    if len(args) > 2:
        raise TypeError(f"random_() takes at most 2 arguments ({len(args)} given)")
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    elif "to" in bounds:
        low, high = bounds.get("from", 0), bounds["to"]
    elif bounds:
        raise TypeError(f"random_() received an invalid combination of arguments - got "
                        f"({', '.join(f'{k}={type(v).__name__}' for k, v in bounds.items())}, )")
    else:
        return _fill_inplace(self, draw_random_bits(self._data, generator))
    if high is None and low == -2 ** 63:
        return _fill_inplace(self, draw_integers(self._data, generator=generator,
                                                 full_range=True))
    if self._data.dtype.kind == "c":  # the check that fails differs with `to` and without
        raise RuntimeError(f"{'random_from_to_impl' if high is None else 'check_random_bounds'}"
                           " handles only integral, floating-point and boolean types")
    high = None if high is None else int(high)
    return _fill_inplace(self, draw_integers(self._data, int(low), high, generator))


@tensor_method("exponential_")
@_fills_self
def tensor_exponential_(self, lambd=1.0, *, generator=None):
    """Fill with Exp(lambd) samples, -1/λ·log1p(-u) for 53-bit uniforms u (matches
    `Tensor.exponential_`)."""
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    if not self._data.size:  # torch's kernel, and its dtype check, run only on elements
        return self
    if not self.dtype.is_floating_point:
        raise RuntimeError("Exponential distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified "
                           f"{_dtype._SHORT.get(self.dtype.name, self.dtype.name)}")
    u = uniform53(generator, self._data.size)
    exact = self._data.dtype == xp.float64
    return _fill_with(self, (-1.0 / lambd) * libm("log1p", -u, exact))


def _check_self(self, name: str):
    """`Tensor.name(x)` with x not a tensor: the TypeError of Python's method descriptor."""
    if not isinstance(self, Tensor):
        raise TypeError(f"descriptor '{name}' for 'torch._C.TensorBase' objects doesn't apply "
                        f"to a '{type(self).__name__}' object")


# the C++ type names torch's cauchy_ prints for a dtype (caffe2::TypeMeta's)
_TYPE_META_NAMES = {**_CPP_NAMES, "complex64": "c10::complex<float>",
                    "complex128": "c10::complex<double>"}


@tensor_method("cauchy_")
@_fills_self
def tensor_cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy(median, sigma) samples, median + sigma·tan(π(u - 1/2)) (matches
    `Tensor.cauchy_`)."""
    _check_self(self, "cauchy_")
    if sigma <= 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    if not self.dtype.is_floating_point:  # checked even with no elements, unlike the others
        raise RuntimeError("Cauchy distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified "
                           f"{_TYPE_META_NAMES.get(self.dtype.name, self.dtype.name)}")
    u = uniform53(generator, self._data.size)
    exact = self._data.dtype == xp.float64
    return _fill_with(self, fma(sigma, libm("tan", math.pi * (u - 0.5), exact), median))


@tensor_method("geometric_")
@_fills_self
def tensor_geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials to the first success,
    ceil(log(u) / log1p(-p)) (matches `Tensor.geometric_`)."""
    _check_self(self, "geometric_")
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    if self._data.size and (self.dtype.name == "bool" or self.dtype.is_complex):
        raise _not_implemented("geometric_cpu", self.dtype)
    u = uniform53(generator, self._data.size)
    exact = self._data.dtype == xp.float64
    return _fill_with(self, xp.ceil(libm("log", u, exact) / math.log1p(-p)))


@tensor_method("log_normal_")
@_fills_self
def tensor_log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp(N(mean, std²)) samples, one `normal_distribution<double>` draw each
    (matches `Tensor.log_normal_`)."""
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    if self._data.size and not self.dtype.is_floating_point:  # only a kernel with elements
        raise _not_implemented("log_normal_cpu", self.dtype)
    exact = self._data.dtype == xp.float64
    z = standard_normals64(generator, self._data.size)
    return _fill_with(self, libm("exp", fma(z, std, mean), exact))
