"""Nested containers of tensors (tuples, lists, dicts) flattened to a list and rebuilt: the
"pytrees" torch.func's transforms accept as inputs and outputs."""

from ember._tensor import Tensor


def tree_flatten(tree):
    """(the tensors of tree in order, a spec to rebuild it); non-tensor leaves stay in the spec."""
    leaves = []

    def spec_of(node):
        if isinstance(node, Tensor):
            leaves.append(node)
            return None
        if isinstance(node, (tuple, list)) and not hasattr(node, "_fields"):
            return (type(node), [spec_of(child) for child in node])
        if isinstance(node, dict):
            return (dict, {key: spec_of(child) for key, child in node.items()})
        return ("constant", node)

    return leaves, spec_of(tree)


def tree_unflatten(leaves, spec):
    """The tree of `spec` with its tensors taken in order from leaves."""
    iterator = iter(leaves)

    def build(node):
        if node is None:
            return next(iterator)
        kind, children = node
        if kind == "constant":
            return children
        if kind is dict:
            return {key: build(child) for key, child in children.items()}
        return kind(build(child) for child in children)

    return build(spec)


def tree_map(fn, tree):
    """tree with every tensor replaced by fn(tensor)."""
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(leaf) for leaf in leaves], spec)


def first_constant(spec):
    """(value,) of the first non-tensor leaf of a tree_flatten spec, else None."""
    if spec is None:
        return None
    kind, children = spec
    if kind == "constant":
        return (children,)
    for child in (children.values() if kind is dict else children):
        found = first_constant(child)
        if found is not None:
            return found
    return None
