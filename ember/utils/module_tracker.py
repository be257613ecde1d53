"""`torch.utils.module_tracker` for ember: which modules' forward (or backward) is running.

Ported from PyTorch's torch/utils/module_tracker.py (BSD-3-Clause license, Copyright (c)
Facebook, Inc. and its affiliates and the PyTorch contributors), adapted to ember's hooks.

NOTE [Leaving the backward]
PyTorch queues an engine callback the first time a backward hook adds a module, which resets
`parents` to {"Global"} when that backward ends (modules whose inputs need no gradient are
never popped). ember's engine has no callback queue, so the tracker remembers the backward
run that added them (`ember.autograd.engine.current_run()`) and resets `parents` the first
time it is read after that run has ended: every reader, the hooks included, sees what
PyTorch's callback would have left.
"""

import logging
import weakref

from ember._tensor import Tensor
from ember.autograd import engine
from ember.autograd.graph import register_multi_grad_hook
from ember.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook
from ember.utils._pytree import tree_flatten

logger = logging.getLogger(__name__)

__all__ = ["ModuleTracker"]


class ModuleTracker:
    """
    ``ModuleTracker`` is a context manager that tracks the nn.Module hierarchy during execution
    so that other system can query which Module is currently being executed (or its backward is
    being executed).

    You can access the ``parents`` attribute on this context manager to get the set of all the
    Modules currently being executed via their fqn (fully qualified name, also used as the key
    within the state_dict).
    You can access the ``is_bw`` attribute to know if you are currently running in backward or
    not.

    Note that ``parents`` is never empty and always contains the "Global" key. The ``is_bw``
    flag will remain ``True`` after the forward until another Module is executed.

    Example usage

    .. code-block:: python

        mod = torch.nn.Linear(2, 2)

        with ModuleTracker() as tracker:
            # Access anything during the forward pass
            def my_linear(m1, m2, bias):
                print(f"Current modules: {tracker.parents}")
                return torch.mm(m1, m2.t()) + bias

            torch.nn.functional.linear = my_linear

            mod(torch.rand(2, 2))

    """

    def __init__(self) -> None:
        self._parents = {"Global"}
        self._known_modules: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._seen_modules: weakref.WeakSet = weakref.WeakSet()
        self._has_callback = False
        self._callback_run = None  # the backward whose end resets parents (NOTE above)
        self._hooks: list = []

    @property
    def parents(self) -> set:
        """A Set containing the fqn for each module currently running their forward."""
        if self._has_callback and _ended(self._callback_run):
            self._parents = {"Global"}
            self._has_callback, self._callback_run = False, None
        return self._parents

    @parents.setter
    def parents(self, value) -> None:
        """Replace the set (as PyTorch's callback and users may)."""
        self._parents = value

    def _maybe_set_engine_callback(self) -> None:
        """Reset parents when the running backward ends (NOTE [Leaving the backward])."""
        if self._has_callback:
            return
        self._callback_run = engine.current_run()
        self._has_callback = True

    @property
    def is_bw(self):
        """
        A boolean marking if this is currently running during the backward pass or not
        """
        return engine.current_run() is not None

    def _get_mod_name(self, mod):
        """The module's fqn: its class name at the root, `Parent.child` below it."""
        if mod not in self._known_modules:
            self._known_modules[mod] = type(mod).__name__
        mod_name = self._known_modules[mod]
        if mod not in self._seen_modules:
            for name, submod in mod.named_children():
                self._known_modules[submod] = f"{mod_name}.{name}"
                self._get_mod_name(submod)
            self._seen_modules.add(mod)
        return mod_name

    def _get_append_fn(self, name, is_bw):
        """A hook adding `name` to parents (entering a forward, or a backward)."""

        def fn(*args) -> None:
            if is_bw:
                self._maybe_set_engine_callback()
            if name in self.parents:
                logger.info(
                    "The module hierarchy tracking seems to be broken as this Module was "
                    "already entered. %s during %s",
                    name,
                    "backward" if is_bw else "forward",
                )
            self.parents.add(name)

        return fn

    def _get_pop_fn(self, name, is_bw):
        """A hook removing `name` from parents (leaving a forward, or a backward)."""

        def fn(*args) -> None:
            if name in self.parents:
                self.parents.remove(name)
            else:
                logger.info(
                    "The Module hierarchy tracking is confused as we're exiting a Module that "
                    "was never entered. %s during %s",
                    name,
                    "backward" if is_bw else "forward",
                )

        return fn

    def _fw_pre_hook(self, mod, input) -> None:
        """Enter the module; its inputs' gradients will mark the end of its backward."""
        name = self._get_mod_name(mod)
        self._get_append_fn(name, False)()

        args, _ = tree_flatten(input)
        tensors = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        if tensors:
            self._hooks.append(register_multi_grad_hook(tensors, self._get_pop_fn(name, True)))

    def _fw_post_hook(self, mod, input, output) -> None:
        """Leave the module; its outputs' gradients will mark the start of its backward."""
        name = self._get_mod_name(mod)
        self._get_pop_fn(name, False)()

        args, _ = tree_flatten(output)
        tensors = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
        if tensors:
            self._hooks.append(
                register_multi_grad_hook(tensors, self._get_append_fn(name, True)))

    def __enter__(self):
        self._fw_pre_handle = register_module_forward_pre_hook(self._fw_pre_hook)
        self._fw_post_handle = register_module_forward_hook(self._fw_post_hook)
        return self

    def __exit__(self, *args):
        self._fw_pre_handle.remove()
        self._fw_post_handle.remove()
        for hook in self._hooks:
            hook.remove()
        self._hooks.clear()


def _ended(run) -> bool:
    """Whether the backward run `run` is no longer running (neither innermost nor outer)."""
    return all(r is not run for r in engine._RUNS)
