"""The arithmetic of PyTorch's CPU samplers, reproduced bit for bit on whole arrays.

`samplers` turns a generator's words into torch's uniforms, normals, integers and permutations;
`mathfun` re-implements the float32 SIMD log and sine/cosine that torch's vectorised Box–Muller
uses, and exact fused multiply-adds; `libm` gives glibc's double-precision functions where
NumPy's differ from them.
NOTE [PyTorch's random streams] in ember/random.py says how they fit together.
"""
