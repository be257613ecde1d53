"""What a node saved, by torch's names (ember/autograd/saved_tensors.py, NOTE [Saved tensors by
name]): `grad_fn._saved_self`, `_saved_other`, `_saved_result`, `_raw_saved_<name>`."""

import pytest
import torch

import ember


def _saved(lib):
    a = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    b = a.exp()
    c = a.pow(2)
    d = a * lib.ones(3)
    m = lib.mm(a.view(1, 3), lib.ones(3, 2))
    return a, {
        "exp_result": (b.grad_fn._saved_result, b),
        "pow_self": (c.grad_fn._saved_self, a),
        "mul_self": (d.grad_fn._saved_self, None),
        "mul_other": (d.grad_fn._saved_other, None),
        "mm_mat2": (m.grad_fn._saved_mat2, None),
    }


def test_saved_attributes_match_torch():
    (_, e), (_, t) = _saved(ember), _saved(torch)
    for key in t:
        (e_value, e_owner), (t_value, t_owner) = e[key], t[key]
        if t_value is None:
            assert e_value is None, key
            continue
        assert torch.allclose(torch.tensor(e_value.tolist()), t_value.detach()), key
        assert (e_value is e_owner) == (t_value is t_owner), key  # an input is itself


def test_saved_result_after_backward_and_unknown_names():
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        with pytest.raises(AttributeError):
            y.grad_fn._saved_nothing_like_this
        y.sum().backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
            y.grad_fn._saved_result


def test_raw_saved_register_hooks():
    results = []
    for lib in (ember, torch):
        calls = []
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x.pow(2)
        y.grad_fn._raw_saved_self.register_hooks(lambda t: calls.append("pack") or t * 2,
                                                  lambda t: calls.append("unpack") or t)
        y.sum().backward()
        results.append((calls, x.grad.tolist()))
    assert results[0] == results[1]


def test_a_hooked_saved_tensor_keeps_its_name_and_a_number_stays_a_number():
    """After _raw_saved_self.register_hooks, _saved_self is the unpacked tensor (the tutorial's
    `x.equal(y.grad_fn._saved_self)` is False with a packing x * 4); pow by a number shows
    its exponent as that number."""
    results = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x.pow(2)
        exponent = y.grad_fn._saved_exponent
        y.grad_fn._raw_saved_self.register_hooks(lambda t: t * 4, lambda t: t)
        results.append((exponent, type(exponent), x.equal(y.grad_fn._saved_self),
                        y.grad_fn._saved_self.tolist(), (x ** 0.5).grad_fn._saved_exponent))
    assert results[0] == results[1]


@pytest.mark.parametrize("name", ["mul_", "lerp_tensor", "lerp_number", "pow_", "clamp_"])
def test_modified_message_names_the_overload(name):
    """A saved tensor modified in place: the message names its op as PyTorch does, "Backward0"
    dropped and another overload's number kept (MulBackward0 -> Mul, LerpBackward1 -> Lerp1),
    and lerp with a tensor weight is the LerpBackward1 overload."""
    def modify(lib):
        b = lib.ones(3, requires_grad=True).clone()
        y = b * b
        {"mul_": lambda: b.mul_(2),
         "lerp_tensor": lambda: b.lerp_(lib.zeros(3), lib.tensor(0.5)),
         "lerp_number": lambda: b.lerp_(lib.zeros(3), 0.5),
         "pow_": lambda: b.pow_(lib.ones(3)),
         "clamp_": lambda: b.clamp_(0, 1)}[name]()
        with pytest.raises(RuntimeError) as error:
            y.sum().backward()
        return str(error.value).split(" Hint:")[0], b.grad_fn.name()
    assert modify(ember) == modify(torch)
