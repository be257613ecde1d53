"""ember.distributed in one process: names and errors as torch's, and the message that says
what to install when mpi4py is missing (simulated by making the seam's import fail)."""

import os
import subprocess
import sys

import pytest
import torch.distributed as torch_dist

import ember
import ember.distributed as dist
from ember.distributed import _mpi, run


def test_reduce_ops_and_backends_are_torchs():
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
        ours, theirs = getattr(dist.ReduceOp, name), getattr(torch_dist.ReduceOp, name)
        assert repr(ours) == repr(theirs)
    assert dist.Backend("GLOO") == torch_dist.Backend("GLOO") == "gloo"
    assert dist.Backend.MPI == torch_dist.Backend.MPI


@pytest.mark.parametrize("call", [dist.get_rank, dist.get_world_size, dist.get_backend,
                                  dist.barrier, lambda: dist.all_reduce(dist_tensor())])
def test_before_init_raises_value_error_like_torch(call):
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        call()


def dist_tensor():
    return ember.ones(2)


def test_nccl_raises_as_on_a_cpu_build_of_torch():
    with pytest.raises(RuntimeError, match="Distributed package doesn't have NCCL built in"):
        dist.init_process_group("nccl")
    with pytest.raises(AssertionError, match="Unknown backend type carrier-pigeon"):
        dist.init_process_group("carrier-pigeon")


def _without_mpi4py(code):
    """Run code in a fresh interpreter where `import mpi4py` fails."""
    prelude = "import sys; sys.modules['mpi4py'] = None; sys.modules['mpi4py.MPI'] = None\n"
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True,
                          text=True, timeout=120)


def test_without_mpi4py_the_package_imports_and_says_what_to_install():
    result = _without_mpi4py(
        "import ember, ember.distributed as d\n"
        "print('available', d.is_available(), d.is_initialized())\n"
        "d.init_process_group('gloo')\n")
    assert "available False False" in result.stdout
    assert "ImportError" in result.stderr
    assert _mpi.INSTALL_HINT in result.stderr and 'ember[distributed]' in result.stderr


def test_seam_reports_missing_mpi4py(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setitem(sys.modules, "mpi4py.MPI", None)
    assert not dist.is_available()
    with pytest.raises(ImportError, match=r"pip install \"ember\[distributed\]\""):
        _mpi.load()


def test_launcher_without_mpiexec_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(run.shutil, "which", lambda name: None)
    monkeypatch.setattr(run.os.path, "isfile", lambda path: False)
    with pytest.raises(FileNotFoundError, match=r"ember\[distributed\]"):
        run.find_mpiexec()


SINGLE_PROCESS = """
import ember, ember.distributed as d
d.init_process_group('gloo', init_method='tcp://127.0.0.1:23456', rank=0, world_size=1)
assert (d.get_rank(), d.get_world_size(), d.get_backend()) == (0, 1, 'gloo')
t = ember.arange(3.0)
d.all_reduce(t, op=d.ReduceOp.AVG)
assert t.tolist() == [0.0, 1.0, 2.0]
try:
    d.init_process_group('gloo')
except ValueError as error:
    print('twice:', error)
d.destroy_process_group()
assert not d.is_initialized()
try:
    d.init_process_group('mpi', world_size=2, rank=0)
except RuntimeError as error:
    print('mismatch:', error)
"""


def test_one_process_without_a_launcher():
    """A plain `python script.py` is a world of one (MPI's singleton start)."""
    result = subprocess.run([sys.executable, "-c", SINGLE_PROCESS], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "twice: trying to initialize the default process group twice!" in result.stdout
    assert "mismatch: world_size 2 was asked for but MPI started 1 process(es): launch the " \
           "script with `ember run --nproc-per-node 2 script.py`" in result.stdout


def _single_process_facts(library, port):
    script = os.path.join(os.path.dirname(__file__), "scripts", "single_process.py")
    result = subprocess.run([sys.executable, script, library, str(port)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_a_world_of_one_behaves_as_torchs():
    """Backend names as reported (None: "undefined"), results, errors and their messages."""
    theirs = _single_process_facts("torch", run._free_port())
    ours = _single_process_facts("ember", run._free_port())
    assert len(theirs) == 24
    assert ours == theirs


def test_get_node_local_rank_as_torchs(monkeypatch):
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert dist.get_node_local_rank() == torch_dist.get_node_local_rank() == 3
    monkeypatch.delenv("LOCAL_RANK")
    assert dist.get_node_local_rank(fallback_rank=1) == torch_dist.get_node_local_rank(1) == 1
    with pytest.raises(RuntimeError) as ours:
        dist.get_node_local_rank()
    with pytest.raises(RuntimeError) as theirs:
        torch_dist.get_node_local_rank()
    assert str(ours.value) == str(theirs.value)


def test_distributed_c10d_module_names_are_torchs():
    import torch.distributed.distributed_c10d as theirs

    import ember.distributed.distributed_c10d as ours

    shared = [name for name in theirs.__all__ if hasattr(dist, name)]
    assert len(shared) > 40
    for name in shared:  # what ember.distributed has of torch's module, its c10d module has too
        assert getattr(ours, name) is getattr(dist, name), name
    for name in ("init_process_group", "all_reduce", "_get_default_group", "_rank_not_in_group"):
        assert callable(getattr(ours, name)) and callable(getattr(theirs, name))


def _recorded(errors_module, outcome):
    @errors_module.record
    def main():
        """the docstring"""
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    assert main.__doc__ == "the docstring"
    try:
        return "returned", main()
    except BaseException as error:  # noqa: BLE001 - what escaped is the result
        return "raised", type(error).__name__, str(error)


@pytest.mark.parametrize("outcome", [5, SystemExit(0), SystemExit(3), ValueError("bad")])
def test_record_decorator_as_torchs(outcome):
    import torch.distributed.elastic.multiprocessing.errors as theirs

    import ember.distributed.elastic.multiprocessing.errors as ours

    assert _recorded(ours, outcome) == _recorded(theirs, outcome)
