"""ember.vision.transforms.v2 and ember.vision.tv_tensors against torchvision 0.28's behaviour:
its reprs, the v2 calling convention (samples of several inputs, the plain-tensor heuristic),
ToImage/ToDtype (int to float multiplies by 1 / max, unlike v1's division) and
RandomResizedCrop's parameters, recomputed here with PyTorch and PIL."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

import ember
from ember.vision import tv_tensors
from ember.vision.transforms import v2


def _rgb(h=20, w=30, seed=0):
    array = np.random.default_rng(seed).integers(0, 256, (h, w, 3)).astype(np.uint8)
    return Image.fromarray(array), array


@pytest.mark.parametrize("make, expected", [
    (lambda: v2.ToDtype(ember.float32, scale=True), "ToDtype(scale=True)"),
    (lambda: v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
     "Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225], inplace=False)"),
    (lambda: v2.RandomResizedCrop(size=(224, 224), antialias=True),
     "RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), ratio=(0.75, 1.3333333333333333), "
     "interpolation=InterpolationMode.BILINEAR, antialias=True)"),
    (lambda: v2.ColorJitter(brightness=0.5), "ColorJitter(brightness=(0.5, 1.5))"),
    (lambda: v2.Resize(32),
     "Resize(size=[32], interpolation=InterpolationMode.BILINEAR, antialias=True)"),
    (lambda: v2.RandomCrop(24, padding=4), "RandomCrop(size=(24, 24), padding=[4, 4, 4, 4], "
     "pad_if_needed=False, fill=0, padding_mode=constant)"),
    (lambda: v2.RandomHorizontalFlip(), "RandomHorizontalFlip(p=0.5)"),
    (lambda: v2.GaussianBlur(3), "GaussianBlur(kernel_size=(3, 3), sigma=[0.1, 2.0])"),
    (lambda: v2.RandomErasing(), "RandomErasing(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), "
     "value=[0.0], inplace=False)"),
    (lambda: v2.Lambda(lambda x: x), "Lambda(<lambda>, types=['object'])"),
    (lambda: v2.Compose([v2.ToImage(), v2.ToDtype(ember.float32, scale=True)]),
     "Compose(\n      ToImage()\n      ToDtype(scale=True)\n)"),
])
def test_reprs_are_torchvisions(make, expected):
    assert repr(make()) == expected


def test_to_image_and_to_dtype():
    img, array = _rgb()
    image = v2.ToImage()(img)
    assert type(image) is tv_tensors.Image and image.dtype == ember.uint8
    assert repr(image).startswith("Image([[[") and repr(image).endswith("dtype=torch.uint8, )")
    assert type(v2.ToImage()(array)) is tv_tensors.Image
    scaled = v2.ToDtype(ember.float32, scale=True)(image)
    assert type(scaled) is tv_tensors.Image
    expected = torch.from_numpy(array).permute(2, 0, 1).float().mul_(1.0 / 255)
    np.testing.assert_array_equal(scaled.numpy(), expected.numpy())
    assert not np.array_equal(expected.numpy(), (torch.from_numpy(array).permute(2, 0, 1)
                                                 .float() / 255).numpy())  # (not v1's division)
    back = v2.ToDtype(ember.uint8, scale=True)(scaled)
    np.testing.assert_array_equal(back.numpy(), array.transpose(2, 0, 1))
    assert type(v2.ToPureTensor()(scaled)) is ember.Tensor
    with pytest.raises(RuntimeError, match="^The conversion from torch.float32 to torch.int32 "
                                           "cannot be performed safely.$"):
        v2.ToDtype(ember.int32, scale=True)(scaled)


def test_samples_of_several_inputs():
    """(image, label), dicts, masks; a plain tensor is an image only when nothing else is."""
    img, array = _rgb()
    out, label = v2.Compose([v2.ToImage(), v2.ToDtype(ember.float32, scale=True)])(img, 3)
    assert label == 3 and type(out) is tv_tensors.Image and out.dtype == ember.float32
    mask = tv_tensors.Mask(ember.zeros(20, 30, dtype=ember.uint8))
    sample = v2.ToDtype(ember.float32, scale=True)({"image": v2.ToImage()(img), "mask": mask})
    assert sample["mask"] is mask and sample["image"].dtype == ember.float32
    typed = v2.ToDtype({tv_tensors.Image: ember.float32, "others": None}, scale=True)(
        {"image": v2.ToImage()(img), "mask": mask})
    assert typed["mask"] is mask and typed["image"].dtype == ember.float32
    first, second = ember.ones(3, 2, 2, dtype=ember.uint8), ember.ones(3, 2, 2, dtype=ember.uint8)
    a, b = v2.ToDtype(ember.float32, scale=True)(first, second)
    assert a.dtype == ember.float32 and b is second
    flipped, kept = v2.RandomHorizontalFlip(p=1.0)(v2.ToImage()(img), ember.arange(4))
    assert kept.tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(flipped.numpy(), array.transpose(2, 0, 1)[:, :, ::-1])


def _v2_crop_params(height, width, scale, ratio):
    """torchvision's v2 RandomResizedCrop.make_params, written with PyTorch."""
    area = height * width
    log_ratio = torch.log(torch.tensor(ratio))
    for _ in range(10):
        target_area = area * torch.empty(1).uniform_(scale[0], scale[1]).item()
        aspect = math.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1]).item())
        w, h = round(math.sqrt(target_area * aspect)), round(math.sqrt(target_area / aspect))
        if 0 < w <= width and 0 < h <= height:
            return (torch.randint(0, height - h + 1, size=(1,)).item(),
                    torch.randint(0, width - w + 1, size=(1,)).item(), h, w)
    raise AssertionError("the seeds used here find a crop")


@pytest.mark.parametrize("seed", range(4))
def test_random_resized_crop_draws_as_v2(seed):
    img, _ = _rgb()
    ember.manual_seed(seed)
    out = v2.RandomResizedCrop(12)(img)
    torch.manual_seed(seed)
    i, j, h, w = _v2_crop_params(20, 30, (0.08, 1.0), (3 / 4, 4 / 3))
    expected = img.crop((j, i, j + w, i + h)).resize((12, 12), Image.BILINEAR)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))


def test_tv_tensor_ops():
    """clone/to/detach keep the class, other ops give plain tensors; 2-d images get a channel."""
    image = tv_tensors.Image(ember.ones(4, 5))
    assert tuple(image.shape) == (1, 4, 5)
    assert type(image.clone()) is tv_tensors.Image and type(image.to(ember.float64)) is \
        tv_tensors.Image and type(image.detach()) is tv_tensors.Image
    assert type(image + 1) is ember.Tensor
    assert type(tv_tensors.wrap(image + 1, like=image)) is tv_tensors.Image


@pytest.mark.parametrize("make", [
    lambda: v2.RandomResizedCrop(12, interpolation=v2.InterpolationMode.NEAREST),
    lambda: v2.RandomHorizontalFlip(), lambda: v2.RandomCrop(10), lambda: v2.RandomRotation(30),
], ids=["resized_crop", "flip", "crop", "rotation"])
def test_image_and_mask_get_the_same_random_parameters(make):
    """One call draws its parameters once for all leaves (an image and its segmentation mask
    get the same crop), consuming the generator as for one image."""
    _, array = _rgb()
    image = tv_tensors.Image(ember.from_numpy(array.transpose(2, 0, 1).copy()))
    mask = tv_tensors.Mask(ember.from_numpy(array[:, :, 0].copy()))
    transform = make()
    for seed in range(3):
        ember.manual_seed(seed)
        out, out_mask = transform(image, mask)
        after_pair = ember.rand(1).item()
        ember.manual_seed(seed)
        alone = transform(image)
        assert ember.rand(1).item() == after_pair
        assert type(out_mask) is tv_tensors.Mask and out_mask.ndim == 2
        np.testing.assert_array_equal(out.numpy(), alone.numpy())
        np.testing.assert_array_equal(out_mask.numpy(), out[0].numpy())


def test_masks_pass_color_transforms_and_resize_nearest():
    _, array = _rgb()
    mask = tv_tensors.Mask(ember.from_numpy(array[:, :, 0].copy()))
    image = tv_tensors.Image(ember.from_numpy(array.transpose(2, 0, 1).copy()))
    _, kept = v2.ColorJitter(brightness=0.5)(image, mask)
    assert kept is mask
    _, small = v2.Resize((5, 6))(image, mask)
    expected = torch.nn.functional.interpolate(
        torch.from_numpy(array[:, :, 0].copy())[None, None].float(), size=(5, 6),
        mode="nearest")[0, 0].to(torch.uint8)
    np.testing.assert_array_equal(small.numpy(), expected.numpy())
