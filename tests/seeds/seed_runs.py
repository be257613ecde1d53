"""Running the seed programs (examples/seeds) in subprocesses, for tests/seeds/test_seed_programs.

`execute(program, "ember", ...)` is `python -m ember run <program>` and `execute(program,
"torch", ...)` is `python <program>` with real PyTorch, each in a fresh directory holding the
stand-in data the program reads (standin_data.py). The hooks directory goes first on PYTHONPATH: its
sitecustomize gives the CIFAR-10 stand-in its own MD5s and records what the programs pass to
`plt.plot`; the programs themselves run unmodified.

NOTE [Runs are shared and run two at a time]
Many tests look at the same run, and a run can take tens of seconds (the seed 002 networks), so
runs are cached for the session, and the runs the selected tests will need are all started at
the session's first request, two at a time, longest first.
"""

import ast
import concurrent.futures
import contextlib
import importlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import standin_data

REPO = Path(__file__).resolve().parents[2]
PROGRAMS = REPO / "examples" / "seeds"
HOOKS = Path(__file__).resolve().parent / "hooks"
EPOCHS = 2
TIMEOUT = 600

# The stand-in data of each program that reads files: ("cifar10", test images) for seed 000's
# torchvision.datasets.CIFAR10("./Dataset", train=False), ("folder", train, test) for seed 002's
# ImageFolders ./data/path2cifar10/{train,test}. 128 test images make two full batches of 64
# (nn_linear.py's Linear(196608, 10) takes exactly 64 flattened images); the training programs
# get few images (optim.py: batch_size=1 over 20 images; the seed 002 programs: one batch of 100
# per epoch and 20 test images, but three batches for MyCNN, whose Adam(lr=0.01) overshoots on
# its first step, so that its first epoch's mean loss is not that of a single step).
DATA = {
    "s000/conv.py": ("cifar10", 128),
    "s000/nn_pooling_dataset.py": ("cifar10", 128),
    "s000/nn_relu_dataset.py": ("cifar10", 128),
    "s000/nn_linear.py": ("cifar10", 128),
    "s000/loss_func_network.py": ("cifar10", 20),
    "s000/optim.py": ("cifar10", 20),
    "s002/mycnn.py": ("folder", 300, 20),
    "s002/resnet.py": ("folder", 100, 20),
    "s002/se_resnet.py": ("folder", 100, 20),
    "s002/vgg.py": ("folder", 100, 20),
}

# Programs that import torchvision but never use it (seed 003's model listing) run under real
# torch with an empty torchvision package standing in.
STUB_TORCHVISION = {"s003/model.py"}

# Rough cost order (slowest first), used to start the long runs first.
SLOW = ["s002/resnet.py", "s002/vgg.py", "s004/pipeline.py", "s000/optim.py", "s002/mycnn.py",
        "s000/loss_func_network.py", "s002/se_resnet.py"]


@dataclass
class Run:
    """What one program run printed and left behind."""
    program: str
    runner: str
    returncode: int
    stdout: str
    stderr: str
    cwd: Path
    plots: list = field(default_factory=list)
    seconds: float = 0.0

    def describe(self) -> str:
        return (f"{self.runner} {self.program} exited {self.returncode} after "
                f"{self.seconds:.1f} s\n--- stdout\n"
                f"{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}")


def prepare(program: str, cwd: Path) -> dict:
    """Write the program's stand-in data under cwd; the extra environment it needs."""
    env = {}
    kind = DATA.get(program)
    if kind and kind[0] == "cifar10":
        folder = standin_data.write_cifar10(cwd / "Dataset", train_count=5, test_count=kind[1])
        env["SEEDS_CIFAR10_MD5S"] = json.dumps(standin_data.file_md5s(folder))
    elif kind and kind[0] == "folder":
        standin_data.write_image_folder(cwd / "data/path2cifar10/train", kind[1], seed=1)
        standin_data.write_image_folder(cwd / "data/path2cifar10/test", kind[2], seed=2)
        env["SEEDS_PLOT_LOG"] = str(cwd / "plots.jsonl")
    return env


def write_stub_torchvision(root: Path) -> Path:
    """An empty `torchvision` package (datasets, transforms) under root; returns root."""
    package = root / "torchvision"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text('"""Stand-in: torchvision is not installed."""\n')
    for name in ("datasets", "transforms"):
        (package / f"{name}.py").write_text("")
    return root


def command(program: str, runner: str) -> list:
    path = str(PROGRAMS / program)
    if runner == "ember":
        return [sys.executable, "-m", "ember", "run", path]
    return [sys.executable, path]


def execute(program: str, runner: str, workdir: Path) -> Run:
    """Run one program in a fresh directory under workdir."""
    cwd = Path(tempfile.mkdtemp(prefix=f"{runner}-{program.replace('/', '-')}-", dir=workdir))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDS_")}
    env.update(prepare(program, cwd))
    paths = [str(HOOKS)]
    if runner == "torch" and program in STUB_TORCHVISION:
        paths.append(str(write_stub_torchvision(cwd / "stubs")))
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env.update(PYTHONPATH=os.pathsep.join(paths), SEED_EPOCHS=str(EPOCHS), MPLBACKEND="Agg",
               PYTHONHASHSEED="0", COLUMNS="80")
    start = time.perf_counter()
    done = subprocess.run(command(program, runner), cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)
    seconds = time.perf_counter() - start
    plots = []
    log = cwd / "plots.jsonl"
    if log.exists():
        plots = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return Run(program, runner, done.returncode, done.stdout, done.stderr, cwd, plots, seconds)


class Runner:
    """Session cache of program runs (see NOTE [Runs are shared and run two at a time])."""

    def __init__(self, workdir: Path, wanted=()):
        self.workdir = workdir
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
        self.futures = {}
        self.lock = threading.Lock()
        order = {name: i for i, name in enumerate(SLOW)}
        for key in sorted(set(wanted), key=lambda k: (order.get(k[0], len(SLOW)), k)):
            self._submit(key)

    def _submit(self, key):
        with self.lock:
            if key not in self.futures:
                self.futures[key] = self.pool.submit(execute, key[0], key[1], self.workdir)
            return self.futures[key]

    def get(self, program: str, runner: str = "ember") -> Run:
        return self._submit((program, runner)).result()

    def close(self):
        self.pool.shutdown(wait=False, cancel_futures=True)


# ---- reading what the programs print ------------------------------------------------------------
FLOAT = re.compile(r"(?<![\w.])-?(?:\d+\.\d*|\.\d+|\d+(?=e))(?:e[+-]?\d+)?|-?\bnan\b|-?\binf\b")
ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def structure(text: str) -> str:
    """text with object addresses and floating-point numbers blanked and whitespace collapsed:
    what two runs of a random program must share (shapes, reprs, grad_fn names, messages)."""
    text = ADDRESS.sub("0xADDR", text)
    text = FLOAT.sub("F", text)
    # a tensor's columns are padded for a minus sign only when one of its values is negative
    return " ".join(text.split()).replace("[ ", "[")


def before(text: str, marker: str) -> str:
    """text up to the first line that starts with marker."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith(marker):
            return "".join(lines[:i])
    return text


def tensor_values(text: str) -> list:
    """The numbers in the printed tensors of text, one flat list per `tensor(...)`."""
    blocks = re.findall(r"tensor\((.*?)\)(?=[,\s]|$)", text, flags=re.DOTALL)
    return [[float(v) for v in re.findall(r"-?\d+(?:\.\d*)?(?:e[+-]?\d+)?",
                                            block.split("grad_fn")[0])] for block in blocks]


# ---- a program's definitions, executed in-process with either library --------------------------
def definitions(program: str, library) -> dict:
    """Run the program's function and class definitions, its constant assignments, its model
    constructions (`x = SomeLocalClass(...)`) and their `print(x)` with `torch` bound to library
    (torch or ember); the namespace, and what those statements print (key "__printed__")."""
    path = PROGRAMS / program
    tree = ast.parse(path.read_text(), filename=str(path))
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    namespace = {"__name__": "seed_definitions"}
    kept, assigned = [], set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            _bind_imports(node, library, namespace)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            kept.append(node)
        elif isinstance(node, ast.Assign):
            value = node.value
            constant = isinstance(value, (ast.Constant, ast.Dict, ast.List, ast.Tuple))
            model = (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                     and value.func.id in classes)
            if constant or model:
                kept.append(node)
                assigned.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
              and getattr(node.value.func, "id", None) == "print"
              and len(node.value.args) == 1 and isinstance(node.value.args[0], ast.Name)
              and node.value.args[0].id in assigned):
            kept.append(node)  # print(model)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(ast.Module(body=kept, type_ignores=[]), str(path), "exec"),  # noqa: S102
             namespace)
    namespace["__printed__"] = printed.getvalue()
    return namespace


def _bind_imports(node, library, namespace):
    """Execute an import statement into namespace, with torch meaning library (torchvision and
    matplotlib are left out: the definitions do not use them)."""
    def load(name):
        head = name.partition(".")[0]
        if head == "torch":
            name = library.__name__ + name[len("torch"):]
        return importlib.import_module(name)

    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.partition(".")[0] in ("torchvision", "matplotlib"):
                continue
            if alias.asname:
                namespace[alias.asname] = load(alias.name)
            else:
                load(alias.name)
                namespace[alias.name.partition(".")[0]] = load(alias.name.partition(".")[0])
    elif node.module.partition(".")[0] not in ("torchvision", "matplotlib"):
        module = load(node.module)
        for alias in node.names:
            value = getattr(module, alias.name, None)
            if value is None:
                value = load(f"{node.module}.{alias.name}")
            namespace[alias.asname or alias.name] = value


def rewrite_imports_for_ember(source: str) -> str:
    """The program with `import torch` written as `import ember as torch` (and `import
    torch.x as y` / `from torch[.x] import ...` as the ember modules)."""
    source = re.sub(r"^import torch(?=\s*(#.*)?$)", "import ember as torch", source,
                    flags=re.MULTILINE)
    source = re.sub(r"^import torch\.([\w.]+) as (\w+)", r"import ember.\1 as \2", source,
                    flags=re.MULTILINE)
    source = re.sub(r"^from torch(\.[\w.]+)? import", r"from ember\1 import", source,
                    flags=re.MULTILINE)
    return source
