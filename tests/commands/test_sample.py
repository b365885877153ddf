import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main
from tests.commands.helpers import error_line


def test_sample_classes_of_a_conditional_run(cgan_run, infogan_run, tmp_path, capsys):
    out = tmp_path / "s.npz"
    assert main(["sample", str(cgan_run), "-n", "4", "--class", "2,9", "--out", str(out)]) == 0
    assert np.load(out)["labels"].tolist() == [2, 9, 2, 9]
    assert "wrote 4 samples of class 2, 9" in capsys.readouterr().out
    for run, classes, message in [
        (cgan_run, "10", "class labels must lie in 0..9, got [10]"),
        (cgan_run, "-1", "class labels must lie in 0..9, got [-1]"),
        (cgan_run, "3,x", "--class takes indices separated by commas"),
        (infogan_run, "3", "(recipe infogan) is not class-conditional; its categorical code is shown by `gankit grid"),
    ]:
        assert main(["sample", str(run), "--class", classes, "--out", str(tmp_path / "bad.npz")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("gankit: error:") and message in err and not (tmp_path / "bad.npz").exists()


def test_the_output_is_named_by_what_it_is(cgan_run, tmp_path, capsys):
    """FILE.npz: the arrays; FILE.png: one picture; DIR/ (or a name without a suffix): PNG files; else an error."""
    sample = ["sample", str(cgan_run), "-n", "4", "--out"]
    assert main([*sample, str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").is_file() and Image.open(tmp_path / "s.png").size == (62, 62)  # 2 × 2 images
    assert main([*sample, str(tmp_path / "s.npz")]) == 0
    assert main([*sample, str(tmp_path / "pngs") + "/"]) == 0
    assert main([*sample, str(tmp_path / "plain")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain", "pngs", "s.npz", "s.png"]
    assert len(list((tmp_path / "pngs").iterdir())) == len(list((tmp_path / "plain").iterdir())) == 4
    capsys.readouterr()
    for out, message in [
        ("s.jpg", "gankit sample writes FILE.npz (the arrays), FILE.png (one picture of them all) or DIR/"),
        ("pngs/", "is a folder that already holds files; give a new or empty folder"),
        ("big.png", "FILE.png shows at most 10,000 samples in one picture"),
    ]:
        n = "20000" if out == "big.png" else "4"
        assert main(["sample", str(cgan_run), "-n", n, "--out", str(tmp_path / out)]) == 2
        assert message in error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain", "pngs", "s.npz", "s.png"]


@pytest.mark.slow
def test_a_killed_sample_leaves_no_output_and_the_next_one_clears_its_temporary(cgan_run, tmp_path):
    out = tmp_path / "s.npz"
    argv = [sys.executable, "-m", "gankit", "sample", str(cgan_run), "-n", "1000000", "--out", str(out)]
    sampler = subprocess.Popen(argv, cwd=Path(__file__).parents[2], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".s.npz.*.gankit-tmp")) and time.monotonic() < deadline:
            assert sampler.poll() is None, sampler.stderr.read()
            time.sleep(0.05)
        sampler.send_signal(signal.SIGKILL)
        sampler.wait(timeout=10)
    finally:
        sampler.kill()
        sampler.wait()
    (left,) = tmp_path.iterdir()  # the temporary: nothing named s.npz
    assert left.name.startswith(".s.npz.") and not out.exists()
    assert main(["sample", str(cgan_run), "-n", "3", "--out", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.npz"] and len(np.load(out)["images"]) == 3
