"""``gankit config``: every config field with its type, default, allowed values and meaning.

All of it is read from the dataclasses of ``gankit.config`` (each field's :class:`~gankit.config.FieldFacts`,
declared beside it) and, for fields that name a registered part, from the registries' names
(``gankit.commands.names``), so the reference cannot fall behind the code. ``docs/config.md`` is the output of
``gankit config --markdown``; a test fails while it differs.

A command of its own rather than ``gankit recipes --fields``: the fields are the same for every recipe, and the
argument filters them the way ``--set`` names them (a section, a dotted field, or a field's name in any section).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import shutil
import textwrap
import types
import typing
from dataclasses import dataclass
from typing import Any

from gankit.commands.names import REGISTRIES
from gankit.config import Config, FieldFacts, field_facts, field_types, similar_fields
from gankit.errors import ConfigError

TOP = "top level"  # the heading of the fields outside any section (recipe)
MARKDOWN_COMMAND = "gankit config --markdown > docs/config.md"


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    c = sub.add_parser(
        "config",
        help="list the config fields: type, default, allowed values, meaning",
        description="List every config field that --set, a --config file or a recipe sets: its type, default, "
        "allowed values, whether `train --resume` may change it, and what it means.",
        epilog="examples: gankit config train · gankit config g_optim.lr · gankit config lr (every section's lr)",
    )
    c.add_argument(
        "name",
        nargs="?",
        metavar="SECTION|FIELD",
        help="only this section (train), this field (g_optim.lr), or the fields of this name in every section (lr)",
    )
    c.add_argument("--markdown", action="store_true", help=f"print the reference as Markdown ({MARKDOWN_COMMAND})")
    c.set_defaults(func=cmd_config)
    return c


@dataclass(frozen=True)
class Field:
    """One config field as the reference shows it."""

    path: str  # its dotted name, as --set takes it
    type: str  # its type in words
    default: str  # its default, written as --set takes it
    allowed: tuple[str, ...]  # its values, where they form a set (empty: any value of its type)
    facts: FieldFacts

    @property
    def section(self) -> str:
        return self.path.rpartition(".")[0] or TOP


def fields() -> list[Field]:
    """Every field of :class:`~gankit.config.Config`, in declaration order."""
    cfg, out = Config(), []
    for path, facts in field_facts(cfg).items():
        section, _, name = path.rpartition(".")
        owner = getattr(cfg, section) if section else cfg
        tp = field_types(type(owner))[name]
        allowed = REGISTRIES[facts.registry] if facts.registry else facts.choices
        if tp is bool:
            allowed = ("true", "false")
        out.append(Field(path, type_name(tp), value_text(getattr(owner, name)), tuple(allowed), facts))
    return out


def sections() -> dict[str, str]:
    """Each section's heading name → its one-line description (the first paragraph of its class's docstring)."""
    cfg = Config()
    owners = {TOP: cfg} | {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name in _SECTION_NAMES}
    return {name: _first_paragraph(type(owner).__doc__ or "") for name, owner in owners.items()}


def _first_paragraph(docstring: str) -> str:
    return " ".join(docstring.split("\n\n")[0].split()).replace("``", "`")


_SECTION_NAMES = tuple(f.name for f in dataclasses.fields(Config) if f.default is dataclasses.MISSING)


def type_name(tp: Any) -> str:
    """A field's type in words: ``int``, ``float or none``, ``2 floats``, ``ints``."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        kinds = [type_name(a) for a in args if a is not type(None)]
        return " or ".join(kinds + (["none"] if type(None) in args else []))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"{type_name(args[0])}s"
        return f"{len(args)} {type_name(args[0])}s" if len(set(args)) == 1 else ", ".join(map(type_name, args))
    return getattr(tp, "__name__", str(tp))


def value_text(value: Any) -> str:
    """A value as ``--set`` takes it: ``none``, ``true``, ``0.5,0.999``, ``()`` for an empty list."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ",".join(map(value_text, value)) if value else "()"
    return str(value)


def select(name: str | None) -> list[Field]:
    """The fields ``gankit config NAME`` shows: a section's, one field, or every section's field of that name."""
    every = fields()
    if name is None:
        return every
    chosen = [f for f in every if f.path == name or f.section == name]
    chosen = chosen or [f for f in every if f.path.rpartition(".")[2] == name]
    if not chosen:
        sections_close = [] if "." in name else difflib.get_close_matches(name, _SECTION_NAMES, n=2)
        close = sections_close + similar_fields(name)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigError(
            f"no config section or field {name!r}.{hint} Sections: {', '.join(_SECTION_NAMES)}; "
            "`gankit config` lists every field"
        )
    return chosen


def describe(f: Field, width: int) -> list[str]:
    """A field in the terminal: ``path: type = default``, then its meaning and its allowed values, indented."""
    head = f"{f.path}: {f.type} = {f.default}" + ("  (resumable)" if f.facts.resumable else "")
    wrap = textwrap.TextWrapper(width=width, initial_indent="    ", subsequent_indent="      ")
    lines = [head, *wrap.wrap(f.facts.help)]
    if f.allowed and f.type != "bool":
        lines += wrap.wrap(f"one of: {', '.join(f.allowed)}")
    return lines


FOOTER = (
    "Set a field with `gankit train --set FIELD=VALUE` or in a --config file. (resumable): `gankit train --resume "
    "RUN --set FIELD=VALUE` may change it. One section or field: `gankit config train`, `gankit config g_optim.lr`."
)


def text(chosen: list[Field], width: int, footer: bool = False) -> str:
    """The terminal listing of ``chosen``, grouped by section (``footer``: then how to set a field)."""
    about, lines, current = sections(), [], None
    for f in chosen:
        if f.section != current:
            current = f.section
            lines += ([""] if lines else []) + textwrap.wrap(f"[{current}] {about[current]}", width)
        lines += describe(f, width)
    if footer:
        lines += ["", *textwrap.wrap(FOOTER, width)]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """The field reference as a Markdown page (docs/config.md)."""
    about = sections()
    every = fields()
    lines = [
        "# Config fields",
        "",
        "Every field of a run's config: what `gankit train --set FIELD=VALUE`, a `--config` file (JSON or TOML) and "
        "the recipes set. Values are written as `--set` takes them: `none` for an unset optional field, "
        "`true`/`false`, lists as `0,200,1000`. *Resumable*: `gankit train --resume RUN --set FIELD=VALUE` may "
        "change it. `gankit recipes NAME` prints a recipe's values; `gankit config SECTION|FIELD` shows a part of "
        "this page in the terminal.",
        "",
        f"Generated from the dataclasses in `gankit/config.py` by `{MARKDOWN_COMMAND}`; "
        "`tests/commands/test_config.py` fails while this page differs from them.",
    ]
    for name, summary in about.items():
        rows = [f for f in every if f.section == name]
        lines += ["", f"## {name if name == TOP else f'`{name}`'}", "", summary, ""]
        lines += ["| field | type | default | allowed values | resumable | meaning |", "|---|---|---|---|---|---|"]
        for f in rows:
            allowed = ", ".join(f"`{a}`" for a in f.allowed) if f.allowed else ""
            cells = [f"`{f.path}`", f.type, f"`{f.default}`", allowed, "yes" if f.facts.resumable else "", f.facts.help]
            lines.append("| " + " | ".join(map(_cell, cells)) + " |")
    return "\n".join(lines) + "\n"


def cmd_config(args: argparse.Namespace) -> None:
    if args.markdown:
        if args.name is not None:
            raise ConfigError("--markdown prints the whole reference; give no SECTION|FIELD with it")
        print(markdown(), end="")
        return
    width = min(shutil.get_terminal_size((100, 24)).columns, 120)
    print(text(select(args.name), width, footer=args.name is None))
