"""Training data: whole data sets held in memory as one tensor (moved to the device once by the trainer).

``load_data(cfg.data)`` gives a :class:`TensorData`: uint8 images (N, C, H, W) for MNIST-style IDX sets
(``DATASETS``) and image folders (``data.name=folder``), float32 points (N, 2) for the 2-D toy sets.
``to_model_input`` maps uint8 pixels to [-1, 1]; ``to_uint8_images`` maps generator output back.
"""

from gankit.data.load import DATASETS, load_data
from gankit.data.tensors import TensorData, to_model_input, to_uint8_images

__all__ = ["DATASETS", "TensorData", "load_data", "to_model_input", "to_uint8_images"]
