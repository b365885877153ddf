"""How to install one of gankit's optional extras (``viz``, ``tensorboard``), in the form this installation needs.

Every hint about a missing optional package goes through :func:`install_command`: from a source checkout (an
editable install, or gankit imported from its folder without installing) an extra is
``pip install -e 'CHECKOUT[extra]'`` (``'.[extra]'`` from inside the checkout); from an installed package it
is ``pip install 'gankit[extra]'``.
"""

from __future__ import annotations

import shlex
from pathlib import Path


def checkout_root() -> Path | None:
    """The source checkout gankit runs from (the folder with its pyproject.toml), or None for an installed package."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


def install_command(extra: str) -> str:
    """The pip command that installs ``extra`` for this installation of gankit."""
    root = checkout_root()
    if root is None:
        return f"pip install {shlex.quote(f'gankit[{extra}]')}"
    where = "." if root == Path.cwd().resolve() else str(root)
    return f"pip install -e {shlex.quote(f'{where}[{extra}]')}"
