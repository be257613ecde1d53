"""ember.fx.Interpreter, Transformer and passes.shape_prop against torch.fx's, on the programs
of test_fx.py: the same values, the same per-node call sequence, the same rewritten code."""

import operator

import numpy as np
import pytest
import torch
import torch.fx.passes.shape_prop as torch_shape_prop

import ember
import ember.fx.passes.shape_prop as ember_shape_prop
from tests.fx.test_fx import INPUTS, _both, _first


def _traced(name):
    ours, reference = _both(name)
    return ember.fx.symbolic_trace(ours), torch.fx.symbolic_trace(reference)


def _input(name):
    return np.random.default_rng(1).normal(size=INPUTS[name]).astype(np.float32)


@pytest.mark.parametrize("name", list(INPUTS))
def test_interpreter_runs_like_the_module(name):
    ours, theirs = _traced(name)
    x = _input(name)
    out = ember.fx.Interpreter(ours).run(ember.tensor(x))
    expected = torch.fx.Interpreter(theirs).run(torch.tensor(x))
    np.testing.assert_allclose(_first(out).detach().numpy(), _first(expected).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def _recording(lib):
    class Recorder(lib.fx.Interpreter):
        def run_node(self, n):
            self.seen = getattr(self, "seen", []) + [(n.op, n.name)]
            return super().run_node(n)

        def call_function(self, target, args, kwargs):
            if target is operator.add:  # a rewrite at run time: + becomes -
                return operator.sub(*args)
            return super().call_function(target, args, kwargs)
    return Recorder


@pytest.mark.parametrize("name", list(INPUTS))
def test_overridden_interpreter_visits_and_rewrites_like_torch(name):
    ours, theirs = _traced(name)
    x = _input(name)
    mine, reference = _recording(ember)(ours), _recording(torch)(theirs)
    out, expected = mine.run(ember.tensor(x)), reference.run(torch.tensor(x))
    assert mine.seen == reference.seen
    np.testing.assert_allclose(_first(out).detach().numpy(), _first(expected).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def _swapper(lib):
    class Swap(lib.fx.Transformer):
        def call_function(self, target, args, kwargs):
            if target is lib.sigmoid:
                target = lib.tanh
            if target is operator.add:
                target = operator.mul
            return super().call_function(target, args, kwargs)
    return Swap


@pytest.mark.parametrize("name", list(INPUTS))
def test_transformer_rewrites_the_graph_like_torch(name):
    ours, theirs = _traced(name)
    x = _input(name)
    new, expected = _swapper(ember)(ours).transform(), _swapper(torch)(theirs).transform()
    assert new.code == expected.code
    assert str(new.graph) == str(expected.graph)
    np.testing.assert_allclose(_first(new(ember.tensor(x))).detach().numpy(),
                               _first(expected(torch.tensor(x))).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["affine", "convs", "plain"])
def test_shape_prop_records_torch_metadata(name):
    ours, theirs = _traced(name)
    x = _input(name)
    ember_shape_prop.ShapeProp(ours).propagate(ember.tensor(x))
    torch_shape_prop.ShapeProp(theirs).propagate(torch.tensor(x))
    for mine, reference in zip(ours.graph.nodes, theirs.graph.nodes):
        m, r = mine.meta.get("tensor_meta"), reference.meta.get("tensor_meta")
        assert (m is None) == (r is None), mine.name
        if r is not None and hasattr(r, "shape"):
            assert (tuple(m.shape), str(m.dtype), m.requires_grad, tuple(m.stride)) == \
                (tuple(r.shape), str(r.dtype), r.requires_grad, tuple(r.stride))


def test_interpreter_missing_argument_raises_like_torch():
    ours, theirs = _traced("plain")
    for interpreter in (ember.fx.Interpreter(ours), torch.fx.Interpreter(theirs)):
        with pytest.raises(RuntimeError, match="Expected positional argument"):
            interpreter.run()


def test_print_tabular_needs_tabulate_like_torch(capsys):
    ours, theirs = _traced("plain")
    outcomes = []
    for graph in (ours.graph, theirs.graph):
        try:
            graph.print_tabular()
            lines = capsys.readouterr().out.splitlines()  # opcode and name columns
            outcomes.append(("printed", [line.split()[:2] for line in lines]))
        except ImportError as error:  # tabulate is optional in both
            outcomes.append((type(error), capsys.readouterr().out))
    assert outcomes[0] == outcomes[1]
