"""The package's import structure: no cycles, and every import points down the layers below.

The graph is read from the source with ``ast`` (every ``import`` statement, also those inside functions),
so a lazy import cannot hide a cycle.
"""

import ast
from pathlib import Path

import gankit

ROOT = Path(gankit.__file__).parent

# Lowest first. A module may import modules of its own layer or of a layer below, never above.
LAYERS = [
    [
        "gankit.errors",
        "gankit.version",
        "gankit.extras",
        "gankit.registry",
        "gankit.config",
        "gankit.device",
        "gankit.memory",
        "gankit.shard",
        "gankit.signals",
    ],
    ["gankit.store"],
    ["gankit.latent", "gankit.losses", "gankit.regularizers", "gankit.divergences", "gankit.images"],
    ["gankit.data", "gankit.recipes"],
    ["gankit.nets"],
    ["gankit.trained", "gankit.sample", "gankit.memory.footprint"],
    ["gankit.metrics", "gankit.viz"],
    ["gankit.training"],
    ["gankit.trials"],
    ["gankit.theory"],
    ["gankit.cli", "gankit.commands", "gankit.__main__", "gankit"],
]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def resolve(name: str, modules: set[str]) -> str | None:
    """The gankit module an import names: the longest prefix that is a module of the package."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in ROOT.rglob("*.py")}
    modules = set(files)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                target = resolve(name, modules)
                if target is not None and target != module:
                    graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan 1972)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer_of(module: str) -> int:
    best, layer = -1, None
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, layer = len(prefix), i
    if layer is None:
        raise AssertionError(f"{module} is in no layer of LAYERS: add it")
    return layer


def test_the_graph_is_read():
    graph = import_graph()
    assert "gankit.training.step" in graph["gankit.training.schemes"]
    assert "gankit.config" in graph["gankit.nets"]


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_imports_point_down_the_layers():
    upward = [
        f"{m} (layer {layer_of(m)}) imports {t} (layer {layer_of(t)})"
        for m, targets in import_graph().items()
        for t in targets
        if layer_of(t) > layer_of(m)
    ]
    assert upward == []


def top_level_imports(path: Path) -> list[str]:
    """What a module imports as it is imported: its top-level statements (not those inside functions)."""
    names = []
    for node in ast.iter_child_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return names


def test_a_training_process_starts_without_scipy():
    """scipy.optimize and scipy.linalg took 1.2 s of a training process's 3.4 s start (every `gankit train`, every
    torchrun rank: their import path reaches the metrics through the precision probe); the metrics that need them
    import them inside the functions that use them."""
    files = {module_name(p): p for p in ROOT.rglob("*.py")}
    seen, todo, scipy = set(), ["gankit.cli", "gankit.training.trainer", "gankit.trials.runner"], []
    while todo:
        module = todo.pop()
        parents = [".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)]
        for name in [module, *parents]:
            if name not in seen and name in files:
                seen.add(name)
                imported = top_level_imports(files[name])
                scipy += [f"{name}: {i}" for i in imported if i == "scipy" or i.startswith("scipy.")]
                todo += [i for i in imported if i.startswith("gankit")]
    assert "gankit.metrics.conditional" in seen and "gankit.metrics.fid" in seen  # the path reaches the metrics
    assert scipy == []
