"""The tables of `torch.overrides`: what can and cannot be overridden, and the names of
overridable functions (`get_ignored_functions`, `get_overridable_functions`, `resolve_name`,
`get_testing_overrides`), loaded on first use (ember/overrides.py's `__getattr__`)."""

import functools
import importlib
import inspect
import sys

from ember import overrides
from ember._tensor import Tensor

# torch's get_ignored_functions(), by name (torch.<name>): functions a `__torch_function__`
# never sees on their arguments (factories, state and flag functions, Tensor internals)
_IGNORED = (
    "TYPE_CHECKING Tensor.__dir__ Tensor.__hash__ Tensor.__iter__ Tensor.__torch_dispatch__ "
    "Tensor.eig Tensor.lstsq Tensor.reinforce Tensor.solve Tensor.symeig Tensor.to_sparse_coo "
    "Tensor.unflatten USE_GLOBAL_DEPS arange are_deterministic_algorithms_enabled as_strided "
    "as_tensor asarray autocast_decrement_nesting autocast_increment_nesting bartlett_window "
    "blackman_window broadcast_shapes can_cast clear_autocast_cache compile cond "
    "cudnn_affine_grid_generator cudnn_batch_norm cudnn_convolution cudnn_convolution_add_relu "
    "cudnn_convolution_relu cudnn_convolution_transpose cudnn_grid_sampler cudnn_is_acceptable "
    "default_generator device dtype empty empty_permuted empty_quantized empty_strided "
    "enable_grad eye fft.fftfreq fft.rfftfreq fill finfo fork from_file from_numpy frombuffer "
    "full get_autocast_cpu_dtype get_autocast_dtype get_autocast_gpu_dtype "
    "get_autocast_ipu_dtype get_autocast_xla_dtype get_default_device get_default_dtype "
    "get_deterministic_debug_mode get_device_module get_float32_matmul_precision "
    "get_num_interop_threads get_num_threads get_rng_state hamming_window hann_window iinfo "
    "import_ir_module import_ir_module_from_buffer inference_mode init_num_threads initial_seed "
    "is_anomaly_check_nan_enabled is_anomaly_enabled is_autocast_cache_enabled "
    "is_autocast_cpu_enabled is_autocast_enabled is_autocast_ipu_enabled "
    "is_autocast_xla_enabled is_deterministic_algorithms_warn_only_enabled is_grad_enabled "
    "is_inference_mode_enabled is_storage is_tensor is_vulkan_available is_warn_always_enabled "
    "kaiser_window layout linspace load logspace manual_seed memory_format "
    "merge_type_from_type_comment miopen_ctc_loss mkldnn_adaptive_avg_pool2d mkldnn_convolution "
    "mkldnn_linear_backward_weights mkldnn_max_pool2d mkldnn_max_pool3d mkldnn_rnn_layer "
    "nn.functional.assert_int_or_pair nn.functional.boolean_dispatch nn.functional.grouped_mm "
    "nn.functional.handle_torch_function nn.functional.hardsigmoid nn.functional.hardswish "
    "nn.functional.has_torch_function nn.functional.has_torch_function_unary "
    "nn.functional.has_torch_function_variadic nn.functional.scaled_grouped_mm "
    "nn.functional.scaled_mm nn.functional.sigmoid nn.functional.tanh nn.functional.upsample "
    "nn.functional.upsample_bilinear nn.functional.upsample_nearest nn.init.calculate_gain "
    "nn.init.constant nn.init.dirac nn.init.eye nn.init.kaiming_normal nn.init.kaiming_uniform "
    "nn.init.normal nn.init.orthogonal nn.init.sparse nn.init.uniform nn.init.xavier_normal "
    "nn.init.xavier_uniform no_grad normal ones parse_ir parse_schema parse_type_comment "
    "promote_types qscheme rand rand_like randint randint_like randn randn_like randperm range "
    "result_type save scalar_tensor seed set_anomaly_enabled set_autocast_cache_enabled "
    "set_autocast_cpu_dtype set_autocast_cpu_enabled set_autocast_dtype set_autocast_enabled "
    "set_autocast_gpu_dtype set_autocast_ipu_dtype set_autocast_ipu_enabled "
    "set_autocast_xla_dtype set_autocast_xla_enabled set_default_device set_default_tensor_type "
    "set_deterministic_debug_mode set_float32_matmul_precision set_flush_denormal "
    "set_grad_enabled set_num_interop_threads set_num_threads set_printoptions set_rng_state "
    "set_warn_always sparse_bsc_tensor sparse_bsr_tensor sparse_compressed_tensor "
    "sparse_coo_tensor sparse_csc_tensor sparse_csr_tensor sym_constrain_range "
    "sym_constrain_range_for_size sym_fresh_size tensor thread_safe_generator tril_indices "
    "triu_indices typename unify_type_list use_deterministic_algorithms vander vmap wait zeros"
).split()

# the namespaces searched for overridable functions, and torch's names for them
_NAMESPACES = (("ember", "torch"), ("ember.functional", "torch.functional"),
               ("ember.nn.functional", "torch.nn.functional"), ("ember.nn.init", "torch.nn.init"),
               ("Tensor", "torch.Tensor"), ("ember.linalg", "torch.linalg"),
               ("ember.fft", "torch.fft"), ("ember.special", "torch.special"))


def _resolve(dotted):
    """The ember object for a torch name ('Tensor.eig', 'arange'), or None."""
    target = sys.modules["ember"]
    for part in dotted.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            return None
    return target


def get_ignored_functions() -> set:
    """The public functions that cannot be overridden (matches
    `torch.overrides.get_ignored_functions`)."""
    found = set()
    for name in _IGNORED:
        value = _resolve(name)
        if value is not None and callable(value) and not isinstance(value, type):
            try:
                found.add(value)
            except TypeError:  # (unhashable)
                pass
    return found


@functools.cache
def _overridable():
    """({namespace: [functions]}, {function: torch's name}), as torch computes them: by
    namespace in torch's order, a function found again named by the later namespace."""
    ignored = get_ignored_functions()
    by_namespace, names = {}, {}
    for module_name, label in _NAMESPACES:
        if module_name == "Tensor":
            _tensor_methods(by_namespace, names, ignored)
            continue
        module = importlib.import_module(module_name)
        functions = by_namespace.setdefault(module, [])
        for name in getattr(module, "__all__", None) or dir(module):
            value = getattr(module, name, None)
            if name.startswith("_") or not callable(value) or isinstance(value, type) or \
                    inspect.ismodule(value):
                continue
            names[value] = f"{label}.{name}"  # (ignored ones too, as torch's)
            if not _is_ignored(value, ignored) and not name.endswith("_") and name[0].islower():
                functions.append(value)
    return by_namespace, names


def _tensor_methods(by_namespace, names, ignored):
    """The Tensor part of `_overridable` (Tensor's own methods, if a mode wrapped them)."""
    methods = by_namespace.setdefault(Tensor, [])
    for name, value in {**vars(Tensor), **overrides.ORIGINALS}.items():
        if name.startswith("_") and not name.startswith("__") or name in ("__init__", "__new__"):
            continue
        if isinstance(value, property):
            getter = value.__get__
            by_namespace.setdefault(value, []).append(getter)
            names[getter] = f"torch.Tensor.{name}.__get__"
        elif callable(value):
            names[value] = f"torch.Tensor.{name}"
            if not _is_ignored(value, ignored):
                methods.append(value)


def _is_ignored(value, ignored) -> bool:
    try:
        return value in ignored
    except TypeError:
        return False


def get_overridable_functions() -> dict:
    """{namespace: [the functions in it a `__torch_function__` can override]} (matches
    `torch.overrides.get_overridable_functions`)."""
    return _overridable()[0]


def resolve_name(f):
    """torch's name of a function passed to `__torch_function__` ('torch.Tensor.add',
    'torch.nn.functional.linear'), or None (matches `torch.overrides.resolve_name`)."""
    names = _overridable()[1]
    try:
        # (a Tensor method made to dispatch while a mode is on is named as the method)
        return names.get(f) or names.get(getattr(f, "__wrapped__", None))
    except TypeError:
        return None


def is_tensor_method_or_property(func) -> bool:
    """Whether func is a Tensor method, or a property's __get__, as passed to
    `__torch_function__` (matches `torch.overrides.is_tensor_method_or_property`)."""
    methods = _overridable()[0][Tensor]
    return func in methods or getattr(func, "__wrapped__", None) in methods or \
        getattr(func, "__name__", None) == "__get__"


def get_testing_overrides() -> dict:
    """{overridable function: a dummy with its signature returning -1} (matches
    `torch.overrides.get_testing_overrides`)."""
    overrides = {}
    for functions in get_overridable_functions().values():
        for func in functions:
            overrides[func] = _dummy(func)
    return overrides


def _dummy(func):
    """A function of func's signature (when it has one) that returns -1."""

    def dummy(*args, **kwargs):
        return -1

    try:
        dummy.__signature__ = inspect.signature(func)
    except (TypeError, ValueError):
        pass
    return dummy


def get_default_nowrap_functions() -> set:
    """The functions whose results `Tensor.__torch_function__` does not wrap."""
    return sys.modules["ember._torch_function"].get_default_nowrap_functions()
