"""The module reprs the seeds print (MyCNN, ResNet and SE-ResNet, the FashionMNIST MLP), as
text the seed tests compare against."""


MYCNN_REPR = """\
MyCNN(
  (conv1): Sequential(
    (0): Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    (1): BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (2): ReLU()
    (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  )
  (conv2): Sequential(
    (0): Conv2d(16, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    (1): BatchNorm2d(32, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (2): ReLU()
    (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  )
  (fc): Linear(in_features=2048, out_features=10, bias=True)
)
"""


def _conv(i, o, s):
    return (f"Conv2d({i}, {o}, kernel_size=(3, 3), stride=({s}, {s}), padding=(1, 1), "
            f"bias=False)")


def bn_repr(c):
    return f"BatchNorm2d({c}, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"


def _linear(i, o):
    return f"Linear(in_features={i}, out_features={o}, bias=True)"


def resnet_repr(block, se):
    """Seed 002's printed ResNet / SE-ResNet repr (built line by line; `ReLU(inplace)` in the
    seed is an older PyTorch's spelling of `ReLU(inplace=True)`)."""
    lines = ["ResNet(", f"  (conv): {_conv(3, 16, 1)}", f"  (bn): {bn_repr(16)}",
             "  (relu): ReLU(inplace)"]
    c_in = 16
    for n, c in enumerate((16, 32, 64), start=1):
        lines.append(f"  (layer{n}): Sequential(")
        for b in range(2):
            stride = 2 if (b == 0 and c != c_in) else 1
            lines += [f"    ({b}): {block}(",
                      f"      (conv1): {_conv(c_in, c, stride)}", f"      (bn1): {bn_repr(c)}",
                      "      (relu): ReLU(inplace)",
                      f"      (conv2): {_conv(c, c, 1)}", f"      (bn2): {bn_repr(c)}"]
            if se:
                lines += ["      (se): SELayer(",
                          "        (avg_pool): AdaptiveAvgPool2d(output_size=(1, 1))",
                          "        (relu): ReLU(inplace)",
                          f"        (FC1): {_linear(c, c // 16)}",
                          f"        (FC2): {_linear(c // 16, c)}",
                          "        (sigmoid): Sigmoid()", "      )"]
            if stride == 2:
                lines += ["      (downsample): Sequential(",
                          f"        (0): {_conv(c_in, c, 2)}", f"        (1): {bn_repr(c)}",
                          "      )"]
            lines.append("    )")
            c_in = c
        lines.append("  )")
    lines += ["  (avg_pool): AvgPool2d(kernel_size=8, stride=8, padding=0)",
              "  (fc): Linear(in_features=64, out_features=10, bias=True)", ")"]
    return "\n".join(lines) + "\n"


NEURAL_NETWORK_REPR = """\
NeuralNetwork(
  (flatten): Flatten(start_dim=1, end_dim=-1)
  (linear_relu_stack): Sequential(
    (0): Linear(in_features=784, out_features=512, bias=True)
    (1): ReLU()
    (2): Linear(in_features=512, out_features=512, bias=True)
    (3): ReLU()
    (4): Linear(in_features=512, out_features=10, bias=True)
  )
)
"""
