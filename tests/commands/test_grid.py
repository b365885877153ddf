import json
import shutil

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main


def _rows(png, size=28):
    pixels = np.asarray(Image.open(png))
    return [pixels[2 + r * (size + 2) : (r + 1) * (size + 2)] for r in range((pixels.shape[0] - 2) // (size + 2))]


def test_grid_of_a_cgan_has_a_row_per_class(cgan_run, tmp_path, capsys):
    out = tmp_path / "classes.png"
    assert main(["grid", str(cgan_run), "--by", "class", "--columns", "4", "--out", str(out)]) == 0
    assert Image.open(out).size == (2 + 4 * 30, 2 + 10 * 30)
    rows = _rows(out)
    assert len(rows) == 10 and not np.array_equal(rows[0], rows[1])
    assert "rows = classes 0..9, columns = 4 z (seed 0)" in capsys.readouterr().out


def test_grid_of_an_infogan_sweeps_a_code_and_orders_rows_by_the_matched_digit(infogan_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(infogan_run, run)
    assert main(["grid", str(run), "--by", "c2", "--rows", "0,1", "--scale", "2"]) == 0
    assert Image.open(run / "grid-c2.png").size == ((2 + 10 * 30) * 2, (2 + 2 * 30) * 2)
    assert "columns = c2 from -2 to 2 in 10 steps, z (seed 0) and the other codes fixed" in capsys.readouterr().out
    matching = [3, 8, 0, 5, 1, 9, 2, 7, 4, 6]  # category c was matched to digit matching[c]
    (run / "eval.json").write_text(json.dumps({"metrics": {"categorical_code_accuracy": {"matching": matching}}}))
    assert main(["grid", str(run), "--by", "c3", "--out", str(tmp_path / "all.png")]) == 0
    assert main(["grid", str(run), "--by", "c3", "--rows", "matched", "--out", str(tmp_path / "matched.png")]) == 0
    everything, matched = _rows(tmp_path / "all.png"), _rows(tmp_path / "matched.png")
    for digit in range(10):  # row d of the matched grid is the category matched to digit d
        assert np.array_equal(matched[digit], everything[matching.index(digit)])
    assert not np.array_equal(everything[0], everything[1])


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--by", "class"], "by must be one of category, c2, c3; got 'class'"),
        (["--by", "c2", "--rows", "12"], r"categorical code rows must lie in 0..9, got [12]"),
        (["--by", "c2", "--rows", "matched"], "run `gankit eval"),
        (["--by", "c2", "--out", "x.jpg"], "--out must be a .png file"),
        (["--by", "category", "--columns", "100"], "columns must be in 1..64"),
    ],
)
def test_grid_errors(infogan_run, argv, message, capsys):
    assert main(["grid", str(infogan_run), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gankit: error:") and message in err


@pytest.mark.parametrize(
    "text", ["[" * 100_000 + "]" * 100_000, '{"metrics": {"categorical_code_accuracy": {"matching": [1, "a"]}}}']
)
def test_grid_rows_matched_of_a_damaged_eval_json(infogan_run, tmp_path, capsys, text):
    run = tmp_path / "run"
    shutil.copytree(infogan_run, run)
    (run / "eval.json").write_text(text)
    assert main(["grid", str(run), "--by", "c2", "--rows", "matched"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gankit: error:") and "run `gankit eval" in err and "Traceback" not in err
