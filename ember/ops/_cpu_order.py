"""The order PyTorch's CPU kernels leave equal elements in, for sort, topk, kthvalue and mode.

NOTE [Tie order of PyTorch's CPU sort, topk, kthvalue and mode]
With stable=False, PyTorch sorts each slice's (value, index) pairs with C++'s std::sort; topk
uses std::nth_element (then std::sort of the first k - 1) or std::partial_sort; kthvalue a
median-of-three quickselect of its own; mode a std::sort by value. Those algorithms are not
stable, so equal values come out in an order only the algorithm defines (for 16 elements or
fewer std::sort is an insertion sort, which is stable). To give the same indices, this module
re-enacts them, step for step, on a Python list of (value, index) pairs: the introsort and
introselect of GNU libstdc++ (median-of-three pivot, unguarded partition, final insertion
sort, heap sort past the depth limit) and PyTorch's quickselect.

It runs in Python, one comparison at a time, so callers use it only for slices that hold equal
values (or where the order is otherwise unspecified); every other slice takes NumPy's stable
sort, which gives the same result when no two values are equal.
"""

THRESHOLD = 16  # libstdc++'s _S_threshold: ranges this short are insertion sorted


def ascending(a, b) -> bool:
    """a before b: smaller first, NaN last (PyTorch's ascending comparator)."""
    return (a == a and b != b) or a < b


def descending(a, b) -> bool:
    """a before b: larger first, NaN first (PyTorch's descending comparator)."""
    return (a != a and b == b) or a > b


def _floor_log2(n: int) -> int:
    return n.bit_length() - 1


# ---- the pieces of introsort, on v: a list of (value, index) pairs ----------------------------
def _median_to_first(v, result, a, b, c, less):
    """Swap the median of v[a], v[b], v[c] into v[result]."""
    va, vb, vc = v[a][0], v[b][0], v[c][0]
    if less(va, vb):
        pick = b if less(vb, vc) else (c if less(va, vc) else a)
    elif less(va, vc):
        pick = a
    else:
        pick = c if less(vb, vc) else b
    v[result], v[pick] = v[pick], v[result]


def _partition(v, first, last, pivot, less):
    """Hoare partition of v[first:last] around v[pivot] (no bounds checks: the median of three
    guarantees a stopper on each side)."""
    p = v[pivot][0]
    while True:
        while less(v[first][0], p):
            first += 1
        last -= 1
        while less(p, v[last][0]):
            last -= 1
        if not first < last:
            return first
        v[first], v[last] = v[last], v[first]
        first += 1


def _partition_pivot(v, first, last, less):
    mid = first + (last - first) // 2
    _median_to_first(v, first, first + 1, mid, last - 1, less)
    return _partition(v, first + 1, last, first, less)


def _linear_insert(v, i, less):
    """Move v[i] left past the larger elements before it (a smaller one stops it)."""
    item = v[i]
    j = i - 1
    while less(item[0], v[j][0]):
        v[j + 1] = v[j]
        j -= 1
    v[j + 1] = item


def _insertion_sort(v, first, last, less):
    for i in range(first + 1, last):
        if less(v[i][0], v[first][0]):
            item = v[i]
            v[first + 1:i + 1] = v[first:i]
            v[first] = item
        else:
            _linear_insert(v, i, less)


def _final_insertion_sort(v, first, last, less):
    if last - first > THRESHOLD:
        _insertion_sort(v, first, first + THRESHOLD, less)
        for i in range(first + THRESHOLD, last):
            _linear_insert(v, i, less)
    else:
        _insertion_sort(v, first, last, less)


# ---- the heap, for partial_sort and the depth limit --------------------------------------------
def _push_heap(v, base, hole, top, item, less):
    parent = (hole - 1) // 2
    while hole > top and less(v[base + parent][0], item[0]):
        v[base + hole] = v[base + parent]
        hole = parent
        parent = (hole - 1) // 2
    v[base + hole] = item


def _adjust_heap(v, base, hole, length, item, less):
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if less(v[base + child][0], v[base + child - 1][0]):
            child -= 1
        v[base + hole] = v[base + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        v[base + hole] = v[base + child - 1]
        hole = child - 1
    _push_heap(v, base, hole, top, item, less)


def _pop_heap(v, first, last, result, less):
    item = v[result]
    v[result] = v[first]
    _adjust_heap(v, first, 0, last - first, item, less)


def _make_heap(v, first, last, less):
    length = last - first
    if length < 2:
        return
    for parent in range((length - 2) // 2, -1, -1):
        _adjust_heap(v, first, parent, length, v[first + parent], less)


def _heap_select(v, first, middle, last, less):
    _make_heap(v, first, middle, less)
    for i in range(middle, last):
        if less(v[i][0], v[first][0]):
            _pop_heap(v, first, middle, i, less)


def _partial_sort(v, first, middle, last, less):
    _heap_select(v, first, middle, last, less)
    while middle - first > 1:
        middle -= 1
        _pop_heap(v, first, middle, middle, less)


# ---- the algorithms --------------------------------------------------------------------------
def _introsort_loop(v, first, last, depth, less):
    while last - first > THRESHOLD:
        if depth == 0:
            _partial_sort(v, first, last, last, less)
            return
        depth -= 1
        cut = _partition_pivot(v, first, last, less)
        _introsort_loop(v, cut, last, depth, less)
        last = cut


def std_sort(v, less, last=None):
    """std::sort of v[:last] (all of v by default), in place."""
    last = len(v) if last is None else last
    if last > 0:
        _introsort_loop(v, 0, last, 2 * _floor_log2(last), less)
        _final_insertion_sort(v, 0, last, less)


def std_nth_element(v, nth, less):
    """std::nth_element: v[nth] is what a sort would put there, nothing after it is less."""
    first, last = 0, len(v)
    if first == last or nth == last:
        return
    depth = 2 * _floor_log2(last)
    while last - first > 3:
        if depth == 0:
            _heap_select(v, first, nth + 1, last, less)
            v[first], v[nth] = v[nth], v[first]
            return
        depth -= 1
        cut = _partition_pivot(v, first, last, less)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(v, first, last, less)


def std_partial_sort(v, middle, less):
    """std::partial_sort: v[:middle] sorted, the smallest of v."""
    _partial_sort(v, 0, middle, len(v), less)


def topk_order(values, k, largest, sorted_):
    """The indices PyTorch's CPU topk returns for one slice (a list of values)."""
    v = [(x, i) for i, x in enumerate(values)]
    less = descending if largest else ascending
    if k * 64 <= len(v):
        std_partial_sort(v, k, less)
    else:
        std_nth_element(v, k - 1, less)
        if sorted_:
            std_sort(v, less, k - 1)
    return [i for _, i in v[:k]]


def sort_order(values, descending_):
    """The indices PyTorch's CPU sort (stable=False) puts one slice's values in."""
    v = [(x, i) for i, x in enumerate(values)]
    std_sort(v, descending if descending_ else ascending)
    return [i for _, i in v]


def kthvalue_index(values, k):
    """The index PyTorch's quickselect leaves at position k - 1 (NaN sorts last)."""
    v = [(x, i) for i, x in enumerate(values)]

    low, high = 0, len(v) - 1
    target = k - 1
    while True:
        if high <= low:
            break
        if high == low + 1:
            if descending(v[low][0], v[high][0]):
                v[low], v[high] = v[high], v[low]
            break
        mid = low + (high - low) // 2
        v[mid], v[low + 1] = v[low + 1], v[mid]
        if descending(v[low + 1][0], v[high][0]):
            v[low + 1], v[high] = v[high], v[low + 1]
        if descending(v[low][0], v[high][0]):
            v[low], v[high] = v[high], v[low]
        if descending(v[low + 1][0], v[low][0]):
            v[low + 1], v[low] = v[low], v[low + 1]
        i, j = low + 1, high
        pivot = v[low][0]
        while True:
            i += 1
            while descending(pivot, v[i][0]):
                i += 1
            j -= 1
            while descending(v[j][0], pivot):
                j -= 1
            if j < i:
                break
            v[i], v[j] = v[j], v[i]
        v[low], v[j] = v[j], v[low]
        if j <= target:
            low = i
        if j >= target:
            high = j - 1
    return v[target][1]


def mode_index(values):
    """(value, index) PyTorch's CPU mode reports for one slice: std::sort by value, then the
    end of the first longest run."""
    v = [(x, i) for i, x in enumerate(values)]
    std_sort(v, lambda a, b: a < b)
    best, best_count, count = v[0], 0, 0
    for position, item in enumerate(v):
        count += 1
        if position == len(v) - 1 or item[0] != v[position + 1][0]:
            if count > best_count:
                best, best_count = item, count
            count = 0
    return best
