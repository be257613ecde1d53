"""The fuzz's sign-canonical comparison of decompositions (NOTE [Decompositions compare
sign-canonically] in tests/fuzz_ops.py): it accepts the unit factors LAPACK may choose, and
still catches every real difference."""

import numpy as np
import pytest
import torch

import ember
from tests.fuzz_ops import agree_decomposed


def _ember(outputs):
    return tuple(ember.tensor(x.detach().resolve_conj().numpy()) for x in outputs)


def _matrix(*shape, dtype=torch.float64, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _flipped(u, v, signs):
    """u and v with their columns times the unit factors (the same for both)."""
    return u * signs[..., None, :], v * signs[..., None, :]


def _agree(eid, result, expected, finite=True):
    agree_decomposed(eid, result, expected, 1e-5, 1e-5, "case", finite)


SIGNS = torch.tensor([-1.0, 1.0, -1.0], dtype=torch.float64)


@pytest.mark.parametrize("shape", [(4, 3), (2, 4, 3)])
def test_svd_sign_flips_agree(shape):
    U, S, V = torch.svd(_matrix(*shape))
    u, v = _flipped(U, V, SIGNS)
    _agree("svd", _ember((u, S, v)), (U, S, V))


def test_linalg_svd_complex_phases_agree():
    A = _matrix(4, 3, dtype=torch.complex128)
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    phases = torch.exp(1j * torch.tensor([0.3, 2.0, -1.0], dtype=torch.float64))
    u, v = _flipped(U, Vh.mH, phases)
    _agree("linalg.svd", _ember((u, S, v.mH)), (U, S, Vh))


def test_svd_full_matrices_complement_is_any_basis():
    U, S, Vh = torch.linalg.svd(_matrix(5, 2), full_matrices=True)
    rotation, _ = torch.linalg.qr(_matrix(3, 3, seed=1))  # U's last 3 columns, rotated
    u = torch.cat([U[:, :2], U[:, 2:] @ rotation], dim=1)
    _agree("linalg.svd", _ember((u, S, Vh)), (U, S, Vh))


def test_ember_svd_agrees_on_a_rank_deficient_matrix():
    A = torch.ones(3, 4, dtype=torch.float64)  # rank 1: the null vectors are any basis
    _agree("linalg.svd", ember.linalg.svd(ember.tensor(A.numpy())), torch.linalg.svd(A))


def test_svd_catches_a_wrong_magnitude_where_the_vectors_are_any_basis():
    A = torch.ones(4, 3, dtype=torch.float64)  # rank 1: v_1, v_2 span the null space
    U, S, V = torch.svd(A)
    _agree("svd", _ember((U, S, V)), (U, S, V))
    with pytest.raises(AssertionError, match="not orthonormal"):
        _agree("svd", _ember((U, S, V * torch.tensor([1.0, 1.0, 1.01], dtype=V.dtype))),
               (U, S, V))


def _wrong_singular_value(U, S, V):
    return U, S * torch.tensor([1.0, 1.001, 1.0], dtype=S.dtype), V


def _u_flipped_alone(U, S, V):
    return U * SIGNS, S, V


def _vector_scaled(U, S, V):
    return U * torch.tensor([1.0, 1.01, 1.0], dtype=U.dtype), S, V


def _vectors_swapped(U, S, V):
    return U[:, [1, 0, 2]], S, V[:, [1, 0, 2]]


@pytest.mark.parametrize("wrong", [_wrong_singular_value, _u_flipped_alone, _vector_scaled,
                                   _vectors_swapped])
def test_svd_catches_a_real_difference(wrong):
    U, S, V = torch.svd(_matrix(4, 3))
    with pytest.raises(AssertionError):
        _agree("svd", _ember(wrong(U, S, V)), (U, S, V))


def test_qr_sign_flips_agree_and_one_sided_flips_fail():
    Q, R = torch.linalg.qr(_matrix(4, 3))
    _agree("linalg.qr", _ember((Q * SIGNS, R * SIGNS[:, None])), (Q, R))
    with pytest.raises(AssertionError):
        _agree("linalg.qr", _ember((Q * SIGNS, R)), (Q, R))


def test_qr_catches_a_wrong_entry_of_r():
    Q, R = torch.linalg.qr(_matrix(3, 4))
    wrong = R.clone()
    wrong[1, 3] += 1e-3
    with pytest.raises(AssertionError):
        _agree("qr", _ember((Q, wrong)), (Q, R))


def test_qr_mode_r_compares_r_canonically():
    Q, R = torch.linalg.qr(_matrix(4, 3), mode="r")
    _agree("linalg.qr", _ember((Q, R * SIGNS[:, None])), (Q, R))
    with pytest.raises(AssertionError):
        _agree("linalg.qr", _ember((Q, R * 1.001)), (Q, R))


def test_ember_qr_agrees_past_a_negligible_pivot():
    # a rank-1 matrix of huge entries: R's second row is rounding noise of the size eps·‖A‖
    A = torch.full((2, 3), 5.3966065e15)
    _agree("qr", ember.qr(ember.tensor(A.numpy())), torch.linalg.qr(A))


def test_geqrf_compares_the_q_and_r_it_describes():
    A = _matrix(2, 4, 3)
    expected = torch.geqrf(A)
    _agree("geqrf", ember.geqrf(ember.tensor(A.numpy())), expected)
    a, tau = expected
    with pytest.raises(AssertionError):
        _agree("geqrf", _ember((a, tau * 1.01)), expected)


def test_non_finite_input_compares_structure_only():
    U, S, V = torch.svd(_matrix(4, 3))
    garbage = (torch.full_like(U, float("nan")), S, V)
    _agree("svd", _ember(garbage), (U, S, V), finite=False)
    with pytest.raises(AssertionError):
        _agree("svd", _ember(garbage), (U, S, V))
    with pytest.raises(AssertionError):  # the shapes still count
        _agree("svd", _ember((U[:, :2], S, V)), (U, S, V), finite=False)


def test_an_overflow_in_torch_compares_structure_only():
    U, S, V = torch.svd(_matrix(4, 3))
    S_inf = S.clone()
    S_inf[0] = float("inf")
    _agree("svd", _ember((U, torch.zeros_like(S), V)), (U, S_inf, V))
    assert not np.isfinite(S_inf.numpy()).all()


# ---- NOTE [FFTs compare normwise] -------------------------------------------------------------
def _fft_outcome(result, expected, finite=True):
    from tests.fuzz_ops import _check_outcomes
    _check_outcomes("case", "fft.fft", expected, None, ember.tensor(result.numpy()), None,
                    finite)


def test_fft_rounding_noise_relative_to_the_largest_output_agrees():
    x = torch.tensor([1e16, 1e16, -1e16, 3.0], dtype=torch.float64)
    expected = torch.fft.fft(x)
    _fft_outcome(expected + 1.25, expected)  # about one ulp of the 1e16 outputs


def test_fft_real_difference_still_fails():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    expected = torch.fft.fft(x)
    wrong = expected.clone()
    wrong[1] += 1e-3
    with pytest.raises(AssertionError):
        _fft_outcome(wrong, expected)


def test_fft_with_non_finite_input_compares_structure_only():
    expected = torch.fft.fft(torch.tensor([float("inf"), 1.0, 2.0, 3.0]))
    _fft_outcome(torch.full_like(expected, complex(float("nan"), 0)), expected, finite=False)
    with pytest.raises(AssertionError):  # the dtype still counts
        _fft_outcome(expected.to(torch.complex128), expected, finite=False)


# ---- singular values alone: the decompositions' slack on S ----------------------------------
def _svdvals_outcome(result, expected, size):
    from tests.fuzz_ops import _check_outcomes
    _check_outcomes("case", "linalg.svdvals", expected, None, ember.tensor(result.numpy()),
                    None, True, size)


def test_svdvals_within_lapacks_error_bound_agree():
    # σ₂ = 2.5e-18·σ₁: OpenBLAS's gesdd gives 0, MKL's the true 0.1107 (both within backward
    # error); the fuzz found it on [[-4.6e-38, 0.081, 0.081], [-4.2e16, -1.7e16, 0]]
    expected = torch.tensor([4.5106e16, 0.11071839], dtype=torch.float64)
    _svdvals_outcome(torch.tensor([4.5106e16, 0.0], dtype=torch.float64), expected, 3)


def test_svdvals_real_difference_still_fails():
    expected = torch.tensor([3.0, 1.0], dtype=torch.float64)
    with pytest.raises(AssertionError):
        _svdvals_outcome(torch.tensor([3.0, 0.99], dtype=torch.float64), expected, 3)
