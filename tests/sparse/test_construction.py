"""torch.sparse.spdiags and torch.sparse.check_sparse_tensor_invariants against torch: the
printed tensors (indices, values, order, layout), the argument errors, and the switch as a
context manager, a decorator and enable()/disable() acting on the constructors."""

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_error

# (diagonals, offsets, shape, layout name or None)
SPDIAGS = {
    "lower": (np.arange(9).reshape(3, 3), np.array([0, -1, -2]), (3, 3), None),
    "mixed_wide": (np.arange(9.).reshape(3, 3), np.array([0, -1, 2]), (3, 4), None),
    "square_short": (np.arange(6.).reshape(2, 3), np.array([1, -1]), (2, 2), None),
    "tall": (np.arange(8).reshape(2, 4), np.array([-1, 1]), (4, 3), None),
    "far_offsets": (np.arange(8).reshape(2, 4), np.array([-3, 2]), (4, 3), None),
    "vector": (np.arange(3.), np.array([0]), (3, 3), None),
    "scalar_offset": (np.arange(3.).reshape(1, 3), np.array(0), (3, 3), None),
    "csr": (np.arange(9).reshape(3, 3), np.array([0, -1, -2]), (3, 3), "sparse_csr"),
    "csc": (np.arange(9).reshape(3, 3), np.array([0, -1, 2]), (3, 3), "sparse_csc"),
    "float32": (np.arange(6, dtype=np.float32).reshape(2, 3), np.array([0, 1]), (3, 3), None),
}
ERRORS = {
    "strided_layout": (np.arange(9).reshape(3, 3), np.array([0, -1, -2]), (3, 3), "strided"),
    "duplicate_offsets": (np.arange(9.).reshape(3, 3), np.array([0, 0, 1]), (3, 3), None),
    "count_mismatch": (np.arange(9.).reshape(3, 3), np.array([0, 1]), (3, 3), None),
    "shape_3d": (np.arange(9.).reshape(3, 3), np.array([0, 1, 2]), (3, 3, 3), None),
    "offsets_2d": (np.arange(9.).reshape(3, 3), np.array([[0, 1, 2]]), (3, 3), None),
    "float_offsets": (np.arange(3.).reshape(1, 3), np.array([0.]), (3, 3), None),
    "int32_offsets": (np.arange(3.).reshape(1, 3), np.array([0], dtype=np.int32), (3, 3), None),
    "diagonals_3d": (np.arange(3).reshape(1, 1, 3), np.array([0]), (3, 3), None),
}


def _spdiags(lib, diagonals, offsets, shape, layout):
    kwargs = {} if layout is None else {"layout": getattr(lib, layout)}
    return lib.sparse.spdiags(lib.tensor(diagonals), lib.tensor(offsets), shape, **kwargs)


@pytest.mark.parametrize("name", list(SPDIAGS))
def test_spdiags_matches_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's beta warning for CSR/CSC
        e, t = _spdiags(ember, *SPDIAGS[name]), _spdiags(torch, *SPDIAGS[name])
    assert repr(e) == repr(t)
    if t.layout == torch.sparse_coo:
        assert e.is_coalesced() == t.is_coalesced()
    np.testing.assert_array_equal(e.to_dense().numpy(), t.to_dense().numpy())


@pytest.mark.parametrize("name", list(ERRORS))
def test_spdiags_errors(name):
    assert_same_error(lambda lib: _spdiags(lib, *ERRORS[name]), same_message=True,
                      exact_type=True)


def _out_of_range(lib):
    return lib.sparse_coo_tensor(lib.tensor([[0, 5]]), lib.tensor([1., 2.]), (3,))


def _csr_bad_last(lib):
    return lib.sparse_csr_tensor(lib.tensor([0, 1, 3]), lib.tensor([0, 1]), lib.tensor([1., 2.]),
                                 (2, 2))


@pytest.mark.parametrize("make", [_out_of_range, _csr_bad_last], ids=["coo", "csr"])
def test_invariant_switch_controls_constructors(make):
    for lib in (ember, torch):
        switch = lib.sparse.check_sparse_tensor_invariants
        assert not switch.is_enabled()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make(lib)  # unchecked by default: builds the invalid tensor
            with switch():
                assert switch.is_enabled()
                with pytest.raises(RuntimeError):
                    make(lib)
            assert not switch.is_enabled()
            switch.enable()
            try:
                with pytest.raises(RuntimeError):
                    make(lib)
            finally:
                switch.disable()
            assert switch()(switch.is_enabled)() and not switch.is_enabled()


def test_invariant_switch_messages_and_nesting():
    e_switch = ember.sparse.check_sparse_tensor_invariants
    t_switch = torch.sparse.check_sparse_tensor_invariants
    with e_switch(), t_switch():
        errors = []
        for lib in (ember, torch):
            with pytest.raises(RuntimeError) as info:
                _out_of_range(lib)
            errors.append(str(info.value))
        assert errors[0] == errors[1]
    for switch in (e_switch, t_switch):
        manager = switch()
        with manager:
            with pytest.raises(RuntimeError, match="already activated"):
                manager.__enter__()
        assert not switch.is_enabled()


# (compressed, plain, values, size): each breaks one invariant of a CSR/CSC matrix
COMPRESSED_INVALID = {
    "last_not_nnz": ([0, 1, 3], [0, 1], [1., 2.], (2, 2)),
    "plain_out_of_range": ([0, 1, 2], [0, 5], [1., 2.], (2, 2)),
    "plain_negative": ([0, 1, 2], [0, -1], [1., 2.], (2, 2)),
    "unsorted_in_slice": ([0, 2, 2], [1, 0], [1., 2.], (2, 2)),
    "repeated_in_slice": ([0, 2, 2], [1, 1], [1., 2.], (2, 2)),
    "slice_too_long": ([0, 3, 3], [0, 1, 0], [1., 2., 3.], (2, 2)),
    "first_not_zero": ([1, 1, 2], [0, 1], [1., 2.], (2, 2)),
}


@pytest.mark.parametrize("layout", ["csr", "csc"])
@pytest.mark.parametrize("name", list(COMPRESSED_INVALID))
def test_compressed_invariant_messages(name, layout):
    compressed, plain, values, size = COMPRESSED_INVALID[name]

    def make(lib):
        build = getattr(lib, f"sparse_{layout}_tensor")
        return build(lib.tensor(compressed), lib.tensor(plain), lib.tensor(values), size,
                     check_invariants=True)

    assert_same_error(make, same_message=True, exact_type=True)


def test_valid_compressed_passes_the_checks():
    e = ember.sparse_csr_tensor(ember.tensor([0, 1, 2]), ember.tensor([1, 0]),
                                ember.tensor([1., 2.]), (2, 2), check_invariants=True)
    np.testing.assert_array_equal(e.to_dense().numpy(), [[0., 1.], [2., 0.]])


@pytest.mark.parametrize("layout", ["sparse_csr", "sparse_csc", None, "strided", "sparse_coo"])
@pytest.mark.parametrize("with_size", [True, False])
def test_sparse_compressed_tensor(layout, with_size):
    """The layout-generic constructor: CSR/CSC as their own constructors, torch's error else."""
    def make(lib):
        size = ((2, 2),) if with_size else ()
        kwargs = {} if layout is None else {"layout": getattr(lib, layout)}
        return lib.sparse_compressed_tensor(lib.tensor([0, 1, 2]), lib.tensor([1, 0]),
                                            lib.tensor([1., 2.]), *size, **kwargs)

    if layout in ("sparse_csr", "sparse_csc"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert repr(make(ember)) == repr(make(torch))
    else:
        assert_same_error(make, same_message=True, exact_type=True)


# Programs in a fresh process (the warning is torch's TORCH_WARN_ONCE): which lines warn that
# the invariant checks are implicitly off
IMPLICIT_CHECKS = {
    "coo twice": "i = torch.tensor([[0, 1]]); v = torch.tensor([1., 2.])\n"
                 "torch.sparse_coo_tensor(i, v, (2,))\ntorch.sparse_coo_tensor(i, v, (2,))",
    "check_invariants=False first": "torch.sparse_coo_tensor([[0]], [1.], check_invariants=False)"
                                    "\ntorch.sparse_coo_tensor([[0]], [1.])",
    "chosen by disable()": "torch.sparse.check_sparse_tensor_invariants.disable()\n"
                           "torch.sparse_coo_tensor([[0]], [1.])",
    "chosen in a with block": "with torch.sparse.check_sparse_tensor_invariants(False):\n"
                              "    pass\ntorch.sparse_coo_tensor([[0]], [1.])",
    "before the size error": "try:\n    torch.sparse_coo_tensor([[0]], [1.], (2, 2))\n"
                             "except RuntimeError:\n    pass",
    "csr": "torch.sparse_csr_tensor([0, 1], [0], [1.], (1, 1))",
    "conversions and spdiags": "torch.eye(2).to_sparse()\n"
                               "torch.sparse.spdiags(torch.ones(1, 3), torch.tensor([0]), (3, 3))",
}


def _implicit_check_warnings(lib_name, program, word="implicitly"):
    """(first words, line) of the warnings holding `word` a fresh process running program
    gives."""
    script = textwrap.dedent("""\
        import sys, warnings
        warnings.simplefilter("always")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec(compile(sys.argv[1], "<program>", "exec"), {"torch": __import__(sys.argv[2])})
        print([(str(w.message)[:34], w.filename, w.lineno) for w in caught
               if sys.argv[3] in str(w.message)])""")
    done = subprocess.run([sys.executable, "-c", script, program, lib_name, word],
                          capture_output=True, text=True, check=True)
    return done.stdout


@pytest.mark.parametrize("name", sorted(IMPLICIT_CHECKS))
def test_implicitly_disabled_checks_warn_once_as_torch(name):
    """torch warns once per process, at the constructor's line, when a sparse constructor gets
    no check_invariants= and the program never chose (the GCN example's adjacency matrix)."""
    expected = _implicit_check_warnings("torch", IMPLICIT_CHECKS[name])
    assert _implicit_check_warnings("ember", IMPLICIT_CHECKS[name]) == expected
    assert ("Sparse invariant" in expected) == (name not in ("chosen by disable()",
                                                            "chosen in a with block",
                                                            "conversions and spdiags"))


BETA = {
    "dense to CSR twice": "x = torch.eye(2)\nx.to_sparse_csr()\nx.to_sparse_csr()",
    "dense to CSC": "torch.eye(2).to_sparse(layout=torch.sparse_csc)",
    "CSC constructor": "torch.sparse_csc_tensor([0, 1, 2], [0, 1], [1., 2.])",
    "COO only": "torch.eye(2).to_sparse()",
    "COO times COO": "a = torch.eye(2).to_sparse()\nb = a @ a",
}


@pytest.mark.parametrize("name", sorted(BETA))
def test_compressed_layouts_warn_beta_once_as_torch(name):
    """The first CSR/CSC tensor a process makes warns (naming its layout) at the program's line."""
    expected = _implicit_check_warnings("torch", BETA[name], "beta state")
    assert _implicit_check_warnings("ember", BETA[name], "beta state") == expected
    assert ("tensor support" in expected) == (name != "COO only")
