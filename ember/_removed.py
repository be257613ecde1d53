"""Names PyTorch keeps only to say they are gone: the pre-1.9 linear algebra (`torch.eig`,
`symeig`, `lstsq`, `solve`, `matrix_rank`), `Tensor.reinforce`, and the moves to devices a CPU
build has no support for (`Tensor.xpu`, `ipu`, `mtia`). Old programs call them; they get
torch's exception type and its message, which says what to write instead.
"""

from ember._registry import tensor_method, torch_function

_REMOVED = "This function was deprecated since version 1.9 and is now removed."

_EIG = (f"{_REMOVED} `torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` "
        "rather than real tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be "
        "replaced with:\nL_complex = torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, "
        "eigenvectors=True) should be replaced with:\nL_complex, V_complex = torch.linalg.eig(A)")
_SYMEIG = (f"{_REMOVED} The default behavior has changed from using the upper triangular "
           "portion of the matrix by default to using the lower triangular portion.\n\nL, _ = "
           "torch.symeig(A, upper=upper) should be replaced with:\nL = torch.linalg.eigvalsh(A, "
           "UPLO='U' if upper else 'L')\n\nand\n\nL, V = torch.symeig(A, eigenvectors=True) "
           "should be replaced with:\nL, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')")
_LSTSQ = (f"{_REMOVED} `torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n"
          "`torch.linalg.lstsq` has reversed arguments and does not return the QR decomposition "
          "in the returned tuple (although it returns other information about the problem).\n\n"
          "To get the QR decomposition consider using `torch.linalg.qr`.\n\nThe returned "
          "solution in `torch.lstsq` stored the residuals of the solution in the last m - n "
          "columns of the returned value whenever m > n. In torch.linalg.lstsq, the residuals "
          "are in the field 'residuals' of the returned named tuple.\n\nThe unpacking of the "
          "solution, as in\nX, _ = torch.lstsq(B, A).solution[:A.size(1)]\nshould be replaced "
          "with:\nX = torch.linalg.lstsq(A, B).solution")
_SOLVE = (f"{_REMOVED} `torch.solve` is deprecated in favor of `torch.linalg.solve`. "
          "`torch.linalg.solve` has its arguments reversed and does not return the LU "
          "factorization.\n\nTo get the LU factorization see `torch.lu`, which can be used with "
          "`torch.lu_solve` or `torch.lu_unpack`.\nX = torch.solve(B, A).solution should be "
          "replaced with:\nX = torch.linalg.solve(A, B)")
_MATRIX_RANK = (f"{_REMOVED}\nPlease use the `torch.linalg.matrix_rank` function instead. The "
                "parameter 'symmetric' was renamed in `torch.linalg.matrix_rank()` to "
                "'hermitian'.")
_REINFORCE = ("reinforce() was removed.\nUse torch.distributions instead.\nSee "
              "https://pytorch.org/docs/main/distributions.html\n\nInstead of:\n\nprobs = "
              "policy_network(state)\naction = probs.multinomial()\nnext_state, reward = "
              "env.step(action)\naction.reinforce(reward)\naction.backward()\n\nUse:\n\nprobs = "
              "policy_network(state)\n# NOTE: categorical is equivalent to what used to be called "
              "multinomial\nm = torch.distributions.Categorical(probs)\naction = m.sample()\n"
              "next_state, reward = env.step(action)\nloss = -m.log_prob(action) * reward\n"
              "loss.backward()\n")


@torch_function()
@tensor_method()
def eig(*args, **kwargs):
    """Removed in torch 1.9: raises torch's RuntimeError naming `torch.linalg.eig`."""
    raise RuntimeError(_EIG)


@torch_function()
@tensor_method()
def symeig(*args, **kwargs):
    """Removed in torch 1.9: raises torch's RuntimeError naming `torch.linalg.eigh`."""
    raise RuntimeError(_SYMEIG)


@torch_function()
@tensor_method()
def lstsq(*args, **kwargs):
    """Removed in torch 1.9: raises torch's RuntimeError naming `torch.linalg.lstsq`."""
    raise RuntimeError(_LSTSQ)


@torch_function()
@tensor_method()
def solve(*args, **kwargs):
    """Removed in torch 1.9: raises torch's RuntimeError naming `torch.linalg.solve`."""
    raise RuntimeError(_SOLVE)


@torch_function()
def matrix_rank(*args, **kwargs):
    """Removed in torch 1.9: raises torch's RuntimeError naming `torch.linalg.matrix_rank`."""
    raise RuntimeError(_MATRIX_RANK)


@tensor_method()
def reinforce(self, *args, **kwargs):
    """Removed from torch: raises its RuntimeError pointing to torch.distributions."""
    raise RuntimeError(_REINFORCE)


@tensor_method()
def xpu(self, *args, **kwargs):
    """A CPU build has no XPU: torch's AssertionError."""
    raise AssertionError("Torch not compiled with XPU enabled")


@tensor_method()
def ipu(self, *args, **kwargs):
    """A CPU build has no IPU: torch's RuntimeError."""
    raise RuntimeError("PyTorch is not linked with support for ipu devices")


@tensor_method()
def mtia(self, *args, **kwargs):
    """A CPU build has no MTIA: torch's AssertionError."""
    raise AssertionError(
        "Torch not compiled with MTIA enabled. Ensure you have `import "
        "mtia.host_runtime.torch_mtia.dynamic_library` in your python src file and include "
        "`//mtia/host_runtime/torch_mtia:torch_mtia` as your target dependency!")
