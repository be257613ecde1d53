"""torch.hub's cache folder and downloads, against torch.hub, with file:// URLs (no network)."""

import hashlib
import os

import pytest
import torch
import torch.hub

import ember
import ember.hub


@pytest.fixture
def hub_dirs(tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ember.hub.set_dir(ours)
    torch.hub.set_dir(str(theirs))
    yield ours, theirs
    ember.hub._HUB_DIR[0] = None
    torch.hub._hub_dir = None


def test_default_dir_is_torchs(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    assert ember.hub.get_dir() == torch.hub.get_dir()


def test_set_dir_moves_the_cache(hub_dirs):
    ours, theirs = hub_dirs
    assert ember.hub.get_dir() == str(ours) and torch.hub.get_dir() == str(theirs)


def _source(tmp_path, payload=b"checkpoint bytes"):
    path = tmp_path / "weights-abc.bin"
    path.write_bytes(payload)
    return path, hashlib.sha256(payload).hexdigest()


@pytest.mark.parametrize("prefix", ["none", "good", "bad"])
def test_download_url_to_file_checks_the_hash_like_torch(tmp_path, prefix):
    source, digest = _source(tmp_path)
    hash_prefix = {"none": None, "good": digest[:10], "bad": "0000"}[prefix]
    outcomes = []
    for lib in (ember, torch):
        dst = tmp_path / f"{lib.__name__}.bin"
        try:
            lib.hub.download_url_to_file(source.as_uri(), str(dst), hash_prefix, progress=False)
            outcomes.append(("ok", dst.read_bytes()))
        except RuntimeError as error:
            outcomes.append(("raises", str(error), dst.exists()))
    assert outcomes[0] == outcomes[1]
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["weights-abc.bin"] + (["ember.bin", "torch.bin"] if prefix != "bad" else []))


def test_load_state_dict_from_url_caches_in_the_hub_dir(hub_dirs, tmp_path):
    ours, theirs = hub_dirs
    path = tmp_path / "tiny.pth"
    torch.save({"w": torch.arange(3.0)}, path)
    loaded = ember.hub.load_state_dict_from_url(path.as_uri(), progress=False)
    expected = torch.hub.load_state_dict_from_url(path.as_uri(), progress=False)
    assert loaded["w"].tolist() == expected["w"].tolist()
    assert os.listdir(ours / "checkpoints") == os.listdir(theirs / "checkpoints") == ["tiny.pth"]


def test_remote_code_entry_points_refuse():
    for name in ("load", "list", "help"):
        with pytest.raises(RuntimeError, match="hubconf.py"):
            getattr(ember.hub, name)("pytorch/vision", "resnet18")
