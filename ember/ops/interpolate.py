"""Interpolation: F.interpolate's modes and the deprecated upsample functions.

NOTE [Interpolation as one matrix per dim]
Every mode weighs each spatial dim independently. 'nearest' and 'nearest-exact' pick one source
index per output position: a gather per dim (`TakeAlong`, whose adjoint is a scatter-add).
The others are a small (out × in) weight matrix per dim, applied with `SeparableLinear`:
    linear/bilinear/trilinear  two taps, src = (dst + ½)·scale − ½ clamped at 0 (or dst·scale
                               with align_corners), weights 1 − λ and λ;
    bicubic                    four taps of Keys' cubic (A = −0.75), indices clamped to the edge;
    antialias (and lanczos)    PyTorch's resampling filter: a triangle, cubic (A = −0.5) or
                               Lanczos-3 kernel stretched by the scale when downsampling, each row
                               normalised to sum 1;
    area                       adaptive average pooling.
The scale of a dim is (in − 1)/(out − 1) with align_corners, else 1/scale_factor when a scale
factor is given (and not recomputed), else in/out; PyTorch computes it and the source indices
in the opmath type (float32 for float16/bfloat16/float32, float64 for float64). For 16-bit
inputs its linear, trilinear and bicubic kernels store the weights in the input dtype
before computing in float32; bilinear keeps them in float32 (NOTE [opmath]). Its separable
kernels (every mode but plain bicubic) leave a dim whose size is kept as it is, whatever the
scale factor. uint8 images (bilinear, bicubic) take PyTorch's integer path:
fixed-point weights, the width first, each pass rounded and clamped (`_resample_uint8`).
"""

import math

from ember._warnings import warn as _warn
from ember._backend import get_array_module, quiet, scatter_add, xp
from ember._rng.mathfun import fma32, fma64
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops._opmath import is_half, opmath_dtype, widen
from ember.ops.conv import _named, _type_word
from ember.ops.conversion import in_suggested_format
from ember.ops.padding import TakeAlong
from ember.ops.pool_adaptive import (
    SeparableLinear,
    _transposed,
    allocation_errors,
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
)

_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2, "lanczos": 2}
_MODES_TEXT = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"
_NODE_NAMES = {"linear": "UpsampleLinear1D", "bilinear": "UpsampleBilinear2D",
               "bicubic": "UpsampleBicubic2D", "trilinear": "UpsampleTrilinear3D"}
_AA_NODE_NAMES = {"bilinear": "UpsampleBilinear2DAa", "bicubic": "UpsampleBicubic2DAa",
                  "lanczos": "UpsampleLanczos2DAa"}


# ---- weight matrices, one per dim -----------------------------------------------------------
def _scale(n_in, n_out, given, align_corners, dtype):
    """PyTorch's area_pixel_compute_scale, in dtype."""
    if align_corners:
        return dtype(n_in - 1) / dtype(n_out - 1) if n_out > 1 else dtype(0)
    return dtype(given)


def _linear_taps(n_in, n_out, scale, align_corners, dtype, module, store=None):
    """PyTorch's two taps per output of 1-d linear interpolation: (i0, i1, 1 − λ, λ) with its
    source-index rule; a dim of unchanged size is i0 = i1 = dst, λ = 0. With `store` (a 16-bit
    dtype), λ and then 1 − λ rounded to it, as PyTorch stores them."""
    dst = module.arange(n_out, dtype=dtype)
    if n_in == n_out:
        i0 = module.arange(n_out)
        return i0, i0, module.ones(n_out, dtype=dtype), module.zeros(n_out, dtype=dtype)
    step = _scale(n_in, n_out, scale, align_corners, dtype)
    if align_corners:
        src = dst * step
    else:  # PyTorch's compiler fuses step·(dst + ½) − ½ into one FMA (λ > 0 where it is ~1e-8)
        fused = fma32 if dtype == xp.float32 else fma64
        src = xp.maximum(fused(xp.full_like(dst, step), dst + dtype(0.5),
                               xp.full_like(dst, -0.5)).astype(dtype), dtype(0))
    # PyTorch floors with floorf, so a float64 index just below an integer rounds up to it
    # (λ then clamped to 0)
    i0 = xp.minimum(xp.floor(src.astype(xp.float32)).astype(xp.int64), n_in - 1)
    i1 = xp.minimum(i0 + 1, n_in - 1)
    lam = _stored(xp.clip(src - i0, dtype(0), dtype(1)).astype(dtype), store)
    return i0, i1, _stored(dtype(1) - lam, store), lam


def _linear_matrix(n_in, n_out, scale, align_corners, dtype, module, store=None):
    """(out × in) weights of 1-d linear interpolation: `_linear_taps` as a matrix."""
    i0, i1, w0, w1 = _linear_taps(n_in, n_out, scale, align_corners, dtype, module, store)
    m = module.zeros((n_out, n_in), dtype=dtype)
    rows = module.arange(n_out)
    scatter_add(m, (rows, i0), w0)
    scatter_add(m, (rows, i1), w1)
    return m


class LinearTaps(Op):
    """y = x[i0]·(1 − λ) + x[i1]·λ along each trailing dim, the last first, as PyTorch's
    kernel sums the two taps (so an inf or NaN reaches only the outputs whose taps hold it,
    even with weight 0: inf·0 is NaN there, as in PyTorch); gx = gy ×_1 M_1ᵀ ··· ×_k M_kᵀ,
    the adjoint `SeparableLinear` also has. Taken only for inputs that are not all finite,
    where SeparableLinear's matmul would spread 0·inf over whole lines."""

    @staticmethod
    def forward(ctx, x, taps, mats):
        ctx.mats = mats
        a = x._data
        y = widen(a)
        with quiet():
            for j, (i0, i1, w0, w1) in reversed(tuple(enumerate(taps))):
                axis = a.ndim - len(taps) + j
                shape = (-1,) + (1,) * (a.ndim - axis - 1)
                y = xp.take(y, i0, axis) * w0.reshape(shape) + \
                    xp.take(y, i1, axis) * w1.reshape(shape)
        return y.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        return SeparableLinear.apply(gy, _transposed(ctx.mats)), None, None


def _stored(a, store):
    """a rounded to the dtype `store` (and back), or a itself when store is None."""
    return a if store is None else a.astype(store).astype(a.dtype)


def _cubic_near(x, a):
    """Keys' cubic kernel for |x| <= 1, written as PyTorch's upsampling kernel writes it."""
    return ((a + 2) * x - (a + 3)) * x * x + 1


def _cubic_far(x, a):
    """Keys' cubic kernel for 1 < |x| < 2, as PyTorch's upsampling kernel writes it."""
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a


def _cubic_matrix(n_in, n_out, scale, align_corners, dtype, module, store=None):
    """(out × in) weights of 1-d bicubic interpolation (A = -0.75, clamped borders); with
    `store`, each weight rounded to it, as PyTorch stores them."""
    dst = module.arange(n_out, dtype=dtype)
    step = _scale(n_in, n_out, scale, align_corners, dtype)
    src = dst * step if align_corners else (dst + dtype(0.5)) * step - dtype(0.5)
    i0 = xp.floor(src).astype(xp.int64)
    t = (src - i0).astype(dtype)
    a, one = dtype(-0.75), dtype(1)
    weights = (_cubic_far(t + one, a), _cubic_near(t, a), _cubic_near(one - t, a),
               _cubic_far((one - t) + one, a))
    m = module.zeros((n_out, n_in), dtype=dtype)
    rows = module.arange(n_out)
    for offset, w in zip((-1, 0, 1, 2), weights):
        w = _stored(w.astype(dtype), store)
        scatter_add(m, (rows, xp.clip(i0 + offset, 0, n_in - 1)), w)
    return m


def _aa_cubic(x):
    """The antialiasing cubic filter (A = -0.5), zero from |x| = 2."""
    x, a = xp.abs(x), -0.5
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = (((x - 5) * x + 8) * x - 4) * a
    return xp.where(x < 1, near, xp.where(x < 2, far, 0.0))


def _triangle(x):
    return xp.maximum(0.0, 1.0 - xp.abs(x))


def _lanczos3(x):
    return xp.where(xp.abs(x) < 3, xp.sinc(x) * xp.sinc(x / 3), 0.0)


_AA_FILTERS = {"bilinear": (_triangle, 2), "bicubic": (_aa_cubic, 4), "lanczos": (_lanczos3, 6)}


def _antialias_matrix(n_in, n_out, scale, align_corners, dtype, module, mode, antialias=True,
                      delta=0.0):
    """(out × in) weights of PyTorch's antialiased resampling: output i reads the inputs whose
    centres lie within `support` of its centre scale·(i + ½), weighted by the mode's filter
    (stretched by the scale when downsampling) and normalised to sum 1. With antialias False
    (PyTorch's uint8 bilinear kernel) the filter is not stretched, and `delta` (½ with
    align_corners) shifts the centres."""
    kernel, taps = _AA_FILTERS[mode]
    step = float(_scale(n_in, n_out, scale, align_corners, dtype))
    stretch = antialias and step >= 1.0
    support = taps * 0.5 * step if stretch else taps * 0.5
    invscale = 1.0 / step if stretch else 1.0
    center = step * (module.arange(n_out, dtype=xp.float64) + 0.5 - delta)
    low = xp.maximum((center - support + 0.5 + delta).astype(xp.int64), 0)  # C's truncation
    size = xp.minimum((center + support + 0.5 + delta).astype(xp.int64), n_in) - low
    j = module.arange(max(int(size.max()), 1) if n_out else 1)
    w = kernel((j + low[:, None] - center[:, None] + 0.5 - delta) * invscale)
    w = xp.where(j < size[:, None], w, 0.0)
    total = w.sum(axis=1, keepdims=True)
    w = xp.where(total != 0, w / xp.where(total != 0, total, 1.0), w)
    m = module.zeros((n_out, n_in), dtype=xp.float64)
    valid = j < size[:, None]
    rows = xp.broadcast_to(module.arange(n_out)[:, None], w.shape)
    m[rows[valid], (low[:, None] + j)[valid]] = w[valid]
    return m.astype(dtype)


# ---- uint8 images -----------------------------------------------------------------------------
def _fixed_point(m):
    """PyTorch's int16 form of a uint8 resampling matrix: weights·2^p rounded half away from
    zero, with p the largest precision (≤ 22) at which twice the largest weight stays < 2^15."""
    top = float(m.max()) if m.size else 0.0
    p = 0
    while p < 22 and int(0.5 + top * (1 << (p + 1))) < (1 << 15):
        p += 1
    v = m * float(1 << p)
    return xp.where(v < 0, xp.ceil(v - 0.5), xp.floor(v + 0.5)).astype(xp.int64), p


def _resample_uint8(input, spatial, out, scales, mode, align_corners, antialias):
    """bilinear and bicubic on uint8 images as PyTorch's integer kernels do it: per
    resized dim, the width first, fixed-point weights, the sum rounded, shifted and clamped to
    [0, 255] before the next dim. No gradient: uint8 tensors take none."""
    a = input._data.astype(xp.int64)
    module = get_array_module(a)
    delta = 0.5 if align_corners and not antialias else 0.0
    for axis in (1, 0):  # width, then height
        n, o = spatial[axis], out[axis]
        if n == o:
            continue
        if mode == "bicubic" and not antialias:  # the plain bicubic weights, in fixed point
            m = _cubic_matrix(n, o, scales[axis], align_corners, xp.float64, module)
        else:
            m = _antialias_matrix(n, o, scales[axis], align_corners, xp.float64, module, mode,
                                  antialias, delta)
        weights, p = _fixed_point(m)
        moved = xp.moveaxis(a, 2 + axis, -1)
        total = xp.matmul(moved, weights.T) + (1 << (p - 1) if p else 0)
        a = xp.moveaxis(xp.clip(total >> p, 0, 255), -1, 2 + axis)
    return Tensor._make(a.astype(input._data.dtype))


def _nearest_table(n_in, n_out, scale, exact, module, shortcut=False):
    """Source index of each output position: ⌊dst·scale⌋ (or ⌊(dst + ½)·scale⌋), in float32.
    With shortcut, PyTorch's nearest_idx: the identity when the size is kept, dst // 2 when it
    doubles, whatever the scale factor."""
    if shortcut and n_out in (n_in, 2 * n_in):
        return module.arange(n_out) // (n_out // n_in)
    dst = module.arange(n_out, dtype=xp.float32)
    if exact:
        dst = dst + xp.float32(0.5)
    src = xp.floor(dst * xp.float32(scale)).astype(xp.int64)
    return xp.minimum(src, n_in - 1)


class NearestAlong(TakeAlong):
    """y = x.take(table, axis);  gx = scatter-add of gy along axis at `back`.

    NOTE [nearest's two tables]: PyTorch's 'nearest' backward kernel (and its 2-d forward one)
    map output i to input i when the size is kept and to i // 2 when it doubles, while its 1-d
    and 3-d forward kernels use ⌊i·scale⌋ with the scale factor given; with a factor such as
    2.3 from 3 to 6 the two disagree, and the gradient follows the backward kernel's table.
    """

    node_name = "UpsampleNearest2DBackward0"

    @staticmethod
    def forward(ctx, x, table, axis, back):
        y = TakeAlong.forward(ctx, x, table, axis)
        ctx.table = back
        return y

    @staticmethod
    def backward(ctx, gy):
        return TakeAlong.backward(ctx, gy) + (None,)


# ---- arguments ------------------------------------------------------------------------------
def _check_align_corners(mode, align_corners):
    if align_corners is not None and mode in ("nearest", "area", "nearest-exact"):
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")


def _output_geometry(input, nd, size, scale_factor, recompute_scale_factor, mode):
    """(output sizes, per-dim scales given to the kernel or None) as F.interpolate derives them."""
    spatial = tuple(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(spatial)} and output size of "
                    f"{size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format.")
            if not all(isinstance(s, int) or hasattr(s, "__index__") for s in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(s) for s in size]}")
            out = tuple(int(s) for s in size)
        else:
            _check_parsed(size, (int,), "size", mode, nd)
            out = (int(size),) * nd
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        return out, None
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != nd:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but "
                f"got input with spatial dimensions of {list(spatial)} and scale_factor of "
                f"shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                "format and scale_factor in (s1, s2, ...,sK) format.")
        for f in scale_factor:
            _check_parsed(f, (int, float), "scale_factor", mode, nd)
        factors = tuple(float(f) for f in scale_factor)
    else:
        _check_parsed(scale_factor, (int, float), "scale_factor", mode, nd)
        factors = (float(scale_factor),) * nd
    out = tuple(math.floor(n * f) for n, f in zip(spatial, factors))
    if recompute_scale_factor or mode == "area":
        return out, None
    return out, factors


def _check_parsed(value, kinds, name, mode, nd):
    """F.interpolate hands a size or scale factor on to the kernel's argument parser, which
    takes ints (an integer tensor too) for sizes and numbers for scales, else a TypeError."""
    if isinstance(value, kinds) and not isinstance(value, bool) or isinstance(value, xp.number):
        return
    if name == "size" and isinstance(value, Tensor) and value.numel() == 1 and \
            not (value.is_floating_point() or value.is_complex()):
        if value.dtype.name == "bool" and mode != "area":  # the parser takes it as an int,
            # the upsampling kernels do not (area's adaptive pool does)
            raise RuntimeError("Expected scalar.isIntegral( false) to be true, but got false.")
        return
    kernel = {"nearest-exact": f"_upsample_nearest_exact{nd}d"}.get(
        mode, f"upsample_{mode}{nd}d")
    shown = "list, NoneType" if name == "size" else "NoneType, list"
    raise TypeError(f"{kernel}() received an invalid combination of arguments - got (Tensor, "
                    f"{shown}), but {name} holds a {type(value).__name__}")


def _scales(spatial, out, factors):
    """The kernel's scale per dim: 1/scale_factor when one is given (and positive), else in/out."""
    if factors is None:
        return tuple(n / o if o else 0.0 for n, o in zip(spatial, out))
    return tuple(1.0 / f if f is not None and f > 0 else (n / o if o else 0.0)
                 for n, o, f in zip(spatial, out, factors))


def _check_rank(input, nd, mode, antialias):
    """PyTorch's checks of the mode against the input's rank, in its order."""
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes "
                         "and requires a 4-D tensor as input")
    known = ("nearest", "nearest-exact", "area") + tuple(_LINEAR_MODES)
    if mode in known and nd == _LINEAR_MODES.get(mode, nd) and nd in (1, 2, 3):
        return
    if mode in ("linear", "bilinear", "trilinear") and nd in (1, 2, 3):
        need = _LINEAR_MODES[mode] + 2
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {need}D input")
    raise NotImplementedError(
        f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for "
        f"the modes: {_MODES_TEXT} (got {mode})")


def _check_sizes(input, spatial, out):
    """The upsampling kernels' checks: positive sizes, and no empty (C, *spatial) data."""
    if any(n <= 0 for n in spatial) or any(o <= 0 for o in out):
        names = ("D", "H", "W")[3 - len(spatial):]
        shown_in = ", ".join(f"{a}: {n}" for a, n in zip(names, spatial))
        shown_out = ", ".join(f"{a}: {o}" for a, o in zip(names, out))
        joint = " and" if len(spatial) == 1 else ""
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({shown_in}){joint} output ({shown_out})")
    if input.numel() == 0 and math.prod(input.shape[1:]) == 0:
        raise RuntimeError(f"Non-empty {input.dim()}D data tensor expected but got a tensor "
                           f"with sizes {list(input.shape)}")


# ---- the public functions -------------------------------------------------------------------
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False) -> Tensor:
    """Resize the spatial dims (matches `torch.nn.functional.interpolate`)."""
    _check_align_corners(mode, align_corners)
    nd = input.dim() - 2
    out, factors = _output_geometry(input, nd, size, scale_factor, recompute_scale_factor, mode)
    _check_rank(input, nd, mode, antialias)
    if mode == "lanczos":
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    spatial = tuple(input.shape[2:])
    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 1](input, out)
    _check_sizes(input, spatial, out)
    scales = _scales(spatial, out, factors)
    with allocation_errors():
        if mode in ("nearest", "nearest-exact"):
            y = _nearest(input, spatial, out, scales, mode)
        else:
            y = _weighted(input, spatial, out, scales, mode, bool(align_corners), antialias)
    # PyTorch's upsample kernels write a fresh output in the format the input suggests
    y._data = in_suggested_format(y._data, input._data)
    return y


def _nearest(input, spatial, out, scales, mode):
    """'nearest'/'nearest-exact': a gather per resized dim (NOTE [nearest's two tables])."""
    nd = len(spatial)
    if not input.is_floating_point() and input.dtype.name != "uint8":
        kernel = "upsample_nearest2d_channels_last" if nd == 2 \
            else "compute_indices_weights_nearest"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_type_word(input)}\'')
    module = get_array_module(input._data)
    exact = mode == "nearest-exact"
    kind = "NearestExact" if exact else "Nearest"
    op = _named(NearestAlong, f"Upsample{kind}{nd}DBackward0")
    y = input
    for i, (n, o, s) in enumerate(zip(spatial, out, scales)):
        table = _nearest_table(n, o, s, exact, module, shortcut=nd == 2 and not exact)
        back = _nearest_table(n, o, s, exact, module, shortcut=not exact)
        identity = module.arange(n)
        if o != n or (table != identity).any() or (back != identity).any():
            y = op.apply(y, table, 2 + i, back)
    if y is input:  # nothing to resize: still a new tensor, as in PyTorch
        last = module.arange(spatial[-1])
        y = op.apply(input, last, input.dim() - 1, last)
    return y


def _weighted(input, spatial, out, scales, mode, align_corners, antialias):
    """The modes with a weight matrix per dim (NOTE [Interpolation as one matrix per dim])."""
    nd = len(spatial)
    if antialias and is_half(input.dtype):
        word = "Half" if input.dtype.name == "float16" else "BFloat16"
        raise NotImplementedError(f"\"compute_index_ranges_weights\" not implemented for "
                                  f"'{word}'")
    if input.dtype.name == "uint8" and mode in ("bilinear", "bicubic"):
        return _resample_uint8(input, spatial, out, scales, mode, align_corners, antialias)
    if not input.is_floating_point():
        name = f"upsample_{mode}{nd}d_out_frame" if not antialias \
            else "compute_index_ranges_weights"
        raise NotImplementedError(f'"{name}" not implemented for \'{_type_word(input)}\'')
    module = get_array_module(input._data)
    dtype = opmath_dtype(input._data.dtype).type
    store = input._data.dtype if is_half(input.dtype) and mode != "bilinear" else None
    # PyTorch's separable kernels (all but plain bicubic) leave a dim whose size is kept alone,
    # whatever the scale factor
    separable = antialias or mode != "bicubic"
    mats = []
    for n, o, s in zip(spatial, out, scales):
        if separable and n == o:
            m = None  # left as it is
        elif antialias:
            m = _antialias_matrix(n, o, s, align_corners, dtype, module, mode)
        elif mode == "bicubic":
            m = _cubic_matrix(n, o, s, align_corners, dtype, module, store)
        else:
            m = _linear_matrix(n, o, s, align_corners, dtype, module, store)
        mats.append(m)
    name = _AA_NODE_NAMES[mode] if antialias else _NODE_NAMES[mode]
    if mode in ("linear", "bilinear", "trilinear") and not antialias and \
            not xp.isfinite(input._data).all():  # the error path: an inf or NaN in the input
        taps = tuple(_linear_taps(n, o, s, align_corners, dtype, module, store)
                     for n, o, s in zip(spatial, out, scales))
        full = tuple(_linear_matrix(n, o, s, align_corners, dtype, module, store)
                     for n, o, s in zip(spatial, out, scales))
        return _named(LinearTaps, f"{name}Backward0").apply(input, taps, full)
    return _named(SeparableLinear, f"{name}Backward0").apply(input, tuple(mats))


def upsample_antialiased(input, output_size, align_corners, scale_factors, mode="bilinear"):
    """aten's `_upsample_{bilinear,bicubic}2d_aa`: interpolate(antialias=True)'s kernel, given
    the output size and per-dim scale factors (None: in/out) that set the source step (matches
    `torch._C._nn._upsample_bilinear2d_aa`)."""
    if input.dim() != 4:
        raise RuntimeError(f"It is expected input_size equals to 4, but got size {input.dim()}")
    if len(output_size) != 2:
        raise RuntimeError(f"It is expected output_size equals to 2, but got size "
                           f"{len(output_size)}")
    spatial, out = tuple(input.shape[2:]), tuple(int(o) for o in output_size)
    _check_sizes(input, spatial, out)
    scales = _scales(spatial, out, scale_factors)
    return _weighted(input, spatial, out, scales, mode, bool(align_corners), True)


# The deprecated functions warn at the caller's line, as torch's do (NOTE [Warnings point at
# the caller] in ember/_warnings.py: their F face is not counted).
def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of interpolate (matches `torch.nn.functional.upsample`)."""
    _warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated nearest upsampling (matches `torch.nn.functional.upsample_nearest`)."""
    _warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated bilinear upsampling, align_corners=True (matches `F.upsample_bilinear`)."""
    _warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
