"""The op_db checks ember does not pass yet, with the reason: the one list of them.

A key is an entry id ('max.reduction_with_dim': every check of that entry) or
'entry:kind' (one check: function, grad, method, inplace, alias-NAME, errors).
test_opinfo.py marks these `xfail(strict=True)`: fixing one turns its test red until the key
leaves this list. `python -m tests.ops.opinfo_report` lists the keys that now pass.
Reasons: "missing: <what>", "wrong: ...", "raises: ...", "complex numbers (#15)",
"linalg/fft/special (#15)", "sparse (#15)", "CUDA only".
"""

XFAIL = {
    'sparse.sampled_addmm:grad': 'torch gives the CSR input a dense grad; ember keeps its pattern',
    'gradient:errors': 'error input 3 is a meta-device tensor, which ember has no storage for',
    '_softmax_backward_data': 'internal aten op',
    'aminmax:errors': 'error inputs 1-2 have 65 dims: NumPy holds at most 64',
    'as_strided_scatter:grad': 'kept: torch 2.13\'s input grad is the complement of the true one',
    '_batch_norm_with_update': 'internal aten op',
    '_upsample_bilinear2d_aa': 'internal aten op',
    'max_pool2d_with_indices_backward': 'internal aten op',
    'torch._scaled_mm_v2': 'missing: needs float8 dtypes',
    'torch._scaled_mm': 'missing: needs float8 dtypes',
    'torch.ops.aten._safe_softmax.default': 'internal aten op',
    'torch.ops.aten._flash_attention_forward': 'CUDA only',
    'torch.ops.aten._efficient_attention_forward': 'CUDA only',
    'nn.functional.batch_norm.without_cudnn': 'CUDA only',
    'slice': 'internal aten op',
    'svd_lowrank': 'built; sketch seeded in torch only, U/V signs differ from MKL\'s',
    'pca_lowrank': 'built; sketch seeded in torch only, U/V signs differ from MKL\'s',
    'gather:errors': 'error input 5: out= shares index\'s memory; harness copies lose it',
    'take:errors': 'error input 0: out= shares index\'s memory; harness copies lose it',
    'chalf': 'complex numbers (#15)',
    'jiterator_unary': 'CUDA only',
    'jiterator_binary': 'CUDA only',
    'jiterator_4inputs_with_extra_args': 'CUDA only',
    'jiterator_binary_return_by_ref': 'CUDA only',
    'jiterator_2inputs_2outputs': 'CUDA only',
    'native_dropout_backward': 'internal aten op',
    'amax:errors': 'error inputs 1-2 have 65 dims: NumPy holds at most 64',
    'amin:errors': 'error inputs 1-2 have 65 dims: NumPy holds at most 64',
    'view_as_complex:float16': 'complex numbers (#15)',
    'complex:float16': 'complex numbers (#15)',
}


def xfail_reason(eid, kind):
    """Why the check `kind` of entry eid is expected to fail (None: it must pass)."""
    return XFAIL.get(f"{eid}:{kind}", XFAIL.get(eid))
