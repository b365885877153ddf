import io
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence

from gankit.errors import GankitError
from gankit.store.layout import RunPaths
from gankit.store.outputs import OutputError
from gankit.viz.animate import (
    LABEL_HEIGHT,
    check_format,
    durations,
    gif_bytes,
    prepared,
    sample_grids,
    strip_of,
    training_frames,
    write_animation,
)


def _gif(data: bytes) -> list[Image.Image]:
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF"
    return [frame.copy() for frame in ImageSequence.Iterator(gif)]


def _gray(n: int, size: tuple[int, int] = (20, 30)) -> list[np.ndarray]:
    return [np.full(size, 40 * i, np.uint8) for i in range(n)]


def test_a_gif_holds_every_frame_loops_for_ever_at_the_fps_and_holds_the_last():
    gif = Image.open(io.BytesIO(gif_bytes(_gray(5), fps=4, hold_s=1.0)))
    assert gif.n_frames == 5 and gif.info["loop"] == 0
    shown = []
    for frame in ImageSequence.Iterator(gif):
        shown.append(frame.info["duration"])
    assert shown == [250, 250, 250, 250, 1250]
    assert np.asarray(gif.convert("L")).shape == (20, 30)  # no label band without labels


def test_durations_are_whole_centiseconds_and_fps_out_of_range_is_refused():
    assert durations(3, 3) == [330, 330, 330]
    assert durations(2, 50, hold_s=0.25) == [20, 270]
    for fps in (0, 0.01, 51):
        with pytest.raises(ValueError, match="fps must lie in 0.1..50"):
            durations(2, fps)


def test_grayscale_frames_stay_gray_and_keep_their_pixels():
    frames = _gif(gif_bytes(_gray(3), fps=10))
    assert [np.asarray(f.convert("L"))[0, 0] for f in frames] == [0, 40, 80]
    rgb = [np.asarray(f.convert("RGB")) for f in frames]
    assert all((im[..., 0] == im[..., 1]).all() and (im[..., 1] == im[..., 2]).all() for im in rgb)


def test_rgb_frames_keep_their_colours_and_a_gray_frame_among_them_becomes_rgb():
    red = np.zeros((16, 16, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((16, 16, 3), np.uint8)
    blue[..., 2] = 255
    gray = np.full((16, 16, 1), 128, np.uint8)
    frames = _gif(gif_bytes([red, gray, blue], fps=10))
    assert [tuple(np.asarray(f.convert("RGB"))[5, 5]) for f in frames] == [(255, 0, 0), (128, 128, 128), (0, 0, 255)]


def test_labels_are_drawn_in_a_band_under_each_frame():
    frames = _gif(gif_bytes(_gray(2), fps=10, labels=["step 0", "step 1,000"]))
    assert len(frames) == 2
    pixels = [np.asarray(f.convert("L")) for f in frames]
    assert all(p.shape == (20 + LABEL_HEIGHT, 30) for p in pixels)
    bands = [p[20:] for p in pixels]
    assert all((b < 128).any() and (b > 128).any() for b in bands)  # black letters on white
    assert not np.array_equal(bands[0], bands[1])  # the text differs
    assert (pixels[1][:20] == 40).all()  # the picture itself is untouched


def test_frames_of_different_sizes_are_padded_to_the_largest():
    images = prepared([np.zeros((10, 12), np.uint8), np.zeros((14, 8), np.uint8)])
    assert [im.size for im in images] == [(12, 14), (12, 14)]
    assert np.asarray(images[1])[:, 8:].min() == 255  # white beyond the smaller frame
    assert [im.size for im in prepared([np.zeros((10, 12), np.uint8)], block=16)] == [(16, 16)]


def test_bad_frames_and_labels_are_refused():
    with pytest.raises(ValueError, match="at least one frame"):
        gif_bytes([], fps=4)
    with pytest.raises(ValueError, match="1 labels for 2 frames"):
        gif_bytes(_gray(2), fps=4, labels=["x"])
    with pytest.raises(ValueError, match="uint8"):
        gif_bytes([np.zeros((4, 4), np.float32)], fps=4)


def test_training_frames_read_the_grids_by_step_with_their_labels(tmp_path):
    paths = RunPaths(tmp_path)
    paths.samples.mkdir()
    for step, value in [(1200, 30), (0, 10), (200, 20)]:
        Image.fromarray(np.full((8, 8), value, np.uint8)).save(paths.sample_grid(step))
    (paths.samples / "step-latest.png").write_bytes(b"not a grid")
    grids = sample_grids(paths)
    assert [step for step, _ in grids] == [0, 200, 1200]
    frames, labels = training_frames(strip_of(grids, 2))
    assert labels == ["step 0", "step 1,200"]
    assert [np.asarray(f)[0, 0] for f in frames] == [10, 30] and frames[0].mode == "L"


def test_write_animation_writes_a_gif_and_refuses_other_formats(tmp_path):
    out = write_animation(tmp_path / "a" / "x.gif", _gray(3), fps=5)
    assert Image.open(out).n_frames == 3 and [p.name for p in out.parent.iterdir()] == ["x.gif"]
    with pytest.raises(OutputError, match=r"--out must be a .gif or .mp4 file, got '.*x.png'"):
        write_animation(tmp_path / "x.png", _gray(3), fps=5)


def test_an_mp4_without_imageio_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(__import__("sys").modules, "imageio", None)  # as if it were not installed
    with pytest.raises(GankitError, match=r"^an MP4 needs imageio with ffmpeg: pip install imageio imageio-ffmpeg"):
        check_format(tmp_path / "x.mp4")
    assert not (tmp_path / "x.mp4").exists()


def test_an_mp4_gets_rgb_frames_padded_for_h264_and_the_last_one_repeated(monkeypatch, tmp_path):
    written = {}

    class Writer:  # imageio's ffmpeg writer, as far as write_mp4 uses it
        def __init__(self, path, **options):
            written.update(path=path, options=options, frames=[])

        def append_data(self, frame):
            written["frames"].append(frame)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            Path(written["path"]).write_bytes(b"mp4")

    v2 = types.ModuleType("imageio.v2")
    v2.get_writer = Writer
    imageio = types.ModuleType("imageio")
    imageio.v2 = v2
    monkeypatch.setitem(sys.modules, "imageio", imageio)
    monkeypatch.setitem(sys.modules, "imageio.v2", v2)
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", types.ModuleType("imageio_ffmpeg"))
    out = write_animation(tmp_path / "x.mp4", _gray(3, (20, 30)), fps=10, labels=["a", "b", "c"], hold_s=0.5)
    assert out.read_bytes() == b"mp4" and sorted(p.name for p in tmp_path.iterdir()) == ["x.mp4"]
    assert written["options"]["fps"] == 10 and written["options"]["codec"] == "libx264"
    frames = written["frames"]
    assert len(frames) == 3 + 5  # the last frame repeated for 0.5 s at 10 fps
    assert all(f.shape == (48, 32, 3) for f in frames)  # 20 + 14 rows and 30 columns grown to multiples of 16
    assert (frames[1][:20, :30] == 40).all() and (frames[1][:, 30:] == 255).all()
    assert all(np.array_equal(f, frames[2]) for f in frames[3:])
