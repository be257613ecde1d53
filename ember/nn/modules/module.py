"""Module: the base class of every layer and model (matches `torch.nn.Module`).

A Module keeps three ordered dicts: `_parameters`, `_buffers` and `_modules` (children).
Assigning a Parameter, a Module or a registered buffer name to an attribute puts the value in
the right dict (`__setattr__`), and reading it back looks there (`__getattr__`, only called when
normal lookup fails). Everything else (parameters(), state_dict, train/eval, .to(), repr) walks
those dicts. Module inherits hook registration and the hooked call from `_ModuleHooks`
(`_hooks.py`), and state_dict/load_state_dict from `_ModuleStateDict` (`_state_dict.py`).

NOTE [The call fast path]
`module(x)` is `forward(x)` plus hooks. Most modules have no hooks, so `__call__` checks one
flag-like condition (are all four hook dicts empty?) and calls `forward` directly; only modules
with hooks take the slower path in `_call_with_hooks`.
"""


from ember._warnings import warn as _warn
from collections import OrderedDict

from ember import _dtype
from ember._device import check_device, device as _device_type
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.nn.modules._hooks import ACTIVE as _global_hooks_active
from ember.nn.modules._hooks import (_ModuleHooks, register_module_backward_hook,  # noqa: F401
                                     register_module_forward_hook,
                                     register_module_forward_pre_hook,
                                     register_module_full_backward_hook,
                                     register_module_full_backward_pre_hook)
from ember.nn.modules._hooks import (  # noqa: F401 - served as torch.nn.modules.module.*
    _GLOBAL_BUFFER_REGISTRATION as _BUFFER_HOOKS,
    _GLOBAL_MODULE_REGISTRATION as _MODULE_HOOKS,
    _GLOBAL_PARAMETER_REGISTRATION as _PARAMETER_HOOKS,
    register_module_buffer_registration_hook, register_module_module_registration_hook,
    register_module_parameter_registration_hook)
from ember.nn.modules._hooks import run_registration_hooks as _registration
from ember.nn.modules._state_dict import _ModuleStateDict
from ember.nn.parameter import Buffer, Parameter
from ember.ops.creation import empty_like


def typename(obj) -> str:
    """The name PyTorch's messages use for a value's type ('torch.FloatTensor', 'int')."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", None)
    prefix = f"{module}." if module not in (None, "builtins", "__builtin__") else ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    return prefix + (name or type(obj).__name__)


def _addindent(text: str, spaces: int) -> str:
    """Indent every line but the first (nested module reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _convert_for_to(t, dtype, memory_format):
    """t as Module.to makes it: floating and complex tensors in dtype (integer and bool ones
    keep theirs), and only 4-D and 5-D ones in memory_format."""
    if dtype is None or not (t.dtype.is_floating_point or t.dtype.is_complex):
        dtype = t.dtype
    if memory_format is not None and t.dim() in (4, 5):
        return t.to(dtype, memory_format=memory_format)
    return t.to(dtype)


class Module(_ModuleStateDict, _ModuleHooks):
    """Base class for all neural network modules (matches `torch.nn.Module`)."""

    dump_patches = False
    _version = 1
    training: bool
    call_super_init = False

    def __init__(self, *args, **kwargs) -> None:
        if kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword "
                            f"argument '{next(iter(kwargs))}'")
        if args:
            raise TypeError(f"{type(self).__name__}.__init__() takes 1 positional argument but "
                            f"{len(args) + 1} were given")
        setattr_ = super().__setattr__
        setattr_("training", True)
        setattr_("_parameters", {})
        setattr_("_buffers", {})
        setattr_("_non_persistent_buffers_set", set())
        setattr_("_modules", {})
        setattr_("_forward_pre_hooks", OrderedDict())
        setattr_("_forward_pre_hooks_with_kwargs", {})
        setattr_("_forward_hooks", OrderedDict())
        setattr_("_forward_hooks_with_kwargs", {})
        setattr_("_forward_hooks_always_called", {})
        setattr_("_backward_hooks", OrderedDict())
        setattr_("_backward_pre_hooks", OrderedDict())
        setattr_("_is_full_backward_hook", None)
        setattr_("_state_dict_hooks", OrderedDict())
        setattr_("_load_state_dict_pre_hooks", OrderedDict())
        setattr_("_load_state_dict_post_hooks", OrderedDict())

    def forward(self, *input):
        """Define the computation; subclasses override it."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    # ---- registration -------------------------------------------------------------------------
    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (matches `Module.register_buffer`)."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"buffer name should be a string. Got {typename(name)}")
        if "." in name:
            raise KeyError('buffer name can\'t contain "."')
        if name == "":
            raise KeyError('buffer name can\'t be empty string ""')
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{typename(tensor)}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        tensor = _registration(_BUFFER_HOOKS, self, name, tensor)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name: str, param) -> None:
        """Add a parameter under `name` (matches `Module.register_parameter`)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"parameter name should be a string. Got {typename(name)}")
        if "." in name:
            raise KeyError('parameter name can\'t contain "."')
        if name == "":
            raise KeyError('parameter name can\'t be empty string ""')
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{typename(param)}' object to parameter '{name}' "
                            "(torch.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                f"created explicitly. To express '{name}' as a function of another Tensor, "
                "compute the value in the forward() method.")
        self._parameters[name] = _registration(_PARAMETER_HOOKS, self, name, param)

    def add_module(self, name: str, module) -> None:
        """Add a child module under `name` (matches `Module.add_module`)."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = _registration(_MODULE_HOOKS, self, name, module)

    def register_module(self, name: str, module) -> None:
        """Alias of add_module (matches `Module.register_module`)."""
        self.add_module(name, module)

    def get_submodule(self, target: str) -> "Module":
        """The submodule at a dotted path like 'net.0' (matches `Module.get_submodule`)."""
        if target == "":
            return self
        module = self
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(module._get_name() + " has no attribute `" + item + "`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return module

    def set_submodule(self, target: str, module: "Module", strict: bool = False) -> None:
        """Put `module` at a dotted path like 'net.0' (matches `Module.set_submodule`)."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict and not hasattr(parent, name):
            raise AttributeError(parent._get_name() + " has no attribute `" + name + "`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError("`" + name + "` is not an nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path (matches `Module.get_parameter`)."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(module._get_name() + " has no attribute `" + name + "`")
        param = getattr(module, name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path (matches `Module.get_buffer`)."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(module._get_name() + " has no attribute `" + name + "`")
        if name not in module._buffers:
            raise AttributeError("`" + name + "` is not a buffer")
        return getattr(module, name)

    # ---- attribute access ---------------------------------------------------------------------
    def __getattr__(self, name: str):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._remove_name(name, d, self._buffers, self._modules)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        else:
            modules = d.get("_modules")
            if isinstance(value, Module):
                if modules is None:
                    raise AttributeError("cannot assign module before Module.__init__() call")
                self._remove_name(name, d, self._parameters, self._buffers)
                modules[name] = _registration(_MODULE_HOOKS, self, name, value)
            elif modules is not None and name in modules:
                if value is not None:
                    raise TypeError(f"cannot assign '{typename(value)}' as child module "
                                    f"'{name}' (torch.nn.Module or None expected)")
                modules[name] = _registration(_MODULE_HOOKS, self, name, value)
            else:
                buffers = d.get("_buffers")
                if isinstance(value, Buffer) or (buffers is not None and name in buffers):
                    if value is not None and not isinstance(value, Tensor):
                        raise TypeError(f"cannot assign '{typename(value)}' as buffer '{name}' "
                                        "(torch.nn.Buffer, torch.Tensor or None expected)")
                    if isinstance(value, Buffer):
                        persistent = value.persistent
                    else:
                        persistent = name not in self._non_persistent_buffers_set
                    self.register_buffer(name, value, persistent)
                else:
                    object.__setattr__(self, name, value)

    def _remove_name(self, name, *stores):
        for store in stores:
            store.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = list(dir(type(self))) + list(self.__dict__) + list(self._parameters)
        keys += list(self._modules) + list(self._buffers)
        return sorted(key for key in set(keys) if not key[0].isdigit())

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name, default in (("_forward_pre_hooks_with_kwargs", {}),
                              ("_forward_hooks_with_kwargs", {}),
                              ("_forward_hooks_always_called", {}),
                              ("_backward_pre_hooks", OrderedDict()),
                              ("_state_dict_hooks", OrderedDict()),
                              ("_load_state_dict_pre_hooks", OrderedDict()),
                              ("_load_state_dict_post_hooks", OrderedDict()),
                              ("_non_persistent_buffers_set", set()),
                              ("_is_full_backward_hook", None)):
            self.__dict__.setdefault(name, default)

    # ---- iteration over members ---------------------------------------------------------------
    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        seen = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for module_prefix, module in modules:
            for name, value in get_members(module):
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield (module_prefix + ("." if module_prefix else "") + name, value)

    def parameters(self, recurse: bool = True):
        """Iterate over the parameters (matches `Module.parameters`)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        """Iterate over (name, parameter) pairs (matches `Module.named_parameters`)."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                       remove_duplicate)

    def buffers(self, recurse: bool = True):
        """Iterate over the buffers (matches `Module.buffers`)."""
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True):
        """Iterate over (name, buffer) pairs (matches `Module.named_buffers`)."""
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse,
                                       remove_duplicate)

    def children(self):
        """Iterate over the direct children (matches `Module.children`)."""
        for _, module in self.named_children():
            yield module

    def named_children(self):
        """Iterate over (name, child) pairs, each child once (matches `Module.named_children`)."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def modules(self, remove_duplicate: bool = True):
        """Iterate over this module and all its descendants (matches `Module.modules`)."""
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """Pre-order (name, module) pairs, self first (matches `Module.named_modules`)."""
        memo = set() if memo is None else memo
        if self in memo:  # torch skips a module already in memo even without remove_duplicate
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub_prefix, remove_duplicate)

    # ---- modes and gradients ------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Set training mode here and in all descendants (matches `Module.train`)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> "Module":
        """Set evaluation mode (matches `Module.eval`)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Set requires_grad on every parameter (matches `Module.requires_grad_`)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the parameters' gradients (matches `Module.zero_grad`)."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                if param.grad.grad_fn is not None:
                    param.grad.detach_()
                else:
                    param.grad.requires_grad_(False)
                param.grad.zero_()

    # ---- conversion -------------------------------------------------------------------------
    def _apply(self, fn, recurse: bool = True) -> "Module":
        """Replace every parameter's and buffer's data by fn(tensor), keeping the objects."""
        if recurse:
            for module in self.children():
                module._apply(fn)
        with grad_mode.no_grad():
            for param in self._parameters.values():
                if param is None:
                    continue
                param._data = fn(param)._data
                if param.grad is not None:
                    param.grad._data = fn(param.grad)._data
            for name, buf in self._buffers.items():
                if buf is not None:
                    self._buffers[name] = fn(buf)
        return self

    def apply(self, fn) -> "Module":
        """Call fn on every descendant, then on self (matches `Module.apply`)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs) -> "Module":
        """Cast floating-point parameters and buffers (and lay out the 4-D/5-D ones in
        `memory_format`); CPU only (matches `Module.to`)."""
        dtype, memory_format = kwargs.get("dtype"), kwargs.get("memory_format")
        check_device(kwargs.get("device"))
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, _dtype.dtype):
                dtype = arg
            elif isinstance(arg, (str, _device_type, int)):
                check_device(arg)
        if dtype is None and memory_format is None:
            return self
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError("nn.Module.to only accepts floating point or complex dtypes, but "
                            f"got desired dtype={dtype}")
        if dtype is not None and dtype.is_complex:
            _warn(
                "Complex modules are a new feature under active development whose design may "
                "change, and some modules might not work as expected when using complex tensors "
                "as parameters or buffers. Please file an issue at https://github.com/pytorch/"
                "pytorch/issues/new?template=bug-report.yml if a complex module does not work as "
                "expected.", stacklevel=2)
        return self._apply(lambda t: _convert_for_to(t, dtype, memory_format))

    def _cast_floats(self, dtype) -> "Module":
        return self._apply(lambda t: t.to(dtype) if t.dtype.is_floating_point else t)

    def float(self) -> "Module":
        """Cast floating-point parameters and buffers to float32 (matches `Module.float`)."""
        return self._cast_floats(_dtype.float32)

    def double(self) -> "Module":
        """Cast floating-point parameters and buffers to float64 (matches `Module.double`)."""
        return self._cast_floats(_dtype.float64)

    def half(self) -> "Module":
        """Cast floating-point parameters and buffers to float16 (matches `Module.half`)."""
        return self._cast_floats(_dtype.float16)

    def bfloat16(self) -> "Module":
        """Cast floating-point parameters and buffers to bfloat16 (matches `Module.bfloat16`)."""
        return self._cast_floats(_dtype.bfloat16)

    def to_empty(self, *, device, recurse: bool = True) -> "Module":
        """Replace parameters and buffers by uninitialized ones on device (matches
        `Module.to_empty`; ember's only device is the CPU)."""
        check_device(device)
        return self._apply(lambda t: empty_like(t), recurse=recurse)

    def type(self, dst_type) -> "Module":
        """Cast all parameters and buffers to dst_type (matches `Module.type`)."""
        return self._apply(lambda t: t.type(dst_type))

    def cpu(self) -> "Module":
        """Move to the CPU: ember's tensors already live there (matches `Module.cpu`)."""
        return self

    def cuda(self, device=None) -> "Module":
        """Raise as a CPU-only PyTorch does (matches `Module.cuda`)."""
        check_device("cuda" if device is None or isinstance(device, int) else device)
        return self

    def share_memory(self) -> "Module":
        """Move parameters and buffers to shared memory (matches `Module.share_memory`)."""
        for tensor in (*self.parameters(), *self.buffers()):
            tensor.share_memory_()
        return self

    def compile(self, *args, **kwargs) -> None:
        """Accepted for compatibility: ember runs eagerly (matches `Module.compile`'s call)."""

    # ---- calling (hooks: `_ModuleHooks` in _hooks.py) ---------------------------------------
    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or self._backward_pre_hooks or _global_hooks_active[0]):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    _call_impl = __call__

    # ---- printing -----------------------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr; layers override it."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2)
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"
