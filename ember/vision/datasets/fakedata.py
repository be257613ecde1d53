"""FakeData: random images, the same image for the same index (matches torchvision's)."""

from ember.ops.creation import randint, randn
from ember.random import Generator
from ember.vision.datasets.vision import VisionDataset
from ember.vision.transforms.transforms import ToPILImage


class FakeData(VisionDataset):
    """`size` random PIL images of `image_size` (C, H, W) with random labels; item i is drawn
    from a generator seeded with i + random_offset, so it never changes."""

    def __init__(self, size: int = 1000, image_size=(3, 224, 224), num_classes: int = 10,
                 transform=None, target_transform=None, random_offset: int = 0):
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index: int):
        if index >= len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        generator = Generator().manual_seed(index + self.random_offset)
        img = randn(*self.image_size, generator=generator)
        target = randint(0, self.num_classes, size=(1,), generator=generator)
        img = ToPILImage()(img)
        return self._apply(img, int(target._data[0]))

    def __len__(self) -> int:
        return self.size
