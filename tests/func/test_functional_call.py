"""ember.func.functional_call against torch.func.functional_call on small models: outputs,
gradients with respect to the given parameters, buffers, tied weights, strict mode, errors."""

import numpy as np
import pytest
import torch
import torch.func

import ember
import ember.func
from tests.differential import assert_same, copy_state, to_ember, to_torch


def _models():
    torch.manual_seed(0)
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Tanh(),
                            torch.nn.Linear(4, 2)).double()
    e = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4), ember.nn.Tanh(),
                            ember.nn.Linear(4, 2)).double()
    copy_state(t, e)
    return e, t


X = np.random.default_rng(0).standard_normal((5, 3))


@pytest.mark.parametrize("which", ["all", "some", "with_buffer", "tuple_of_dicts"])
def test_outputs_and_gradients(which):
    results = []
    for lib, model in zip((ember, torch), _models()):
        model.eval()
        convert = to_ember if lib is ember else to_torch
        params = {k: v.detach() * 0.5 for k, v in model.named_parameters()}
        if which == "some":
            params = {"0.weight": params["0.weight"], "3.bias": params["3.bias"]}
        buffers = {"1.running_mean": lib.ones(4, dtype=lib.float64)} if which == "with_buffer" \
            else {}
        if which == "tuple_of_dicts":
            keys = sorted(params)
            params = ({k: params[k] for k in keys[:2]}, {k: params[k] for k in keys[2:]})

        def loss(p, x):
            merged = (*p, buffers) if isinstance(p, tuple) else (p, buffers)
            return (lib.func.functional_call(model, merged, (x,)) ** 2).sum()

        grads = lib.func.grad(loss)(params, convert(X))
        merged = (*params, buffers) if isinstance(params, tuple) else (params, buffers)
        results.append((lib.func.functional_call(model, merged, convert(X)), grads))
        assert all(p.grad is None for p in model.parameters())  # the module was not touched
    (e_out, e_grads), (t_out, t_grads) = results
    assert_same(e_out, t_out, rtol=1e-10, atol=1e-10)
    if isinstance(t_grads, tuple):
        e_grads, t_grads = {**e_grads[0], **e_grads[1]}, {**t_grads[0], **t_grads[1]}
    assert e_grads.keys() == t_grads.keys()
    for key in t_grads:
        assert_same(e_grads[key], t_grads[key], rtol=1e-10, atol=1e-10)


def test_module_restored_and_kwargs():
    model, _ = _models()
    model.eval()  # training mode would update the batch-norm statistics
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ember.func.functional_call(model, {"0.weight": ember.zeros(4, 3, dtype=ember.float64)},
                               args=(), kwargs={"input": ember.from_numpy(X.copy())})
    after = model.state_dict()
    assert before.keys() == after.keys()
    for key in before:
        assert np.array_equal(before[key].numpy(), after[key].numpy())
    assert isinstance(model[0].weight, ember.nn.Parameter)


def test_tied_weights():
    results = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(2, 2, bias=False), lib.nn.Linear(2, 2, bias=False))
        model[1].weight = model[0].weight
        new = lib.eye(2) * 3
        x = lib.ones(1, 2)
        results.append((lib.func.functional_call(model, {"0.weight": new}, (x,)),
                        lib.func.functional_call(model, {"0.weight": new}, (x,),
                                                 tie_weights=False)))
    assert_same(results[0][0], results[1][0])
    assert results[0][1].shape == results[1][1].shape


def test_tied_weights_given_twice_and_strict():
    """Two different values for the names of one tied tensor are refused; the same value is
    not; strict counts a tied name as given."""
    outcomes = []
    for lib in (ember, torch):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2, bias=False), lib.nn.Linear(2, 2, bias=False))
        model[1].weight = model[0].weight
        x, new = lib.ones(1, 2), lib.eye(2) * 3
        with pytest.raises(ValueError) as error:
            lib.func.functional_call(model, {"0.weight": new, "1.weight": new * 2}, (x,))
        same = lib.func.functional_call(model, {"0.weight": new, "1.weight": new}, (x,))
        strict = lib.func.functional_call(model, {"1.weight": new}, (x,), strict=True)
        outcomes.append((str(error.value), same.tolist(), strict.tolist()))
    assert outcomes[0] == outcomes[1]


def test_errors():
    for lib, model in zip((ember, torch), _models()):
        weight = lib.ones(4, 3, dtype=lib.float64)
        with pytest.raises(RuntimeError) as error:
            lib.func.functional_call(model, {"0.weight": weight, "foo": weight}, (lib.ones(1),),
                                     strict=True)
        assert "Unexpected key(s): 'foo'." in str(error.value)
        assert "Missing key(s): '0.bias'" in str(error.value)
        with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
            lib.func.functional_call(model, ({"0.weight": weight}, {"0.weight": weight}),
                                     (lib.ones(1),))
