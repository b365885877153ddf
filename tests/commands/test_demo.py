import json

import pytest

from gankit.cli import main


def test_demo_lists_and_runs(tmp_path, capsys):
    assert main(["demo"]) == 0
    assert "bilinear" in capsys.readouterr().out
    assert main(["demo", "bilinear", "--out", str(tmp_path), "--steps", "20", "--eta", "0.2"]) == 0
    numbers = json.loads(capsys.readouterr().out)
    assert numbers["simultaneous"]["norm_ratio_per_step"] == pytest.approx((1 + 0.2**2) ** 0.5, rel=1e-9)
    assert json.loads((tmp_path / "bilinear.json").read_text()) == numbers  # beside bilinear.png
    assert main(["demo", "divergences", "--steps", "3", "--out", str(tmp_path)]) == 2
    assert "demo divergences takes no options" in capsys.readouterr().err
