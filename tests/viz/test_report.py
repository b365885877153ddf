import base64
import io
import json
import re

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gankit.cli import main
from gankit.errors import CheckpointError
from gankit.run import load_generator
from gankit.viz.latent import ContinuousCode, LatentLayout
from gankit.viz.report import format_value, read_records, strip_of, write_report


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
    (bad / "metrics.jsonl").unlink()
    (bad / "eval.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="must hold a JSON object"):
        write_report(bad)


def test_strip_keeps_first_and_last():
    grids = [(i * 100, None) for i in range(30)]
    picked = strip_of(grids, 10)
    assert len(picked) == 10 and picked[0][0] == 0 and picked[-1][0] == 2900
    assert strip_of(grids[:3], 10) == grids[:3]


class ConditionalG(nn.Module):
    """A stand-in CGAN/InfoGAN G: every pixel is label + codes + category, whatever z is."""

    def __init__(self):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1))

    def forward(self, z, label, codes, category):
        value = (label + codes.sum(1) + category) / 10
        return value.view(-1, 1, 1, 1).expand(len(z), 1, 4, 4)


def test_conditional_runs_get_per_class_and_code_grids(image_run, tmp_path, monkeypatch):
    """What the CGAN/InfoGAN work fills in (the layout and G's inputs) is all the report needs."""
    layout = LatentLayout(100, "normal", "images", classes=("a", "b"), continuous=(ContinuousCode("c1"),), categories=3)

    def inputs(layout, inp):
        n = len(inp.z)
        codes = torch.tensor([inp.continuous] * n)
        return inp.z, torch.full((n,), float(inp.label)), codes, torch.full((n,), float(inp.category))

    trained = load_generator(image_run)
    trained.generator = ConditionalG()
    monkeypatch.setattr("gankit.viz.report.load_generator", lambda run: trained)
    monkeypatch.setattr("gankit.viz.report.latent_layout", lambda trained: layout)
    monkeypatch.setattr("gankit.viz.grids.generator_inputs", inputs)
    html = write_report(image_run, tmp_path / "cgan.html").read_text()
    assert "<b>Per class.</b> One row per class (a, b)" in html
    assert "each continuous code (c1) swept across its range; then the 3 values of the categorical code" in html
    per_class, codes, traversal = _images(html)[-3:]
    assert per_class.size == (2 + 8 * 6, 2 + 2 * 6)  # 2 classes × 8 z of 4×4 pixels
    assert codes.size == (2 + 8 * 6, 2 + 4 * 6)  # c1 swept over 8 values, then 3 categories
    assert traversal.size == (2 + 8 * 6, 2 + 6 * 6)
    pixels = np.asarray(codes)  # G's value v ∈ [−1, 1] is the pixel (v + 1) · 127.5
    first_column = [pixels[3 + 6 * r, 3] for r in range(4)]
    assert first_column == [115, 128, 140, 153]  # c1 = −1 (class 0, category 0); then categories 0, 1, 2 at c1 = 0
    assert pixels[3, 3 + 6 * 7] == 140  # c1 = +1 at the end of the first row
