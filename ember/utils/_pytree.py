"""`torch.utils._pytree`: nested tuples, lists, dicts and namedtuples flattened into their
leaves and rebuilt. As in torch, every object that is not such a container is a leaf (numbers,
strings and None too)."""

from collections import OrderedDict, defaultdict, deque

__all__ = ["TreeSpec", "register_pytree_node", "tree_all", "tree_any", "tree_flatten",
           "tree_iter", "tree_leaves", "tree_map", "tree_map_only", "tree_structure",
           "tree_unflatten"]

_REGISTRY = {}  # type -> (flatten_fn, unflatten_fn), from register_pytree_node


def register_pytree_node(cls, flatten_fn, unflatten_fn, *, serialized_type_name=None,
                         to_dumpable_context=None, from_dumpable_context=None,
                         flatten_with_keys_fn=None):
    """Make cls a container: flatten_fn(node) -> (children, context) and
    unflatten_fn(children, context) -> node (matches torch's `register_pytree_node`)."""
    if cls in _REGISTRY:
        raise ValueError(f"{cls} is already registered as pytree node.")
    _REGISTRY[cls] = (flatten_fn, unflatten_fn)


class TreeSpec:
    """The shape of a tree: its container type, its keys/context and the children's specs."""

    def __init__(self, kind, context, children):
        self.type, self.context, self.children_specs = kind, context, children
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in children)

    def __eq__(self, other):
        return isinstance(other, TreeSpec) and (self.type, self.context, self.children_specs) \
            == (other.type, other.context, other.children_specs)

    def is_leaf(self) -> bool:
        return self.type is None

    def __repr__(self):
        if self.is_leaf():
            return "*"
        return f"TreeSpec({self.type.__name__}, {self.context!r}, {self.children_specs!r})"


_LEAF = TreeSpec(None, None, [])


def _children(node):
    """(children, context) of a container node, or None for a leaf."""
    if type(node) in _REGISTRY:
        children, context = _REGISTRY[type(node)][0](node)
        return list(children), context
    if isinstance(node, (tuple, list, deque)):
        return list(node), None
    if isinstance(node, (dict, OrderedDict, defaultdict)):
        keys = list(node)
        return [node[k] for k in keys], keys
    return None


def _rebuild(kind, context, children):
    if kind in _REGISTRY:
        return _REGISTRY[kind][1](children, context)
    if issubclass(kind, tuple) and hasattr(kind, "_fields"):
        return kind(*children)
    if issubclass(kind, dict):
        return kind(zip(context, children))
    return kind(children)


def tree_flatten(tree, is_leaf=None):
    """(the leaves in order, the spec to rebuild the tree) (matches torch's `tree_flatten`)."""
    leaves = []

    def spec_of(node):
        parts = None if is_leaf is not None and is_leaf(node) else _children(node)
        if parts is None:
            leaves.append(node)
            return _LEAF
        children, context = parts
        return TreeSpec(type(node), context, [spec_of(child) for child in children])

    return leaves, spec_of(tree)


def tree_unflatten(leaves, treespec):
    """The tree of treespec with its leaves taken in order (matches `tree_unflatten`)."""
    leaves = list(leaves)
    if len(leaves) != treespec.num_leaves:
        raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but "
                         f"the spec refers to a pytree that holds {treespec.num_leaves} items "
                         f"({treespec}).")
    iterator = iter(leaves)

    def build(spec):
        if spec.is_leaf():
            return next(iterator)
        return _rebuild(spec.type, spec.context, [build(c) for c in spec.children_specs])

    return build(treespec)


def tree_leaves(tree, is_leaf=None):
    """The leaves of a tree, in order (matches torch's `tree_leaves`)."""
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None):
    """The spec of a tree (matches torch's `tree_structure`)."""
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func, tree, *rests, is_leaf=None):
    """The tree with every leaf replaced by func(leaf, *matching leaves of rests) (matches
    torch's `tree_map`)."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [spec_leaves(rest, spec) for rest in rests]
    return tree_unflatten([func(*xs) for xs in zip(leaves, *others)], spec)


def spec_leaves(tree, spec):
    """The leaves of tree, checked to have spec's structure."""
    leaves, other = tree_flatten(tree)
    if other != spec:
        raise ValueError(f"Tree structures differ: {other} vs {spec}")
    return leaves


def tree_iter(tree, is_leaf=None):
    """The leaves one by one (matches torch's `tree_iter`)."""
    return iter(tree_leaves(tree, is_leaf))


def tree_all(pred, tree, is_leaf=None) -> bool:
    return all(pred(leaf) for leaf in tree_leaves(tree, is_leaf))


def tree_any(pred, tree, is_leaf=None) -> bool:
    return any(pred(leaf) for leaf in tree_leaves(tree, is_leaf))


def tree_map_only(type_or_types, func, tree, is_leaf=None):
    """tree_map applied to the leaves of the given type(s) only (matches torch's)."""
    return tree_map(lambda leaf: func(leaf) if isinstance(leaf, type_or_types) else leaf, tree,
                    is_leaf=is_leaf)
