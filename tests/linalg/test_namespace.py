"""The ember.linalg namespace and the top-level linear-algebra ops: every torch.linalg name is
there, `import torch.linalg` works under `ember run`, LinAlgError is a RuntimeError, Tensor
methods exist, `out=` is written, and empty matrices behave as in torch.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same
from tests.linalg._helpers import check_forward

TOP_LEVEL = ["det", "logdet", "slogdet", "inverse", "pinverse", "qr", "svd", "cholesky",
             "cholesky_solve", "cholesky_inverse", "lu", "lu_unpack", "lu_solve",
             "triangular_solve", "cdist", "cross", "kron", "matrix_exp", "matrix_power",
             "chain_matmul", "trace", "ger", "outer", "addmv", "addr", "addbmm", "baddbmm",
             "vdot", "dot", "inner"]
METHODS = ["det", "logdet", "slogdet", "inverse", "pinverse", "qr", "svd", "cholesky",
           "cholesky_solve", "cholesky_inverse", "lu", "lu_solve", "triangular_solve", "cross",
           "kron", "matrix_exp", "matrix_power", "addr", "addr_", "addbmm", "addbmm_"]


def test_every_torch_linalg_function():
    names = {n for n in dir(torch.linalg) if not n.startswith("_") and n != "common_notes"}
    missing = sorted(n for n in names if not hasattr(ember.linalg, n))
    assert missing == []


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level(name):
    assert callable(getattr(ember, name))


@pytest.mark.parametrize("name", METHODS)
def test_tensor_methods(name):
    assert hasattr(torch.Tensor, name) and callable(getattr(ember.Tensor, name))


def test_linalg_error_type():
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)
    # torch's class is torch._C._LinAlgError: its name and module are the C extension's
    for lib in (torch, ember):
        err = lib.linalg.LinAlgError
        assert err is lib._C._LinAlgError
        assert (err.__name__, err.__module__) == ("_LinAlgError", "torch._C")
    with pytest.raises(RuntimeError, match="singular"):
        ember.linalg.inv(ember.zeros(2, 2))


def test_import_torch_linalg_under_ember_run(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import torch.linalg
        from torch.linalg import LinAlgError, inv
        a = torch.tensor([[2.0, 0.0], [0.0, 4.0]])
        print(torch.linalg.det(a).item(), inv(a)[1, 1].item(), torch.__name__)
        try:
            inv(torch.zeros(2, 2))
        except LinAlgError:
            print("LinAlgError")
    """))
    result = subprocess.run([sys.executable, "-m", "ember", "run", str(script)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["8.0", "0.25", "ember", "LinAlgError"]


def test_out():
    a = np.array([[4.0, 1.0], [1.0, 3.0]])
    for lib in (ember, torch):
        out = lib.empty(0, dtype=lib.float64)
        result = lib.linalg.inv(lib.from_numpy(a.copy()), out=out)
        assert result is out
        q, r = lib.empty(0, dtype=lib.float64), lib.empty(0, dtype=lib.float64)
        lib.linalg.qr(lib.from_numpy(a.copy()), out=(q, r))
        lib.kron(lib.from_numpy(a.copy()), lib.from_numpy(a.copy()), out=out)
        lib.linalg.vector_norm(lib.from_numpy(a.copy()), out=r)
        if lib is ember:
            e_out, e_q, e_r = out, q, r
    assert_same(e_out, out)
    assert_same(e_q, q)
    assert_same(e_r, r)


# ---- empty matrices ----------------------------------------------------------------------------
EMPTY = {
    "det": lambda m, a: m.linalg.det(a),
    "slogdet": lambda m, a: m.linalg.slogdet(a),
    "inv": lambda m, a: m.linalg.inv(a),
    "solve": lambda m, a: m.linalg.solve(a, a),
    "cholesky": lambda m, a: m.linalg.cholesky(a),
    "qr": lambda m, a: m.linalg.qr(a),
    "eigh": lambda m, a: m.linalg.eigh(a),
    "svd": lambda m, a: m.linalg.svd(a),
    "pinv": lambda m, a: m.linalg.pinv(a),
    "lu_factor": lambda m, a: m.linalg.lu_factor(a),
    "lu": lambda m, a: m.linalg.lu(a),
    "matrix_exp": lambda m, a: m.linalg.matrix_exp(a),
    "matrix_norm_nuc": lambda m, a: m.linalg.matrix_norm(a, "nuc"),
    "matrix_rank": lambda m, a: m.linalg.matrix_rank(a),
    "cond": lambda m, a: m.linalg.cond(a),
    "matrix_power": lambda m, a: m.linalg.matrix_power(a, 3),
}


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (0, 3, 3)])
@pytest.mark.parametrize("case", sorted(EMPTY))
def test_empty(case, shape):
    check_forward(EMPTY[case], [np.zeros(shape)], np.float64)
