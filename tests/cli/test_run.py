"""`ember run -m/-c` and the version strings (ember/cli/run.py, ember/version.py)."""

import os
import subprocess
import sys
import textwrap

import pytest

import ember
from ember.torch_version import TorchVersion

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}

REPORT = """\
import sys, torch
print("argv", sys.argv)
print("path0", sys.path[0])
print("name", __name__, "file", globals().get("__file__"))
print("modern", torch.__version__ >= "2.0", torch.__version__ >= (1, 13), torch.__version__ < "3")
print("globals", __package__, getattr(__spec__, "name", None), type(__builtins__).__name__)
"""


def _run(args, cwd):
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=ENV, timeout=120)


def _package(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(REPORT)
    (package / "tool.py").write_text(REPORT + "raise SystemExit(3)\n")
    return tmp_path


@pytest.mark.parametrize("module, status", [("pkg", 0), ("pkg.tool", 3)])
def test_run_module_is_python_dash_m(module, status, tmp_path):
    cwd = _package(tmp_path)
    under_python = _run([sys.executable, "-m", module, "a", "--b"], cwd)
    under_ember = _run([sys.executable, "-m", "ember", "run", "-m", module, "a", "--b"], cwd)
    assert under_python.returncode == under_ember.returncode == status, under_ember.stderr
    assert under_ember.stdout == under_python.stdout
    assert "modern True True True" in under_ember.stdout


SCRIPT_GLOBALS = '''\
"""doc"""
import sys
print("more", __package__, __spec__, __doc__, type(__builtins__).__name__,
      type(globals().get("__loader__")).__name__)
if __name__ == "__main__":
    print("guarded")
'''


@pytest.mark.parametrize("typed", ["sub/prog.py", "./sub/../sub/prog.py"])
def test_run_script_is_python_script(typed, tmp_path):
    """sys.argv[0] as typed (runpy.run_path would make it absolute), __file__ absolute."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "prog.py").write_text(SCRIPT_GLOBALS + REPORT)
    under_python = _run([sys.executable, typed, "a", "--b"], tmp_path)
    under_ember = _run([sys.executable, "-m", "ember", "run", typed, "a", "--b"], tmp_path)
    assert under_ember.returncode == under_python.returncode == 0, under_ember.stderr
    assert under_ember.stdout == under_python.stdout
    assert f"argv ['{typed}', 'a', '--b']" in under_ember.stdout
    assert "more None None doc module SourceFileLoader" in under_ember.stdout


def test_run_code_is_python_dash_c(tmp_path):
    under_python = _run([sys.executable, "-c", REPORT, "x", "y"], tmp_path)
    under_ember = _run([sys.executable, "-m", "ember", "run", "-c", REPORT, "x", "y"], tmp_path)
    assert under_ember.returncode == under_python.returncode == 0, under_ember.stderr
    assert under_ember.stdout == under_python.stdout


def test_run_code_traceback_starts_at_the_program(tmp_path):
    program = "import sys\nraise KeyError('k')\n"
    result = _run([sys.executable, "-m", "ember", "run", "-c", program], tmp_path)
    assert result.returncode == 1
    assert result.stderr == textwrap.dedent("""\
        Traceback (most recent call last):
          File "<string>", line 2, in <module>
        KeyError: 'k'
        """)


@pytest.mark.parametrize("args, status, needle", [
    (["run", "-m", "no_such_module_here"], 1, "No module named no_such_module_here"),
    (["run", "-m"], 2, "argument expected for the -m option"),
    (["run", "-c"], 2, "argument expected for the -c option"),
])
def test_run_bad_module_or_code(args, status, needle, tmp_path):
    result = _run([sys.executable, "-m", "ember", *args], tmp_path)
    assert result.returncode == status and needle in result.stderr


def test_run_help_lists_the_forms(tmp_path):
    result = _run([sys.executable, "-m", "ember", "run", "--help"], tmp_path)
    assert result.returncode == 0
    assert "ember run -m MODULE" in result.stdout and "ember run -c CODE" in result.stdout


def test_version_reports_the_pytorch_api_and_ember_release(tmp_path):
    import torch

    assert isinstance(ember.__version__, TorchVersion) and isinstance(ember.__version__, str)
    assert ember.__version__.split("+")[0] == torch.__version__.split("+")[0] == "2.13.0"
    assert ember.version.ember == "0.1.0" and ember.version.cuda is None
    result = _run([sys.executable, "-m", "ember", "--version"], tmp_path)
    assert result.stdout.strip() == f"ember {ember.version.ember} (PyTorch 2.13 API)"


COMPARISONS = ["2.0", "2.13", "2.13.0", "2.13.1", "2.14", "1.13.1", "2.2", "2.13.0a0", "10.0",
               (2, 13), (2, 12, 9), (2, 13, 0), (1, 9), (3,)]


@pytest.mark.parametrize("other", COMPARISONS, ids=str)
def test_version_compares_as_torch_version_does(other):
    import torch

    ours = TorchVersion("2.13.0+cpu")
    for method in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__"):
        assert getattr(ours, method)(other) == getattr(torch.__version__, method)(other), method


def test_version_compares_with_packaging_versions():
    from packaging import version as packaging_version  # pytest depends on packaging
    assert ember.__version__ > packaging_version.Version("2.12")
    assert ember.__version__ < packaging_version.Version("2.13.1")
    assert str(packaging_version.Version(ember.__version__)) == ember.__version__
