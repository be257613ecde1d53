"""A node of an FX graph: one operation, its arguments and its users (matches `torch.fx.Node`)."""

import builtins
import operator

OPCODES = ("placeholder", "get_attr", "call_function", "call_method", "call_module", "output")


def map_arg(value, fn):
    """Apply fn to every Node inside nested tuples, lists, dicts and slices of value."""
    if isinstance(value, Node):
        return fn(value)
    if isinstance(value, tuple):
        mapped = tuple(map_arg(v, fn) for v in value)
        return type(value)(*mapped) if hasattr(value, "_fields") else mapped
    if isinstance(value, list):
        return [map_arg(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: map_arg(v, fn) for k, v in value.items()}
    if isinstance(value, slice):
        return slice(map_arg(value.start, fn), map_arg(value.stop, fn), map_arg(value.step, fn))
    return value


def target_name(target) -> str:
    """How a call_function target prints: `torch.flatten`, `operator.add`, `builtins.getattr`."""
    if isinstance(target, str):
        return target
    qualified = getattr(target, "_fx_qualified_name", None)
    if qualified:
        return qualified
    module = getattr(target, "__module__", None) or ""
    if target in vars(operator).values() and module in ("_operator", "operator"):
        module = "operator"
    if getattr(builtins, getattr(target, "__name__", ""), None) is target:
        module = "builtins"
    if module.startswith("ember"):
        module = "torch" + module[len("ember"):]
    return f"{module}.{target.__qualname__}" if module else target.__qualname__


class Node:
    """One operation of a Graph."""

    def __init__(self, graph, name, op, target, args, kwargs):
        if op not in OPCODES:
            raise ValueError(f"unknown FX opcode {op!r}")
        self.graph, self.name, self.op, self.target = graph, name, op, target
        self.users = {}
        self.meta = {}
        self._args, self._kwargs = (), {}
        self._set_args(args, kwargs)

    def _set_args(self, args, kwargs):
        for old in self.all_input_nodes:
            old.users.pop(self, None)
        self._args, self._kwargs = tuple(args), dict(kwargs)
        for new in self.all_input_nodes:
            new.users[self] = None

    @property
    def args(self):
        return self._args

    @args.setter
    def args(self, value):
        self._set_args(value, self._kwargs)

    @property
    def kwargs(self):
        return self._kwargs

    @kwargs.setter
    def kwargs(self, value):
        self._set_args(self._args, value)

    @property
    def all_input_nodes(self):
        """The nodes this node's arguments refer to, in order, without repeats."""
        seen = {}
        map_arg((self._args, self._kwargs), lambda n: seen.setdefault(n, None))
        return list(seen)

    def replace_all_uses_with(self, replacement):
        """Make every user of this node use `replacement` instead; return those users."""
        users = list(self.users)
        for user in users:
            swap = lambda n: replacement if n is self else n  # noqa: E731
            user._set_args(map_arg(user._args, swap), map_arg(user._kwargs, swap))
        return users

    def format_node(self) -> str:
        """The node's line in `print(graph)` (torch's format)."""
        if self.op == "output":
            return f"return {_format_arg(self._args[0], bare=True)}"
        header = f"%{self.name} : [num_users={len(self.users)}] = {self.op}"
        target = target_name(self.target) if self.op == "call_function" else self.target
        if self.op == "placeholder":
            default = f"(default={self._args[0]!r})" if self._args else ""
            return f"{header}[target={target}]{default}"
        if self.op == "get_attr":
            return f"{header}[target={target}]"
        kwargs = "{" + ", ".join(f"{k}: {_format_arg(v)}" for k, v in self._kwargs.items()) + "}"
        return f"{header}[target={target}](args = {_format_arg(self._args)}, kwargs = {kwargs})"

    def __repr__(self):
        return self.name


def _format_arg(value, bare=False):
    """An argument as `print(graph)` shows it: nodes as %name (bare: name)."""
    if isinstance(value, Node):
        return value.name if bare else f"%{value.name}"
    if isinstance(value, tuple):
        inner = ", ".join(_format_arg(v, bare) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_format_arg(v, bare) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_format_arg(v, bare)}" for k, v in value.items()) + "}"
    return str(value)
