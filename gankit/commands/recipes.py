"""``gankit recipes``: list the recipes, or print one as JSON."""

from __future__ import annotations

import argparse

from gankit.recipes import RECIPES, get_recipe


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    r = sub.add_parser("recipes", help="list recipes, or print one as JSON")
    r.add_argument("name", nargs="?")
    r.set_defaults(func=cmd_recipes)
    return r


def cmd_recipes(args: argparse.Namespace) -> None:
    if args.name:
        print(get_recipe(args.name).to_json())
        return
    width = max(map(len, RECIPES))
    for r in RECIPES.values():
        print(f"{r.name:<{width}}  {r.summary}  [{r.reference}]")
    print("\nShow one with `gankit recipes NAME`; train it with `gankit train --recipe NAME`.")
