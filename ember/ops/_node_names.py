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

from ember.autograd._shown_graph import shown_node
from ember.autograd.function import NOT_A_TENSOR_EDGE
from ember.ops.conv import _named

_NO_EDGE = (None, 0)


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


# NOTE [The composition behind a loss node]
# torch's cross_entropy is nll_loss(log_softmax(x)) for class indices and
# -(log_softmax(x) [* weight] * target).sum() [/ n] for class probabilities, and nll_loss of a 3-d
# or 5-d+ input views it as 4-d first, so `loss.grad_fn.next_functions` leads through
# LogSoftmaxBackward0 (and ViewBackward0, NegBackward0, SumBackward0, MulBackward0 ...) before
# it reaches the input. ember's one node lists those nodes in its next_functions (nodes that are
# shown, never run: `shown_node`), ending in the input's real edge, so a walk of the graph
# meets PyTorch's nodes in PyTorch's order. (Label smoothing's longer composition is not shown.)
def _through(names, edge):
    """The edge of shown nodes names[0] -> names[1] -> ... -> edge, each with that one input."""
    for name in reversed(names):
        edge = (shown_node(name, (edge,)), 0)
    return edge


def _nll_chain(name, ndim, edge):
    """Below an NLL node named `name`: the 4-d view of a 3-d or 5-d+ input (NOTE above)."""
    if ndim == 3 or ndim > 4:
        edge = _through(("ViewBackward0",), edge)
        if name == "ViewBackward0":  # 'none': the 2-d kernel's result viewed back
            edge = _through(("NllLoss2DBackward0",), edge)
    return (edge,)


def nll_loss_edges(node, edges):
    """next_functions of nll_loss's node as PyTorch's (NOTE [The composition behind a loss
    node])."""
    return _nll_chain(node.name(), len(node.input_meta[0]), edges[0])


def cross_entropy_edges(node, edges):
    """next_functions of cross_entropy's node as PyTorch's (NOTE [The composition behind a
    loss node])."""
    x, probs, _, weight = (_NO_EDGE if e is NOT_A_TENSOR_EDGE else e for e in edges[:4])
    if node.eps:
        return tuple([edge for edge in edges if edge is not NOT_A_TENSOR_EDGE])
    logp = _through(("LogSoftmaxBackward0",), x)
    if node.target is not None:  # class indices
        return _nll_chain(node.name(), node.ndim, logp)
    if node.weight is not None:
        logp = (shown_node("MulBackward0", (logp, weight)), 0)
    product = (shown_node("MulBackward0", (logp, probs)), 0)
    if node.reduction == "none":
        return (_through(("SumBackward1",), product),)
    total = _through(("SumBackward0",), product)
    return (_through(("NegBackward0",), total),) if node.reduction == "mean" else (total,)


def vector_matrix_edges(node, edges):
    """next_functions of matmul(vector, matrix) as PyTorch's: it computes
    v.unsqueeze(0).mm(M).squeeze_(0), so its node (the squeeze) lists the mm's, which lists the
    vector's unsqueeze and the matrix."""
    v, m = edges
    if v[0] is not None:
        v = _through(("UnsqueezeBackward0",), v)
    return ((shown_node("MmBackward0", (v, m)), 0),)


def attention_node(op, ndim, dropout_p):
    """scaled_dot_product_attention: PyTorch's CPU flash kernel for 4-d inputs without dropout,
    else its math composition, which ends in a matrix product (mm for 2-d, a viewed bmm
    otherwise)."""
    if ndim == 4 and not dropout_p:
        return _named(op, "ScaledDotProductFlashAttentionForCpuBackward0")
    return _named(op, "MmBackward0" if ndim == 2 else "UnsafeViewBackward0")


# the nodes whose name() keeps PyTorch's C++ namespace (their repr and tensor repr do not)
_NAMESPACED = frozenset(("CopySlices",))


def renamed_node(tensor, name):
    """tensor, its grad_fn (the last op of a composition) now named as PyTorch's one node."""
    node = tensor.grad_fn
    if node is not None:
        named = _named(node._function, name)._backward_cls
        if name in _NAMESPACED:
            named.name = _namespaced_name
        node.__class__ = named
    return tensor


def _namespaced_name(node) -> str:
    return f"torch::autograd::{type(node).__name__}"
