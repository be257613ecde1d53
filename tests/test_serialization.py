"""ember.save / ember.load: PyTorch's zip format both ways, shared storage, Parameters,
optimizer state, the weights_only allow-list against malicious pickles, and atomic writes."""

import collections
import io
import os
import pathlib
import pickle
import signal
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
import torch

import ember

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def _array(name, shape=(3, 4)):
    rng = np.random.default_rng(0)
    if name == "bool":
        return np.asarray(rng.random(shape) < 0.5)
    if name.startswith(("int", "uint")):
        low = -100 if name.startswith("int") else 0
        return np.asarray(rng.integers(low, 100, shape).astype(name))
    return np.asarray(rng.normal(size=shape).astype(name))


def _same(ember_tensor, torch_tensor):
    assert str(ember_tensor.dtype) == str(torch_tensor.dtype)
    assert tuple(ember_tensor.shape) == tuple(torch_tensor.shape)
    np.testing.assert_array_equal(ember_tensor.numpy(), torch_tensor.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_ember_save_loads_in_torch(tmp_path, dtype):
    values = {"x": ember.tensor(_array(dtype)), "scalar": ember.tensor(_array(dtype, ())),
              "empty": ember.tensor(_array(dtype, (0, 2)))}
    ember.save(values, tmp_path / "e.pt")
    loaded = torch.load(tmp_path / "e.pt", weights_only=True)
    for key, value in values.items():
        _same(value, loaded[key])


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_save_loads_in_ember(tmp_path, dtype):
    values = {"x": torch.from_numpy(_array(dtype)), "scalar": torch.from_numpy(_array(dtype, ())),
              "empty": torch.from_numpy(_array(dtype, (0, 2)))}
    torch.save(values, tmp_path / "t.pt")
    loaded = ember.load(tmp_path / "t.pt")
    for key, value in values.items():
        assert isinstance(loaded[key], ember.Tensor)
        _same(loaded[key], value)


def test_record_layout_mirrors_torch(tmp_path):
    ember.save({"a": ember.ones(3)}, tmp_path / "model.pt")
    torch.save({"a": torch.ones(3)}, tmp_path / "reference.pt")
    names = zipfile.ZipFile(tmp_path / "model.pt").namelist()
    expected = zipfile.ZipFile(tmp_path / "reference.pt").namelist()
    assert names == [n.replace("reference/", "model/") for n in expected]
    archive = zipfile.ZipFile(tmp_path / "model.pt")
    assert archive.read("model/byteorder") == b"little"
    assert archive.read("model/version") == b"3\n"
    assert archive.read("model/.format_version") == b"1"
    assert len(archive.read("model/.data/serialization_id")) == 40
    raw = (tmp_path / "model.pt").read_bytes()
    for info in archive.infolist():  # every record's data starts on a 64-byte boundary
        start = info.header_offset + 30 + int.from_bytes(raw[info.header_offset + 26:
                                                             info.header_offset + 28], "little")
        start += int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
        assert start % 64 == 0, info.filename


def test_views_share_storage_in_both_libraries(tmp_path):
    base = ember.arange(12.0)
    values = {"base": base, "tail": base[2:], "t": base.view(3, 4).t(),
              "col": base.view(3, 4)[:, 1]}
    ember.save(values, tmp_path / "e.pt")
    assert len([n for n in zipfile.ZipFile(tmp_path / "e.pt").namelist() if "/data/" in n]) == 1
    t = torch.load(tmp_path / "e.pt", weights_only=True)
    assert t["t"].stride() == (1, 4) and t["tail"].storage_offset() == 2
    t["base"][5] = 100.0
    assert t["tail"][3] == 100.0 and t["t"][1, 1] == 100.0 and t["col"][1] == 100.0
    back = ember.load(tmp_path / "e.pt")
    for key, value in values.items():
        np.testing.assert_array_equal(back[key].numpy(), value.numpy())
    back["base"].numpy()[5] = -1.0
    assert back["tail"][3].item() == -1.0 and back["t"][1, 1].item() == -1.0
    # ...and torch's views load into ember as views of one array
    x = torch.arange(10.0)
    torch.save({"x": x, "v": x[3:7].view(2, 2)}, tmp_path / "t.pt")
    loaded = ember.load(tmp_path / "t.pt")
    assert np.shares_memory(loaded["x"].numpy(), loaded["v"].numpy())
    assert loaded["v"].tolist() == [[3.0, 4.0], [5.0, 6.0]]
    # a view saved again after loading still shares
    ember.save(loaded, tmp_path / "again.pt")
    again = torch.load(tmp_path / "again.pt", weights_only=True)
    assert again["v"].untyped_storage().data_ptr() == again["x"].untyped_storage().data_ptr()


def test_same_tensor_twice_and_negative_strides(tmp_path):
    t = ember.ones(3)
    flipped = ember.Tensor._make(np.arange(5.0)[::-1])  # NumPy view with a negative stride
    ember.save([t, t, flipped], tmp_path / "e.pt")
    a, b, c = torch.load(tmp_path / "e.pt", weights_only=True)
    assert a is b and c.tolist() == [4.0, 3.0, 2.0, 1.0, 0.0]
    x, y, _ = ember.load(tmp_path / "e.pt")
    assert x is y


def test_parameters_round_trip_both_ways(tmp_path):
    from ember.nn.parameter import Parameter

    values = {"w": Parameter(ember.ones(2, 3)), "frozen": Parameter(ember.zeros(2), False)}
    ember.save(values, tmp_path / "e.pt")
    t = torch.load(tmp_path / "e.pt", weights_only=True)
    assert isinstance(t["w"], torch.nn.Parameter) and t["w"].requires_grad
    assert isinstance(t["frozen"], torch.nn.Parameter) and not t["frozen"].requires_grad
    torch.save(t, tmp_path / "t.pt")
    back = ember.load(tmp_path / "t.pt")
    assert isinstance(back["w"], Parameter) and back["w"].requires_grad
    assert not back["frozen"].requires_grad and back["w"].tolist() == [[1.0] * 3] * 2


def test_plain_values_and_containers(tmp_path):
    values = {"int": 3, "float": 2.5, "str": "hello", "bytes": b"\x00\xff", "none": None,
              "bool": True, "tuple": (1, (2, ember.ones(1))), "list": [ember.zeros(2), 1.5],
              "set": {1, 2}, "ordered": collections.OrderedDict(b=1, a=2),
              "dtype": ember.float16, "size": ember.Size([2, 3]), "device": ember.device("cpu")}
    ember.save(values, tmp_path / "e.pt")
    t = torch.load(tmp_path / "e.pt", weights_only=True)
    assert t["dtype"] is torch.float16 and t["size"] == torch.Size([2, 3])
    assert t["bytes"] == b"\x00\xff" and t["set"] == {1, 2} and t["device"] == torch.device("cpu")
    back = ember.load(tmp_path / "e.pt")
    assert back["ordered"] == values["ordered"] and isinstance(back["ordered"],
                                                               collections.OrderedDict)
    assert back["dtype"] is ember.float16 and back["size"] == ember.Size([2, 3])
    assert back["tuple"][1][1].tolist() == [1.0] and back["list"][1] == 1.5
    for key in ("int", "float", "str", "bytes", "none", "bool", "set"):
        assert back[key] == values[key]


def test_optimizer_and_scheduler_state_dicts_cross_libraries(tmp_path):
    p = ember.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = ember.optim.Adam([p], lr=0.1, amsgrad=True)
    scheduler = ember.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4])
    for _ in range(3):
        p.grad = ember.tensor(np.array([0.1, -0.2, 0.3], np.float32))
        opt.step()
        scheduler.step()
    ember.save({"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()},
               tmp_path / "ckpt.pt")
    loaded = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    tp = torch.ones(3, requires_grad=True)
    topt = torch.optim.Adam([tp], lr=0.1, amsgrad=True)
    topt.load_state_dict(loaded["optimizer"])
    assert topt.state[tp]["step"].item() == 3.0
    tsched = torch.optim.lr_scheduler.MultiStepLR(topt, milestones=[2, 4])
    tsched.load_state_dict(loaded["scheduler"])
    assert tsched.get_last_lr() == scheduler.get_last_lr()
    # and back: torch's checkpoint into a fresh ember optimizer
    torch.save({"optimizer": topt.state_dict()}, tmp_path / "t.pt")
    fresh = ember.optim.Adam([ember.ones(3, requires_grad=True)], lr=0.5, amsgrad=True)
    fresh.load_state_dict(ember.load(tmp_path / "t.pt")["optimizer"])
    state = next(iter(fresh.state.values()))
    np.testing.assert_array_equal(state["exp_avg"].numpy(), opt.state[p]["exp_avg"].numpy())
    assert fresh.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_file_objects_and_pathlike(tmp_path):
    buffer = io.BytesIO()
    ember.save({"a": ember.ones(2)}, buffer)
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True)["a"].tolist() == [1.0, 1.0]
    buffer.seek(0)
    assert ember.load(buffer)["a"].tolist() == [1.0, 1.0]
    torch_buffer = io.BytesIO()
    torch.save(torch.arange(3), torch_buffer)
    torch_buffer.seek(0)
    assert ember.load(torch_buffer, map_location="cpu").tolist() == [0, 1, 2]
    path = pathlib.Path(tmp_path) / "p.pt"
    ember.save(ember.ones(1), path)
    with open(path, "rb") as f:
        assert ember.load(f, map_location=lambda storage, location: storage).tolist() == [1.0]


class Payload:
    """Unpickling this would create the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _archive_with(pickled: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickled)
        archive.writestr("archive/byteorder", b"little")
        archive.writestr("archive/version", b"3\n")
    return buffer.getvalue()


def _payloads(marker):
    command = f"touch {marker}".encode()
    return {
        "reduce-os-system": pickle.dumps(Payload(marker), protocol=2),
        "posix-system": b"cposix\nsystem\n(S'" + command + b"'\ntR.",
        "builtins-eval": b"cbuiltins\neval\n(S'open(\"" + str(marker).encode() +
                         b"\", \"w\")'\ntR.",
        "builtins-exec": b"c__builtin__\nexec\n(S'open(\"" + str(marker).encode() +
                         b"\", \"w\")'\ntR.",
        "subprocess-popen": b"csubprocess\nPopen\n((S'touch'\nS'" + str(marker).encode() +
                            b"'\nltR.",
        "getattr-chain": b"cbuiltins\ngetattr\n(cos\nS'system'\ntR(S'" + command + b"'\ntR.",
        "inst-opcode": b"(S'" + command + b"'\nios\nsystem\n.",
        "build-on-ordereddict": b"\x80\x02ccollections\nOrderedDict\n)R}S'__class__'\n"
                                b"cos\nsystem\nsb.",
        "arbitrary-global": b"\x80\x02ctest_serialization\nPayload\nq\x00.",
    }


@pytest.mark.parametrize("name", list(_payloads("m")))
def test_malicious_pickles_are_rejected_without_side_effects(tmp_path, name):
    marker = tmp_path / "pwned"
    archive = _archive_with(_payloads(marker)[name])
    path = tmp_path / "evil.pt"
    path.write_bytes(archive)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ember.load(path)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ember.load(io.BytesIO(archive), weights_only=True)
    assert not marker.exists()


def test_non_zip_file_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps(Payload(marker), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        torch.load(path, weights_only=True)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ember.load(path)
    assert not marker.exists()


class Box:
    """A trusted object for weights_only=False."""

    def __init__(self, tensor, note):
        self.tensor, self.note = tensor, note


def test_weights_only_false_loads_whole_objects(tmp_path):
    ember.save({"box": Box(ember.ones(2), "hi"), "opt_cls": ember.optim.SGD}, tmp_path / "o.pt")
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global"):
        ember.load(tmp_path / "o.pt")
    loaded = ember.load(tmp_path / "o.pt", weights_only=False)
    assert isinstance(loaded["box"], Box) and loaded["box"].note == "hi"
    assert isinstance(loaded["box"].tensor, ember.Tensor)
    assert loaded["opt_cls"] is ember.optim.SGD


def test_failed_save_leaves_target_and_no_temp_file(tmp_path):
    path = tmp_path / "model.pt"
    ember.save({"version": 1}, path)
    with pytest.raises((pickle.PicklingError, AttributeError)):
        ember.save({"bad": lambda: None}, path)
    assert ember.load(path) == {"version": 1}
    assert os.listdir(tmp_path) == ["model.pt"]


def test_killed_save_leaves_previous_file_intact(tmp_path):
    path = tmp_path / "model.pt"
    ember.save({"version": ember.tensor([1])}, path)
    script = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        import ember
        from ember import _checkpoint_writer

        original = _checkpoint_writer._write_record

        def slow_write(archive, name, data):
            original(archive, name, data)
            if name.endswith("/data/0"):  # half the storages are on disk: crash here
                print("writing", flush=True)
                time.sleep(60)

        _checkpoint_writer._write_record = slow_write
        big = {{"a": ember.tensor(np.ones(4_000_000, np.float32)),
                "b": ember.tensor(np.ones(4_000_000, np.float32))}}
        ember.save(big, {str(path)!r})
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                             env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    try:
        assert child.stdout.readline().strip() == b"writing"
        temps = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
        assert temps and os.path.getsize(tmp_path / temps[0]) > 16_000_000
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    assert ember.load(path)["version"].tolist() == [1]
    assert torch.load(path, weights_only=True)["version"].tolist() == [1]
    ember.save({"version": ember.tensor([2])}, path)  # removes the dead save's temporary
    assert os.listdir(tmp_path) == ["model.pt"]


def test_plain_pickle_of_tensors_still_works():
    t = ember.tensor(np.arange(6.0).reshape(2, 3)).t()
    back = pickle.loads(pickle.dumps(t))
    assert back.tolist() == t.tolist() and back.dtype == t.dtype
    r = ember.ones(2, requires_grad=True)
    assert pickle.loads(pickle.dumps(r)).requires_grad


def test_many_tensors_keep_order_and_values(tmp_path):
    values = collections.OrderedDict((f"layer{i}.weight", ember.full((4, 4), float(i)))
                                     for i in range(300))
    ember.save(values, tmp_path / "many.pt")
    loaded = torch.load(tmp_path / "many.pt", weights_only=True)
    assert list(loaded) == list(values)
    assert [t[0, 0].item() for t in loaded.values()] == [float(i) for i in range(300)]


def test_module_state_dicts_and_whole_modules_cross_libraries(tmp_path):
    reference = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    torch.save(reference.state_dict(), tmp_path / "t.pt")
    model = ember.nn.Sequential(ember.nn.Linear(2, 3), ember.nn.ReLU(), ember.nn.Linear(3, 1))
    model.load_state_dict(ember.load(tmp_path / "t.pt"))
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(4, 2)
    expected = reference(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(model(ember.tensor(x)).detach().numpy(), expected, rtol=1e-6)
    ember.save(model.state_dict(), tmp_path / "e.pt")
    fresh = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    fresh.load_state_dict(torch.load(tmp_path / "e.pt", weights_only=True))
    np.testing.assert_allclose(fresh(torch.from_numpy(x)).detach().numpy(), expected, rtol=1e-6)
    # A whole pickled torch module (trusted) becomes the ember module of the same name.
    torch.save(reference, tmp_path / "whole.pt")
    whole = ember.load(tmp_path / "whole.pt", weights_only=False)
    assert type(whole) is ember.nn.Sequential and isinstance(whole[0], ember.nn.Linear)
    np.testing.assert_allclose(whole(ember.tensor(x)).detach().numpy(), expected, rtol=1e-6)
    # ...and a whole ember module is written under torch's class names, so torch loads it.
    ember.save(model, tmp_path / "ember_whole.pt")
    loaded = torch.load(tmp_path / "ember_whole.pt", weights_only=False)
    assert type(loaded) is torch.nn.Sequential and isinstance(loaded[0], torch.nn.Linear)
    np.testing.assert_allclose(loaded(torch.from_numpy(x)).detach().numpy(), expected, rtol=1e-6)
    assert type(ember.load(tmp_path / "ember_whole.pt", weights_only=False)) is ember.nn.Sequential


def test_whole_vision_model_round_trips_through_torch_names(tmp_path):
    model = ember.vision.models.resnet18(num_classes=3).eval()
    ember.save(model, tmp_path / "resnet.pt")
    with zipfile.ZipFile(tmp_path / "resnet.pt") as archive:
        pickled = archive.read("resnet/data.pkl")
    assert b"torchvision.models.resnet" in pickled and b"ember" not in pickled
    back = ember.load(tmp_path / "resnet.pt", weights_only=False)
    x = ember.ones(1, 3, 32, 32)
    np.testing.assert_array_equal(back(x).detach().numpy(), model(x).detach().numpy())


@pytest.mark.parametrize("dtype", ["bfloat16", "complex64", "complex128"])
def test_bfloat16_and_complex_checkpoints_both_ways(tmp_path, dtype):
    reference = torch.randn(3, 4, dtype=torch.float64 if dtype == "bfloat16" else
                            getattr(torch, dtype)).to(getattr(torch, dtype))
    torch.save({"t": reference, "view": reference[1:, ::2]}, tmp_path / "t.pt")
    loaded = ember.load(tmp_path / "t.pt")
    assert str(loaded["t"].dtype) == str(reference.dtype)
    assert tuple(loaded["view"].shape) == tuple(reference[1:, ::2].shape)
    ember.save(loaded, tmp_path / "e.pt")
    back = torch.load(tmp_path / "e.pt", weights_only=True)
    assert torch.equal(back["t"], reference) and torch.equal(back["view"], reference[1:, ::2])


class _Tagged(ember.Tensor):
    """A program's Tensor subclass (module level, so pickle finds it again)."""


def test_tensor_subclass_keeps_its_class_and_attributes(tmp_path):
    t = ember.arange(3.0).as_subclass(_Tagged)
    t.meta = {"unit": "m"}
    path = tmp_path / "sub.pt"
    ember.save({"t": t}, path)
    loaded = ember.load(path, weights_only=False)["t"]
    assert type(loaded) is _Tagged and loaded.meta == {"unit": "m"}
    assert loaded.tolist() == [0.0, 1.0, 2.0]
    again = pickle.loads(pickle.dumps(t))
    assert type(again) is _Tagged and again.meta == {"unit": "m"}


@pytest.mark.parametrize("legacy", [False, True])
def test_save_into_a_missing_directory_raises_torchs_error(legacy, tmp_path):
    """The zip writer's 'Parent directory ... does not exist.'; the legacy format's open()."""
    path = str(tmp_path / "missing" / "x.pt")
    errors = []
    for lib in (ember, torch):
        with pytest.raises(Exception) as info:
            lib.save(lib.ones(1), path, _use_new_zipfile_serialization=not legacy)
        errors.append((info.type, str(info.value)))
    assert errors[0] == errors[1]
