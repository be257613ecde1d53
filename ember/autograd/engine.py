"""The backward engine: walks the graph from the outputs to the leaves, without recursion.

It knows nothing about particular ops. It (1) finds every node reachable from the roots and
counts how many edges enter each, (2) runs a node once all gradients flowing into it have been
summed (Kahn's topological order, an explicit work list: a 100,000-op chain is fine), (3) checks
that every gradient has the shape of the input it is for, and (4) frees saved tensors unless
`retain_graph`.
"""


from sys import getrefcount

from ember._backend import xp
from ember._dtype import _BY_NUMPY
from ember._tensor import Tensor, type_name

from ember.autograd import grad_mode
from ember.autograd.anomaly_mode import _state as _ANOMALY, check_gradients, warn_forward_trace
from ember.autograd._tensor_hooks import POST_ACCUMULATE_HOOKS
from ember.autograd.function import AccumulateGrad, Node, gradient_edge  # noqa: F401

_state = grad_mode._state


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None):
    """Backpropagate; accumulate into leaves' .grad, or return the grads of `inputs` if given."""
    roots = []
    for t in tensors:
        roots.append(_edge_of(t))
    captures = {}
    if inputs is not None:
        for position, t in enumerate(inputs):
            captures.setdefault(_edge_of(t), []).append(position)
    dependencies = _count_dependencies(roots)
    needed = _leading_to(roots, {node for node, _ in captures}) if captures else None
    buffers = {}
    ready = []  # the roots no other root's graph leads to, each once
    for (node, index), grad in zip(roots, grad_tensors):
        _accumulate(buffers, node, index, grad)
        if node not in dependencies and node not in ready:
            ready.append(node)
    captured = [None] * (len(inputs) if inputs is not None else 0)
    seeds = [g._data for g in grad_tensors]  # a second reference: never stolen (see NOTE)
    previous = _state["enabled"]
    _state["enabled"] = create_graph
    _RUNS.append(_Run(dependencies, roots))
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None) or {}
            if captures:
                _capture(captures, captured, node, grads)
                if node not in needed:  # torch runs only the nodes that lead to an input
                    continue
            next_grads = _run_node(node, grads, retain_graph, create_graph, inputs is None)
            for (next_node, index), grad in zip(node._edges, next_grads):
                if next_node is None:
                    continue
                if grad is not None:
                    _accumulate(buffers, next_node, index, grad)
                left = dependencies[next_node] - 1
                dependencies[next_node] = left
                if not left:
                    ready.append(next_node)
            next_grads = grad = None  # the buffers alone hold the gradients (NOTE [Stealing])
    finally:
        _state["enabled"] = previous
        _RUNS.pop()
    del seeds
    return captured


def _edge_of(t):
    """The (node, index) a tensor's gradient flows into, or a GradientEdge's own."""
    return gradient_edge(t) if isinstance(t, Tensor) else (t[0], t[1])


class _Run:
    """One running backward: the nodes it will reach (for `register_multi_grad_hook`)."""

    def __init__(self, dependencies, roots):
        self.dependencies, self.roots = dependencies, roots


_RUNS = []  # the backward passes running, innermost last (a hook may start another)


def current_run():
    """The innermost running backward, or None."""
    return _RUNS[-1] if _RUNS else None


def reaches(run, tensor) -> bool:
    """Whether the backward `run` computes a gradient for `tensor`."""
    if run is None or not tensor.requires_grad:
        return False
    node = gradient_edge(tensor)[0]
    return node in run.dependencies or any(node is root for root, _ in run.roots)


def _count_dependencies(roots):
    """Number of graph edges entering each reachable node from the root edges (iterative
    depth-first search); nodes no edge enters are left out."""
    dependencies = {}
    seen = set()
    for node, _ in roots:
        seen.add(node)
    stack = list(seen)
    while stack:
        node = stack.pop()
        for next_node, _ in node._edges:
            if next_node is None:
                continue
            dependencies[next_node] = dependencies.get(next_node, 0) + 1
            if next_node not in seen:
                seen.add(next_node)
                stack.append(next_node)
    return dependencies


def _leading_to(roots, targets) -> set:
    """The nodes from which a node of targets can be reached (iterative depth-first search,
    each node judged after everything below it)."""
    leading = set()
    seen = set()
    for root, _ in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root._edges))]
        while stack:
            node, children = stack[-1]
            for child, _ in children:
                if child is not None and child not in seen:
                    seen.add(child)
                    stack.append((child, iter(child._edges)))
                    break
            else:
                stack.pop()
                if any(child is not None and (child in targets or child in leading)
                       for child, _ in node._edges):
                    leading.add(node)
    return leading


def _accumulate(buffers, node, index, grad):
    """Sum gradients arriving at the same output of a node."""
    slot = buffers.get(node)
    if slot is None:
        buffers[node] = {index: grad}
        return
    previous = slot.get(index)
    if previous is None:
        slot[index] = grad
    else:
        slot[index] = previous + grad if type(previous) is Tensor else sum_gradients(previous,
                                                                                   grad)


def sum_gradients(a, b):
    """a + b for two gradients of one tensor; a sparse one second when the other is dense
    (sparse + dense raises in PyTorch, dense + sparse is dense; NOTE [Sparse gradients])."""
    if type(a) is not Tensor and a.is_sparse and not b.is_sparse:
        return b + a
    return a + b


def _capture(captures, captured, node, grads):
    for (capture_node, index), positions in captures.items():
        if capture_node is node:
            for position in positions:
                captured[position] = grads.get(index)


def _run_node(node, grads, retain_graph, create_graph, accumulate):
    """Apply hooks and the node's backward; return one gradient per edge."""
    if isinstance(node, AccumulateGrad):
        if accumulate:
            _accumulate_into_leaf(node.variable, grads.get(0), create_graph, steal=True)
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
                grad_list = list(checked_hook_results(hook, tuple(grad_list), replaced))
    for g in grad_list:
        if g is not None:
            break
    else:
        function = getattr(node, "_function", None)
        if not getattr(function, "_runs_without_grads", False):  # (Function's, which see)
            return (None,) * len(node._edges)
    if _ANOMALY["enabled"]:
        return _run_node_with_trace(node, grad_list, retain_graph, attributes)
    result = node._apply(tuple(grad_list))
    if not retain_graph:
        node._release()
    result = _validate(node, result)
    if "_post_hooks" in attributes:
        for hook in attributes["_post_hooks"]:
            replaced = hook(result, tuple(grad_list))
            if replaced is not None:  # new gradients for the inputs
                result = checked_hook_results(hook, tuple(result), replaced)
    return result


def _run_node_with_trace(node, grad_list, retain_graph, attributes):
    """_run_node's backward under anomaly mode: NaN checked; on an error, torch's warning
    with the traceback of the forward call that made the node."""
    try:
        result = node._apply(tuple(grad_list))
        if not retain_graph:
            node._release()
        result = _validate(node, result)
        if _ANOMALY["check_nan"]:
            check_gradients(node, result)
    except Exception:
        warn_forward_trace(node)
        raise
    if "_post_hooks" in attributes:
        for hook in attributes["_post_hooks"]:
            replaced = hook(result, tuple(grad_list))
            if replaced is not None:
                result = checked_hook_results(hook, tuple(result), replaced)
    return result


def checked_hook_results(hook, originals, results) -> tuple:
    """The gradients a hook returned for `originals`, held to torch's rules (a tuple of as many,
    each None or a tensor of the original's type and size)."""
    name = getattr(hook, "__name__", "hook")
    if not isinstance(results, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(results).__name__}'")
    if len(results) != len(originals):
        raise RuntimeError(f"hook '{name}' has returned an incorrect number of values (got "
                           f"{len(results)}, but expected {len(originals)})")
    for original, result in zip(originals, results):
        checked_hook_result(name, original, result)
    return results


def checked_hook_result(name, original, result):
    """result, which a hook named `name` returned in place of the gradient `original`; torch's
    errors when it is not a tensor of original's type and size."""
    if result is None:
        return result
    if original is None:
        raise RuntimeError("can't replace a None gradient with a non-None value")
    if not isinstance(result, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(result).__name__}'")
    if result.dtype != original.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was "
                           f"{type_name(original)} got {type_name(result)})")
    if result.shape != original.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value")
    return result


def _apply_tensor_hooks(node, grad_list):
    """Hooks registered on non-leaf tensors (register_hook, retain_grad) see their gradient."""
    hooks = node._tensor_pre_hooks
    if hooks:
        for index, fns in hooks.items():
            for fn in fns:  # (an output the backward sent no gradient gets None, as in torch)
                replaced = fn(grad_list[index])
                if replaced is not None:
                    grad_list[index] = checked_hook_result(
                        getattr(fn, "__name__", "hook"), grad_list[index], replaced)
    retains = node._retains_grad
    if retains:
        for index, ref in retains.items():
            tensor = ref()
            if tensor is not None and grad_list[index] is not None:
                _accumulate_into_leaf(tensor, grad_list[index], False)
    return grad_list


def _validate(node, result):
    """Check the number, shapes and dtypes of the gradients a backward returned."""
    edges = node._edges
    if len(result) == len(edges):
        checked = _checked_fast(node, result)
        if checked is not None:
            return checked
    if len(result) < len(edges):
        # ember's own ops may omit trailing None gradients for non-tensor arguments; PyTorch
        # holds a user's Function to one gradient per forward argument
        if not node._function._omits_trailing_grads:
            raise RuntimeError(
                f"function {node.name()} returned an incorrect number of gradients (expected "
                f"{len(edges)}, got {len(result)})")
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
        if grad is not None and not isinstance(grad, Tensor):
            raise RuntimeError(f"expected Variable or None (got {type(grad).__name__})")
        if grad is None or meta is None:
            checked.append(None if meta is None else grad)
            continue
        if grad.is_sparse and not isinstance(edges[index][0], AccumulateGrad):
            grad = grad.to_dense()  # only leaves take sparse gradients (NOTE [Sparse gradients])
        shape, dtype = meta
        if tuple(grad.shape) != shape:
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {index} - got "
                f"{list(grad._data.shape)} but expected shape compatible with {list(shape)}"
            )
        if grad.dtype is not dtype:
            grad = grad.to(dtype)
        checked.append(grad)
    return checked


def _checked_fast(node, result):
    """The gradients as they are when each has its input's shape and dtype (the common case),
    else None: `_validate` then pads, casts or raises."""
    for grad, meta in zip(result, node._input_meta):
        if grad is None:
            continue
        if meta is None or type(grad) is not Tensor:
            return None
        data = grad._data
        if data.shape != meta[0] or _BY_NUMPY.get(data.dtype) is not meta[1]:
            return None
    return result


def _accumulate_into_leaf(tensor, grad, create_graph, steal=False):
    """tensor.grad += grad, after the tensor's own hooks and before its post-accumulate hooks;
    on first arrival an array nothing else holds (stolen when `steal` and no one else can see
    it, see NOTE), else a copy."""
    if grad is None:
        return
    _add_into_leaf(tensor, grad, create_graph, steal)
    if POST_ACCUMULATE_HOOKS and id(tensor) in POST_ACCUMULATE_HOOKS:
        for hook in list(POST_ACCUMULATE_HOOKS[id(tensor)]):
            hook(tensor)


def _add_into_leaf(tensor, grad, create_graph, steal):
    if tensor._hooks:
        for hook in tensor._hooks:
            replaced = hook(grad)
            if replaced is not None:
                grad = checked_hook_result(getattr(hook, "__name__", "hook"), grad, replaced)
    current = tensor._grad  # (the field: the getter warns for a non-leaf)
    if type(grad) is not Tensor or current is not None and type(current) is not Tensor:
        if grad.is_sparse or current is not None and current.is_sparse:
            _add_sparse_into_leaf(tensor, grad, create_graph)
            return
    if current is None:
        # Copy: the same gradient array may reach several leaves (add's backward passes it on).
        if create_graph:
            tensor.grad = grad
        elif steal and not tensor._hooks and getrefcount(grad) <= _ENGINE_REFERENCES:
            tensor.grad = Tensor._make(_unshared(grad._data))
        else:
            tensor.grad = Tensor._make(grad._data.copy())
        if not tensor._data.flags.c_contiguous:  # torch's gradient layout contract
            tensor.grad._data = _strided_as(tensor.grad._data, tensor._data)
        return
    if not create_graph:
        grad = grad.detach()
    if create_graph or _state["enabled"]:
        tensor.grad = current + grad
    else:
        xp.add(current._data, grad._data, out=current._data)


def _strided_as(grad, param):
    """A leaf's first gradient with the leaf's strides when the leaf is dense but not
    C-contiguous (a channels_last weight gets a channels_last .grad), as PyTorch's
    AccumulateGrad clones it "obeying the gradient layout contract"."""
    if grad.strides == param.strides or grad.shape != param.shape:
        return grad
    out = xp.empty_like(param, dtype=grad.dtype)  # (order 'K': the param's stride order)
    out[...] = grad
    return out


def _add_sparse_into_leaf(tensor, grad, create_graph):
    """`.grad` += grad where either is sparse (NOTE [Sparse gradients]).

    NOTE [Sparse gradients]
    `nn.Embedding(sparse=True)` sends its weight a sparse COO gradient: the rows of the output
    gradient at the looked-up indices, repeats and all. As PyTorch's AccumulateGrad does, a
    leaf keeps it sparse (its own copy), adds a later sparse one in place (sparse += sparse,
    PyTorch's merge of the two entry lists), adds a sparse one into a dense `.grad` in place,
    and replaces a sparse `.grad` by the dense sum when a dense one arrives. Every other node
    gets sparse gradients made dense first: ember's backward formulas are written for dense
    gradients, and leaves are where sparse ones pay (SGD, Adagrad and SparseAdam update only
    the rows they name).
    """
    if tensor._grad is None:
        tensor.grad = grad if create_graph else grad.clone()
    elif create_graph or _state["enabled"]:
        tensor.grad = sum_gradients(tensor._grad, grad)
    elif tensor._grad.is_sparse and not grad.is_sparse:
        tensor.grad = grad.detach() + tensor._grad
    else:
        tensor._grad.add_(grad.detach())


# A gradient tensor on its way into a leaf is held by the node's buffer in run_backward, the
# parameters of _accumulate_into_leaf and _add_into_leaf, and getrefcount's argument: anything
# more is someone else. (Counted by a test: a miscount silently copies every gradient.)
_ENGINE_REFERENCES = 4


def _unshared(data):
    """data itself when nothing else refers to it, else a copy of it.

    NOTE [Stealing the gradient]
    A leaf's first gradient needs an array of its own: `.grad` is updated in place later
    (accumulation, optimizers), and the gradient that arrives may be shared (add's backward
    sends one tensor to both inputs; a hook kept it; the seed is the user's tensor). Copying it
    always costs a full pass over every parameter per step, so, like PyTorch's AccumulateGrad
    (which checks the use count), ember takes the array itself when nothing else can see it:
    the leaf has no hooks, the gradient tensor is held only by the engine (_ENGINE_REFERENCES),
    and its array owns its memory (no base: not a view of something else), is contiguous and
    writeable as a copy would be, and is referenced only by that tensor's slot, this argument
    and getrefcount's own. run_backward holds the seeds' arrays in a list while it runs, so the
    user's tensors always count one more.
    """
    if (getrefcount(data) <= 3 and data.base is None and data.flags.c_contiguous
            and data.flags.writeable):
        return data
    return data.copy()
