"""Version facts, as `torch.version` has them, plus ember's own release (`ember.version.ember`).

`__version__` is the PyTorch release whose behaviour ember implements, so that scripts which test
`torch.__version__` take their modern code paths; the local label names ember's own release.
"""

ember = "0.1.0"
__version__ = f"2.13.0+ember{ember}"
debug = False
cuda = None
git_version = "Unknown"
hip = None
rocm = None
xpu = None
