"""ember.jit and torch.compile run the model's own code: outputs, gradients, state_dict keys
and reprs as torch's scripted/compiled wrappers give them, and save/load round trips."""

import io
import re

import numpy as np
import pytest
import torch

import ember
from tests.differential import to_ember


def _pair():
    """The same small model in both libraries, with torch's weights."""
    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.ReLU(), lib.nn.Linear(3, 2))

    torch.manual_seed(0)  # (unseeded, one draw in ~300 put an output near 0, past rtol 1e-5)
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


def _conv_net(lib):
    """Layers whose forward looks up their functional through the module (conv, pooling)."""
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), nn.MaxPool2d(2),
                         nn.ConvTranspose2d(3, 2, 2, stride=2), nn.AvgPool2d(2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten())


@pytest.mark.parametrize("wrap", ["script", "trace"])
def test_wrapped_conv_and_pooling_layers_run_like_torch(wrap):
    torch.manual_seed(0)
    reference, model = _conv_net(torch), _conv_net(ember)
    model.load_state_dict({k: to_ember(v) for k, v in reference.state_dict().items()})
    x = np.random.default_rng(1).normal(size=(2, 2, 8, 8)).astype(np.float32)
    outputs = []
    for lib, net in ((ember, model), (torch, reference)):
        wrapped = lib.jit.script(net) if wrap == "script" else lib.jit.trace(net, lib.tensor(x))
        outputs.append(wrapped(lib.tensor(x)).detach().numpy())
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5, atol=1e-6)


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


COMPILE_ERRORS = {
    "bad mode": lambda lib, m: lib.compile(m, mode="bogus"),
    "bad mode on a function": lambda lib, m: lib.compile(lambda t: t, mode="fast"),
    "mode and options": lambda lib, m: lib.compile(m, mode="default", options={}),
}


@pytest.mark.parametrize("name", list(COMPILE_ERRORS))
def test_compile_errors_match_torch(name):
    model, reference = _pair()
    messages = []
    for lib, m in ((ember, model), (torch, reference)):
        with pytest.raises(RuntimeError) as info:
            COMPILE_ERRORS[name](lib, m)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


DYNAMO_SETTINGS = ["suppress_errors", "cache_size_limit", "accumulated_cache_size_limit",
                   "recompile_limit", "verbose", "capture_scalar_outputs", "optimize_ddp",
                   "automatic_dynamic_shapes", "assume_static_by_default", "compiled_autograd",
                   "capture_dynamic_output_shape_ops", "error_on_recompile", "specialize_int"]
INDUCTOR_SETTINGS = ["coordinate_descent_tuning", "fx_graph_cache", "freezing", "max_autotune",
                     "epilogue_fusion", "cpp_wrapper", "debug", "aggressive_fusion",
                     "shape_padding", "split_reductions", "fallback_random",
                     "triton.unique_kernel_names", "triton.cudagraphs", "cpp.threads"]


def test_dynamo_and_inductor_config_modules_have_torch_defaults():
    import importlib

    for root, names in (("_dynamo.config", DYNAMO_SETTINGS),
                        ("_inductor.config", INDUCTOR_SETTINGS)):
        ours = importlib.import_module(f"ember.{root}")
        theirs = importlib.import_module(f"torch.{root}")
        for name in names:
            a, b = ours, theirs
            for part in name.split("."):
                a, b = getattr(a, part), getattr(b, part)
            assert a == b, (root, name)
    assert ember._inductor.config is importlib.import_module("ember._inductor.config")
    ember._inductor.config.coordinate_descent_tuning = True  # scripts set them; nothing breaks
    try:
        model, _ = _pair()
        assert ember.compile(model)(ember.ones(2, 4)).shape == model(ember.ones(2, 4)).shape
    finally:
        ember._inductor.config.coordinate_descent_tuning = False


def _traceable(lib):
    nn = lib.nn
    return {
        "mlp": (nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2), nn.Sigmoid()),
                (2, 4)),
        "function": (lambda x: lib.tanh(x) * 2 + x.exp(), (3,)),
        "conv": (nn.Conv2d(1, 2, 3), (1, 1, 4, 4)),
        "layer_norm": (nn.LayerNorm(3), (2, 3)),
        "reductions": (lambda x: x.mean(0).sum(), (2, 3)),
        "no bias": (nn.Linear(3, 2, bias=False), (2, 3)),
    }


@pytest.mark.parametrize("name", ["mlp", "function", "conv", "layer_norm", "reductions",
                                  "no bias"])
def test_traced_graph_lists_torch_aten_ops(name):
    """`.graph` of a traced module/function lists the ATen ops torch's inlined graph has, and
    its return value's type line (NOTE [What a traced graph shows])."""
    kinds, returns = [], []
    for lib in (ember, torch):
        model, shape = _traceable(lib)[name]
        traced = lib.jit.trace(model, lib.ones(*shape))
        graph = traced.inlined_graph if hasattr(traced, "inlined_graph") else traced.graph
        kinds.append([n.kind() for n in graph.nodes() if n.kind().startswith("aten::")])
        lines = str(graph).splitlines()
        returned = lines[-1].strip()[len("return ("):-1]
        typed = next(line.split(" = ")[0].split(" : ")[1] for line in lines
                     if line.strip().startswith(returned + " :"))
        returns.append(re.sub(r"requires_grad=\d, ", "", typed))  # torch's trace varies it
    assert kinds[0] == kinds[1]
    assert returns[0] == returns[1]
    assert str(ember.jit.trace(_traceable(ember)[name][0],
                               ember.ones(*_traceable(ember)[name][1])).graph).startswith("graph(")


def test_legacy_script_method_module_runs_like_torch():
    results = []
    for lib in (ember, torch):
        with pytest.warns(DeprecationWarning, match="script_method"):
            class Legacy(lib.jit.ScriptModule):
                def __init__(self):
                    super().__init__()
                    self.scale = 3.0

                @lib.jit.script_method
                def forward(self, x):
                    return x * self.scale
        results.append(Legacy()(lib.ones(2)).tolist())
    assert results[0] == results[1]


def test_dynamo_and_compiler_helpers_are_no_ops_like_torch_eager():
    model, _ = _pair()
    x = ember.ones(2, 4)
    for lib_name in ("maybe_mark_dynamic", "mark_static_address"):
        assert getattr(ember._dynamo, lib_name)(x, 0) is None
    assert ember._dynamo.graph_break() is None
    assert ember._dynamo.disallow_in_graph(len) is len
    assert ember._dynamo.list_backends() == torch._dynamo.list_backends()
    assert ember.compiler.list_backends() == torch.compiler.list_backends()

    @ember.compiler.set_stance("force_eager")
    def run(t):
        return model(t)

    with ember.compiler.set_stance("eager_on_recompile"):
        assert run(x).shape == model(x).shape
    compiled = ember.compiler.compile(model)
    assert type(compiled).__name__ == "OptimizedModule"
