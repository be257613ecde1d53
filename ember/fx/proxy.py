"""Proxy: the stand-in for a tensor while a program is symbolically traced. Every operation
on a proxy records a node instead of computing (matches `torch.fx.Proxy`)."""

import builtins
import operator


class TraceError(ValueError):
    """A traced program did something a graph cannot record (matches `torch.fx.proxy`)."""


class Proxy:
    """A value of the traced program: the node that makes it, and the tracer recording it."""

    def __init__(self, node, tracer=None):
        self.node, self.tracer = node, tracer

    def __repr__(self):
        return f"Proxy({self.node.name})"

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return Attribute(self, name)

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", "__call__", (self, *args), kwargs)

    def __getitem__(self, index):
        return self.tracer.create_proxy("call_function", operator.getitem, (self, index), {})

    def __iter__(self):
        raise TraceError("Proxy object cannot be iterated. This can be attempted when the Proxy "
                         "is used in a loop or as a *args or **kwargs function argument. See the "
                         "torch.fx docs on pytorch.org for a more detailed explanation of what "
                         "types of control flow can be traced, and check out the Proxy "
                         "docstring for help troubleshooting Proxy iteration errors")

    def __bool__(self):
        raise TraceError("symbolically traced variables cannot be used as inputs to control "
                         "flow")

    def __len__(self):
        raise RuntimeError("'len' is not supported in symbolic tracing by default. If you want "
                           "this call to be recorded, please call torch.fx.wrap('len') at "
                           "module scope")

    def keys(self):
        return self.tracer.create_proxy("call_method", "keys", (self,), {})

    __hash__ = object.__hash__


class Attribute(Proxy):
    """`proxy.name`: a getattr node, made only if the attribute is used as a value; calling it
    records a call_method node instead (`x.sum(dim=1)`)."""

    def __init__(self, root, attr):
        self.root, self.attr, self.tracer = root, attr, root.tracer
        self._node = None

    @property
    def node(self):
        if self._node is None:
            self._node = self.tracer.create_proxy("call_function", builtins.getattr,
                                                  (self.root, self.attr), {}).node
        return self._node

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", self.attr, (self.root, *args), kwargs)


def _magic(op, reflected=False):
    def method(self, *others):
        args = (others[0], self) if reflected else (self, *others)
        return self.tracer.create_proxy("call_function", op, args, {})
    return method


for _name, _op in {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
                   "truediv": operator.truediv, "floordiv": operator.floordiv,
                   "mod": operator.mod, "pow": operator.pow, "matmul": operator.matmul,
                   "and": operator.and_, "or": operator.or_, "xor": operator.xor,
                   "lshift": operator.lshift, "rshift": operator.rshift}.items():
    setattr(Proxy, f"__{_name}__", _magic(_op))
    setattr(Proxy, f"__r{_name}__", _magic(_op, reflected=True))
for _name, _op in {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
                   "gt": operator.gt, "ge": operator.ge, "neg": operator.neg,
                   "pos": operator.pos, "invert": operator.invert,
                   "abs": operator.abs}.items():
    setattr(Proxy, f"__{_name}__", _magic(_op))
del _name, _op
