"""Calling a module with other parameters and buffers for one call (matches
`torch.nn.utils.stateless.functional_call`, which torch keeps as an alias of
`torch.func.functional_call`)."""

from ember.func.functional_call import functional_call

__all__ = ["functional_call"]
