"""2-d convolution through the discrete Fourier transform, where that is faster than im2col.

NOTE [Spectral convolution]
A stride-1 convolution is a correlation, and the DFT turns correlation into a product per
frequency: with x placed at lo in a period of L per dim (zeros elsewhere) and X, W the DFTs on
that L0 x L1 grid,

    y[o] = Σ_k x_pad[o + k]·w[k] = (1/L0·L1) Σ_f X(f)·conj(W(f))·e^{+2πi f·o/L}

where a read that wraps around the period lands on a zero (NOTE [The smallest grid]: L is
H + max(lo, hi), not the padded size H + lo + hi). For
each frequency the product over channels is one small matrix product,
Y(f) (N x Cout) = X(f) (N x C) · conj(W(f))ᵀ (C x Cout): C·Cout complex multiplies per
frequency instead of C·Cout·K0·K1 real ones per output position. For a 5x5 kernel on a 16x16
image that is about a third of im2col's multiplies, and nothing is copied 25 times.

The transforms are matrix products too (NumPy's FFT is slow on many small float32 images): one
axis at a time, with cos/sin basis matrices, the real and imaginary parts in separate halves.
Each product reads its operand transposed (BLAS does that without a copy), so the data never
needs a transpose pass: the forward transform leaves the spectrum frequency-major
(F0, F1, N, re/im, C), the layout the per-frequency products read, and the inverse reads the
products' output frequency-major and leaves y as (N, Cout, O0, O1). Only half the frequencies
of the last axis are kept (x is real, so X(-f) = conj(X(f))); the inverse weighs the others in
twice.

Rounding: each output is a sum over all frequencies instead of over C·K0·K1 products: in
float32 its error is of the same size as im2col's (tests/ops/test_conv_spectral.py compares
both with a float64 reference), but not bit-identical to it.

The gradients use the same machinery: the input gradient, a transposed convolution, is
GX(f) = GY(f)·W(f) inverted at x's positions inside the padded grid, and the weight gradient
gw = Σ_n,o gy[n, o]·x_pad[n, o + k] is the same correlation with the sum over the batch
inside the per-frequency product: GW(f) (C x Cout) = X(f)ᵀ·conj(GY(f)). A layer's gradients
take the route its forward takes, so that one choice is made per layer.
"""

import functools
import math
from typing import NamedTuple

from ember._backend import get_array_module, xp
from ember._threads import lane_blocks, parallel_lanes
from ember.ops._conv_winograd import fits_winograd

# Blocks of the batch: spectra of about this many bytes per block, the temporaries of the
# transforms a few times that (measured: 4 MB as fast as 8-16 MB, 1 MB 15% slower).
_BLOCK_BYTES = 4 * 2**20


# NOTE [Choosing the spectral route]
# Which route is faster depends on more than the count of multiplies: im2col's time goes
# mostly to copying its column buffer (K0·K1 copies of x) and its one big GEMM runs at full
# speed, while the spectral route's small per-frequency products run at a fraction of it and
# its weight spectrum (about F/K0·K1 times the weight) does not shrink with the batch. So the
# choice compares two time models, one term per kind of work, fitted to the time of a
# training step of one layer (forward and both gradients) for 164 shapes (kernels 3 and 5,
# images 8-32 pixels, 3-256 channels, batches 64 and 128) on a 2-core AVX-512 machine:
#   im2col   ≈ a1·(column elements) + a2·(multiply-adds) + a3·(column rows)
#   spectral ≈ b1·(transform terms) + b2·(weight-spectrum terms) + b3·(complex products)
# a3 was added later, from 100 shapes timed on an AMD Zen 4 machine: im2col's copies and
# col2im's adds run along rows of the output's width, so small images cost more per element
# (the 3x3 layers on 8x8 images measured 1.4-2.2x faster spectrally there, predicted 0.8-1.0x).
# With a3 fitted alone, the other constants kept, that machine's picks cost 4.6% more than
# the best route's instead of 6.7%, and every choice listed below stays as measured.
# The spectral route is taken when predicted at least 10% faster, and never for less than
# about a millisecond of work, where its fixed costs (some 25 NumPy calls more) dominate.
# Measured for the seeds' layers (batch 64-100, ember's im2col time / spectral time): 5x5
# 32->32 on 16x16 3.4x, 5x5 32->64 on 8x8 2.3x, 3x3 16->32 and 32->32 on 16x16 1.4x, 3x3 16->16
# on 32x32 1.3x, 3x3 64->64 on 8x8 1.4x (the AMD machine); kept on im2col: the 3-channel
# first layers (0.5-0.6x), 128-512 channels (0.4-0.7x). Over the 164 shapes the rule's
# choices take 3% more time than always choosing the faster route would; its worst pick (3x3,
# 128->64 channels on 16x16) is 1.27x slower than im2col. Machines differ: the AMD one ranks
# small images differently (hence a3), and a layer both rank close (3x3 16->16 on 32x32: 1.3x
# on the first, 1.0x there) goes either way. Where Winograd's route fits (wide 3x3 float32
# layers, such as 3x3 64->64 on 8x8), it is taken instead.
# The terms count the frequencies and lengths of the grid the route computes on (NOTE [The
# smallest grid]), one position per dim shorter than the padded input the constants were fitted
# on; that moved VGG11's 3x3 64->128 on 16x16 (0.98x predicted on the padded grid) here: 63-68
# ms for its forward and both gradients at batch 100, im2col's 83-94 (85 on the padded grid).
_IM2COL_TERMS = (2.22e-6, 3.74e-8, 5e-6)  # ms per column element, multiply-add, column row
_SPECTRAL_TERMS = (1.95e-7, 1.32e-5, 4.54e-7)  # ms per transform term, weight term, product
_MIN_SPEEDUP = 1.1
# A forward with no gradient to follow (inference) must be predicted this much faster: the
# model times a training step, and measured alone the forward of the seeds' 3x3 layers was
# 0.94-0.96x im2col's (predicted 1.25-1.46x), that of their 5x5 layers 1.7-2.8x (1.8-3.0x).
# On the smallest grid 3x3 32->32 on 16x16 measured 1.05x (predicted 1.75x: taken), 16->16
# on 32x32 0.85x (predicted 1.39x: not taken).
_MIN_SPEEDUP_FORWARD_ONLY = 1.6
_MIN_WORK = 10**7  # multiply-adds of the direct convolution


def _fits_spectral(shape, dtype, kernel, geo, out, cy, forward_only=False) -> bool:
    """Whether the convolution of an input of `shape` and `dtype` into cy channels is computed
    spectrally: 2-d, stride and dilation 1, one group, float32/float64, not Winograd's (NOTE
    [Winograd convolution]: faster where it fits), and predicted faster than im2col (NOTE
    [Choosing the spectral route]). Its gradients follow its choice."""
    if fits_winograd(shape, dtype, kernel, geo, out, cy):
        return False
    if (len(kernel) != 2 or dtype.char not in "fd" or geo.groups != 1
            or any(s != 1 for s in geo.stride) or any(d != 1 for d in geo.dilation)
            or not all(out) or any(a < 0 for a in geo.lo + geo.hi)):
        return False
    n, c = shape[:2]
    columns = n * c * math.prod(kernel) * math.prod(out)
    if columns * cy < _MIN_WORK:
        return False
    (l0, l1), freqs = _Grid.of(shape[2:], kernel, geo)
    im2col = (_IM2COL_TERMS[0] * columns + _IM2COL_TERMS[1] * columns * cy
              + _IM2COL_TERMS[2] * columns / out[-1])
    spectral = (_SPECTRAL_TERMS[0] * n * (c + cy) * freqs * (l0 + l1)
                + _SPECTRAL_TERMS[1] * c * cy * freqs + _SPECTRAL_TERMS[2] * n * c * cy * freqs)
    return im2col >= (_MIN_SPEEDUP_FORWARD_ONLY if forward_only else _MIN_SPEEDUP) * spectral


def _transpose_fits_spectral(x, w, geo, out) -> bool:
    """Whether convT(x, w) with stride 1 (out: its output's size) is computed spectrally: when
    the convolution it is the adjoint of, from (N, Cy, *out) into x's Cx channels, is."""
    hi = tuple(s + k - 1 - o - lo for s, k, o, lo in zip(x.shape[2:], w.shape[2:], out, geo.lo))
    shape = (x.shape[0], w.shape[1] * geo.groups) + tuple(out)
    return _fits_spectral(shape, x.dtype, w.shape[2:], geo._replace(hi=hi), x.shape[2:],
                          x.shape[1])


# ---- basis matrices (cached: read-only) ----------------------------------------------------
def _read_only(*arrays):
    """The arrays, made read-only (they are shared by every call through the cache)."""
    for a in arrays:
        a.flags.writeable = False
    return arrays if len(arrays) > 1 else arrays[0]


def _angles(freqs, positions, length):
    """2π·f·p/L for f < freqs (rows) and positions p (columns), reduced mod L exactly."""
    f = xp.arange(freqs)[:, None]
    return (2 * math.pi / length) * ((f * xp.asarray(positions)[None, :]) % length)


@functools.lru_cache(maxsize=64)
def _forward_basis(size, length, offset, freqs, dtype):
    """(2·freqs, size): rows cos θ then -sin θ, θ = 2π·f·(i + offset)/length, so that the
    product with a signal of `size` samples placed at `offset` gives its DFT's real and
    imaginary parts."""
    theta = _angles(freqs, range(offset, offset + size), length)
    return _read_only(xp.concatenate([xp.cos(theta), -xp.sin(theta)]).astype(dtype))


@functools.lru_cache(maxsize=64)
def _inverse_full_basis(freqs, length, count, offset, dtype):
    """Two (2·freqs, count) matrices: [cos; -sin] and [sin; cos] of ψ = 2π·f·o/length at the
    positions o = offset .. offset + count - 1, which take the stacked real and imaginary parts
    of a full spectrum axis to those of Σ_f Y(f)·e^{iψ}."""
    psi = _angles(freqs, range(offset, offset + count), length)
    cos, sin = xp.cos(psi), xp.sin(psi)
    return _read_only(xp.concatenate([cos, -sin]).astype(dtype),
                      xp.concatenate([sin, cos]).astype(dtype))


@functools.lru_cache(maxsize=64)
def _inverse_half_basis(freqs, length, count, offset, scale, dtype):
    """(2·freqs, count): scale·g_f·[cos; -sin] ψ (positions as above), the real part of
    Σ_f Y(f)·e^{iψ} over a full axis from its first half, g_f = 2 for the frequencies that
    stand for two (f and L - f)."""
    psi = _angles(freqs, range(offset, offset + count), length)
    twice = xp.full((freqs, 1), 2.0)
    twice[0] = 1.0
    if length % 2 == 0:
        twice[-1] = 1.0  # the Nyquist frequency is its own mirror
    weight = scale * twice
    basis = xp.concatenate([weight * xp.cos(psi), -weight * xp.sin(psi)])
    return _read_only(basis.astype(dtype))


# ---- transforms -----------------------------------------------------------------------------
def _spectrum(a, length, offset, out=None):
    """The DFT on an L0 x L1 grid of a (N, C, S0, S1) placed at `offset`, as real values
    (F0, F1, N, 2, C): frequency-major, real and imaginary parts side by side (written into
    `out`, a view of that shape, if given)."""
    n, c, s0, s1 = a.shape
    (l0, l1), f1 = length, length[1] // 2 + 1
    module = get_array_module(a)  # the bases are cached as NumPy arrays
    rows = xp.ascontiguousarray(a).reshape(n * c * s0, s1)
    # along the last axis: Z = B1·rowsᵀ, real parts then imaginary parts: (2, F1, N, C, S0)
    z = xp.matmul(module.asarray(_forward_basis(s1, l1, offset[1], f1, a.dtype)), rows.T)
    # along the first axis, each half of Z at once: T (2 [cos, -sin], L0, 2 [re, im], F1, N, C)
    t = xp.matmul(module.asarray(_forward_basis(s0, l0, offset[0], l0, a.dtype)),
                  z.reshape(-1, s0).T)
    t = t.reshape(2, l0, 2, f1, n, c)
    # (cos φ - i sin φ)·(Zr + i Zi): re = cos·Zr + sin·Zi, im = cos·Zi - sin·Zr
    if out is None:
        out = module.empty((l0, f1, n, 2, c), dtype=a.dtype)
    spectrum = out
    xp.subtract(t[0, :, 0], t[1, :, 1], out=spectrum[:, :, :, 0])
    xp.add(t[0, :, 1], t[1, :, 0], out=spectrum[:, :, :, 1])
    return spectrum


@functools.lru_cache(maxsize=64)
def _kernel_basis(kernel, length, dtype):
    """(2·F, K0·K1): rows cos θ then -sin θ, θ = 2π·(f0·k0/L0 + f1·k1/L1), for the F = L0·F1
    kept frequencies (f0 major) and the kernel offsets (k0 major)."""
    (l0, l1), f1 = length, length[1] // 2 + 1
    theta = (_angles(l0, range(kernel[0]), l0)[:, None, :, None]
             + _angles(f1, range(kernel[1]), l1)[None, :, None, :])  # (L0, F1, K0, K1)
    theta = theta.reshape(l0 * f1, kernel[0] * kernel[1])
    return _read_only(xp.concatenate([xp.cos(theta), -xp.sin(theta)]).astype(dtype))


def _weight_spectrum(w, length):
    """The DFT of the kernels w (Cy, C, K0, K1) on the L0 x L1 grid: (F, Cy, 2, C), real and
    imaginary parts side by side, as `_spectrum` lays out a batch. One product with the basis
    of the K0·K1 offsets (kernels are small: two separable passes cost 2x as much)."""
    cy, c = w.shape[:2]
    basis = get_array_module(w).asarray(_kernel_basis(w.shape[2:], tuple(length), w.dtype))
    parts = xp.matmul(basis, w.reshape(cy * c, -1).T)  # (2F, Cy·C): real parts, then imaginary
    freqs = basis.shape[0] // 2
    return xp.ascontiguousarray(parts.reshape(2, freqs, cy, c).transpose(1, 2, 0, 3))


def _inverse(products, length, count, offset=(0, 0), out=None):
    """The real signal (N, C, count0, count1) whose DFT on the L0 x L1 grid, times L0·L1, is
    `products` (2 [re, im], L0, F1, N, C), at positions offset .. offset + count - 1 (written
    into `out`, a contiguous array of that shape, if given)."""
    _, l0, f1, n, c = products.shape
    module = get_array_module(products)
    rows = f1 * n * c
    stacked = products.reshape(2 * l0, rows).T  # (rows, [re; im] of each frequency f0)
    to_real, to_imag = (module.asarray(b) for b in _inverse_full_basis(
        l0, l0, count[0], offset[0], products.dtype))
    half = module.empty((2, f1, n, c, count[0]), dtype=products.dtype)  # Σ over f0
    xp.matmul(stacked, to_real, out=half[0].reshape(rows, count[0]))
    xp.matmul(stacked, to_imag, out=half[1].reshape(rows, count[0]))
    last = module.asarray(_inverse_half_basis(f1, length[1], count[1], offset[1],
                                              1.0 / (l0 * length[1]), products.dtype))
    signal = module.empty((n, c) + tuple(count), products.dtype) if out is None else out
    xp.matmul(half.reshape(2 * f1, n * c * count[0]).T, last,
              out=signal.reshape(n * c * count[0], count[1]))
    return signal


def _batch_blocks(n, item_bytes):
    """Slices of the batch, each with at most about _BLOCK_BYTES of spectrum, shared equally
    by the lanes (NOTE [Lanes] in `ember/_threads.py`)."""
    return lane_blocks(n, max(1, _BLOCK_BYTES // max(item_bytes, 1)), item_bytes)


# ---- the kernels ---------------------------------------------------------------------------
class _Grid(NamedTuple):
    """The DFT grid of a spectral convolution: L0 x L1, half of the last axis kept."""

    length: tuple  # (L0, L1): NOTE [The smallest grid]
    freqs: int  # L0·(L1 // 2 + 1) frequencies kept

    @classmethod
    def of(cls, spatial, kernel, geo):
        """The grid of a convolution of a (*spatial) input with a (*kernel) kernel under geo."""
        length = tuple(_grid_length(s, k, lo, hi)
                       for s, k, lo, hi in zip(spatial, kernel, geo.lo, geo.hi))
        return cls(length, length[0] * (length[1] // 2 + 1))


    def split(self, products):
        """(2, F, N, C) products as the (2, L0, F1, N, C) spectra that `_inverse` reads."""
        return products.reshape((2, self.length[0], self.length[1] // 2 + 1)
                                + products.shape[2:])


def _grid_length(size, kernel, lo, hi):
    """The shortest period L on which the circular correlation gives the zero-padded one.

    NOTE [The smallest grid]
    Along one dim, x (size H) sits at positions lo .. lo + H - 1 of a period L, zeros elsewhere,
    and output o reads positions o + k (mod L) for the kernel offsets k < K. Up to
    o + k = H + lo + hi - 1 the zero-padded input reads x or zeros; past L the read wraps to
    o + k - L, which must be a zero too: below lo, so L ≥ H + hi. x must fit (L ≥ lo + H),
    and the O outputs and K weights must each have a position of their own (L ≥ O, L ≥ K).
    So L = H + max(lo, hi) and not the padded size H + lo + hi: for padding 1 on both sides
    one position less per dim, 1/9 fewer frequencies for 16x16 images and 1/4 for 8x8 (the
    input gradient reads the same positions in reverse, the weight gradient the same ones).
    """
    out = size + lo + hi - kernel + 1
    return max(size + max(lo, hi), out, kernel)


class _Spectra(NamedTuple):
    """What a spectral forward keeps for its backward (NOTE [Spectra kept for the backward])."""

    grid: _Grid
    kernel: tuple  # w's K0 x K1
    blocks: list  # slices of the batch
    inputs: object  # x's spectrum, (F, N, 2·C): [re | im]
    weight: object  # w's spectrum, (F, Cy, 2, C)


def _spectra_of(a, grid, offset, blocks, whole):
    """Each block's spectrum of a (frequency-major, (F, nb, 2·C)), in turn; written into
    `whole` ((F, N, 2·C), the spectrum of the whole batch) when given."""
    n, c = a.shape[:2]
    l0, f1 = grid.length[0], grid.length[1] // 2 + 1
    for block in blocks:
        nb = block.stop - block.start
        if whole is None:
            spectrum = _spectrum(a[block], grid.length, offset)
        else:
            spectrum = _spectrum(a[block], grid.length, offset,
                                 out=whole.reshape(l0, f1, n, 2, c)[:, :, block])
        yield block, spectrum.reshape(grid.freqs, nb, 2 * c)


def _batch_spectrum(a, grid):
    """An empty (F, N, 2·C) array for the spectrum of a whole batch a (N, C, ...)."""
    return get_array_module(a).empty((grid.freqs, a.shape[0], 2 * a.shape[1]), dtype=a.dtype)


def _whole_spectrum(a, grid, offset, blocks):
    """The spectrum (F, N, 2·C) of a whole batch a, computed block by block."""
    whole = _batch_spectrum(a, grid)

    def lane(first, last):
        for _ in _spectra_of(a, grid, offset, blocks[first:last], whole):
            pass  # each block's spectrum is written into `whole` as it is made

    parallel_lanes(lane, len(blocks))
    return whole


def _spectral_forward(x, w, geo, out, bias=None, keep=False):
    """y = conv(x, w) + bias (2-d, stride 1), one product per frequency (NOTE above); with
    `keep`, (y, the _Spectra of x and w for the backward)."""
    n, c = x.shape[:2]
    cy = w.shape[0]
    grid = _Grid.of(x.shape[2:], w.shape[2:], geo)
    module = get_array_module(x)
    weight = _weight_spectrum(w, grid.length)
    # conj(W)ᵀ as two real matrices acting on [Xr | Xi]: Yr = Xr·Wrᵀ + Xi·Wiᵀ, Yi = Xi·Wrᵀ - Xr·Wiᵀ
    wr, wi = weight[:, :, 0].transpose(0, 2, 1), weight[:, :, 1].transpose(0, 2, 1)  # (F, C, Cy)
    to_real = xp.concatenate([wr, wi], axis=1)
    to_imag = xp.concatenate([-wi, wr], axis=1)

    y = module.empty((n, cy) + tuple(out), dtype=x.dtype)
    blocks = _batch_blocks(n, grid.freqs * 2 * (c + cy) * x.itemsize)
    inputs = _batch_spectrum(x, grid) if keep else None

    def lane(first, last):
        for block, spectrum in _spectra_of(x, grid, geo.lo, blocks[first:last], inputs):
            products = module.empty((2, grid.freqs, block.stop - block.start, cy), dtype=x.dtype)
            xp.matmul(spectrum, to_real, out=products[0])
            xp.matmul(spectrum, to_imag, out=products[1])
            _inverse(grid.split(products), grid.length, out, out=y[block])

    parallel_lanes(lane, len(blocks))
    if bias is not None:
        y += bias.reshape(-1, 1, 1)
    return (y, _Spectra(grid, w.shape[2:], blocks, inputs, weight)) if keep else y


# NOTE [Spectra kept for the backward]
# Training a spectral convolution needs the spectra of x and w again: the input gradient is
# GX(f) = GY(f)·W(f) (a convolution, inverted at x's positions lo .. lo + H - 1) and the weight
# gradient GW(f) = Σ_n X(f)ᵀ·conj(GY(f)), both from the one spectrum of gy. The forward keeps
# X and W (about 1.7x the size of x and of w), and `_spectral_backward` computes three
# transforms fewer than the two gradient ops would on their own. Used for a plain backward
# only: with create_graph, the gradients must be ops (ConvTranspose, ConvWeight) to be
# differentiated again, and those recompute their spectra. The weight gradient's sum over the
# batch is one product per frequency over the whole batch's spectra: accumulated block by
# block, its (F, 2C, 2Cy) partial sums would be written once per block, which costs more
# than the products themselves when there are many channels.
def _spectral_backward(spectra, gy, lo, spatial, input_grad=True, weight_grad=True):
    """(gx, gw) of a spectral forward from its kept spectra (None for the one not asked)."""
    grid = spectra.grid
    if input_grad:
        grads = _batch_spectrum(gy, grid) if weight_grad else None
        gx = _transposed(gy, spectra.weight, grid, spectra.blocks, lo, spatial, grads)
    else:
        gx, grads = None, _whole_spectrum(gy, grid, (0, 0), spectra.blocks)
    if not weight_grad:
        return gx, None
    return gx, _weight_from_spectra(spectra.inputs, grads, grid, spectra.kernel)


def _transposed(gy, weight, grid, blocks, lo, spatial, grads=None):
    """convT(gy, w) from w's spectrum (F, Cy, 2, C): GX(f) = GY(f)·W(f), the inverse taken at
    positions lo .. lo + spatial - 1 (x's, inside the zero-padded grid); gy's spectrum is
    written into `grads` (F, N, 2·Cy) when given."""
    n, c = gy.shape[0], weight.shape[-1]
    module = get_array_module(gy)
    wr, wi = weight[:, :, 0], weight[:, :, 1]  # (F, Cy, C)
    # [GYr | GYi]·[[Wr, Wi], [-Wi, Wr]]: GXr = GYr·Wr - GYi·Wi, GXi = GYr·Wi + GYi·Wr
    to_real = xp.concatenate([wr, -wi], axis=1)
    to_imag = xp.concatenate([wi, wr], axis=1)
    gx = module.empty((n, c) + tuple(spatial), dtype=gy.dtype)

    def lane(first, last):
        for block, spectrum in _spectra_of(gy, grid, (0, 0), blocks[first:last], grads):
            products = module.empty((2, grid.freqs, block.stop - block.start, c),
                                    dtype=gy.dtype)
            xp.matmul(spectrum, to_real, out=products[0])
            xp.matmul(spectrum, to_imag, out=products[1])
            _inverse(grid.split(products), grid.length, spatial, lo, out=gx[block])

    parallel_lanes(lane, len(blocks))
    return gx


def _spectral_transpose(x, w, geo, out):
    """y = convT(x, w) with stride 1, the adjoint of a spectral convolution (see
    `_transpose_fits_spectral`): on the grid of that convolution's padded input."""
    length = tuple(s + k - 1 for s, k in zip(x.shape[2:], w.shape[2:]))
    grid = _Grid(length, length[0] * (length[1] // 2 + 1))
    cx, c = w.shape[:2]
    weight = _weight_spectrum(w, length)
    blocks = _batch_blocks(x.shape[0], grid.freqs * 2 * (c + cx) * x.itemsize)
    return _transposed(x, weight, grid, blocks, geo.lo, out)


def _weight_from_spectra(inputs, grads, grid, kernel):
    """gw (Cy, C, K0, K1) = the inverse of Σ_n X(f)ᵀ·conj(GY(f)), from the whole batch's
    spectra (F, N, 2C) and (F, N, 2Cy)."""
    c, cy = inputs.shape[2] // 2, grads.shape[2] // 2
    products = get_array_module(inputs).empty((2, grid.freqs, c, cy), dtype=inputs.dtype)

    def lane(first, last):  # the frequencies first .. last - 1
        # [Xr | Xi]ᵀ·[GYr | GYi] holds the four real products: blocks (re/im of x, re/im of gy)
        cross = xp.matmul(inputs[first:last].transpose(0, 2, 1), grads[first:last])
        cross = cross.reshape(last - first, 2, c, 2, cy)
        # (Xr + i Xi)ᵀ(GYr - i GYi) = XrᵀGYr + XiᵀGYi + i(XiᵀGYr - XrᵀGYi)
        xp.add(cross[:, 0, :, 0], cross[:, 1, :, 1], out=products[0, first:last])
        xp.subtract(cross[:, 1, :, 0], cross[:, 0, :, 1], out=products[1, first:last])

    parallel_lanes(lane, grid.freqs, work_bytes=inputs.nbytes + grads.nbytes)
    gw = _inverse(grid.split(products), grid.length, tuple(kernel))
    return xp.ascontiguousarray(gw.transpose(1, 0, 2, 3))


def _spectral_weight(x, gy, kernel, geo):
    """gw = corr(x, gy) (2-d, stride 1): GW(f) = X(f)ᵀ·conj(GY(f)) summed over the batch."""
    grid = _Grid.of(x.shape[2:], kernel, geo)
    blocks = _batch_blocks(x.shape[0], grid.freqs * 2 * (x.shape[1] + gy.shape[1]) * x.itemsize)
    inputs = _whole_spectrum(x, grid, geo.lo, blocks)
    grads = _whole_spectrum(gy, grid, (0, 0), blocks)
    return _weight_from_spectra(inputs, grads, grid, kernel)
