"""ember.export: trace a module into an ExportedProgram, save it and load it back (matches
`torch.export`; see NOTE [How export traces] in _trace.py and NOTE [The two graphs of an
ExportedProgram] in exported_program.py)."""

import copy

from ember.autograd.grad_mode import no_grad
from ember.export._errors import UserError
from ember.export._serialize import load, save
from ember.export._trace import trace_for_export
from ember.export._values import clone_inputs
from ember.export.dynamic_shapes import Dim, ShapesCollection, _input_names, dims, guards_for
from ember.export.exported_program import (ExportedProgram, ModuleCallEntry,
                                           ModuleCallSignature, StateEntry)
from ember.export.graph_signature import ExportBackwardSignature, ExportGraphSignature
from ember.nn.modules.module import Module
from ember.random import get_rng_state, set_rng_state


def _state_of(mod):
    """Parameters and buffers in the order the module's state_dict walks them."""
    state, seen = [], set()
    for prefix, sub in mod.named_modules(remove_duplicate=False):
        dot = prefix + "." if prefix else ""
        for name, p in sub._parameters.items():
            if p is not None and id(p) not in seen:
                seen.add(id(p))
                state.append(StateEntry(dot + name, "parameter", p, True))
        for name, b in sub._buffers.items():
            if b is not None and id(b) not in seen:
                seen.add(id(b))
                persistent = name not in sub._non_persistent_buffers_set
                state.append(StateEntry(dot + name, "buffer", b, persistent))
    return state


def _mutated_buffers(ep, args, kwargs):
    """The buffers forward updates in place: run a copy of the program on the examples."""
    clones = [e._replace(tensor=e.tensor.detach().clone()) if e.kind == "buffer" else e
              for e in ep._state]
    probe = ep._replace(state=clones, leaves={k: copy.deepcopy(v)
                                              for k, v in ep._leaves.items()})
    before = {e.name: e.tensor._version_counter.value for e in clones if e.kind == "buffer"}
    with no_grad():
        probe.module(check_guards=False)(*clone_inputs(args), **clone_inputs(kwargs))
    return [e.name for e in clones
            if e.kind == "buffer" and e.tensor._version_counter.value != before[e.name]]


def _example_size(values, guard):
    value = values[guard.path[0]]
    for key in guard.path[1:]:
        value = value[key]
    return value.shape[guard.dim]


def _specialized(guards, symbols, values):
    """The guards with the Dim.AUTO dimensions the program specialized made static; torch's
    UserError for a Dim or Dim.DYNAMIC one (NOTE [Static sizes while tracing])."""
    for symbol in symbols:
        mine = [g for g in guards if g.symbol == symbol and g.size is None]
        size = _example_size(values, mine[0])
        if not all(g.auto for g in mine):
            raise UserError(f'Constraints violated ({symbol})! For more information, run with '
                            f'TORCH_LOGS="+dynamic".\n  - You marked {symbol} as dynamic but your '
                            f"code specialized it to be a constant ({size}). If you're "
                            f"using mark_dynamic, either remove it or use maybe_mark_dynamic. If "
                            f"you're using Dim.DYNAMIC, replace it with either Dim.STATIC or "
                            f"Dim.AUTO.\nSuggested fixes:\n  {symbol} = {mine[0].min}")
    return [g._replace(size=_example_size(values, g)) if g.symbol in symbols and g.auto
            else g for g in guards]


def export(mod, args, kwargs=None, *, dynamic_shapes=None, strict=False,
           preserve_module_call_signature=(), prefer_deferred_runtime_asserts_over_guards=False):
    """Trace mod's forward on the example inputs into an ExportedProgram (matches
    `torch.export.export`)."""
    if not isinstance(mod, Module):
        raise ValueError(f"Expected `mod` to be an instance of `torch.nn.Module`, got "
                         f"{type(mod)}.")
    if not isinstance(args, tuple):
        raise UserError(f"Expecting `args` to be a tuple of example positional inputs, got "
                        f"{type(args)}")
    kwargs = {} if kwargs is None else kwargs
    rng = get_rng_state()  # export runs the model, but draws no random numbers (as torch)
    try:
        return _export(mod, args, kwargs, dynamic_shapes)
    finally:
        set_rng_state(rng)


def _export(mod, args, kwargs, dynamic_shapes):
    """export's work, after its argument checks."""
    names = _input_names(mod.forward, args, kwargs)
    guards = guards_for(mod, args, kwargs, dynamic_shapes)
    values = list(args) + list(kwargs.values())
    graph, tracer, symbols = trace_for_export(mod, names, values, guards)
    guards = _specialized(guards, {symbols[r - 1] for r in tracer.failed}, values)
    leaves = {path: mod.get_submodule(path) for path in tracer.leaves}
    leaves.update(tracer.callables)  # functions the graph reads (torch.cond's branches)
    placeholders = [n.target for n in graph.nodes_list if n.op == "placeholder"]
    order = [n for n in placeholders if n in names] + [n for n in placeholders if n not in names]
    ep = ExportedProgram(graph=graph, state=_state_of(mod), leaves=leaves,
                         constants=tracer.tensor_attrs, guards=guards, input_names=order,
                         num_given=len(names), example_inputs=(args, kwargs), mutated=[],
                         class_name="GraphModule")
    mutated = _mutated_buffers(ep, args, kwargs)
    return ep._replace(mutated=mutated) if mutated else ep


def unflatten(module, flat_args_adapter=None):
    """The exported module with its submodule tree (ember: `ep.module()`, whose submodules hold
    the parameters and buffers; their forwards are not split out of the graph)."""
    return module.module()


__all__ = ["Dim", "ExportBackwardSignature", "ExportGraphSignature", "ExportedProgram",
           "ModuleCallEntry", "ModuleCallSignature", "ShapesCollection", "dims", "export",
           "load", "save", "unflatten"]
