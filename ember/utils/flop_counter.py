"""`torch.utils.flop_counter` for ember: FlopCounterMode counts the FLOPs of the ops run inside
it, forward and backward, per aten op and per module, and prints PyTorch's table.

Ported from PyTorch's torch/utils/flop_counter.py (BSD-3-Clause license, Copyright (c)
Facebook, Inc. and its affiliates and the PyTorch contributors): FlopCounterMode, its table and
number formatting are PyTorch's; the formulas are in ember/utils/_flop_formulas.py.

NOTE [How the flop counter sees ops]
PyTorch's counter is a dispatch mode. ember's sees ops the way its profiler does (NOTE [How the
profiler sees ops] in ember/autograd/_profiler_record.py): while a counter runs, `_Watch` is
`Function.apply`'s hook, so every op call comes to it, and the engine's `_run_node` is wrapped,
so every backward node does. An op call becomes the aten calls PyTorch would have made for it
(NOTE [An ember op as aten calls] in ember/utils/_flop_ops.py); an op so described runs with
the hook off (the ops inside it are its implementation), and so does a node whose op left a
memo, whose backward is counted from the memo. An op without rule is counted by its aten name
when the registry has it (and then runs with the hook off, as PyTorch runs a registered op
without decomposing it); else it runs with the hook re-armed once it is past its hook check
(the profiler's `_Rearm`), so the ops inside it are seen, as PyTorch's decomposition shows them.
A custom op (`ember.library`) is seen by its `OpOverload.__call__`, wrapped while a counter
runs: counted when registered, decomposed when its kernel is CompositeImplicitAutograd, run
unseen otherwise (PyTorch's mode runs such an op's kernel with itself off).

NOTE [The table's layout]
PyTorch prints with `tabulate`, imported when the table is made. ember uses it too when it is
installed (so the text is PyTorch's whatever tabulate's version), else `_simple_table`, which
writes tabulate 0.10's "simple" format as PyTorch calls it: numeric cells reformatted with
"g", cells stripped (tabulate 0.10 no longer reads PRESERVE_WHITESPACE), columns two spaces
apart, each at least two wider than its header.
"""

import math

from ember._warnings import warn as _warn
import weakref
from collections import defaultdict

from ember._library.ops import OpOverload
from ember._tensor import Tensor
from ember.autograd import engine
from ember.autograd._profiler_names import names
from ember.autograd._profiler_record import _Rearm
from ember.autograd.function import EXPORT_HOOK, VMAP_HOOK
from ember.utils._flop_formulas import (  # noqa: F401 - torch's names, re-exported
    ShapeOnly, _efficient_attention_backward_flop, _efficient_attention_forward_flop,
    _flash_attention_backward_flop, _flash_attention_forward_flop, _scaled_mm_flop,
    _unpack_efficient_attention_nested_shapes, _unpack_flash_attention_nested_shapes,
    addmm_flop, aten, aten_packet, baddbmm_flop, bmm_flop, conv_backward_flop, conv_flop,
    conv_flop_count, flop_registry, get_shape, mm_flop, register_flop_formula,
    sdpa_backward_flop, sdpa_backward_flop_count, sdpa_flop, sdpa_flop_count, shape_wrapper)
from ember.utils._flop_ops import rule_for
from ember.utils.module_tracker import ModuleTracker

__all__ = ["FlopCounterMode", "register_flop_formula"]


def normalize_tuple(x):
    """x as a tuple (a non-tuple as its only item)."""
    if not isinstance(x, tuple):
        return (x,)
    return x


# Define the suffixes for different orders of magnitude
suffixes = ["", "K", "M", "B", "T"]


# Thanks BingChat!
def get_suffix_str(number):
    """The suffix a total is shown with: 1.01B is displayed as 1001M, not 1.001B."""
    # Find the index of the appropriate suffix based on the number of digits
    # with some additional overflow.
    # i.e. 1.01B should be displayed as 1001M, not 1.001B
    index = max(0, min(len(suffixes) - 1, (len(str(number)) - 2) // 3))
    return suffixes[index]


def convert_num_with_suffix(number, suffix):
    """number in units of `suffix`, with three decimals."""
    index = suffixes.index(suffix)
    # Divide the number by 1000^index and format it to two decimal places
    value = f"{number / 1000 ** index:.3f}"
    # Return the value and the suffix as a string
    return value + suffixes[index]


def convert_to_percent_str(num, denom) -> str:
    """num / denom as a percentage with two decimals ("0%" of nothing)."""
    if denom == 0:
        return "0%"
    return f"{num / denom:.2%}"


class FlopCounterMode:
    """
    ``FlopCounterMode`` is a context manager that counts the number of flops within its context.

    It does this by watching every op ember runs (NOTE [How the flop counter sees ops]).

    It also supports hierarchical output by passing a module (or list of
    modules) to FlopCounterMode on construction. If you do not need hierarchical
    output, you do not need to use it with a module.

    Example usage

    .. code-block:: python

        mod = ...
        with FlopCounterMode(mod) as flop_counter:
            mod.sum().backward()

    """

    def __init__(self, mods=None, depth: int = 2, display: bool = True,
                 custom_mapping: dict | None = None) -> None:
        super().__init__()
        self.flop_counts: dict = defaultdict(lambda: defaultdict(int))
        self.depth = depth
        self.display = display
        self.mode = None
        if custom_mapping is None:
            custom_mapping = {}
        if mods is not None:
            _warn("mods argument is not needed anymore, you can stop passing it",
                          stacklevel=2)
        self.flop_registry = {
            **flop_registry,
            **{k: v if getattr(v, "_get_raw", False) else shape_wrapper(v)
               for k, v in custom_mapping.items()}
        }
        self.mod_tracker = ModuleTracker()

    def get_total_flops(self) -> int:
        """The FLOPs counted in all, the sum of "Global"'s."""
        return sum(self.flop_counts['Global'].values())

    def get_flop_counts(self) -> dict:
        """Return the flop counts as a dictionary of dictionaries.

        The outer
        dictionary is keyed by module name, and the inner dictionary is keyed by
        operation name.

        Returns:
            Dict[str, Dict[Any, int]]: The flop counts as a dictionary.
        """
        return {k: dict(v) for k, v in self.flop_counts.items()}

    def get_table(self, depth=None):
        """The table of FLOPs per module (to `depth` levels) and per op, as PyTorch prints it."""
        if depth is None:
            depth = self.depth
        if depth is None:
            depth = 999999

        header = ["Module", "FLOP", "% Total"]
        global_flops = self.get_total_flops()
        global_suffix = get_suffix_str(global_flops)
        rows, is_global_subsumed = [], False
        for mod in sorted(self.flop_counts.keys()):
            if mod == 'Global':
                continue
            mod_depth = mod.count(".") + 1
            if mod_depth > depth:
                continue
            cur_values, subsumed = self._module_rows(mod, mod_depth - 1, global_flops,
                                                     global_suffix)
            is_global_subsumed |= subsumed
            rows.extend(cur_values)

        # We do a bit of messing around here to only output the "Global" value
        # if there are any FLOPs in there that aren't already fully contained by
        # a module.
        if 'Global' in self.flop_counts and not is_global_subsumed:
            for value in rows:
                value[0] = " " + value[0]

            rows = self._module_rows('Global', 0, global_flops, global_suffix)[0] + rows

        if len(rows) == 0:
            rows = [["Global", "0", "0%"]]

        return _tabulate(rows, header, ("left", "right", "right"))

    def _module_rows(self, mod_name, depth, global_flops, global_suffix):
        """(rows of one module: its total, then each op; whether it holds all the FLOPs)."""
        total_flops = sum(self.flop_counts[mod_name].values())
        padding = " " * depth
        values = [[padding + mod_name, convert_num_with_suffix(total_flops, global_suffix),
                   convert_to_percent_str(total_flops, global_flops)]]
        for k, v in self.flop_counts[mod_name].items():
            values.append([padding + " - " + str(k), convert_num_with_suffix(v, global_suffix),
                           convert_to_percent_str(v, global_flops)])
        return values, total_flops >= global_flops

    # NB: This context manager is NOT reentrant
    def __enter__(self):
        self.flop_counts.clear()
        self.mod_tracker.__enter__()
        self.mode = _FlopCounterMode(self)
        self.mode.__enter__()
        return self

    def __exit__(self, *args):
        if self.mode is None:
            raise AssertionError("Internal error: FlopCounter.__exit__ called but mode is None")
        b = self.mode.__exit__(*args)
        self.mode = None  # break cycles
        self.mod_tracker.__exit__()
        if self.display:
            print(self.get_table(self.depth))
        return b

    def _count_flops(self, func_packet, out, args, kwargs):
        """Add one aten call's FLOPs to every module running (or backpropagating) now."""
        if func_packet in self.flop_registry:
            flop_count_func = self.flop_registry[func_packet]
            flop_count = flop_count_func(*args, **kwargs, out_val=out)
            for par in set(self.mod_tracker.parents):
                self.flop_counts[par][func_packet] += flop_count
        return out


class _FlopCounterMode:
    """The watching part of a FlopCounterMode (PyTorch's dispatch mode): registers its counter
    with the op watch while entered."""

    def __init__(self, counter: FlopCounterMode) -> None:
        self.counter = counter

    def __enter__(self):
        _WATCH.add(self.counter)
        return self

    def __exit__(self, *args):
        _WATCH.discard(self.counter)
        return None


# ---- the watch -------------------------------------------------------------------------------
class _Watch:
    """Function.apply's hook and the engine's node wrapper while counters run (NOTE [How the
    flop counter sees ops])."""

    def __init__(self):
        self.counters = []
        self.nodes = weakref.WeakKeyDictionary()  # node -> (backward rule, memo)
        self._run_node = self._op_call = None

    def add(self, counter):
        """Count into `counter` too (the first one installs the hooks)."""
        if not self.counters:
            self._install()
        self.counters.append(counter)

    def discard(self, counter):
        """Stop counting into `counter` (the last one removes the hooks)."""
        if counter in self.counters:
            self.counters.remove(counter)
            if not self.counters:
                self._uninstall()

    def _install(self):
        """Take the op hook, wrap the engine's node runner and custom ops' calls."""
        if EXPORT_HOOK[0] is not None:
            raise RuntimeError("ember.utils.flop_counter: cannot count while another recorder "
                               "holds the op hook (a profiler, an ONNX export or a jit.trace "
                               "is running)")
        EXPORT_HOOK[0] = self
        self._run_node, engine._run_node = engine._run_node, self._evaluate_node
        self._op_call, OpOverload.__call__ = OpOverload.__call__, _custom_op_call

    def _uninstall(self):
        """Put back what _install replaced."""
        if EXPORT_HOOK[0] is self:
            EXPORT_HOOK[0] = None
        if engine._run_node == self._evaluate_node:
            engine._run_node = self._run_node
        OpOverload.__call__ = self._op_call

    def registered(self, packet) -> bool:
        """Whether some running counter has a formula for `packet`."""
        return any(packet in counter.flop_registry for counter in self.counters)

    def count(self, calls):
        """Count aten calls (packet, args, kwargs, out) in every running counter."""
        for counter in list(self.counters):
            for packet, args, kwargs, out in calls:
                counter._count_flops(packet, out, args, kwargs)

    def __call__(self, cls, args, kwargs):
        """Function.apply's hook: count one op call (NOTE [How the flop counter sees ops])."""
        rule = rule_for(cls)
        if rule is None:
            packet = _own_packet(cls, args)
            if packet is None or not self.registered(packet):
                return self._run_seen(cls, args, kwargs)
            result = self._run_unseen(cls, args, kwargs)
            self.count([(packet, args, kwargs, result)])
            return result
        forward, backward = rule
        result = self._run_unseen(cls, args, kwargs)
        calls, memo = forward(args, result)
        self.count(calls)
        if backward is not None and memo is not None:
            self._remember(cls, result, backward, memo)
        return result

    def _run_unseen(self, cls, args, kwargs):
        """Run an op with the hook off: the ops inside it are not counted."""
        EXPORT_HOOK[0] = None
        try:
            return cls.apply(*args, **kwargs)
        finally:
            EXPORT_HOOK[0] = self

    def _run_seen(self, cls, args, kwargs):
        """Run an op whose inner ops are counted: the hook re-armed past apply's hook check."""
        rearm = _Rearm(self, None, args)
        EXPORT_HOOK[0], VMAP_HOOK[0] = None, rearm
        try:
            return cls.apply(*args, **kwargs)
        finally:
            if VMAP_HOOK[0] is rearm:  # apply never asked for it: put both slots back
                EXPORT_HOOK[0], VMAP_HOOK[0] = self, rearm.previous

    def _remember(self, cls, result, backward, memo):
        """Keep the backward rule and memo of the node the op made, if it made one."""
        out = result[0] if type(result) is tuple and result else result
        node = getattr(out, "grad_fn", None) if isinstance(out, Tensor) else None
        if node is not None and type(node) is cls._backward_cls:
            self.nodes[node] = (backward, memo)

    def _evaluate_node(self, node, grads, *rest):
        """engine._run_node while counting: a remembered node's backward is counted from its
        memo, its inner ops unseen; the others' inner ops are seen."""
        entry = self.nodes.get(node) if self.counters else None
        if entry is None:
            return self._run_node(node, grads, *rest)
        ran = any(g is not None for g in grads.values())
        previous, EXPORT_HOOK[0] = EXPORT_HOOK[0], None
        try:
            result = self._run_node(node, grads, *rest)
        finally:
            EXPORT_HOOK[0] = previous
        if ran:
            backward, memo = entry
            self.count(backward(memo, node.needs_input_grad))
        return result


_WATCH = _Watch()


def _own_packet(cls, args):
    """The aten packet an op without rule is known by (its profiler name), or None."""
    outer, kernel = names(cls, args)
    name = kernel or outer
    if not name or not name.startswith("aten::"):
        return None
    return aten_packet(name[len("aten::"):])


def _custom_op_call(op, *args, **kwargs):
    """OpOverload.__call__ while counting: a custom op as PyTorch's mode sees it."""
    watch = _WATCH
    if EXPORT_HOOK[0] is not watch:  # inside an op run unseen, or not counting
        return watch._op_call(op, *args, **kwargs)
    packet = op.overloadpacket
    registered = watch.registered(packet)
    if not registered and "CompositeImplicitAutograd" in op.kernels:
        return watch._op_call(op, *args, **kwargs)  # decomposed: its ops are seen
    EXPORT_HOOK[0] = None
    try:
        result = watch._op_call(op, *args, **kwargs)
    finally:
        EXPORT_HOOK[0] = watch
    if registered:
        watch.count([(packet, args, kwargs, result)])
    return result


# ---- the table ------------------------------------------------------------------------------
def _tabulate(rows, headers, colalign):
    """The table as PyTorch prints it (NOTE [The table's layout])."""
    try:
        import tabulate
    except ImportError:
        return _simple_table(rows, headers, colalign)
    tabulate.PRESERVE_WHITESPACE = True
    return tabulate.tabulate(rows, headers=headers, colalign=colalign)


def _simple_table(rows, headers, colalign):
    """tabulate 0.10's "simple" table of string cells (NOTE [The table's layout])."""
    columns = [[_cell(v, kind) for v in column]
               for column, kind in ((c, _column_kind(c)) for c in zip(*rows))]
    widths = [max([len(h) + 2] + [len(v) for v in column])
              for h, column in zip(headers, columns)]
    lines = ["  ".join(_aligned(h, w, a) for h, w, a in zip(headers, widths, colalign)),
             "  ".join("-" * w for w in widths)]
    for row in zip(*columns):
        lines.append("  ".join(_aligned(v, w, a) for v, w, a in zip(row, widths, colalign)))
    return "\n".join(lines)


def _number_kind(text):
    """int, float or str: how tabulate reads one cell."""
    try:
        int(text)
        return int
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return str
    special = math.isinf(value) or math.isnan(value)
    return float if not special or text.lower() in ("inf", "-inf", "nan") else str


def _column_kind(column):
    """The most generic kind of a column's cells (str over float over int)."""
    kinds = {_number_kind(v) for v in column if v != ""}
    return str if str in kinds else float if float in kinds else int


def _cell(value, kind):
    """A cell as tabulate writes it: floats in "g" format, all stripped."""
    text = format(float(value), "g") if kind is float and value != "" else f"{value}"
    return text.strip()


def _aligned(text, width, alignment):
    """text padded to width, flush left or right."""
    return text.ljust(width) if alignment == "left" else text.rjust(width)
