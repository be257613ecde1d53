"""`ember run script.py [args]`: run an unmodified PyTorch script on ember.

NOTE [Serving torch and torchvision]
A meta path finder placed first on sys.meta_path answers every import of `torch`, `torch.*`,
`torchvision` and `torchvision.*` with the ember module of the same path (`torch.nn.functional`
-> `ember.nn.functional`, `torchvision.transforms` -> `ember.vision.transforms`), so the module
objects are shared: `torch.nn is ember.nn`. A name ember does not have fails with the usual
ModuleNotFoundError, naming the torch module. The script then runs in a fresh `__main__` module,
with sys.argv, sys.path[0] and the module's globals set as `python script.py` would; its
traceback is printed from the script's first frame, and the exit status is 1.
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import io
import os
import sys
import traceback
import types

# The user's script imports `torch` and gets the ember package itself (not an internal import).
ALIASES = {"torch": "ember", "torchvision": "ember.vision"}
SERVED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_served")


class _AliasLoader(importlib.abc.Loader):
    """Hands back an already imported ember module as the torch module."""

    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        pass


class TorchAliasFinder(importlib.abc.MetaPathFinder):
    """Finds `torch[.x]` / `torchvision[.x]` as the matching ember module."""

    def find_spec(self, fullname, path=None, target=None):
        head, _, rest = fullname.partition(".")
        if head not in ALIASES:
            return None
        target_name = ALIASES[head] + ("." + rest if rest else "")
        try:
            module = importlib.import_module(target_name)
        except ModuleNotFoundError as error:
            if error.name is not None and (target_name == error.name or
                                           target_name.startswith(error.name + ".")):
                return None  # no such ember module: Python reports "No module named <torch...>"
            raise
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(module))


def install() -> None:
    """Serve torch/torchvision from ember in this process (idempotent)."""
    if not any(isinstance(f, TorchAliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, TorchAliasFinder())
    for name in list(sys.modules):
        if name.partition(".")[0] in ALIASES:
            del sys.modules[name]


def _script_traceback(tb, script: str):
    """The traceback from the script's first frame on (hides runpy and ember.cli)."""
    start = tb
    while start is not None:
        filename = start.tb_frame.f_code.co_filename
        if filename == script or os.path.abspath(filename) == script:
            return start
        start = start.tb_next
    return tb


def _run_as_main(execute, shown_file) -> int:
    """Run `execute()` as the program's `__main__`; its exit status as the interpreter gives it."""
    try:
        execute()
    except SystemExit as error:
        code = error.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except BaseException as error:  # noqa: BLE001 - reported like the interpreter does
        tb = _script_traceback(error.__traceback__, shown_file)
        traceback.print_exception(type(error), error, tb)
        return 130 if isinstance(error, KeyboardInterrupt) else 1
    finally:
        sys.stdout.flush()
    return 0


def run(script: str, args: list) -> int:
    """Run script as __main__ with sys.argv = [script, *args]; the exit status."""
    path = os.path.join(os.getcwd(), script)  # python's __file__: joined, not normalised
    if not os.path.isfile(path):
        print(f"ember run: can't open file '{script}': No such file or directory",
              file=sys.stderr)
        return 2
    install()
    sys.argv = [script, *args]  # as typed, as python leaves it (runpy would make it absolute)
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    sys.path.insert(1, SERVED)  # for spawned children: NOTE [Serving torch to spawned children]
    main = _fresh_main(__file__=path, __cached__=None,
                       __loader__=importlib.machinery.SourceFileLoader("__main__", path))

    def execute():
        with io.open_code(path) as source:  # bytes: compile honours an encoding cookie
            code = compile(source.read(), path, "exec")
        exec(code, main.__dict__)  # noqa: S102 - the user's program

    return _run_as_main(execute, path)


def _fresh_main(**attributes) -> types.ModuleType:
    """A new `__main__` module in sys.modules (pickle and spawned children look it up there),
    with python's `__builtins__`, `__package__` and `__spec__` for a script."""
    main = types.ModuleType("__main__")
    main.__dict__.update(__builtins__=sys.modules["builtins"], __package__=None, __spec__=None,
                         **attributes)
    sys.modules["__main__"] = main
    return main


def run_module(name: str, args: list) -> int:
    """Run a module as `python -m name args...` does (sys.argv[0] is its file, cwd on the path)."""
    install()
    sys.path[0] = os.getcwd()
    sys.path.insert(1, SERVED)
    try:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations is not None:
            spec = importlib.util.find_spec(name + ".__main__")  # a package runs its __main__
    except ImportError:
        spec = None
    if spec is None or spec.origin is None:
        print(f"ember run: No module named {name}", file=sys.stderr)
        return 1
    sys.argv = [spec.origin, *args]
    # runpy.run_module would run it in a temporary module: python runs it in __main__ itself.
    main = _fresh_main(__file__=spec.origin, __cached__=spec.cached, __loader__=spec.loader)
    main.__dict__.update(__package__=spec.parent, __spec__=spec)

    def execute():
        exec(spec.loader.get_code(spec.name), main.__dict__)  # noqa: S102 - the user's program

    return _run_as_main(execute, spec.origin)


def run_code(code: str, args: list) -> int:
    """Run a program given as a string, as `python -c code args...` does."""
    install()
    sys.argv = ["-c", *args]
    sys.path[0] = ""
    sys.path.insert(1, SERVED)
    main = _fresh_main()

    def execute():
        exec(compile(code, "<string>", "exec"), main.__dict__)  # noqa: S102 - the user's program

    return _run_as_main(execute, "<string>")
