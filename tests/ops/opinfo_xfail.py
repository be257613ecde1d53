"""The op_db checks ember does not pass yet, with the reason: the one list of them.

A key is an entry id ('max.reduction_with_dim': every check of that entry) or
'entry:kind' (one check: function, grad, method, inplace, alias-NAME, errors).
test_opinfo.py marks these `xfail(strict=True)`: fixing one turns its test red until the key
leaves this list. `python -m tests.ops.opinfo_report` lists the keys that now pass.
Reasons: "missing: <what>", "wrong: ...", "raises: ...", "complex numbers (#15)",
"linalg/fft/special (#15)", "sparse (#15)", "CUDA only".
"""

XFAIL = {
    'torch.ops.aten._flash_attention_forward': 'CUDA only',
    'torch.ops.aten._efficient_attention_forward': 'CUDA only',
    'nn.functional.batch_norm.without_cudnn': 'CUDA only',
    'chalf': 'complex numbers (#15)',
    'jiterator_unary': 'CUDA only',
    'jiterator_binary': 'CUDA only',
    'jiterator_4inputs_with_extra_args': 'CUDA only',
    'jiterator_binary_return_by_ref': 'CUDA only',
    'jiterator_2inputs_2outputs': 'CUDA only',
    'view_as_complex:float16': 'complex numbers (#15)',
    'complex:float16': 'complex numbers (#15)',
}


def xfail_reason(eid, kind):
    """Why the check `kind` of entry eid is expected to fail (None: it must pass)."""
    return XFAIL.get(f"{eid}:{kind}", XFAIL.get(eid))
