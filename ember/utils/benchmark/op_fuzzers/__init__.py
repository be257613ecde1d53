"""Ready-made Fuzzers for unary, binary, spectral and sparse ops (matches
`torch.utils.benchmark.op_fuzzers`)."""
