"""`torch._inductor.config`: the settings scripts set most, with torch 2.13's CPU defaults.
ember has no inductor; they are recorded and ignored."""

import types

coordinate_descent_tuning = False
fx_graph_cache = True
freezing = False
max_autotune = False
epilogue_fusion = True
force_fuse_int_mm_with_mul = False
use_mixed_mm = True
cpp_wrapper = False
debug = False
aggressive_fusion = False
benchmark_kernel = False
shape_padding = True
split_reductions = True
conv_1x1_as_mm = False
fallback_random = False
layout_optimization = True
autotune_local_cache = True
triton = types.SimpleNamespace(unique_kernel_names=True, cudagraphs=False,
                               cudagraph_trees=True)
cpp = types.SimpleNamespace(threads=-1)
