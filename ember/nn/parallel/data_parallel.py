"""`nn.DataParallel` as PyTorch's CPU-only build runs it: with no accelerator it keeps the
module as `.module` and calls it (so state_dict keys carry the `module.` prefix, as in torch)."""

from ember.nn.modules.module import Module


class DataParallel(Module):
    """Run `module` on the available devices; on a CPU-only build, just run it."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,
                  module_kwargs=None):
    """Functional DataParallel: module(*inputs) on a CPU-only build."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
