"""Strided pooling on the phases of its input (NOTE [Pooling by phases]); the pooling ops
are in ember/ops/pool.py."""

from ember._backend import get_array_module, xp

# NOTE [Pooling by phases]
# With stride s > 1, kernel offset k reads positions o·s + k·d of the padded input: a view
# with step s, whose NumPy loops run element by element (no SIMD). Adding gy into such views,
# one per offset, was most of a 3x3 stride-2 max pool's backward (1.2 ms an offset for
# (32, 96, 14, 14)). Split by position mod s per dim, the input becomes s^nd contiguous
# phases, and offset k's view is a plain block of phase (k·d) mod s starting at (k·d) // s:
# one strided copy in (and, for the gradient, one out) instead of one per offset. Values and
# the order of the additions are unchanged, so are the bits. Measured on that pool of
# (32, 96, 28, 28): forward and backward ~30 -> ~24 ms (torch 12-15); what is left are the
# maxima and masks passes over blocks whose rows are only 14 elements long.
_PHASED_FROM = 1 << 15  # padded input elements; smaller poolings keep the strided views


def phased(stride, padded) -> bool:
    """Whether a pooling of the padded input with this stride goes by phases (NOTE above)."""
    return any(st > 1 for st in stride) and padded.size >= _PHASED_FROM


class Phases:
    """An (N, C, *spatial) array as its phases by position mod stride (NOTE above)."""

    def __init__(self, parts, stride, shape):
        self.parts, self.stride, self.shape = parts, stride, shape

    @classmethod
    def of(cls, array, stride):
        """array's phases, copied out contiguous."""
        return cls({r: xp.ascontiguousarray(array[cls._picks(r, stride)])
                    for r in xp.ndindex(*stride)}, stride, array.shape)

    @classmethod
    def zeros_like(cls, array, stride, dtype):
        """Zero phases (of dtype) of an array shaped like `array`."""
        module = get_array_module(array)
        return cls({r: module.zeros(array[cls._picks(r, stride)].shape, dtype=dtype)
                    for r in xp.ndindex(*stride)}, stride, array.shape)

    @staticmethod
    def _picks(residue, stride):
        return (slice(None),) * 2 + tuple(slice(r, None, s) for r, s in zip(residue, stride))

    def windows(self, kernel, dilation, out):
        """Per kernel offset (scan order) its view: positions o·s + k·d as a block of a phase."""
        views = []
        for offset in xp.ndindex(*kernel):
            at = [k * d for k, d in zip(offset, dilation)]
            part = self.parts[tuple(p % s for p, s in zip(at, self.stride))]
            views.append(part[(slice(None),) * 2 + tuple(
                slice(p // s, p // s + o) for p, s, o in zip(at, self.stride, out))])
        return views

    def assemble(self):
        """The whole array again."""
        first = next(iter(self.parts.values()))
        whole = get_array_module(first).empty(self.shape, dtype=first.dtype)
        for residue, part in self.parts.items():
            whole[self._picks(residue, self.stride)] = part
        return whole
