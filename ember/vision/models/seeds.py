"""The models of the seed tutorials, with their names and structure, parameterised by input
channels, image size and number of classes so that they also run on small images (digits).

- `Howjul` (seed 000): the 3-conv CIFAR10 net, `model1` = 3 x (Conv2d 5x5, MaxPool2d) +
  Flatten + Linear(1024, 64) + Linear(64, 10).
- `MyCNN` (seed 002): 2 x (Conv2d, BatchNorm2d, ReLU, MaxPool2d) + Linear.
- `ResNet(ResidualBlock, [2, 2, 2])` and `ResNet(SEResidualBlock, [2, 2, 2])` (seed 002): the
  CIFAR ResNet and SE-ResNet.
- `VGG(cfg['VGG11'])` (seed 002): the CIFAR VGG with BatchNorm and a 512 -> 10 classifier.
- `NeuralNetwork` (seed 003): the FashionMNIST MLP.
- `Classifier` (seed 004): the 3-block CNN with 11 classes.
With the default arguments each prints exactly as in the seeds.
"""

from ember import nn


class Howjul(nn.Module):
    """Seed 000's CIFAR10 network."""

    def __init__(self, in_channels: int = 3, image_size: int = 32, num_classes: int = 10):
        super().__init__()
        side = image_size // 8
        self.model1 = nn.Sequential(
            nn.Conv2d(in_channels, 32, 5, padding=2),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 5, padding=2),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * side * side, 64),
            nn.Linear(64, num_classes),
        )

    def forward(self, x):
        return self.model1(x)


class MyCNN(nn.Module):
    """Seed 002's CNN: (Conv2d -> BN -> ReLU -> MaxPool) x 2 -> Linear."""

    def __init__(self, image_size: int = 32, num_classes: int = 10, in_channels: int = 3):
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_channels=in_channels, out_channels=16, kernel_size=3, stride=1,
                      padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.conv2 = nn.Sequential(
            nn.Conv2d(in_channels=16, out_channels=32, kernel_size=3, stride=1, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.fc = nn.Linear(32 * (image_size // 4) * (image_size // 4), num_classes)

    def forward(self, x):
        x = self.conv1(x)
        x = self.conv2(x)
        x = x.view(x.size(0), -1)
        return self.fc(x)


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution, padding 1, no bias."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1,
                     bias=False)


class ResidualBlock(nn.Module):
    """Seed 002's residual block: conv-bn-relu-conv-bn, plus the (downsampled) input, relu."""

    def __init__(self, in_channels, out_channels, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = downsample

    def forward(self, x):
        residual = x
        if self.downsample:
            residual = self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += residual
        return self.relu(out)


class SELayer(nn.Module):
    """Squeeze-and-excitation: x · sigmoid(FC2(relu(FC1(avgpool(x))))) per channel."""

    def __init__(self, channel, reduction=16):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.relu = nn.ReLU(inplace=True)
        self.FC1 = nn.Linear(channel, channel // reduction)
        self.FC2 = nn.Linear(channel // reduction, channel)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        out = self.avg_pool(x).view(x.size(0), -1)
        out = self.sigmoid(self.FC2(self.relu(self.FC1(out))))
        return out.view(out.size(0), out.size(1), 1, 1) * x


class SEResidualBlock(nn.Module):
    """Seed 002's residual block with an SELayer after the second batch norm.

    NOTE [The seed's SE loop]
    The seed's forward calls `s = self.se(out)` and then rescales channel by channel in a Python
    loop with `s[0, i]` (the first sample's map for every sample), although SELayer already
    returns the rescaled features. Here the block uses SELayer's output directly, which is the
    squeeze-and-excitation the seed describes; modules and state_dict keys are the seed's.
    """

    def __init__(self, in_channels, out_channels, stride=1, downsample=None, reduction=16):
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.se = SELayer(out_channels, reduction)
        self.downsample = downsample

    def forward(self, x):
        residual = x
        if self.downsample:
            residual = self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.se(self.bn2(self.conv2(out)))
        out += residual
        return self.relu(out)


class ResNet(nn.Module):
    """Seed 002's CIFAR ResNet: conv3x3(16) + three stages (16, 32, 64) + AvgPool2d + fc."""

    def __init__(self, block, layers, num_classes=10, in_channels=3, image_size=32):
        super().__init__()
        self.in_channels = 16
        self.conv = conv3x3(in_channels, 16)
        self.bn = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self.make_layer(block, 16, num_blocks=layers[0])
        self.layer2 = self.make_layer(block, 32, num_blocks=layers[1], stride=2)
        self.layer3 = self.make_layer(block, 64, num_blocks=layers[2], stride=2)
        side = -(-image_size // 4)  # after two stride-2 stages: ceil(ceil(s / 2) / 2)
        self.avg_pool = nn.AvgPool2d(side)
        self.fc = nn.Linear(64, num_classes)

    def make_layer(self, block, out_channels, num_blocks, stride=1):
        downsample = None
        if (stride != 1) or (self.in_channels != out_channels):
            downsample = nn.Sequential(conv3x3(self.in_channels, out_channels, stride=stride),
                                       nn.BatchNorm2d(out_channels))
        layers = [block(self.in_channels, out_channels, stride, downsample)]
        self.in_channels = out_channels
        for _ in range(1, num_blocks):
            layers.append(block(out_channels, out_channels))
        return nn.Sequential(*layers)

    def forward(self, x):
        out = self.relu(self.bn(self.conv(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = self.avg_pool(out)
        out = out.view(out.size(0), -1)
        return self.fc(out)


cfg = {
    "VGG11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "VGG13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "VGG16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512,
              512, "M"],
    "VGG19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """Seed 002's CIFAR VGG: (Conv2d-BN-ReLU | MaxPool) from cfg, AvgPool2d(1), Linear(512)."""

    def __init__(self, cfg, num_classes=10, in_channels=3, image_size=32):
        super().__init__()
        self._in_channels = in_channels
        self.features = self._make_layers(cfg)
        side = image_size // 2 ** cfg.count("M")
        self.classifier = nn.Linear(512 * side * side, num_classes)

    def forward(self, x):
        out = self.features(x)
        out = out.view(out.size(0), -1)
        return self.classifier(out)

    def _make_layers(self, cfg):
        layers = []
        in_channels = self._in_channels
        for x in cfg:
            if x == "M":
                layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
            else:
                layers += [nn.Conv2d(in_channels, x, kernel_size=3, padding=1),
                           nn.BatchNorm2d(x),
                           nn.ReLU(inplace=True)]
                in_channels = x
        layers += [nn.AvgPool2d(kernel_size=1, stride=1)]
        return nn.Sequential(*layers)


class NeuralNetwork(nn.Module):
    """Seed 003's FashionMNIST MLP: Flatten, Linear(784, 512), ReLU, Linear(512, 512), ReLU,
    Linear(512, 10)."""

    def __init__(self, in_features: int = 28 * 28, num_classes: int = 10, hidden: int = 512):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        x = self.flatten(x)
        return self.linear_relu_stack(x)


class Classifier(nn.Module):
    """Seed 004's CNN: 3 x (Conv2d, BatchNorm2d, ReLU, MaxPool2d) + three Linear layers.

    The seed's Linear(512 * 4 * 4, 1024) fits 32x32 inputs (its comments mention 128x128, for
    which the flattened size would be 512 * 16 * 16); image_size sets it.
    """

    def __init__(self, in_channels: int = 3, image_size: int = 32, num_classes: int = 11):
        super().__init__()
        self.cnn = nn.Sequential(
            nn.Conv2d(in_channels, 64, 3, 1, 1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(2, 2, 0),
            nn.Conv2d(64, 128, 3, 1, 1),
            nn.BatchNorm2d(128),
            nn.ReLU(),
            nn.MaxPool2d(2, 2, 0),
            nn.Conv2d(128, 512, 3, 1, 1),
            nn.BatchNorm2d(512),
            nn.ReLU(),
            nn.MaxPool2d(2, 2, 0),
        )
        side = image_size // 8
        self.fc = nn.Sequential(
            nn.Linear(512 * side * side, 1024),
            nn.ReLU(),
            nn.Linear(1024, 32),
            nn.ReLU(),
            nn.Linear(32, num_classes),
        )

    def forward(self, x):
        out = self.cnn(x)
        out = out.view(out.size()[0], -1)
        return self.fc(out)
