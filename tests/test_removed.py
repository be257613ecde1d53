"""Names torch keeps only to raise (ember/_removed.py): same exception type and message as torch
2.13, for the function and Tensor-method faces; and the Tensor-method coverage of #14."""

import pytest
import torch

import ember

CALLS = {
    "torch.eig": lambda lib: lib.eig(lib.ones(2, 2)),
    "torch.symeig": lambda lib: lib.symeig(lib.ones(2, 2), eigenvectors=True),
    "torch.lstsq": lambda lib: lib.lstsq(lib.ones(2, 2), lib.ones(2, 2)),
    "torch.solve": lambda lib: lib.solve(lib.ones(2, 2), lib.ones(2, 2)),
    "torch.matrix_rank": lambda lib: lib.matrix_rank(lib.ones(2, 2)),
    "Tensor.eig": lambda lib: lib.ones(2, 2).eig(),
    "Tensor.symeig": lambda lib: lib.ones(2, 2).symeig(),
    "Tensor.lstsq": lambda lib: lib.ones(2, 2).lstsq(lib.ones(2, 2)),
    "Tensor.solve": lambda lib: lib.ones(2, 2).solve(lib.ones(2, 2)),
    "Tensor.reinforce": lambda lib: lib.ones(2).reinforce(1.0),
    "Tensor.xpu": lambda lib: lib.ones(2).xpu(),
    "Tensor.ipu": lambda lib: lib.ones(2).ipu(),
    "Tensor.mtia": lambda lib: lib.ones(2).mtia(),
}


def _raised(call, lib):
    with pytest.raises(Exception) as info:
        call(lib)
    return info.value


@pytest.mark.parametrize("name", CALLS)
def test_removed_names_raise_as_in_torch(name):
    expected, got = _raised(CALLS[name], torch), _raised(CALLS[name], ember)
    assert type(got) is type(expected)
    assert str(got) == str(expected)


def test_tensor_methods_cover_95_percent_of_torchs():
    public = [name for name in dir(torch.Tensor) if not name.startswith("_")]
    missing = [name for name in public if not hasattr(ember.Tensor, name)]
    assert 1 - len(missing) / len(public) >= 0.95, missing
