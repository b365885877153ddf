"""``load_data``: a :class:`DataConfig` in, one in-memory :class:`TensorData` out."""

from __future__ import annotations

from collections.abc import Callable

from gankit.config import DataConfig
from gankit.data.datasets import IDX_DATASETS, IdxDataset
from gankit.data.folder import load_folder
from gankit.data.stacked import STACKED_DATASETS, StackedMnistDataset
from gankit.data.tensors import TensorData, resize_images, set_channels
from gankit.data.toy import TOY_DATASETS, ToyDataset
from gankit.errors import DataError
from gankit.registry import Registry

# "folder" (any folder of images, data.dir) is accepted besides the registered sets
DATASETS: Registry[IdxDataset | ToyDataset | StackedMnistDataset] = Registry(
    "data set", {**IDX_DATASETS, **STACKED_DATASETS, **TOY_DATASETS}, extra=("folder",), error=DataError
)


def load_data(cfg: DataConfig, log: Callable[[str], None] = print) -> TensorData:
    """Load the whole data set described by ``cfg`` (see :class:`gankit.config.DataConfig`)."""
    if cfg.split not in ("train", "test"):
        raise DataError(f"data.split must be 'train' or 'test', got {cfg.split!r}")
    if cfg.name == "folder":
        if cfg.dir is None:
            raise DataError("data.name=folder needs the folder: set data.dir (or --data-dir) to a folder of images")
        if cfg.split != "train":
            raise DataError(
                "an image folder has no test split: point data.dir at the folder of test images "
                "and keep data.split=train"
            )
        return load_folder(cfg.dir, cfg.image_size, cfg.channels, cfg.limit, log)
    spec = DATASETS.lookup(cfg.name)
    if isinstance(spec, ToyDataset) and (cfg.image_size is not None or cfg.channels is not None):
        raise DataError(
            f"{cfg.name} is a set of 2-D points, not images: leave data.image_size and "
            f"data.channels unset (use data.toy_points to change its size)"
        )
    data = spec.load(cfg, log)
    if cfg.limit is not None:
        data.x, data.y = data.x[: cfg.limit], (None if data.y is None else data.y[: cfg.limit])
    if data.is_image and cfg.image_size is not None:
        data.x = resize_images(data.x, cfg.image_size)
    if data.is_image and cfg.channels is not None:
        data.x = set_channels(data.x, cfg.channels)
    return data
