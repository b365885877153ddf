"""Named choices: one registry type, one lookup with "did you mean" suggestions, used by every table of options.

Each table of interchangeable parts (data sets, objectives, architectures, optimisers, update schemes,
recipes, metrics, demos, …) is a :class:`Registry`, a read-only mapping from a name to the part. A bad name
raises :class:`~gankit.errors.ConfigError` (or the ``error`` class the registry was made with) naming the
closest matches and every known name; command-line choices are read from the same registries, so they
cannot drift from what the code accepts.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import TypeVar

from gankit.errors import ConfigError, GankitError

T = TypeVar("T")


def unknown_name(name: str, options: Iterable[str], what: str, error: type[GankitError] = ConfigError) -> GankitError:
    """The error for a name that is not among ``options``: up to three close matches, then all of them."""
    options = list(options)
    close = difflib.get_close_matches(str(name), options, n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return error(f"unknown {what} {name!r}.{hint} Known: {', '.join(options)}.")


class Registry(dict[str, T]):
    """An ordered table ``name → part`` (a dict) whose :meth:`lookup` explains a bad name.

    ``what`` names an entry in messages ("objective", "data set", …); ``extra`` are names that the
    caller accepts besides the entries (e.g. ``folder`` for data), listed in messages and choices;
    ``error`` is the exception class of :meth:`lookup` (a ConfigError unless the caller says otherwise).
    """

    def __init__(
        self,
        what: str,
        entries: Mapping[str, T] | None = None,
        extra: Iterable[str] = (),
        error: type[GankitError] = ConfigError,
    ):
        super().__init__(entries or {})
        self.what, self.extra, self.error = what, tuple(extra), error

    def __repr__(self) -> str:
        return f"Registry({self.what!r}, {list(self)})"

    @property
    def choices(self) -> list[str]:
        """Every accepted name: the entries, then the extra names."""
        return [*self, *self.extra]

    def register(self, name: str, entry: T) -> T:
        """Add ``entry`` under a new ``name`` (a second entry of one name is a bug, and raises)."""
        if name in self:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self[name] = entry
        return entry

    def check(self, name: str, what: str | None = None) -> str:
        """``name`` if it is accepted (an entry or an extra name), else a ConfigError with suggestions."""
        if name not in self and name not in self.extra:
            raise unknown_name(name, self.choices, what or self.what)
        return name

    def lookup(self, name: str, what: str | None = None) -> T:
        """The entry called ``name``; a bad name raises the registry's error with suggestions."""
        if name not in self:
            raise unknown_name(name, self.choices, what or self.what, self.error)
        return self[name]
