"""Every error tcobench raises on purpose.

    TcobenchError                 base; the CLI prints ``ErrorType: message`` and exits non-zero
     ├── InputError               bad input from a user: exit code 2
     │    ├── UnitError           a value with a missing or wrong unit ("80 GB/s" where B was expected)
     │    ├── CatalogError        a malformed catalog file: file, key, bad value, what was expected
     │    ├── UnknownIdError      an id not in the catalog, with the closest matches
     │    └── DeploymentError     an impossible deployment (TP does not divide heads, ...)
     ├── MissingInputError        a figure a command needs is unknown in the catalog (exit code 2)
     ├── StoreError               the results store cannot be opened, read or written (exit code 1)
     └── InstallError             a part of tcobench itself is missing: a broken install (exit code 1)

Third-party exceptions are wrapped at the boundary with ``raise ... from``.

The library speaks in parameters, the CLI in flags. An error about a parameter names it as a field in its
message and lists it in ``params``: ``InputError("{tp} must be a positive integer, got 0", params=("tp",))``
reads "tp must be ..." from Python and "--tp must be ..." from the CLI, which renders it with
``err.render(flags)`` (the invoked command's own option names; ``--`` + the name with ``-`` for ``_``
otherwise). Only the listed ``{name}`` tokens are replaced, so a quoted value may hold braces.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence


class TcobenchError(Exception):
    """Base class of tcobench's own errors. ``params``: the parameters named in the message as ``{name}``."""

    exit_code = 1

    def __init__(self, message: str = "", *, params: Sequence[str] = ()) -> None:
        self.template, self.params = message, tuple(params)
        super().__init__(self.render())

    def render(self, flags: Mapping[str, str] | None = None) -> str:
        """The message with each parameter as ``flags`` names it (a CLI), or as its Python name (no ``flags``)."""
        if not self.params:
            return self.template
        text = self.template
        for p in self.params:  # by replacement, not str.format: a value quoted in the message may hold braces
            text = text.replace("{" + p + "}", flag_name(p, flags) if flags is not None else p)
        return text


def params_in(where: str) -> tuple[str, ...]:
    """The parameters a place names as ``{name}`` ("{hardware}" -> ("hardware",); "catalog show" -> ())."""
    return tuple(re.findall(r"\{(\w+)\}", where))


def flag_name(param: str, flags: Mapping[str, str] | None = None) -> str:
    """The CLI flag of a parameter: the command's own option for it, else ``--`` + the name with ``-`` for ``_``."""
    return (flags or {}).get(param) or "--" + param.replace("_", "-")


class InputError(TcobenchError):
    exit_code = 2


class UnitError(InputError):
    pass


class CatalogError(InputError):
    pass


class UnknownIdError(InputError):
    """``where`` says where the id was given: a place ("catalog show") or a parameter as ``{name}``."""

    def __init__(self, kind: str, wanted: str, known: Iterable[str], where: str = "") -> None:
        self.kind, self.wanted = kind, wanted
        self.matches = close_matches(wanted, known)
        place = f" in {where}" if where else ""
        hint = f"; did you mean {', '.join(repr(m) for m in self.matches)}?" if self.matches else ""
        super().__init__(f"unknown {kind} {wanted!r}{place}{hint}", params=params_in(where))


class DeploymentError(InputError):
    pass


class MissingInputError(TcobenchError):
    exit_code = 2


class StoreError(TcobenchError):
    pass


class InstallError(TcobenchError):
    pass


def quote(value: object, limit: int = 60) -> str:
    """``repr(value)`` for a message, cut to about ``limit`` characters: "'1111...' (5,000 characters)"."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"a {int(value.bit_length() * 0.30103) + 1:,}-digit number"  # repr of a huge int is slow or refused
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(str(value)):,} characters)"


def close_matches(wanted: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names closest to ``wanted``, ignoring case and punctuation ('h100sxm' -> 'h100-sxm')."""
    known = list(known)
    squash = {k: "".join(ch for ch in k.lower() if ch.isalnum()) for k in known}
    target = "".join(ch for ch in wanted.lower() if ch.isalnum())
    exact = [k for k, s in squash.items() if s == target]
    if exact:
        return exact[:n]
    by_squash = difflib.get_close_matches(target, list(squash.values()), n=n, cutoff=0.6)
    out = [k for s in by_squash for k, v in squash.items() if v == s]
    return list(dict.fromkeys(out))[:n]
