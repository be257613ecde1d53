"""Namespaces `import ember` loads on first use (NOTE [Namespaces loaded on first use] in
ember/__init__.py), and the import-time shortcuts that keep `import ember` fast: they change
when work happens, never what the namespace holds."""

import functools
import inspect
import json
import os
import subprocess
import sys
import textwrap

import pytest

import ember
from ember._registry import parameter_names

LAZY = ember._LAZY_MODULES
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def _python(code, *args, cwd=None):
    """Run code in a fresh interpreter; its stdout (the test fails on a non-zero exit)."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=cwd,
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_import_ember_leaves_the_lazy_namespaces_unloaded():
    """The point of the laziness: a plain `import ember` imports none of them."""
    loaded = json.loads(_python("""
        import json, sys
        import ember
        print(json.dumps(sorted(m for m in sys.modules if m.startswith("ember."))))
    """))
    for name in LAZY:
        assert f"ember.{name}" not in loaded, name
    assert {"ember.nn", "ember.optim", "ember.multiprocessing"} <= set(loaded)


def test_loading_a_lazy_namespace_declares_no_face_and_no_tensor_method():
    """What made laziness safe: importing them changes neither `ember.<op>` nor Tensor."""
    out = _python("""
        import importlib, json, sys
        import ember
        from ember import _registry
        faces, methods = dict(_registry.FUNCTIONS), dict(vars(ember.Tensor))
        for name in sys.argv[1:]:
            importlib.import_module("ember." + name)
        print(json.dumps([faces == _registry.FUNCTIONS, methods == dict(vars(ember.Tensor))]))
    """, *LAZY)
    assert json.loads(out) == [True, True]


def test_every_way_of_reaching_a_lazy_namespace_gives_the_module():
    """Attribute, hasattr, `from ember import`, `import ember.x` and dir(), in a new process."""
    out = _python("""
        import importlib, json, sys
        import ember
        listed = {name: name in dir(ember) for name in sys.argv[1:]}
        found = {name: hasattr(ember, name) for name in sys.argv[1:]}
        same = {}
        for name in sys.argv[1:]:
            by_from = getattr(__import__("ember", fromlist=[name]), name)  # from ember import x
            by_import = importlib.import_module("ember." + name)
            module = sys.modules[by_import.__name__]
            same[name] = by_from is by_import is getattr(ember, name) is module
        print(json.dumps([listed, found, same]))
    """, *LAZY)
    everywhere = {name: True for name in LAZY}
    assert json.loads(out) == [everywhere, everywhere, everywhere]


def test_lazy_names_resolve_to_their_definitions():
    from ember._dynamo.eval_frame import compile_model
    from ember.distributions import Normal

    assert ember.compile is compile_model
    assert ember.distributions.Normal is Normal
    assert not hasattr(ember, "no_such_namespace")
    with pytest.raises(AttributeError, match="module 'ember' has no attribute 'no_such_name'"):
        ember.no_such_name  # noqa: B018


def test_dir_lists_the_namespace_once_and_hides_the_lazy_tables():
    names = dir(ember)
    assert names == sorted(set(names))
    assert set(LAZY) | {"compile", "nn", "Tensor", "vmap", "sparse_coo"} <= set(names)
    assert not {"_LAZY_MODULES", "_LAZY_NAMES", "__dir__"} & set(names)


def test_ember_run_serves_lazy_namespaces_as_torch_modules(tmp_path):
    """A script run by `ember run` reaches them as `torch.distributions`, `import torch.fft`."""
    (tmp_path / "script.py").write_text(textwrap.dedent("""
        import torch
        import torch.fft
        from torch import special
        from torch.distributions import Normal
        print(torch.fft is __import__("ember").fft, special.__name__,
              torch.distributions.Normal is Normal, torch.compile.__name__)
    """))
    done = subprocess.run([sys.executable, "-m", "ember", "run", "script.py"], cwd=tmp_path,
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "ember.special", "True", "compile_model"]


# ---- _registry.parameter_names: inspect.signature's names without a Signature ---------------
def _positional(a, b=1, /, c=2):
    pass


def _everything(x, y=1, *args, k, m=2, **kw):
    pass


def _keyword_only(*, k):
    pass


def _only_kwargs(**kw):
    pass


@functools.wraps(_everything)
def _wrapper(*args, **kwargs):
    pass


@functools.wraps(functools.partial(_everything, 1))
def _wraps_partial(*args, **kwargs):
    pass


def _signed(u, v):
    pass


_signed.__signature__ = inspect.signature(_keyword_only)


@functools.wraps(_signed)
def _wraps_signed(*args):
    pass


class _Holder:
    def method(self, input, other):
        pass


CASES = [_positional, _everything, _keyword_only, _only_kwargs, _wrapper, _wraps_partial,
         _signed, _wraps_signed, _Holder().method, _Holder.method, _Holder,
         functools.partial(_everything, 1), len, lambda input, other=None: None]


@pytest.mark.parametrize("fn", CASES, ids=lambda fn: getattr(fn, "__name__", repr(fn)))
def test_parameter_names_are_the_signatures(fn):
    assert parameter_names(fn) == list(inspect.signature(fn).parameters)


def test_parameter_names_of_every_declared_face():
    """Every `ember.<op>` face (and the op it wraps) as inspect.signature names it."""
    checked = 0
    for face in ember._registry.FUNCTIONS.values():
        for fn in (face, inspect.unwrap(face)):
            try:
                expected = list(inspect.signature(fn).parameters)
            except (TypeError, ValueError):
                continue
            assert parameter_names(fn) == expected, fn
            checked += 1
    assert checked > 500


def test_version_comparisons_compile_their_pattern_on_first_use():
    from ember import torch_version

    assert ember.__version__ >= "2.0" and ember.__version__ < (3,)
    assert torch_version._pattern() is torch_version._pattern()
    with pytest.raises(torch_version.InvalidVersion, match="Invalid version: 'not a version'"):
        torch_version.version_key("not a version")


@pytest.mark.parametrize("enabled", [True, False])
def test_import_leaves_the_garbage_collector_as_it_was(enabled):
    """NOTE [No collection during import]: paused while ember loads, then as the program had it,
    also when the import fails part way."""
    switch = "gc.enable()" if enabled else "gc.disable()"
    out = _python(f"""
        import gc, sys
        {switch}
        import ember
        print(gc.isenabled())
        for name in [m for m in sys.modules if m == "ember" or m.startswith("ember.")]:
            del sys.modules[name]
        sys.modules["ember.optim"] = None  # makes `from ember import optim` raise ImportError
        try:
            import ember
        except ImportError:
            print(gc.isenabled())
    """)
    assert out.split() == [str(enabled)] * 2
