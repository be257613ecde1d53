"""Convert convolution weights to a memory format (matches
`torch.nn.utils.convert_conv2d_weight_memory_format` / `convert_conv3d_weight_memory_format`)."""

from ember.nn.modules.conv import Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d


def _convert(module, memory_format, kinds):
    if isinstance(module, kinds):
        weight = module.weight.detach().clone().contiguous(memory_format=memory_format)
        module.weight.data = weight
    for child in module.children():
        _convert(child, memory_format, kinds)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """module with every Conv2d/ConvTranspose2d weight laid out in memory_format."""
    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module, memory_format):
    """module with every Conv3d/ConvTranspose3d weight laid out in memory_format."""
    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
