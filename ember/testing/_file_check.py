"""`torch.testing.FileCheck`: check that a string (or a traced graph's text) holds substrings in
order, LLVM FileCheck style, with torch's messages (and their highlighted excerpts).

Ported from PyTorch 2.13's C++ (torch/csrc/jit/testing/file_check.cpp, the highlighting of
torch/csrc/jit/frontend/source_range.cpp and c10's printQuotedString; BSD-3-Clause, (c) PyTorch
contributors). The C++ works on bytes with unsigned sizes; so does this port (text is UTF-8
encoded, NPOS is std::string::npos), quirks included: a failed search highlights the range
(start, len(needle)), and CHECK-REGEX's match position is relative to where the search began.
"""

import operator
import re
import sys

NPOS = 2 ** 64 - 1  # std::string::npos
_CONTEXT = 3  # SourceRange::CONTEXT: lines shown around a highlighted range
_NEWLINE, _SPACE = ord("\n"), ord(" ")
_ESCAPES = {ord("\\"): b"\\\\", ord("'"): b"\\'", ord('"'): b'\\"', 7: b"\\a", 8: b"\\b",
            12: b"\\f", 10: b"\\n", 13: b"\\r", 9: b"\\t", 11: b"\\v"}
# the check kinds with the suffix that follows "CHECK" in a checks file, in parsing order
_SUFFIXES = (("CHECK", b": "), ("CHECK-NEXT", b"-NEXT: "), ("CHECK-SAME", b"-SAME: "),
             ("CHECK-NOT", b"-NOT: "), ("CHECK-DAG", b"-DAG: "), ("CHECK-COUNT", b"-COUNT-"),
             ("CHECK-SOURCE-HIGHLIGHTED", b"-SOURCE-HIGHLIGHTED: "),
             ("CHECK-REGEX", b"-REGEX: "))
_GRAPH_MODULE = "ember.jit._trace_graph"  # where a traced graph's class lives, once loaded
_COUNT_ASSERT = (
    'count != 0 || exactly INTERNAL ASSERT FAILED at "/__w/pytorch/pytorch/torch/csrc/jit/'
    'testing/file_check.cpp":604, please report a bug to PyTorch. Count == 0 && !exactly '
    "doesn't do anything")
_COUNT_ZERO_ASSERT = (
    'check.count_ && *check.count_ != 0 INTERNAL ASSERT FAILED at "/__w/pytorch/pytorch/torch/'
    'csrc/jit/testing/file_check.cpp":483, please report a bug to PyTorch. ')


class _Check:
    """One check: its kind ("CHECK-NEXT"), the bytes it looks for, and a count."""

    def __init__(self, kind: str, search: bytes, count=None):
        self.kind, self.search, self.count = kind, search, count

    def label(self) -> bytes:
        """How torch prints the check: `CHECK-COUNT-2: aten::add`."""
        kind = f"{self.kind}-{self.count}" if self.kind == "CHECK-COUNT" else self.kind
        return kind.encode() + b": " + self.search


def _find(text: bytes, sub: bytes, start: int) -> int:
    """StringCordView::find: NPOS when absent; an empty needle is found at 0."""
    if not sub:
        return 0
    pos = text.find(sub, start) if start <= len(text) else -1
    return NPOS if pos < 0 else pos


def _find_regex(text: bytes, pattern: bytes, start: int) -> int:
    """StringCordView::find_regex: the match's position relative to start (NPOS if none)."""
    if not pattern:
        return 0
    match = re.search(pattern, text[start:])
    return NPOS if match is None else match.start()


def _octal(byte: int) -> bytes:
    """printQuotedString's three 'octal' digits of a non-printable (signed) char."""
    value, digits = byte - 256 if byte >= 128 else byte, []
    for _ in range(2):
        quotient = int(value / 8)  # C++ division truncates toward zero
        digits.append(value - quotient * 8)
        value = quotient
    return bytes([48 + value, 48 + digits[1], 48 + digits[0]])


def _quoted(sub: bytes) -> bytes:
    """c10::printQuotedString: sub in double quotes with C escapes."""
    out = bytearray(b'"')
    for byte in sub:
        if byte in _ESCAPES:
            out += _ESCAPES[byte]
        elif 0x1F < byte < 0x7F:
            out.append(byte)
        else:
            out += b"\\" + _octal(byte)
    return bytes(out + b'"')


def _char(text: bytes, i: int) -> int:
    """text[i] as C++'s std::string reads it: NUL at (or past) the end."""
    return text[i] if i < len(text) else 0


def _context_bounds(text: bytes, start: int, range_end: int) -> tuple[int, int]:
    """(start of the context before the range's lines, end of the context after them)."""
    n, begin, end = len(text), start, range_end
    while begin > 0 and text[begin - 1] != _NEWLINE:
        begin -= 1
    while end < n and text[end] != _NEWLINE:
        end += 1
    lines = 0
    while begin > 0:
        lines += text[begin - 1] == _NEWLINE
        if lines >= _CONTEXT:
            break
        begin -= 1
    lines = 0
    while end < n:
        lines += text[end] == _NEWLINE
        if lines >= _CONTEXT:
            break
        end += 1
    return begin, end


def _marker(text: bytes, start: int, line_start: int, line_end: int, range_end: int) -> bytes:
    """The `~~~~ <--- HERE` line under one highlighted line (empty when nothing to mark)."""
    begin = end = line_start
    while begin > 0 and text[begin - 1] != _NEWLINE:
        begin -= 1
    while end < range_end and text[end] != _NEWLINE:
        end += 1
    empty = 0
    for i in range(begin, end):
        if text[i] != _SPACE and i >= start:
            break
        empty += 1
    if end - begin - empty <= 0:
        return b""
    more_lines = any(_char(text, i) not in (_NEWLINE, _SPACE)
                     for i in range(line_end, range_end + 1))
    tail = b"\n" if more_lines and line_end != range_end else b" <--- HERE\n"
    return b" " * empty + b"~" * (end - begin - empty) + tail


def _highlight(text: bytes, start: int, end: int) -> bytes:
    """SourceRange(start, end).highlight: the range's lines with `~` under the range, and
    _CONTEXT lines of context either side."""
    n = len(text)
    if (end - start) % 2 ** 64 == n:  # the whole text: printed as it is
        return text
    range_end = min(n, end)
    if start > n:
        return b""
    begin_context, end_context = _context_bounds(text, start, range_end)
    out = bytearray(text[begin_context:start])
    line_start = line_end = start
    while line_start < range_end:
        while line_end < n and text[line_end] != _NEWLINE:
            line_end += 1
        line = text[line_start:line_end + 1]
        out += line if line.endswith(b"\n") else line + b"\n"
        out += _marker(text, start, line_start, line_end, range_end)
        line_end += 1
        line_start = line_end
    if line_end <= n:
        # a negative std::string::substr count wraps around: the rest of the text
        rest = text[line_end:] if end_context < line_end else text[line_end:end_context]
        out += rest if not rest or rest.endswith(b"\n") else rest + b"\n"
    return bytes(out)


def _fail(*parts: bytes):
    """The RuntimeError torch raises, its message decoded from the bytes."""
    raise RuntimeError(b"".join(parts).decode("utf-8", errors="replace"))


def _assert_find(text, sub: bytes, start: int, end: int, check: _Check | None) -> int:
    """Where sub is in text[start:end], or torch's "Expected to find" error."""
    pos = _find(text, sub, start)
    if pos == NPOS or pos + len(sub) > end:
        _fail(b"Expected to find ", _quoted(sub), b" but did not find it\nSearched string:\n",
              _highlight(text, start, len(sub)),
              b"From " + check.label() + b"\n" if check else b"")
    return pos


def _assert_not_find(text, sub: bytes, start: int, end: int, check: _Check) -> None:
    """torch's "Expected to not find" error when sub is in text[start:end]."""
    pos = _find(text, sub, start)
    if pos != NPOS and pos + len(sub) <= end:
        _fail(b"Expected to not find ", _quoted(sub), b" but found it\n",
              _highlight(text, pos, pos + len(sub)), b"From " + check.label() + b"\n")


def _assert_find_regex(text, pattern: bytes, start: int, check: _Check) -> int:
    """Where pattern matches after start (relative to start), or torch's error."""
    pos = _find_regex(text, pattern, start)
    if pos == NPOS:
        _fail(b"Expected to find regex ", _quoted(pattern),
              b" but did not find it\nSearched string:\nFrom ", check.label(), b"\n")
    return pos


def _stoll(digits: bytes) -> int:
    """std::stoll: the leading integer (ValueError "stoll" when there is none)."""
    match = re.match(rb"\s*[+-]?\d+", digits)
    if match is None:
        raise ValueError("stoll")
    return int(match.group()) % 2 ** 64  # stored in a size_t


def _find_next_start(text: bytes, prev_end: int) -> int:
    """The position after the next `#  CHECK` (up to 6 blanks between), or NPOS."""
    while True:
        start = _find(text, b"#", prev_end)
        if start == NPOS:
            return NPOS
        start += 1
        blanks = 0
        while start + blanks < len(text) and blanks < 6 and text[start + blanks] in b" \t":
            blanks += 1
        if text[start + blanks:start + blanks + 5] == b"CHECK":
            return start + blanks + 5
        prev_end = start + blanks + 1


class FileCheck:
    """Checks that a text holds strings in order (matches `torch.testing.FileCheck`): add
    checks (check, check_next, check_same, check_not, check_count, check_dag,
    check_source_highlighted, check_regex), then `run` them on a string or a traced graph, or
    `run(checks_file, text)` with `# CHECK...: ` lines."""

    def __init__(self):
        self._checks, self._groups, self._has_run = [], [], False

    def __repr__(self):
        """As pybind11 shows torch's: `<torch.FileCheck object at 0x...>`."""
        return f"<torch.FileCheck object at {id(self):#x}>"

    def __del__(self):
        """torch's destructor warns (on stdout) about checks that never ran."""
        if not getattr(self, "_has_run", True):
            try:
                labels = "".join(f"\t{check.label().decode('utf-8', 'replace')}\n"
                                 for check in self._checks)
                sys.stdout.write("You have not run this instance of FileCheck!\n"
                                 f"FileCheck checks:\n{labels}")
            except Exception:  # interpreter shutdown: no stdout to write to
                pass

    def _incompatible(self, name: str, signatures: list[str], args, kwargs):
        """pybind11's TypeError for arguments no overload takes."""
        listed = "\n".join(f"    {i}. (self: torch._C.FileCheck, {signature}"
                           for i, signature in enumerate(signatures, 1))
        invoked = ", ".join([repr(self), *map(repr, args)])
        if kwargs:
            invoked += "; kwargs: " + ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        return TypeError(f"{name}(): incompatible function arguments. The following argument "
                         f"types are supported:\n{listed}\n\nInvoked with: {invoked}")

    def _add(self, kind: str, search: bytes, count=None) -> None:
        """Add a check; consecutive CHECK-NOTs (and CHECK-DAGs) form one group."""
        check = _Check(kind, search, count)
        last = self._groups[-1] if self._groups else None
        if last and kind in ("CHECK-NOT", "CHECK-DAG") and last[0].kind == kind:
            last.append(check)
        else:
            self._groups.append([check])
        self._checks.append(check)
        self._has_run = False

    def _add_str(self, name: str, kind: str, string) -> "FileCheck":
        """Add a check of kind for string (torch's TypeError for a non-string)."""
        if not isinstance(string, str):
            raise self._incompatible(name, ["arg0: str) -> torch._C.FileCheck"], (string,), {})
        self._add(kind, string.encode())
        return self

    def check(self, arg0, /) -> "FileCheck":
        """The string comes next (after the previous match)."""
        return self._add_str("check", "CHECK", arg0)

    def check_not(self, arg0, /) -> "FileCheck":
        """The string does not occur between the neighbouring matches."""
        return self._add_str("check_not", "CHECK-NOT", arg0)

    def check_same(self, arg0, /) -> "FileCheck":
        """The string comes next, on the same line as the previous match."""
        return self._add_str("check_same", "CHECK-SAME", arg0)

    def check_next(self, arg0, /) -> "FileCheck":
        """The string is on the line after the previous match."""
        return self._add_str("check_next", "CHECK-NEXT", arg0)

    def check_dag(self, arg0, /) -> "FileCheck":
        """The strings of consecutive check_dags come next, in any order."""
        return self._add_str("check_dag", "CHECK-DAG", arg0)

    def check_source_highlighted(self, arg0, /) -> "FileCheck":
        """The string is underlined with `~` on the next line."""
        return self._add_str("check_source_highlighted", "CHECK-SOURCE-HIGHLIGHTED", arg0)

    def check_regex(self, arg0, /) -> "FileCheck":
        """The regular expression matches after the previous match."""
        return self._add_str("check_regex", "CHECK-REGEX", arg0)

    def check_count(self, *args, **kwargs) -> "FileCheck":
        """check_count(str, count, exactly=False): the string comes count times next (and, if
        exactly, not once more afterwards)."""
        string, count, exactly = self._count_arguments(args, kwargs)
        if count == 0 and not exactly:
            raise RuntimeError(_COUNT_ASSERT)
        if count:
            self._add("CHECK-COUNT", string.encode(), count)
        if exactly:
            self._add("CHECK-NOT", string.encode())
        return self

    def _count_arguments(self, args, kwargs) -> tuple:
        """check_count's (str, count, exactly), or pybind11's TypeError."""
        names = ("str", "count", "exactly")
        values = dict(zip(names, args), **kwargs)
        try:
            if len(args) > 3 or set(kwargs) - set(names) or set(kwargs) & set(names[:len(args)]):
                raise TypeError
            string, count = values["str"], operator.index(values["count"])
            if not isinstance(string, str) or count < 0:
                raise TypeError
            return string, count, bool(values.get("exactly", False))
        except (TypeError, KeyError):
            raise self._incompatible("check_count", [
                "arg0: str, arg1: typing.SupportsInt | typing.SupportsIndex, arg2: bool) -> "
                "torch._C.FileCheck",
                "str: str, count: typing.SupportsInt | typing.SupportsIndex, exactly: bool = "
                "False) -> torch._C.FileCheck"], args, kwargs) from None

    def run(self, *args, **kwargs) -> None:
        """run(test_file), run(graph), run(checks_file, test_file), run(checks_file, graph):
        run the checks (and those parsed from checks_file) on the text."""
        named = ("checks_file", "test_file", "graph")
        values = list(args) + [kwargs[name] for name in named if name in kwargs]
        texts = [_text(value, allow_graph=i == len(values) - 1) for i, value in
                 enumerate(values)]
        if set(kwargs) - set(named) or not 1 <= len(values) <= 2 or None in texts:
            raise self._incompatible("run", [
                "arg0: str) -> None", "arg0: torch._C.Graph) -> None",
                "checks_file: str, test_file: str) -> None",
                "checks_file: str, graph: torch._C.Graph) -> None"], args, kwargs)
        if len(texts) == 2:
            self._parse(texts[0])
        self._run(texts[-1])

    def _run(self, text: bytes) -> None:
        """FileCheckImpl::run: the checks, group by group, on text."""
        self._has_run = True
        if not self._groups or not self._groups[0]:
            raise RuntimeError("No checks have been added to this instance ofFilecheck! "
                               "Check for bad input.")
        _Matcher(text).do_checks(self._groups)

    def _parse(self, source: bytes) -> None:
        """Add the checks of a checks file's `# CHECK...: ` lines."""
        start = _find_next_start(source, 0)
        while start != NPOS:
            start = self._parse_single_check(source, start)
            start = _find_next_start(source, start)

    def _parse_single_check(self, source: bytes, start: int) -> int:
        """Add the check at start (right after "CHECK"); where its line ends."""
        for kind, suffix in _SUFFIXES:
            if _find(source, suffix, start) != start:
                continue
            begin = start + len(suffix)
            end_line = _find(source, b"\n", begin)
            count, exactly = None, False
            if kind == "CHECK-COUNT":
                if _find(source, b"EXACTLY-", begin) == begin:
                    exactly, begin = True, begin + len(b"EXACTLY-")
                colon = _assert_find(source, b":", begin, end_line, None)
                count, begin = _stoll(source[begin:colon]), colon + 2
            self._add(kind, source[begin:end_line], count)
            if exactly:
                self._add("CHECK-NOT", source[begin:end_line])
            return end_line
        self._has_run = True
        _fail(b"Could not parse check at:\n", _highlight(source, start, start + 1),
              b"Check for bad input.")


def _text(value, allow_graph: bool):
    """The UTF-8 bytes of a string (or a traced graph's text), None for anything else."""
    if isinstance(value, str):
        return value.encode()
    graph_module = sys.modules.get(_GRAPH_MODULE)  # no graph exists before it is loaded
    if allow_graph and graph_module and isinstance(value, graph_module.TraceGraph):
        return str(value).encode()
    return None


class _Matcher:
    """FileCheckImpl::doChecks on one text: each group matched after the previous one."""

    def __init__(self, text: bytes):
        self.text = text

    def do_checks(self, groups) -> None:
        """Match the groups in order; a CHECK-NOT group holds between its neighbours."""
        prev, i = (0, 0), 0
        while i < len(groups):
            group = groups[i]
            if group[0].kind != "CHECK-NOT":
                prev = self.match_group(group, prev)
            elif i + 1 < len(groups):
                after = self.match_group(groups[i + 1], prev)
                self.check_not(group, prev, after)
                prev, i = after, i + 1
            else:
                end_of_file = len(self.text) + 1
                self.check_not(group, prev, (end_of_file, end_of_file))
            i += 1

    def check_not(self, nots, prev, after) -> None:
        """None of the CHECK-NOT strings is between the end of prev and the start of after."""
        start, end = prev[1], after[0]
        if end < start:
            return
        for check in nots:
            _assert_not_find(self.text, check.search, start, end, check)

    def find(self, check: _Check, start: int, sub: bytes | None = None) -> int:
        """Where sub (default: the check's string) is after start, or the check's error."""
        sub = check.search if sub is None else sub
        return _assert_find(self.text, sub, start, len(self.text), check)

    def match_group(self, group, prev) -> tuple[int, int]:
        """The (start, end) range a group of checks matched after prev."""
        check = group[0]
        if check.kind == "CHECK-DAG":
            starts_ends = [(pos, pos + len(c.search))
                           for c in group for pos in [self.find(c, prev[1])]]
            return min(s for s, _ in starts_ends), max(e for _, e in starts_ends)
        matchers = {"CHECK": self.match_check, "CHECK-SAME": self.match_same,
                    "CHECK-NEXT": self.match_next, "CHECK-COUNT": self.match_count,
                    "CHECK-SOURCE-HIGHLIGHTED": self.match_source_highlighted,
                    "CHECK-REGEX": self.match_regex}
        return matchers[check.kind](check, prev)

    def match_check(self, check, prev) -> tuple[int, int]:
        """CHECK: the string next."""
        pos = self.find(check, prev[1])
        return pos, pos + len(check.search)

    def match_same(self, check, prev) -> tuple[int, int]:
        """CHECK-SAME: the string next, with no newline before it."""
        pos = self.find(check, prev[1])
        _assert_not_find(self.text, b"\n", prev[1], pos, check)
        return pos, pos + len(check.search)

    def match_next(self, check, prev) -> tuple[int, int]:
        """CHECK-NEXT: the string on the next line."""
        line_end = self.find(check, prev[1], b"\n")
        pos = self.find(check, line_end + 1)
        _assert_not_find(self.text, b"\n", line_end + 1, pos, check)
        return pos, pos + len(check.search)

    def match_count(self, check, prev) -> tuple[int, int]:
        """CHECK-COUNT-n: the string n times next."""
        if not check.count:
            raise RuntimeError(_COUNT_ZERO_ASSERT)
        start, first = prev[1], NPOS
        for _ in range(check.count):
            start = self.find(check, start)
            first = min(first, start)
            start += len(check.search)
        return first, start

    def match_source_highlighted(self, check, prev) -> tuple[int, int]:
        """CHECK-SOURCE-HIGHLIGHTED: a check that does not advance the range."""
        _SourceHighlight(self.text, check).check(prev[1])
        return prev[1], prev[1]

    def match_regex(self, check, prev) -> tuple[int, int]:
        """CHECK-REGEX: a match after prev (torch keeps the position relative to prev)."""
        pos = _assert_find_regex(self.text, check.search, prev[1], check)
        return pos, pos + len(check.search)


class _SourceHighlight:
    """doCheckSourceHighlighted: some occurrence of the string is underlined by exactly as
    many `~` on the next line."""

    def __init__(self, text: bytes, check: _Check):
        self.text, self.check_ = text, check
        self.line_starts = [0] + [i + 1 for i, byte in enumerate(text) if byte == _NEWLINE]

    def error(self, start: int):
        """torch's error for a string found but not highlighted."""
        search = self.check_.search
        _fail(b"Expected to find ", _quoted(search), b"highlighted but it is not.\n",
              _highlight(self.text, start, len(search)))

    def is_highlighted(self, pos: int) -> bool:
        """Whether the occurrence at pos is underlined (checked like torch: raises when the
        underline is too short or runs off the text's end)."""
        text, search = self.text, self.check_.search
        line = next(i for i in range(len(self.line_starts) - 1, -1, -1)
                    if self.line_starts[i] <= pos)
        if line + 1 >= len(self.line_starts):
            self.error(pos)
        begin = self.line_starts[line + 1] + pos - self.line_starts[line]
        end = min(begin + len(search), len(text))
        if end >= len(text):
            self.error(pos)
        if any(text[i] != ord("~") for i in range(begin, end)):
            return False
        _assert_not_find(text, b"~", begin - 1, begin, self.check_)
        _assert_not_find(text, b"~", end, end + 1, self.check_)
        return True

    def check(self, start: int) -> None:
        """Pass at the first underlined occurrence after start; torch's errors otherwise."""
        search_start, found, pos = start, False, start
        while pos < len(self.text):
            pos = _find(self.text, self.check_.search, search_start)
            if pos == NPOS or pos < search_start:  # (an empty string would loop forever)
                break
            found = True
            if self.is_highlighted(pos):
                return
            search_start = pos + 1
        if not found:
            _assert_find(self.text, self.check_.search, start, len(self.text), self.check_)
        self.error(start)
