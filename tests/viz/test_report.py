import base64
import io
import json
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main
from gankit.errors import CheckpointError
from gankit.viz.animate import LABEL_HEIGHT
from gankit.viz.report import format_value, read_records, strip_of, write_report
from tests.viz.watch_records import class_checks, feature_check, stacked_check, write_run


def _images(html: str) -> list[Image.Image]:
    encoded = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    return [Image.open(io.BytesIO(base64.b64decode(b))) for b in encoded]


def test_report_of_an_image_run_has_every_section_and_the_logged_numbers(image_run, tmp_path):
    (image_run / "eval.json").write_text(
        json.dumps({"fid": 123.456789, "protocol": {"reference": "mnist test", "samples": 10000}})
    )
    try:
        out = write_report(image_run, tmp_path / "report.html")
    finally:
        (image_run / "eval.json").unlink()
    html = out.read_text()
    for section in ("samples", "curves", "metrics", "latent", "config"):
        assert f'<section id="{section}">' in html
    # works offline: no external scripts, styles, images or fonts
    assert not re.search(r"(src|href)=[\"']?(https?:)?//|url\((?!#)|<link|<script", html)
    # the strip: grids at steps 0, 2 and the final step 6, embedded, then the latent traversal
    assert re.findall(r"<figcaption>step ([\d,]+)</figcaption>", html) == ["0", "2", "6"]
    images = _images(html)
    assert len(images) == 4 and all(img.width > 28 for img in images)
    assert images[-1].size[1] > images[-1].size[0] / 8 * 5  # 6 traversal rows of 8 images
    # the latest metrics are the last record of metrics.jsonl
    last = read_records(image_run / "metrics.jsonl")[-1]
    assert last["step"] == 6 and {"d_loss", "g_loss", "g_grad_norm", "d_grad_norm"} <= last.keys()
    shown = dict(re.findall(r'data-field="(\w+)">([^<]*)<', html))
    assert shown == {k: format_value(v) for k, v in last.items()}
    assert shown["d_loss"] == f"{last['d_loss']:.6g}"
    # one curve per group, with the logged fields in their legends
    titles = re.findall(r'class="curve" data-title="([^"]+)"', html)
    assert titles == ["Losses", "Mean D output: D(x), D(G(z))", "Gradient norms", "Throughput (images/s)"]
    assert ">d_loss<" in html and ">g_grad_norm<" in html
    # eval.json: its numbers and its protocol block, generically
    assert re.search(r'data-eval="fid">123.457<', html)
    assert re.search(r'data-eval="protocol.samples">10,000<', html)
    assert "mnist test" in html
    # the config
    assert ">nonsaturating<" in html and ">tensorboard<" in html


def test_report_of_a_toy_run_shows_the_scatter(toy_run, tmp_path):
    html = write_report(toy_run, tmp_path / "toy.html").read_text()
    assert "2,000 points G(z) (blue) over 2,000 real points (grey)" in html
    images = _images(html)  # the scatters at step 0 and 4, then the figure of 2,000 samples
    assert [img.size for img in images] == [(512, 512), (512, 512), (450, 450)]


def test_report_command_writes_into_the_run_by_default(image_run, capsys):
    assert main(["report", str(image_run)]) == 0
    assert (image_run / "report.html").is_file()
    assert "report.html" in capsys.readouterr().out
    (image_run / "report.html").unlink()


def test_report_errors(tmp_path, image_run):
    assert main(["report", str(tmp_path)]) == 2  # not a run
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text((image_run / "config.json").read_text())
    (bad / "metrics.jsonl").write_text('{"step": 1}\nnot json\n')
    with pytest.raises(CheckpointError, match="line 2 is not JSON"):
        write_report(bad)
    for line, problem in [(b"\xff\xfe", "line 2 is not UTF-8 text"), (b"[1]", "line 2 is a JSON list, not an object")]:
        (bad / "metrics.jsonl").write_bytes(b'{"step": 1}\n' + line + b"\n")
        with pytest.raises(CheckpointError, match=problem + ".*repair or delete that line"):
            write_report(bad)
    (bad / "metrics.jsonl").unlink()
    (bad / "eval.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="must hold a JSON object"):
        write_report(bad)


def test_a_last_metrics_line_still_being_written_is_skipped_with_a_warning(image_run, tmp_path, capsys):
    metrics = image_run / "metrics.jsonl"
    before = metrics.read_bytes()
    try:
        metrics.write_bytes(before + b'{"step": 7, "d_lo')
        write_report(image_run, tmp_path / "r.html")
    finally:
        metrics.write_bytes(before)
    assert "skipped its last line, which is incomplete" in capsys.readouterr().err


def test_strip_keeps_first_and_last():
    grids = [(i * 100, None) for i in range(30)]
    picked = strip_of(grids, 10)
    assert len(picked) == 10 and picked[0][0] == 0 and picked[-1][0] == 2900
    assert strip_of(grids[:3], 10) == grids[:3]


def test_a_cgan_report_has_the_per_class_grid(cgan_run, tmp_path):
    html = write_report(cgan_run, tmp_path / "cgan.html").read_text()
    assert "<b>Per class.</b> One row per class (0, 1, 2, 3, 4, 5, 6, 7, 8, 9); the same 8 z in every row." in html
    per_class, traversal = _images(html)[-2:]
    assert per_class.size == (2 + 8 * 30, 2 + 10 * 30)  # 10 classes × 8 z of 28×28 pixels
    assert traversal.size == (2 + 8 * 30, 2 + 6 * 30)
    rows = np.asarray(per_class)[2 : 2 + 2 * 30].reshape(2, 30, -1)
    assert not np.array_equal(rows[0], rows[1])  # the class changes the images


def test_an_infogan_report_has_the_code_grid(infogan_run, tmp_path):
    html = write_report(infogan_run, tmp_path / "infogan.html").read_text()
    caption = (
        "Rows: each continuous code (c2, c3) swept across [-2, 2] (prior U(-1, 1)); "
        "then the 10 values of the categorical code, 8 z per row."
    )
    assert caption in html and "<b>Per class.</b>" not in html
    codes = _images(html)[-2]
    assert codes.size == (2 + 8 * 30, 2 + (2 + 10) * 30)  # a row for c2, one for c3 (8 values), 10 categories


@pytest.mark.slow  # encodes a GIF into the page; the fast lane keeps the plain report
def test_report_embeds_the_training_animation_of_two_grids_or_more(cgan_run, tmp_path):
    html = write_report(cgan_run, tmp_path / "r.html").read_text()
    gifs = re.findall(r'src="data:image/gif;base64,([^"]+)"', html)
    assert len(gifs) == 1 and "<code>gankit animate run</code> writes it as a GIF" in html
    gif = Image.open(io.BytesIO(base64.b64decode(gifs[0])))
    assert gif.n_frames == 2 and gif.info["loop"] == 0  # the grids of steps 0 and 2
    grid = Image.open(cgan_run / "samples" / "step-00000000.png")
    assert gif.size == (grid.width, grid.height + LABEL_HEIGHT)  # each grid labelled with its step
    run = tmp_path / "run"
    shutil.copytree(cgan_run, run)
    (run / "samples" / "step-00000002.png").unlink()
    html = write_report(run, tmp_path / "one.html").read_text()
    assert "data:image/gif" not in html and "animated" not in html  # one grid: nothing to animate


# -- issue 26: odd logs and sample names, and a config that does not fit the checkpoint -----------------------


def _bare_run(image_run, tmp_path, records: list[dict]):
    """A run folder with ``image_run``'s config, these metrics records and no checkpoint (a quick report)."""
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    (run / "config.json").write_text((image_run / "config.json").read_text())
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return run


def test_values_near_the_largest_float_are_plotted_scaled(image_run, tmp_path):
    """1e308 next to −1e308 made matplotlib fail ("arange: cannot compute length")."""
    records = [{"step": 2, "d_loss": -1e308, "g_loss": 1.0}, {"step": 4, "d_loss": 1e308, "g_loss": 1.7e308}]
    html = write_report(_bare_run(image_run, tmp_path, records), tmp_path / "r.html").read_text()
    assert html.count("× 1e308") == 1 and re.findall(r'class="curve" data-title="([^"]+)"', html) == ["Losses"]
    assert 'data-field="d_loss">1e+308<' in html


def test_only_files_named_like_the_runs_grids_are_shown(image_run, tmp_path):
    """A stray samples/step-².png ("²" is a digit to str.isdigit) made int() fail."""
    run = _bare_run(image_run, tmp_path, [{"step": 2, "d_loss": 1.0}])
    png = next((image_run / "samples").glob("step-*.png")).read_bytes()
    for name in ("step-00000002.png", "step-².png", "step-٣.png", "step-1.png.png", "step-.png", "step-7.PNG"):
        (run / "samples" / name).write_bytes(png)
    html = write_report(run, tmp_path / "r.html").read_text()
    assert re.findall(r"<figcaption>step ([\d,]+)</figcaption>", html) == ["2"]


@pytest.mark.slow  # draws MAX_CURVES curves; the fast lane keeps the plain report
def test_a_log_of_many_fields_plots_a_bounded_number_and_names_the_rest(image_run, tmp_path):
    """A record of 3,000 numeric fields made one plot each (past 120 s)."""
    from gankit.viz.report import MAX_CURVES

    fields = {f"f{i:03d}": float(i) for i in range(300)}
    run = _bare_run(image_run, tmp_path, [{"step": 2, **fields}, {"step": 4, **fields}])
    html = write_report(run, tmp_path / "r.html").read_text()
    titles = re.findall(r'class="curve" data-title="([^"]+)"', html)
    assert titles == [f"f{i:03d}" for i in range(MAX_CURVES)]
    note = f"{300 - MAX_CURVES} more logged fields are not plotted (at most {MAX_CURVES} plots): f{MAX_CURVES:03d}"
    assert note in html
    assert html.count('data-field="f') == 300  # the latest values, all of them


def test_a_2d_run_whose_config_says_images_is_a_clear_error(toy_run, tmp_path):
    """A 2-D run whose config.json says data.name=mnist gave an IndexError in the scatter."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(toy_run, run)
    config = json.loads((run / "config.json").read_text())
    config["data"]["name"] = "mnist"
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"makes 2-D points, but the run's config.json says data.name=mnist"):
        write_report(run, tmp_path / "r.html")


# -- issue 23: the collapse watch's section ---------------------------------------------------------------------


def _section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}">')
    return html[start : html.index("</section>", start)]


def test_a_run_with_watch_checks_gets_the_collapse_section_and_one_without_does_not(tmp_path):
    records = class_checks(6, collapse_at=4)
    html = write_report(write_run(tmp_path / "watched", records), tmp_path / "w.html").read_text()
    watch = _section(html, "watch")
    assert "<h2>Mode collapse watch</h2>" in watch
    assert re.search(r'data-watch="coverage">1/10<', watch) and 'data-watch="collapsed">collapsed<' in watch
    assert re.search(r'data-watch="missing">0, 1, 2, 4, 5, 6, 7, 8, 9<', watch)
    titles = re.findall(r'class="curve" data-title="([^"]+)"', watch)
    assert titles == [
        "Coverage of the fixed batch",
        "KL(p ‖ uniform) of its modes, nats",
        "Mode hopping: share relabelled since the last check",
        "Shares, confidence and spread of the batch",
        "latest histogram",
        "histogram strip",
    ]
    assert ">Class histogram over the checks<" in watch and "the 2 flagged collapsed, at steps 500, 600." in watch
    # the watch's numbers are drawn in its section only, not among the curves of the log
    assert re.findall(r'class="curve" data-title="([^"]+)"', _section(html, "curves")) == ["Losses"]
    assert 'data-field="watch_histogram">[0, 0, 0, 999, 0, 0, 0, 1, 0, 0]<' in html  # the last record, as logged
    # an old run (no watch fields): no such section, the rest as before
    plain = [r for r in records if "watch_kind" not in r]
    html = write_report(write_run(tmp_path / "plain", plain), tmp_path / "p.html").read_text()
    assert '<section id="watch">' not in html and "Mode collapse watch" not in html
    assert re.findall(r'class="curve" data-title="([^"]+)"', _section(html, "curves")) == ["Losses"]


@pytest.mark.parametrize(
    "checks,coverage,note",
    [
        ([stacked_check(100), stacked_check(200)], "612/1,000", "the watch logs no histogram of 1,000 modes"),
        ([feature_check(100), feature_check(200, 0.3)], "0.3", "the features watch has no labels to count"),
    ],
)
def test_checks_without_a_histogram_note_why_the_strip_is_missing(tmp_path, checks, coverage, note):
    html = write_report(write_run(tmp_path / "run", checks), tmp_path / "r.html").read_text()
    watch = _section(html, "watch")
    assert f'data-watch="coverage">{coverage}<' in watch and re.search(f'data-watch="strip-note">[^<]*{note}', watch)
    titles = re.findall(r'class="curve" data-title="([^"]+)"', watch)
    assert "Coverage of the fixed batch" in titles and not {"histogram strip", "latest histogram"} & set(titles)
    assert 'data-watch="missing"' not in watch
