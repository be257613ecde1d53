"""`torch.return_types`: the named tuples ops return (`torch.max(t, 0)` is a
`torch.return_types.max` of values and indices).

NOTE [Return types]
PyTorch's are C structseqs, one per op and one more per op's `out=` form (`max_out`, what
`torch.max(t, 0, out=(v, i))` returns). ember's are named tuples made by `return_type` where the
op is defined (ember/ops/extrema.py, sort.py, linalg_core.py, ...), each bound here under its
name with its `_out` twin, so `isinstance(r, torch.return_types.max)` holds and results pickle
(the class is found again as `ember.return_types.<name>`). They print as torch's do.
"""

import collections

all_return_types = []  # every class, as torch's list of them
_OUT_TYPES = {}  # class -> its `_out` twin, what an `out=` call returns


def _make(name, fields):
    """One named tuple class `name` of `fields`, printed like torch's structseq."""
    base = collections.namedtuple(name, fields)

    def __repr__(self):
        body = ",\n".join(f"{field}={value!r}" for field, value in zip(fields, self))
        return f"torch.return_types.{name}(\n{body})"

    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__,
                               "n_fields": len(fields), "n_sequence_fields": len(fields),
                               "n_unnamed_fields": 0, "__module__": __name__})
    globals()[name] = cls
    all_return_types.append(cls)
    return cls


def return_type(name, fields):
    """The named tuple `torch.return_types.<name>` of `fields` (and its twin `<name>_out`)."""
    cls = _make(name, fields)
    _OUT_TYPES[cls] = _make(name + "_out", fields)
    return cls


def out_type(cls):
    """The class an `out=` call of an op returning `cls` returns (cls itself if it has none)."""
    return _OUT_TYPES.get(cls, cls)
