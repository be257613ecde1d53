"""A complex Python number as the value of a real tensor, across ops, against torch.

torch converts the number to the tensor's dtype with c10's checked conversion: an imaginary
part other than 0 is its RuntimeError "value cannot be converted to type float without
overflow" (the C type named; bool takes any number), never a silently real answer
(`_dtype.check_complex_fits`). 1 + 0j is taken as 1.
"""

import pytest
import torch

import ember

CALLS = {
    "full float32": lambda m, v: m.full((2,), v, dtype=m.float32),
    "full int64": lambda m, v: m.full((2,), v, dtype=m.int64),
    "full float16": lambda m, v: m.full((2,), v, dtype=m.float16),
    "full bool": lambda m, v: m.full((2,), v, dtype=m.bool),
    "fill_ float64": lambda m, v: m.ones(2, dtype=m.float64).fill_(v),
    "fill": lambda m, v: m.fill(m.ones(2), v),
    "addcmul value": lambda m, v: m.addcmul(m.ones(2), m.ones(2), m.ones(2), value=v),
    "addcdiv value": lambda m, v: m.addcdiv(m.ones(2), m.ones(2), m.ones(2), value=v),
    "addmm alpha": lambda m, v: m.addmm(m.ones(2, 2), m.ones(2, 2), m.ones(2, 2), alpha=v),
    "addmm beta int64": lambda m, v: m.addmm(*(m.ones(2, 2, dtype=m.int64),) * 3, beta=v),
    "addmv beta": lambda m, v: m.addmv(m.ones(2), m.ones(2, 2), m.ones(2), beta=v),
    "baddbmm alpha": lambda m, v: m.baddbmm(*(m.ones(1, 2, 2, dtype=m.float64),) * 3, alpha=v),
    "addbmm alpha": lambda m, v: m.addbmm(m.ones(2, 2), m.ones(1, 2, 2), m.ones(1, 2, 2),
                                          alpha=v),
    "lerp weight": lambda m, v: m.lerp(m.ones(2), m.zeros(2), v),
    "threshold value": lambda m, v: m.nn.functional.threshold(m.ones(2), 0.5, v),
    "threshold_ threshold": lambda m, v: m.threshold_(m.ones(2), v, 0.5),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("value", [2j, 1 + 0j])
def test_complex_value_of_a_real_tensor_as_torch(name, value):
    outcomes = []
    for m in (torch, ember):
        try:
            outcomes.append(("ok", CALLS[name](m, value).tolist()))
        except RuntimeError as error:
            outcomes.append(("RuntimeError", str(error)))
    assert outcomes[0] == outcomes[1]
