"""Pruning: zero out parts of a parameter through a mask (matches `torch.nn.utils.prune`).

A pruned parameter `weight` becomes the Parameter `weight_orig` and the buffer `weight_mask`,
and a forward pre-hook sets the plain attribute `weight = weight_orig * weight_mask` before
every forward; `prune.remove` folds the mask in and makes `weight` a Parameter again. Pruning
twice combines the masks (a PruningContainer), pruning only what is still unpruned.
"""

import numbers

from ember.autograd.grad_mode import no_grad
from ember.nn.parameter import Parameter
from ember.ops.creation import ones_like, rand, rand_like, zeros_like
from ember.ops.joins import cat


class BasePruningMethod:
    """A forward pre-hook applying a mask to one parameter."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, name="weight"):
        self._tensor_name = name

    def compute_mask(self, t, default_mask):
        raise NotImplementedError

    def apply_mask(self, module):
        orig = getattr(module, self._tensor_name + "_orig")
        return orig * getattr(module, self._tensor_name + "_mask")

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune module.name with this method; combine with an earlier pruning if there is one."""
        method = cls(*args, **kwargs)
        method._tensor_name = name
        previous = _find_hook(module, name)
        if previous is not None:
            default_mask = getattr(module, name + "_mask").detach().clone()
            del module._forward_pre_hooks[previous[0]]
            container = previous[1] if isinstance(previous[1], PruningContainer) else \
                PruningContainer(previous[1])
            container.add_pruning_method(method)
            method = container
        else:
            default_mask = ones_like(getattr(module, name))
            orig = module._parameters.pop(name)
            module.register_parameter(name + "_orig", orig)
        orig = getattr(module, name + "_orig")
        scores = importance_scores if importance_scores is not None else orig
        try:
            with no_grad():
                mask = method.compute_mask(scores, default_mask=default_mask)
        except Exception:
            if previous is None:  # leave the module as it was, as torch does
                module.register_parameter(name, module._parameters.pop(name + "_orig"))
            raise
        module.register_buffer(name + "_mask", mask)
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def remove(self, module):
        """Make the pruned values permanent: name becomes a Parameter again."""
        weight = self.apply_mask(module).detach()
        delattr(module, self._tensor_name)
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        module.register_parameter(self._tensor_name, Parameter(weight))


class PruningContainer(BasePruningMethod):
    """Several prunings of one parameter, applied one after the other."""

    def __init__(self, *methods):
        self._pruning_methods = tuple(methods)
        self._tensor_name = methods[0]._tensor_name

    def add_pruning_method(self, method):
        self._pruning_methods += (method,)

    def compute_mask(self, t, default_mask):
        """The newest method prunes only among the entries the earlier ones kept."""
        method = self._pruning_methods[-1]
        if method.PRUNING_TYPE == "structured":  # among the slices along dim still kept
            dim = method.dim % t.dim()
            others = [d for d in range(t.dim()) if d != dim]
            index = [slice(None)] * t.dim()
            index[dim] = default_mask.sum(dim=others) != 0 if others else default_mask != 0
            index = tuple(index)
            mask = default_mask.clone()
            mask[index] = method.compute_mask(t[index], default_mask=default_mask[index]).to(
                mask.dtype)
            return mask
        if method.PRUNING_TYPE != "unstructured":
            return default_mask * method.compute_mask(t, default_mask=default_mask)
        kept = default_mask.reshape(-1).nonzero().reshape(-1)
        remaining = t.reshape(-1)[kept]
        mask = default_mask.clone()
        mask.view(-1)[kept] = method.compute_mask(remaining, default_mask=ones_like(remaining))
        return mask


def _amount_to_prune(amount, size):
    """An int count, or a fraction of `size` rounded as torch rounds it."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters "
                             f"to prune={size}")
        return int(amount)
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         "non-negative integer")
    return round(amount * size)


class Identity(BasePruningMethod):
    """Prune nothing (a mask of ones)."""

    def compute_mask(self, t, default_mask):
        return default_mask


class RandomUnstructured(BasePruningMethod):
    """Prune `amount` entries chosen at random (as torch, regardless of default_mask: pruned
    again, the PruningContainer passes only the entries still kept)."""

    def __init__(self, amount):
        self.amount = amount

    def compute_mask(self, t, default_mask):
        count = _amount_to_prune(self.amount, t.numel())
        mask = default_mask.clone()
        if count:  # torch draws one number per entry and prunes the `count` largest
            mask.view(-1)[rand_like(t).view(-1).topk(count).indices] = 0
        return mask


class L1Unstructured(BasePruningMethod):
    """Prune the `amount` entries of smallest absolute value."""

    def __init__(self, amount):
        self.amount = amount

    def compute_mask(self, t, default_mask):
        count = _amount_to_prune(self.amount, t.numel())
        mask = default_mask.clone()
        if count:
            smallest = t.abs().view(-1).topk(count, largest=False).indices
            mask.view(-1)[smallest] = 0
        return mask


class LnStructured(BasePruningMethod):
    """Prune whole slices along `dim` with the smallest Ln norm."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        if t.dim() <= 1:
            raise ValueError("Structured pruning can only be applied to multidimensional "
                             f"tensors. Found tensor of shape {t.shape} with {t.dim()} dims")
        dim = self.dim % t.dim()
        count = _amount_to_prune(self.amount, t.shape[dim])
        other = [d for d in range(t.dim()) if d != dim]
        norms = t.norm(p=self.n, dim=other) if other else t.abs()
        mask = default_mask.clone()
        if count:
            index = [slice(None)] * t.dim()
            index[dim] = norms.topk(count, largest=False).indices
            mask[tuple(index)] = 0
        return mask


class RandomStructured(BasePruningMethod):
    """Prune `amount` whole slices along `dim`, chosen at random: torch draws one uniform
    number per slice and keeps the slices above the amount-th smallest."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        if t.dim() <= 1:
            raise ValueError("Structured pruning can only be applied to multidimensional "
                             f"tensors. Found tensor of shape {t.shape} with {t.dim()} dims")
        dim = self.dim % t.dim()
        count = _amount_to_prune(self.amount, t.shape[dim])
        if count == 0:
            return default_mask
        prob = rand(t.shape[dim])
        keep = prob > prob.kthvalue(count).values
        mask = zeros_like(t)
        index = [slice(None)] * t.dim()
        index[dim] = keep
        mask[tuple(index)] = 1
        return mask * default_mask.to(mask.dtype)


class CustomFromMask(BasePruningMethod):
    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        return default_mask * self.mask.to(default_mask.dtype)


def _find_hook(module, name):
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            return key, hook
    return None


def identity(module, name):
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    L1Unstructured.apply(module, name, amount, importance_scores=importance_scores)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    RandomStructured.apply(module, name, amount, dim)
    return module


def custom_from_mask(module, name, mask):
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune across several parameters at once: the smallest entries overall."""
    parameters = list(parameters)
    scores = [(importance_scores or {}).get((m, n), getattr(m, n)) for m, n in parameters]
    flat = [s.detach().reshape(-1) for s in scores]
    joined = cat(flat)
    method = pruning_method(**kwargs)
    mask = method.compute_mask(joined, default_mask=ones_like(joined))
    start = 0
    for (module, name), piece in zip(parameters, flat):
        size = piece.numel()
        custom_from_mask(module, name, mask[start:start + size].view(getattr(module, name).shape))
        start += size


def remove(module, name):
    """Make the pruning of module.name permanent (matches `prune.remove`)."""
    found = _find_hook(module, name)
    if found is None:
        raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before "
                         "pruning can be removed")
    found[1].remove(module)
    del module._forward_pre_hooks[found[0]]
    return module


def is_pruned(module) -> bool:
    """Whether any submodule has a pruning hook."""
    return any(isinstance(hook, BasePruningMethod)
               for m in module.modules() for hook in m._forward_pre_hooks.values())
