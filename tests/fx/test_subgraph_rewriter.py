"""ember.fx.replace_pattern against torch.fx.replace_pattern: the same rewritten code and
graph, the same values, the same number of matches."""

import numpy as np
import pytest
import torch

import ember


def _programs(lib):
    class TwoAdds(lib.nn.Module):  # torch's docstring example
        def forward(self, x, w1, w2):
            m1 = lib.cat([w1, w2]).sum()
            m2 = lib.cat([w1, w2]).sum()
            return x + lib.max(m1) + lib.max(m2)

    class Chain(lib.nn.Module):
        def forward(self, x):
            y = lib.relu(x) * 2
            z = lib.relu(y) * 2
            return lib.sigmoid(z) + y

    class Shared(lib.nn.Module):  # the inner relu is used outside: no match there
        def forward(self, x):
            r = lib.relu(x)
            return r * 2 + r

    class Methods(lib.nn.Module):  # call_method nodes with keyword arguments
        def forward(self, x):
            a = x.sum(dim=1).exp()
            return a + x.sum(dim=0).exp().sum() + x.sum(dim=1, keepdim=True).exp().sum()

    return {"two adds": TwoAdds, "chain": Chain, "shared": Shared, "methods": Methods}


def _patterns(lib):
    return {
        "two adds": (lambda w1, w2: lib.cat([w1, w2]).sum(),
                     lambda w1, w2: lib.stack([w1, w2])),
        "chain": (lambda x: lib.relu(x) * 2, lambda x: lib.tanh(x) - 1),
        "shared": (lambda x: lib.relu(x) * 2, lambda x: x + 3),
        "methods": (lambda x: x.sum(dim=1).exp(), lambda x: x.mean(dim=1).neg()),
    }


INPUTS = {"two adds": [(3,), (2,), (2,)], "chain": [(4,)], "shared": [(4,)],
          "methods": [(3, 3)]}


@pytest.mark.parametrize("name", list(INPUTS))
def test_replace_pattern_matches_torch(name):
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s).astype("float32") for s in INPUTS[name]]
    results = []
    for lib in (ember, torch):
        gm = lib.fx.symbolic_trace(_programs(lib)[name]())
        pattern, replacement = _patterns(lib)[name]
        matches = lib.fx.replace_pattern(gm, pattern, replacement)
        out = gm(*[lib.tensor(a) for a in arrays])
        results.append((len(matches), gm.code, str(gm.graph), out.detach().numpy()))
    assert results[0][:3] == results[1][:3]
    np.testing.assert_allclose(results[0][3], results[1][3], rtol=1e-6)
