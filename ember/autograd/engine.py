"""The backward engine: walks the graph from the outputs to the leaves, without recursion.

It knows nothing about particular ops. It (1) finds every node reachable from the roots and
counts how many edges enter each, (2) runs a node once all gradients flowing into it have been
summed (Kahn's topological order, an explicit work list: a 100,000-op chain is fine), (3) checks
that every gradient has the shape of the input it is for, and (4) frees saved tensors unless
`retain_graph`.
"""


from ember._backend import xp

from ember.autograd import grad_mode
from ember.autograd.function import AccumulateGrad, Node, gradient_edge  # noqa: F401

_state = grad_mode._state


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None):
    """Backpropagate; accumulate into leaves' .grad, or return the grads of `inputs` if given."""
    roots = [gradient_edge(t) for t in tensors]
    captures = {}
    if inputs is not None:
        for position, t in enumerate(inputs):
            captures.setdefault(gradient_edge(t), []).append(position)
    dependencies = _count_dependencies([node for node, _ in roots])
    buffers = {}
    for (node, index), grad in zip(roots, grad_tensors):
        _accumulate(buffers, node, index, grad)
    captured = [None] * (len(inputs) if inputs is not None else 0)
    previous = _state["enabled"]
    _state["enabled"] = create_graph
    try:
        ready = [node for node, _ in roots if dependencies.get(node, 0) == 0]
        ready = list(dict.fromkeys(ready))
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None) or {}
            if captures:
                _capture(captures, captured, node, grads)
            next_grads = _run_node(node, grads, retain_graph, create_graph, inputs is None)
            for (next_node, index), grad in zip(node.next_functions, next_grads):
                if next_node is None:
                    continue
                if grad is not None:
                    _accumulate(buffers, next_node, index, grad)
                dependencies[next_node] -= 1
                if dependencies[next_node] == 0:
                    ready.append(next_node)
    finally:
        _state["enabled"] = previous
    return captured


def _count_dependencies(root_nodes):
    """Number of graph edges entering each reachable node (iterative depth-first search)."""
    dependencies = {}
    seen = set(root_nodes)
    stack = list(seen)
    while stack:
        node = stack.pop()
        for next_node, _ in node.next_functions:
            if next_node is None:
                continue
            dependencies[next_node] = dependencies.get(next_node, 0) + 1
            if next_node not in seen:
                seen.add(next_node)
                stack.append(next_node)
    return dependencies


def _accumulate(buffers, node, index, grad):
    """Sum gradients arriving at the same output of a node."""
    slot = buffers.setdefault(node, {})
    previous = slot.get(index)
    slot[index] = grad if previous is None else previous + grad


def _capture(captures, captured, node, grads):
    for (capture_node, index), positions in captures.items():
        if capture_node is node:
            for position in positions:
                captured[position] = grads.get(index)


def _run_node(node, grads, retain_graph, create_graph, accumulate):
    """Apply hooks and the node's backward; return one gradient per next_functions edge."""
    if isinstance(node, AccumulateGrad):
        if accumulate:
            _accumulate_into_leaf(node.variable, grads.get(0), create_graph)
        return ()
    count = len(node._output_meta)
    grad_list = [grads.get(0)] if count == 1 else [grads.get(i) for i in range(count)]
    if node._tensor_pre_hooks or node._retains_grad:
        grad_list = _apply_tensor_hooks(node, grad_list)
    attributes = node.__dict__
    if "_node_pre_hooks" in attributes:
        for hook in attributes["_node_pre_hooks"]:
            replaced = hook(tuple(grad_list))
            if replaced is not None:
                grad_list = list(replaced)
    for g in grad_list:
        if g is not None:
            break
    else:
        return (None,) * len(node.next_functions)
    result = node._apply(tuple(grad_list))
    if not retain_graph:
        node._release()
    result = _validate(node, result)
    if "_post_hooks" in attributes:
        for hook in attributes["_post_hooks"]:
            hook(result, tuple(grad_list))
    return result


def _apply_tensor_hooks(node, grad_list):
    """Hooks registered on non-leaf tensors (register_hook, retain_grad) see their gradient."""
    hooks = node._tensor_pre_hooks
    if hooks:
        for index, fns in hooks.items():
            for fn in fns:
                if grad_list[index] is None:
                    continue
                replaced = fn(grad_list[index])
                if replaced is not None:
                    grad_list[index] = replaced
    retains = node._retains_grad
    if retains:
        for index, ref in retains.items():
            tensor = ref()
            if tensor is not None and grad_list[index] is not None:
                _accumulate_into_leaf(tensor, grad_list[index], False)
    return grad_list


def _validate(node, result):
    """Check the number, shapes and dtypes of the gradients a backward returned."""
    edges = node.next_functions
    if len(result) < len(edges):
        # Functions may omit trailing None gradients for non-tensor arguments.
        result = tuple(result) + (None,) * (len(edges) - len(result))
    elif len(result) > len(edges):
        extra = result[len(edges):]
        if any(g is not None for g in extra):
            raise RuntimeError(
                f"function {node.name()} returned an incorrect number of gradients (expected "
                f"{len(edges)}, got {len(result)})"
            )
        result = result[: len(edges)]
    checked = []
    for index, (grad, meta) in enumerate(zip(result, node._input_meta)):
        if grad is None or meta is None:
            checked.append(None if meta is None else grad)
            continue
        shape, dtype = meta
        if grad._data.shape != shape:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {index} - got "
                f"{list(grad._data.shape)} but expected shape compatible with {list(shape)}"
            )
        if grad.dtype is not dtype:
            grad = grad.to(dtype)
        checked.append(grad)
    return checked


def _accumulate_into_leaf(tensor, grad, create_graph):
    """tensor.grad += grad, after the tensor's own hooks; a fresh array on first arrival."""
    if grad is None:
        return
    for hook in tensor._hooks or ():
        replaced = hook(grad)
        if replaced is not None:
            grad = replaced
    if not create_graph:
        grad = grad.detach()
    if tensor.grad is None:
        # Copy: the same gradient array may reach several leaves (add's backward passes it on).
        tensor.grad = grad if create_graph else type(grad)._make(grad._data.copy())
    elif create_graph or _state["enabled"]:
        tensor.grad = tensor.grad + grad
    else:
        xp.add(tensor.grad._data, grad._data, out=tensor.grad._data)

