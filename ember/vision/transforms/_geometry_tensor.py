"""Rotation and affine maps of tensor images, as torchvision computes them: an affine grid in
the image's centred pixel coordinates, `grid_sample` (nearest or bilinear, zeros outside), and
a fill colour blended in through a sampled mask of ones (matches torchvision's
`_functional_tensor.rotate/affine` and their `_apply_grid_transform`)."""

from ember import _dtype
from ember._tensor import Tensor
from ember.nn.functional import grid_sample
from ember.ops.creation import empty, linspace, ones, tensor
from ember.ops.joins import cat

_INTEGER = ("uint8", "int8", "int16", "int32", "int64")


def _check_inputs(img: Tensor, interpolation: str, fill) -> None:
    """torchvision's _assert_grid_transform_inputs (the checks a caller can trip)."""
    if fill is not None and not isinstance(fill, (int, float, tuple, list)):
        raise TypeError("Argument fill should be either int, float, tuple or list")
    channels = img.shape[-3] if img.ndim > 2 else 1
    if isinstance(fill, (tuple, list)) and len(fill) > 1 and len(fill) != channels:
        raise ValueError("The number of elements in 'fill' cannot broadcast to match the number "
                         f"of channels of the image ({len(fill)} != {channels})")
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor input")


def _affine_grid(theta: Tensor, w: int, h: int, ow: int, oh: int) -> Tensor:
    """The (1, oh, ow, 2) sampling grid of theta, output pixel centres in coordinates whose
    origin is the image centre (torchvision's _gen_affine_grid)."""
    base = empty(1, oh, ow, 3, dtype=theta.dtype)
    base[..., 0].copy_(linspace(-ow * 0.5 + 0.5, ow * 0.5 + 0.5 - 1, steps=ow))
    base[..., 1].copy_(linspace(-oh * 0.5 + 0.5, oh * 0.5 + 0.5 - 1, steps=oh).unsqueeze_(-1))
    base[..., 2].fill_(1)
    rescaled = theta.transpose(1, 2) / tensor([0.5 * w, 0.5 * h], dtype=theta.dtype)
    return base.view(1, oh * ow, 3).bmm(rescaled).view(1, oh, ow, 2)


def _apply_grid(img: Tensor, grid: Tensor, mode: str, fill) -> Tensor:
    """img sampled at grid; where the grid leaves the image, fill (nearest: outside pixels
    take it; bilinear: blended by the sampled mask)."""
    squeeze, out_dtype = img.ndim < 4, img.dtype
    x = img.unsqueeze(0) if squeeze else img
    cast = x.dtype is not grid.dtype
    if cast:
        x = x.to(grid.dtype)
    if x.shape[0] > 1:
        grid = grid.expand(x.shape[0], grid.shape[1], grid.shape[2], grid.shape[3])
    if fill is not None:  # a channel of ones, sampled with the image: where it was inside
        x = cat((x, ones((x.shape[0], 1, x.shape[2], x.shape[3]), dtype=x.dtype)), dim=1)
    x = grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        mask, x = x[:, -1:, :, :].expand_as(x[:, :-1]), x[:, :-1, :, :]
        fills = list(fill) if isinstance(fill, (tuple, list)) else [float(fill)]
        fill_img = tensor(fills, dtype=x.dtype).view(1, len(fills), 1, 1).expand_as(x)
        if mode == "nearest":
            outside = mask < 0.5
            x = x.clone()
            x[outside] = fill_img[outside]
        else:
            x = x * mask + (1.0 - mask) * fill_img
    if squeeze:
        x = x.squeeze(0)
    if cast:
        x = (x.round() if out_dtype.name in _INTEGER else x).to(out_dtype)
    return x


def _theta(img: Tensor, matrix) -> Tensor:
    dtype = img.dtype if img.dtype.is_floating_point else _dtype.float32
    return tensor(matrix, dtype=dtype).reshape(1, 2, 3)


def _expanded_size(matrix, w: int, h: int) -> tuple:
    """(ow, oh) holding the whole rotated image (torchvision's _compute_affine_output_size,
    PIL's rule: corners mapped, bounds truncated to 1e-4, then rounded outwards)."""
    pts = tensor([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                  [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]])
    new_pts = pts.matmul(tensor(matrix, dtype=_dtype.float32).view(2, 3).T)
    shift = tensor((w * 0.5, h * 0.5))
    low, high = new_pts.min(dim=0).values + shift, new_pts.max(dim=0).values + shift
    tol = 1e-4
    size = (high / tol).trunc_().mul(tol).ceil() - (low / tol).trunc_().mul(tol).floor()
    return int(size[0]), int(size[1])


def rotate(img: Tensor, matrix, interpolation: str = "nearest", expand: bool = False,
           fill=None) -> Tensor:
    """img mapped by the inverse affine matrix, enlarged to hold it all with expand."""
    _check_inputs(img, interpolation, fill)
    w, h = img.shape[-1], img.shape[-2]
    ow, oh = _expanded_size(matrix, w, h) if expand else (w, h)
    return _apply_grid(img, _affine_grid(_theta(img, matrix), w, h, ow, oh), interpolation,
                       fill)


def affine(img: Tensor, matrix, interpolation: str = "nearest", fill=None) -> Tensor:
    """img mapped by the inverse affine matrix (same size)."""
    _check_inputs(img, interpolation, fill)
    w, h = img.shape[-1], img.shape[-2]
    return _apply_grid(img, _affine_grid(_theta(img, matrix), w, h, w, h), interpolation, fill)


def centred(center, width: int, height: int) -> list:
    """A pixel centre in the coordinates whose origin is the image centre."""
    if center is None:
        return [0.0, 0.0]
    return [1.0 * (c - s * 0.5) for c, s in zip(center, (width, height))]


__all__ = ["affine", "centred", "rotate"]
