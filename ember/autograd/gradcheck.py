"""Finite-difference checks of analytical gradients (matches `torch.autograd.gradcheck`)."""

from ember._backend import xp
from ember._tensor import Tensor
from ember.autograd.gradients import grad


def _numerical_jacobian(fn, inputs, index, eps):
    """d(outputs)/d(inputs[index]) by central differences, one column per input element."""
    x = inputs[index]._data
    columns = []
    for position in xp.ndindex(x.shape) if x.ndim else [()]:
        original = x[position].copy()
        x[position] = original + eps
        plus = _flat_outputs(fn(*inputs))
        x[position] = original - eps
        minus = _flat_outputs(fn(*inputs))
        x[position] = original
        columns.append((plus - minus) / (2 * eps))
    return xp.stack(columns, axis=1) if columns else xp.zeros((0, 0))


def _flat_outputs(outputs):
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    return xp.concatenate([o._data.reshape(-1).astype(xp.float64) for o in outputs
                           if isinstance(o, Tensor)])


def _analytical_jacobian(fn, inputs, index):
    """d(outputs)/d(inputs[index]) by backpropagating each unit output vector."""
    outputs = fn(*inputs)
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    outputs = [o for o in outputs if isinstance(o, Tensor)]
    rows = []
    for k, out in enumerate(outputs):
        if not out.requires_grad:  # a constant output: its rows of the Jacobian are zero
            rows.extend(xp.zeros(inputs[index]._data.size) for _ in range(out._data.size))
            continue
        for j in range(out._data.size):
            seeds = [Tensor._make(xp.zeros(o._data.shape, dtype=o._data.dtype)) for o in outputs]
            seeds[k]._data.reshape(-1)[j] = 1
            live = [(o, seed) for o, seed in zip(outputs, seeds) if o.requires_grad]
            (g,) = grad([o for o, _ in live], [inputs[index]], [s for _, s in live],
                                 retain_graph=True, allow_unused=True)
            rows.append(xp.zeros(inputs[index]._data.size) if g is None
                        else g._data.reshape(-1).astype(xp.float64))
    return xp.stack(rows, axis=0) if rows else xp.zeros((0, inputs[index]._data.size))


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
        seeds = [Tensor._make(rng.standard_normal(o._data.shape).astype(o._data.dtype))
                 for o in outputs] if grad_outputs is None else list(grad_outputs)
        used = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        return grad(outputs, used, seeds, create_graph=True, allow_unused=True,
                             materialize_grads=True)

    state = rng.bit_generator.state

    def reseeded(*args):
        rng.bit_generator.state = state
        return first_derivative(*args)

    return gradcheck(reseeded, inputs, eps=eps, atol=atol, rtol=rtol) if differentiable else True
