"""Finite-difference checks of analytical gradients (matches `torch.autograd.gradcheck`).

NOTE [gradcheck of complex functions]
A complex number z = a + ib is two real coordinates (a, b), so the check compares real
Jacobians: every complex input element is perturbed along a and along b (z ± eps, z ± i·eps),
and every complex output element gives two rows, Re y and Im y. Backward reaches those rows
through PyTorch's convention (NOTE [Gradients of complex tensors] in ember/ops/complex.py):
the grad_output 1 makes backward return ∂Re y/∂a + i·∂Re y/∂b, and the grad_output i gives the
same for Im y. Comparing these is what torch's gradcheck does through the Wirtinger derivatives.
"""

from ember._backend import xp
from ember._tensor import Tensor
from ember.autograd.gradients import grad


def _real_coordinates(array):
    """An array's entries as float64 coordinates: (re, im) pairs for complex entries."""
    flat = array.reshape(-1)
    if flat.dtype.kind == "c":
        return xp.stack([flat.real, flat.imag], axis=-1).reshape(-1).astype(xp.float64)
    return flat.astype(xp.float64)


def _directions(array):
    """The unit steps of one element: 1 (and i for a complex element)."""
    return (1, 1j) if array.dtype.kind == "c" else (1,)


def _numerical_jacobian(fn, inputs, index, eps):
    """d(outputs)/d(inputs[index]) by central differences, one column per input coordinate."""
    x = inputs[index]._data
    columns = []
    for position in xp.ndindex(x.shape) if x.ndim else [()]:
        original = x[position].copy()
        for step in _directions(x):
            x[position] = original + step * eps
            plus = _flat_outputs(fn(*inputs))
            x[position] = original - step * eps
            minus = _flat_outputs(fn(*inputs))
            x[position] = original
            columns.append((plus - minus) / (2 * eps))
    return xp.stack(columns, axis=1) if columns else xp.zeros((0, 0))


def _flat_outputs(outputs):
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    return xp.concatenate([_real_coordinates(o._data) for o in outputs
                           if isinstance(o, Tensor)])


def _analytical_jacobian(fn, inputs, index):
    """d(outputs)/d(inputs[index]) by backpropagating each unit output vector (1, and i for a
    complex output element)."""
    outputs = fn(*inputs)
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    outputs = [o for o in outputs if isinstance(o, Tensor)]
    x = inputs[index]._data
    width = x.size * len(_directions(x))
    rows = []
    for k, out in enumerate(outputs):
        steps = _directions(out._data)
        if not out.requires_grad:  # a constant output: its rows of the Jacobian are zero
            rows.extend(xp.zeros(width) for _ in range(out._data.size * len(steps)))
            continue
        for j in range(out._data.size):
            for step in steps:
                seeds = [Tensor._make(xp.zeros(o._data.shape, dtype=o._data.dtype))
                         for o in outputs]
                seeds[k]._data.reshape(-1)[j] = step
                live = [(o, seed) for o, seed in zip(outputs, seeds) if o.requires_grad]
                (g,) = grad([o for o, _ in live], [inputs[index]], [s for _, s in live],
                            retain_graph=True, allow_unused=True)
                rows.append(xp.zeros(width) if g is None else _real_coordinates(g._data))
    return xp.stack(rows, axis=0) if rows else xp.zeros((0, width))


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **kwargs):
    """Compare backward's Jacobian with finite differences for every input requiring grad."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for index, t in enumerate(inputs):
        if not (isinstance(t, Tensor) and t.requires_grad):
            continue
        analytical = _analytical_jacobian(func, inputs, index)
        numerical = _numerical_jacobian(func, inputs, index, eps).reshape(analytical.shape)
        if not xp.allclose(analytical, numerical, atol=atol, rtol=rtol):
            if raise_exception:
                raise RuntimeError(
                    f"Jacobian mismatch for output 0 with respect to input {index},\n"
                    f"numerical:{numerical}\nanalytical:{analytical}\n")
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, **kwargs):
    """gradcheck of the gradient itself: checks second derivatives through create_graph."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    differentiable = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    rng = xp.random.default_rng(0)

    def first_derivative(*args):
        outputs = func(*args)
        outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
        seeds = [Tensor._make(_random_like(rng, o._data)) for o in outputs] \
            if grad_outputs is None else list(grad_outputs)
        used = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        return grad(outputs, used, seeds, create_graph=True, allow_unused=True,
                             materialize_grads=True)

    state = rng.bit_generator.state

    def reseeded(*args):
        rng.bit_generator.state = state
        return first_derivative(*args)

    return gradcheck(reseeded, inputs, eps=eps, atol=atol, rtol=rtol) if differentiable else True


def _random_like(rng, array):
    """A standard normal sample shaped like array, complex (both parts random) if it is."""
    sample = rng.standard_normal(array.shape)
    if array.dtype.kind == "c":
        sample = sample + 1j * rng.standard_normal(array.shape)
    return sample.astype(array.dtype)
