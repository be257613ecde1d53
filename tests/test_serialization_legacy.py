"""PyTorch's legacy checkpoint format (`_use_new_zipfile_serialization=False`) both ways, and
torch.serialization's settings: default load byte order, CRC option, the weights_only messages
and `get_unsafe_globals_in_checkpoint`."""

import io
import pickle
import zipfile

import numpy as np
import pytest
import torch

import ember

LIBS = {"ember": ember, "torch": torch}


def _payload(lib):
    """Tensors of every storage kind a checkpoint meets: views sharing a storage, a transpose,
    16-bit and complex dtypes, a Parameter, an empty tensor, a module's state_dict."""
    lib.manual_seed(0)
    x = lib.arange(12.0)
    return {"x": x, "v": x[3:7], "t": x.view(3, 4).t(), "h": lib.ones(3, dtype=lib.float16),
            "b": lib.full((2,), 1.5, dtype=lib.bfloat16), "i": lib.tensor([[1, -2]]),
            "bool": lib.tensor([True, False]), "c": lib.tensor([1 + 2j]),
            "p": lib.nn.Parameter(lib.ones(2)), "e": lib.zeros(0, 3), "n": 5,
            "sd": lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3)).state_dict()}


def _legacy_bytes(lib, obj):
    buffer = io.BytesIO()
    lib.save(obj, buffer, _use_new_zipfile_serialization=False)
    return buffer.getvalue()


def _assert_same_payload(loaded, reference):
    assert sorted(loaded) == sorted(reference)
    for key, value in reference.items():
        got = loaded[key]
        if key == "sd":
            _assert_same_payload(got, value)
        elif hasattr(value, "dtype"):
            assert str(got.dtype).split(".")[-1] == str(value.dtype).split(".")[-1], key
            assert tuple(got.shape) == tuple(value.shape) and got.stride() == value.stride(), key
            assert type(got).__name__ == type(value).__name__, key
            as_numbers = (lambda t: t.detach().numpy()) if value.is_complex() else \
                (lambda t: t.detach().double().numpy())
            np.testing.assert_array_equal(as_numbers(got), as_numbers(value))
        else:
            assert got == value


@pytest.mark.parametrize("weights_only", [True, False])
@pytest.mark.parametrize("writer,reader", [("ember", "torch"), ("torch", "ember"),
                                           ("ember", "ember")])
def test_legacy_checkpoints_load_across_libraries(writer, reader, weights_only):
    data = _legacy_bytes(LIBS[writer], _payload(LIBS[writer]))
    assert not data.startswith(b"PK")  # not a zip
    loaded = LIBS[reader].load(io.BytesIO(data), weights_only=weights_only)
    _assert_same_payload(loaded, _payload(LIBS[reader]))
    loaded["v"][0] = 100.0  # the views share one storage again
    assert loaded["x"][3].item() == 100.0 and loaded["t"][3, 0].item() == 100.0


def test_legacy_whole_module_both_ways(tmp_path):
    for writer, reader in (("ember", "torch"), ("torch", "ember")):
        LIBS[writer].manual_seed(0)
        model = LIBS[writer].nn.Sequential(LIBS[writer].nn.Linear(3, 2))
        path = tmp_path / f"{writer}.pt"
        LIBS[writer].save(model, path, _use_new_zipfile_serialization=False)
        with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
            LIBS[reader].load(path)
        loaded = LIBS[reader].load(path, weights_only=False)
        assert type(loaded).__name__ == "Sequential"
        np.testing.assert_array_equal(loaded[0].weight.detach().numpy(),
                                      model[0].weight.detach().numpy())


def _error_type(lib, data):
    try:
        lib.load(io.BytesIO(data))
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error).__name__
    return None


def test_damaged_legacy_files_fail_as_in_torch():
    data = _legacy_bytes(torch, {"w": torch.arange(6.0), "b": torch.ones(2, dtype=torch.int64)})
    cuts = [0, 1, 10, 12, 40, 100, len(data) // 2, len(data) - 60, len(data) - 8, len(data) - 1]
    for cut in cuts:
        assert _error_type(ember, data[:cut]) == _error_type(torch, data[:cut]), cut
    first_count = data.index(np.int64(2).tobytes())  # the int64 storage's element count
    wrong_count = data[:first_count] + np.int64(3).tobytes() + data[first_count + 8:]
    assert _error_type(torch, wrong_count) == _error_type(ember, wrong_count) == "RuntimeError"


def test_untrusted_legacy_file_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    data = _legacy_bytes(ember, {"x": Payload()})
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ember.load(io.BytesIO(data))
    assert not marker.exists()


def test_legacy_file_refuses_mmap(tmp_path):
    path = tmp_path / "legacy.pt"
    ember.save({"w": ember.zeros(2)}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match="mmap can only be used"):
        ember.load(path, mmap=True)


class Custom:
    """A class outside the weights_only allow-list."""


def test_unsupported_global_message_matches_torch(tmp_path):
    path = tmp_path / "custom.pt"
    torch.save({"c": Custom()}, path)
    messages = []
    for lib in (ember, torch):
        with pytest.raises(pickle.UnpicklingError) as caught:
            lib.load(path)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_unsafe_globals_in_checkpoint_match_torch(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"c": Custom(), "m": torch.nn.Linear(2, 2), "w": torch.ones(2)}, path)
    found = [sorted(lib.serialization.get_unsafe_globals_in_checkpoint(path))
             for lib in (ember, torch)]
    assert found[0] == found[1] and f"{__name__}.Custom" in found[0]
    with ember.serialization.safe_globals([Custom]):
        assert f"{__name__}.Custom" not in ember.serialization.get_unsafe_globals_in_checkpoint(
            path)
    legacy = io.BytesIO(_legacy_bytes(ember, {"w": ember.ones(1)}))
    for lib in (ember, torch):
        legacy.seek(0)
        with pytest.raises(ValueError, match="Expected input to be a checkpoint"):
            lib.serialization.get_unsafe_globals_in_checkpoint(legacy)


def _without_byteorder(data):
    """A zip checkpoint rewritten without its `byteorder` record."""
    source, target = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as out:
        for info in source.infolist():
            if not info.filename.endswith("/byteorder"):
                out.writestr(info, source.read(info.filename))
    return target.getvalue()


@pytest.mark.parametrize("order", ["LITTLE", "BIG", "NATIVE", None])
def test_default_load_endianness_for_files_without_byteorder(order):
    buffer = io.BytesIO()
    torch.save({"w": torch.arange(4, dtype=torch.int32)}, buffer)
    data = _without_byteorder(buffer.getvalue())
    results = []
    for lib in (ember, torch):
        setting = None if order is None else getattr(lib.serialization.LoadEndianness, order)
        before = lib.serialization.get_default_load_endianness()
        lib.serialization.set_default_load_endianness(setting)
        try:
            assert lib.serialization.get_default_load_endianness() == setting
            results.append(lib.load(io.BytesIO(data))["w"].tolist())
        finally:
            lib.serialization.set_default_load_endianness(before)
    assert results[0] == results[1]
    for lib in (ember, torch):
        with pytest.raises(TypeError, match="Invalid argument type"):
            lib.serialization.set_default_load_endianness("big")


def test_crc32_option_round_trips_like_torch():
    for lib in (ember, torch):
        assert lib.serialization.get_crc32_options() is True
        lib.serialization.set_crc32_options(False)
        try:
            assert lib.serialization.get_crc32_options() is False
        finally:
            lib.serialization.set_crc32_options(True)
