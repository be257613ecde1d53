"""ember.jit and torch.compile run the model's own code: outputs, gradients, state_dict keys
and reprs as torch's scripted/compiled wrappers give them, and save/load round trips."""

import io

import numpy as np
import pytest
import torch

import ember
from tests.differential import to_ember


def _pair():
    """The same small model in both libraries, with torch's weights."""
    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.ReLU(), lib.nn.Linear(3, 2))

    reference = build(torch)
    model = build(ember)
    model.load_state_dict({k: to_ember(v) for k, v in reference.state_dict().items()})
    return model, reference


def _inputs():
    return np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)


@pytest.mark.parametrize("wrap", ["script", "trace", "compile"])
def test_wrapped_models_compute_what_torch_computes(wrap):
    model, reference = _pair()
    x = _inputs()
    wrappers = {"script": lambda lib, m: lib.jit.script(m),
                "trace": lambda lib, m: lib.jit.trace(m, lib.ones(1, 4)),
                "compile": lambda lib, m: lib.compile(m)}
    ours, theirs = wrappers[wrap](ember, model), wrappers[wrap](torch, reference)
    out, expected = ours(ember.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(model[0].weight.grad.numpy(), reference[0].weight.grad.numpy(),
                               rtol=1e-5)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if wrap != "compile":
        assert repr(ours) == repr(theirs)


def test_scripted_module_shares_parameters_and_indexing():
    model, _ = _pair()
    scripted = ember.jit.script(model)
    assert scripted[0].weight is model[0].weight and len(scripted) == 3
    assert isinstance(scripted, ember.jit.ScriptModule) and scripted.original_name == "Sequential"
    assert "def forward" in scripted[0].code


def test_script_save_load_round_trip(tmp_path):
    model, _ = _pair()
    scripted = ember.jit.script(model)
    scripted.save(tmp_path / "m.pt")
    loaded = ember.jit.load(tmp_path / "m.pt")
    x = ember.tensor(_inputs())
    np.testing.assert_array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())
    buffer = io.BytesIO()
    ember.jit.save(ember.jit.script(_double), buffer)
    buffer.seek(0)
    assert ember.jit.load(buffer)(ember.ones(1)).tolist() == [2.0]
    with pytest.raises(RuntimeError, match="ember.jit.save"):
        ember.jit.load(io.BytesIO(b"not a checkpoint" * 4))


def _double(t):
    return t * 2


def test_trace_runs_the_example_inputs():
    with pytest.raises(RuntimeError):
        ember.jit.trace(ember.nn.Linear(4, 2), ember.ones(1, 3))  # shape error at trace time
    with pytest.raises(RuntimeError, match="example"):
        ember.jit.trace(ember.nn.Linear(4, 2))


def test_annotations_and_decorators_are_transparent():
    jit = ember.jit

    class Model(ember.nn.Module):
        scale: jit.Final[int] = 2

        @jit.ignore
        def helper(self, x):
            return x + 1

        @jit.unused
        def unused(self, x):
            return x

        @jit.export
        def exported(self, x):
            return x * self.scale

        def forward(self, x):
            if jit.is_scripting() or jit.is_tracing():
                raise AssertionError("ember never runs scripted code")
            return self.exported(self.helper(x))

    scripted = jit.script(Model())
    assert scripted(ember.ones(1)).tolist() == [4.0]
    assert jit.annotate(int, 3) == 3 and jit.wait(jit.fork(lambda a: a + 1, 1)) == 2
    assert jit.ignore(drop=True)(len) is len


def test_compile_forms():
    model, _ = _pair()
    compiled = ember.compile(model)
    assert compiled._orig_mod is model and compiled.training  # attributes reach the model
    assert ember.compile(model, disable=True) is model

    @ember.compile(mode="reduce-overhead")
    def double(t):
        return t * 2

    assert double(ember.ones(1)).tolist() == [2.0] and double.__name__ == "double"
    with pytest.raises(RuntimeError, match="mode or options"):
        ember.compile(model, mode="default", options={})
    assert not ember.compiler.is_compiling() and not ember._dynamo.is_compiling()
    assert ember._dynamo.disable(len) is len
