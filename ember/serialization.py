"""save/load in PyTorch's zip checkpoint format (being written)."""


def _reduce_tensor(t):
    import copyreg

    return (_rebuild, (t._data.copy(), t._requires_grad))


def _rebuild(array, requires_grad):
    from ember._tensor import Tensor

    t = Tensor._make(array)
    t._requires_grad = requires_grad
    return t
