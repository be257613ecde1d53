"""safetensors.torch on ember (through `ember run`), files exchanged with real torch, and the
storage API it relies on (ember/storage.py, `asarray`, `frombuffer`, `view(dtype=)`)."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import ember


def _under_ember(code, cwd):
    """Run `code` with `torch` served by ember; its stdout."""
    result = subprocess.run([sys.executable, "-m", "ember", "run", "-c", code], cwd=cwd,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _zoo():
    """One tensor of every dtype safetensors and ember share, with torch's values."""
    torch.manual_seed(0)
    values = torch.randn(2, 3)
    tensors = {name: values.to(dtype) for name, dtype in [
        ("f32", torch.float32), ("f64", torch.float64), ("f16", torch.float16),
        ("bf16", torch.bfloat16), ("i64", torch.int64), ("i32", torch.int32),
        ("i16", torch.int16), ("i8", torch.int8), ("u8", torch.uint8), ("b", torch.bool)]}
    tensors["empty"] = torch.zeros(0, 4)
    tensors["scalar"] = torch.tensor(3.5)
    return tensors


def test_files_round_trip_between_torch_and_ember(tmp_path):
    originals = _zoo()
    save_file(originals, tmp_path / "from_torch.safetensors", metadata={"source": "torch"})
    code = """
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
loaded = load_file("from_torch.safetensors")
for name in sorted(loaded):
    print(name, loaded[name].dtype, tuple(loaded[name].shape))
with safe_open("from_torch.safetensors", framework="pt") as f:
    print("metadata", f.metadata())
doubled = {k: v * 2 if v.is_floating_point() else v for k, v in loaded.items()}
save_file(doubled, "from_ember.safetensors", metadata={"source": "ember"})
"""
    lines = _under_ember(code, tmp_path).splitlines()
    assert lines[-1] == "metadata {'source': 'torch'}"
    expected = [f"{name} {t.dtype} {tuple(t.shape)}" for name, t in sorted(originals.items())]
    assert lines[:-1] == expected
    back = load_file(tmp_path / "from_ember.safetensors")
    for name, original in originals.items():
        want = original * 2 if original.is_floating_point() else original
        assert back[name].dtype == want.dtype and torch.equal(back[name], want), name


def test_models_with_tied_weights(tmp_path):
    """save_model finds tied weights through untyped_storage() and keeps one copy."""
    code = """
import torch
from safetensors.torch import load_model, save_model
torch.manual_seed(0)
class Tied(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(5, 3)
        self.head = torch.nn.Linear(3, 5, bias=False)
        self.head.weight = self.embed.weight
model = Tied()
save_model(model, "tied.safetensors")
other = Tied()
missing, unexpected = load_model(other, "tied.safetensors")
print(missing, unexpected, torch.equal(other.head.weight, model.head.weight))
print(other.head.weight is other.embed.weight)
"""
    out = _under_ember(code, tmp_path).splitlines()
    assert out == ["set() [] True", "True"]
    saved = load_file(tmp_path / "tied.safetensors")
    assert set(saved) == {"embed.weight"}  # the tie is stored once, as torch's save_model does


def test_bytes_round_trip_under_ember(tmp_path):
    code = """
import torch
from safetensors.torch import load, save
data = save({"a": torch.arange(6.0).reshape(2, 3), "n": torch.tensor([1, 2])})
back = load(data)
print(type(data).__name__, back["a"].tolist(), back["n"].dtype)
"""
    assert _under_ember(code, tmp_path).strip() == \
        "bytes [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] torch.int64"


# ---- the storage API -----------------------------------------------------------------------
def _views(lib):
    base = lib.arange(12.0).reshape(3, 4)
    return base, [base, base[1], base[:, 2], base.t(), base.reshape(12)[3:7]]


def test_untyped_storage_is_shared_by_views_as_in_torch():
    for lib in (ember, torch):
        base, views = _views(lib)
        storages = [v.untyped_storage() for v in views]
        assert {s.data_ptr() for s in storages} == {base.data_ptr()}
        assert [s.nbytes() for s in storages] == [48] * 5
        assert len(storages[1]) == 48 and storages[0].element_size() == 1
    assert ember.ones(3).untyped_storage().data_ptr() != ember.ones(3).untyped_storage().data_ptr()
    assert list(ember.ones(1).untyped_storage()) == list(torch.ones(1).untyped_storage())


def test_typed_storage_warns_and_reads_elements():
    for lib in (ember, torch):  # each warns once a process: again here
        lib.storage._reset_warn_typed_storage_removal()
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
            typed = lib.arange(6.0)[2:].storage()
        assert (typed.size(), typed.element_size(), typed.tolist()) == \
            (6, 4, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    assert str(ember.float32) == str(typed.dtype)


@pytest.mark.parametrize("make", [
    lambda lib: lib.asarray(np.arange(4.0)),
    lambda lib: lib.asarray(np.arange(4.0), dtype=lib.float32),
    lambda lib: lib.asarray([1, 2, 3]),
    lambda lib: lib.asarray([1.0, 2.0]),
    lambda lib: lib.asarray(2.5),
    lambda lib: lib.asarray(lib.ones(2), dtype=lib.int64),
    lambda lib: lib.asarray(bytearray(b"\x00\x00\x80\x3f"), dtype=lib.float32),
    lambda lib: lib.asarray(bytearray(b"\x01\x02"), dtype=lib.uint8),
    lambda lib: lib.frombuffer(bytearray(range(8)), dtype=lib.int32),
    lambda lib: lib.frombuffer(bytearray(range(8)), dtype=lib.int32, count=1, offset=4),
    lambda lib: lib.frombuffer(bytearray(5), dtype=lib.int32, count=1),
    lambda lib: lib.frombuffer(bytes(range(8)), dtype=lib.int16),
    lambda lib: lib.arange(4.0).view(dtype=lib.int32),
])
def test_asarray_frombuffer_view_dtype_match_torch(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about non-writable buffers
        ours, theirs = make(ember), make(torch)
    assert str(ours.dtype) == str(theirs.dtype) and tuple(ours.shape) == tuple(theirs.shape)
    assert np.array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("kwargs", [
    {"count": 3}, {"offset": 3}, {"offset": 8}, {"offset": -1}, {"count": 0},
])
def test_frombuffer_errors_match_torch(kwargs):
    messages = []
    for lib in (ember, torch):
        with pytest.raises(ValueError) as error:
            lib.frombuffer(bytearray(range(8)), dtype=lib.int32, **kwargs)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


def test_memory_is_shared_where_torch_shares_it():
    array = np.arange(4.0)
    ember.asarray(array)[0] = 9
    buffer = bytearray(8)
    ember.frombuffer(buffer, dtype=ember.int32)[0] = 5
    assert array[0] == 9 and buffer[:4] == b"\x05\x00\x00\x00"
    with pytest.raises(ValueError, match="can't alias tensor with dtype"):
        torch.asarray(torch.ones(2, dtype=torch.float64), dtype=torch.float32, copy=False)
    with pytest.raises(ValueError, match="can't alias tensor with dtype"):
        ember.asarray(ember.ones(2, dtype=ember.float64), dtype=ember.float32, copy=False)
    x = ember.ones(2)
    assert ember.asarray(x) is x and ember.asarray(x, copy=True) is not x


# ---- torch.load of a .safetensors path -----------------------------------------------------
def test_load_reads_safetensors_paths_as_torch_2_13_does(tmp_path):
    path = tmp_path / "weights.safetensors"
    save_file(_zoo(), path)
    ours, theirs = ember.load(path), torch.load(path)
    assert list(ours) == list(theirs)
    for name, value in theirs.items():
        assert str(ours[name].dtype) == str(value.dtype), name
        assert np.array_equal(ours[name].float().numpy(), value.float().numpy()), name
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="dict map_location is not supported"):
            lib.load(path, map_location={"cpu": "cpu"})
        with pytest.raises(RuntimeError, match="callable map_location is not supported"):
            lib.load(path, map_location=lambda storage, location: storage)


# ---- whole models, both ways -----------------------------------------------------------------
MODEL = """
import torch
def make():
    return torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.ReLU(),
                               torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 5))
"""


def _torch_model():
    namespace = {}
    exec(MODEL, namespace)  # noqa: S102 - the same model text runs under torch and under ember
    return namespace["make"]()


def test_save_model_files_load_across_torch_and_ember(tmp_path):
    """safetensors.torch.save_model in real torch -> load_model under ember gives the same
    outputs, and the other way round (BatchNorm's buffers included)."""
    from safetensors.torch import load_model, save_model

    torch.manual_seed(0)
    model = _torch_model()
    model.train()(torch.randn(4, 2, 6, 6))  # running statistics that are not the defaults
    model.eval()
    save_model(model, tmp_path / "torch.safetensors")
    x = torch.randn(3, 2, 6, 6)
    np.save(tmp_path / "x.npy", x.numpy())
    code = MODEL + """
import numpy as np
from safetensors.torch import load_model, save_model
model = make().eval()
missing, unexpected = load_model(model, "torch.safetensors")
print(sorted(missing), unexpected)
with torch.no_grad():
    np.save("ours.npy", model(torch.from_numpy(np.load("x.npy"))).numpy())
with torch.no_grad():
    for p in model.parameters():
        p.mul_(2)
save_model(model, "ember.safetensors")
"""
    assert _under_ember(code, tmp_path).strip() == "[] []"
    with torch.no_grad():
        np.testing.assert_allclose(np.load(tmp_path / "ours.npy"), model(x).numpy(),
                                   rtol=1e-5, atol=1e-6)
    back = _torch_model().eval()
    assert load_model(back, tmp_path / "ember.safetensors") == (set(), [])
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(2)
        np.testing.assert_allclose(back(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)
