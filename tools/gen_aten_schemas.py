"""Write ember/ops/_aten_schemas.txt: torch.ops.aten's schemas, for the aten ops ember has.

    python tools/gen_aten_schemas.py [--skipped]   (needs PyTorch; ember never imports torch)

--skipped also prints the aten ops left out although ember has a callable of their name.

NOTE [How an aten overload becomes an ember call]
Every `torch.ops.aten.<name>` packet holds overloads, one schema each ("add.Tensor(Tensor self,
Tensor other, *, Scalar alpha=1) -> Tensor"). torch's Python functions and methods are generated
from the same native_functions.yaml (torchgen, shipped with torch), so for most overloads torch
itself says which public Python callable runs it and how: the binding's signature. An overload
is written with a recipe `target/npos`: call `ember.<target>` (or, for `.name`, the method of
the first argument) with the first `npos` non-out arguments positionally and the others by
their schema names. It gets one when
  - a torch binding of the overload (or, for an out= or in-place overload, of its functional
    twin; or of a sibling overload of the same name whose parameters, by name and in order,
    cover this one's, `add.Scalar` through `add.Tensor`) is public and C-bound in torch (not
    Python code of its own) and ember has that public callable; and
  - ember's callable binds such a call (`inspect.signature`), so it takes every parameter.
A few public Python wrappers whose parameters line up with the schema, and one-line adapters
(`_to_copy`, `index.Tensor`), are listed by hand (`WRAPPERS`). Arguments ember's callable lacks
are written after npos (`/ignored`); out= overloads whose torch autograd kernel refuses
arguments requiring grad get flag `g` (`_refuses_grad`). Overloads without a recipe are
written with `-`: they are listed (the packet's `overloads()` and its errors are torch's) but
calling them raises NotImplementedError. Ops without any recipe are left out, but for those
ember/ops/aten.py declares by hand (listed for their `_schema`). The format is read by
ember/ops/_aten_generic.py (NOTE [Generic aten overloads]).
"""

import inspect
import os
import sys
from collections import defaultdict

import torch
import torchgen
from torchgen.gen import parse_native_yaml
from torchgen.model import SchemaKind
from torchgen.packaged.autograd import gen_python_functions as gen
from torchgen.packaged.autograd.load_derivatives import load_derivatives

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import ember  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "ember", "ops", "_aten_schemas.txt")
BASE = os.path.join(os.path.dirname(torchgen.__file__), "packaged")

# torch namespace -> (torchgen predicate, methods?, torch's C module, public module path, prefix)
NAMESPACES = {
    "torch": (gen.is_py_torch_function, False, torch._C._VariableFunctions, "", ""),
    "linalg": (gen.is_py_linalg_function, False, torch._C._linalg, "linalg", "linalg_"),
    "special": (gen.is_py_special_function, False, torch._C._special, "special", "special_"),
    "fft": (gen.is_py_fft_function, False, torch._C._fft, "fft", "fft_"),
    "nn": (gen.is_py_nn_function, False, torch._C._nn, "nn.functional", ""),
    "Tensor": (gen.is_py_variable_method, True, torch._C.TensorBase, "Tensor", ""),
}

# public torch functions that are Python code (or bound by hand in torch's C++), whose parameters
# take the schema's arguments in order: aten overload -> "target[/npos[/ignored]]" (npos: how
# many go positionally, default all the schema's positional ones; ignored: the arguments to
# leave out) (checked by tests/ops/test_aten_generic.py)
WRAPPERS = {
    "split.Tensor": "split", "split_with_sizes.default": "split",
    "_softmax.default": "softmax//half_to_float",
    "_log_softmax.default": "log_softmax//half_to_float", "split.sizes": "split",
    "contiguous.default": ".contiguous", "copy_.default": ".copy_", "to.dtype": ".to/2",
    "to.device": ".to/3", "to.other": ".to/2", "to.dtype_layout": ".to", "size.int": ".size",
    "stride.int": ".stride", "dim.default": ".dim", "numel.default": ".numel",
    "nonzero.default": "nonzero", "is_contiguous.default": ".is_contiguous",
    "element_size.default": ".element_size", "item.default": ".item",
    "norm.Scalar": "norm", "norm.ScalarOpt_dim": "norm", "norm.ScalarOpt_dim_dtype": "norm",
    "norm.ScalarOpt_dtype": "norm",
    "silu.default": "nn.functional.silu", "hardtanh.default": "nn.functional.hardtanh",
    "leaky_relu.default": "nn.functional.leaky_relu", "mish.default": "nn.functional.mish",
    "hardswish.default": "nn.functional.hardswish",
    "hardsigmoid.default": "nn.functional.hardsigmoid", "relu6.default": "nn.functional.relu6",
    "glu.default": "nn.functional.glu", "pad.default": "nn.functional.pad",
    "range.step": "range", "range.default": "range",
    "_unsafe_view.default": "reshape", "lift_fresh_copy.default": "clone",
    "sym_size.int": ".size", "sym_stride.int": ".stride", "sym_numel.default": ".numel",
    "sym_storage_offset.default": ".storage_offset",
    "adaptive_avg_pool1d.default": "nn.functional.adaptive_avg_pool1d",
    "adaptive_avg_pool2d.default": "nn.functional.adaptive_avg_pool2d",
    "adaptive_avg_pool3d.default": "nn.functional.adaptive_avg_pool3d",
    "_adaptive_avg_pool2d.default": "nn.functional.adaptive_avg_pool2d",
    "_adaptive_avg_pool3d.default": "nn.functional.adaptive_avg_pool3d",
    "max_pool2d_with_indices.default": "nn.functional.max_pool2d_with_indices",
    "max_pool3d_with_indices.default": "nn.functional.max_pool3d_with_indices",
    # one-line adapters of ember/ops/_aten_generic.py
    "_to_copy.default": "ops._aten_generic._to_copy", "index.Tensor": "ops._aten_generic._index",
    "index.Tensor_hacked_twin": "ops._aten_generic._index",
    "alias.default": "ops._aten_generic._alias",
    "threshold_backward.default": "ops._aten_generic._threshold_backward",
}


def _public(path):
    """The object at a dotted path under torch (`linalg.solve`), or None."""
    found = torch
    for part in path.split("."):
        found = getattr(found, part, None)
    return found


def _ember(path):
    """The object at a dotted path under ember, or None."""
    found = ember
    for part in path.split("."):
        found = getattr(found, part, None)
    return found


def natives() -> dict:
    """{"add.Tensor": NativeFunction} for every native function ("name.default" w/o overload)."""
    parsed = parse_native_yaml(os.path.join(BASE, "ATen/native/native_functions.yaml"),
                               os.path.join(BASE, "ATen/native/tags.yaml")).native_functions
    return {_key(f): f for f in parsed}


def _key(f) -> str:
    """'add.Tensor' of a native function ('mm.default' for one without overload name)."""
    return f"{f.func.name.name}.{f.func.name.overload_name or 'default'}"


def bindings(native) -> dict:
    """{"add.Tensor": [(target, PythonSignature)]}: the public, C-bound torch callables of each
    native function that ember has too, functions before methods."""
    bound_natives = [f for f in native.values() if gen.should_generate_py_binding(f)]
    deprecated = os.path.join(BASE, "autograd/deprecated.yaml")
    pairs = {method: gen.load_signatures(bound_natives, deprecated, method=method)
             for method in (True, False)}
    found = defaultdict(list)
    for (predicate, method, c_module, module, prefix) in NAMESPACES.values():
        for name, overloads in gen.group_filter_overloads(pairs[method], predicate).items():
            c_name = str(name)
            public = c_name[len(prefix):] if c_name.startswith(prefix) else c_name
            path = f"{module}.{public}" if module else public
            bound = getattr(c_module, c_name, None)
            if bound is None or _public(path) is not bound or _ember(path) is None:
                continue
            target = "." + public if method else path
            for pair in overloads:
                if not isinstance(pair.signature, gen.PythonSignatureDeprecated):
                    found[_key(pair.function)].append((target, pair.signature))
    return found


def _plain(f) -> list:
    """A native function's non-out arguments, in schema order."""
    return [a for a in f.func.schema_order_arguments() if a not in f.func.arguments.out]


def _layout(target, signature, f):
    """npos of calling `target` (as its Python `signature`) with f's arguments, or None when the
    signature does not take them all by name (positional ones in order)."""
    names = [a.name for a in _plain(f)]
    positional = [a.name for a in signature.input_args]
    if target.startswith("."):
        positional = ["self"] + positional
    keywords = {a.name for a in signature.input_kwargs + signature.tensor_options_args}
    npos = len(positional)
    if names[:npos] != positional[:len(names[:npos])]:
        return None
    if not set(names[npos:]) <= keywords:
        return None
    return min(npos, len(names))


def _fit(target, f, npos, ignored=()):
    """The recipe `target/npos[/ignored]` when ember's callable binds the call (npos arguments
    positionally, the rest by keyword), else None. Positional arguments past the callable's
    positional parameters go by keyword; arguments it lacks are left out (`ignored`) where the
    schema gives them a default or they are bools, and those `WRAPPERS` names (after a '/'):
    the call passes them only when they hold a neutral value (NOTE [How an aten overload
    becomes an ember call])."""
    fn = _ember(("Tensor" + target) if target.startswith(".") else target)
    arguments = _plain(f)
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return f"{target}/{npos}"  # (no signature to check: the tests call it)
    var_keyword = any(p.kind is p.VAR_KEYWORD for p in params)
    named = {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.POSITIONAL_ONLY)}
    slots = len(arguments) if any(p.kind is p.VAR_POSITIONAL for p in params) else \
        sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    npos = min(npos, slots)
    ignored = [a.name for i, a in enumerate(arguments) if a.name in ignored or
               i >= npos and not var_keyword and a.name not in named and
               (a.default is not None or str(a.type) == "bool")]
    kept = [a.name for a in arguments if a.name not in ignored]
    npos = sum(1 for a in arguments[:npos] if a.name not in ignored)
    try:
        inspect.signature(fn).bind(*kept[:npos], **{n: None for n in kept[npos:]})
    except TypeError:
        return None
    return f"{target}/{npos}" + (f"/{','.join(ignored)}" if ignored else "")


def recipe(key, native, bound, cache={}) -> str:  # noqa: B006 - a memo of this run
    """The recipe of one aten overload (NOTE [How an aten overload becomes an ember call]),
    with flag `g` for an out= overload that refuses arguments requiring grad."""
    if key not in cache:
        found = _recipe(key, native, bound)
        if found != "-" and _refuses_grad(native[key], native):
            found += "/" * (3 - found.count("/")) + "g"
        cache[key] = found
    return cache[key]


def _recipe(key, native, bound) -> str:
    """The recipe of an overload, without flags: by hand, through a binding of its own, of its
    functional twin (out=), or of a sibling it fits."""
    f = native.get(key)
    if f is None:
        return "-"  # a TorchScript builtin (`add.int`): not an ember function
    kind = f.func.kind()
    if kind not in (SchemaKind.functional, SchemaKind.inplace, SchemaKind.out) and \
            key not in bound:
        return "-"  # (an op writing into some inputs runs only as its own binding)
    if key in WRAPPERS:
        target, npos, ignored = (WRAPPERS[key] + "//").split("/")[:3]
        npos = int(npos) if npos else len(f.func.arguments.flat_positional)
        return _fit(target, f, npos, set(ignored.split(",")) - {""}) or "-"
    for target, signature in bound.get(key, ()):
        npos = _layout(target, signature, f)
        found = _fit(target, f, npos) if npos is not None else None
        if found:
            return found
    if kind is SchemaKind.out:
        twin = _functional_twin(f, native)
        return _recipe(_key(twin), native, bound) if twin is not None else "-"
    for sibling in _siblings(f, native):
        for target, signature in bound.get(_key(sibling), ()):
            npos = _layout(target, signature, f)
            found = _fit(target, f, npos) if npos is not None and _compatible(f, sibling) \
                else None
            if found:
                return found
    return "-"


def _refuses_grad(f, native) -> bool:
    """Whether torch's out= overload f raises for arguments requiring grad (gradient mode on):
    its autograd kernel does when its functional form has a derivative (torchgen's
    `match_differentiability_info`: a functional entry of derivatives.yaml with its signature)
    unless the out= form itself is generated (`autogen`). An out= overload that decomposes
    (CompositeImplicitAutograd) refuses only where what it decomposes into does: not flagged."""
    if f.func.kind() is not SchemaKind.out or f.has_composite_implicit_autograd_kernel:
        return False
    derivatives, autogen = _autograd_facts(native)
    return str(f.func.name) not in autogen and \
        f.func.signature(strip_default=True) in derivatives


def _autograd_facts(native, cache=[]) -> tuple:  # noqa: B006 - computed once
    """(the signatures of the functional functions derivatives.yaml differentiates, the names
    of the generated out= functions)."""
    if not cache:
        infos, _ = load_derivatives(os.path.join(BASE, "autograd/derivatives.yaml"),
                                    os.path.join(BASE, "ATen/native/native_functions.yaml"),
                                    os.path.join(BASE, "ATen/native/tags.yaml"))
        cache.append(({schema.signature(strip_default=True) for schema in infos
                       if schema.kind() is SchemaKind.functional},
                      {str(name) for f in native.values() for name in f.autogen}))
    return cache[0]


def _functional_twin(f, native):
    """The functional overload an out= overload is the out form of (same signature)."""
    signature = f.func.signature()
    for other in native.values():
        if other.func.kind() is SchemaKind.functional and other.func.signature() == signature:
            return other
    return None


def _siblings(f, native):
    """The other overloads of f's name (in-place or not, as f)."""
    return [o for o in native.values()
            if o.func.name.name == f.func.name.name and o is not f and
            o.func.kind() is f.func.kind()]


def _compatible(f, sibling) -> bool:
    """Whether each argument of f has its sibling's type, or is a Scalar where it has a Tensor
    (a number, which ember's functions take where torch's do)."""
    types = {a.name: str(a.type) for a in _plain(sibling)}
    for a in _plain(f):
        mine, theirs = str(a.type), types.get(a.name)
        if mine != theirs and not (mine == "Scalar" and theirs == "Tensor"):
            return False
    return True


def table() -> dict:
    """{aten name: [(schema without 'aten::', recipe)]} for ops with at least one recipe (and
    those ember/ops/aten.py declares), each op's overloads in torch's order."""
    native = natives()
    bound = bindings(native)
    names = sorted({s.name[6:] for s in torch._C._jit_get_all_schemas()
                    if s.name.startswith("aten::")})
    aten = ember.ops.aten
    declared = {n for n, v in vars(aten).items() if isinstance(v, aten._OpOverloadPacket) and
                isinstance(getattr(v, v.overloads()[0]), aten._OpOverload)}  # (for `_schema`)
    found = {}
    for name in names:
        packet = getattr(torch.ops.aten, name)
        rows = []
        for overload in packet.overloads():
            schema = str(getattr(packet, overload)._schema).removeprefix("aten::")
            rows.append((schema, recipe(f"{name}.{overload}", native, bound)))
        if any(r != "-" for _, r in rows) or name in declared:
            found[name] = rows
    return found


def skipped(found) -> list:
    """The aten ops left out although ember has a function, method or nn.functional function
    of their name (their signatures differ from ember's in ways no recipe maps)."""
    names = sorted({s.name[6:] for s in torch._C._jit_get_all_schemas()
                    if s.name.startswith("aten::")})
    return [n for n in names if n not in found and any(
        hasattr(where, n) for where in (ember, ember.Tensor, ember.nn.functional))]


def main():
    found = table()
    if "--skipped" in sys.argv:
        print("\n".join(skipped(found)))
    with open(OUT, "w") as out:
        out.write(f"# torch {torch.__version__}'s aten schemas<TAB>ember recipe: "
                  "tools/gen_aten_schemas.py\n")
        for name, rows in found.items():
            for schema, how in rows:
                out.write(f"{schema}\t{how}\n")
    overloads = sum(len(rows) for rows in found.values())
    callable_ = sum(r != "-" for rows in found.values() for _, r in rows)
    print(f"{len(found)} ops, {overloads} overloads ({callable_} callable) written to "
          f"{os.path.normpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
