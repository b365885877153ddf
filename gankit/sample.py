"""Write samples of a trained generator: an .npz of uint8 images (or 2-D points), PNG files, a grid."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gankit.data import to_uint8_images
from gankit.images import save_grid, save_png, scatter_png
from gankit.run import TrainedGenerator


def write_samples(
    trained: TrainedGenerator,
    n: int,
    out: str | Path,
    seed: int = 0,
    grid_size: int = 64,
    batch_size: int = 500,
    labels: Sequence[int] | None = None,
) -> list[Path]:
    """Generate ``n`` samples and write them to ``out``; return the files written.

    ``out`` ending in ``.npz``: one array ``images`` (uint8, N×H×W×C) or ``points`` (float32, N×D), plus
    a grid ``<out stem>-grid.png`` beside it; a class-conditional run adds ``labels`` (int64, N), the class
    of each sample. Otherwise ``out`` is a folder that receives one PNG per image (000000.png, …) and
    ``grid.png``. ``labels``: the classes asked of a conditional G, in turn (default: all classes in turn).
    """
    if n < 1:
        raise ValueError(f"the number of samples must be positive, got {n}")
    out = Path(out)
    latent = trained.latents(n, seed, labels)
    samples = trained.generate_from(latent, batch_size)
    extra = {} if latent.y is None else {"labels": latent.y.numpy()}
    is_image = samples.dim() == 4
    grid_path = out.with_name(out.stem + "-grid.png") if out.suffix == ".npz" else out / "grid.png"
    written = []
    if out.suffix == ".npz":
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.stem}.tmp.npz")
        if is_image:
            np.savez_compressed(tmp, images=to_uint8_images(samples).permute(0, 2, 3, 1).numpy(), **extra)
        else:
            np.savez_compressed(tmp, points=samples.numpy().astype(np.float32), **extra)
        tmp.replace(out)
        written.append(out)
    else:
        out.mkdir(parents=True, exist_ok=True)
        if is_image:
            images = to_uint8_images(samples).permute(0, 2, 3, 1).numpy()
            width = max(6, len(str(n - 1)))
            for i, img in enumerate(images):
                written.append(save_png(img, out / f"{i:0{width}d}.png"))
        else:
            raise ValueError("2-D point samples are written to an .npz file; pass --out FILE.npz")
    if is_image:
        written.append(save_grid(to_uint8_images(samples[:grid_size]), grid_path))
    else:
        written.append(scatter_png(samples, grid_path))
    return written
