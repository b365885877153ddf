"""In-memory data sets (:class:`TensorData`) and the pixel conversions shared by every image data set."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gankit.memory.available import check_fits, host_memory


@dataclass
class TensorData:
    """A whole data set as one tensor: uint8 images (N, C, H, W) or float32 2-D points (N, 2)."""

    x: torch.Tensor
    y: torch.Tensor | None  # int64 class labels (N,), or None
    name: str
    source: str  # where it came from, for logs and run records
    num_classes: int | None

    def to(self, device: torch.device | str) -> TensorData:
        y = None if self.y is None else self.y.to(device)
        return TensorData(self.x.to(device), y, self.name, self.source, self.num_classes)

    @property
    def is_image(self) -> bool:
        return self.x.dim() == 4

    def __len__(self) -> int:
        return self.x.shape[0]


def data_nbytes(data: TensorData) -> int:
    """Bytes of a data set's tensors."""
    y = 0 if data.y is None else data.y.numel() * data.y.element_size()
    return data.x.numel() * data.x.element_size() + y


def to_model_input(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels -> float32 in [-1, 1] (``x / 127.5 - 1``); float tensors are returned as float32."""
    if x.dtype == torch.uint8:
        return x.float() / 127.5 - 1
    if x.is_floating_point():
        return x.float()
    raise TypeError(f"to_model_input expects uint8 images or a float tensor, got {x.dtype}")


def to_uint8_images(x: torch.Tensor) -> torch.Tensor:
    """Float images in [-1, 1] -> uint8 pixels (rounded, clamped to [0, 255])."""
    return ((x.float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


def resize_images(x: torch.Tensor, size: int, chunk: int = 4096) -> torch.Tensor:
    """Resize uint8 images (N, C, H, W): shorter side to ``size`` (bilinear, antialiased), centre crop.

    Refuses (ConfigError) a result that cannot fit in memory: the uint8 result plus the float32 copies of
    one chunk before cropping.
    """
    h, w = x.shape[-2:]
    if (h, w) == (size, size):
        return x
    scale = size / min(h, w)
    new_h, new_w = max(size, round(h * scale)), max(size, round(w * scale))
    n, c = x.shape[:2]
    needed = n * c * size * size + 2 * min(n, chunk) * c * new_h * new_w * 4
    what = f"resizing {n:,} images to data.image_size={size}"
    check_fits(needed, host_memory(), what, "lower data.image_size (or data.limit)")
    top, left = (new_h - size) // 2, (new_w - size) // 2
    out = torch.empty((x.shape[0], x.shape[1], size, size), dtype=torch.uint8)
    for i in range(0, x.shape[0], chunk):  # in chunks: float copies of a whole set can be large
        part = F.interpolate(
            x[i : i + chunk].float(), size=(new_h, new_w), mode="bilinear", antialias=True, align_corners=False
        )
        out[i : i + chunk] = part[..., top : top + size, left : left + size].round().clamp(0, 255).to(torch.uint8)
    return out


def set_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Grey (N, 1, H, W) -> RGB by repeating the channel; RGB -> grey with ITU-R 601 luma weights."""
    c = x.shape[1]
    if c == channels:
        return x
    if c == 1 and channels == 3:
        return x.repeat(1, 3, 1, 1)
    if c == 3 and channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        return (x.float() * weights).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)
    raise ValueError(f"cannot convert {c}-channel images to {channels} channels")
