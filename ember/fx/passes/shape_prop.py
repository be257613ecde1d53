"""ShapeProp: run a GraphModule and record each node's tensor shape and dtype in
`node.meta['tensor_meta']` (matches `torch.fx.passes.shape_prop`)."""

from typing import NamedTuple

from ember._tensor import Tensor
from ember.fx.interpreter import Interpreter

__all__ = ["ShapeProp", "TensorMetadata"]


class TensorMetadata(NamedTuple):
    """What ShapeProp records about one tensor."""

    shape: tuple
    dtype: object
    requires_grad: bool
    stride: tuple
    memory_format: object
    is_quantized: bool
    qparams: dict


def _extract(value):
    if isinstance(value, Tensor):
        return TensorMetadata(value.shape, value.dtype, value.requires_grad, value.stride(),
                              None, False, {})
    if isinstance(value, (tuple, list)):
        return type(value)(_extract(v) for v in value) if not hasattr(value, "_fields") \
            else value
    return None


class ShapeProp(Interpreter):
    """An Interpreter that stores `tensor_meta` and `type` on every node it runs."""

    def run_node(self, n):
        result = super().run_node(n)
        meta = _extract(result)
        if meta is not None:
            n.meta["tensor_meta"] = meta
        n.meta["type"] = type(result)
        return result

    def propagate(self, *args):
        """Run the module on args, recording metadata; the module's result."""
        return super().run(*args)
