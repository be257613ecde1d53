"""The random transforms make torchvision's calls on the generator in torchvision's order: after
the same `manual_seed`, ember's parameters equal those that torchvision's algorithm (written
out here with torch calls, as torchvision 0.2x's source makes them) draws from torch, and both
default generators end in the same state.

These rely on `rand`, `randint`, `randperm` and `uniform_` being torch's (ember/ops/creation.py,
ember/ops/sampling.py); RandomErasing's noise fill also on `normal_`.
"""

import math
import random

import numpy as np
import pytest
import torch

import ember
from ember.vision import transforms as T

SEEDS = (0, 42, 2026)
IMAGE = np.random.default_rng(3).random((3, 10, 12)).astype(np.float32)


# ---- torchvision's draws, written with torch calls ---------------------------------------------
def _tv_crop(h, w, th, tw):
    if (h, w) == (th, tw):
        return 0, 0, h, w
    return (torch.randint(0, h - th + 1, size=(1,)).item(),
            torch.randint(0, w - tw + 1, size=(1,)).item(), th, tw)


def _tv_resized_crop(height, width, scale, ratio):
    area = height * width
    log_ratio = torch.log(torch.tensor(ratio))
    for _ in range(10):
        target_area = area * torch.empty(1).uniform_(scale[0], scale[1]).item()
        aspect = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1])).item()
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            return (torch.randint(0, height - h + 1, size=(1,)).item(),
                    torch.randint(0, width - w + 1, size=(1,)).item(), h, w)
    in_ratio = float(width) / float(height)
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        h, w = height, int(round(height * max(ratio)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def _tv_uniform(a, b):
    return float(torch.empty(1).uniform_(a, b).item())


def _tv_affine(degrees, translate, scale, shears, size):
    angle = _tv_uniform(degrees[0], degrees[1])
    max_dx, max_dy = float(translate[0] * size[0]), float(translate[1] * size[1])
    tx = int(round(torch.empty(1).uniform_(-max_dx, max_dx).item()))
    ty = int(round(torch.empty(1).uniform_(-max_dy, max_dy).item()))
    s = _tv_uniform(scale[0], scale[1])
    shear_x = _tv_uniform(shears[0], shears[1])
    shear_y = _tv_uniform(shears[2], shears[3])
    return angle, (tx, ty), s, (shear_x, shear_y)


def _tv_jitter(b, c, s, h):
    order = torch.randperm(4).tolist()
    return [order] + [None if r is None else _tv_uniform(r[0], r[1]) for r in (b, c, s, h)]


def _tv_erasing(img_c, img_h, img_w, scale, ratio, value):
    area = img_h * img_w
    log_ratio = torch.log(torch.tensor(ratio))
    for _ in range(10):
        erase_area = area * torch.empty(1).uniform_(scale[0], scale[1]).item()
        aspect = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1])).item()
        h = int(round(math.sqrt(erase_area * aspect)))
        w = int(round(math.sqrt(erase_area / aspect)))
        if not (h < img_h and w < img_w):
            continue
        v = (torch.empty([img_c, h, w], dtype=torch.float32).normal_() if value is None
             else torch.tensor(value)[:, None, None])
        return (torch.randint(0, img_h - h + 1, size=(1,)).item(),
                torch.randint(0, img_w - w + 1, size=(1,)).item(), h, w, v.numpy().tolist())
    return 0, 0, img_h, img_w, None


def _ember_erasing(*args):
    i, j, h, w, v = T.RandomErasing.get_params(*args)
    return i, j, h, w, (v.numpy().tolist() if h != args[0].shape[-2] else None)


def _coins(p, n=12):
    return [bool(torch.rand(1) < p) for _ in range(n)]


def _flipped(transform, lib, n=12):
    """For n calls of a flip-like transform, whether it changed the image."""
    img = lib.tensor(IMAGE)
    return [not bool((transform(img) == img).all()) for _ in range(n)]


# name -> (ember fn, torchvision-as-torch fn): each returns plain values
CASES = {
    "RandomCrop": (lambda: [T.RandomCrop.get_params(ember.tensor(IMAGE), (5, 7))
                            for _ in range(4)],
                   lambda: [_tv_crop(10, 12, 5, 7) for _ in range(4)]),
    "RandomCrop_forward_padding": (
        lambda: T.RandomCrop(12, padding=2)(ember.tensor(IMAGE)).numpy().tolist(),
        lambda: _crop_reference()),
    "RandomHorizontalFlip": (lambda: _flipped(T.RandomHorizontalFlip(0.4), ember),
                             lambda: _coins(0.4)),
    "RandomVerticalFlip": (lambda: _flipped(T.RandomVerticalFlip(), ember),
                           lambda: _coins(0.5)),
    "RandomResizedCrop": (lambda: [T.RandomResizedCrop.get_params(
        ember.tensor(IMAGE), (0.08, 1.0), (3 / 4, 4 / 3)) for _ in range(6)],
        lambda: [_tv_resized_crop(10, 12, (0.08, 1.0), (3 / 4, 4 / 3)) for _ in range(6)]),
    "RandomResizedCrop_fallback": (lambda: [T.RandomResizedCrop.get_params(
        ember.tensor(IMAGE), (0.9, 1.0), (3.0, 4.0)) for _ in range(2)],
        lambda: [_tv_resized_crop(10, 12, (0.9, 1.0), (3.0, 4.0)) for _ in range(2)]),
    "RandomRotation": (lambda: [T.RandomRotation.get_params([-30.0, 45.0]) for _ in range(3)],
                       lambda: [_tv_uniform(-30.0, 45.0) for _ in range(3)]),
    "RandomAffine": (lambda: [T.RandomAffine.get_params(
        [-10.0, 20.0], (0.1, 0.3), (0.8, 1.2), [-5.0, 5.0, -3.0, 3.0], [12, 10])
        for _ in range(3)],
        lambda: [_tv_affine([-10.0, 20.0], (0.1, 0.3), (0.8, 1.2), [-5.0, 5.0, -3.0, 3.0],
                            [12, 10]) for _ in range(3)]),
    "ColorJitter": (lambda: [[p.tolist() if isinstance(p, ember.Tensor) else p
                              for p in T.ColorJitter.get_params(
                                  (0.5, 1.5), None, (0.2, 1.8), (-0.1, 0.1))]
                             for _ in range(3)],
                    lambda: [_tv_jitter((0.5, 1.5), None, (0.2, 1.8), (-0.1, 0.1))
                             for _ in range(3)]),
    "RandomGrayscale": (lambda: _flipped(T.RandomGrayscale(0.3), ember), lambda: _coins(0.3)),
    "GaussianBlur": (lambda: [T.GaussianBlur.get_params(0.1, 2.0) for _ in range(3)],
                     lambda: [torch.empty(1).uniform_(0.1, 2.0).item() for _ in range(3)]),
    "RandomErasing_value": (lambda: [_ember_erasing(ember.tensor(IMAGE), (0.02, 0.33),
                                                    (0.3, 3.3), [0.5]) for _ in range(4)],
                            lambda: [_tv_erasing(3, 10, 12, (0.02, 0.33), (0.3, 3.3), [0.5])
                                     for _ in range(4)]),
    "RandomErasing_noise": (lambda: [_ember_erasing(ember.tensor(IMAGE), (0.02, 0.33),
                                                    (0.3, 3.3), None) for _ in range(3)],
                            lambda: [_tv_erasing(3, 10, 12, (0.02, 0.33), (0.3, 3.3), None)
                                     for _ in range(3)]),
    "RandomApply": (lambda: _flipped(T.RandomApply([T.RandomHorizontalFlip(1.0)], 0.3), ember),
                    lambda: [_tv_apply(0.3) for _ in range(12)]),
}


def _tv_apply(p):
    """RandomApply([RandomHorizontalFlip(1.0)], p): skipped when p < rand, else the flip
    draws its own coin (always heads)."""
    if p < torch.rand(1):
        return False
    return bool(torch.rand(1) < 1.0)


def _crop_reference():
    padded = torch.nn.functional.pad(torch.tensor(IMAGE), [2, 2, 2, 2])
    i, j, h, w = _tv_crop(14, 16, 12, 12)
    return padded[:, i:i + h, j:j + w].numpy().tolist()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_same_draws_as_torchvision(name, seed):
    """ember's transform draws what torchvision's algorithm draws from torch."""
    ember_fn, torch_fn = CASES[name]
    ember.manual_seed(seed)
    torch.manual_seed(seed)
    assert ember_fn() == torch_fn()
    assert (ember.empty(3, dtype=ember.float64).exponential_().tolist()
            == torch.empty(3, dtype=torch.float64).exponential_().tolist())


@pytest.mark.parametrize("seed", SEEDS)
def test_random_choice_and_order_use_python_random(seed):
    """RandomChoice and RandomOrder draw from Python's `random` as torchvision does."""
    def picks():
        add = [lambda x, k=k: x * 10 + k for k in range(4)]
        choice = T.RandomChoice(add, p=[0.1, 0.2, 0.3, 0.4])
        order = T.RandomOrder(add)
        return [choice(0) for _ in range(5)] + [order(0) for _ in range(5)]

    random.seed(seed)
    ours = picks()
    random.seed(seed)
    expected = ([random.choices(range(4), weights=[0.1, 0.2, 0.3, 0.4])[0] for _ in range(5)]
                + [_shuffled_number() for _ in range(5)])
    assert ours == expected


def _shuffled_number():
    order = list(range(4))
    random.shuffle(order)
    value = 0
    for k in order:
        value = value * 10 + k
    return value
