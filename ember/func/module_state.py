"""Preparing modules for function transforms: stack_module_state (model ensembles under vmap) and
replace_all_batch_norm_modules_ (match `torch.func`)."""

from ember.ops.joins import stack


def _stacked_leaf(tensors, name: str):
    """The tensors stacked along a new dim 0; a new leaf requiring grad if they all do."""
    wants = [t.requires_grad for t in tensors]
    if any(wants) and not all(wants):
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    result = stack(tensors)
    return result.detach().requires_grad_() if all(wants) else result


def stack_module_state(models):
    """(params, buffers): each name's tensors of the M models stacked along dim 0, the
    parameters as new leaves (matches `torch.func.stack_module_state`)."""
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or not any(m.training for m in models)):
        raise RuntimeError(
            "stack_module_state: Expected all models to have the same training/eval mode.")
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    stacked = []
    for named in ("named_parameters", "named_buffers"):
        per_model = [dict(getattr(m, named)()) for m in models]
        stacked.append({name: _stacked_leaf(tuple(state[name] for state in per_model), name)
                        for name in per_model[0]})
    return tuple(stacked)


def _is_batch_norm(module) -> bool:
    # nn.modules sits above this layer: BatchNorm1d/2d/3d/SyncBatchNorm by their base class name
    return any(cls.__name__ == "_BatchNorm" for cls in type(module).__mro__)


def replace_all_batch_norm_modules_(root):
    """Every batch norm of root stops tracking running statistics (running_mean, running_var
    and num_batches_tracked become None), in place; returns root (matches
    `torch.func.replace_all_batch_norm_modules_`)."""
    for module in root.modules():
        if _is_batch_norm(module) and module.track_running_stats:
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root
