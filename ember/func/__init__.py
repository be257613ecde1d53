"""Function transforms (matches `torch.func`): grad, grad_and_value, vjp, jvp, jacrev, jacfwd,
hessian, vmap and functional_call. See NOTE [Transforms on a tape] and NOTE [Batched tensors]."""

from ember.func.functional_call import functional_call
from ember.func.transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp
from ember.func.vmap import vmap

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap",
           "functional_call"]
