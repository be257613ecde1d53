"""Finite-difference checks of analytical gradients (matches `torch.autograd.gradcheck`).

NOTE [gradcheck of complex functions]
A complex number z = a + ib is two real coordinates (a, b), so the check compares real
Jacobians: every complex input element is perturbed along a and along b (z ± eps, z ± i·eps),
and every complex output element gives two rows, Re y and Im y. Backward reaches those rows
through PyTorch's convention (NOTE [Gradients of complex tensors] in ember/ops/complex.py):
the grad_output 1 makes backward return ∂Re y/∂a + i·∂Re y/∂b, and the grad_output i gives the
same for Im y. Comparing these is what torch's gradcheck does through the Wirtinger derivatives.
"""

from ember import _dtype
from ember._backend import xp
from ember._tensor import Tensor
from ember._warnings import warn
from ember.autograd.forward_ad import tangent_pass
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


class GradcheckError(RuntimeError):
    """A Jacobian that does not match (matches `torch.autograd.gradcheck.GradcheckError`)."""


def _numerical_jacobian(fn, inputs, index, eps):
    """d(outputs)/d(inputs[index]) by central differences: per output tensor, an array with one
    row per input coordinate and one column per output coordinate (torch's layout)."""
    x = inputs[index]._data
    rows = []
    for position in xp.ndindex(x.shape) if x.ndim else [()]:
        original = x[position].copy()
        for step in _directions(x):
            x[position] = original + step * eps
            plus = _output_coordinates(fn(*inputs))
            x[position] = original - step * eps
            minus = _output_coordinates(fn(*inputs))
            x[position] = original
            rows.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    sizes = [o.size for o in _output_coordinates(fn(*inputs))]
    return [xp.stack([row[k] for row in rows]) if rows else xp.zeros((0, size))
            for k, size in enumerate(sizes)]


def _tensor_outputs(outputs):
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    return [o for o in outputs if isinstance(o, Tensor)]


def _output_coordinates(outputs):
    return [_real_coordinates(o._data) for o in _tensor_outputs(outputs)]


def _analytical_jacobian(outputs, k, x):
    """d(outputs[k])/d(x) by backpropagating each unit output vector (1, and i for a complex
    output element): one row per input coordinate, one column per output coordinate."""
    out = outputs[k]
    width = x._data.size * len(_directions(x._data))
    columns = []
    for j in range(out._data.size):
        for step in _directions(out._data):
            seed = Tensor._make(xp.zeros(out._data.shape, dtype=out._data.dtype))
            seed._data.reshape(-1)[j] = step
            (g,) = grad([out], [x], [seed], retain_graph=True, allow_unused=True)
            columns.append(xp.zeros(width) if g is None else _real_coordinates(g._data))
    return xp.stack(columns, axis=1) if columns else xp.zeros((width, 0))


def _forward_jacobian(func, inputs, outputs, k, j):
    """d(outputs[k])/d(inputs[j]) as forward mode computes it, J·e for each unit input vector
    e, by the double backward of forward_ad.py (jvp-only Functions take part), func run anew
    for each e as PyTorch runs it on new dual inputs: `_analytical_jacobian`'s layout. (Real
    inputs and outputs.)"""
    x = inputs[j]
    rows = []
    for i in range(x._data.size):
        out = _tensor_outputs(func(*inputs))[k]
        dummy = Tensor._make(xp.zeros_like(out._data), True)
        seed = Tensor._make(xp.zeros(x._data.shape, dtype=x._data.dtype))
        seed._data.reshape(-1)[i] = 1
        with tangent_pass():
            (transposed,) = grad([out], [x], [dummy], create_graph=True, allow_unused=True)
            column = None if transposed is None else grad(
                [transposed], [dummy], [seed], allow_unused=True)[0]
        rows.append(xp.zeros(out._data.size) if column is None
                    else _real_coordinates(column._data))
    return xp.stack(rows) if rows else xp.zeros((0, 0))


def _backward_jacobian(func, inputs, outputs, k, j):
    """d(outputs[k])/d(inputs[j]) by backward mode (`_analytical_jacobian`)."""
    return _analytical_jacobian(outputs, k, inputs[j])


def _check_inputs(inputs) -> list:
    """The indices of the inputs requiring grad; torch's warning for the non-double ones."""
    differentiable = [j for j, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    for j in differentiable:
        if inputs[j].dtype not in (_dtype.float64, _dtype.complex128):
            warn(f"Input #{j} requires gradient and is not a double precision floating point or "
                 "complex. This check will likely fail if all the inputs are not of double "
                 "precision floating point or complex. ", UserWarning, stacklevel=3)
    if not differentiable:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    return differentiable


def _as_jacobian_tensor(array, like):
    """A Jacobian block as a tensor of like's (real) dtype, as torch's message prints it."""
    dtype = like._data.real.dtype if like._data.dtype.kind == "c" else like._data.dtype
    return Tensor._make(array.astype(dtype))


def _check_jacobians(func, inputs, eps, atol, rtol, modes=(_backward_jacobian,)) -> None:
    """Raise GradcheckError at the first (output, differentiable input) pair that mismatches,
    the Jacobian computed by each of `modes` (backward mode, forward mode)."""
    differentiable = [j for j, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    numerical = [_numerical_jacobian(func, inputs, j, eps) for j in differentiable]
    outputs = _tensor_outputs(func(*inputs))
    live = [k for k, o in enumerate(outputs) if o.requires_grad]
    if not live:  # torch: then every numerical derivative must be zero
        if any(xp.any(n != 0) for per_input in numerical for n in per_input):
            raise GradcheckError("Numerical gradient for function expected to be zero")
        return
    for i, k in enumerate(live):
        for (position, j), mode in ((p, m) for p in enumerate(differentiable) for m in modes):
            analytical = mode(func, inputs, outputs, k, j)
            expected = numerical[position][k].reshape(analytical.shape)
            if not xp.allclose(analytical, expected, atol=atol, rtol=rtol):
                raise GradcheckError(
                    f"Jacobian mismatch for output {i} with respect to input {position},\n"
                    f"numerical:{_as_jacobian_tensor(expected, inputs[j])}\n"
                    f"analytical:{_as_jacobian_tensor(analytical, inputs[j])}\n")


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """Compare backward's Jacobian with finite differences for every input requiring grad
    (matches `torch.autograd.gradcheck`: GradcheckError, or False if not raise_exception)."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    _check_inputs(inputs)
    modes = (_backward_jacobian,) * check_backward_ad + (_forward_jacobian,) * check_forward_ad
    try:
        _check_jacobians(func, inputs, eps, atol, rtol, modes)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """gradcheck of the gradient itself, with respect to the inputs and the grad_outputs
    (matches `torch.autograd.gradgradcheck`, which draws random grad_outputs with make_tensor
    from the global generator)."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    if grad_outputs is None:
        grad_outputs = tuple(_random_grad_output(o, gen_non_contig_grad_outputs)
                             for o in _tensor_outputs(func(*inputs)) if o.requires_grad)
    else:
        grad_outputs = tuple(grad_outputs) if isinstance(grad_outputs, (tuple, list)) \
            else (grad_outputs,)
    count = len(grad_outputs)
    diff_inputs = {i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad}

    def first_derivative(*args):
        args, seeds = args[:len(args) - count], args[len(args) - count:]
        outputs = [o for o in _tensor_outputs(func(*args)) if o.requires_grad]
        used = [x for i, x in enumerate(args) if i in diff_inputs]
        grads = grad(outputs, used, seeds, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)


def _random_grad_output(output, noncontiguous):
    """make_tensor(output.shape, low=-1, high=1, requires_grad=True) as torch's gradgradcheck
    draws it: uniform_ from the global generator (on the real view of a complex tensor; every
    other element of a twice-as-wide last dim when noncontiguous)."""
    data = output._data
    dtype = data.dtype if data.dtype.kind in "fc" else xp.dtype(xp.float64)
    shape = data.shape
    noncontiguous = noncontiguous and data.size > 1
    if noncontiguous:
        shape = shape[:-1] + (2 * shape[-1],)
    real = xp.empty(shape + ((2,) if dtype.kind == "c" else ()), dtype=dtype.type(0).real.dtype)
    Tensor._make(real).uniform_(-1, 1)
    values = real.view(dtype).reshape(shape) if dtype.kind == "c" else real
    return Tensor._make(values[..., 1::2] if noncontiguous else values).requires_grad_()
