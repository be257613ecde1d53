"""Write ember/_schemas.txt: torch's Python signatures, as its C++ argument parser reads them.

    python tools/gen_schemas.py        (needs PyTorch; ember never imports torch)

torch binds its C++ ops to Python through generated code: for each public name, a list of
signature strings ("roll(Tensor input, SymIntArrayRef[1] shifts, IntArrayRef[1] dims=None)")
that `PythonArgParser` (torch/csrc/utils/python_arg_parser.cpp) matches the call's arguments
against, raising TypeError when none fits. torch ships the generator (torchgen's
gen_python_functions.py) with its native_functions.yaml, so the strings are recomputed here
exactly as torch's build computes them, grouped and ordered as its overload resolution sees
them. A few bindings are handwritten in torch's C++ (`Tensor.to`, `torch.tensor`): their strings
are copied below from libtorch_python.so.

Each line of the output is `namespace.name<TAB>signature`, one line per overload in torch's
order. Namespaces: `torch` (torch.X), `Tensor` (methods), `nn` (torch.nn.functional's
C-bound functions, torch._C._nn), `linalg`, `special`, `fft`, `sparse` (torch.sparse's
C-bound functions, torch._C._sparse). A name is listed only where the
public object is the C-bound function itself (torch.split is Python code: not listed).
"""

import inspect
import os
import sys
import types

import torch
import torchgen
from torchgen.gen import parse_native_yaml
from torchgen.packaged.autograd import gen_python_functions as gen

OUT = os.path.join(os.path.dirname(__file__), "..", "ember", "_schemas.txt")

# torch's handwritten bindings (python_variable_methods.cpp, python_torch_functions_manual.cpp)
HANDWRITTEN = {
    "Tensor.to": [
        "to(Device device=None, ScalarType dtype=None, bool non_blocking=False, bool copy=False, "
        "*, MemoryFormat? memory_format=None)",
        "to(ScalarType dtype, bool non_blocking=False, bool copy=False, "
        "*, MemoryFormat? memory_format=None)",
        "to(Tensor tensor, bool non_blocking=False, bool copy=False, "
        "*, MemoryFormat? memory_format=None)"],
    "Tensor.copy_": ["copy_(Tensor other, bool non_blocking=False)"],
    "Tensor.requires_grad_": ["requires_grad_(bool requires_grad=True)"],
    "Tensor.new_tensor": ["new_tensor(PyObject* data, *, ScalarType dtype=None, "
                          "Device? device=None, bool requires_grad=False)"],
    "Tensor.size": ["size(int64_t? dim=None)"],
    "Tensor.stride": ["stride(int64_t? dim=None)"],
    "torch.range": ["range(Scalar start, Scalar end, Scalar step=1, *, Tensor out=None, "
                    "ScalarType dtype=None, Layout layout=torch.strided, Device device=None, "
                    "bool requires_grad=False)"],
    "torch.nonzero": ["nonzero(Tensor input, *, bool as_tuple=False, Tensor out=None)"],
    "torch.as_tensor": ["as_tensor(PyObject* data, *, ScalarType dtype=None, "
                        "Device? device=None)"],
    "torch.tensor": ["tensor(PyObject* data, *, ScalarType dtype=None, Device? device=None, "
                     "bool pin_memory=False, bool requires_grad=False)"],
}

# namespace -> (torchgen predicate, methods?, torch's C module, public module, C name prefix)
NAMESPACES = {
    "Tensor": (gen.is_py_variable_method, True, torch._C.TensorBase, torch.Tensor, ""),
    "torch": (gen.is_py_torch_function, False, torch._C._VariableFunctions, torch, ""),
    "nn": (gen.is_py_nn_function, False, torch._C._nn, torch.nn.functional, ""),
    "linalg": (gen.is_py_linalg_function, False, torch._C._linalg, torch.linalg, "linalg_"),
    "special": (gen.is_py_special_function, False, torch._C._special, torch.special,
                "special_"),
    "fft": (gen.is_py_fft_function, False, torch._C._fft, torch.fft, "fft_"),
}
# torch.sparse's functions are listed by `sparse_functions` (public names differ from C names)
SPARSE_PREDICATE = gen.is_py_sparse_function


def signatures():
    """{"namespace.name": [signature, ...]} for every C-bound public name."""
    base = os.path.join(os.path.dirname(torchgen.__file__), "packaged")
    native = _native(base)
    deprecated = os.path.join(base, "autograd/deprecated.yaml")
    pairs = {method: gen.load_signatures(native, deprecated, method=method)
             for method in (True, False)}
    table = {}
    for namespace, (predicate, method, c_module, public, prefix) in NAMESPACES.items():
        for name, overloads in gen.group_filter_overloads(pairs[method], predicate).items():
            c_name = str(name)
            public_name = c_name[len(prefix):] if c_name.startswith(prefix) else c_name
            bound = getattr(c_module, c_name, None)
            if bound is None or getattr(public, public_name, None) is not bound:
                continue  # torch's public name is Python code, or not public at all
            grouped = gen.group_overloads(overloads, symint=True)
            table[f"{namespace}.{public_name}"] = [
                o.signature.signature_str(symint=True) for o in grouped]
    table.update(HANDWRITTEN)
    table.update(forwarding_wrappers(table))
    table.update(aliases(table))
    table.update(sparse_functions())
    return table


def sparse_functions():
    """torch.sparse's C-bound functions, each public under a name of its own (torch.sparse.mm
    is torch._C._sparse._sparse_mm): `sparse.<public name>` gets the C function's
    signatures (whose name, in torch's messages, is the C name)."""
    found = {}
    for name in dir(torch.sparse):
        bound = getattr(torch.sparse, name)
        c_name = getattr(bound, "__name__", None)
        if name.startswith("_") or getattr(torch._C._sparse, c_name or "", None) is not bound:
            continue
        signatures = _signatures_of(c_name, "sparse")
        if signatures:
            found[f"sparse.{name}"] = signatures
    return found


def aliases(table):
    """Public names bound to a C function under another name (torch._segment_reduce is
    torch.segment_reduce): the signatures of that name."""
    found = {}
    for namespace, (_, _, c_module, public, prefix) in NAMESPACES.items():
        for name in dir(public):
            bound = getattr(public, name, None)
            c_name = getattr(bound, "__name__", name)
            key = f"{namespace}.{c_name[len(prefix):] if c_name.startswith(prefix) else c_name}"
            if c_name != name and key in table and getattr(c_module, c_name, None) is bound:
                found[f"{namespace}.{name}"] = table[key]
    return found


# wrappers whose parameters' names match the C function's but not their types
NOT_FORWARDING = {
    "ctc_loss",  # reduction: F's str becomes the C function's int
    "adaptive_avg_pool2d", "adaptive_avg_pool3d",  # output_size: F's may hold None
    "group_norm",  # num_groups: F's Python code divides by it first
}


def forwarding_wrappers(table):
    """torch.nn.functional's Python functions that hand their arguments, in order, to a C-bound
    function of the same name (F.pad to torch._C._nn.pad, F.group_norm to torch.group_norm):
    a bad argument meets that function's parser, so they get its signatures."""
    found = {}
    for name, fn in vars(torch.nn.functional).items():
        if name.startswith("_") or type(fn) is not types.FunctionType or \
                f"nn.{name}" in table or name in NOT_FORWARDING:
            continue
        signatures = None
        for c_module, namespace in ((torch._C._nn, "nn"), (torch._C._VariableFunctions, "torch")):
            if hasattr(c_module, name):
                signatures = _signatures_of(name, namespace)
                break
        if not signatures:
            continue
        python_names = list(inspect.signature(fn).parameters)
        c_names = [part.split("=")[0].rsplit(" ", 1)[-1]
                   for part in signatures[0].split("(", 1)[1][:-1].split(", ") if part != "*"]
        if c_names[:len(python_names)] == python_names:
            found[f"nn.{name}"] = signatures
    return found


def _signatures_of(name, namespace):
    """The generated signatures of a C-bound function, public or not."""
    predicate = SPARSE_PREDICATE if namespace == "sparse" else NAMESPACES[namespace][0]
    base = os.path.join(os.path.dirname(torchgen.__file__), "packaged")
    native = _native(base)
    pairs = gen.load_signatures(native, os.path.join(base, "autograd/deprecated.yaml"),
                                method=False)
    for op_name, overloads in gen.group_filter_overloads(pairs, predicate).items():
        if str(op_name) == name:
            return [o.signature.signature_str(symint=True)
                    for o in gen.group_overloads(overloads, symint=True)]
    return None


def _native(base):
    """native_functions.yaml's functions that get Python bindings (parsed once)."""
    if not hasattr(_native, "cache"):
        native = parse_native_yaml(os.path.join(base, "ATen/native/native_functions.yaml"),
                                   os.path.join(base, "ATen/native/tags.yaml")).native_functions
        _native.cache = [f for f in native if gen.should_generate_py_binding(f)]
    return _native.cache


def main():
    table = signatures()
    with open(OUT, "w") as out:
        out.write(f"# torch {torch.__version__}'s Python signatures: tools/gen_schemas.py\n")
        for key in sorted(table):
            for signature in table[key]:
                out.write(f"{key}\t{signature}\n")
    print(f"{len(table)} names written to {os.path.normpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
