"""Structured control flow as functions (matches `torch.cond` and `torch.while_loop`): in
eager mode, as here, they are a branch and a loop; PyTorch gives them their own form so that
export and compilation can trace both branches or the loop body. (With a tensor pred PyTorch
traces both branches even in eager mode and refuses branches whose outputs differ in structure,
rank or dtype, or alias an input; ember runs the branch taken and checks none of that.)"""

from ember._registry import torch_function
from ember._tensor import Tensor


@torch_function()
def cond(pred, true_fn, false_fn, operands=()):
    """true_fn(*operands) if pred else false_fn(*operands); pred a bool or a one-element
    tensor (matches `torch.cond`)."""
    if isinstance(pred, Tensor) and pred.numel() != 1:
        raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got {pred}.")
    return (true_fn if bool(pred) else false_fn)(*operands)


@torch_function()
def while_loop(cond_fn, body_fn, carried_inputs):
    """Apply body_fn to the carried values while cond_fn of them holds; the last values, as
    body_fn returns them (a tuple, or one tensor) (matches `torch.while_loop`)."""
    carried, single = tuple(carried_inputs), False
    while bool(cond_fn(*carried)):
        result = body_fn(*carried)
        single = not isinstance(result, (tuple, list))
        carried = (result,) if single else tuple(result)
    return carried[0] if single else carried
