"""`TorchVersion`: a version string that also compares as a version (matches `torch.torch_version`).

Scripts compare `torch.__version__` with strings ("2.0"), tuples ((1, 13)) and packaging Versions.
As plain strings "2.13.0" < "2.2" would hold; as versions it does not.
"""

import functools
import re

from ember.version import __version__ as internal_version

__all__ = ["TorchVersion"]

_PATTERN = (  # compiled on first use, by _pattern(): 1 ms of `import ember` otherwise
    r"^\s*v?(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre_kind>a|alpha|b|beta|rc|c|pre|preview)[-_.]?(?P<pre_n>\d*))?"
    r"(?:[-_.]?(?:post|rev|r)[-_.]?(?P<post>\d*))?"
    r"(?:[-_.]?dev[-_.]?(?P<dev>\d*))?"
    r"(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$")
_PRE_ORDER = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "rc": 2, "c": 2, "pre": 2, "preview": 2}


@functools.cache
def _pattern():
    """The PEP 440 version pattern (case-insensitive), compiled once."""
    return re.compile(_PATTERN, re.IGNORECASE)


class InvalidVersion(ValueError):
    """A string that is not a PEP 440 version."""


def version_key(text: str) -> tuple:
    """A tuple that orders versions as PEP 440 does (release, pre, post, dev, local)."""
    match = _pattern().match(text)
    if match is None:
        raise InvalidVersion(f"Invalid version: '{text}'")
    release = [int(part) for part in match["release"].split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()  # 2.0 == 2.0.0
    dev = (1, 0) if match["dev"] is None else (0, int(match["dev"] or 0))
    if match["pre_kind"]:
        pre = (0, _PRE_ORDER[match["pre_kind"].lower()], int(match["pre_n"] or 0))
    elif match["dev"] is not None and match["post"] is None:
        pre = (-1,)  # 2.0.dev1 sorts before 2.0a1
    else:
        pre = (1,)
    post = (-1,) if match["post"] is None else (int(match["post"] or 0),)
    local = () if match["local"] is None else tuple(
        (1, int(part), "") if part.isdigit() else (0, 0, part.lower())
        for part in re.split(r"[-_.]", match["local"]))
    return tuple(release), pre, post, dev, local


def _as_key(other):
    """The comparison key of a string, a tuple of numbers, or a packaging `Version`."""
    if isinstance(other, str):
        return version_key(other)
    if isinstance(other, (tuple, list)):
        return version_key(".".join(str(item) for item in other))
    if type(other).__name__ == "Version":  # packaging.version.Version, without importing it
        return version_key(str(other))
    raise InvalidVersion(other)


class TorchVersion(str):
    """A str that compares against strings, tuples and Versions as a version would."""

    __slots__ = ()

    def _compare(self, other, method):
        try:
            return getattr(version_key(self), method)(_as_key(other))
        except InvalidVersion:
            return getattr(str, method)(self, other)

    def __lt__(self, other):
        return self._compare(other, "__lt__")

    def __le__(self, other):
        return self._compare(other, "__le__")

    def __gt__(self, other):
        return self._compare(other, "__gt__")

    def __ge__(self, other):
        return self._compare(other, "__ge__")

    def __eq__(self, other):
        return self._compare(other, "__eq__")

    __hash__ = str.__hash__


__version__ = TorchVersion(internal_version)
