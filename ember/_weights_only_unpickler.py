"""The unpickler behind `load(weights_only=True)`: a small pickle interpreter that can build
only containers, numbers, strings, tensors and allow-listed globals.

NOTE [Why an interpreter of our own]
Python's unpickler runs whatever a file names: a GLOBAL opcode imports any callable and REDUCE
calls it. Restricting `find_class` is not enough to bound what a hostile file may do (INST,
OBJ, EXT*, BUILD on arbitrary objects, protocol-5 buffers ...). Like PyTorch's own weights-only
unpickler, this one knows the protocol-2 opcodes that `torch.save` writes and nothing else:
every other opcode stops the load with "Unsupported operand".

NOTE [A broken pickle fails as it fails in torch]
Its errors are torch's, class for class, because it reads exactly as torch's interpreter reads:
`UnpicklingError` for what is refused; `EOFError` when no opcode is left; an argument cut short
fails where torch's does (`IndexError` for a missing one-byte argument, `struct.error` for a
short fixed-width one, `UnicodeDecodeError` for a string cut inside a character, while a short
string or LONG1 is taken as it is); `IndexError` for an opcode that pops an empty stack or an
odd SETITEMS; `KeyError` for a memo index never stored; and REDUCE calls with whatever its
argument unpacks to. tests/test_serialization_hostile.py mutates real checkpoints byte by byte
and compares the class with torch's.
"""

import collections
import pickle
import struct
import sys

UnpicklingError = pickle.UnpicklingError
_LISTS = (list,)
_DICTS = (dict, collections.OrderedDict, collections.Counter)


def _ascii(value):
    """A bytes value decoded as ASCII, anything else as it is (torch's _maybe_decode_ascii)."""
    return value.decode("ascii") if isinstance(value, bytes) else value


class _Stop(Exception):
    """Raised by STOP to end the loop with the unpickled value."""

    def __init__(self, value):
        super().__init__()
        self.value = value


def _read_line(readline):
    """One line of a GLOBAL opcode without its last byte (torch drops it unchecked)."""
    return readline()[:-1].decode("utf-8")


class Unpickler:
    """Unpickle a protocol-2 stream with the allow-list `find_global` and `persistent_load`.

    find_global(module, name) returns the allowed object or raises UnpicklingError;
    allowed_callables is the set of ids of objects REDUCE and NEWOBJ may call;
    new_object(cls, args) makes the object of a NEWOBJ opcode;
    build(instance, state) applies a BUILD opcode (or raises UnpicklingError);
    call(func, args) makes the call of a REDUCE opcode (default func(*args)).
    """

    def __init__(self, file, find_global, persistent_load, allowed_callables, new_object, build,
                 call=None):
        self.read, self.readline = file.read, file.readline
        self.find_global, self.persistent_load = find_global, persistent_load
        self.allowed_callables, self.build = allowed_callables, build
        self.new_object = new_object
        self.call = call or (lambda func, args: func(*args))
        self.memo = {}
        self.stack, self.metastack = [], []

    def load(self):
        """Run opcodes until STOP; return the value STOP pops."""
        dispatch = self._DISPATCH
        while True:
            key = self.read(1)
            if not key:
                raise EOFError
            handler = dispatch.get(key[0])
            if handler is None:
                raise UnpicklingError(f"Unsupported operand {key[0]}")
            try:
                handler(self)
            except _Stop as stop:
                return stop.value

    # ---- helpers ------------------------------------------------------------------------
    def _byte(self):
        """A one-byte argument (IndexError when the stream has ended, as in torch)."""
        return self.read(1)[0]

    def _unpack(self, fmt, size):
        """A fixed-width argument (struct.error when cut short, as in torch)."""
        return struct.unpack(fmt, self.read(size))[0]

    def _pop_mark(self):
        items, self.stack = self.stack, self.metastack.pop()
        return items

    def _require_callable(self, func, what):
        if id(func) not in self.allowed_callables:
            raise UnpicklingError(f"Trying to {what} unrecognized function {func!r}")

    # ---- opcodes: globals and object construction ---------------------------------------
    def _global(self):
        module = _read_line(self.readline)
        name = _read_line(self.readline)
        self.stack.append(self.find_global(module, name))

    def _reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        self._require_callable(func, "call reduce for")
        self.stack[-1] = self.call(func, args)  # any iterable unpacks, as in torch

    def _newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        self._require_callable(cls, "create a new object of")
        self.stack.append(self.new_object(cls, args))

    def _build(self):
        state = self.stack.pop()
        self.build(self.stack[-1], state)

    def _persistent_id(self):
        pid = self.stack.pop()
        if type(pid) is not tuple and type(pid) is not int:
            raise UnpicklingError(f"persistent_load id must be tuple or int, but got {type(pid)}")
        if type(pid) is tuple and pid and _ascii(pid[0]) != "storage":
            raise UnpicklingError(f"Only persistent_load of storage is allowed, but got "
                                  f"{type(pid[0])}")
        self.stack.append(self.persistent_load(pid))

    # ---- opcodes: containers ------------------------------------------------------------
    def _append(self):
        item = self.stack.pop()
        self._target(_LISTS, "append to").append(item)

    def _appends(self):
        items = self._pop_mark()
        self._target(_LISTS, "extend").extend(items)

    def _setitem(self):
        value, key = self.stack.pop(), self.stack.pop()
        self._target(_DICTS, "SETITEM on")[key] = value

    def _setitems(self):
        items = self._pop_mark()
        target = self._target(_DICTS, "SETITEMS on")
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]  # an odd count ends in IndexError, as in torch

    def _target(self, kinds, what):
        """The container on top of the stack, if it is exactly one of `kinds`."""
        target = self.stack[-1]
        if type(target) not in kinds:
            names = ", ".join(k.__name__ for k in kinds)
            raise UnpicklingError(f"Can only {what} {names}, not {type(target).__name__}")
        return target

    def _mark(self):
        self.metastack.append(self.stack)
        self.stack = []

    def _tuple(self):
        items = tuple(self._pop_mark())  # first: _pop_mark replaces self.stack
        self.stack.append(items)

    def _tuple_n(n):
        def handler(self):
            items = tuple(self.stack[-i] for i in range(n, 0, -1))  # IndexError when short
            del self.stack[len(self.stack) - n:]
            self.stack.append(items)
        return handler

    # ---- opcodes: scalars and strings ---------------------------------------------------
    def _push(value_of):
        def handler(self):
            self.stack.append(value_of(self))
        return handler

    def _binunicode(self):
        length = self._unpack("<I", 4)
        if length > sys.maxsize:
            raise UnpicklingError("String is too long")
        self.stack.append(str(self.read(length), "utf-8", "surrogatepass"))

    def _short_binstring(self):
        length = self._byte()
        self.stack.append(self.read(length).decode("utf-8", "strict"))

    def _long1(self):
        length = self._byte()
        self.stack.append(int.from_bytes(self.read(length), "little", signed=True))

    # ---- opcodes: memo, protocol, stop --------------------------------------------------
    def _get(self, width):
        index = self._byte() if width == 1 else self._unpack("<I", 4)
        self.stack.append(self.memo[index])  # KeyError, as torch

    def _put(self, width):
        index = self._byte() if width == 1 else self._unpack("<I", 4)
        self.memo[index] = self.stack[-1]

    def _proto(self):
        self._byte()

    def _stop(self):
        raise _Stop(self.stack.pop())

    _DISPATCH = {
        pickle.GLOBAL[0]: _global,
        pickle.REDUCE[0]: _reduce,
        pickle.NEWOBJ[0]: _newobj,
        pickle.BUILD[0]: _build,
        pickle.BINPERSID[0]: _persistent_id,
        pickle.APPEND[0]: _append,
        pickle.APPENDS[0]: _appends,
        pickle.SETITEM[0]: _setitem,
        pickle.SETITEMS[0]: _setitems,
        pickle.MARK[0]: _mark,
        pickle.TUPLE[0]: _tuple,
        pickle.TUPLE1[0]: _tuple_n(1),
        pickle.TUPLE2[0]: _tuple_n(2),
        pickle.TUPLE3[0]: _tuple_n(3),
        pickle.NONE[0]: _push(lambda self: None),
        pickle.NEWFALSE[0]: _push(lambda self: False),
        pickle.NEWTRUE[0]: _push(lambda self: True),
        pickle.EMPTY_TUPLE[0]: _push(lambda self: ()),
        pickle.EMPTY_LIST[0]: _push(lambda self: []),
        pickle.EMPTY_DICT[0]: _push(lambda self: {}),
        pickle.EMPTY_SET[0]: _push(lambda self: set()),
        pickle.BININT[0]: _push(lambda self: self._unpack("<i", 4)),
        pickle.BININT1[0]: _push(lambda self: self._byte()),
        pickle.BININT2[0]: _push(lambda self: self._unpack("<H", 2)),
        pickle.BINFLOAT[0]: _push(lambda self: self._unpack(">d", 8)),
        pickle.BINUNICODE[0]: _binunicode,
        pickle.SHORT_BINSTRING[0]: _short_binstring,
        pickle.LONG1[0]: _long1,
        pickle.BINGET[0]: lambda self: self._get(1),
        pickle.LONG_BINGET[0]: lambda self: self._get(4),
        pickle.BINPUT[0]: lambda self: self._put(1),
        pickle.LONG_BINPUT[0]: lambda self: self._put(4),
        pickle.PROTO[0]: _proto,
        pickle.STOP[0]: _stop,
    }
    del _tuple_n, _push
