"""save/load in PyTorch's zip checkpoint format (being written)."""


def _reduce_tensor(t):
    import copyreg

    return (_rebuild, (t._data.copy(), t._requires_grad))


def _rebuild(array, requires_grad):
    from ember._tensor import Tensor

    t = Tensor._make(array)
    t._requires_grad = requires_grad
    return t


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True):
    raise NotImplementedError("ember.save is being written")


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **kwargs):
    raise NotImplementedError("ember.load is being written")
