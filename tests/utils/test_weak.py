"""torch.utils.weak under ember: identity-keyed weak dictionaries of tensors and tensor weak
references, as torch's."""

import gc

import torch

import ember


def test_weak_id_key_dictionary_as_torch():
    for lib in (ember, torch):
        table = lib.utils.weak.WeakIdKeyDictionary()
        a, b = lib.ones(2), lib.ones(2)  # equal values, two keys
        table[a], table[b] = "a", "b"
        assert len(table) == 2 and table[a] == "a" and table[b] == "b"
        del a
        gc.collect()
        assert list(table.values()) == ["b"]
        assert lib.utils.weak.WeakTensorKeyDictionary is lib.utils.weak.WeakIdKeyDictionary


def test_tensor_weak_ref_as_torch():
    for lib in (ember, torch):
        t = lib.zeros(3)
        ref = lib.utils.weak.TensorWeakRef(t)
        assert ref() is t
        del t
        gc.collect()
        assert ref() is None
        same = lib.utils.weak.WeakIdRef(lib.ones(1))
        assert same == same and hash(same) == hash(same)
