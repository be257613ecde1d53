"""Higher-level differentiation of whole functions (matches `torch.autograd.functional`).

Every function here is built from `autograd.grad`:

- vjp (vᵀ·J) is one backward pass seeded with v;
- jvp (J·v) uses the double-backward trick: g(u) = uᵀ·J is linear in a dummy seed u, so
  the gradient of g(u)·v with respect to u is J·v (this needs a backward that is itself
  differentiable, which every ember op has: NOTE [Backward is written with ember ops]);
- jacobian stacks one vjp per output element (reverse mode) or one jvp per input element
  (forward mode), hessian is the jacobian of the jacobian, and hvp/vhp are a vjp of the gradient.

Inputs are replaced by fresh leaves (views that keep the graph when create_graph=True), so the
caller's tensors are never touched; without create_graph the results are detached.
"""

from ember._backend import xp
from ember._tensor import Tensor
from ember.autograd.gradients import grad
from ember.autograd.grad_mode import enable_grad


# ---- argument handling ----------------------------------------------------------------------
def _as_tuple(value, arg_name, fn_name):
    """(was it a tuple, the value as a tuple), with PyTorch's TypeError for non-tensors."""
    is_tuple = isinstance(value, tuple)
    values = value if is_tuple else (value,)
    for index, item in enumerate(values):
        if not isinstance(item, Tensor):
            where = (f"the value at index {index} has type {type(item)}" if is_tuple
                     else f"the given {arg_name} has type {type(item)}")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but {where}.")
    return is_tuple, values


def _untuple(values, is_tuple):
    """values (a tuple, or a tuple of tuples) unpacked as the caller's tuple-ness asks."""
    if isinstance(is_tuple, tuple):  # (outputs are a tuple, inputs are a tuple)
        outer, inner = is_tuple
        if not inner:
            values = tuple(row[0] for row in values)
        return values if outer else values[0]
    return values if is_tuple else values[0]


def _prepare(inputs, create_graph, need_graph=True):
    """Fresh differentiable stand-ins for the inputs (graph-keeping views if create_graph)."""
    if create_graph:
        return tuple(x.view_as(x) if x.requires_grad else x.detach().requires_grad_(need_graph)
                     for x in inputs)
    return tuple(x.detach().requires_grad_(need_graph) for x in inputs)


def _finish(values, create_graph):
    if create_graph:
        return values
    return tuple(v.detach() if isinstance(v, Tensor) else _finish(v, False) for v in values)


def _check_v(v, others, is_tuple):
    if len(v) != len(others):
        if is_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(others)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for index, (a, b) in enumerate(zip(v, others)):
        if a.shape != b.shape:
            prefix = f"Entry {index} in " if is_tuple else ""
            raise RuntimeError(
                f"{prefix}v has invalid size: should be {b.shape} but got {a.shape}.")


def _check_outputs(outputs, strict):
    if strict:
        for index, out in enumerate(outputs):
            if not out.requires_grad:
                raise RuntimeError(
                    f"Output {index} of the user-provided function does not require gradients. "
                    "The outputs must be computed in a differentiable manner from the input "
                    "when running in strict mode.")


def _zeros_like(t: Tensor) -> Tensor:
    return Tensor._make(xp.zeros_like(t._data))


def _grads(outputs, inputs, seeds, create_graph, strict, stage="back", output_index=0):
    """autograd.grad over the live outputs, None replaced by zeros (errors in strict mode)."""
    live = [(o, s) for o, s in zip(outputs, seeds) if o.requires_grad]
    if live:
        result = grad([o for o, _ in live], inputs, [s for _, s in live], retain_graph=True,
                      create_graph=create_graph, allow_unused=True)
    else:
        result = (None,) * len(inputs)
    filled = []
    for index, (g, x) in enumerate(zip(result, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(_STRICT_MESSAGES[stage].format(index, output_index))
            g = _zeros_like(x)
        elif strict and create_graph and not g.requires_grad:
            raise RuntimeError(
                f"The jacobian of the user-provided function is independent of input {index}. "
                "This is not allowed in strict mode when create_graph=True.")
        filled.append(g)
    return tuple(filled)


_STRICT_MESSAGES = {
    "back": "The output of the user-provided function is independent of input {}. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {}. "
                   "This is not allowed in strict mode.",
    "jacobian": "Output {1} of the user-provided function is independent of input {0}. This is "
                "not allowed in strict mode.",
}


# ---- vjp and jvp ----------------------------------------------------------------------------
def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ·J) (matches `torch.autograd.functional.vjp`)."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs),
                                              "outputs of the user-provided function", "vjp")
        _check_outputs(outputs, strict)
        if v is None:
            if is_outputs_tuple or outputs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the user-provided function "
                                   "returns a single Tensor with a single element.")
            v = (Tensor._make(xp.ones_like(outputs[0]._data)),)
        else:
            _, v = _as_tuple(v, "v", "vjp")
            _check_v(v, outputs, is_outputs_tuple)
        grads = _grads(outputs, inputs, v, create_graph, strict)
    outputs = _finish(outputs, create_graph)
    return _untuple(outputs, is_outputs_tuple), _untuple(_finish(grads, create_graph),
                                                         is_inputs_tuple)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J·v) by the double-backward trick (matches `autograd.functional.jvp`)."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph)
        if v is None:
            if is_inputs_tuple or inputs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the input to the "
                                   "user-provided function is a single Tensor with a single "
                                   "element.")
            v = (Tensor._make(xp.ones_like(inputs[0]._data)),)
        else:
            _, v = _as_tuple(v, "v", "jvp")
            _check_v(v, inputs, is_inputs_tuple)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs),
                                              "outputs of the user-provided function", "jvp")
        _check_outputs(outputs, strict)
        seeds = tuple(_zeros_like(o).requires_grad_() for o in outputs)
        transposed = _grads(outputs, inputs, seeds, True, strict)
        result = _grads(transposed, seeds, v, create_graph, strict, "back_trick")
    return (_untuple(_finish(outputs, create_graph), is_outputs_tuple),
            _untuple(_finish(result, create_graph), is_outputs_tuple))


# ---- jacobian and hessian -------------------------------------------------------------------
def _stack_rows(rows, shape):
    from ember.ops.joins import stack  # autograd sits below the ops; stacking is an op

    if not rows:
        return Tensor._make(xp.zeros(shape))
    return stack(rows).reshape(shape)


def _reverse_jacobian(outputs, inputs, create_graph, strict):
    """rows[i][j] = d outputs[i] / d inputs[j], one backward per output element."""
    table = []
    for i, out in enumerate(outputs):
        per_input = [[] for _ in inputs]
        for k in range(out.numel()):
            seed = xp.zeros(out._data.size, dtype=out._data.dtype)
            seed[k] = 1
            seeds = [Tensor._make(seed.reshape(out._data.shape))]
            grads = _grads((out,), inputs, seeds, create_graph, strict, "jacobian", i)
            for j, g in enumerate(grads):
                per_input[j].append(g.reshape(-1))
        table.append(tuple(
            _stack_rows(rows, tuple(out.shape) + tuple(x.shape)) if rows else
            _zeros(out, x) for rows, x in zip(per_input, inputs)))
    return tuple(table)


def _zeros(out, x):
    return Tensor._make(xp.zeros(tuple(out.shape) + tuple(x.shape), dtype=x._data.dtype))


def _forward_jacobian(func, inputs, outputs, strict):
    """columns[j] = J·e_j by jvp, one per input element (forward mode, as the double trick)."""
    seeds = tuple(_zeros_like(o).requires_grad_() for o in outputs)
    transposed = _grads(outputs, inputs, seeds, True, strict)
    table = [[None] * len(inputs) for _ in outputs]
    for j, x in enumerate(inputs):
        columns = [[] for _ in outputs]
        for k in range(x.numel()):
            tangent = xp.zeros(x._data.size, dtype=x._data.dtype)
            tangent[k] = 1
            v = Tensor._make(tangent.reshape(x._data.shape))
            result = _grads((transposed[j],), seeds, (v,), False, strict, "back_trick")
            for i, column in enumerate(result):
                columns[i].append(column.reshape(-1))
        for i, out in enumerate(outputs):
            shape = tuple(x.shape) + tuple(out.shape)
            order = tuple(range(x.dim(), x.dim() + out.dim())) + tuple(range(x.dim()))
            table[i][j] = (_stack_rows(columns[i], shape).permute(*order)
                           if columns[i] else _zeros(out, x))
    return tuple(tuple(row) for row in table)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """d func(inputs) / d inputs, shaped output.shape + input.shape (`functional.jacobian`).

    `vectorize` is accepted; ember always computes the rows (or columns) one at a time.
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError(
                "Computing Jacobian using forward-AD or forward-over-reverse Hessian "
                "isonly implemented for `vectorize=True`.")
    if vectorize and strict:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
            "supported together. Please either set `strict=False` or `vectorize=False`.")
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph)
        is_outputs_tuple, outputs = _as_tuple(
            func(*inputs), "outputs of the user-provided function", "jacobian")
        _check_outputs(outputs, strict)
        if strategy == "forward-mode":
            table = _forward_jacobian(func, inputs, outputs, strict)
        else:
            table = _reverse_jacobian(outputs, inputs, create_graph, strict)
    table = tuple(_finish(row, create_graph) for row in table)
    result = _untuple(table, (is_outputs_tuple, is_inputs_tuple))
    if strategy == "forward-mode" and is_inputs_tuple:
        # PyTorch's forward-mode path hands back lists where reverse mode gives tuples.
        return [list(row) for row in result] if is_outputs_tuple else list(result)
    return result


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The matrix of second derivatives of a scalar function (matches `functional.hessian`)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single_output(*args):
        out = func(*args)
        is_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_outputs(outs, strict)
        if is_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out.squeeze()

    def gradient(*args):
        return jacobian(single_output, args, create_graph=True)

    table = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                     vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _untuple(table, (is_inputs_tuple, is_inputs_tuple))


def _second_order(name, func, inputs, v, create_graph, strict):
    """(func(inputs), vᵀ·H): the vjp of the gradient (H is symmetric, so vhp = hvp)."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
        inputs = _prepare(inputs, create_graph)
        if v is None:
            if is_inputs_tuple or inputs[0].numel() != 1:
                raise RuntimeError("The vector v can only be None if the input to the "
                                   "user-provided function is a single Tensor with a single "
                                   "element.")
            v = (Tensor._make(xp.ones_like(inputs[0]._data)),)
        else:
            _, v = _as_tuple(v, "v", name)
            _check_v(v, inputs, is_inputs_tuple)
        is_outputs_tuple, outputs = _as_tuple(
            func(*inputs), "outputs of the user-provided function", name)
        if is_outputs_tuple or outputs[0].numel() != 1:
            raise RuntimeError(f"The function given to {name} should return a single Tensor "
                               "with a single element.")
        _check_outputs(outputs, strict)
        seed = (Tensor._make(xp.ones_like(outputs[0]._data)),)
        gradient = _grads(outputs, inputs, seed, True, strict)
        result = _grads(gradient, inputs, v, create_graph, strict, "double_back")
    return (_finish(outputs, create_graph)[0],
            _untuple(_finish(result, create_graph), is_inputs_tuple))


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ·H) (matches `torch.autograd.functional.vhp`)."""
    return _second_order("vhp", func, inputs, v, create_graph, strict)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H·v) (matches `torch.autograd.functional.hvp`)."""
    return _second_order("hvp", func, inputs, v, create_graph, strict)


__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]
