"""Discrete Fourier transforms (the functions of `torch.fft`), with PyTorch's gradients.

Three ops do all the work, each over any set of dims with a `norm` mode:

- `C2C`: complex to complex, forward (e^{-2πi·kt/n}) or inverse (e^{+2πi·kt/n});
- `R2C`: real to the one-sided spectrum (the last transformed dim keeps n//2 + 1 bins);
- `C2R`: one-sided spectrum to real (the inverse of R2C).

plus `Resize`, which zero-pads or cuts the input to the lengths `n`/`s` asked for. Every public
function is a composition of these (hfft is C2R of the conjugate with the norm swapped).

NOTE [FFT gradients]
Each transform is linear, y = A·x, so with PyTorch's convention for complex gradients (NOTE
[Gradients of complex tensors] in ember/ops/complex.py) the gradient is gx = A^H·gy. The adjoint
of a DFT is the opposite transform with the "dual" norm: the unscaled forward transform
("backward" norm) has the unscaled inverse ("forward" norm) as adjoint, and "ortho" is unitary.
For R2C, A = P·F (P keeps the first n//2 + 1 bins), so gx = Re(F^H·P^T·gy): gy zero-padded to
n bins, inverse-transformed, real part. For C2R, y = Σ over the full Hermitian spectrum, where
each bin 0 < k < n - k also stands for its conjugate partner n - k; so gx is R2C of gy with the
dual norm and those bins doubled. Bin 0 (and n/2 for even n) count once: their imaginary parts
are ignored by the forward, and the gradient there comes out real.
"""

from ember import _autocast, _dtype
from ember._backend import quiet, xp
from ember._out_dtypes import OutDtype
from ember._registry import with_out
from ember._tensor import Tensor, short_name, wrap_dim
from ember.autograd.function import Op
from ember.ops.complex import conj, real, to_complex

_NORMS = ("backward", "forward", "ortho")
# The adjoint's norm (NOTE [FFT gradients]); also hfft/ihfft's, which scale as irfft/rfft do not.
_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


# ---- the ops --------------------------------------------------------------------------------
class Resize(Op):
    """y = x cut or zero-padded to `sizes` along `dims`;  gx = gy resized back to x's sizes."""

    @staticmethod
    def forward(ctx, x, dims, sizes):
        ctx.dims = dims
        ctx.sizes = tuple(x._data.shape[d] for d in dims)
        return _resize_array(x._data, dims, sizes)

    @staticmethod
    def backward(ctx, gy):
        return resize(gy, ctx.dims, ctx.sizes), None, None


def _resize_array(array, dims, sizes):
    index = [slice(None)] * array.ndim
    pads = [(0, 0)] * array.ndim
    for d, size in zip(dims, sizes):
        index[d] = slice(0, size)
        pads[d] = (0, max(0, size - array.shape[d]))
    array = array[tuple(index)]
    return xp.pad(array, pads) if any(p[1] for p in pads) else array.copy()


def resize(x: Tensor, dims, sizes) -> Tensor:
    """x cut or zero-padded to `sizes` along `dims` (what `n=`/`s=` do), in the graph."""
    if all(x._data.shape[d] == size for d, size in zip(dims, sizes)):
        return x
    return Resize.apply(x, tuple(dims), tuple(sizes))


class C2C(Op):
    """y = F·x over dims (inverse F if not `forward`), scaled by norm;  gx = F^H·gy."""

    node_name = "FftC2CBackward0"

    @staticmethod
    def forward(ctx, x, dims, norm, forward):
        ctx.args = (dims, norm, forward)
        data = x._data
        if not dims:
            return data.copy()
        transform = xp.fft.fftn if forward else xp.fft.ifftn
        return transform(data, axes=dims, norm=norm).astype(data.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        dims, norm, forward = ctx.args
        return C2C.apply(gy, dims, _DUAL[norm], not forward), None, None, None


class R2C(Op):
    """y = F·x over dims for a real x, keeping the first n//2 + 1 bins of the last dim if
    onesided (P);  gx = Re(F^H·P^T·gy)."""

    node_name = "FftR2CBackward0"

    @staticmethod
    def forward(ctx, x, dims, norm, onesided=True):
        ctx.args = (dims, norm, x._data.shape[dims[-1]])
        complex_dtype = x.dtype.to_complex().numpy
        half = xp.fft.rfftn(x._data, axes=dims, norm=norm).astype(complex_dtype, copy=False)
        return half if onesided else _conjugate_fill(half, dims, x._data.shape[dims[-1]])

    @staticmethod
    def backward(ctx, gy):
        dims, norm, n = ctx.args
        full = resize(gy, (dims[-1],), (n,))
        return real(C2C.apply(full, dims, _DUAL[norm], False)), None, None, None


def _conjugate_fill(half, dims, n):
    """The two-sided spectrum of a real signal from its one-sided half, the missing bins the
    conjugates of their mirrors, X[k] = conj(X[-k]) over all transformed dims (as PyTorch
    fills them, so the symmetry, and the zero imaginary parts of self-mirrored bins, are
    exact)."""
    mirror = half.conj()
    for axis in dims[:-1]:  # index k -> -k mod size
        mirror = xp.roll(xp.flip(mirror, axis), 1, axis)
    last = dims[-1]
    m = half.shape[last]
    tail = xp.take(mirror, xp.arange(n - m, 0, -1), axis=last)  # bins m..n-1 mirror n-k
    return xp.concatenate([half, tail], axis=last)


class C2R(Op):
    """y = the real signal of a one-sided spectrum (n samples in the last dim);
    gx = R2C(gy) with the dual norm, bins 0 < k < n - k doubled (NOTE [FFT gradients])."""

    node_name = "FftC2RBackward0"

    @staticmethod
    def forward(ctx, x, dims, n, norm):
        ctx.args = (dims, n, norm)
        sizes = [x._data.shape[d] for d in dims[:-1]] + [n]
        real_dtype = x.dtype.to_real().numpy
        return xp.fft.irfftn(x._data, s=sizes, axes=dims, norm=norm).astype(real_dtype,
                                                                            copy=False)

    @staticmethod
    def backward(ctx, gy):
        dims, n, norm = ctx.args
        gx = R2C.apply(gy, dims, _DUAL[norm])
        weights = xp.ones(n // 2 + 1, dtype=gy._data.dtype)
        weights[1:(n + 1) // 2] = 2
        shape = [1] * gy._data.ndim
        shape[dims[-1]] = n // 2 + 1
        return gx * Tensor._make(weights.reshape(shape)), None, None, None


# ---- argument checks ------------------------------------------------------------------------
def _check_norm(norm):
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _floating(x: Tensor, name: str, require_real=False) -> Tensor:
    """x promoted as torch.fft promotes it: integers and bool to the default float dtype."""
    if require_real and x.dtype.is_complex:
        raise RuntimeError(f"{name} expects a real input tensor, but got {short_name(x.dtype)}")
    if x.dtype in (_dtype.float16, _dtype.bfloat16):
        if _autocast.is_enabled("cpu"):  # the transforms are on CPU autocast's float32 list
            return x.float()
        kind = "Half" if x.dtype is _dtype.float16 else "BFloat16"
        raise RuntimeError(f"Unsupported dtype {kind}")
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        return x.to(_dtype.get_default_dtype())
    return x


def _check_points(n):
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")


def _dims_and_sizes(x: Tensor, s, dim, name="fftn"):
    """The transformed dims and their lengths, from s= and dim= as torch.fft.fftn reads them."""
    ndim = x._data.ndim
    if isinstance(dim, int):
        dim = (dim,)
    if s is not None and dim is not None and len(s) != len(dim):
        raise RuntimeError("When given, dim and shape arguments must have the same length")
    if dim is None:
        dim = range(ndim - len(s), ndim) if s is not None else range(ndim)
        if s is not None and len(s) > ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                               f"{ndim} dimensions.")
    dims = tuple(wrap_dim(d, ndim) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError("FFT dims must be unique")
    if s is None:
        sizes = tuple(x._data.shape[d] for d in dims)
    else:
        sizes = tuple(x._data.shape[d] if size == -1 else int(size)
                      for d, size in zip(dims, s))
    for size in sizes:
        _check_points(size)
    return dims, sizes


def _one_dim(x: Tensor, n, dim):
    """The dim and length of a 1-d transform (n= and dim=)."""
    if x._data.ndim == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    d = wrap_dim(dim, x._data.ndim)
    size = x._data.shape[d] if n is None else int(n)
    _check_points(size)
    return (d,), (size,)


# ---- the transforms -------------------------------------------------------------------------
def _planned(x: Tensor) -> Tensor:
    """x, cut or padded to the transform's lengths: MKL refuses to plan for no elements (an
    empty batch dim), with PyTorch's RuntimeError."""
    if x._data.size == 0:
        raise RuntimeError("MKL FFT error: Intel oneMKL DFTI ERROR: Inconsistent configuration "
                           "parameters")
    return x


def _c2c(x, dims, sizes, norm, forward, name):
    x = _floating(x, name)
    norm = _check_norm(norm)
    if len(dims) == 1 and not x.dtype.is_complex:
        # PyTorch's 1-d transform of a real signal is the two-sided R2C (the inverse its
        # conjugate, scaled as an inverse); n-d ones transform the signal cast to complex
        x = R2C.apply(_planned(resize(x, dims, sizes)), dims, norm if forward else _DUAL[norm],
                      False)
        return x if forward else x.conj()
    return C2C.apply(_planned(resize(to_complex(x), dims, sizes)), dims, norm, forward)


def _r2c(x, dims, sizes, norm, name):
    x = _floating(x, name, require_real=True)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    return R2C.apply(_planned(resize(x, dims, sizes)), dims, _check_norm(norm))


def _c2r(x, dims, sizes, norm, name, last_given):
    """irfftn: the last dim's output length defaults to 2·(m - 1) for m input bins."""
    x = to_complex(_floating(x, name))
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    n = sizes[-1] if last_given else 2 * (x._data.shape[dims[-1]] - 1)
    _check_points(n)
    x = _planned(resize(x, dims, sizes[:-1] + (n // 2 + 1,)))
    return C2R.apply(x, dims, n, _check_norm(norm))


def _swap(norm):
    """hfft is irfft of the conjugate with the opposite scaling (and ihfft likewise)."""
    return _DUAL[_check_norm(norm)]


def _out_of(kind, name):
    """with_out, out's dtype refused unless complex / floating, in the words of torch's
    `name` (NOTE [out= dtypes] in ember/_out_dtypes.py)."""
    words = "a complex" if kind == "complex" else "a floating point"
    rule = OutDtype(kind, f"{name} expects {words} output tensor, but got {{out}}")
    return lambda fn: with_out(fn, rule)


@_out_of("complex", "fft")
def fft(input, n=None, dim=-1, norm=None):
    """1-d discrete Fourier transform (matches `torch.fft.fft`)."""
    return _c2c(input, *_one_dim(input, n, dim), norm, True, "fft")


@_out_of("complex", "ifft")
def ifft(input, n=None, dim=-1, norm=None):
    """1-d inverse discrete Fourier transform (matches `torch.fft.ifft`)."""
    return _c2c(input, *_one_dim(input, n, dim), norm, False, "ifft")


@_out_of("complex", "rfft")
def rfft(input, n=None, dim=-1, norm=None):
    """1-d transform of a real signal, the n//2 + 1 non-negative bins (`torch.fft.rfft`)."""
    return _r2c(input, *_one_dim(input, n, dim), norm, "rfft")


@_out_of("floating", "irfft")
def irfft(input, n=None, dim=-1, norm=None):
    """The real signal of a one-sided spectrum (matches `torch.fft.irfft`)."""
    dims, _ = _one_dim(input, 1 if n is not None else None, dim)  # n: the output length
    return _c2r(input, dims, (n or 0,), norm, "irfft", n is not None)


@_out_of("floating", "hfft")
def hfft(input, n=None, dim=-1, norm=None):
    """The real spectrum of a Hermitian-symmetric signal (matches `torch.fft.hfft`)."""
    dims, _ = _one_dim(input, 1 if n is not None else None, dim)  # n: the output length
    return _c2r(conj(_floating(input, "hfft")), dims, (n or 0,), _swap(norm), "hfft",
                n is not None)


@_out_of("complex", "ihfft")
def ihfft(input, n=None, dim=-1, norm=None):
    """The inverse of hfft: one-sided, of a real signal (matches `torch.fft.ihfft`)."""
    x = _floating(input, "ihfft", require_real=True)
    return conj(_r2c(x, *_one_dim(x, n, dim), _swap(norm), "ihfft"))


@_out_of("complex", "fftn")
def fftn(input, s=None, dim=None, norm=None):
    """N-d discrete Fourier transform (matches `torch.fft.fftn`)."""
    return _c2c(input, *_dims_and_sizes(input, s, dim), norm, True, "fftn")


@_out_of("complex", "fftn")
def ifftn(input, s=None, dim=None, norm=None):
    """N-d inverse discrete Fourier transform (matches `torch.fft.ifftn`)."""
    return _c2c(input, *_dims_and_sizes(input, s, dim), norm, False, "ifftn")


@_out_of("complex", "rfftn")
def rfftn(input, s=None, dim=None, norm=None):
    """N-d transform of a real signal, one-sided in the last dim (matches `torch.fft.rfftn`)."""
    x = _floating(input, "rfftn", require_real=True)
    return _r2c(x, *_dims_and_sizes(x, s, dim), norm, "rfftn")


def _c2r_sizes(x, s, dim):
    """dims and sizes for irfftn/hfftn: s (if given) holds the output lengths."""
    if s is None:
        dims, sizes = _dims_and_sizes(x, None, dim)
        return dims, sizes, False
    dims, sizes = _dims_and_sizes(x, s, dim)
    return dims, sizes, s[-1] != -1


@_out_of("floating", "irfftn")
def irfftn(input, s=None, dim=None, norm=None):
    """N-d real signal of a spectrum one-sided in the last dim (matches `torch.fft.irfftn`)."""
    dims, sizes, last_given = _c2r_sizes(input, s, dim)
    return _c2r(input, dims, sizes, norm, "irfftn", last_given)


@_out_of("floating", "hfftn")
def hfftn(input, s=None, dim=None, norm=None):
    """N-d real spectrum of a Hermitian-symmetric signal (matches `torch.fft.hfftn`)."""
    dims, sizes, last_given = _c2r_sizes(input, s, dim)
    x = conj(_floating(input, "hfftn"))
    return _c2r(x, dims, sizes, _swap(norm), "hfftn", last_given)


@_out_of("complex", "ihfftn")
def ihfftn(input, s=None, dim=None, norm=None):
    """N-d inverse of hfftn, one-sided in the last dim (matches `torch.fft.ihfftn`)."""
    x = _floating(input, "ihfftn", require_real=True)
    return conj(_r2c(x, *_dims_and_sizes(x, s, dim), _swap(norm), "ihfftn"))


@_out_of("complex", "fftn")
def fft2(input, s=None, dim=(-2, -1), norm=None):
    """2-d discrete Fourier transform (matches `torch.fft.fft2`)."""
    return fftn(input, s, dim, norm)


@_out_of("complex", "fftn")
def ifft2(input, s=None, dim=(-2, -1), norm=None):
    """2-d inverse discrete Fourier transform (matches `torch.fft.ifft2`)."""
    return ifftn(input, s, dim, norm)


@_out_of("complex", "rfftn")
def rfft2(input, s=None, dim=(-2, -1), norm=None):
    """2-d transform of a real signal (matches `torch.fft.rfft2`)."""
    return rfftn(input, s, dim, norm)


@_out_of("floating", "irfftn")
def irfft2(input, s=None, dim=(-2, -1), norm=None):
    """2-d inverse of rfft2 (matches `torch.fft.irfft2`)."""
    return irfftn(input, s, dim, norm)


@_out_of("floating", "hfftn")
def hfft2(input, s=None, dim=(-2, -1), norm=None):
    """2-d hfft (matches `torch.fft.hfft2`)."""
    return hfftn(input, s, dim, norm)


@_out_of("complex", "ihfftn")
def ihfft2(input, s=None, dim=(-2, -1), norm=None):
    """2-d inverse of hfft2 (matches `torch.fft.ihfft2`)."""
    return ihfftn(input, s, dim, norm)


# ---- frequencies and shifts -----------------------------------------------------------------
def _frequencies(indices, n, d, dtype, requires_grad):
    """indices / (n·d) as a tensor of `dtype` (default: the default float dtype)."""
    dtype = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    with quiet():  # rfftfreq(0) is [nan], as in PyTorch
        values = indices.astype(xp.float64) / (n * d)
    return Tensor._make(values.astype(dtype.numpy), requires_grad=requires_grad)


@with_out
def fftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies of an n-point fft, cycles per unit of d (`torch.fft.fftfreq`)."""
    indices = xp.concatenate([xp.arange((n + 1) // 2), xp.arange(-(n // 2), 0)])
    return _frequencies(indices, n, d, dtype, requires_grad)


@with_out
def rfftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies of an n-point rfft (matches `torch.fft.rfftfreq`)."""
    return _frequencies(xp.arange(n // 2 + 1), n, d, dtype, requires_grad)


def _shift(input, dim, sign):
    ndim = input._data.ndim
    if dim is None:
        dims = tuple(range(ndim))
    else:
        dims = tuple(wrap_dim(d, ndim) for d in ((dim,) if isinstance(dim, int) else dim))
    if not dims:  # torch.roll with no dims and no shifts
        raise RuntimeError("`shifts` required")
    shifts = tuple(sign * (input._data.shape[d] // 2) for d in dims)
    return input.roll(shifts, dims)


def fftshift(input, dim=None):
    """Move the zero frequency to the centre (matches `torch.fft.fftshift`)."""
    return _shift(input, dim, 1)


def ifftshift(input, dim=None):
    """The inverse of fftshift (matches `torch.fft.ifftshift`)."""
    return _shift(input, dim, -1)
