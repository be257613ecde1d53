"""ember.load on hostile checkpoint files: every case is a generated file that torch.load refuses
too; ember must raise torch's exception class, never hand back bytes the file does not hold,
and allocate about what the file holds whatever it declares. Plus the file-system behaviour of
ember.save (permission bits, symlinks, temporaries of killed saves)."""

import collections
import copyreg
import io
import os
import pickle
import stat
import struct
import tracemalloc
import zipfile

import pytest
import torch

import ember


class _Storage:
    """Stands for a storage in a generated pickle: ('storage', torch.<kind>, key, 'cpu', numel)."""

    def __init__(self, kind, key, numel):
        self.kind, self.key, self.numel = kind, key, numel


class _View:
    """Stands for `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())


class _Pickler(pickle.Pickler):
    """Pickles _Storage/_View with torch's own names, whatever values they carry."""

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            kind = getattr(torch, obj.kind) if isinstance(obj.kind, str) and \
                obj.kind.endswith("Storage") else obj.kind
            return ("storage", kind, obj.key, "cpu", obj.numel)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, _View):
            return (torch._utils._rebuild_tensor_v2, obj.args)
        return NotImplemented


def _pickle(obj):
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def _archive(pickled, records=(), deflate=()):
    """A checkpoint zip with this data.pkl and these data/<key> records."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        def write(name, data):
            method = zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED
            archive.writestr(zipfile.ZipInfo(f"archive/{name}"), data, compress_type=method)
        write("data.pkl", pickled)
        write("byteorder", b"little")
        for key, data in dict(records).items():
            write(f"data/{key}", data)
        write("version", b"3\n")
    return buffer.getvalue()


def _tensor_file(numel=4, stored=16, offset=0, size=(4,), stride=(1,), kind="FloatStorage"):
    storage = _Storage(kind, "0", numel)
    return _archive(_pickle({"w": _View(storage, offset, size, stride)}), {"0": b"\1" * stored})


def _declaring(record, size):
    """A valid checkpoint whose zip headers declare `size` bytes for `record` (16 stored)."""
    data = bytearray(_tensor_file())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(f"archive/{record}")
    struct.pack_into("<II", data, info.header_offset + 18, size, size)
    entry = bytes(data).index(f"archive/{record}".encode(), info.header_offset + 31) - 46
    struct.pack_into("<II", data, entry + 20, size, size)
    return bytes(data)


def _truncated():
    whole = _tensor_file()
    return whole[:len(whole) // 2]


_BOMB = 64 << 20  # inflates to 64 MiB from about 64 KiB
HOSTILE = {
    # storage records that declare more (or other) bytes than the file holds
    "declared-64KiB-stored-16B": lambda: _tensor_file(numel=16384, size=(16384,)),
    "declared-1TiB": lambda: _tensor_file(numel=2**38, size=(2**38,)),
    "declared-3GiB": lambda: _tensor_file(numel=3 * 2**28, size=(3 * 2**28,)),
    "numel-larger-than-record": lambda: _tensor_file(numel=100, size=(4,)),
    "record-not-a-multiple": lambda: _tensor_file(numel=4, stored=15, size=(3,)),
    "negative-numel": lambda: _tensor_file(numel=-1),
    "zip-header-declares-3GiB-data-pkl": lambda: _declaring("data.pkl", 3 << 30),
    "zip-header-declares-4GiB-storage": lambda: _declaring("data/0", 2**32 - 1),
    "missing-record": lambda: _archive(
        _pickle({"w": _View(_Storage("FloatStorage", "9", 4), 0, (4,), (1,))}),
        {"0": b"\0" * 16}),
    "deflate-bomb-in-storage": lambda: _archive(
        _pickle({"w": _View(_Storage("FloatStorage", "0", 4), 0, (4,), (1,))}),
        {"0": b"\0" * _BOMB}, deflate=("data/0",)),
    # views that reach outside their storage or are malformed
    "view-past-storage": lambda: _tensor_file(size=(8,)),
    "offset-past-storage": lambda: _tensor_file(size=(2,), offset=3),
    "negative-stride": lambda: _tensor_file(size=(2,), stride=(-1,), offset=2),
    "negative-offset": lambda: _tensor_file(size=(2,), offset=-1),
    "negative-size": lambda: _tensor_file(size=(-4,)),
    "size-as-string": lambda: _tensor_file(size=("4",)),
    "size-as-float": lambda: _tensor_file(size=(4.0,)),
    "offset-as-string": lambda: _tensor_file(offset="0"),
    "stride-as-string": lambda: _tensor_file(stride=("1",)),
    "stride-overflow": lambda: _tensor_file(size=(2, 2), stride=(2**62, 1)),
    "numel-overflow": lambda: _tensor_file(size=(2**62, 2**62), stride=(0, 0)),
    # archives and pickles that are broken
    "not-a-zip": lambda: b"hello world" * 10,
    "empty-file": lambda: b"",
    "truncated-zip": _truncated,
    "no-data-pkl": lambda: _archive(b"", {}).replace(b"archive/data.pkl", b"archive/other.pk"),
    "garbage-pickle": lambda: _archive(b"\x80\x02\xff\xff\xff"),
    "truncated-pickle": lambda: _archive(_pickle({"w": [1, 2, 3]})[:-5]),
    "forbidden-global": lambda: _archive(b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00true"
                                         b"q\x01\x85q\x02Rq\x03."),
    "persistent-id-not-storage": lambda: _archive(b"\x80\x02X\x03\x00\x00\x00abcQ."),
    "plain-pickle-not-zip": lambda: pickle.dumps({"a": 1}, protocol=2),
    # a storage type given as a string: torch asks it for .dtype (AttributeError)
    "storage-type-as-string": lambda: _archive(
        b"\x80\x02(X\x07\x00\x00\x00storageX\x01\x00\x00\x000X\x01\x00\x00\x000X\x03\x00\x00"
        b"\x00cpuK\x04tQ.", {"0": b"\0" * 16}),
}

# NOTE [Where ember refuses more than torch]
# Each entry is a deliberate difference, with ember's exception class and why.
STRICTER = {
    # torch allocates (lazily) whatever bytearray a pickle asks for; ember bounds it by the file
    "bytearray-2**34": (pickle.UnpicklingError, lambda: _archive(
        b"\x80\x02c__builtin__\nbytearray\nq\x00\x8a\x05\x00\x00\x00\x00\x04\x85q\x01Rq\x02.")),
    # torch.Tensor and the legacy classes are allowed globals: torch allocates 4 GiB lazily,
    # ember refuses more elements than the file has bytes (NOTE [A pickle may not ask for more
    # than the file holds])
    "Tensor(2**15, 2**15)": (pickle.UnpicklingError, lambda: _archive(
        b"\x80\x02ctorch\nTensor\nq\x00M\x00\x80M\x00\x80\x86q\x01Rq\x02.")),
    "FloatTensor(2**15, 2**15)": (pickle.UnpicklingError, lambda: _archive(
        b"\x80\x02ctorch\nFloatTensor\nq\x00M\x00\x80M\x00\x80\x86q\x01Rq\x02.")),
    "Tensor.__new__(2**15, 2**15)": (pickle.UnpicklingError, lambda: _archive(
        b"\x80\x02ctorch\nTensor\nq\x00M\x00\x80M\x00\x80\x86q\x01\x81q\x02.")),
    # a list of memo references to a list of references: 10**8 elements from 4 KiB (torch
    # builds them all)
    "Tensor-of-a-memo-bomb": (pickle.UnpicklingError, lambda: _archive(
        b"\x80\x02ctorch\nTensor\nq\x00]q\x03(]q\x02(]q\x01(" + b"K\x01" * 100 + b"e" +
        b"h\x01" * 999 + b"e" + b"h\x02" * 999 + b"e\x85R.")),
    # torch inflates a compressed data.pkl of any size; ember refuses more than 64x inflation
    "deflate-bomb-in-data-pkl": (RuntimeError, lambda: _archive(
        pickle.dumps(b"\0" * _BOMB, protocol=2), deflate=("data.pkl",))),
}


def _error_of(load, path):
    try:
        load(path)
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return error
    return None


def _load_measuring_peak(path):
    """(exception or None, peak bytes traced by tracemalloc while ember.load ran)."""
    tracemalloc.start()
    try:
        error = _error_of(ember.load, path)
        return error, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_file_raises_torchs_exception_with_bounded_memory(tmp_path, name):
    path = tmp_path / f"{name}.pt"
    path.write_bytes(HOSTILE[name]())
    expected = _error_of(lambda p: torch.load(p, weights_only=True), path)
    assert expected is not None, "the corpus holds only files torch refuses"
    error, peak = _load_measuring_peak(path)
    assert type(error) is type(expected), f"torch: {expected!r}\nember: {error!r}"
    assert peak < 4 * path.stat().st_size + (4 << 20), f"{name}: {peak} bytes allocated"


@pytest.mark.parametrize("name", list(STRICTER))
def test_where_ember_is_stricter_than_torch(tmp_path, name):
    expected_type, make = STRICTER[name]
    path = tmp_path / f"{name}.pt"
    path.write_bytes(make())
    error, peak = _load_measuring_peak(path)
    assert type(error) is expected_type, repr(error)
    assert peak < 4 * path.stat().st_size + (4 << 20)


def test_dev_zero_is_refused_at_once():
    expected = _error_of(lambda p: torch.load(p, weights_only=True), "/dev/zero")
    error, peak = _load_measuring_peak("/dev/zero")
    assert type(error) is type(expected) is pickle.UnpicklingError
    assert "Weights only load failed" in str(error) and peak < 1 << 20


def test_forbidden_global_names_itself_and_runs_nothing(tmp_path):
    path = tmp_path / "evil.pt"
    path.write_bytes(HOSTILE["forbidden-global"]())
    with pytest.raises(pickle.UnpicklingError, match=r"(?s)Weights only load failed.*os\.system"):
        ember.load(path)


def test_record_size_error_names_the_sizes(tmp_path):
    path = tmp_path / "short.pt"
    path.write_bytes(HOSTILE["declared-64KiB-stored-16B"]())
    with pytest.raises(RuntimeError, match=r"record size \(16 bytes\).*65536 bytes = 16384 "
                                           r"elements \* 4 bytes/element"):
        ember.load(path)


def test_view_error_names_the_layout(tmp_path):
    path = tmp_path / "past.pt"
    path.write_bytes(HOSTILE["view-past-storage"]())
    with pytest.raises(RuntimeError, match=r"size \[8\].*needs 8 elements.*holds 4"):
        ember.load(path)


def test_valid_edge_layouts_still_load_like_torch(tmp_path):
    cases = {"broadcast": dict(size=(2**15, 2**15), stride=(0, 0)),
             "last-element": dict(size=(1,), offset=3),
             "empty": dict(size=(0, 5), stride=(5, 1), offset=4),
             "transposed": dict(size=(2, 2), stride=(1, 2))}
    for name, layout in cases.items():
        path = tmp_path / f"{name}.pt"
        path.write_bytes(_tensor_file(**layout))
        ours, theirs = ember.load(path)["w"], torch.load(path, weights_only=True)["w"]
        assert tuple(ours.shape) == tuple(theirs.shape) and ours.stride() == theirs.stride()
        if ours.numel() < 100:
            assert ours.tolist() == theirs.tolist()


def test_small_tensor_class_calls_in_a_pickle_load_like_torch(tmp_path):
    calls = {"Tensor(2, 3)": b"ctorch\nTensor\nK\x02K\x03\x86R.",
             "FloatTensor([1, 2])": b"ctorch\nFloatTensor\n](K\x01K\x02e\x85R.",
             "LongTensor(Size([4]))": b"ctorch\nLongTensor\nctorch\nSize\n](K\x04e\x85R\x85R.",
             "Tensor([1.0])": b"ctorch\nTensor\n](G?\xf0\x00\x00\x00\x00\x00\x00e\x85R."}
    for name, body in calls.items():
        path = tmp_path / "call.pt"
        path.write_bytes(_archive(b"\x80\x02" + body))
        ours, theirs = ember.load(path), torch.load(path, weights_only=True)
        assert tuple(ours.shape) == tuple(theirs.shape), name
        assert str(ours.dtype) == str(theirs.dtype), name


def test_user_allowed_globals(tmp_path):
    payload = _archive(b"\x80\x02cbuiltins\nmax\nq\x00K\x01K\x02\x86q\x01Rq\x02.")
    path = tmp_path / "max.pt"
    path.write_bytes(payload)
    with pytest.raises(pickle.UnpicklingError, match="builtins.max"):
        ember.load(path)
    with ember.serialization.safe_globals([max]):
        assert ember.load(path) == 2
    with pytest.raises(pickle.UnpicklingError):
        ember.load(path)


# ---- saving: what a plain open(path, "wb") would leave ----------------------------------------
def test_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        ember.save({"a": ember.ones(2)}, tmp_path / "new.pt")
        torch.save({"a": torch.ones(2)}, tmp_path / "reference.pt")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "new.pt").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "reference.pt").stat().st_mode) == 0o644


def test_existing_file_keeps_its_mode(tmp_path):
    path = tmp_path / "kept.pt"
    ember.save({"v": 1}, path)
    path.chmod(0o640)
    ember.save({"v": 2}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and ember.load(path) == {"v": 2}


def test_saving_through_a_symlink_writes_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "model.pt"
    ember.save({"v": 1}, target)
    link = tmp_path / "latest.pt"
    link.symlink_to(target)
    ember.save({"v": 2}, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert ember.load(target) == {"v": 2}
    assert sorted(os.listdir(tmp_path / "real")) == ["model.pt"]


def test_temporaries_of_dead_saves_are_removed(tmp_path):
    path = tmp_path / "model.pt"
    ember.save({"v": 1}, path)
    dead_pid = 2**22 + 12345  # above the default pid_max: no such process
    stale = tmp_path / f".model.pt.{dead_pid}-1.tmp"
    stale.write_bytes(b"half a checkpoint")
    foreign = tmp_path / ".model.pt.not-ours.tmp"
    foreign.write_bytes(b"someone else's")
    ember.save({"v": 2}, path)
    assert sorted(os.listdir(tmp_path)) == sorted([foreign.name, "model.pt"])


class _Point:
    """A user class for the allow-list tests (pickled by NEWOBJ + BUILD)."""

    def __init__(self, x):
        self.x = x

    def __reduce_ex__(self, protocol):
        return (copyreg.__newobj__, (type(self),), {"x": self.x})


class _Slotted:
    __slots__ = ("y",)

    def __init__(self, y):
        self.y = y


def test_allow_listed_classes_are_rebuilt_like_torch(tmp_path):
    path = tmp_path / "points.pt"
    with open(path, "wb") as f:
        torch.save({"p": _Point(3), "s": _Slotted(4), "t": torch.ones(2)}, f)
    for lib in (ember, torch):
        with pytest.raises(pickle.UnpicklingError, match="_Point"):
            lib.load(path, weights_only=True)
        with lib.serialization.safe_globals([_Point, _Slotted]):
            loaded = lib.load(path, weights_only=True)
        assert type(loaded["p"]) is _Point and loaded["p"].x == 3 and loaded["s"].y == 4
    assert ember.serialization.get_safe_globals() == []


@pytest.mark.parametrize("variable", ["TORCH_FORCE_WEIGHTS_ONLY_LOAD",
                                      "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"])
def test_force_weights_only_environment(tmp_path, monkeypatch, variable):
    path = tmp_path / "point.pt"
    torch.save({"p": _Point(1)}, path)
    monkeypatch.setenv(variable, "1")
    for lib in (ember, torch):
        if variable == "TORCH_FORCE_WEIGHTS_ONLY_LOAD":
            with pytest.raises(pickle.UnpicklingError):
                lib.load(path, weights_only=False)
        else:
            assert lib.load(path)["p"].x == 1
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "1")
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="Only one of"):
            lib.load(path)


def test_map_location_forms_and_cuda_storages(tmp_path):
    source = io.BytesIO()
    torch.save({"w": torch.ones(2)}, source)
    path = tmp_path / "cuda.pt"  # the same file as if saved on a GPU: location "cuda:0"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w") as rewritten:
        for name in original.namelist():
            data = original.read(name)
            if name.endswith("data.pkl"):
                data = data.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
            rewritten.writestr(name, data)
    forms = [None, "cpu", "cuda", {"cuda:0": "cpu"}, lambda storage, location: storage,
             lambda storage, location: None]
    for form in forms:
        theirs = _error_of(lambda p: torch.load(p, map_location=form), path)
        ours = _error_of(lambda p: ember.load(p, map_location=form), path)
        assert type(ours) is type(theirs), (form, ours, theirs)
    assert ember.load(path, map_location=ember.device("cpu"))["w"].tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="pickle_module"):
        ember.load(path, pickle_module=pickle, weights_only=True)
