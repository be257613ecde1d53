"""The state_dict hooks of every kind, called as torch calls them: what each hook sees, in
which order, and what a returned value replaces, compared with torch."""

import torch

import ember


def _model(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Sequential(lib.nn.Linear(2, 1)))


def _events(lib):
    model, seen = _model(lib), []
    for name, module in model.named_modules():
        module.register_state_dict_pre_hook(
            lambda m, prefix, keep_vars, name=name: seen.append(("pre", name, prefix,
                                                                 keep_vars)))
        module.register_state_dict_post_hook(
            lambda m, sd, prefix, meta, name=name: seen.append(("post", name, prefix,
                                                                sorted(sd))))
        module._register_load_state_dict_pre_hook(
            lambda sd, prefix, *rest, name=name: seen.append(("load pre", name, prefix)))
        module._register_load_state_dict_pre_hook(
            lambda m, sd, prefix, *rest, name=name: seen.append(
                ("load pre with module", name, prefix, type(m).__name__)), with_module=True)
    state = model.state_dict(keep_vars=True)
    model.state_dict(prefix="outer.")
    model.load_state_dict(state)
    return seen


def test_state_dict_hooks_see_what_torch_hooks_see():
    assert _events(ember) == _events(torch)


def test_removed_pre_hook_is_not_called():
    for lib in (ember, torch):
        model, seen = _model(lib), []
        handle = model.register_state_dict_pre_hook(lambda *a: seen.append(1))
        model.state_dict()
        handle.remove()
        model.state_dict()
        assert seen == [1]
