"""im2col and col2im of 2-d convolutions on whole rows of the padded input, any stride.

NOTE [Columns of whole padded rows]
For a 2-d convolution with stride 1, the window of kernel offset (i, j) in image n of the
zero-padded x (H' x W' per channel) starts at i·d·W' + j·d of the flattened image, and the
out[0] output rows it covers, read as whole padded rows of W' values, are ONE contiguous run
of out[0]·W' values. So the column buffer (C·∏K, N·out[0]·W') is copied in runs of that
length, where `_columns` (ember/ops/_conv_kernels.py) copies rows of out[1] values (4-10x as
many NumPy inner loops for small images). The price: each output row gets W' - out[1] extra
columns, which the GEMM computes and the move to NCHW drops (the extra columns only read x; no
real output depends on them). Worth it when they are few: at most an eighth of a row
(measured on one core: 8-15% faster per layer for 16-32 channels at 32x32 and 16x16, kernel 3;
about 2x for a 3-channel 32x32 input with a 5x5 kernel; slower for 8x8 images with a 5x5
kernel).

col2im (the input gradient of a convolution that takes the col2im route) is the same in
reverse: gy laid out on the extended rows with zeros in the extra columns, so that the
columns Wᵀ·gy are zero there, and each offset's columns added back as runs of whole rows
(measured: 5-10% faster than `_col2im`'s short rows on two threads, 1.2-1.6x on one; the
same adds in the same order, so the same bits). Unless w holds an inf or NaN, whose product
with those zeros is not zero. The weight gradient on whole rows (gy extended likewise)
measured no faster than on `_columns`: not used.

NOTE [Phases of a strided convolution]
With stride s, output o reads padded row s·o + k·d: a strided read for every kernel offset.
Split the padded input into s0·s1 phase images P[p, q][a, b] = x_pad[s0·a + p, s1·b + q]
(phase width W'' = ⌈W'/s1⌉): offset k reads phase (k·d mod s) from row o + ⌊k·d/s⌋ on, a
stride-1 window of that phase, so the runs of whole rows above apply with W'' for W'. col2im
adds into the phases and interleaves them back once (s0·s1 strided copies), where `_col2im`
adds every offset with stride s. (The forward's columns read from phases measured no faster
than `_columns`' strided copies: the forward reads whole rows at stride 1 only.) For stride 1
there is one phase: the padded input itself.
"""

import math
from typing import NamedTuple

from ember._backend import get_array_module, xp

_EXTRA_COLUMNS = 8  # at most 1/8 of a row (NOTE [Columns of whole padded rows])


class RowGrid(NamedTuple):
    """The phase images of a padded input: s0 x s1 phases of (rows, width) values each, stored
    flat with `tail` spare values after each (the last window's run ends past its image)."""

    rows: int
    width: int
    tail: int

    @classmethod
    def of(cls, padded, kernel, geo):
        """The grid of a padded (height, width) input read by `kernel` under `geo`."""
        (s0, s1), d = geo.stride, geo.dilation
        return cls(-(-padded[0] // s0), -(-padded[1] // s1), (kernel[1] - 1) * d[1] // s1)

    @property
    def size(self):
        return self.rows * self.width + self.tail


def fits_rows(padded, kernel, geo, out) -> bool:
    """Whether a 2-d convolution of a padded (height, width) input into `out` takes whole rows:
    few enough extra columns (NOTE [Columns of whole padded rows])."""
    if len(kernel) != 2 or len(padded) != 2 or not all(out):
        return False
    width = -(-padded[1] // geo.stride[1])
    return (width - out[1]) * _EXTRA_COLUMNS <= out[1]


def _phase_span(phase, lo, size, step):
    """Where phase `phase` of a dim meets the unpadded data of `size` values placed at lo:
    (the first data index, the first phase index, how many)."""
    first = (phase - lo) % step
    return first, (first + lo) // step, len(range(first, size, step))


def _phase_pairs(grid_shape, data_shape, lo, stride):
    """For each phase (p, q): (index into the data (.., H, W), index into a phase image
    (.., rows, width)) of the positions the two share."""
    pairs = []
    for p in range(stride[0]):
        for q in range(stride[1]):
            h0, a0, rows = _phase_span(p, lo[0], data_shape[0], stride[0])
            w0, b0, cols = _phase_span(q, lo[1], data_shape[1], stride[1])
            data = (Ellipsis, slice(h0, h0 + (rows - 1) * stride[0] + 1, stride[0]),
                    slice(w0, w0 + (cols - 1) * stride[1] + 1, stride[1]))
            phase = (Ellipsis, slice(a0, a0 + rows), slice(b0, b0 + cols))
            pairs.append(((p, q), data, phase))
    return pairs


def _phase_image(phases, grid, p, q):
    """Phase (p, q) of phases (C, s0, s1, N, size) as a (C, N, rows, width) view."""
    c, n = phases.shape[0], phases.shape[3]
    return phases[:, p, q, :, :grid.rows * grid.width].reshape(c, n, grid.rows, grid.width)


def _phases_of(x, grid, geo):
    """The phase images of zero-padded x (N, C, H, W): (C, s0, s1, N, size)."""
    n, c = x.shape[:2]
    phases = get_array_module(x).zeros((c,) + tuple(geo.stride) + (n, grid.size), x.dtype)
    moved = xp.swapaxes(x, 0, 1)
    for (p, q), data, phase in _phase_pairs(grid, x.shape[2:], geo.lo, geo.stride):
        _phase_image(phases, grid, p, q)[phase] = moved[data]
    return phases


def _offset_start(i, j, grid, geo):
    """(phase p, phase q, start of the run in the flat phase image) of kernel offset (i, j)."""
    (s0, s1), (d0, d1) = geo.stride, geo.dilation
    return (i * d0) % s0, (j * d1) % s1, (i * d0) // s0 * grid.width + (j * d1) // s1


def row_columns(x, kernel, geo, out):
    """(The column buffer (groups, C/g·∏K, N·out[0]·W'') of x read as whole phase rows, W'')
    (NOTE [Columns of whole padded rows], NOTE [Phases of a strided convolution])."""
    n, c = x.shape[:2]
    padded = tuple(s + a + b for s, a, b in zip(x.shape[2:], geo.lo, geo.hi))
    grid = RowGrid.of(padded, kernel, geo)
    phases = _phases_of(x, grid, geo)
    run = out[0] * grid.width
    cols = get_array_module(x).empty((c,) + tuple(kernel) + (n, run), dtype=x.dtype)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            p, q, start = _offset_start(i, j, grid, geo)
            cols[:, i, j] = phases[:, p, q, :, start:start + run]
    return cols.reshape(geo.groups, c // geo.groups * math.prod(kernel), n * run), grid.width


def rows_of(a, width, groups):
    """a (N, C, O0, O1) channel-major on rows of `width` >= O1 values, zeros after each row:
    (groups, C/g, N·O0·width), the layout `row_columns`' columns pair with."""
    n, c, o0, o1 = a.shape
    extended = get_array_module(a).zeros((c, n, o0, width), dtype=a.dtype)
    extended[..., :o1] = xp.swapaxes(a, 0, 1)
    return extended.reshape(groups, c // groups, n * o0 * width)


def row_col2im(cols, size, lo, out, kernel, geo):
    """The adjoint of `row_columns`: the columns (C, K0, K1, N, O0·width) (width: the phase
    width of RowGrid.of(size, kernel, geo)), zero in their extra columns, added back into a
    zero-padded (rows, cols) = `size` grid of which y (N, C, *out) is the part at lo (NOTE
    [Phases of a strided convolution])."""
    c, n = cols.shape[0], cols.shape[3]
    grid = RowGrid.of(size, kernel, geo)
    phases = get_array_module(cols).zeros((c,) + tuple(geo.stride) + (n, grid.size), cols.dtype)
    run = cols.shape[-1]
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            p, q, start = _offset_start(i, j, grid, geo)
            phases[:, p, q, :, start:start + run] += cols[:, i, j]
    y = get_array_module(cols).empty((n, c) + tuple(out), dtype=cols.dtype)
    moved = xp.swapaxes(y, 0, 1)
    for (p, q), data, phase in _phase_pairs(grid, out, lo, geo.stride):
        moved[data] = _phase_image(phases, grid, p, q)[phase]
    return y
