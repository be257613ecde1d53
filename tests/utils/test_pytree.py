"""torch.utils._pytree's flatten/unflatten/map, compared with torch's."""

import collections

import pytest
import torch
import torch.utils._pytree as theirs

import ember.utils._pytree as ours

Point = collections.namedtuple("Point", "x y")
TREES = {
    "nested": (1, [2, {"b": 3, "a": None}], "s"),
    "namedtuple": Point(1, [2, 3]),
    "ordered dict": collections.OrderedDict(z=1, y=(2,)),
    "deque": collections.deque([1, 2]),
    "leaf": 5,
    "none": None,
    "empty": ([], {}, ()),
}


@pytest.mark.parametrize("name", list(TREES))
def test_flatten_map_unflatten_match_torch(name):
    tree = TREES[name]
    assert ours.tree_leaves(tree) == theirs.tree_leaves(tree)
    assert ours.tree_flatten(tree)[0] == theirs.tree_flatten(tree)[0]
    assert ours.tree_map(lambda v: (v, 0), tree) == theirs.tree_map(lambda v: (v, 0), tree)
    leaves, spec = ours.tree_flatten(tree)
    rebuilt = ours.tree_unflatten([str(v) for v in leaves], spec)
    assert rebuilt == theirs.tree_unflatten([str(v) for v in leaves],
                                            theirs.tree_structure(tree))
    if leaves != [tree]:
        assert type(rebuilt) is type(tree)


def test_map_several_trees_and_errors():
    a, b = Point(1, [2, 3]), Point(10, [20, 30])
    assert ours.tree_map(lambda u, v: u + v, a, b) == theirs.tree_map(lambda u, v: u + v, a, b)
    assert ours.tree_leaves([1, (2,)], is_leaf=lambda n: isinstance(n, tuple)) == \
        theirs.tree_leaves([1, (2,)], is_leaf=lambda n: isinstance(n, tuple))
    for module in (ours, theirs):
        with pytest.raises(ValueError):
            module.tree_map(lambda u, v: u, [1], [1, 2])
        with pytest.raises(ValueError):
            module.tree_unflatten([1, 2], module.tree_structure([1]))


def test_tensors_are_leaves():
    import ember
    tree = {"w": ember.ones(2), "rest": [ember.zeros(1)]}
    doubled = ours.tree_map(lambda t: t * 2, tree)
    assert doubled["w"].tolist() == [2.0, 2.0] and doubled["rest"][0].tolist() == [0.0]
    assert len(theirs.tree_leaves({"w": torch.ones(2), "rest": [torch.zeros(1)]})) == \
        len(ours.tree_leaves(tree)) == 2


class Pair2:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def __eq__(self, other):
        return type(other).__name__ == "Pair2" and (self.a, self.b) == (other.a, other.b)


def test_registered_node_types_flatten_like_torch():
    ours.register_pytree_node(Pair2, lambda p: ([p.a, p.b], "ctx"),
                              lambda children, ctx: Pair2(*children))
    theirs.register_pytree_node(Pair2, lambda p: ([p.a, p.b], "ctx"),
                                lambda children, ctx: Pair2(*children))
    tree = {"p": Pair2(1, [2, 3]), "q": 4}
    assert ours.tree_leaves(tree) == theirs.tree_leaves(tree) == [1, 2, 3, 4]
    assert ours.tree_map(lambda v: v * 10, tree) == theirs.tree_map(lambda v: v * 10, tree)
    for module in (ours, theirs):
        with pytest.raises(ValueError, match="already registered"):
            module.register_pytree_node(Pair2, lambda p: ([], None), lambda c, x: Pair2(0, 0))


def test_map_only_all_any_iter_match_torch():
    tree = [1, "a", (2.5, None), {"k": 3}]
    for name, args in (("tree_map_only", (int, lambda v: v + 1, tree)),
                       ("tree_all", (lambda v: v is not None, tree)),
                       ("tree_any", (lambda v: v == 3, tree))):
        assert getattr(ours, name)(*args) == getattr(theirs, name)(*args), name
    assert list(ours.tree_iter(tree)) == list(theirs.tree_iter(tree))
