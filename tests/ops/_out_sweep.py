"""`out=` of every op_db entry that supports it, torch against ember (test_out_rules.py).

For an entry's first sample, the op is called with `out=` in several forms: an out of the
result's shape and dtype; of another shape (resized, with torch's warning when it had
elements); of 0 elements; of each other dtype of DTYPES (cast, refused with the op's own
message, or computed in it: NOTE [out= dtypes] in ember/_out_dtypes.py); requiring grad; and
with an input requiring grad. Each form must give what torch gives: the same error (type and
first line of the message), the same warnings about out, the same values, dtypes and shapes
in the result and in out, and out itself returned.
"""

import warnings

import numpy as np
import torch

import ember
from tests.ops import _opinfo as O

DTYPES = (torch.float32, torch.float64, torch.int64, torch.int32, torch.bool, torch.uint8,
          torch.complex64)


def _tensors(value):
    if isinstance(value, (torch.Tensor, ember.Tensor)):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    return []


def _plain(value):
    """value with its tensors detached (the sample's leaves need no grad here)."""
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _out_like(ref, lib, dtype=None, shape=None, requires_grad=False):
    """An out for a result like ref (a tuple for a tuple): its first tensor of `dtype` and
    `shape` when given."""
    if isinstance(ref, (tuple, list)):
        return tuple(_out_like(r, lib, *((dtype, shape) if i == 0 else (None, None)),
                               requires_grad) for i, r in enumerate(ref))
    dt = dtype or ref.dtype
    shape = tuple(ref.shape) if shape is None else shape
    out = torch.zeros(shape, dtype=dt) if lib is torch else ember.zeros(
        shape, dtype=getattr(ember, str(dt).split(".")[1]))
    return out.requires_grad_(True) if requires_grad and dt.is_floating_point else out


def _call(fn, args, kwargs):
    """(result, error, warnings about out) of a call."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result, error = fn(*args, **kwargs), None
        except Exception as e:  # noqa: BLE001 - the error is what is compared
            result, error = None, e
    return result, error, [str(w.message) for w in caught
                           if "out" in str(w.message) or "resized" in str(w.message)]


def _differs(e, t, structure_only):
    """Why ember's tensors e differ from torch's t (None: they agree)."""
    et, tt = _tensors(e), _tensors(t)
    if len(et) != len(tt):
        return f"{len(et)} tensors, torch {len(tt)}"
    for a, b in zip(et, tt):
        if O.dtype_name(a) != O.dtype_name(b) or tuple(a.shape) != tuple(b.shape):
            return f"{a.dtype}{tuple(a.shape)}, torch {b.dtype}{tuple(b.shape)}"
        if structure_only:
            continue
        x, y = (v.detach().float() if O.dtype_name(v) == "bfloat16" or "float8" in
                O.dtype_name(v) else v.detach() for v in (a, b))
        x, y = x.numpy(), y.resolve_conj().resolve_neg().numpy()
        same = np.allclose(x, y, 1e-4, 1e-4, equal_nan=True) if x.dtype.kind in "fc" else \
            np.array_equal(x, y)
        if not same:
            return f"values {x.ravel()[:4]}, torch {y.ravel()[:4]}"
    return None


def _compare(eid, fn, ember_fn, sample, make_out, label):
    """One form of out=: None when ember agrees with torch, else what differs."""
    t_in, t_args, t_kwargs = sample
    memo = {}
    e_in, e_args, e_kwargs = (O.convert(v, memo) for v in sample)
    t_out, e_out = make_out(torch), make_out(ember)
    torch.manual_seed(0)
    ember.manual_seed(0)
    tr, terr, tw = _call(fn, (t_in, *t_args), {**t_kwargs, "out": t_out})
    er, eerr, ew = _call(ember_fn, (e_in, *e_args), {**e_kwargs, "out": e_out})
    if terr is not None or eerr is not None:
        if terr is None or eerr is None:
            return f"{label}: torch {terr!r:.150}, ember {eerr!r:.150}"
        if type(terr) is not type(eerr) or \
                str(terr).split("\n")[0] != str(eerr).split("\n")[0]:
            return f"{label}: torch {terr!r:.150}, ember {eerr!r:.150}"
        return None
    if tw != ew:
        return f"{label}: warnings {ew}, torch {tw}"
    structure_only = eid in O.RANDOM or O.ENTRIES[eid].name in O.RANDOM
    for what, e, t in (("result", er, tr), ("out", e_out, t_out)):
        why = _differs(e, t, structure_only)
        if why:
            return f"{label}: {what}: {why}"
    if [a is b for a, b in zip(_tensors(er), _tensors(e_out))] != \
            [a is b for a, b in zip(_tensors(tr), _tensors(t_out))]:
        return f"{label}: the result is not out"
    return None


def entries():
    """The op_db entries whose function takes out=."""
    return [eid for eid, info in O.ENTRIES.items() if info.supports_out]


def disagreements(eid) -> list:
    """Every form of out= in which ember's op disagrees with torch's."""
    info = O.ENTRIES[eid]
    ember_fn = O.resolve(info.op)
    s = next(iter(O.samples(eid)), None)
    if s is None:
        return []
    sample = (_plain(s.input), _plain(tuple(s.args)), _plain(dict(s.kwargs)))
    torch.manual_seed(0)
    try:
        ref = info.op(sample[0], *sample[1], **sample[2])
    except Exception:  # noqa: BLE001 - a sample torch refuses tests nothing about out=
        return []
    tensors = _tensors(ref)
    if not tensors or not all(isinstance(t, torch.Tensor) for t in tensors):
        return []
    first = tensors[0]
    forms = [("same", {}), ("resized", {"shape": (7,) if first.numel() != 7 else (5,)}),
             ("empty", {"shape": (0,)})]
    forms += [(f"dtype {dt}", {"dtype": dt}) for dt in DTYPES if dt is not first.dtype]
    if first.dtype.is_floating_point:
        forms.append(("out requires grad", {"requires_grad": True}))
    found = []
    for label, how in forms:
        why = _compare(eid, info.op, ember_fn, sample,
                       lambda lib, how=how: _out_like(ref, lib, **how), label)
        if why:
            found.append(why)
    if info.supports_autograd and first.dtype.is_floating_point and \
            isinstance(sample[0], torch.Tensor) and sample[0].dtype.is_floating_point:
        graded = (sample[0].clone().requires_grad_(), *sample[1:])
        why = _compare(eid, info.op, ember_fn, graded, lambda lib: _out_like(ref, lib),
                       "input requires grad")
        if why:
            found.append(why)
    return found


if __name__ == "__main__":  # the survey: python -m tests.ops._out_sweep [ENTRY ...]
    import sys
    names = sys.argv[1:] or entries()
    for name in names:
        for line in disagreements(name):
            print(f"{name}: {line}")
