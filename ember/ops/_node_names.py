"""The grad_fn names PyTorch's composite functions end in, for ember's one-node versions.

NOTE [grad_fn names of composite ops]
Several torch functions are compositions of ops: `linear` on a vector or a batch of sequences
flattens it, multiplies and views the product back; `l1_loss` is abs then mean or sum;
`cross_entropy` with label smoothing adds two losses. A tensor's grad_fn, printed as
`grad_fn=<ViewBackward0>`, is the last op's node. ember computes each of these as one op, so
that op takes the name of the node PyTorch's composition (or the CPU kernel it picks) ends in,
by input rank, reduction and options; the op itself, its backward and every rule keyed on
its class are unchanged (`_named` makes a subclass under another node name).
"""

from ember.ops.conv import _named


def linear_node(op, ndim, bias):
    """linear: addmm (mm without bias) on a matrix; any other input is flattened to one and the
    result viewed back (a squeeze for a vector without bias)."""
    if ndim == 2:
        return op
    if bias:
        return _named(op, "ViewBackward0")
    return _named(op, "SqueezeBackward4" if ndim == 1 else "UnsafeViewBackward0")


# l1_loss is abs then mean or sum: the last of those
_L1 = {"mean": "MeanBackward0", "sum": "SumBackward0", "none": "AbsBackward0"}


def l1_node(op, reduction):
    return _named(op, _L1[reduction])


def class_loss_node(op, ndim, reduction, probabilities=False, smoothing=False):
    """cross_entropy / nll_loss: with probability targets a division ('mean') or a negation,
    with label smoothing an addition; else the NLL kernel of 1-d/2-d inputs, or the 2-d image
    one, which a 3-d or 5-d+ input reaches reshaped (and 'none' is reshaped back)."""
    if probabilities:
        name = "DivBackward1" if reduction == "mean" else "NegBackward0"
    elif smoothing:
        name = "AddBackward0"
    elif ndim <= 2:
        return op  # NllLossBackward0
    elif ndim == 4 or reduction != "none":
        name = "NllLoss2DBackward0"
    else:
        name = "ViewBackward0"
    return _named(op, name)


def attention_node(op, ndim, dropout_p):
    """scaled_dot_product_attention: PyTorch's CPU flash kernel for 4-d inputs without dropout,
    else its math composition, which ends in a matrix product (mm for 2-d, a viewed bmm
    otherwise)."""
    if ndim == 4 and not dropout_p:
        return _named(op, "ScaledDotProductFlashAttentionForCpuBackward0")
    return _named(op, "MmBackward0" if ndim == 2 else "UnsafeViewBackward0")


def renamed_node(tensor, name):
    """tensor, its grad_fn (the last op of a composition) now named as PyTorch's one node."""
    node = tensor.grad_fn
    if node is not None:
        node.__class__ = _named(node._function, name)._backward_cls
    return tensor
