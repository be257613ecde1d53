"""An FX graph: the list of nodes a traced program ran, printed and turned back into Python
code as torch.fx does (matches `torch.fx.Graph`)."""

import builtins
import keyword
import math
import operator
import re
import sys

from ember.fx.node import Node, map_arg, target_name

# Operators that the generated code writes in their symbolic form: `a + b`, `-a`, `a[b]`.
_BINARY = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
           operator.floordiv: "//", operator.mod: "%", operator.pow: "**",
           operator.matmul: "@", operator.and_: "&", operator.or_: "|", operator.xor: "^",
           operator.lshift: "<<", operator.rshift: ">>", operator.eq: "==", operator.ne: "!=",
           operator.lt: "<", operator.le: "<=", operator.gt: ">", operator.ge: ">="}
_UNARY = {operator.neg: "-", operator.pos: "+", operator.invert: "~"}


def _snake_case(name: str) -> str:
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", name)
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return "_" + name if name[:1].isdigit() else name


class Graph:
    """The nodes of a traced program in execution order."""

    def __init__(self, owning_module=None):
        self.nodes_list = []
        self.owning_module = owning_module
        self._names, self._base_count = set(), {}

    @property
    def nodes(self):
        return list(self.nodes_list)

    def _unique_name(self, candidate: str) -> str:
        """torch's naming: snake_case; builtins, keywords and repeats get `_1`, `_2`, ..."""
        base = _snake_case(candidate) or "_unnamed"
        illegal = keyword.iskeyword(base) or hasattr(builtins, base)
        if base not in self._names and not illegal:
            self._names.add(base)
            return base
        count = self._base_count.get(base, 0)
        while True:
            count += 1
            name = f"{base}_{count}"
            if name not in self._names:
                break
        self._base_count[base] = count
        self._names.add(name)
        return name

    def create_node(self, op, target, args=(), kwargs=None, name=None):
        """Append a node; its name comes from `name` or the target."""
        if name is None:
            if op == "call_function":
                name = getattr(target, "__name__", "fn")
            else:
                name = str(target).replace(".", "_")
        node = Node(self, self._unique_name(name), op, target, args, kwargs or {})
        self.nodes_list.append(node)
        return node

    def placeholder(self, name, default_value=None, has_default=False):
        return self.create_node("placeholder", name, (default_value,) if has_default else (),
                                name=name)

    def get_attr(self, qualified_name):
        return self.create_node("get_attr", qualified_name)

    def call_function(self, the_function, args=(), kwargs=None):
        return self.create_node("call_function", the_function, args, kwargs)

    def call_method(self, method_name, args=(), kwargs=None):
        return self.create_node("call_method", method_name, args, kwargs)

    def call_module(self, module_name, args=(), kwargs=None):
        return self.create_node("call_module", module_name, args, kwargs)

    def output(self, result):
        return self.create_node("output", "output", (result,), name="output")

    def erase_node(self, node):
        """Remove a node nobody uses."""
        if node.users:
            raise RuntimeError(f"Tried to erase Node {node} but it still had {len(node.users)} "
                               f"users in the graph: {node.users}!")
        node._set_args((), {})
        self.nodes_list.remove(node)

    def eliminate_dead_code(self) -> bool:
        """Erase nodes whose values nobody uses (not placeholders, outputs or in-place calls)."""
        changed = False
        for node in reversed(self.nodes_list):
            if node.op in ("call_function", "call_method", "call_module", "get_attr") and \
                    not node.users and not str(node.target).endswith("_"):
                self.erase_node(node)
                changed = True
        return changed

    def print_tabular(self) -> None:
        """Print the nodes as a table; needs the `tabulate` package, as torch's does."""
        try:
            from tabulate import tabulate  # optional, as in torch
        except ImportError:
            print("`print_tabular` relies on the library `tabulate`, which could not be found "
                  "on this machine. Run `pip install tabulate` to install the library.")
            raise
        rows = [[n.op, n.name, n.target, n.args, n.kwargs] for n in self.nodes]
        print(tabulate(rows, headers=["opcode", "name", "target", "args", "kwargs"]))

    def lint(self) -> None:
        """Check that every argument is defined before it is used."""
        seen = set()
        for node in self.nodes_list:
            for arg in node.all_input_nodes:
                if arg not in seen:
                    raise RuntimeError(f"Argument '{arg}' of Node '{node}' was used before it "
                                       "has been defined!")
            seen.add(node)

    def __str__(self):
        lines = ["graph():"] + ["    " + n.format_node() for n in self.nodes_list]
        return "\n".join(lines)

    # ---- code generation ---------------------------------------------------------------------
    def python_code(self, root_module="self"):
        """(source, globals) of a `forward` that runs this graph."""
        # (inf and nan: how a float argument such as float("-inf") is written in the code)
        globals_ = {"operator": operator, "builtins": builtins, "inf": math.inf, "nan": math.nan}
        last_use, frees = {}, {}  # freed after their last user, in that user's argument order
        for node in reversed(self.nodes_list):
            for arg in node.all_input_nodes:
                if arg not in last_use:
                    last_use[arg] = node
                    frees.setdefault(node, []).append(arg)
        signature, body = [root_module], []
        for node in self.nodes_list:
            if node.op == "placeholder":
                signature.append(node.name if not node.args else
                                 f"{node.name} = {node.args[0]!r}")
                continue
            if node.op == "output":
                body.append(f"return {_code_arg(node.args[0])}")
                continue
            line = f"{node.name} = {self._expression(node, root_module, globals_)}"
            freed = [v.name for v in frees.get(node, []) if v.op != "output"]
            if freed:
                line += ";  " + " = ".join(freed) + " = None"
            body.append(line)
        source = f"\n\n\ndef forward({', '.join(signature)}):\n" + \
            "".join(f"    {line}\n" for line in body) + "    "
        return source, globals_

    def _expression(self, node, root, globals_):
        args, kwargs = node.args, node.kwargs
        if node.op == "get_attr":
            return _attribute_path(root, node.target)
        if node.op == "call_module":
            return f"{_attribute_path(root, node.target)}({_call_arguments(args, kwargs)})"
        if node.op == "call_method":
            return f"{_code_arg(args[0])}.{node.target}({_call_arguments(args[1:], kwargs)})"
        target = node.target
        if target in _BINARY and len(args) == 2 and not kwargs:
            return f"{_code_arg(args[0])} {_BINARY[target]} {_code_arg(args[1])}"
        if target in _UNARY and len(args) == 1 and not kwargs:
            return f"{_UNARY[target]}{_code_arg(args[0])}"
        if target is operator.getitem and not kwargs:
            return f"{_code_arg(args[0])}[{_code_arg(args[1])}]"
        if target is builtins.getattr and len(args) == 2 and isinstance(args[1], str):
            return f"{_code_arg(args[0])}.{args[1]}"
        name = target_name(target)
        head = name.split(".")[0]
        if head == "torch":
            globals_["torch"] = _ember_namespace()
        elif head not in ("operator", "builtins"):
            name = getattr(target, "__name__", "fn")
            taken = {n.name for n in self.nodes_list}
            while name in taken or globals_.get(name, target) is not target:
                name += "_"  # a global must not be shadowed by a value of the same name
            globals_[name] = target
        return f"{name}({_call_arguments(args, kwargs)})"


def _ember_namespace():
    """The `torch` the generated code calls: ember itself (fully loaded by the time code runs)."""
    return sys.modules["ember"]


def _attribute_path(root, qualified_name):
    """`self.seq.weight`, with `getattr(self.seq, "0")` for numeric parts."""
    path = root
    for part in qualified_name.split("."):
        path = f'getattr({path}, "{part}")' if not part.isidentifier() else f"{path}.{part}"
    return path


def _code_arg(value):
    if isinstance(value, Node):
        return value.name
    if isinstance(value, tuple):
        inner = ", ".join(_code_arg(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_code_arg(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_code_arg(v)}" for k, v in value.items()) + "}"
    if isinstance(value, slice):
        return f"slice({_code_arg(value.start)}, {_code_arg(value.stop)}, {_code_arg(value.step)})"
    if getattr(value, "__module__", "").startswith("ember") and hasattr(value, "name"):
        return f"torch.{value.name}"  # a dtype
    return repr(value)


def _call_arguments(args, kwargs):
    parts = [_code_arg(a) for a in args] + [f"{k} = {_code_arg(v)}" for k, v in kwargs.items()]
    return ", ".join(parts)


__all__ = ["Graph", "map_arg"]
