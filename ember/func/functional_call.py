"""functional_call: run a module with some parameters and buffers swapped for given tensors
(matches `torch.func.functional_call`)."""

import contextlib

_MISSING = object()


def _merge(parameter_and_buffer_dicts):
    if isinstance(parameter_and_buffer_dicts, dict):
        return dict(parameter_and_buffer_dicts)
    merged = {}
    for mapping in parameter_and_buffer_dicts:
        repeated = sorted(set(merged) & set(mapping))
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             "functional call is ambiguous")
        merged.update(mapping)
    return merged


def _owner(module, name):
    """(the submodule holding a dotted name, the last part of the name)."""
    path, _, leaf = name.rpartition(".")
    return (module.get_submodule(path) if path else module), leaf


def _tied_names(module, tensors):
    """tensors plus, for each given name of a tied parameter/buffer, the names tied to it with
    the same value (torch's _untie_named_tensors_map: two different values for one tied
    tensor are refused)."""
    by_tensor = {}
    for name, t in list(module.named_parameters(remove_duplicate=False)) + list(
            module.named_buffers(remove_duplicate=False)):
        by_tensor.setdefault(id(t), set()).add(name)
    tied = {name: names for names in by_tensor.values() if len(names) > 1 for name in names}
    given = {name for name in tensors if name in tied}
    for name in given:
        names = tied[name]
        if len(names & given) > 1 and len({id(tensors[n]) for n in names & given}) != 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(names)}, "
                             "which are tied. Consider using tie_weights=False")
    expanded = dict(tensors)
    for name in given:
        for other in tied[name]:
            expanded[other] = tensors[name]
    return expanded


def _check_strict(module, tensors):
    expected = {name for name, _ in module.named_parameters(remove_duplicate=False)}
    expected |= {name for name, _ in module.named_buffers(remove_duplicate=False)}
    unexpected = sorted(set(tensors) - expected)
    missing = sorted(expected - set(tensors))
    if unexpected or missing:
        lines = [f"Error(s) in reparametrizing for {type(module).__name__}:"]
        if unexpected:
            lines.append("\tUnexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected) + ".")
        if missing:
            lines.append("\tMissing key(s): " + ", ".join(f"'{k}'" for k in missing) + ".")
        raise RuntimeError("\n".join(lines))


@contextlib.contextmanager
def _swapped(module, tensors):
    """Put each tensor where its name points (parameter, buffer or attribute), then restore."""
    saved = []
    try:
        for name, value in tensors.items():
            owner, leaf = _owner(module, name)
            for store in (owner._parameters, owner._buffers):
                if leaf in store:
                    saved.append((store, leaf, store[leaf]))
                    store[leaf] = value
                    break
            else:
                saved.append((owner.__dict__, leaf, owner.__dict__.get(leaf, _MISSING)))
                owner.__dict__[leaf] = value
        yield
    finally:
        for store, leaf, original in reversed(saved):
            if original is _MISSING:
                del store[leaf]
            else:
                store[leaf] = original


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """module(*args, **kwargs) with the given tensors in place of its parameters and buffers
    (matches `torch.func.functional_call`)."""
    tensors = _merge(parameter_and_buffer_dicts)
    if tie_weights:
        tensors = _tied_names(module, tensors)
    if strict:  # (after tying, as torch: a tied name counts as given)
        _check_strict(module, tensors)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _swapped(module, tensors):
        return module(*args, **(kwargs or {}))
