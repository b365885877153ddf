"""``gankit report`` of a trials run: every trial, their spread and their curves on one page."""

from __future__ import annotations

import json
import re
import shutil

from gankit.cli import main
from gankit.viz.report import format_value, read_records
from gankit.viz.trials_report import render_trials_report
from tests.viz.watch_records import class_checks, write_trials_run


def test_the_trials_page_shows_each_trial_its_samples_curves_and_spread(trials_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(trials_run, run)
    (run / "trial-01" / "eval.json").write_text(json.dumps({"metrics": {"fid": 20.0, "classes": {"covered": 7}}}))
    (run / "trial-00" / "eval.json").write_text(json.dumps({"metrics": {"fid": 10.0, "classes": {"covered": 9}}}))
    assert main(["report", str(run)]) == 0
    html = (run / "report.html").read_text()
    for section in ("trials", "spread", "samples", "curves", "config"):
        assert f'<section id="{section}">' in html
    assert not re.search(r"(src|href)=[\"']?(https?:)?//|url\((?!#)|<link|<script", html)  # offline
    assert re.findall(r'<tr data-trial="(\d+)">', html) == ["0", "1"]
    last = [read_records(run / f"trial-0{k}" / "metrics.jsonl")[-1] for k in (0, 1)]
    shown = re.findall(r'data-metric="d_loss">([^<]*)<', html)
    assert shown == [format_value(r["d_loss"]) for r in last]
    assert re.findall(r'data-metric="fid">([^<]*)<', html) == ["10", "20"]
    assert re.search(r'data-spread="fid"><th>fid</th><td class="num">15 ± 5<', html)  # n = 2: |a − b| / 2
    assert re.search(r'data-spread="classes.covered"><th>classes.covered</th><td class="num">8 ± 1<', html)
    assert len(re.findall(r'alt="trial \d at step 2"', html)) == 2  # each trial's last grid
    titles = re.findall(r'class="curve" data-title="([^"]+)"', html)
    assert "d_loss" in titles and "g_loss" in titles
    assert main(["report", str(run), "--trial", "1"]) == 0  # a trial's own, full report
    assert '<section id="latent">' in (run / "trial-01" / "report.html").read_text()
    capsys.readouterr()


def test_the_trials_page_shows_each_trials_last_coverage_and_the_coverage_over_the_trials(tmp_path):
    """Issue 23: the collapse watch's coverage, per trial (its latest check) and as a spread over the steps."""
    healthy, collapsing = class_checks(4, collapse_at=10), class_checks(4, collapse_at=2)
    html = render_trials_report(write_trials_run(tmp_path / "run", [healthy, collapsing]))
    assert re.findall(r'data-metric="watch coverage">([^<]*)<', html) == ["10/10", "1/10"]
    assert "watch coverage: the latest check of the collapse watch" in html
    titles = re.findall(r'class="curve" data-title="([^"]+)"', html)
    assert titles == ["watch coverage", "d_loss", "g_loss"]  # no curve of a watch_ field
