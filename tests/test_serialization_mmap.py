"""ember.load(mmap=True) (ember/_checkpoint_reader.py): tensors view the mapped file, private or
shared as torch's mmap options say; files cross between torch and ember both ways."""

import io
import mmap

import numpy as np
import pytest
import torch

import ember


def _state(lib):
    return {"w": lib.arange(12.0).reshape(3, 4), "i": lib.arange(5), "h": lib.ones(3).half(),
            "view": lib.arange(6.0)[2:]}


def _same(ours, theirs):
    assert set(ours) == set(theirs)
    for key in theirs:
        assert str(ours[key].dtype) == str(theirs[key].dtype), key
        assert np.array_equal(ours[key].numpy(), theirs[key].numpy()), key


@pytest.mark.parametrize("writer", ["ember", "torch"])
def test_mmap_load_equals_a_plain_load(writer, tmp_path):
    path = tmp_path / "ckpt.pt"
    (ember if writer == "ember" else torch).save(_state(ember if writer == "ember" else torch),
                                                 path)
    _same(ember.load(path, mmap=True), torch.load(path))
    _same(ember.load(path, mmap=True), ember.load(path))
    _same(torch.load(path, mmap=True), torch.load(path))  # torch maps ember's files too


def test_private_mapping_keeps_writes_in_memory(tmp_path):
    path = tmp_path / "ckpt.pt"
    ember.save({"w": ember.zeros(4)}, path)
    before = path.read_bytes()
    loaded = ember.load(path, mmap=True)
    loaded["w"].add_(5)
    assert loaded["w"].tolist() == [5.0] * 4
    assert path.read_bytes() == before
    assert ember.serialization.get_default_mmap_options() == mmap.MAP_PRIVATE


def test_shared_mapping_writes_through_to_the_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    ember.save({"w": ember.zeros(4)}, path)
    ember.serialization.set_default_mmap_options(mmap.MAP_SHARED)
    try:
        loaded = ember.load(path, mmap=True)
        loaded["w"].add_(5)
        del loaded
    finally:
        ember.serialization.set_default_mmap_options(mmap.MAP_PRIVATE)
    assert ember.load(path)["w"].tolist() == [5.0] * 4
    assert torch.load(path)["w"].tolist() == [5.0] * 4


def test_mmap_needs_a_path_and_a_zip_checkpoint(tmp_path):
    path = tmp_path / "ckpt.pt"
    ember.save({"w": ember.zeros(2)}, path)
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="f must be a file path"):
            lib.load(io.BytesIO(path.read_bytes()), mmap=True)
    legacy = tmp_path / "legacy.pt"
    torch.save({"w": torch.zeros(2)}, legacy, _use_new_zipfile_serialization=False)
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="mmap can only be used with files saved with"):
            lib.load(legacy, mmap=True)
    with pytest.raises(ValueError, match="expected mmap.MAP_PRIVATE or mmap.MAP_SHARED"):
        ember.serialization.set_default_mmap_options(7)


def test_mmap_of_a_truncated_file_raises(tmp_path):
    path = tmp_path / "ckpt.pt"
    ember.save({"w": ember.zeros(1000)}, path)
    data = path.read_bytes()
    record = data.find(b"\x00" * 4000)  # the storage's bytes
    path.write_bytes(data[:record + 100])
    with pytest.raises(RuntimeError):
        ember.load(path, mmap=True)
