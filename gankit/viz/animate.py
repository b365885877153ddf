"""Animations: frames (uint8 arrays or PIL images) → a looping GIF (Pillow), or an MP4 where imageio and its
ffmpeg are installed; each frame may carry a label in small text under it. Also the frames of a run's
sample grids over training (``RUN/samples/step-*.png``), which ``gankit animate`` and the report show.

Pillow merges a frame identical to the one before it into that one (adding up their durations), so a
GIF may hold fewer frames than it was given, and never shows less.
"""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from gankit.errors import GankitError
from gankit.images import pil_image
from gankit.store.layout import RunPaths
from gankit.store.outputs import OutputError, write_atomic

TRAINING_FPS = 4.0  # the animation of the sample grids over training: 4 grids a second,
TRAINING_HOLD_S = 1.0  # the last one held a second longer, so that the loop's end is seen
FPS_RANGE = (0.1, 50.0)  # a GIF's delays are centiseconds, and browsers play delays under 20 ms at 100 ms
LABEL_HEIGHT = 14  # pixels of the band under a frame that holds its label
FORMATS = (".gif", ".mp4")
MP4_INSTALL = "pip install imageio imageio-ffmpeg"
MP4_BLOCK = 16  # an MP4's frames are padded to a multiple of this (what H.264 encoders want)

Frame = np.ndarray | Image.Image


SAMPLE_NAME = re.compile(r"step-([0-9]{1,12})\.png", re.ASCII)  # a grid the run wrote (not step-².png)


def sample_grids(paths: RunPaths) -> list[tuple[int, Path]]:
    """(step, PNG) of every sample grid of the run, by step."""
    found = []
    for png in paths.samples.glob("step-*.png"):
        match = SAMPLE_NAME.fullmatch(png.name)
        if match:
            found.append((int(match[1]), png))
    return sorted(found)


def strip_of(grids: list[tuple[int, Path]], n: int) -> list[tuple[int, Path]]:
    """At most ``n`` grids, evenly spread, always with the first and the last."""
    if len(grids) <= n:
        return grids
    picks = sorted({round(i * (len(grids) - 1) / (n - 1)) for i in range(n)})
    return [grids[i] for i in picks]


def training_frames(grids: list[tuple[int, Path]]) -> tuple[list[Image.Image], list[str]]:
    """The sample grids ``grids`` (from :func:`sample_grids`) as frames, each labelled with its step."""
    frames = []
    for _, png in grids:
        with Image.open(png) as image:
            frames.append(image.convert("L" if image.mode in ("L", "1", "I;16") else "RGB"))
    return frames, [f"step {step:,}" for step, _ in grids]


def as_image(frame: Frame) -> Image.Image:
    """A uint8 array (H, W), (H, W, 1) or (H, W, 3), or a PIL image, as a grayscale ("L") or RGB image."""
    if isinstance(frame, np.ndarray):
        if frame.dtype != np.uint8 or frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (1, 3)):
            raise ValueError(f"a frame must be uint8 (H, W), (H, W, 1) or (H, W, 3), got {frame.dtype} {frame.shape}")
        frame = pil_image(frame)
    return frame if frame.mode in ("L", "RGB") else frame.convert("RGB")


def labelled(image: Image.Image, text: str) -> Image.Image:
    """``image`` with ``text`` in small black letters on a white band under it."""
    out = Image.new(image.mode, (image.width, image.height + LABEL_HEIGHT), "white")
    out.paste(image, (0, 0))
    ImageDraw.Draw(out).text((3, image.height + 1), text, fill="black", font=ImageFont.load_default())
    return out


def prepared(frames: Sequence[Frame], labels: Sequence[str] | None = None, block: int = 1) -> list[Image.Image]:
    """``frames`` as images of one mode (RGB if any frame is in colour, else grayscale) and one size (the largest,
    grown to a multiple of ``block``; smaller frames on white, top left), each with its label if ``labels``."""
    if not frames:
        raise ValueError("an animation needs at least one frame")
    if labels is not None and len(labels) != len(frames):
        raise ValueError(f"{len(labels)} labels for {len(frames)} frames")
    images = [as_image(f) for f in frames]
    if labels is not None:
        images = [labelled(image, text) for image, text in zip(images, labels, strict=True)]
    mode = "RGB" if any(image.mode == "RGB" for image in images) else "L"
    width = math.ceil(max(image.width for image in images) / block) * block
    height = math.ceil(max(image.height for image in images) / block) * block
    out = []
    for image in images:
        if image.mode != mode or image.size != (width, height):
            canvas = Image.new(mode, (width, height), "white")
            canvas.paste(image.convert(mode), (0, 0))
            image = canvas
        out.append(image)
    return out


def frame_ms(fps: float) -> int:
    """How long a frame at ``fps`` frames per second shows in a GIF: milliseconds, whole centiseconds."""
    if not FPS_RANGE[0] <= fps <= FPS_RANGE[1]:
        raise ValueError(f"fps must lie in {FPS_RANGE[0]:g}..{FPS_RANGE[1]:g}, got {fps:g}")
    return max(20, round(100 / fps) * 10)


def durations(count: int, fps: float, hold_s: float = 0.0) -> list[int]:
    """Milliseconds of each of ``count`` frames: 1/fps each, the last held ``hold_s`` seconds longer."""
    each = frame_ms(fps)
    return [each] * (count - 1) + [each + round(hold_s * 100) * 10]


def gif_bytes(frames: Sequence[Frame], fps: float, labels: Sequence[str] | None = None, hold_s: float = 0.0) -> bytes:
    """The frames as a GIF that loops for ever, ``fps`` frames per second, the last held ``hold_s`` s longer."""
    images = prepared(frames, labels)
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=durations(len(images), fps, hold_s),
        loop=0,
    )
    return buffer.getvalue()


def check_format(path: Path) -> None:
    """``path`` must name a .gif, or an .mp4 where imageio with ffmpeg is installed (checked before any work)."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise OutputError(f"--out must be a .gif or .mp4 file, got {str(path)!r}")
    if suffix == ".mp4":
        try:
            import imageio.v2  # noqa: F401
            import imageio_ffmpeg  # noqa: F401
        except ImportError:
            raise GankitError(f"an MP4 needs imageio with ffmpeg: {MP4_INSTALL} (or write a .gif)") from None


def write_mp4(
    path: Path, frames: Sequence[Frame], fps: float, labels: Sequence[str] | None = None, hold_s: float = 0.0
) -> Path:
    """The frames as an H.264 MP4 (imageio's ffmpeg), written through a temporary file renamed at the end; the
    last frame is repeated to last ``hold_s`` s longer."""
    import imageio.v2 as imageio

    images = [np.asarray(image.convert("RGB")) for image in prepared(frames, labels, block=MP4_BLOCK)]
    images += [images[-1]] * round(hold_s * fps)
    tmp = path.with_name(f".{path.name}.tmp.mp4")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with imageio.get_writer(tmp, fps=fps, codec="libx264", pixelformat="yuv420p", macro_block_size=MP4_BLOCK) as w:
            for image in images:
                w.append_data(image)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
    return path


def write_animation(
    path: str | Path, frames: Sequence[Frame], fps: float, labels: Sequence[str] | None = None, hold_s: float = 0.0
) -> Path:
    """Write the frames to ``path``: a GIF (atomically), or an MP4 for a name ending in .mp4."""
    path = Path(path)
    check_format(path)
    if path.suffix.lower() == ".mp4":
        return write_mp4(path, frames, fps, labels, hold_s)
    return write_atomic(path, gif_bytes(frames, fps, labels, hold_s), fsync=True)
