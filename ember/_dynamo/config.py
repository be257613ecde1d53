"""`torch._dynamo.config`: the settings training scripts read and write, with torch's defaults.
ember captures no graphs (NOTE [torch.compile runs eagerly]), so they change nothing."""

suppress_errors = False
cache_size_limit = 8
accumulated_cache_size_limit = 256
recompile_limit = 8
verbose = False
capture_scalar_outputs = False
capture_dynamic_output_shape_ops = False
optimize_ddp = True
automatic_dynamic_shapes = True
assume_static_by_default = True
force_parameter_static_shapes = True
compiled_autograd = False
error_on_recompile = False
guard_nn_modules = True
specialize_int = False
dynamic_shapes = True
