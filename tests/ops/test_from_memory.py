"""torch.from_file: tensors over memory-mapped files, private or shared with the file."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same


def _file(tmp_path, name="data.bin"):
    path = tmp_path / name
    np.arange(10, dtype=np.float32).tofile(path)
    return str(path)


@pytest.mark.parametrize("kwargs", [dict(size=6), dict(size=4, dtype="int32"),
                                    dict(shared=True, size=3, dtype="float64"), dict()])
def test_from_file_reads_the_files_elements(tmp_path, kwargs):
    path = _file(tmp_path)
    results = []
    for lib in (ember, torch):
        args = {k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}
        results.append(lib.from_file(path, **args))
    assert_same(*results, exact=True)


def test_private_writes_stay_in_memory_shared_ones_reach_the_file(tmp_path):
    for lib in (ember, torch):
        path = _file(tmp_path, f"{lib.__name__}.bin")
        private = lib.from_file(path, shared=False, size=2)
        private[0] = 100
        assert np.fromfile(path, dtype=np.float32)[0] == 0
        shared = lib.from_file(path, shared=True, size=2)
        shared[0] = 7
        assert np.fromfile(path, dtype=np.float32)[0] == 7


def test_shared_file_is_made_to_fit_and_a_short_private_one_refused(tmp_path):
    for lib in (ember, torch):
        path = str(tmp_path / f"{lib.__name__}_new.bin")
        made = lib.from_file(path, shared=True, size=3)
        assert made.tolist() == [0.0, 0.0, 0.0]
        assert (tmp_path / f"{lib.__name__}_new.bin").stat().st_size == 12
        with pytest.raises(RuntimeError, match=r"size <12> is smaller than the required "
                                               r"mapping size <400>"):
            lib.from_file(path, size=100)
        assert lib.from_file(path, size=1, requires_grad=True).requires_grad
