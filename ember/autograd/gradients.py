"""`backward()` and `grad()`: the user's entry points to the engine, and `Tensor.backward`."""

from ember._backend import get_array_module, xp
from ember._registry import tensor_method
from ember._tensor import Tensor
from ember.autograd.engine import _accumulate_into_leaf, run_backward


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
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _check_requires_grad(outputs):
    for out in outputs:
        if not out.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate gradients of `tensors` into the leaves' .grad (matches `autograd.backward`)."""
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors) or (None,) * len(tensors)
    _check_requires_grad(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(tensors, grad_tensors)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        captured = run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs)
        for tensor, grad in zip(inputs, captured):
            _accumulate_into_leaf(tensor, grad, create_graph)
        return
    run_backward(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching .grad (matches `torch.autograd.grad`)."""
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs) or (None,) * len(outputs)
    _check_requires_grad(outputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(outputs, grad_outputs)
    result = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs)
    for index, (t, g) in enumerate(zip(inputs, result)):
        if g is None:
            if materialize_grads:
                result[index] = Tensor._make(xp.zeros_like(t._data))
            elif not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior.")
        elif not create_graph:
            result[index] = g.detach()
    return tuple(result)




@tensor_method("backward")
def tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(self)/d(leaf) into every leaf's .grad (matches `Tensor.backward`)."""
    backward(self, gradient, retain_graph, create_graph, inputs=inputs)
