"""The seeds' models, written once and built with either library (`torch` or `ember`).

Benchmarks must compare like with like, so the model code is shared: `define(torch)` runs the
seeds' class definitions against whichever module is passed in as `torch`.
"""


def define(torch):
    """Return {name: (constructor, input shape, batch size, optimizer name)} for one library."""
    nn = torch.nn

    class SeedCifarNet(nn.Module):
        """Seed 000: three 5x5 convs with max pooling, then two linear layers."""

        def __init__(self):
            super().__init__()
            self.model1 = nn.Sequential(
                nn.Conv2d(3, 32, 5, padding=2), nn.MaxPool2d(2),
                nn.Conv2d(32, 32, 5, padding=2), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 5, padding=2), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(1024, 64), nn.Linear(64, 10))

        def forward(self, x):
            return self.model1(x)

    class MyCNN(nn.Module):
        """Seed 002: two conv-BN-ReLU-maxpool stages and a linear classifier."""

        def __init__(self, image_size=32, num_classes=10):
            super().__init__()
            self.conv1 = nn.Sequential(
                nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1), nn.BatchNorm2d(16),
                nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2))
            self.conv2 = nn.Sequential(
                nn.Conv2d(16, 32, kernel_size=3, stride=1, padding=1), nn.BatchNorm2d(32),
                nn.ReLU(), nn.MaxPool2d(kernel_size=2, stride=2))
            self.fc = nn.Linear(32 * (image_size // 4) * (image_size // 4), num_classes)

        def forward(self, x):
            x = self.conv2(self.conv1(x))
            return self.fc(x.view(x.size(0), -1))

    def conv3x3(in_channels, out_channels, stride=1):
        return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1,
                         bias=False)

    class ResidualBlock(nn.Module):
        """Seed 002's residual block (note `out += residual`)."""

        def __init__(self, in_channels, out_channels, stride=1, downsample=None):
            super().__init__()
            self.conv1 = conv3x3(in_channels, out_channels, stride)
            self.bn1 = nn.BatchNorm2d(out_channels)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = conv3x3(out_channels, out_channels)
            self.bn2 = nn.BatchNorm2d(out_channels)
            self.downsample = downsample

        def forward(self, x):
            residual = self.downsample(x) if self.downsample else x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += residual
            return self.relu(out)

    class ResNet(nn.Module):
        """Seed 002's CIFAR ResNet: conv, three stages of residual blocks, avg pool, fc."""

        def __init__(self, block, layers, num_classes=10):
            super().__init__()
            self.in_channels = 16
            self.conv = conv3x3(3, 16)
            self.bn = nn.BatchNorm2d(16)
            self.relu = nn.ReLU(inplace=True)
            self.layer1 = self.make_layer(block, 16, layers[0])
            self.layer2 = self.make_layer(block, 32, layers[1], stride=2)
            self.layer3 = self.make_layer(block, 64, layers[2], stride=2)
            self.avg_pool = nn.AvgPool2d(8)
            self.fc = nn.Linear(64, num_classes)

        def make_layer(self, block, out_channels, num_blocks, stride=1):
            downsample = None
            if stride != 1 or self.in_channels != out_channels:
                downsample = nn.Sequential(conv3x3(self.in_channels, out_channels, stride=stride),
                                           nn.BatchNorm2d(out_channels))
            layers = [block(self.in_channels, out_channels, stride, downsample)]
            self.in_channels = out_channels
            layers += [block(out_channels, out_channels) for _ in range(1, num_blocks)]
            return nn.Sequential(*layers)

        def forward(self, x):
            out = self.relu(self.bn(self.conv(x)))
            out = self.layer3(self.layer2(self.layer1(out)))
            out = self.avg_pool(out)
            return self.fc(out.view(out.size(0), -1))

    class VGG(nn.Module):
        """Seed 002's CIFAR VGG with BatchNorm."""

        def __init__(self, cfg):
            super().__init__()
            layers, in_channels = [], 3
            for x in cfg:
                if x == "M":
                    layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
                else:
                    layers += [nn.Conv2d(in_channels, x, kernel_size=3, padding=1),
                               nn.BatchNorm2d(x), nn.ReLU(inplace=True)]
                    in_channels = x
            layers += [nn.AvgPool2d(kernel_size=1, stride=1)]
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Linear(512, 10)

        def forward(self, x):
            out = self.features(x)
            return self.classifier(out.view(out.size(0), -1))

    class NeuralNetwork(nn.Module):
        """Seed 003's FashionMNIST MLP."""

        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                nn.Linear(512, 10))

        def forward(self, x):
            return self.linear_relu_stack(self.flatten(x))

    vgg11 = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
    return {
        "seed000-net": (SeedCifarNet, (3, 32, 32), 64, "sgd"),
        "mycnn": (MyCNN, (3, 32, 32), 100, "adam"),
        "cifar-resnet": (lambda: ResNet(ResidualBlock, [2, 2, 2]), (3, 32, 32), 100, "adam"),
        "vgg11-bn": (lambda: VGG(vgg11), (3, 32, 32), 100, "adam"),
        "mlp": (NeuralNetwork, (1, 28, 28), 64, "sgd"),
    }
