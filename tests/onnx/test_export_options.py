"""ember.onnx.export's options, names, errors and file handling, and `ember train --export-onnx`
end to end (train one epoch offline, export, run the file in onnxruntime)."""

import io
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

import ember
import ember.onnx._graph as onnx_graph
from ember import nn
from ember.cli import _setup


def _small_cnn():
    ember.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Dropout(0.5), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))


def _session(data: bytes):
    return onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])


def _bytes(model, args, **options) -> bytes:
    buffer = io.BytesIO()
    ember.onnx.export(model, args, buffer, **options)
    return buffer.getvalue()


class Encoder(nn.Module):
    """A module path with a layer list, to see where an unmapped op is reported."""

    def __init__(self, layer):
        super().__init__()
        self.encoder = nn.Module()
        self.encoder.layers = nn.ModuleList([layer])

    def forward(self, x):
        return self.encoder.layers[0](x)


class Rfft(nn.Module):
    def forward(self, x):
        return ember.fft.rfft(x).abs()


class Compare(nn.Module):
    def forward(self, x):
        return ember.where(x > 0, x, 0.0)


class Flag(nn.Module):
    seen = []

    def forward(self, x):
        Flag.seen.append(ember.onnx.is_in_onnx_export())
        return x + 1


# ---- files and names ----------------------------------------------------------------------------
def test_path_and_file_object_give_the_same_model(tmp_path):
    model, x = _small_cnn(), ember.randn(2, 1, 6, 6)
    path = tmp_path / "model.onnx"
    assert ember.onnx.export(model, (x,), str(path), dynamo=False) is None
    from_file = _bytes(model, (x,), dynamo=False)
    assert path.read_bytes() == from_file
    assert onnx.load(str(path)).SerializeToString() == from_file


def test_initializers_are_named_by_state_dict_keys_and_default_opset():
    model = _small_cnn()
    proto = onnx.load_from_string(_bytes(model, (ember.randn(2, 1, 6, 6),)))
    names = {init.name for init in proto.graph.initializer}
    assert {k for k in model.state_dict() if "num_batches" not in k} <= names
    assert proto.opset_import[0].version == 20  # torch 2.13's default
    assert [i.name for i in proto.graph.input] == ["input"]  # Sequential.forward(input)
    assert [o.name for o in proto.graph.output] == ["output"]


class Reductions(nn.Module):
    """Reductions (their axes are an attribute before opset 18, an input from 18 on)."""

    def __init__(self):
        super().__init__()
        self.norm = nn.Sequential(nn.LayerNorm(4), nn.GELU(), nn.GELU("tanh"))
        self.batch = nn.BatchNorm1d(3, track_running_stats=False)

    def forward(self, x):
        y = self.norm(x) + self.batch(x)
        return (y.mean(1) + y.sum(1) + y.var(1) + y.amax(1) + y.logsumexp(1) + y.norm(dim=1)
                + y.max(1)[0])


@pytest.mark.parametrize("opset", [17, 18, 20, 21, 22, 23])
def test_opsets(opset):
    model = Reductions()
    x = ember.randn(2, 3, 4)
    data = _bytes(model, (x,), opset_version=opset, input_names=["x"])
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version == opset
    got = _session(data).run(None, {"x": x.numpy()})[0]
    with ember.no_grad():
        expected = model.eval()(x).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("opset, written", [(16, 16), (11, 17), (7, 17)])
def test_older_opsets_are_converted_down_or_kept_as_torch_does(opset, written, caplog):
    """torch 2.13 accepts opsets below the ones its exporter writes: it converts the file down
    with onnx's version converter and keeps its own lowest opset when that fails (here: no
    adapter takes the Identity of the outputs below 16), logging a warning either way."""
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    x = ember.randn(2, 3)
    with caplog.at_level("WARNING"):
        data = _bytes(model, (x,), opset_version=opset, input_names=["x"])
    assert f"the requested opset_version {opset} is a lower version" in caplog.text
    assert ("kept at opset 17" in caplog.text) == (written == 17)
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version == written
    got = _session(data).run(None, {"x": x.numpy()})[0]
    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_dynamic_axes_names_and_static_shapes():
    model, x = _small_cnn(), ember.randn(2, 1, 6, 6)
    proto = onnx.load_from_string(_bytes(
        model, (x,), input_names=["image"], output_names=["logits"],
        dynamic_axes={"image": {0: "batch"}, "logits": [0]}))
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 1, 6, 6]
    out = [d.dim_param or d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim]
    assert out == ["logits_dynamic_axes_1", 3]
    static = onnx.load_from_string(_bytes(model, (x,)))
    assert [d.dim_value for d in static.graph.input[0].type.tensor_type.shape.dim] == [2, 1, 6, 6]


def test_export_params_false_makes_parameters_inputs():
    model = nn.Linear(3, 2)
    proto = onnx.load_from_string(_bytes(model, (ember.randn(4, 3),), export_params=False))
    assert [i.name for i in proto.graph.input] == ["input", "weight", "bias"]
    assert not proto.graph.initializer
    kept = onnx.load_from_string(_bytes(model, (ember.randn(4, 3),),
                                        keep_initializers_as_inputs=True))
    assert [i.name for i in kept.graph.input] == ["input", "weight", "bias"]
    assert [i.name for i in kept.graph.initializer] == ["weight", "bias"]


class Folded(nn.Module):
    """An op on a parameter alone (w.t() * 2): folded into a constant unless told not to."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(ember.randn(4, 3))

    def forward(self, x):
        return x @ (self.w.t() * 2)


@pytest.mark.parametrize("fold", [True, False])
def test_constant_folding(fold):
    model, x = Folded(), ember.randn(2, 3)
    data = _bytes(model, (x,), do_constant_folding=fold, input_names=["x"])
    ops = [n.op_type for n in onnx.load_from_string(data).graph.node]
    assert ops == (["MatMul", "Identity"] if fold else ["Transpose", "Mul", "MatMul", "Identity"])
    got = _session(data).run(None, {"x": x.numpy()})[0]
    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=1e-5)


def test_kwargs_and_several_outputs():
    class Two(nn.Module):
        def forward(self, x, scale=None):
            return x * scale, (x - scale).sum(1)

    x, scale = ember.randn(2, 3), ember.tensor(2.0)
    data = _bytes(Two(), (x,), kwargs={"scale": scale}, output_names=["a", "b"])
    feeds = {"x": x.numpy(), "scale": scale.numpy()}
    a, b = _session(data).run(None, feeds)
    np.testing.assert_allclose(a, (x * scale).numpy(), rtol=1e-6)
    np.testing.assert_allclose(b, (x - scale).sum(1).numpy(), rtol=1e-6)


class Pick(nn.Module):
    """Two inputs: an index tensor picks columns; an unbatched (C, L) conv input."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 3, 2)

    def forward(self, x, idx):
        return self.conv(x[:, idx]).sum(0)


def test_index_tensor_input_and_unbatched_conv():
    ember.manual_seed(0)
    model, x, idx = Pick(), ember.randn(2, 6), ember.tensor([5, 0, 2, 2])
    data = _bytes(model, (x, idx), input_names=["x", "idx"], dynamic_axes={"idx": [0]})
    session = _session(data)
    for i in (idx, ember.tensor([1, 3, 3, 0, 4, 5])):
        with ember.no_grad():
            expected = model(x, i).numpy()
        got = session.run(None, {"x": x.numpy(), "idx": i.numpy()})[0]
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_eval_semantics_and_training_mode_restored():
    model, x = _small_cnn(), ember.randn(2, 1, 6, 6)
    model.train()
    data = _bytes(model, (x,), input_names=["x"])
    assert model.training
    model.eval()
    with ember.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(_session(data).run(None, {"x": x.numpy()})[0], expected,
                               rtol=1e-4, atol=1e-5)
    assert all(n.op_type != "Dropout" for n in onnx.load_from_string(data).graph.node)


def test_is_in_onnx_export_and_names():
    Flag.seen.clear()
    _bytes(Flag(), (ember.randn(2),))
    assert Flag.seen and all(Flag.seen)
    assert ember.onnx.is_in_onnx_export() is False
    assert not hasattr(ember.onnx, "ExportOptions")  # torch 2.13 has none
    assert not hasattr(torch.onnx, "ExportOptions")
    assert ember.onnx.TrainingMode.EVAL == 0


def test_dynamo_returns_a_program(tmp_path):
    model, x = nn.Linear(3, 2), ember.randn(4, 3)
    program = ember.onnx.export(model, (x,))
    assert isinstance(program, ember.onnx.ONNXProgram)
    outputs = program(x)  # torch: a tuple of tensors
    assert type(outputs) is tuple and len(outputs) == 1
    assert isinstance(outputs[0], ember.Tensor) and outputs[0].dtype == ember.float32
    np.testing.assert_allclose(outputs[0].numpy(), model(x).detach().numpy(), rtol=1e-6)
    reference = program.call_reference(input=x)
    np.testing.assert_allclose(reference[0].numpy(), outputs[0].numpy(), rtol=1e-6)
    program.release()
    program.save(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(onnx.load(str(tmp_path / "m.onnx")))


@pytest.mark.parametrize("include, as_inputs", [(True, False), (True, True), (False, False),
                                                (False, True)])
def test_program_save_initializer_options(include, as_inputs, tmp_path):
    """torch's four combinations of include_initializers and keep_initializers_as_inputs."""
    program = ember.onnx.export(nn.Linear(3, 2), (ember.randn(4, 3),))
    path = tmp_path / "m.onnx"
    program.save(path, include_initializers=include, keep_initializers_as_inputs=as_inputs)
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.initializer] == (["weight", "bias"] if include else [])
    inputs = ["input"] + (["weight", "bias"] if as_inputs else [])
    assert [i.name for i in proto.graph.input] == inputs
    assert len(program.model_proto.graph.initializer) == 2  # the program itself is unchanged


def test_torch_onnx_names_match_torch():
    for name in ("TrainingMode", "OperatorExportTypes"):
        ours, theirs = getattr(ember.onnx, name), getattr(torch.onnx, name)
        assert {k: int(v) for k, v in ours.__members__.items()} == \
            {k: int(v) for k, v in theirs.__members__.items()}
    assert ember.onnx.errors.__all__ == ["OnnxExporterError"] + torch.onnx.errors.__all__
    assert issubclass(ember.onnx.errors.UnsupportedOperatorError, ember.onnx.OnnxExporterError)
    assert issubclass(ember.onnx.OnnxExporterError, RuntimeError)
    assert str(ember.onnx.errors.UnsupportedOperatorError("aten::foo", 20, None)) == \
        str(torch.onnx.errors.UnsupportedOperatorError("aten::foo", 20, None))
    assert str(ember.onnx.errors.UnsupportedOperatorError("aten::foo", 9, 11)) == \
        str(torch.onnx.errors.UnsupportedOperatorError("aten::foo", 9, 11))
    assert ember.onnx.producer_name == "ember"
    assert ember.onnx.producer_version == ember.version.ember


@pytest.mark.parametrize("start", [True, False])
@pytest.mark.parametrize("mode", ["EVAL", "PRESERVE", "TRAINING"])
def test_select_model_mode_for_export_matches_torch(start, mode):
    seen = []
    for lib in (ember, torch):
        model = lib.nn.Linear(2, 2).train(start)
        with lib.onnx.select_model_mode_for_export(model, getattr(lib.onnx.TrainingMode, mode)):
            inside = model.training
        seen.append((inside, model.training))
    assert seen[0] == seen[1]
    for lib in (ember, torch):
        with pytest.raises(TypeError, match="'mode' should be a torch.onnx.TrainingMode enum"):
            with lib.onnx.select_model_mode_for_export(lib.nn.Linear(2, 2), True):
                pass


# ---- errors -------------------------------------------------------------------------------------
def test_unmapped_op_names_op_and_module_path():
    with pytest.raises(ember.onnx.OnnxExporterError,
                       match=r"no ONNX mapping for 'fft_r2c' \(in model\.encoder\.layers\.0\)"):
        _bytes(Encoder(Rfft()), (ember.randn(2, 8),))


class ReadBack(nn.Module):
    """Values read out of the graph (.item(), .tolist()) come back as numbers or new tensors."""

    def __init__(self, how):
        super().__init__()
        self.how = how

    def forward(self, x):
        if self.how == "item":  # a Python float argument
            return nn.functional.leaky_relu(x, x.abs().max().item() / 10)
        if self.how == "clamp":  # a number the op keeps as a 0-d array
            return x.clamp(max=x.abs().max().item() / 2)
        return x + ember.tensor(x.sum(1).tolist()).unsqueeze(1)


@pytest.mark.parametrize("how, message", [
    ("item", r"a number \(.*\) changes with the inputs: it was read from a tensor"),
    ("clamp", "a tensor of size \\[\\] changes with the inputs"),
    ("tolist", "does not come from ops export records"),
])
def test_values_read_out_of_the_graph_are_an_error(how, message):
    """Export's second run has other values: what they change but export did not record would
    be baked in wrong, so it is an error."""
    with pytest.raises(ember.onnx.OnnxExporterError, match=message):
        _bytes(ReadBack(how), (ember.randn(2, 3),))


def test_comparisons_are_recorded_and_faces_restored():
    """Comparisons have no autograd node: export records them through their faces while it
    runs (NOTE [Ops outside the op protocol]) and puts the faces back afterwards."""
    faces = (ember.Tensor.__gt__, ember.Tensor.argmax, ember.gt, ember.where)
    x = ember.tensor([[-0.1, 0.2, -0.3], [0.4, -0.5, 0.6]])
    data = _bytes(Compare(), (x,), input_names=["x"])
    assert "Greater" in [n.op_type for n in onnx.load_from_string(data).graph.node]
    np.testing.assert_array_equal(_session(data).run(None, {"x": x.numpy()})[0],
                                  Compare()(x).numpy())
    assert (ember.Tensor.__gt__, ember.Tensor.argmax, ember.gt, ember.where) == faces
    with pytest.raises(ember.onnx.OnnxExporterError):
        _bytes(Encoder(Rfft()), (ember.randn(2, 8),))  # faces restored after an error too
    assert (ember.Tensor.__gt__, ember.Tensor.argmax, ember.gt, ember.where) == faces


def test_bad_options():
    model, x = nn.Linear(3, 2), ember.randn(4, 3)
    for opset in (6, 24):  # torch's exporters: 7 (ONNX_MIN_OPSET) to 23 (ONNX_MAX_OPSET)
        with pytest.raises(ValueError, match=f"opset_version {opset} is not supported"):
            _bytes(model, (x,), opset_version=opset)
    with pytest.raises(ValueError, match="neither an input name"):
        _bytes(model, (x,), dynamic_axes={"nope": [0]})
    with pytest.raises(ValueError, match="f .* is required"):
        ember.onnx.export(model, (x,), dynamo=False)
    with pytest.raises(ember.onnx.OnnxExporterError, match="training mode"):
        _bytes(model, (x,), training=ember.onnx.TrainingMode.TRAINING)
    with pytest.raises(ember.onnx.OnnxExporterError, match="proj_size"):
        _bytes(nn.LSTM(3, 4, proj_size=2), (ember.randn(2, 1, 3),))


def test_missing_onnx_package_names_the_extra(monkeypatch):
    monkeypatch.setattr(onnx_graph, "_LOADED", {})
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r'pip install "ember\[onnx\]"'):
        ember.onnx.export(nn.Linear(3, 2), (ember.randn(1, 3),), io.BytesIO())


def test_importing_ember_onnx_needs_no_onnx_package():
    code = ("import sys; sys.modules['onnx'] = None; import ember.onnx as o; "
            "import ember.cli.train; print(o.is_in_onnx_export())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# ---- ember train --export-onnx ------------------------------------------------------------------
def test_train_exports_the_trained_model(tmp_path):
    path = tmp_path / "digits.onnx"
    out = tmp_path / "run"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-m", "ember", "train", "--epochs", "1", "--no-tensorboard",
         "--no-progress", "--out-dir", str(out), "--export-onnx", str(path)],
        capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr
    assert f"Exported the model to {path}" in result.stdout
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    model = _setup.make_model("mlp", 1, 8, 10)
    model.load_state_dict(ember.load(str(out / "checkpoint.pt"), weights_only=False)["model"])
    model.eval()
    session = _session(path.read_bytes())
    for batch in (1, 7):
        x = ember.randn(batch, 1, 8, 8)
        with ember.no_grad():
            expected = model(x).numpy()
        got = session.run(None, {"input": x.numpy()})[0]
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_graph_is_checked_at_the_second_runs_sizes(monkeypatch):
    """The safety net behind the converters: ONNX shape inference with the inputs at the
    second run's sizes must give that run's output sizes. Here nearest upsampling along a
    dynamic axis is written the old way, as a Gather of the example's index table."""
    import ember.onnx._ops_shape as ops_shape

    def fixed_table(s, axis, table, twin):
        return s.b.node("Gather", [s.input(0), s.b.constant(table)], axis=axis)

    monkeypatch.setattr(ops_shape, "_nearest_resize", fixed_table)

    class Upsample(nn.Module):
        def forward(self, x):
            return nn.functional.interpolate(x, scale_factor=2)

    with pytest.raises(ember.onnx.OnnxExporterError,
                       match=r"output 'output' would have size \[1, 2, 8, 8\] instead of"):
        _bytes(Upsample(), (ember.randn(1, 2, 4, 4),), input_names=["x"],
               dynamic_axes={"x": {2: "h", 3: "w"}})
