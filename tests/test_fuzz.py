"""Property-based fuzzing of what a user hands gankit (issue 14): config files, ``--set`` values, output paths
and mutated run files, each through ``gankit.cli.main`` in this process.

Every case must end in exit code 0 (a valid input) or 2 with one ``gankit: error:`` line and no traceback
— never the top-level guard's "unexpected" error (exit 1) — and must leave the prepared run byte-identical
(an output may only add the file it was asked to write). The budget is fixed (``derandomize=True``: the
same cases on every run, no example database) and each test asserts how many cases it ran; together they
run more than 500. Valid configs stop early: ``gankit train --dry-run`` checks everything a run checks
before it is built and writes nothing; the host's memory is fixed at 2 GiB so that what is refused does not
depend on the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import string
from collections.abc import Callable
from functools import reduce
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gankit.cli import main
from gankit.config import Config, field_paths
from gankit.memory import available
from gankit.training.choices import FIELD_CHOICES
from tests.helpers import snapshot, train_once

pytestmark = pytest.mark.slow  # the full lane only (pytest -m 'not slow' skips it)

# data.dir and data.download would make a valid config read the machine's folders or the network
FIELDS = [f for f in field_paths() if f not in ("data.dir", "data.download")]
SETUP = ["--set", "data.limit=64", "--set", "train.device=cpu"]  # fuzzed values come after and override these


def fuzz(budget: int) -> Callable:
    """The settings of every fuzz test: ``budget`` examples, derandomized, no deadline, no database."""
    return settings(
        max_examples=budget,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    )


@pytest.fixture(autouse=True)
def _two_gib_of_memory(monkeypatch):
    monkeypatch.setattr(available, "host_memory", lambda: 2 * 2**30)


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    """``main(argv)``'s exit code, asserting the promise about its stderr: one clean error line, or none."""
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (0, 2), f"{argv!r}: exit {code}: {err}"
    assert "Traceback" not in err, err
    if code == 2:
        assert err.startswith("gankit: error: ") and err.count("\n") == 1, f"{argv!r}: {err!r}"
    return code, err


# -- values ---------------------------------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(-3, 300),
    st.sampled_from([0, -1, 2**31, 2**63 - 1, 2**63, 2**64, 10**9, 10**30, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 1e-320, 0.5, 0.999]),
)
WORDS = st.sampled_from(
    [
        *["", "none", "null", "true", "false", "mnist", "ring8", "folder", "cpu", "meta", "xla", "cuda:7", "mps"],
        *["lsgan", "hinge", "../../x", "a/b", "nan", "inf", "-inf", "1e308", "1e999", "2**64", "0,0", "0.5,0.999"],
        *["mlp", "dcgan", "batch", "none", "concat", "uniform", "normal", "adam", "sgd", "on", "max-autotune"],
    ]
)
TEXT = st.text(max_size=30)
SCALARS = st.one_of(NUMBERS, WORDS, TEXT, st.booleans(), st.none())
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4), max_leaves=8)


def as_set_value(value: object) -> str:
    """A Python value as one might type it after ``--set FIELD=``."""
    if isinstance(value, list):
        return ",".join(map(as_set_value, value))
    return str(value)


def plausible(key: str) -> st.SearchStrategy[str]:
    """Values of the field's own kind near its default (many valid), as typed after ``--set FIELD=``."""
    if key in FIELD_CHOICES:
        return st.sampled_from(FIELD_CHOICES[key].choices)
    default = DEFAULTS[key]
    if isinstance(default, bool):
        return st.booleans().map(str)
    if isinstance(default, int):
        return st.integers(0, 2 * default + 2).map(str)
    if isinstance(default, float):
        return st.floats(0, 2 * default + 0.5).map(str)
    return st.just(as_set_value(list(default)) if isinstance(default, tuple) else str(default))


DEFAULTS = {key: reduce(getattr, key.split("."), Config()) for key in FIELDS}
PLAUSIBLE = st.sampled_from(FIELDS).flatmap(lambda key: st.tuples(st.just(key), plausible(key)))

KEYS = st.one_of(
    st.sampled_from(FIELDS),
    st.sampled_from(FIELDS).map(lambda k: k + "x"),
    st.sampled_from(["train", "model", "", ".", "train..steps", "train.steps.x", "=", "recipe"]),
    st.text(alphabet=string.ascii_lowercase + "._", max_size=20),
)


def schema_table(keys: list[str], values: list[object]) -> dict[str, object]:
    """Dotted keys and their values as the nested table of a config file."""
    table: dict[str, object] = {}
    for key, value in zip(keys, values, strict=False):
        *sections, name = key.split(".") if key else [""]
        node = table
        for section in sections:
            child = node.setdefault(section, {})
            node = child if isinstance(child, dict) else {}
        node[name] = value
    return table


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if value == value and abs(value) != float("inf") else ("nan" if value != value else "inf")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value if v is not None) + "]"
    return json.dumps(str(value))


def toml_text(table: dict[str, object]) -> str:
    top = {k: v for k, v in table.items() if not isinstance(v, dict) and v is not None}
    lines = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in top.items()]
    for section, fields in table.items():
        if isinstance(fields, dict):
            lines.append(f"[{json.dumps(section)}]")
            lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in fields.items() if v is not None]
    return "\n".join(lines) + "\n"


SCHEMA_TABLES = st.builds(schema_table, st.lists(KEYS, max_size=5), st.lists(VALUES, max_size=5))
JUNK = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=12,
)


def _json_text(value: object) -> bytes:
    return json.dumps(value).encode()


CONFIG_FILES = st.one_of(
    st.tuples(st.just(".json"), SCHEMA_TABLES.map(_json_text)),
    st.tuples(st.just(".toml"), SCHEMA_TABLES.map(lambda t: toml_text(t).encode())),
    st.tuples(st.sampled_from([".json", ".toml"]), JUNK.map(_json_text)),
    st.tuples(st.sampled_from([".json", ".toml"]), st.binary(max_size=200)),
    st.tuples(st.sampled_from([".json", ".toml"]), st.text(max_size=100).map(lambda t: t.encode("utf-16"))),
    st.tuples(st.just(".json"), st.integers(1, 200_000).map(lambda n: b'{"train": ' + b"[" * n + b"]" * n + b"}")),
)


# -- the tests ------------------------------------------------------------------------------------------------


def test_fuzz_config_files(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cases: list[int] = []

    @fuzz(200)
    @given(CONFIG_FILES)
    def case(file: tuple[str, bytes]) -> None:
        suffix, content = file
        path = tmp_path / f"config{suffix}"
        path.write_bytes(content)
        code, _ = run_cli(["train", "--dry-run", "--config", str(path), *SETUP, "--run-dir", "new"], capsys)
        cases.append(code)
        assert not (tmp_path / "new").exists() and not (tmp_path / "runs").exists()

    case()
    print(f"config files: {len(cases)} cases, {cases.count(0)} valid")
    assert len(cases) >= 180


def test_fuzz_set_values(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cases: list[int] = []

    @fuzz(250)
    @given(st.lists(st.one_of(st.tuples(KEYS, st.one_of(VALUES.map(as_set_value), TEXT)), PLAUSIBLE), max_size=3))
    def case(pairs: list[tuple[str, str]]) -> None:
        sets = [a for key, value in pairs for a in ("--set", f"{key}={value}")]
        code, _ = run_cli(["train", "--dry-run", *SETUP, *sets, "--run-dir", "new"], capsys)
        cases.append(code)
        assert not (tmp_path / "new").exists() and not (tmp_path / "runs").exists()

    case()
    print(f"--set values: {len(cases)} cases, {cases.count(0)} valid")
    assert len(cases) >= 225 and cases.count(0) >= 10  # the valid ones are reached too


def _output_paths(run: Path, outside: Path) -> st.SearchStrategy[str]:
    inside = [p for p in run.rglob("*")]
    return st.one_of(
        st.sampled_from(inside).map(str),
        st.sampled_from(inside).map(lambda p: str(p / "x.npz")),
        st.sampled_from([run / n for n in ("new.npz", "new-folder", "report.html")]).map(str),
        st.sampled_from(["/dev/null", "/", "/proc/x.npz", str(outside), str(outside / "file.txt" / "x.npz")]),
        st.text(alphabet=string.ascii_letters + "._-/", min_size=1, max_size=20).map(lambda t: str(outside / t)),
        st.integers(200, 5000).map(lambda n: str(outside / ("n" * n + ".npz"))),
        st.sampled_from(inside).map(lambda p: str(outside / "to-run" / p.relative_to(run))),  # through links
        st.sampled_from(["to-checkpoint/state.json", "to-checkpoint/x.npz", "to-config", "hard", ""]).map(
            lambda name: str(outside / name) if name else name
        ),
    )


def _links_into(run: Path, outside: Path) -> None:
    """Symbolic links from ``outside`` to the run, its newest checkpoint and its config; a hard link to its log."""
    (outside / "to-run").symlink_to(run)
    (outside / "to-checkpoint").symlink_to(sorted((run / "checkpoints").iterdir())[-1])
    (outside / "to-config").symlink_to(run / "config.json")
    os.link(run / "log.txt", outside / "hard")


def test_fuzz_output_paths(cgan_run, tmp_path_factory, capsys, monkeypatch):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "file.txt").write_text("x")
    _links_into(cgan_run, outside)
    monkeypatch.chdir(outside)
    cases: list[int] = []
    commands = {
        "sample": lambda out: ["sample", str(cgan_run), "-n", "2", "--out", out],
        "grid": lambda out: ["grid", str(cgan_run), "--by", "class", "--columns", "1", "--out", out],
        "eval": lambda out: ["eval", str(cgan_run), "--metrics", "nothing", "--out", out],
    }

    @fuzz(200)
    @given(st.sampled_from(sorted(commands)), _output_paths(cgan_run, outside))
    def case(command: str, out: str) -> None:
        before = snapshot(cgan_run)
        code, _ = run_cli(commands[command](out), capsys)
        cases.append(code)
        after = snapshot(cgan_run)
        assert {k: v for k, v in after.items() if k in before} == before  # the run's files are untouched
        added = set(after) - set(before)
        target = os.path.realpath(out)  # a file, or a folder of PNG files (through a link: where it lands)
        assert all(str(cgan_run / k) == target or str(cgan_run / k).startswith(target + "/") for k in added), added
        for k in added:  # outputs written into the run are removed again, so that every case starts alike
            (cgan_run / k).unlink()
        for folder in sorted((p for p in cgan_run.rglob("*") if p.is_dir()), reverse=True):
            if not any(folder.iterdir()) and str(folder.relative_to(cgan_run)) not in _folders(before):
                folder.rmdir()

    case()
    os.unlink(outside / "hard")
    print(f"output paths: {len(cases)} cases, {cases.count(0)} written")
    assert len(cases) >= 180


def _folders(files: dict[str, bytes]) -> set[str]:
    return {str(parent) for name in files for parent in Path(name).parents if str(parent) != "."}


# -- run files (validated by gankit.store.state_schema) ----------------------------------------------------------------

STATE_KEYS = ["step", "images_seen", "elapsed_s", "data_shape", "num_classes", "generator", "ema", "grid_z", "rng"]


def _mutated_state(text: str, data: st.DataObject) -> bytes:
    """state.json with one entry of its state removed, or replaced by a random JSON value; or broken outright."""
    document = json.loads(text)
    kind = data.draw(st.sampled_from(["drop", "replace", "replace", "bytes", "truncate", "deep"]))
    key = data.draw(st.sampled_from(STATE_KEYS))
    if kind == "drop":
        document["state"].pop(key, None)
    elif kind == "replace":
        document["state"][key] = data.draw(st.one_of(NUMBERS.filter(lambda v: abs(v) < 1e300), JUNK, SCALARS))
    elif kind == "bytes":
        return data.draw(st.binary(max_size=100))
    elif kind == "truncate":
        return text.encode()[: data.draw(st.integers(0, len(text) - 1))]
    else:
        return b'{"format": 1, "state": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    return json.dumps(document, allow_nan=True).encode()


def _mutated_metrics(text: str, data: st.DataObject) -> bytes:
    """metrics.jsonl cut anywhere (a torn last line), or with a line of random bytes or JSON added."""
    raw = text.encode()
    kind = data.draw(st.sampled_from(["cut", "bytes", "json"]))
    if kind == "cut":
        return raw[: data.draw(st.integers(0, max(0, len(raw) - 1)))]
    line = data.draw(st.binary(max_size=40)) if kind == "bytes" else _json_text(data.draw(JUNK))
    return raw + line + b"\n"


def test_fuzz_run_files(cgan_run, tmp_path_factory, capsys, monkeypatch):
    run = tmp_path_factory.mktemp("mutated") / "run"
    shutil.copytree(cgan_run, run)
    outside = tmp_path_factory.mktemp("out")
    monkeypatch.chdir(outside)
    state = next(run.glob("checkpoints/*/state.json"))
    files = {"state": state, "metrics": run / "metrics.jsonl"}
    originals = {name: path.read_bytes() for name, path in files.items()}
    mutate = {"state": _mutated_state, "metrics": _mutated_metrics}
    commands = [
        ["sample", str(run), "-n", "2", "--out", str(outside / "s.npz")],
        ["report", str(run), "--out", str(outside / "r.html")],
        ["train", "--resume", str(run), "--steps", "2", "--no-progress", "--set", "train.tensorboard=false"],
    ]
    cases: list[int] = []

    @settings(fuzz(60), phases=[Phase.explicit, Phase.generate])  # no shrinking: each case restores the run
    @given(st.sampled_from(sorted(files)), st.sampled_from(range(len(commands))), st.data())
    def case(which: str, command: int, data: st.DataObject) -> None:
        files[which].write_bytes(mutate[which](originals[which].decode(), data))
        before = snapshot(run)
        try:
            code, _ = run_cli(commands[command], capsys)
            cases.append(code)
            if code != 0:
                assert snapshot(run) == before  # a command that fails changes nothing
        finally:
            shutil.rmtree(run)
            shutil.copytree(cgan_run, run)

    case()
    print(f"run files: {len(cases)} cases, {cases.count(0)} succeeded")
    assert len(cases) >= 50


# -- damaged-but-valid checkpoints (issue 26: the checksum holds, the values do not) -------------------------------


@pytest.fixture(scope="module")
def ema_run(tmp_path_factory):
    """A tiny nsgan with an EMA of G and two checkpoints (steps 1 and 2): resume has one to fall back to."""
    every = {"train.steps": 2, "train.ema": 0.9, "train.checkpoint_every": 1, "train.keep_checkpoints": 2}
    return train_once(tmp_path_factory, "ema", "nsgan", **every)


def _damage(names: list[str], data: st.DataObject) -> tuple[str, Callable, Callable]:
    """A class of damage and its edits of a checkpoint's tensors and state.json tree (see ``rewrite_checkpoint``)."""
    kind = data.draw(st.sampled_from(["weights", "ema", "moment", "adam step", "step", "permutation", "float64"]))

    def one(prefix: str, change: Callable[[torch.Tensor], torch.Tensor]) -> Callable:
        name = data.draw(st.sampled_from([n for n in names if n.startswith(prefix)]))
        return lambda tensors: tensors.__setitem__(name, change(tensors[name].clone()))

    def poke(value: float) -> Callable[[torch.Tensor], torch.Tensor]:
        at = data.draw(st.integers(0, 10**6))
        return lambda t: t.view(-1).index_fill_(0, torch.tensor([at % t.numel()]), value).view(t.shape)

    bad = data.draw(st.sampled_from([float("nan"), float("inf"), -float("inf")]))
    tensors, state = None, None
    if kind == "weights":
        tensors = one(data.draw(st.sampled_from(["generator/", "discriminator/"])), poke(bad))
    elif kind == "ema":
        tensors = one("ema/module.", poke(bad))
    elif kind == "moment":
        tensors = one(data.draw(st.sampled_from(["g_optimizer/", "d_optimizer/"])), poke(bad))
        if data.draw(st.booleans()):
            tensors = one("g_optimizer/state/0/exp_avg_sq", poke(-data.draw(st.floats(1e-30, 1e30))))
    elif kind == "adam step":
        value = data.draw(st.sampled_from([-1.0, -1e9, 0.5, 1e30, float("nan"), float("inf")]))
        tensors = one("d_optimizer/state/", lambda t: t.fill_(value) if t.dim() == 0 else t.fill_(bad))
    elif kind == "step":
        wrong = data.draw(st.integers(0, 10**15).filter(lambda s: s != 2))
        state = lambda tree: tree.update(step=wrong)  # noqa: E731
    elif kind == "permutation":
        how = data.draw(st.sampled_from(["zeros", "repeat", "shift"]))
        changes = {
            "zeros": torch.zeros_like,
            "repeat": lambda t: t.index_fill_(0, torch.tensor([0]), int(t[-1])),
            "shift": lambda t: t + 1,
        }
        tensors = one("sampler/perm", changes[how])
    else:
        tensors = one(data.draw(st.sampled_from(["generator/", "discriminator/", "ema/module."])), torch.Tensor.double)
    return kind, tensors, state


def test_fuzz_damaged_checkpoints(ema_run, tmp_path_factory, capsys, monkeypatch):
    """The newest checkpoint damaged behind a valid checksum: ``sample`` and ``eval`` refuse it (exit 2, naming it,
    the run unchanged); ``train --resume`` sets it aside and resumes from the older, valid one."""
    from safetensors.torch import load_file

    from gankit.store.checkpoint import list_checkpoints
    from tests.helpers import rewrite_checkpoint

    run = tmp_path_factory.mktemp("damaged") / "run"
    shutil.copytree(ema_run, run)
    outside = tmp_path_factory.mktemp("out")
    monkeypatch.chdir(outside)
    older, newest = [p.name for p in list_checkpoints(run / "checkpoints")]
    found = load_file(str(run / "checkpoints" / newest / "tensors.safetensors"))
    names = sorted(n for n, t in found.items() if t.is_floating_point() or n == "sampler/perm")
    commands = {
        "sample": ["sample", str(run), "-n", "2", "--out", str(outside / "s.npz")],
        "eval": ["eval", str(run), "-n", "100", "--out", str(outside / "e.json")],
        "resume": ["train", "--resume", str(run), "--steps", "3", "--no-progress", "--set", "train.tensorboard=false"],
    }
    cases: list[str] = []

    @settings(fuzz(60), phases=[Phase.explicit, Phase.generate])  # no shrinking: each case restores the run
    @given(st.sampled_from(sorted(commands)), st.data())
    def case(command: str, data: st.DataObject) -> None:
        kind, tensors, state = _damage(names, data)
        rewrite_checkpoint(run / "checkpoints" / newest, tensors=tensors, state=state)
        before = snapshot(run)
        try:
            code, err = run_cli(commands[command], capsys)
            cases.append(kind)
            if command == "resume":
                assert code == 0, f"{kind}: {err}"
                log = (run / "log.txt").read_text()
                assert f"skipped checkpoint {newest}:" in log and f"from {older} (step 1)" in log, kind
                assert (run / "checkpoints" / f"{newest}.damaged").is_dir(), kind
            else:
                assert code == 2 and f"checkpoint {run / 'checkpoints' / newest}:" in err, f"{kind}: {err}"
                assert snapshot(run) == before
        finally:
            shutil.rmtree(run)
            shutil.copytree(ema_run, run)

    case()
    print(f"damaged checkpoints: {len(cases)} cases, " + ", ".join(f"{k} {cases.count(k)}" for k in sorted(set(cases))))
    assert len(cases) >= 50 and len(set(cases)) == 7  # every class of damage reached


# == issue 26, inputs: huge numbers in metrics.jsonl, names at the OS's limits, odd sample file names ==========

HUGE_NUMBERS = st.one_of(
    st.sampled_from([1e308, -1e308, 1.7976931348623157e308, -1.7976931348623157e308, 1e300, -1e151, 5e-324]),
    st.sampled_from([10**30, -(10**30), 10**308, 2**1023, 10**400, 0, -0.0]),
    st.floats(allow_nan=False, allow_infinity=False),
)
LOG_FIELDS = st.sampled_from(["d_loss", "g_loss", "d_real", "d_fake", "gp", "images_per_s", "extra"])
ODD_NAMES = st.one_of(
    st.text(max_size=12).filter(lambda t: "/" not in t and "\0" not in t),
    st.sampled_from(["²", "٣", "00000002", "1e3", "-1", "+1", " 1", "1 ", "0x1", "1_000", "9" * 40, "१२", "½"]),
)


def _bare_run(source: Path, folder: Path) -> Path:
    """A run folder with ``source``'s config.json, metrics.jsonl and sample grids, but no checkpoint: a report
    of it draws only the curves and the strip, quickly."""
    run = folder / "run"
    (run / "samples").mkdir(parents=True)
    for name in ("config.json", "metrics.jsonl"):
        shutil.copy(source / name, run / name)
    for png in (source / "samples").glob("*.png"):
        shutil.copy(png, run / "samples" / png.name)
    return run


def _long_path_commands(run: Path, outside: Path, n: int) -> list[list[str]]:
    long = str(outside / ("n" * n))
    deep = str(outside / "/".join(["d" * 200] * (n // 200 + 1)))  # names within the limit, a path past it
    return [
        ["report", long],
        ["report", str(run), "--out", long + ".html"],
        ["report", str(run), "--out", deep + ".html"],
        ["eval", "--real", "-n", "10", "--data-dir", long],
        ["train", "--dry-run", *SETUP, "--data-dir", deep],
        ["train", "--dry-run", *SETUP, "--run-dir", long],
        ["train", "--dry-run", *SETUP, "--run-dir", deep],
    ]


def test_fuzz_inputs_of_issue_26(cgan_run, tmp_path_factory, capsys, monkeypatch):
    """Huge numbers in metrics.jsonl, sample grids with odd names, paths at and past the OS's limits and an empty
    ``--out``: each a report, a clean error, or a dry run, and the run unchanged but for the output asked for."""
    from gankit.viz import plots, report

    run = _bare_run(cgan_run, tmp_path_factory.mktemp("inputs"))
    outside = tmp_path_factory.mktemp("inputs-out")
    monkeypatch.chdir(outside)
    metrics, original = run / "metrics.jsonl", (run / "metrics.jsonl").read_bytes()
    cases: list[int] = []
    kinds: list[str] = []
    drawn: dict[str, str] = {}

    def curve_figure(records, keys, title="", flag=None):
        fig = plots.curve_figure(records, keys, title, flag)
        drawn_from = [(r["step"], *(r.get(k) for k in (*keys, flag))) for r in records if {*keys, flag} & r.keys()]
        fig.inputs = repr((keys, title, flag, drawn_from))
        return fig

    def figure_svg(fig) -> str:
        """Each curve is drawn once for each distinct input (curve_figure reads only the step and these fields of
        the records that have them): the names and paths cases report the run's own metrics, a numbers case changes
        some of the curves (drawing a report's 4 figures took 0.6 s of its 0.7 s)."""
        if fig.inputs not in drawn:
            drawn[fig.inputs] = plots.figure_svg(fig)
        return drawn[fig.inputs]

    monkeypatch.setattr(report, "curve_figure", curve_figure)
    monkeypatch.setattr(report, "figure_svg", figure_svg)

    # 40 cases: numbers 26, paths 8, names 5, empty 1 (20 of them reports)
    @settings(fuzz(40), phases=[Phase.explicit, Phase.generate])  # no shrinking: each case restores the run
    @given(st.sampled_from(["numbers", "names", "paths", "empty"]), st.data())
    def case(kind: str, data: st.DataObject) -> None:
        made: list[Path] = []
        argv = ["report", str(run), "--out", str(outside / "r.html")]
        if kind == "numbers":
            records = data.draw(st.lists(st.dictionaries(LOG_FIELDS, HUGE_NUMBERS, min_size=1), min_size=1, max_size=3))
            lines = [json.dumps({"step": 10 + i, **r}) for i, r in enumerate(records)]
            metrics.write_bytes(original + "\n".join(lines).encode() + b"\n")
        elif kind == "names":
            png = next((run / "samples").glob("step-*.png"))
            made = [run / "samples" / f"step-{data.draw(ODD_NAMES)}.png"]
            if not made[0].exists():
                made[0].write_bytes(png.read_bytes())
            else:
                made = []
        elif kind == "paths":
            argv = data.draw(st.sampled_from(_long_path_commands(run, outside, data.draw(st.integers(200, 5000)))))
        else:
            argv = ["report", str(run), "--out", ""]
        before = snapshot(run)
        try:
            code, _ = run_cli(argv, capsys)
            cases.append(code)
            kinds.append(kind)
            assert snapshot(run) == before
        finally:
            metrics.write_bytes(original)
            for path in made:
                path.unlink()
            (outside / "r.html").unlink(missing_ok=True)

    case()
    drawn = ", ".join(f"{k} {kinds.count(k)}" for k in sorted(set(kinds)))
    print(f"issue 26 inputs: {len(cases)} cases, {cases.count(0)} succeeded; {drawn}")
    assert len(cases) >= 38 and 10 <= cases.count(0) < len(cases)
    assert set(kinds) == {"numbers", "names", "paths", "empty"}  # every kind of input reached


# == end of issue 26, inputs ==================================================================================
