"""ember.vision.datasets: image datasets (matches `torchvision.datasets`)."""

from ember.vision.datasets.cifar import CIFAR10, CIFAR100
from ember.vision.datasets.digits import Digits
from ember.vision.datasets.fakedata import FakeData
from ember.vision.datasets.folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder
from ember.vision.datasets.mnist import KMNIST, MNIST, FashionMNIST
from ember.vision.datasets.svhn import SVHN
from ember.vision.datasets.vision import VisionDataset

__all__ = ["CIFAR10", "CIFAR100", "IMG_EXTENSIONS", "KMNIST", "MNIST", "SVHN", "DatasetFolder",
           "Digits", "FakeData", "FashionMNIST", "ImageFolder", "VisionDataset"]
