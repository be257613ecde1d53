"""from_numpy / as_tensor of read-only NumPy arrays (NOTE [Non-writable NumPy arrays]):
torch's once-per-process UserWarning, then writes reach the array's memory, as in torch."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import ember
from ember.ops import _creation_numpy


@pytest.fixture
def fresh_warning(monkeypatch):
    """ember's warn-once flag reset for the test (torch's is per process)."""
    monkeypatch.setattr(_creation_numpy, "_WARNED", [False])


def _read_only(array):
    array.flags.writeable = False
    return array


def test_read_only_array_warns_once_then_writes_like_torch(fresh_warning):
    arrays = [_read_only(np.arange(4.0)) for _ in range(2)]
    with pytest.warns(UserWarning, match="The given NumPy array is not writable") as record:
        e = ember.from_numpy(arrays[0])
        ember.from_numpy(arrays[0])  # once per process, as TORCH_WARN_ONCE
    assert len([w for w in record if "not writable" in str(w.message)]) == 1
    assert record[0].filename == __file__
    t = torch.from_numpy(arrays[1])
    for lib_tensor in (e, t):
        lib_tensor.add_(1)
        lib_tensor[0] = 5
    np.testing.assert_array_equal(arrays[0], arrays[1])
    np.testing.assert_array_equal(arrays[0], [5.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_read_only_strided_view_and_as_tensor(fresh_warning, recwarn):
    base = np.arange(6, dtype=np.int16).reshape(2, 3)
    view = _read_only(base[:, ::2])
    e = ember.from_numpy(view)
    assert e.stride() == (3, 2)
    e.mul_(2)
    np.testing.assert_array_equal(base, [[0, 1, 4], [6, 4, 10]])
    shared = ember.as_tensor(_read_only(np.ones(3)))
    shared.zero_()
    assert shared.sum().item() == 0
    assert len([w for w in recwarn if "not writable" in str(w.message)]) == 1


def test_writable_arrays_do_not_warn(fresh_warning, recwarn):
    array = np.arange(3.0)
    ember.from_numpy(array).add_(1)
    np.testing.assert_array_equal(array, [1.0, 2.0, 3.0])
    assert not [w for w in recwarn if "not writable" in str(w.message)]


def test_read_only_memory_map_stays_read_only(fresh_warning, tmp_path):
    # NOTE: torch writes into the read-only mapping (a crash); ember refuses the write
    path = tmp_path / "data.bin"
    np.arange(4.0).tofile(path)
    with pytest.warns(UserWarning, match="not writable"):
        t = ember.from_numpy(np.memmap(path, dtype=np.float64, mode="r"))
    with pytest.raises(ValueError, match="read-only"):
        t.add_(1)


def test_warning_text_is_torchs():
    script = textwrap.dedent("""
        import warnings, numpy as np
        import torch, ember
        warnings.simplefilter("always")
        messages = []
        for lib in (torch, ember):
            a = np.arange(3.0); a.flags.writeable = False
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                lib.from_numpy(a); lib.from_numpy(a)
            messages.append([(x.category.__name__, str(x.message)) for x in w])
        assert messages[0] == messages[1], messages
        print(len(messages[0]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
