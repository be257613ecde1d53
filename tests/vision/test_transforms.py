"""ember.vision.transforms against values computed independently with NumPy and PyTorch."""

import colorsys

import numpy as np
import pytest
import torch
from PIL import Image

import ember
from ember.vision import transforms as T
from ember.vision.transforms import functional as F

CIFAR_MEAN = (0.49, 0.48, 0.45)
CIFAR_STD = (0.25, 0.24, 0.26)


def _rgb(h=32, w=32, seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3)).astype(np.uint8))


def _floats(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


# ---- seed 002's CIFAR pipeline --------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_seed_cifar_pipeline_matches_numpy_and_torch(seed):
    img = _rgb(seed=seed)
    pipeline = T.Compose([T.Pad(4), T.RandomHorizontalFlip(), T.RandomCrop(32), T.ToTensor(),
                          T.Normalize(CIFAR_MEAN, CIFAR_STD)])
    ember.manual_seed(seed)
    out = pipeline(img)
    # the same decisions, drawn again in torchvision's order: flip, then crop top, crop left
    ember.manual_seed(seed)
    flip = ember.rand(1).item() < 0.5
    top = ember.randint(0, 9, size=(1,)).item()
    left = ember.randint(0, 9, size=(1,)).item()
    array = np.pad(np.asarray(img), ((4, 4), (4, 4), (0, 0)))
    if flip:
        array = array[:, ::-1]
    array = np.ascontiguousarray(array[top:top + 32, left:left + 32])
    x = array.transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    mean = np.array(CIFAR_MEAN, np.float32)[:, None, None]
    std = np.array(CIFAR_STD, np.float32)[:, None, None]
    assert out.dtype == ember.float32 and tuple(out.shape) == (3, 32, 32)
    np.testing.assert_array_equal(out.numpy(), (x - mean) / std)
    ref = torch.from_numpy(array).permute(2, 0, 1).float().div(255)
    ref = ref.sub(torch.tensor(CIFAR_MEAN)[:, None, None]).div(torch.tensor(CIFAR_STD)[:, None,
                                                                                       None])
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_seed_pipeline_makes_both_flip_decisions():
    flips = set()
    for seed in range(6):
        ember.manual_seed(seed)
        flips.add(ember.rand(1).item() < 0.5)
    assert flips == {True, False}


def test_random_pipeline_is_reproducible_under_manual_seed():
    img = _rgb(40, 40)
    pipeline = T.Compose([T.RandomResizedCrop(24), T.RandomHorizontalFlip(),
                          T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.RandomRotation(15),
                          T.ToTensor(), T.RandomErasing(p=0.9)])
    ember.manual_seed(123)
    first = pipeline(img).numpy()
    ember.manual_seed(123)
    second = pipeline(img).numpy()
    third = pipeline(img).numpy()
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(second, third)


# ---- conversions -----------------------------------------------------------------------------
@pytest.mark.parametrize("mode, dtype, scale", [("L", np.uint8, 255), ("RGB", np.uint8, 255),
                                                ("RGBA", np.uint8, 255), ("I", np.int32, 1),
                                                ("F", np.float32, 1)])
def test_to_tensor_modes(mode, dtype, scale):
    rng = np.random.default_rng(1)
    channels = {"RGB": 3, "RGBA": 4}.get(mode, 1)
    array = rng.integers(0, 256, (5, 7, channels)).astype(dtype)
    img = Image.fromarray(array[:, :, 0] if channels == 1 else array)
    assert img.mode == mode
    out = T.ToTensor()(img)
    expected = array.transpose(2, 0, 1)
    if scale != 1:
        expected = expected.astype(np.float32) / np.float32(255)
    assert tuple(out.shape) == (channels, 5, 7)
    assert out.dtype == {np.uint8: ember.float32, np.int32: ember.int32,
                         np.float32: ember.float32}[dtype]
    np.testing.assert_array_equal(out.numpy(), expected)


def test_to_tensor_binary_image_and_ndarray():
    img = Image.fromarray(np.array([[0, 255], [255, 0]], np.uint8)).convert("1")
    np.testing.assert_array_equal(T.ToTensor()(img).numpy(), [[[0, 1], [1, 0]]])
    array = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    out = T.ToTensor()(array)
    np.testing.assert_array_equal(out.numpy(), array.transpose(2, 0, 1) / np.float32(255))
    doubles = np.ones((2, 2), np.float64)
    assert T.ToTensor()(doubles).dtype == ember.float64  # not uint8: no scaling, dtype kept
    with pytest.raises(TypeError):
        T.ToTensor()([1, 2, 3])


def test_pil_to_tensor_and_back():
    img = _rgb(6, 9)
    t = T.PILToTensor()(img)
    assert t.dtype == ember.uint8 and tuple(t.shape) == (3, 6, 9)
    np.testing.assert_array_equal(t.numpy(), np.asarray(img).transpose(2, 0, 1))
    back = T.ToPILImage()(t)
    assert back.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(back), np.asarray(img))
    floats = T.ToTensor()(img)
    np.testing.assert_array_equal(np.asarray(T.ToPILImage()(floats)), np.asarray(img))
    gray = T.ToPILImage()(ember.from_numpy(np.full((1, 2, 2), 0.5, np.float32)))
    assert gray.mode == "L" and np.asarray(gray)[0, 0] == 127
    assert T.ToPILImage(mode="F")(ember.zeros(1, 2, 2)).mode == "F"
    with pytest.raises(ValueError, match="Incorrect mode"):
        T.ToPILImage(mode="RGB")(ember.zeros(1, 2, 2))
    with pytest.raises(ValueError, match="> 4 channels"):
        T.ToPILImage()(ember.zeros(5, 2, 2))


def test_convert_image_dtype():
    x = ember.from_numpy(np.array([[[0, 128, 255]]], np.uint8))
    f = T.ConvertImageDtype(ember.float32)(x)
    np.testing.assert_array_equal(f.numpy(), np.array([[[0, 128, 255]]], np.float32) / 255)
    ref = torch.tensor([[[0.0, 0.5, 1.0]]])
    back = F.convert_image_dtype(ember.from_numpy(ref.numpy()), ember.uint8)
    expected = (ref * (255 + 1.0 - 1e-3)).to(torch.uint8)
    np.testing.assert_array_equal(back.numpy(), expected.numpy())
    wide = F.convert_image_dtype(x, ember.int16)
    np.testing.assert_array_equal(wide.numpy(), [[[0, 128 * 128, 255 * 128]]])
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(ember.zeros(1, 1, 1), ember.int64)


def test_normalize_checks_and_inplace():
    x = ember.from_numpy(_floats((3, 4, 5)))
    out = T.Normalize((0.5, 0.4, 0.3), (0.2, 0.1, 0.3))(x)
    ref = (torch.from_numpy(x.numpy()) - torch.tensor([0.5, 0.4, 0.3])[:, None, None]) / \
        torch.tensor([0.2, 0.1, 0.3])[:, None, None]
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert not np.array_equal(x.numpy(), out.numpy())
    same = T.Normalize(0.5, 0.5, inplace=True)(x)
    assert same is x
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize(0.5, 0.5)(ember.zeros(3, 2, 2, dtype=ember.uint8))
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize(0.5, 0.0)(ember.zeros(1, 2, 2))
    with pytest.raises(ValueError, match="tensor image of size"):
        T.Normalize(0.5, 0.5)(ember.zeros(2, 2))


# ---- geometry -------------------------------------------------------------------------------
def test_resize_sizes_and_values():
    img = _rgb(20, 40)
    assert T.Resize(10)(img).size == (20, 10)  # shorter side to 10, aspect kept
    assert T.Resize((7, 9))(img).size == (9, 7)
    assert T.Resize(10, max_size=15)(img).size == (15, 7)
    expected = np.asarray(img.resize((20, 10), Image.BILINEAR))
    np.testing.assert_array_equal(np.asarray(T.Resize(10)(img)), expected)
    x = _floats((2, 3, 20, 30))
    for size in [(10, 15), (40, 60), (7, 11)]:
        out = F.resize(ember.from_numpy(x), list(size)).numpy()
        ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode="bilinear",
                                              align_corners=False, antialias=True)
        np.testing.assert_allclose(out, ref.numpy(), atol=1e-6)
    with pytest.raises(ValueError):
        T.Resize((1, 2, 3))


def test_center_crop_and_crop():
    img = _rgb(9, 11)
    array = np.asarray(img)
    out = T.CenterCrop(5)(img)
    np.testing.assert_array_equal(np.asarray(out), array[2:7, 3:8])
    t = T.CenterCrop((4, 6))(T.PILToTensor()(img))
    np.testing.assert_array_equal(t.numpy(), array[2:6, 2:8].transpose(2, 0, 1))
    big = T.CenterCrop(13)(T.PILToTensor()(img))
    np.testing.assert_array_equal(big.numpy(), np.pad(array, ((2, 2), (1, 1), (0, 0)))
                                  .transpose(2, 0, 1))
    outside = F.crop(T.PILToTensor()(img), -1, 8, 3, 5)
    expected = np.zeros((3, 3, 5), np.uint8)
    expected[:, 1:, :3] = array[0:2, 8:11].transpose(2, 0, 1)
    np.testing.assert_array_equal(outside.numpy(), expected)


@pytest.mark.parametrize("mode, torch_mode", [("constant", "constant"), ("edge", "replicate"),
                                              ("reflect", "reflect"),
                                              ("symmetric", None)])
def test_pad_modes(mode, torch_mode):
    img = _rgb(5, 6)
    array = np.asarray(img)
    out = T.Pad((1, 2, 3, 4), padding_mode=mode)(img)
    np_mode = {"constant": "constant", "edge": "edge", "reflect": "reflect",
               "symmetric": "symmetric"}[mode]
    expected = np.pad(array, ((2, 4), (1, 3), (0, 0)), mode=np_mode)
    np.testing.assert_array_equal(np.asarray(out), expected)
    x = _floats((2, 3, 5, 6))
    t = F.pad(ember.from_numpy(x), [1, 2, 3, 4], padding_mode=mode)
    if torch_mode is not None:
        ref = torch.nn.functional.pad(torch.from_numpy(x), (1, 3, 2, 4), mode=torch_mode)
        np.testing.assert_array_equal(t.numpy(), ref.numpy())
    assert tuple(t.shape) == (2, 3, 11, 10)


def test_pad_fill_and_two_values():
    img = _rgb(3, 3)
    out = np.asarray(T.Pad(2, fill=(10, 20, 30))(img))
    assert out.shape == (7, 7, 3) and tuple(out[0, 0]) == (10, 20, 30)
    assert T.Pad([1, 2])(img).size == (5, 7)
    assert repr(T.Pad(4)) == "Pad(padding=4, fill=0, padding_mode=constant)"
    with pytest.raises(ValueError, match="Padding mode"):
        T.Pad(1, padding_mode="wrap")


def test_flips_match_torch():
    x = _floats((2, 3, 4, 5))
    np.testing.assert_array_equal(F.hflip(ember.from_numpy(x)).numpy(),
                                  torch.from_numpy(x).flip(-1).numpy())
    np.testing.assert_array_equal(F.vflip(ember.from_numpy(x)).numpy(),
                                  torch.from_numpy(x).flip(-2).numpy())
    img = _rgb(4, 5)
    np.testing.assert_array_equal(np.asarray(T.RandomHorizontalFlip(p=1.0)(img)),
                                  np.asarray(img)[:, ::-1])
    np.testing.assert_array_equal(np.asarray(T.RandomVerticalFlip(p=1.0)(img)),
                                  np.asarray(img)[::-1])
    assert T.RandomHorizontalFlip(p=0.0)(img) is img


def test_random_crop_padding_and_pad_if_needed():
    img = _rgb(10, 12)
    ember.manual_seed(0)
    out = T.RandomCrop(8, padding=2)(img)
    assert out.size == (8, 8)
    grown = T.RandomCrop((14, 16), pad_if_needed=True)(img)
    assert grown.size == (16, 14)
    with pytest.raises(ValueError, match="larger than input image"):
        T.RandomCrop(20)(img)
    whole = T.RandomCrop((10, 12))(img)
    np.testing.assert_array_equal(np.asarray(whole), np.asarray(img))


def test_random_resized_crop_params():
    img = _rgb(30, 40)
    ember.manual_seed(5)
    for _ in range(20):
        i, j, h, w = T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 <= i <= 30 - h and 0 <= j <= 40 - w and h > 0 and w > 0
    assert T.RandomResizedCrop((12, 10))(img).size == (10, 12)
    # no valid area (ratio impossible): falls back to the central crop of the allowed ratio
    i, j, h, w = T.RandomResizedCrop.get_params(img, (2.0, 3.0), (1.0, 1.0))
    assert (i, j, h, w) == (0, 5, 30, 30)


def test_rotation_by_90_degrees():
    img = _rgb(6, 6)
    out = F.rotate(img, 90)
    np.testing.assert_array_equal(np.asarray(out), np.rot90(np.asarray(img)))
    x = _floats((3, 6, 6))
    t = F.rotate(ember.from_numpy(x), 90)
    np.testing.assert_array_equal(t.numpy(), torch.rot90(torch.from_numpy(x), 1, (1, 2)))
    wide = F.rotate(_rgb(4, 8), 90, expand=True)
    assert wide.size == (4, 8)


def test_affine_identity_and_translation():
    img = _rgb(8, 8)
    same = T.RandomAffine(0)(img)
    np.testing.assert_array_equal(np.asarray(same), np.asarray(img))
    shifted = F.affine(img, angle=0, translate=(2, 1), scale=1.0, shear=0)
    expected = np.zeros_like(np.asarray(img))
    expected[1:, 2:] = np.asarray(img)[:-1, :-2]
    np.testing.assert_array_equal(np.asarray(shifted), expected)
    t = F.affine(T.PILToTensor()(img), angle=0, translate=(2, 1), scale=1.0, shear=0)
    np.testing.assert_array_equal(t.numpy(), expected.transpose(2, 0, 1))
    with pytest.raises(ValueError, match="translation values"):
        T.RandomAffine(0, translate=(2, 0))


# ---- colour ---------------------------------------------------------------------------------
def _torch_gray(x):
    r, g, b = x.unbind(-3)
    return (0.2989 * r + 0.587 * g + 0.114 * b).unsqueeze(-3)


def _torch_blend(a, b, ratio):
    return (ratio * a + (1.0 - ratio) * b).clamp(0, 1.0)


def test_grayscale_tensor_and_pil():
    x = _floats((2, 3, 4, 5))
    gray = F.rgb_to_grayscale(ember.from_numpy(x))
    np.testing.assert_allclose(gray.numpy(), _torch_gray(torch.from_numpy(x)).numpy(),
                               rtol=1e-6, atol=1e-7)
    three = T.Grayscale(3)(ember.from_numpy(x))
    assert tuple(three.shape) == (2, 3, 4, 5)
    img = _rgb(4, 5)
    np.testing.assert_array_equal(np.asarray(T.Grayscale()(img)), np.asarray(img.convert("L")))
    rgb_gray = T.RandomGrayscale(p=1.0)(img)
    assert rgb_gray.mode == "RGB"
    planes = np.asarray(rgb_gray)
    np.testing.assert_array_equal(planes[..., 0], planes[..., 2])


def test_brightness_contrast_saturation_match_torch_formulas():
    x = _floats((3, 6, 7))
    tx = torch.from_numpy(x)
    ex = ember.from_numpy(x)
    np.testing.assert_allclose(F.adjust_brightness(ex, 1.7).numpy(),
                               _torch_blend(tx, torch.zeros_like(tx), 1.7).numpy(), atol=1e-6)
    mean = _torch_gray(tx).mean(dim=(-3, -2, -1), keepdim=True)
    np.testing.assert_allclose(F.adjust_contrast(ex, 0.4).numpy(),
                               _torch_blend(tx, mean, 0.4).numpy(), atol=1e-6)
    np.testing.assert_allclose(F.adjust_saturation(ex, 1.5).numpy(),
                               _torch_blend(tx, _torch_gray(tx), 1.5).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="not non-negative"):
        F.adjust_brightness(ex, -1)


def test_hue_matches_colorsys():
    x = _floats((3, 4, 4), seed=7)
    out = F.adjust_hue(ember.from_numpy(x), 0.2).numpy()
    for i in range(4):
        for j in range(4):
            h, s, v = colorsys.rgb_to_hsv(*x[:, i, j])
            expected = colorsys.hsv_to_rgb((h + 0.2) % 1.0, s, v)
            np.testing.assert_allclose(out[:, i, j], expected, atol=1e-5)
    np.testing.assert_allclose(F.adjust_hue(ember.from_numpy(x), 0.0).numpy(), x, atol=1e-6)
    with pytest.raises(ValueError, match="hue_factor"):
        F.adjust_hue(ember.from_numpy(x), 0.7)
    img = _rgb(4, 4)
    assert F.adjust_hue(img, 0.25).mode == "RGB"
    np.testing.assert_array_equal(np.asarray(F.adjust_brightness(img, 0.0)), 0)


def test_color_jitter_ranges_and_identity():
    jitter = T.ColorJitter(brightness=0.5, hue=0.1)
    assert jitter.brightness == (0.5, 1.5) and jitter.hue == (-0.1, 0.1)
    assert jitter.contrast is None and jitter.saturation is None
    img = _rgb(5, 5)
    np.testing.assert_array_equal(np.asarray(T.ColorJitter()(img)), np.asarray(img))
    with pytest.raises(ValueError, match="hue values should be between"):
        T.ColorJitter(hue=0.8)
    with pytest.raises(TypeError):
        T.ColorJitter(brightness=[1, 2, 3])


def test_gaussian_blur_matches_torch_conv():
    x = _floats((3, 9, 10), seed=3)
    sigma = 1.3
    out = F.gaussian_blur(ember.from_numpy(x), [5, 3], [sigma, sigma]).numpy()

    def kernel1d(k):
        grid = torch.linspace(-(k - 1) / 2, (k - 1) / 2, k)
        pdf = torch.exp(-0.5 * (grid / sigma) ** 2)
        return pdf / pdf.sum()
    kernel = torch.outer(kernel1d(3), kernel1d(5))
    padded = torch.nn.functional.pad(torch.from_numpy(x)[None], (2, 2, 1, 1), mode="reflect")
    ref = torch.nn.functional.conv2d(padded, kernel.expand(3, 1, 3, 5), groups=3)[0]
    np.testing.assert_allclose(out, ref.numpy(), atol=1e-6)
    img = _rgb(9, 10)
    blurred = T.GaussianBlur(3, sigma=(0.5, 0.5))(img)
    assert blurred.mode == "RGB" and blurred.size == (10, 9)
    with pytest.raises(ValueError, match="odd and positive"):
        T.GaussianBlur(4)


def test_random_erasing():
    x = ember.ones(3, 20, 20)
    ember.manual_seed(0)
    out = T.RandomErasing(p=1.0, value=0)(x)
    zeros = out.numpy() == 0
    assert zeros.any() and x.numpy().min() == 1.0
    rows, cols = np.nonzero(zeros[0])
    assert zeros[:, rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()
    noisy = T.RandomErasing(p=1.0, value="random")(x)
    assert (noisy.numpy() != 1).any()
    colour = T.RandomErasing(p=1.0, value=(0.1, 0.2, 0.3), inplace=True)(x)
    assert colour is x
    with pytest.raises(ValueError, match="random"):
        T.RandomErasing(value="noise")
    with pytest.raises(ValueError, match="probability"):
        T.RandomErasing(p=2)


def test_lambda_and_compose():
    pipeline = T.Compose([T.Lambda(lambda v: v + 1), T.Lambda(lambda v: v * 2)])
    assert pipeline(3) == 8
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)


@pytest.mark.parametrize("transform, text", [
    (T.ToTensor(), "ToTensor()"),
    (T.PILToTensor(), "PILToTensor()"),
    (T.ToPILImage(), "ToPILImage()"),
    (T.Normalize((0.5,), (0.5,)), "Normalize(mean=(0.5,), std=(0.5,))"),
    (T.Resize(256), "Resize(size=256, interpolation=bilinear, max_size=None, antialias=True)"),
    (T.CenterCrop(224), "CenterCrop(size=(224, 224))"),
    (T.RandomCrop(32, padding=4), "RandomCrop(size=(32, 32), padding=4)"),
    (T.RandomHorizontalFlip(), "RandomHorizontalFlip(p=0.5)"),
    (T.RandomVerticalFlip(0.3), "RandomVerticalFlip(p=0.3)"),
    (T.RandomResizedCrop(224), "RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), "
                               "ratio=(0.75, 1.3333), interpolation=bilinear, antialias=True)"),
    (T.RandomRotation(10), "RandomRotation(degrees=[-10.0, 10.0], interpolation=nearest, "
                           "expand=False, fill=0)"),
    (T.RandomAffine(0, translate=(0.1, 0.1)), "RandomAffine(degrees=[0.0, 0.0], "
                                              "translate=(0.1, 0.1))"),
    (T.ColorJitter(0.2), "ColorJitter(brightness=(0.8, 1.2), contrast=None, saturation=None, "
                         "hue=None)"),
    (T.Grayscale(), "Grayscale(num_output_channels=1)"),
    (T.RandomGrayscale(), "RandomGrayscale(p=0.1)"),
    (T.GaussianBlur(3), "GaussianBlur(kernel_size=(3, 3), sigma=(0.1, 2.0))"),
    (T.RandomErasing(), "RandomErasing(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, "
                        "inplace=False)"),
    (T.Lambda(abs), "Lambda()"),
    (T.Compose([T.ToTensor(), T.Normalize(0.5, 0.5)]),
     "Compose(\n    ToTensor()\n    Normalize(mean=0.5, std=0.5)\n)"),
])
def test_reprs_match_torchvision(transform, text):
    assert repr(transform) == text


def test_v2_names():
    from ember.vision.transforms import v2

    pipeline = v2.Compose([v2.ToImage(), v2.ToDtype(ember.float32, scale=True),
                           v2.RandomHorizontalFlip(p=1.0)])
    img = _rgb(3, 4)
    out = pipeline(img)
    # v2 scales by multiplying by 1 / 255 (v1 divides by 255)
    expected = np.asarray(img)[:, ::-1].transpose(2, 0, 1).astype(np.float32) * np.float32(1 / 255)
    np.testing.assert_array_equal(out.numpy(), expected)
    assert v2.ToDtype(ember.int64)(ember.ones(1, 2, 2)).dtype == ember.int64


def test_rotation_fill_per_channel_on_tensors_and_images():
    x = ember.ones(3, 6, 6)
    out = F.rotate(x, 45, fill=[0.1, 0.2, 0.3]).numpy()
    np.testing.assert_allclose(out[:, 0, 0], [0.1, 0.2, 0.3], rtol=1e-6)
    assert (out[:, 3, 3] == 1).all()
    img = Image.fromarray(np.full((6, 6, 3), 255, np.uint8))
    corner = np.asarray(T.RandomRotation((45, 45), fill=(10, 20, 30))(img))[0, 0]
    assert tuple(corner) == (10, 20, 30)
    with pytest.raises(ValueError, match="fill"):
        F.rotate(x, 10, fill=[1, 2])


def test_module_transforms_go_in_sequential():
    from ember import nn

    pipeline = nn.Sequential(T.CenterCrop(4), T.RandomHorizontalFlip(p=1.0),
                             T.Normalize((0.5,), (0.25,)))
    x = _floats((1, 6, 6))
    out = pipeline(ember.from_numpy(x)).numpy()
    np.testing.assert_array_equal(out, (x[:, 1:5, 1:5][:, :, ::-1] - np.float32(0.5)) /
                                  np.float32(0.25))
    assert isinstance(T.Resize(3), nn.Module) and not isinstance(T.ToTensor(), nn.Module)
    assert "(1): RandomHorizontalFlip(p=1.0)" in repr(pipeline)


def _torchvision_tensor_resize(array, size, mode):
    """torchvision's F_t.resize written with PyTorch: interpolate in float32, integer images
    rounded back, antialias for bilinear/bicubic only."""
    x = torch.from_numpy(array)[None]
    dtype, cast = x.dtype, x.dtype not in (torch.float32, torch.float64)
    x = x.float() if cast else x
    smooth = mode in ("bilinear", "bicubic")
    y = torch.nn.functional.interpolate(x, size=size, mode=mode,
                                        align_corners=False if smooth else None,
                                        antialias=smooth)[0]
    return y.round().to(dtype) if cast else y


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic"])
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_tensor_resize_is_torchvisions_interpolate(mode, dtype):
    """Tensors resize through `interpolate` as in torchvision (nearest is its legacy floor
    rule, not PIL's pixel-center one)."""
    array = np.random.default_rng(1).integers(0, 256, (3, 20, 30)).astype(dtype)
    out = T.Resize((7, 9), interpolation=T.InterpolationMode(mode))(ember.from_numpy(array))
    expected = _torchvision_tensor_resize(array, (7, 9), mode)
    assert out.dtype == getattr(ember, dtype) and tuple(out.shape) == (3, 7, 9)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6,
                               atol=1e-4 if dtype == "float32" else 0)


def _grid_transform_reference(img, matrix, mode, fill, size=None):
    """torchvision's tensor rotate/affine written with PyTorch: an affine grid about the image
    centre, grid_sample, the fill blended through a sampled mask of ones."""
    h, w = img.shape[-2:]
    ow, oh = size or (w, h)
    theta = torch.tensor(matrix, dtype=torch.float32).reshape(1, 2, 3)
    base = torch.empty(1, oh, ow, 3)
    base[..., 0].copy_(torch.linspace(-ow * 0.5 + 0.5, ow * 0.5 - 0.5, steps=ow))
    base[..., 1].copy_(torch.linspace(-oh * 0.5 + 0.5, oh * 0.5 - 0.5, steps=oh).unsqueeze_(-1))
    base[..., 2].fill_(1)
    grid = base.view(1, oh * ow, 3).bmm(theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h]))
    x = torch.cat((img[None], torch.ones(1, 1, h, w)), dim=1)
    x = torch.nn.functional.grid_sample(x, grid.view(1, oh, ow, 2), mode=mode,
                                        padding_mode="zeros", align_corners=False)
    mask, x = x[:, -1:].expand_as(x[:, :-1]), x[:, :-1]
    fill_img = torch.tensor(fill).view(1, -1, 1, 1).expand_as(x)
    if mode == "nearest":
        x = x.clone()
        x[mask < 0.5] = fill_img[mask < 0.5]
    else:
        x = x * mask + (1.0 - mask) * fill_img
    return x[0]


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_tensor_rotation_and_affine_sample_a_grid_as_torchvision(mode):
    """Tensor images rotate/shear through grid_sample (PIL's bilinear differs at the borders),
    RandomRotation passing its fill per channel; PIL images keep PIL's kernels."""
    x = _floats((3, 11, 14))
    interp = T.InterpolationMode(mode)
    ember.manual_seed(4)
    out = T.RandomRotation(30, interpolation=interp, fill=0.5)(ember.from_numpy(x))
    ember.manual_seed(4)
    angle = ember.empty(1).uniform_(-30.0, 30.0).item()
    matrix = F._inverse_affine_matrix([0.0, 0.0], -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    expected = _grid_transform_reference(torch.from_numpy(x), matrix, mode, [0.5] * 3)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=2e-6)
    out = F.affine(ember.from_numpy(x), angle=20, translate=[1, 2], scale=1.1, shear=[5.0, 3.0],
                   interpolation=interp, fill=[0.0, 0.5, 1.0])
    matrix = F._inverse_affine_matrix([0.0, 0.0], 20, [1.0, 2.0], 1.1, [5.0, 3.0])
    expected = _grid_transform_reference(torch.from_numpy(x), matrix, mode, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=2e-6)
    wide = F.rotate(ember.from_numpy(x), 30, interpolation=interp, expand=True, fill=[0.0])
    assert tuple(wide.shape) == (3, 17, 18)  # PIL's expanded size for 14x11 at 30 degrees
    with pytest.raises(TypeError):  # torchvision's RandomRotation fails on fill=None tensors
        T.RandomRotation(10, fill=None)(ember.from_numpy(x))
