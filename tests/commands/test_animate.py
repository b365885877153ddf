import shutil

import numpy as np
import pytest
from PIL import Image, ImageSequence

from gankit.cli import main
from gankit.viz.animate import LABEL_HEIGHT
from tests.commands.helpers import error_line


def _frames(path) -> tuple[list[np.ndarray], list[int]]:
    gif = Image.open(path)
    assert gif.format == "GIF" and gif.info["loop"] == 0
    frames = [(np.asarray(f.convert("L")), f.info["duration"]) for f in ImageSequence.Iterator(gif)]
    return [p for p, _ in frames], [d for _, d in frames]


def test_animate_writes_the_training_gif_into_the_run_and_replaces_it_only_with_force(cgan_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(cgan_run, run)
    assert main(["animate", str(run)]) == 0
    out = run / "animation-training.gif"
    frames, shown = _frames(out)
    grids = sorted((run / "samples").glob("step-*.png"))
    assert len(frames) == len(grids) == 2 and shown == [250, 1250]  # 4 fps, the last grid held 1 s longer
    first = np.asarray(Image.open(grids[0]))
    assert frames[0].shape == (first.shape[0] + LABEL_HEIGHT, first.shape[1])
    assert np.array_equal(frames[0][: first.shape[0]], first)  # the grid itself, unchanged, the label under it
    assert f"wrote {out}: sample grids of steps 0 to 2; 2 frames at 4 fps" in capsys.readouterr().out
    before = out.read_bytes()
    assert main(["animate", str(run), "--fps", "2"]) == 2
    assert "training.gif exists: add --force to replace it" in error_line(capsys)
    assert out.read_bytes() == before
    assert main(["animate", str(run), "--fps", "2", "--force"]) == 0
    assert _frames(out)[1] == [500, 1500]


def test_animate_reads_one_trial_of_a_trials_run(trials_run, tmp_path, capsys):
    out = tmp_path / "t.gif"
    assert main(["animate", str(trials_run), "--trial", "1", "--out", str(out), "--frames", "2"]) == 0
    assert len(_frames(out)[0]) == 2
    assert main(["animate", str(trials_run), "--out", str(out), "--force"]) == 2
    assert "choose one with --trial K" in error_line(capsys)


def test_interpolation_of_a_cgan_starts_at_the_grid_of_the_same_seed(cgan_run, tmp_path, capsys):
    out = tmp_path / "walk.gif"
    argv = ["animate", str(cgan_run), "--what", "interpolation", "--frames", "6", "--samples", "3", "--seed", "5"]
    assert main([*argv, "--out", str(out)]) == 0
    frames, shown = _frames(out)
    assert len(frames) == 6 and shown == [70] * 6  # 15 fps: 7 centiseconds a frame
    assert frames[0].shape == (2 + 10 * 30, 2 + 3 * 30)  # a row per class, the 3 walked z's in the columns
    assert "3 z's per class looping through 4 fixed z's (straight lines, seed 5); 6 frames at 15 fps" in (
        capsys.readouterr().out
    )
    grid = tmp_path / "grid.png"
    assert main(["grid", str(cgan_run), "--by", "class", "--columns", "3", "--seed", "5", "--out", str(grid)]) == 0
    assert np.array_equal(frames[0], np.asarray(Image.open(grid)))
    assert not np.array_equal(frames[0], frames[1])


def test_codes_of_an_infogan_sweep_each_code_with_labels(infogan_run, tmp_path, capsys):
    out = tmp_path / "codes.gif"
    argv = ["animate", str(infogan_run), "--what", "codes", "--frames", "4", "--samples", "2", "--fps", "10"]
    assert main([*argv, "--out", str(out)]) == 0
    frames, shown = _frames(out)
    assert len(frames) == 2 * 4 and shown == [100] * 8  # c2 then c3, 4 frames each
    assert frames[0].shape == (2 + 10 * 30 + LABEL_HEIGHT, 2 + 2 * 30)  # a row per category, 2 z's, a label
    bands = [f[-LABEL_HEIGHT:] for f in frames]
    assert np.array_equal(bands[1], bands[3]) and len({b.tobytes() for b in bands}) == 6  # c2 = -2, 0, +2, 0; c3 …
    assert not np.array_equal(frames[0][:-LABEL_HEIGHT], frames[2][:-LABEL_HEIGHT])  # the code changes the images
    assert "c2, c3 each swept over [-2, 2] and back, 2 fixed z's per category" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--out", "x.png"], "--out must be a .gif or .mp4 file, got 'x.png'"),
        (["--out", "x.mp4"], "an MP4 needs imageio with ffmpeg: pip install imageio imageio-ffmpeg"),
        (["--checkpoint", "c"], "--checkpoint choose G's weights for --what interpolation or codes"),
        (["--fps", "60"], "--fps must lie in 0.1..50"),
        (["--what", "interpolation", "--samples", "65"], "--samples must lie in 1..64, got 65"),
        (["--what", "codes"], "has no continuous InfoGAN codes to sweep: use --what interpolation"),
        (["--frames", "1"], "argument --frames: must lie in 2..1000, got 1"),
    ],
)
def test_animate_errors_are_one_line_and_write_nothing(cgan_run, tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.setitem(__import__("sys").modules, "imageio", None)  # as if imageio were not installed
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in cgan_run.iterdir())
    assert main(["animate", str(cgan_run), *argv]) == 2
    assert message in error_line(capsys)
    assert list(tmp_path.iterdir()) == [] and sorted(p.name for p in cgan_run.iterdir()) == before
