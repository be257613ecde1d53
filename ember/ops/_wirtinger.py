"""The chain rule for complex tensors, shared by every backward formula.

NOTE [Gradients of complex tensors] (ember/ops/complex.py) states PyTorch's convention: the
gradient of a real loss L with respect to z = a + ib is ∂L/∂a + i·∂L/∂b. Through a holomorphic
y = f(z) (exp, log, products, matrix products, ...) that makes

    gz = gy·conj(f'(z))

the ordinary chain rule with the local derivative conjugated. Backward formulas are written once,
for real and complex inputs alike, by conjugating each local derivative with `conj` (or using
`chain`, the product itself). On real tensors `conj` returns its argument untouched, so real
results are the very same computation as before, bit for bit, and record no extra node.
"""

from ember._tensor import Tensor


def is_complex(x: Tensor) -> bool:
    """Whether x holds complex numbers (a fast check on the array's dtype)."""
    return x._data.dtype.kind == "c"


def conj(x: Tensor) -> Tensor:
    """conj(x) for a complex tensor, in the graph; a real tensor is returned as it is."""
    return x.conj() if x._data.dtype.kind == "c" else x


def conj_scalar(value):
    """The complex conjugate of a Python number (a real number is returned as it is)."""
    return value.conjugate() if type(value) is complex else value


def chain(gy: Tensor, derivative: Tensor) -> Tensor:
    """gy·conj(f'(z)): the gradient through a holomorphic op with local derivative f'(z)."""
    return gy * conj(derivative)


def refuse_complex(x, error: type, message: str):
    """PyTorch's refusal of an op complex numbers do not support (those needing an order:
    comparisons, max/min, sorting, ...): raise error(message) when x is a complex tensor."""
    if isinstance(x, Tensor) and x._data.dtype.kind == "c":
        raise error(message)
