"""Calling a module with other parameters and buffers for one call (matches
`torch.nn.utils.stateless.functional_call`, deprecated since PyTorch 2.0 in favour of
`torch.func.functional_call`)."""

from ember._warnings import warn
from ember.func.functional_call import functional_call as _functional_call

__all__ = ["functional_call"]


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """torch.func.functional_call, with torch's FutureWarning (matches
    `torch.nn.utils.stateless.functional_call`)."""
    warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will "
         "be removed in a future version of PyTorch. Please use `torch.func.functional_call` "
         "instead which is a drop-in replacement.", FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs,
                            tie_weights=tie_weights, strict=strict)
