"""Function transforms (matches `torch.func`): grad, grad_and_value, vjp, jvp, jacrev, jacfwd,
hessian, vmap, linearize, functionalize, functional_call, stack_module_state and
replace_all_batch_norm_modules_. See NOTE [Transforms on a tape] and NOTE [Batched tensors]."""

from ember.func.functional_call import functional_call
from ember.func.linearize import functionalize, linearize
from ember.func.module_state import replace_all_batch_norm_modules_, stack_module_state
from ember.func.transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp
from ember.func.vmap import vmap

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap",
           "functional_call", "linearize", "functionalize", "stack_module_state",
           "replace_all_batch_norm_modules_"]
