"""`skip_init`: build a module without running its parameter initialisation (matches
`torch.nn.utils.skip_init`)."""

import inspect

from ember import random
from ember.nn.modules.module import Module


def skip_init(module_cls, *args, **kwargs):
    """module_cls(*args, **kwargs) with uninitialised parameters and buffers.

    torch builds the module on the meta device and then allocates empty storage, so no random
    number is drawn; ember builds it normally inside `fork_rng` (the default generator's state
    is put back, so later draws are torch's) and then empties the parameters and buffers
    (ember's empty memory is zeros).
    """
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop("device", "cpu")
    with random.fork_rng():
        module = module_cls(*args, **kwargs)
    for tensor in list(module.parameters()) + list(module.buffers()):
        tensor.data.zero_()
    return module.to(final_device)
