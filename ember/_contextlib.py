"""Context managers usable as decorators, also on generators (matches `torch.utils._contextlib`).

`@torch.no_grad` and friends wrap a function so that the mode holds while it runs. A generator
function runs in pieces, between `yield`s, interleaved with its caller's code: the mode must hold
while the generator's own code runs and not while the caller's does, so each resume is wrapped.
"""

import functools
import inspect
import sys

from ember._warnings import warn as _warn


def _wrap_generator(make_context, func):
    """Wrap a generator function so that each resume of the generator runs in a fresh context."""

    @functools.wraps(func)
    def generator_context(*args, **kwargs):
        gen = func(*args, **kwargs)
        try:
            with make_context():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with make_context():
                        gen.close()
                    raise
                except BaseException:
                    with make_context():
                        response = gen.throw(*sys.exc_info())
                else:
                    with make_context():
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value

    return generator_context


def context_decorator(make_context, func):
    """Wrap `func` so that it runs inside `make_context()`; classes are refused, as in torch."""
    if inspect.isclass(func):
        raise RuntimeError(
            "Cannot decorate classes; it is ambiguous whether or not only the constructor or all "
            "methods should have the context manager applied; additionally, decorating a class at "
            "definition-site will prevent use of the identifier as a conventional type.  "
            "To specify which methods to decorate, decorate each of them individually.")
    if inspect.isgeneratorfunction(func):
        return _wrap_generator(make_context, func)

    @functools.wraps(func)
    def decorate_context(*args, **kwargs):
        with make_context():
            return func(*args, **kwargs)

    return decorate_context


class _DecoratorContextManager:
    """A context manager that is also a decorator; each call of the function gets a `clone()`."""

    def __call__(self, orig_func):
        func = orig_func
        if inspect.isclass(orig_func):
            _warn(
                "Decorating classes is deprecated and will be disabled in future versions. You "
                "should only decorate functions or methods. To preserve the current behavior of "
                "class decoration, you can directly decorate the `__init__` method and nothing "
                "else.",
                FutureWarning, stacklevel=2)

            def func(*args, **kwargs):
                return orig_func(*args, **kwargs)

        return context_decorator(self.clone, func)

    def clone(self):
        return self.__class__()


class _NoParamDecoratorContextManager(_DecoratorContextManager):
    """Also usable bare, without parentheses: `@torch.no_grad`."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)
