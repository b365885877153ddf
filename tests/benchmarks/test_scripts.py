"""The benchmark scripts import their shared code one way (benchmarks/__init__.py) and run as files."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SCRIPTS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if p.stem not in {"__init__", "common", "md"})
BOOTSTRAP = "sys.path.append(str(Path(__file__).resolve().parents[1]))"


def _imports(tree: ast.Module) -> list[str]:
    """Every module a source imports (``from A import b``: A and A.b), at any depth."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_a_script_imports_the_shared_modules_one_way_and_no_other_script(script):
    tree = ast.parse(script.read_text())
    body = [ast.unparse(node) for node in tree.body]
    shared = [i for i, node in enumerate(tree.body) if body[i].startswith(("from benchmarks ", "from benchmarks."))]
    assert shared, f"{script.name}: its Markdown is not written with benchmarks.md"
    assert body.count(BOOTSTRAP) == 1 and body.index(BOOTSTRAP) == shared[0] - 1  # the line, just before them
    assert shared == list(range(shared[0], shared[0] + len(shared)))  # together
    assert {tree.body[i].module for i in shared} <= {"benchmarks", "benchmarks.common"}
    imported = set(_imports(tree))
    assert "benchmarks.md" in imported
    scripts = {p.stem for p in SCRIPTS}
    assert not imported & (scripts | {f"benchmarks.{name}" for name in scripts}), "a script imports another script"
    assert not imported & {"importlib.util", "runpy"}
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "spec_from_file_location"]


@pytest.mark.slow  # a fresh interpreter imports torch (seconds); the fast lane keeps the import checks above
def test_a_script_run_as_a_file_from_elsewhere_finds_the_shared_modules(tmp_path):
    """Only gankit on PYTHONPATH (a link to this checkout's), not the repository: the bootstrap line finds it."""
    (tmp_path / "path").mkdir()
    (tmp_path / "path" / "gankit").symlink_to(ROOT / "gankit")
    env = os.environ | {"PYTHONPATH": str(tmp_path / "path")}
    script = ROOT / "benchmarks" / "pacgan_stall.py"  # imports benchmarks.md and benchmarks.common
    command = [sys.executable, str(script), "--help"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: pacgan_stall.py [-h] [--steps STEPS] [--seed SEED] [--doc DOC]")
