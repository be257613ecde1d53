"""AlexNet (Krizhevsky 2014, "One weird trick" variant) with torchvision's structure and
state_dict keys (matches `torchvision.models.alexnet`)."""

from ember import nn
from ember.ops.shape import flatten
from ember.vision.models._api import Weights, WeightsEnum, fetch_state, handle_legacy, load_weights


class AlexNet(nn.Module):
    """Five convolutions, 6x6 adaptive average pool, three fully connected layers."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(flatten(x, 1))


class AlexNet_Weights(WeightsEnum):
    IMAGENET1K_V1 = Weights("https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
                            61100840)
    DEFAULT = IMAGENET1K_V1


def alexnet(*, weights=None, progress: bool = True, **kwargs) -> AlexNet:
    """AlexNet (matches `torchvision.models.alexnet`)."""
    state = fetch_state(handle_legacy(AlexNet_Weights, weights, kwargs), progress)
    return load_weights(AlexNet(**kwargs), state)
