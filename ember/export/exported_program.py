"""ExportedProgram: a traced module with its state, its graph signature and the guards on its
inputs (matches `torch.export.ExportedProgram`).

NOTE [The two graphs of an ExportedProgram]
torch keeps one graph whose placeholders are the parameters, buffers, constants and user
inputs, in that order (`p_fc_weight`, `b_bn_running_mean`, `x`), and whose outputs are flat;
`ep.module()` turns those placeholders back into attributes. ember keeps the traced graph,
which reads parameters and buffers as get_attr nodes (the "unlifted" form), and derives the
lifted graph from it for `graph_module` / `graph` / `graph_signature`. In-place updates of a
buffer (BatchNorm's running stats in training) stay in place in both graphs, as in torch's
default (training) IR; `run_decompositions()` lists them as BUFFER_MUTATION outputs, as torch's
decomposed program does. Nodes are ember.fx calls (`torch.nn.functional.conv2d`), not ATen
ops: the printed program is a readable form, not torch's ATen IR.
"""

import functools
import math
from typing import NamedTuple

from ember.export._trace import holds_tensor
from ember.export.dynamic_shapes import check_guards
from ember.export.graph_signature import (ConstantArgument, ExportGraphSignature, InputKind,
                                          InputSpec, OutputKind, OutputSpec, TensorArgument)
from ember.fx.graph import Graph
from ember.fx.graph_module import GraphModule
from ember.fx.node import Node, map_arg
from ember.nn.modules.module import Module
from ember.utils import _pytree as pytree


class CallSpec(NamedTuple):
    in_spec: object
    out_spec: object


class ModuleCallSignature(NamedTuple):
    inputs: list
    outputs: list
    in_spec: object
    out_spec: object
    forward_arg_names: object = None


class ModuleCallEntry(NamedTuple):
    fqn: str
    signature: object = None


class StateEntry(NamedTuple):
    """A parameter or buffer of the exported module, in its state_dict order."""

    name: str
    kind: str  # "parameter" or "buffer"
    tensor: object
    persistent: bool


def _set_path(root, name, value, kind="attr", persistent=True):
    """Install value at `a.b.c` under root, creating the Modules on the way."""
    *path, last = name.split(".")
    for part in path:
        if part not in root._modules:
            root.add_module(part, Module())
        root = root._modules[part]
    if kind == "parameter":
        root.register_parameter(last, value)
    elif kind == "buffer":
        root.register_buffer(last, value, persistent=persistent)
    elif isinstance(value, Module):
        root.add_module(last, value)
    else:
        object.__setattr__(root, last, value)


def _copy_graph(graph, env, skip=()):
    """Copy graph's nodes (but those in `skip`) into a new Graph; env maps old nodes to new."""
    new = Graph()
    for node in graph.nodes_list:
        if node in skip or node.op == "output":
            continue
        env[node] = new.create_node(node.op, node.target, map_arg(node.args, env.get),
                                    map_arg(node.kwargs, env.get), name=node.name)
    return new


def _graph_module(root, graph, class_name):
    """GraphModule(root, graph), whose code may name `inf` and `nan` (`masked_fill(m,
    -inf)`): ember.fx's generated code does not define them (torch.fx's does), so they are
    added to its globals here."""
    module = GraphModule(root, graph, class_name)
    type(module).forward.__globals__.update(inf=math.inf, nan=math.nan)
    return module


def _lifted_name(prefix, target):
    return prefix + target.replace(".", "_")


class ExportedProgram:
    """A module traced by `torch.export.export` (NOTE [The two graphs of an ExportedProgram])."""

    def __init__(self, *, graph, state, leaves, constants, guards, input_names, num_given,
                 example_inputs, mutated, class_name="GraphModule", decomposed=False):
        self._graph, self._state, self._leaves = graph, list(state), dict(leaves)
        self._constants, self._guards = dict(constants), tuple(guards)
        self._input_names, self._num_given = list(input_names), num_given
        self._example_inputs, self._mutated = example_inputs, list(mutated)
        self._class_name, self._decomposed = class_name, decomposed
        self._build_lifted()

    # ---- the lifted graph ---------------------------------------------------------------------
    def _build_lifted(self):
        """The graph with parameters, buffers and constants as placeholders, flat outputs."""
        lifted, env, inputs = Graph(), {}, []
        attrs = {n.target: n for n in self._graph.nodes_list if n.op == "get_attr"}
        placeholders = [n for n in self._graph.nodes_list if n.op == "placeholder"]
        groups = ([(e, "p_", InputKind.PARAMETER) for e in self._state if e.kind == "parameter"]
                  + [(e, "b_", InputKind.BUFFER) for e in self._state if e.kind == "buffer"])
        for entry, prefix, kind in groups:
            node = lifted.placeholder(_lifted_name(prefix, entry.name))
            env[attrs.get(entry.name)] = node
            persistent = entry.persistent if kind == InputKind.BUFFER else None
            inputs.append(InputSpec(kind, TensorArgument(node.name), entry.name, persistent))
        for name in self._constants:
            node = lifted.placeholder(_lifted_name("c_", name))
            env[attrs.get(name)] = node
            inputs.append(InputSpec(InputKind.CONSTANT_TENSOR, TensorArgument(node.name), name))
        env.pop(None, None)
        user = {n.target: n for n in placeholders}
        for i, name in enumerate(self._input_names[:self._num_given]):
            env[user[name]] = self._lift_input(lifted, name, self._flat_example(i), inputs)
        lifted_attrs = {attrs[n] for n in [e.name for e in self._state] + list(self._constants)
                        if n in attrs}
        rest = _copy_graph(self._graph, env, skip=set(placeholders) | lifted_attrs)
        for node in rest.nodes_list:  # graft the body onto the placeholders
            lifted.nodes_list.append(node)
            node.graph = lifted
            lifted._names.add(node.name)
        output = next(n for n in self._graph.nodes_list if n.op == "output").args[0]
        leaves, self._out_spec = pytree.tree_flatten(map_arg(output, env.get))
        outputs = []
        if self._decomposed:
            for target in self._mutated:
                node = env[attrs[target]]
                outputs.append(OutputSpec(OutputKind.BUFFER_MUTATION,
                                          TensorArgument(node.name), target))
                leaves.insert(len(outputs) - 1, node)
        for leaf in leaves[len(outputs):]:
            arg = TensorArgument(leaf.name) if isinstance(leaf, Node) else \
                ConstantArgument("", leaf)
            outputs.append(OutputSpec(OutputKind.USER_OUTPUT, arg, None))
        lifted.output(tuple(leaves))
        root = Module()
        for path, leaf in self._leaves.items():
            _set_path(root, path, leaf)
        self._graph_module = _graph_module(root, lifted, "GraphModule")
        self._signature = ExportGraphSignature(inputs, outputs)

    def _flat_example(self, i):
        """The i-th given example input."""
        args, kwargs = self._example_inputs
        return (list(args) + list(kwargs.values()))[i]

    @staticmethod
    def _lift_input(lifted, name, value, inputs):
        """A user input's placeholders: one per tensor of a nested input, as torch flattens
        them (`inputs_a`, `inputs_b_0`), put back together by an `_inputs` node."""
        if not holds_tensor(value):
            node = lifted.placeholder(name)
            inputs.append(InputSpec(InputKind.USER_INPUT, ConstantArgument(name, value), None))
            return node
        leaves, spec = pytree.tree_flatten(value)
        paths = _leaf_paths(value) if len(leaves) > 1 or leaves[0] is not value else [""]
        nodes = []
        for path, leaf in zip(paths, leaves):
            node = lifted.placeholder(name + path)
            arg = TensorArgument(node.name) if holds_tensor(leaf) else \
                ConstantArgument(node.name, leaf)
            inputs.append(InputSpec(InputKind.USER_INPUT, arg, None))
            nodes.append(node)
        if len(nodes) == 1 and not paths[0]:
            return nodes[0]
        return lifted.call_function(_inputs, (pytree.tree_unflatten(nodes, spec),))

    # ---- what torch's ExportedProgram shows ---------------------------------------------------
    @property
    def graph_module(self):
        return self._graph_module

    @property
    def graph(self):
        return self._graph_module.graph

    @property
    def graph_signature(self):
        return self._signature

    @property
    def state_dict(self):
        """Parameters, then persistent buffers, by qualified name (torch's order)."""
        return {**dict(self.named_parameters()),
                **{e.name: e.tensor for e in self._state if e.kind == "buffer" and e.persistent}}

    def named_parameters(self):
        for e in self._state:
            if e.kind == "parameter":
                yield e.name, e.tensor

    def parameters(self):
        for _, tensor in self.named_parameters():
            yield tensor

    def named_buffers(self):
        for e in self._state:
            if e.kind == "buffer":
                yield e.name, e.tensor

    def buffers(self):
        for _, tensor in self.named_buffers():
            yield tensor

    @property
    def constants(self):
        """Tensor constants and non-persistent buffers by name, as torch's."""
        kept = {e.name: e.tensor for e in self._state if e.kind == "buffer" and not e.persistent}
        return {**self._constants, **kept}

    @property
    def tensor_constants(self):
        return dict(self._constants)

    @property
    def example_inputs(self):
        return self._example_inputs

    @property
    def call_spec(self):
        return CallSpec(pytree.tree_structure(self._example_inputs), self._out_spec)

    @property
    def range_constraints(self):
        """Each dynamic input dimension's range, keyed `x.size()[0]`."""
        return {f"{g.input}.size()[{g.dim}]": (g.min, g.max) for g in self._guards
                if g.size is None}

    @property
    def module_call_graph(self):
        return [ModuleCallEntry("", None)]

    @property
    def dialect(self):
        return "TRAINING"

    @property
    def verifiers(self):
        return []

    def module(self, *, check_guards=True):
        """A GraphModule that computes what the exported module did, holding the same
        parameters and buffers under the same names; it checks its inputs' shapes first."""
        env, placeholders = {}, [n for n in self._graph.nodes_list if n.op == "placeholder"]
        graph = Graph()
        for node in placeholders:
            env[node] = graph.create_node("placeholder", node.target, node.args, name=node.name)
        if check_guards and self._guards:
            guard = functools.partial(_check, self._guards)
            guard.__name__ = guard.__qualname__ = "_guards_fn"
            graph.create_node("call_function", guard,
                              tuple(env[p] for p in placeholders[:self._num_given]),
                              name="_guards_fn")
        body = _copy_graph(self._graph, env, skip=set(placeholders))
        for node in body.nodes_list:
            graph.nodes_list.append(node)
            node.graph = graph
            graph._names.add(node.name)
        output = next(n for n in self._graph.nodes_list if n.op == "output").args[0]
        graph.output(map_arg(output, env.get))
        module = _graph_module(Module(), graph, self._class_name)
        installed = set()
        for entry in self._state:
            leaf = next((p for p in self._leaves if entry.name.startswith(p + ".")), None)
            if leaf is not None:
                if leaf not in installed:
                    _set_path(module, leaf, self._leaves[leaf])
                    installed.add(leaf)
                continue
            _set_path(module, entry.name, entry.tensor, entry.kind, entry.persistent)
        for path, leaf in self._leaves.items():
            if path not in installed:
                _set_path(module, path, leaf)
        for name, tensor in self._constants.items():
            _set_path(module, name, tensor)
        type(module).train, type(module).eval = _unsupported("train"), _unsupported("eval")
        generated, example = type(module).forward, self._example_inputs

        def forward(this, *args, **kwargs):
            _check_call(example, args, kwargs)
            return generated(this, *args, **kwargs)
        type(module).forward = forward
        return module

    def run_decompositions(self, decomp_table=None, decompose_custom_triton_ops=False):
        """An equivalent program; ember's graph has no finer ops to decompose into, so this
        lists the buffer mutations as outputs, as torch's decomposed program does."""
        return self._replace(decomposed=True)

    def _replace(self, **changes):
        fields = dict(graph=self._graph, state=self._state, leaves=self._leaves,
                      constants=self._constants, guards=self._guards,
                      input_names=self._input_names, num_given=self._num_given,
                      example_inputs=self._example_inputs, mutated=self._mutated,
                      class_name=self._class_name, decomposed=self._decomposed)
        fields.update(changes)
        return ExportedProgram(**fields)

    def validate(self):
        """Check the graph is well formed and its placeholders match the signature."""
        self.graph.lint()
        names = [n.name for n in self.graph.nodes_list if n.op == "placeholder"]
        expected = [s.arg.name for s in self._signature.input_specs]
        if names != expected:
            raise ValueError(f"placeholders {names} do not match the signature's {expected}")

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Unable to call ExportedProgram directly. You should use "
                           "`exported_program.module()` instead.")

    def __str__(self):
        code = self._graph_module.print_readable(print_output=False)
        code = code.replace("\n", "\n    ")
        signature = str(self._signature).replace("\n", "\n    ")
        ranges = ", ".join(f"{k}: VR[{lo}, {'int_oo' if hi == float('inf') else hi}]"
                           for k, (lo, hi) in self.range_constraints.items())
        return (f"ExportedProgram:\n    {code}\nGraph signature: {signature}\n"
                f"Range constraints: {{{ranges}}}\n")

    __repr__ = __str__


def _check_call(example, args, kwargs):
    """torch's ValueErrors for a call whose inputs differ in structure from the examples'."""
    expected = list(example[1])
    if sorted(kwargs) != sorted(expected):
        raise ValueError(f"Ran into a kwarg keyword mismatch: Got the following keywords "
                         f"{list(kwargs)} but expected {expected}")
    if len(args) != len(example[0]):
        raise ValueError(f"Trying to flatten user inputs with exported input tree spec: \n"
                         f"{pytree.tree_structure(example)}\nbut actually got inputs with tree "
                         f"spec of: \n{pytree.tree_structure((args, kwargs))}.\nPlease check "
                         f"that the inputs have the same number and type of args and kwargs as "
                         f"the ones you used when tracing.")


def _unsupported(name):
    """train() / eval() of an exported module: torch refuses them (the graph has the mode
    of export baked in)."""
    def method(self, *args, **kwargs):
        raise NotImplementedError(f"Calling {name}() is not supported yet.")
    method.__name__ = name
    return method


def _leaf_paths(value, prefix=""):
    """`_a`, `_b_0`, ...: the name suffix of each leaf of a nested input, in pytree order."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaf_paths(v, f"{prefix}_{k}")]
    if isinstance(value, (tuple, list)):
        return [p for i, v in enumerate(value) for p in _leaf_paths(v, f"{prefix}_{i}")]
    return [prefix]


def _inputs(structure):
    """A nested user input rebuilt from its placeholders (the graph's node for it)."""
    return structure


def _check(guards, *inputs):
    """The guards of NOTE [Guards of an exported module], run at the top of `module()`."""
    check_guards(guards, *inputs)
