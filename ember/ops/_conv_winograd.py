"""3x3 convolution with Winograd's minimal filtering F(2x2, 3x3), for wide float32 layers.

NOTE [Winograd convolution]
Each 2x2 block of outputs ("tile") of a stride-1 3x3 convolution depends on a 4x4 patch d of
the padded input, and (Lavin & Gray, 2016)

    y_tile = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A      (per input channel, summed over channels)

with small constant matrices B (4x4), G (4x3), A (4x2). The sum over input channels moves
inside: for each of the 16 positions e of the 4x4 transformed tile,
M[e] (tiles x Cout) = V[e] (tiles x C) · U[e] (C x Cout), one GEMM per position, with
U = G g Gᵀ the transformed weight and V = Bᵀ d B the transformed patches. That is 16
multiplies per channel pair and tile where the direct way (im2col's GEMM) does 4·9 = 36:
2.25x fewer. The transforms are additions only (B and A hold 0 and ±1), done as whole-array
adds and subtracts on strided views, separably: along tile rows, then along tile columns.
Each transformed array holds 4 values per input (or output) position where im2col's column
buffer holds 9 per output position.

When: the layer's GEMMs must dominate its copies, i.e. wide layers. Measured on a 2-core AMD
Zen 4 machine, batch 100, forward / weight gradient / input gradient against im2col:
256->256 channels on 8x8 images 1.6x / 1.6x / 1.7x faster, 512->512 on 4x4 1.5x / 1.3x /
1.5x, 128->256 on 8x8 1.2x / 1.2x / 1.7x, 256->256 on 28x28 (batch 8) 1.4x each; about even
for 128 channels on 16x16, slower for 128 on 32x32 (0.9x), for 64->128 on 16x16 (0.7x), on
2x2 outputs and for two images of 8x8. 64->64 on 8x8 measured 1.3-1.7x faster than im2col
alone, but the CIFAR ResNet's step with those layers here was 2-4% slower than with the
spectral route, which keeps its spectra for the backward. So: 128 channels or more on both
sides for outputs up to 8x8, 256 for bigger ones, never below 4x4 or 256 outputs per channel
over the batch (`fits_winograd`). A VGG11-BN training step (CIFAR, batch 100) took
0.82-0.85x the time with this route, interleaved in one process.
float32 only: the transforms round (G holds ½), so results differ from im2col's in the last
bits, with errors against a float64 reference of the same size (at most twice im2col's:
tests/ops/test_conv_winograd.py). The input gradient, a stride-1 transposed convolution, is
the same convolution with the flipped weight, and takes this route too; so does the weight
gradient (`winograd_weight`), whose per-position GEMMs sum over the batch.
"""

import math

from ember._backend import get_array_module, xp
from ember._threads import lane_blocks, parallel_lanes

# Bᵀ rows: (1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1); applied by `_rows_by_bt`.
# G (4x3) rows: (1, 0, 0), (½, ½, ½), (½, -½, ½), (0, 0, 1): the weight's transform.
# Aᵀ rows: (1, 1, 1, 0), (0, 1, -1, -1); applied by `_rows_by_at`.
_G = ((1.0, 0.0, 0.0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0.0, 0.0, 1.0))

# Where the route is taken (NOTE [Winograd convolution]): at least _MIN_CHANNELS on both
# sides, and _WIDE_CHANNELS unless the output is at most _SMALL_OUTPUT per dim; never for
# outputs under _MIN_OUTPUT per dim (2x2: one tile per image, where im2col is faster), nor
# for fewer than _MIN_POSITIONS outputs per channel over the batch (a few images: the weight's
# transform, 16·C·Cout values, then costs more than the multiplies saved).
_MIN_CHANNELS = 128
_WIDE_CHANNELS = 256
_SMALL_OUTPUT = 8
_MIN_OUTPUT = 4
_MIN_POSITIONS = 256
_BLOCK_BYTES = 8 * 2**20  # transformed input per batch block (and at least the weight's bytes)


def fits_winograd(shape, dtype, kernel, geo, out, cy) -> bool:
    """Whether the convolution of an input of `shape` into cy channels takes this route:
    3x3, stride and dilation 1, one group, float32, wide enough and big enough (below)."""
    return (tuple(kernel) == (3, 3) and dtype.char == "f" and geo.groups == 1
            and all(s == 1 for s in geo.stride) and all(d == 1 for d in geo.dilation)
            and min(out) >= _MIN_OUTPUT and not any(a < 0 for a in geo.lo + geo.hi)
            and shape[0] * math.prod(out) >= _MIN_POSITIONS
            and min(shape[1], cy) >= (_MIN_CHANNELS if max(out) <= _SMALL_OUTPUT
                                      else _WIDE_CHANNELS))


def winograd_forward(x, w, geo, out, bias=None):
    """y = conv(x, w) + bias for a 3x3 stride-1 convolution (NOTE [Winograd convolution])."""
    n, c = x.shape[:2]
    cy = w.shape[0]
    module = get_array_module(x)
    y = module.empty((n, cy) + tuple(out), dtype=x.dtype)
    u = _weight_transform(w)  # (16, C, Cout)
    tiles = tuple(-(-o // 2) for o in out)
    per_image = 16 * c * math.prod(tiles) * x.itemsize
    blocks = lane_blocks(n, max(1, max(_BLOCK_BYTES, u.nbytes) // per_image), per_image)

    def lane(first, last):
        for block in blocks[first:last]:
            v = _input_transform(x[block], geo.lo, tiles)  # (16, tiles·nb, C)
            m = xp.matmul(v, u)  # (16, tiles·nb, Cout)
            _output_transform(m, y[block], tiles)

    parallel_lanes(lane, len(blocks))
    if bias is not None:
        y += bias.reshape(-1, 1, 1)
    return y


def winograd_weight(x, gy, geo):
    """gw of a 3x3 stride-1 convolution of x with output gradient gy: with M = Σ_c U_c ⊙ V_c
    per tile and y = Aᵀ M A, dL/dM = A gy Aᵀ, dL/dU = Σ_tiles dL/dM ⊙ V (one GEMM per position
    e, summed over the batch inside it) and dL/dg = Gᵀ (dL/dU) G."""
    n, c = x.shape[:2]
    cy = gy.shape[1]
    out = gy.shape[2:]
    module = get_array_module(x)
    tiles = tuple(-(-o // 2) for o in out)
    per_image = 16 * (c + cy) * math.prod(tiles) * x.itemsize
    step = max(1, max(_BLOCK_BYTES, 16 * c * cy * x.itemsize) // per_image)
    blocks = lane_blocks(n, step, per_image)

    def lane(first, last):  # this lane's share of dL/dU, (C, Cout) per position
        grad = module.zeros((16, c, cy), dtype=x.dtype)
        for block in blocks[first:last]:
            v = _input_transform(x[block], geo.lo, tiles)  # (16, tiles·nb, C)
            grad += xp.matmul(v.transpose(0, 2, 1), _gradient_transform(gy[block], tiles))
        return grad

    grad, *others = parallel_lanes(lane, len(blocks))
    for other in others:
        grad += other
    g16 = module.asarray(_g_kron(x.dtype))  # (16, 9)
    gw = xp.matmul(g16.T, grad.reshape(16, c * cy)).reshape(3, 3, c, cy)
    return xp.asanyarray(gw.transpose(3, 2, 0, 1), order="C")


def _gradient_transform(gy, tiles):
    """A gy Aᵀ of every 2x2 output tile of gy (zero past its edge): (16, tiles·nb, Cout)."""
    n, cy, h, w = gy.shape
    t0, t1 = tiles
    module = get_array_module(gy)
    padded = module.zeros((2 * t0, 2 * t1, n, cy), dtype=gy.dtype)
    padded[:h, :w] = gy.transpose(2, 3, 0, 1)
    by_rows = module.empty((4, t0, 2 * t1, n, cy), dtype=gy.dtype)
    _rows_by_a([padded[k::2] for k in range(2)], by_rows)
    t = module.empty((4, 4, t0, t1, n, cy), dtype=gy.dtype)
    for i in range(4):
        _rows_by_a([by_rows[i, :, k::2] for k in range(2)], t[i])
    return t.reshape(16, t0 * t1 * n, cy)


def _rows_by_a(r, out):
    """out[0..3] = A·(r0, r1): r0, r0 + r1, r0 - r1, -r1."""
    xp.copyto(out[0], r[0])
    xp.add(r[0], r[1], out=out[1])
    xp.subtract(r[0], r[1], out=out[2])
    xp.negative(r[1], out=out[3])


def _g_kron(dtype):
    """G ⊗ G (16, 9): vec(G g Gᵀ) = (G ⊗ G)·vec(g) for a 3x3 g."""
    return xp.asarray([[a * b for a in row_i for b in row_j] for row_i in _G for row_j in _G],
                      dtype=dtype)


# NOTE [Winograd's layout]
# The transforms combine rows and columns two apart: on NCHW data those are short strided
# runs (8 values for an 8x8 image), which NumPy walks slowly. So the kernels work in an
# (H, W, N, C) layout, where every combined slab is a contiguous run of N·C values: one copy
# in (NCHW -> HWNC, with the zero padding) and one out; the GEMMs read it as (tiles·N, C).
def _weight_transform(w):
    """U = G g Gᵀ for every (Cout, C) pair, as (16, C, Cout) in w's dtype."""
    cy, c = w.shape[:2]
    module = get_array_module(w)
    u = xp.matmul(module.asarray(_g_kron(w.dtype)), w.reshape(cy * c, 9).T).reshape(16, cy, c)
    return xp.asanyarray(u.transpose(0, 2, 1), order="C")


def _input_transform(x, lo, tiles):
    """V = Bᵀ d B of every 4x4 input patch d (stride 2) of x zero-padded by lo before and
    enough after: (16, tiles0·tiles1·nb, C), position e = 4·i + j of the transformed tile."""
    n, c, h, w = x.shape
    t0, t1 = tiles
    module = get_array_module(x)
    padded = module.zeros((2 * t0 + 2, 2 * t1 + 2, n, c), dtype=x.dtype)
    padded[lo[0]:lo[0] + h, lo[1]:lo[1] + w] = x.transpose(2, 3, 0, 1)
    # along tile rows: rows 2t .. 2t+3 of every tile row t, combined by Bᵀ
    by_rows = module.empty((4, t0, 2 * t1 + 2, n, c), dtype=x.dtype)
    _rows_by_bt([padded[k:k + 2 * t0:2] for k in range(4)], by_rows)
    # along tile columns, likewise, into the 16 positions
    v = module.empty((4, 4, t0, t1, n, c), dtype=x.dtype)
    for i in range(4):
        _rows_by_bt([by_rows[i, :, k:k + 2 * t1:2] for k in range(4)], v[i])
    return v.reshape(16, t0 * t1 * n, c)


def _rows_by_bt(r, out):
    """out[0..3] = Bᵀ·(r0, r1, r2, r3): r0 - r2, r1 + r2, r2 - r1, r1 - r3."""
    xp.subtract(r[0], r[2], out=out[0])
    xp.add(r[1], r[2], out=out[1])
    xp.subtract(r[2], r[1], out=out[2])
    xp.subtract(r[1], r[3], out=out[3])


def _rows_by_at(r, out):
    """out[0..1] = Aᵀ·(r0, r1, r2, r3): r0 + r1 + r2, r1 - r2 - r3."""
    xp.add(r[0], r[1], out=out[0])
    out[0] += r[2]
    xp.subtract(r[1], r[2], out=out[1])
    out[1] -= r[3]


def _output_transform(m, y, tiles):
    """y (nb, Cout, *out) = Aᵀ M A of every transformed tile in m (16, tiles·nb, Cout),
    cropped to y's size where the tiles overhang it."""
    nb, cy, h, w = y.shape
    t0, t1 = tiles
    module = get_array_module(m)
    m = m.reshape(4, 4, t0, t1, nb, cy)
    by_rows = module.empty((2, 4, t0, t1, nb, cy), dtype=m.dtype)  # Aᵀ along tile rows
    for j in range(4):
        _rows_by_at([m[k, j] for k in range(4)], by_rows[:, j])
    # full[2·t0 + i, 2·t1 + j] is position (i, j) of tile (t0, t1): a strided view each
    full = module.empty((t0, 2, t1, 2, nb, cy), dtype=y.dtype)
    for i in range(2):
        _rows_by_at([by_rows[i, k] for k in range(4)], [full[:, i, :, j] for j in range(2)])
    full = full.reshape(2 * t0, 2 * t1, nb, cy)
    y[...] = full[:h, :w].transpose(2, 3, 0, 1)
