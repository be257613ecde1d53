"""Max pooling's common case on arrays: windows that tile the input (kernel == stride, no
padding, no dilation), as in every `nn.MaxPool2d(2)` of a conv net.

NOTE [Max pooling over tiles]
When the windows tile the input, the (N, C, *L) input cropped to the windows is a view of
shape (N, C, O1, K1, O2, K2, ..., O_last·K_last): one axis pair per spatial dim but the last,
whose rows stay whole so that NumPy's inner loops run along them. Then
- the maximum is a pairwise `xp.maximum` over the K1 slices (whole contiguous rows), the K2
  slices, ..., and the stride-K_last slices of the rows: a few passes over the input, no window
  copy. A reduction (`max(axis=(3, 5))`) or an `argmax` over the small window axes is many
  times slower, as NumPy reduces short non-contiguous axes element by element.
- no indices are computed in the forward pass. The backward compares the input with its
  window's maximum (repeated along the rows: one comparison with long inner loops); the mask
  keeps the first maximum of each window in the scan order (row-major over the kernel) and, in
  a window holding NaN, the last NaN, as PyTorch's kernel does. gx is gy where the mask is set
  and +0 elsewhere: the bits of gy + 0 (PyTorch adds gy into zeros, which turns -0 into +0)
  as unsigned integers times the mask (0 or 1); a float multiplication by the mask would make
  -0 of a negative gy, and `where` is many times slower.
The batch is split into blocks on `parallel_blocks`' threads: each block reads and writes only
its own images.
"""

from ember._backend import get_array_module, xp
from ember._threads import parallel_blocks

_MIN_BLOCK_BYTES = 1 << 18  # don't fan out for less than 256 KiB of input per block


def tiles_input(shape, kernel, stride, padding, dilation, out) -> bool:
    """Whether the windows tile (part of) the input: kernel == stride, no padding/dilation."""
    return (all(k == s for k, s in zip(kernel, stride)) and not any(padding)
            and all(d == 1 or k == 1 for d, k in zip(dilation, kernel))
            and all(o * k <= n for o, k, n in zip(out, kernel, shape[2:])))


def _tiled(a, kernel, out):
    """a cropped to the windows, viewed as (N, C, O1, K1, ..., O_last·K_last): the last dim
    stays whole, so that NumPy's inner loops run along whole rows."""
    crop = a[(slice(None),) * 2 + tuple(slice(0, o * k) for o, k in zip(out, kernel))]
    shape = a.shape[:2]
    for o, k in zip(out[:-1], kernel[:-1]):
        shape += (o, k)
    return crop.reshape(shape + (out[-1] * kernel[-1],))


def _offset_view(tiles, d, nd, k, offset):
    """The view of window offset `offset` along dim d (of nd) of a tiled array whose window
    axes before d are reduced away: an index on the K axis, or a stride-k slice of the rows."""
    if d == nd - 1:
        return tiles[..., offset::k]
    return tiles[(slice(None),) * (3 + d) + (offset,)]


def _tile_max(tiles, kernel, out=None):
    """The maximum over each window of the tiled view, K1 axis first (whole rows)."""
    nd = len(kernel)
    best = tiles
    for d, k in enumerate(kernel):
        target = out if d == nd - 1 else None
        first = _offset_view(best, d, nd, k, 0)
        if k == 1:
            best = first if target is None else _copy_into(target, first)
            continue
        reduced = xp.maximum(first, _offset_view(best, d, nd, k, 1), out=target)
        for offset in range(2, k):
            xp.maximum(reduced, _offset_view(best, d, nd, k, offset), out=reduced)
        best = reduced
    return best


def _copy_into(target, source):
    xp.copyto(target, source)
    return target


def tile_max(a, kernel, out):
    """y[n, c, o] = max of the window o of a[n, c] (NaN propagates), for tiling windows."""
    best = get_array_module(a).empty(a.shape[:2] + tuple(out), dtype=a.dtype)
    tiles = _tiled(a, kernel, out)

    def block(start, stop):
        _tile_max(tiles[start:stop], kernel, best[start:stop])

    parallel_blocks(block, a.shape[0], _min_block(a))
    return best


def _min_block(a):
    """Images per block so that each block has at least _MIN_BLOCK_BYTES of input."""
    per_image = max(a[0].nbytes, 1) if a.shape[0] else 1
    return max(1, -(-_MIN_BLOCK_BYTES // per_image))


def _offsets(tiles, kernel):
    """The views of each kernel offset in PyTorch's scan order (row-major over the kernel)."""
    views = []
    for offset in xp.ndindex(*kernel):
        index = (slice(None),) * 2
        for j in offset[:-1]:
            index += (slice(None), j)
        views.append(tiles[index + (slice(offset[-1], None, kernel[-1]),)])
    return views


def _keep_first(mask, kernel, reverse=False):
    """Clear every set entry of each window's mask but its first in scan order (or last)."""
    views = _offsets(mask, kernel)
    if reverse:
        views.reverse()
    seen = views[0].copy()
    for number, view in enumerate(views[1:], 2):
        xp.greater(view, seen, out=view)  # view and not seen
        if number < len(views):
            xp.logical_or(seen, view, out=seen)


def _spread(y, kernel, plus_zero=False):
    """An output-shaped array as (N, C, O1, 1, ..., O_last·K_last), to broadcast over the
    tiles: repeated along the last dim, so that the rows line up with the tiles' rows. With
    plus_zero, -0 becomes +0 (y + 0), as PyTorch's scatter-add into zeros makes it."""
    k = kernel[-1]
    if k == 2 and y.dtype.itemsize == 4 and y.flags.c_contiguous:
        rows = _pairs(y + 0 if plus_zero else y)
    else:
        rows = get_array_module(y).empty(y.shape + (k,), dtype=y.dtype)
        for j in range(k):  # k strided copies: faster than xp.repeat
            if plus_zero:
                xp.add(y, 0, out=rows[..., j])
            else:
                rows[..., j] = y
    shape = y.shape[:2]
    for o in y.shape[2:-1]:
        shape += (o, 1)
    return rows.reshape(shape + (y.shape[-1] * k,))


def _pairs(y):
    """y (4-byte items) with each value twice, shape y.shape + (2,), made as 8-byte words: the
    word v·(2³² + 1) holds v in both halves. Two contiguous passes, where two strided copies
    take 1.7x as long (the 2x2 pooling of every conv net)."""
    words = y.view(xp.uint32).astype(xp.uint64)
    words *= xp.uint64(0x100000001)
    return words.view(y.dtype).reshape(y.shape + (2,))


def _argmax_mask(tiles, best, kernel):
    """The (first maximum | last NaN) position of each window, as a bool mask of the tiles."""
    mask = tiles == _spread(best, kernel)
    if xp.count_nonzero(mask) != best.size:  # ties (or NaN windows, which match nowhere)
        _keep_first(mask, kernel)
    if best.dtype.kind not in "iub" and xp.isnan(best).any():
        nans = xp.isnan(tiles)
        _keep_first(nans, kernel, reverse=True)
        xp.logical_or(mask, nans, out=mask)
    return mask


def tile_max_backward(a, best, gy, kernel, out):
    """gx = gy at each window's maximum of a (see NOTE [Max pooling over tiles]), 0 elsewhere."""
    module = get_array_module(a)
    whole = all(o * k == n for o, k, n in zip(out, kernel, a.shape[2:]))
    gx = module.empty(a.shape, dtype=gy.dtype) if whole else module.zeros(a.shape, gy.dtype)
    bits = xp.dtype(f"u{gy.dtype.itemsize}")
    tiles, gx_bits = _tiled(a, kernel, out), _tiled(gx, kernel, out).view(bits)

    def block(start, stop):
        mask = _argmax_mask(tiles[start:stop], best[start:stop], kernel)
        spread = _spread(gy[start:stop], kernel, plus_zero=True)
        xp.multiply(spread.view(bits), mask.view(xp.uint8), out=gx_bits[start:stop])

    parallel_blocks(block, a.shape[0], _min_block(a))
    return gx
