"""`gankit eval` (bad input to it, with that of the other commands, is tested in test_errors.py)."""

import json
import shutil

import pytest

from gankit.cli import main
from gankit.metrics import feature_cache
from gankit.metrics.catalog import metrics
from gankit.metrics.precision import default_precision
from gankit.metrics.protocol import Protocol
from tests.commands.helpers import error_line


def test_eval_real_writes_the_result_with_its_protocol(tmp_path, capsys):
    out = tmp_path / "real.json"
    assert main(["eval", "--real", "-n", "300", "--blur", "1", "--kid-subsets", "5", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["subject"] == result["subject"] | {"kind": "real", "split": "train", "blur_sigma": 1.0}
    assert result["protocol"]["n_fake"] == 300 and result["protocol"]["reference"]["split"] == "test"
    printed = capsys.readouterr().out
    assert f"fid: {result['metrics']['fid']:.4g}" in printed and "counts" not in printed


def test_eval_real_goes_where_out_says_named_by_its_variant_and_replaces_nothing_without_force(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    real = ["eval", "--real", "-n", "100", "--metrics", "fid"]
    assert main(real) == 2
    assert "--real: say where the result goes: --out FILE.json, or --out DIR/ (DIR/eval-real-mnist-train.json)" in (
        error_line(capsys)
    )
    assert main([*real, "--out", "r.txt"]) == 2
    assert "the result is JSON: give FILE.json" in error_line(capsys)
    assert main([*real, "--blur", "1", "--out", "evals/"]) == 0
    assert main([*real, "--only-class", "1", "--out", "evals/"]) == 0
    written = sorted(p.name for p in (tmp_path / "evals").iterdir())
    assert written == ["eval-real-mnist-train-blur1.json", "eval-real-mnist-train-class1.json"]
    blurred = tmp_path / "evals" / written[0]
    blurred.write_text("{}")
    capsys.readouterr()
    assert main([*real, "--blur", "1", "--out", "evals"]) == 2  # an existing folder: the same default name
    assert "exists: add --force to replace it" in error_line(capsys) and blurred.read_text() == "{}"
    assert main([*real, "--blur", "1", "--out", str(blurred), "--force"]) == 0
    assert json.loads(blurred.read_text())["subject"]["blur_sigma"] == 1.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evals"]  # nothing in the working directory


def test_eval_of_a_run_writes_run_eval_json(tmp_path):
    run = tmp_path / "run"
    args = ["--recipe", "gan", "--steps", "2", "--batch-size", "16", "--no-progress", "--set", "data.limit=64"]
    assert main(["train", "--run-dir", str(run), *args]) == 0
    assert main(["eval", str(run), "-n", "100", "--kid-subsets", "5"]) == 0
    result = json.loads((run / "eval.json").read_text())
    assert result["subject"]["step"] == 2 and result["protocol"]["n_fake"] == 100


def test_eval_caches_the_reference_features_reports_a_corrupt_cache_and_no_cache_skips_it(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("GANKIT_CACHE_DIR", str(tmp_path / "cache"))
    flags = ["eval", "--real", "-n", "100", "--metrics", "fid", "--out", str(tmp_path / "r.json"), "--force"]
    assert main([*flags, "--no-cache"]) == 0 and not (tmp_path / "cache").exists()
    assert main(flags) == 0
    (entry,) = (tmp_path / "cache").iterdir()
    entry.write_bytes(entry.read_bytes()[:100])
    feature_cache._MEMORY.clear()
    capsys.readouterr()
    assert main(flags) == 0
    out = capsys.readouterr().out
    assert f"feature cache: {entry} cannot be read" in out and "recomputing the reference features" in out
    assert json.loads((tmp_path / "r.json").read_text())["protocol"]["reference"]["features"] == "computed"


def test_eval_usage_errors(tmp_path, capsys):
    assert main(["eval"]) == 2
    assert "give the run to score" in capsys.readouterr().err
    assert main(["eval", str(tmp_path), "--blur", "1"]) == 2
    assert "use them with --real" in capsys.readouterr().err
    assert main(["eval", str(tmp_path)]) == 2
    assert "is not a gankit run" in capsys.readouterr().err


def test_eval_of_a_conditional_run_prints_its_accuracy(infogan_run, tmp_path, capsys):
    out = tmp_path / "eval.json"
    assert main(["eval", str(infogan_run), "-n", "50", "--kid-subsets", "5", "--out", str(out)]) == 0
    code = json.loads(out.read_text())["metrics"]["categorical_code_accuracy"]
    printed = capsys.readouterr().out
    assert f"categorical_code_accuracy: accuracy={code['accuracy']:.4g}, matching=[" in printed
    assert "counts" not in printed


def test_eval_metrics_selects_the_metrics_computed_and_the_protocol_records_the_flags(tmp_path):
    out = tmp_path / "real.json"
    flags = ["-n", "200", "--seed", "3", "--kid-subsets", "5", "--metrics", "kid,fid", "--out", str(out)]
    assert main(["eval", "--real", *flags]) == 0
    result = json.loads(out.read_text())
    assert list(result["metrics"]) == ["fid", "kid", "kid_std"]
    assert result["protocol"]["metrics"] == ["fid", "kid"] and result["protocol"]["kid"]["subsets"] == 5
    expected = Protocol(n_fake=200, features="mnist", seed=3, kid_subsets=5, metrics=("fid", "kid"))
    expected = expected.replace(precision=default_precision("mnist"))
    assert Protocol.from_record(result["protocol"]) == expected


def test_eval_metrics_refuses_unknown_names_and_metrics_that_do_not_apply(tmp_path, capsys):
    out = tmp_path / "x.json"
    assert main(["eval", "--real", "--metrics", "fid,presicion", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gankit: error: unknown metric 'presicion'.") and "Known: fid, kid, prdc" in err
    assert main(["eval", "--real", "-n", "20", "--metrics", "prdc", "--metrics", "fdi", "--out", str(out)]) == 2
    assert "Did you mean 'fid'?" in capsys.readouterr().err
    assert main(["eval", "--real", "-n", "20", "--metrics", "class_accuracy", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--metrics class_accuracy does not apply here: class_accuracy needs a class-conditional run" in err
    assert not out.exists()


def test_eval_help_lists_every_registered_metric(capsys):
    assert main(["eval", "--help"]) == 0
    printed = capsys.readouterr().out
    assert all(f"  {name} " in printed for name in metrics())


def test_eval_of_a_trials_run_scores_every_trial_and_their_spread(trials_run, tmp_path, capsys):
    work = tmp_path / "run"
    shutil.copytree(trials_run, work)
    assert main(["eval", str(work), "-n", "100", "--metrics", "fid,classes"]) == 0
    printed = capsys.readouterr().out
    result = json.loads((work / "eval.json").read_text())
    assert result["kind"] == "trials" and [row["seed"] for row in result["trials"]] == [0, 1]
    fids = [row["metrics"]["fid"] for row in result["trials"]]
    for k, fid in enumerate(fids):  # each trial's own result in its folder, scored as `gankit eval RUN --trial K`
        assert json.loads((work / f"trial-0{k}" / "eval.json").read_text())["metrics"]["fid"] == fid
    assert fids[0] != fids[1]
    spread = result["spread"]["fid"]
    assert spread["mean"] == pytest.approx(sum(fids) / 2, rel=1e-12, abs=0)
    assert spread["se"] == pytest.approx(abs(fids[0] - fids[1]) / 2, rel=1e-9, abs=0)  # n = 2: |a − b| / 2
    assert (spread["min"], spread["max"], spread["n"]) == (min(fids), max(fids), 2)
    assert "over the trials (mean ± standard error):" in printed and "fid: " in printed
    one = tmp_path / "one.json"
    assert main(["eval", str(work), "--trial", "1", "-n", "100", "--metrics", "fid", "--out", str(one)]) == 0
    assert json.loads(one.read_text())["metrics"]["fid"] == fids[1]
    assert main(["eval", str(work), "--checkpoint", "x"]) == 2
    assert "with a trials run give --trial K too" in capsys.readouterr().err


def test_the_printed_names_are_the_readmes():
    from pathlib import Path

    from gankit.commands.eval import format_metrics

    printed = format_metrics({"fid": 1.5, "classes": {"modes_covered": 9, "reverse_kl": 0.25, "counts": [1, 2]}})
    assert printed == "fid: 1.5\nclasses: modes_covered=9, KL(p‖uniform)=0.25"
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "KL(p‖uniform)" in readme and "KL(p_gen" not in readme
