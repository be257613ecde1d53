"""ember.export against torch.export: the same models exported in both libraries, with the
same weights, give modules that compute the same outputs, the same graph signature kinds and
targets, the same state_dict keys, the same dynamic-shape behaviour and the same errors."""

import math

import numpy as np
import pytest
import torch

import ember
import ember.export
from tests.differential import assert_same, copy_state


def _models(lib):
    """Models written once against a torch-like `lib`."""
    nn, F = lib.nn, lib.nn.functional

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(8, 16), nn.Linear(16, 4)

        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))

    class ConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 6, 3, padding=1)
            self.bn = nn.BatchNorm2d(6)
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(6 * 4 * 4, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.bn(self.conv(x))))
            return self.fc(x.view(x.size(0), -1))

    class Keywords(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)
            self.register_buffer("scale", lib.ones(4) * 2)
            self.register_buffer("tmp", lib.zeros(4), persistent=False)
            self.k = lib.ones(4) * 0.5  # a plain tensor attribute: a lifted constant

        def forward(self, x, *, y, mask=None):
            out = self.lin(x) * self.scale * self.k + y + self.tmp
            if mask is not None:
                out = out.masked_fill(mask, 0.0)
            return out

    class Structured(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.ln = nn.Linear(5, 3), nn.Linear(5, 2), nn.LayerNorm(5)

        def forward(self, x):
            h = self.ln(x)
            return {"a": self.a(h), "pair": (self.b(h), h.sum(dim=-1))}

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(8, 24)
            self.register_buffer("mask", lib.tril(lib.ones(16, 16)).view(1, 1, 16, 16))

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.qkv(x).split(C, dim=2)
            q = q.view(B, T, 2, C // 2).transpose(1, 2)
            k = k.view(B, T, 2, C // 2).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
            return F.softmax(att, dim=-1).sum(1) + v.sum(-1, keepdim=True)

    return {"MLP": MLP, "ConvNet": ConvNet, "Keywords": Keywords, "Structured": Structured,
            "Attention": Attention}


def _pair(name, seed=0):
    """(ember model, torch model) of one class, with torch's weights in both."""
    torch.manual_seed(seed)
    t = _models(torch)[name]()
    e = _models(ember)[name]()
    copy_state(t, e)
    for key, value in vars(t).items():  # plain tensor attributes are not in the state_dict
        if isinstance(value, torch.Tensor):
            setattr(e, key, ember.from_numpy(value.numpy().copy()))
    return e, t


def _inputs(*arrays):
    return (tuple(ember.from_numpy(a.copy()) for a in arrays),
            tuple(torch.from_numpy(a.copy()) for a in arrays))


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _flat(out):
    if isinstance(out, dict):
        return [t for v in out.values() for t in _flat(v)]
    if isinstance(out, (tuple, list)):
        return [t for v in out for t in _flat(v)]
    return [out]


def _assert_outputs(e, t, atol=1e-5):
    assert type(e).__name__ == type(t).__name__
    if isinstance(t, dict):
        assert list(e) == list(t)
    flat_e, flat_t = _flat(e), _flat(t)
    assert len(flat_e) == len(flat_t)
    for a, b in zip(flat_e, flat_t):
        assert_same(a, b, atol=atol)


def _specs(ep):
    """The signature's (kind, target) pairs: user input names may differ between libraries."""
    sig = ep.graph_signature
    return ([(s.kind.name, s.target, s.persistent) for s in sig.input_specs],
            [(s.kind.name, s.target) for s in sig.output_specs])


def _export_both(name, arrays, mode="eval", kwargs=None, dynamic=None, seed=0):
    e, t = _pair(name, seed)
    e.train(mode == "train"), t.train(mode == "train")
    (ea, ta) = _inputs(*arrays)
    ek = {k: ember.from_numpy(v.copy()) for k, v in (kwargs or {}).items()}
    tk = {k: torch.from_numpy(v.copy()) for k, v in (kwargs or {}).items()}
    eds = dynamic(ember.export) if dynamic else None
    tds = dynamic(torch.export) if dynamic else None
    return ((e, ember.export.export(e, ea, ek, dynamic_shapes=eds)),
            (t, torch.export.export(t, ta, tk, dynamic_shapes=tds)))


def _batch(export):
    return {"x": {0: export.Dim("batch", min=2, max=64)}}


@pytest.mark.parametrize("name,shape", [("MLP", (4, 8)), ("ConvNet", (3, 3, 8, 8)),
                                        ("Structured", (3, 5)), ("Attention", (2, 5, 8))])
def test_module_computes_the_original_outputs_at_other_batch_sizes(name, shape):
    (e, eep), (t, tep) = _export_both(name, [_rand(*shape)], dynamic=_batch)
    assert _specs(eep) == _specs(tep)
    assert list(eep.module().state_dict()) == list(tep.module().state_dict())
    assert list(eep.module().state_dict()) == list(e.state_dict())
    for batch in (2, 7):
        (x,), (tx,) = _inputs(_rand(batch, *shape[1:], seed=batch))
        _assert_outputs(eep.module()(x), tep.module()(tx))
        _assert_outputs(eep.module()(x), e(x))


def test_batchnorm_in_training_updates_the_exported_modules_buffers():
    (e, eep), (t, tep) = _export_both("ConvNet", [_rand(4, 3, 8, 8)], mode="train",
                                      dynamic=_batch)
    assert _specs(eep) == _specs(tep)
    assert _specs(eep.run_decompositions()) == _specs(tep.run_decompositions())
    assert ("BUFFER_MUTATION", "bn.running_mean") in _specs(eep.run_decompositions())[1]
    em, tm = eep.module(), tep.module()
    for seed in (1, 2):
        (x,), (tx,) = _inputs(_rand(6, 3, 8, 8, seed=seed))
        _assert_outputs(em(x), tm(tx))
    for key in ("bn.running_mean", "bn.running_var", "bn.num_batches_tracked"):
        assert_same(em.state_dict()[key], tm.state_dict()[key])


def test_keyword_inputs_buffers_and_constants():
    x, y = _rand(2, 4), _rand(2, 4, seed=1)
    mask = np.array([[True, False, True, False]] * 2)
    for kwargs in ({"y": y}, {"y": y, "mask": mask}):
        (e, eep), (t, tep) = _export_both("Keywords", [x], kwargs=kwargs)
        assert _specs(eep) == _specs(tep)
        assert list(eep.constants) == list(tep.constants)
        assert list(eep.state_dict) == list(tep.state_dict)
        assert len(eep.graph_signature.user_inputs) == len(tep.graph_signature.user_inputs)
        (ex,), (tx,) = _inputs(x)
        ek = {k: ember.from_numpy(v.copy()) for k, v in kwargs.items()}
        tk = {k: torch.from_numpy(v.copy()) for k, v in kwargs.items()}
        _assert_outputs(eep.module()(ex, **ek), tep.module()(tx, **tk))


def test_signature_properties_and_program_attributes():
    (_, eep), (_, tep) = _export_both("ConvNet", [_rand(2, 3, 8, 8)])
    es, ts = eep.graph_signature, tep.graph_signature
    assert es.parameters == tuple(ts.parameters) and es.buffers == tuple(ts.buffers)
    assert list(es.inputs_to_parameters.values()) == list(ts.inputs_to_parameters.values())
    assert list(es.inputs_to_buffers.values()) == list(ts.inputs_to_buffers.values())
    assert len(es.user_outputs) == len(ts.user_outputs) == 1
    assert [n for n, _ in eep.named_parameters()] == [n for n, _ in tep.named_parameters()]
    assert [n for n, _ in eep.named_buffers()] == [n for n, _ in tep.named_buffers()]
    assert tuple(eep.example_inputs[0][0].shape) == tuple(tep.example_inputs[0][0].shape)
    assert str(es.input_specs[0]) == str(ts.input_specs[0])  # p_conv_weight: PARAMETER ...
    eep.validate()
    text = str(eep)
    assert text.startswith("ExportedProgram:") and "Graph signature:" in text
    assert "conv.weight" in text


def test_calling_the_program_directly_raises_torchs_error():
    (_, eep), (_, tep) = _export_both("MLP", [_rand(4, 8)])
    (x,), (tx,) = _inputs(_rand(4, 8))
    with pytest.raises(RuntimeError, match="Unable to call ExportedProgram directly") as er:
        eep(x)
    with pytest.raises(RuntimeError) as tr:
        tep(tx)
    assert str(er.value) == str(tr.value)


def test_export_argument_errors():
    (e, _), (t, _) = _pair("MLP"), _pair("MLP")
    e, t = _pair("MLP")
    (x,), (tx,) = _inputs(_rand(4, 8))
    for lib, model, value in ((ember, e, x), (torch, t, tx)):
        with pytest.raises(RuntimeError, match="Expecting `args` to be a tuple") as raised:
            lib.export.export(model, [value])
        assert type(raised.value).__name__ == "UserError"
        with pytest.raises(ValueError, match="Expected `mod` to be an instance of"):
            lib.export.export(lambda v: v, (value,))


def test_save_and_load_round_trip(tmp_path):
    (e, eep), (t, tep) = _export_both("ConvNet", [_rand(4, 3, 8, 8)], mode="train",
                                      dynamic=_batch)
    ember.export.save(eep, tmp_path / "e.pt2")
    torch.export.save(tep, tmp_path / "t.pt2")
    eloaded, tloaded = ember.export.load(tmp_path / "e.pt2"), torch.export.load(tmp_path / "t.pt2")
    assert type(eloaded).__name__ == "ExportedProgram"
    assert _specs(eloaded) == _specs(tloaded)
    (x,), (tx,) = _inputs(_rand(5, 3, 8, 8, seed=3))
    em, tm = eloaded.module(), tloaded.module()
    _assert_outputs(em(x), tm(tx))
    assert list(em.state_dict()) == list(tm.state_dict())
    with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[0\] <= 64"):
        em(ember.zeros(65, 3, 8, 8))


def test_unflatten_keeps_the_submodule_tree():
    (e, eep), (t, tep) = _export_both("MLP", [_rand(4, 8)])
    eu, tu = ember.export.unflatten(eep), torch.export.unflatten(tep)
    (x,), (tx,) = _inputs(_rand(4, 8))
    _assert_outputs(eu(x), tu(tx))
    assert sorted(n for n, _ in eu.named_parameters()) == \
        sorted(n for n, _ in tu.named_parameters())


def test_public_names():
    for name in ("Dim", "ExportedProgram", "ExportGraphSignature", "ModuleCallSignature",
                 "ModuleCallEntry", "ShapesCollection", "dims", "export", "save", "load",
                 "unflatten", "ExportBackwardSignature"):
        assert hasattr(torch.export, name) and hasattr(ember.export, name), name
    assert hasattr(torch.export, "export_for_training") == hasattr(ember.export,
                                                                    "export_for_training")
    from ember.export.graph_signature import InputKind, OutputKind
    from torch.export.graph_signature import InputKind as TInputKind
    from torch.export.graph_signature import OutputKind as TOutputKind
    assert [k.name for k in InputKind] == [k.name for k in TInputKind]
    assert [k.name for k in OutputKind] == [k.name for k in TOutputKind]


def test_export_draws_no_random_numbers_and_the_module_refuses_train_and_eval():
    draws = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Dropout(0.5))
        ep = lib.export.export(model, (lib.ones(3, 2),))
        draws.append(lib.randn(3).numpy())
        for method in ("train", "eval"):
            with pytest.raises(NotImplementedError, match=rf"Calling {method}\(\) is not "):
                getattr(ep.module(), method)()
    np.testing.assert_array_equal(*draws)


def test_graph_module_takes_the_lifted_inputs():
    (e, eep), (t, tep) = _export_both("MLP", [_rand(4, 8)])
    (x,), (tx,) = _inputs(_rand(4, 8, seed=5))
    out_e = eep.graph_module(*eep.parameters(), x)
    out_t = tep.graph_module(*tep.parameters(), tx)
    assert isinstance(out_e, tuple) and len(out_e) == len(out_t) == 1
    assert_same(out_e[0], out_t[0].detach(), atol=1e-5)
    placeholders = [n.name for n in eep.graph.nodes if n.op == "placeholder"]
    assert placeholders == [n.name for n in tep.graph.nodes if n.op == "placeholder"]


def test_layer_kept_whole_and_unpacked_output_save_load_and_examples_untouched(tmp_path):
    """MultiheadAttention (whose forward is not traced through) stays one call, its tuple
    output unpacked by the model; the examples are not changed by export's runs."""
    def build(lib):
        class Attn(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.attn = lib.nn.MultiheadAttention(4, 2, batch_first=True)
                self.out = lib.nn.Linear(4, 1)

            def forward(self, q):
                q.mul_(1.0)  # an in-place op on the input: the example must stay unchanged
                a, _ = self.attn(q, q, q)
                return self.out(a)
        return Attn().eval()
    torch.manual_seed(0)
    t, e = build(torch), build(ember)
    copy_state(t, e)
    (q,), (tq,) = _inputs(_rand(2, 5, 4))
    before = q.numpy().copy()
    eep = ember.export.export(e, (q,), dynamic_shapes={"q": {0: ember.export.Dim("b")}})
    tep = torch.export.export(t, (tq,), dynamic_shapes={"q": {0: torch.export.Dim("b")}})
    np.testing.assert_array_equal(q.numpy(), before)
    assert [s[:2] for s in _specs(eep)[0]] == [s[:2] for s in _specs(tep)[0]]
    ember.export.save(eep, tmp_path / "attn.pt2")
    loaded = ember.export.load(tmp_path / "attn.pt2")
    (q3,), (tq3,) = _inputs(_rand(3, 5, 4, seed=4))
    _assert_outputs(loaded.module()(q3), tep.module()(tq3))
    assert list(loaded.module().state_dict()) == list(t.state_dict())


@pytest.mark.parametrize("call", [lambda m, x: m(x, x), lambda m, x: m(x, y=x, z=x),
                                  lambda m, x: m(x), lambda m, x: m(x=x, y=x)])
def test_module_refuses_inputs_of_another_structure(call):
    errors = []
    for lib in (ember, torch):
        class M(lib.nn.Module):
            def forward(self, x, *, y, z=None):
                return x + y
        x = lib.ones(2)
        module = lib.export.export(M(), (x,), {"y": x}).module()
        with pytest.raises(ValueError) as raised:
            call(module, x)
        errors.append(str(raised.value).split("\n")[0])
    assert errors[0] == errors[1]
