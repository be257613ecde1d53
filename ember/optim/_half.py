"""PyTorch's CPU tensor arithmetic on 16-bit floats (bfloat16, float16), for the optimizers.

NOTE [Half-precision optimizer steps]
PyTorch keeps a bfloat16/float16 parameter's optimizer state in the parameter's dtype and steps
it with tensor ops (`mul_`, `add_(alpha=)`, `lerp_`, `addcmul_`, `addcdiv_`, `sqrt`, ...) whose
CPU kernels compute in float32 ("opmath") and round once per op back to 16 bits. NumPy on a
16-bit array instead rounds a Python float to 16 bits first (0.99 -> 0.98828125) and every
sub-step on its own, so the optimizers step such parameters with the functions below, one per
torch op, in the order of torch's `_single_tensor_<name>`: each takes 16-bit arrays (and Python
numbers), computes in float32 and returns a new 16-bit array. Quirks of torch's kernels, measured
against torch 2.13 on x86 (AVX2/AVX-512), that they reproduce:
- a Python scalar operand of mul/div/lerp/addcmul/addcdiv is used as a float32, but the scalar
  of `add(tensor, scalar)` and the alpha of `add(a, b, alpha=)` are rounded to 16 bits first;
- `lerp_` and `addcmul_` round their multiply-add once in float32 (a fused multiply-add);
- `add(a, b, alpha=)` runs 32 elements per vectorised iteration with one rounding, but the
  remaining `len % 32` elements of each intra-op chunk go through the scalar loop, which
  rounds alpha·b to 16 bits before adding (see `_scalar_tails`);
- `number / tensor` is `tensor.reciprocal() * number` (`Tensor.__rtruediv__`).
"""

import functools

from ember._backend import quiet, xp
from ember._rng.mathfun import fma32_exact
from ember._threads import get_num_threads

_HALF_NAMES = ("float16", "bfloat16")
_GRAIN = 32768  # at::internal::GRAIN_SIZE: the elements below which an op runs on one thread
_VECTOR = 32  # elements per iteration of the vectorised loop of `add` (measured)


def is_half(array) -> bool:
    """Whether an array is float16 or bfloat16 (checked by name: ml_dtypes stays unloaded)."""
    return array.dtype.itemsize == 2 and array.dtype.name in _HALF_NAMES


def silent(update):
    """Run a 16-bit update without NumPy's floating-point warnings (torch gives inf/nan for a
    zero denominator silently; float16 rounds a small eps to 0)."""

    @functools.wraps(update)
    def quiet_update(*args, **kwargs):
        with quiet():
            return update(*args, **kwargs)

    return quiet_update


def _f32(value):
    """A 16-bit array or a Python number as float32 (torch's opmath type)."""
    if isinstance(value, xp.ndarray):
        return value.astype(xp.float32)
    return xp.float32(value)


def _round(value, dtype):
    """A float32 value rounded to the 16-bit dtype, back as float32."""
    return xp.asarray(value, xp.float32).astype(dtype).astype(xp.float32)


def mul(a, b):
    """torch.mul (a tensor or a scalar b)."""
    return (_f32(a) * _f32(b)).astype(a.dtype)


def div(a, b):
    """torch.div (a tensor or a scalar b): a true division in float32."""
    return (_f32(a) / _f32(b)).astype(a.dtype)


def sqrt(a):
    """torch.sqrt."""
    return xp.sqrt(_f32(a)).astype(a.dtype)


def reciprocal(a):
    """torch.reciprocal."""
    return (xp.float32(1) / _f32(a)).astype(a.dtype)


def add_scalar(a, scalar):
    """torch.add(a, scalar): PyTorch casts the scalar to the tensor's 16-bit dtype first."""
    return (_f32(a) + _round(scalar, a.dtype)).astype(a.dtype)


def add(a, b, alpha=1.0):
    """torch.add(a, b, alpha=alpha) on two tensors: alpha is rounded to 16 bits first; the
    vectorised loop rounds a + alpha·b once, the scalar tail loop rounds alpha·b first."""
    alpha = _round(alpha, a.dtype)
    a32, scaled = _f32(a), alpha * _f32(b)  # (exact: two 16-bit significands fit in float32)
    out = (a32 + scaled).astype(a.dtype)
    if alpha not in (1, -1, 0):  # otherwise alpha·b is already a 16-bit value
        flat_out, flat_a, flat_scaled = out.reshape(-1), a32.reshape(-1), scaled.reshape(-1)
        for tail in _scalar_tails(out.size):
            flat_out[tail] = flat_a[tail] + _round(flat_scaled[tail], a.dtype)
    return out


def _scalar_tails(size: int):
    """The slices of a `size`-element op that PyTorch's CPU loop runs unvectorised: the last
    size % 32 elements of each intra-op chunk. Above GRAIN_SIZE elements `at::parallel_for`
    splits the op into one chunk per thread (at most one per GRAIN_SIZE elements) of
    ceil(size / chunks) elements each."""
    threads = get_num_threads()
    chunks = 1 if size <= _GRAIN or threads == 1 else min(threads, -(-size // _GRAIN))
    chunk = -(-size // chunks) if size else 1
    for start in range(0, size, chunk):
        stop = min(start + chunk, size)
        yield slice(start + (stop - start) // _VECTOR * _VECTOR, stop)


def lerp(a, b, weight):
    """torch.lerp(a, b, weight) with a scalar weight: PyTorch's vectorised form
    fma(w, b - a, a) for |w| < 0.5, else fma(w - 1, b - a, b), in float32."""
    w = xp.float32(weight)
    a32, b32 = _f32(a), _f32(b)
    if abs(w) < 0.5:
        return fma32_exact(w, b32 - a32, a32).astype(a.dtype)
    return fma32_exact(w - xp.float32(1), b32 - a32, b32).astype(a.dtype)


def addcmul(a, t1, t2, value=1.0):
    """torch.addcmul(a, t1, t2, value=value): float32 fma(value·t1, t2, a)."""
    return fma32_exact(xp.float32(value) * _f32(t1), _f32(t2), _f32(a)).astype(a.dtype)


def addcdiv(a, t1, t2, value=1.0):
    """torch.addcdiv(a, t1, t2, value=value): a + (value·t1) / t2 in float32."""
    return (_f32(a) + xp.float32(value) * _f32(t1) / _f32(t2)).astype(a.dtype)


def decayed(param, grad, weight_decay, decoupled=False, lr=0.0):
    """torch's weight decay before a step, op by op: the parameter scaled in place (AdamW's
    decoupled decay) or the decay added to the gradient; returns the gradient."""
    if weight_decay != 0:
        if decoupled:
            param[...] = mul(param, 1 - lr * weight_decay)
        else:
            grad = add(grad, param, weight_decay)
    return grad


def adam_moments(exp_avg, exp_avg_sq, grad, beta1, beta2):
    """Adam's moments in place: m ← lerp(m, g, 1 - β₁), v ← v·β₂ + (1 - β₂)·g² (one FMA)."""
    exp_avg[...] = lerp(exp_avg, grad, 1 - beta1)
    exp_avg_sq[...] = addcmul(mul(exp_avg_sq, beta2), grad, grad, 1 - beta2)
