"""`backward()` and `grad()`: the user's entry points to the engine, and `Tensor.backward`."""

from collections.abc import Mapping

from ember._backend import get_array_module, xp
from ember._registry import tensor_method
from ember._tensor import Tensor
from ember.autograd.engine import _accumulate_into_leaf, run_backward


class Unbatchable(BaseException):
    """Raised when batched values are used in a way no rule covers: vmap falls back to the loop
    (NOTE [Batched tensors] in ember/func/_batched.py; here so that backward can raise it).

    A BaseException, so that an op's own `except Exception` cannot swallow it."""


class VmapRefused(BaseException):
    """What torch's vmap refuses outright (`.item()` on a batched tensor, an op whose output
    shape depends on batched values): vmap raises it as torch's RuntimeError, without looping."""


def refuse_batched(array, message) -> None:
    """Raise VmapRefused(message) if array is batched by a running vmap (a LogicalArray)."""
    if getattr(array, "_level", 0):
        raise VmapRefused(message)


def _make_grads(outputs, grad_outputs):
    """Default the seed gradients: ones for scalar outputs; PyTorch's error otherwise."""
    grads = []
    for out, grad in zip(outputs, grad_outputs):
        if grad is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.dtype.is_floating_point:
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got "
                    f"{out.dtype}")
            data = out._data
            grad = Tensor._make(get_array_module(data).ones(data.shape, dtype=data.dtype))
        elif not isinstance(grad, Tensor):
            grad = Tensor._make(get_array_module(out._data).asarray(grad, dtype=out._data.dtype))
        elif grad._data.shape != out._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[0] has a shape of {grad.shape} and output[0] "
                f"has a shape of {out.shape}.")
        grads.append(grad)
    return grads


def _as_tuple(value):
    if value is None:
        return None
    # (a GradientEdge is a named tuple: one input, not several)
    several = isinstance(value, (tuple, list)) and not hasattr(value, "_fields")
    return tuple(value) if several else (value,)


def _inputs_tuple(inputs, caller):
    """backward's / grad's `inputs` as a tuple: one tensor or GradientEdge, a dict's values (a
    dict only: torch refuses other mappings) or a sequence; an empty one is refused."""
    if isinstance(inputs, Mapping):
        if type(inputs) is not dict:
            raise TypeError(f"`inputs` argument to `{caller}()` must be a dict, not "
                            f"{type(inputs).__name__}. Other Mapping types are not supported.")
        inputs = tuple(inputs.values())
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError(f"`inputs` argument to `{caller}()` cannot be empty.")
    return inputs


def _check_requires_grad(outputs):
    for out in outputs:
        if not out.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate gradients of `tensors` into the leaves' .grad (matches `autograd.backward`)."""
    tensors = _as_tuple(tensors)
    inputs = None if inputs is None else _inputs_tuple(inputs, "backward")
    grad_tensors = _as_tuple(grad_tensors) or (None,) * len(tensors)
    _check_requires_grad(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(tensors, grad_tensors)
    check_seed_levels(tensors, grads)
    if inputs is not None:
        captured = run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs)
        for tensor, grad in zip(inputs, captured):
            _accumulate_into_leaf(tensor, grad, create_graph)
        return
    run_backward(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching .grad (matches `torch.autograd.grad`)."""
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    outputs = _as_tuple(outputs)
    names = tuple(inputs) if type(inputs) is dict else None  # (grads come back keyed alike)
    inputs = _inputs_tuple(inputs, "grad")
    grad_outputs = _as_tuple(grad_outputs) or (None,) * len(outputs)
    _check_requires_grad(outputs)
    for t in inputs:
        if isinstance(t, Tensor) and not t.requires_grad:  # (else a GradientEdge)
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    if is_grads_batched:
        result = _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph)
    else:
        grads = _make_grads(outputs, grad_outputs)
        check_seed_levels(outputs, grads)
        result = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs)
    for index, (t, g) in enumerate(zip(inputs, result)):
        if g is None:
            if materialize_grads:
                if not isinstance(t, Tensor):
                    raise RuntimeError("materialize_grads cannot be used when the given input "
                                       "is a GradientEdge")
                result[index] = Tensor._make(xp.zeros_like(t._data), create_graph)
            elif not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {index} appears to not have been used "
                    "in the graph. Set allow_unused=True if this is the desired behavior.")
        elif not create_graph:
            result[index] = g.detach()
    return tuple(result) if names is None else dict(zip(names, result))


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph):
    """grad with every grad_output's first dim a batch of seeds: one backward per seed, stacked
    (torch maps the backward with vmap); None for an input no output reaches."""
    for index, (out, seed) in enumerate(zip(outputs, grad_outputs)):
        if seed is None or seed._data.shape[1:] != out._data.shape:
            # torch names the shape of seed[0] without its first dim: seed.shape[2:]
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each "
                "grad_output as the batch dimension. The sizes of the remaining dimensions are "
                "expected to match the shape of corresponding output, but a mismatch was "
                f"detected: grad_output[{index}] has a shape of "
                f"{None if seed is None else seed.shape[2:]} and output[{index}] has a shape of "
                f"{out.shape}. If you only want some tensors in `grad_output` to be considered "
                "batched, consider using vmap.")
    count = grad_outputs[0]._data.shape[0]
    per_seed = [run_backward(outputs, [s[k] for s in grad_outputs], retain_graph or k < count - 1,
                             create_graph, inputs=inputs) for k in range(count)]
    result = []
    for j, t in enumerate(inputs):
        grads = [grads[j] for grads in per_seed]
        if any(g is None for g in grads):
            result.append(None)
            continue
        stacked = Tensor._make(xp.zeros((count,) + t._data.shape, dtype=t._data.dtype))
        for k, g in enumerate(grads):  # (written in: in the graph under create_graph)
            stacked[k] = g
        result.append(stacked)
    return result


def check_seed_levels(outputs, grads) -> None:
    """Inside vmap, a seed batched at a vmap level its output is not (a backward through a graph
    built outside that vmap) makes vmap run the function once per element instead."""
    for out, seed in zip(outputs, grads):
        if seed is not None and _levels(seed._data) - _levels(out._data):
            raise Unbatchable("a batched seed for an unbatched graph")


def _levels(array) -> set:
    """The vmap levels a (possibly nested) batched array carries (NOTE [Batched tensors])."""
    levels = set()
    while getattr(array, "_level", 0):
        levels.add(array._level)
        array = array._physical
    return levels


@tensor_method("backward")
def tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(self)/d(leaf) into every leaf's .grad (matches `Tensor.backward`)."""
    backward(self, gradient, retain_graph, create_graph, inputs=inputs)
