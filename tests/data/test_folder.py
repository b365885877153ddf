import numpy as np
import pytest
import torch
from PIL import Image

from gankit.config import DataConfig
from gankit.data import load_data
from gankit.errors import DataError


def save(path, value, mode="L", size=(6, 6)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value).save(path)


def load(folder, logs=None, **kw):
    log = logs.append if logs is not None else (lambda _: None)
    return load_data(DataConfig(name="folder", dir=str(folder), **kw), log=log)


def test_labels_from_sorted_subfolders(tmp_path):
    save(tmp_path / "dog" / "a.png", 10)
    save(tmp_path / "cat" / "b.png", 20)
    save(tmp_path / "cat" / "nested" / "c.PNG", 30)
    save(tmp_path / "cat" / ".hidden.png", 99)
    save(tmp_path / "stray.png", 40)  # not in a class folder: ignored
    logs = []
    data = load(tmp_path, logs)
    assert data.x.shape == (3, 1, 6, 6) and data.x.dtype == torch.uint8
    assert data.x[:, 0, 0, 0].tolist() == [20, 30, 10]  # sorted paths: cat/b, cat/nested/c, dog/a
    assert data.y.tolist() == [0, 0, 1] and data.num_classes == 2 and data.name == "folder"
    assert any("2 classes" in line and "cat=0, dog=1" in line for line in logs)
    assert any("ignoring 1 image" in line for line in logs)


def test_flat_folder_has_no_labels(tmp_path):
    for i in range(3):
        save(tmp_path / f"{i}.png", 50 + i)
    data = load(tmp_path)
    assert data.y is None and data.num_classes is None
    assert data.x[:, 0, 0, 0].tolist() == [50, 51, 52]


def test_colour_if_any_image_is_colour(tmp_path):
    save(tmp_path / "a.png", 77)
    save(tmp_path / "b.png", (200, 100, 0), mode="RGB")
    data = load(tmp_path)
    assert data.x.shape == (2, 3, 6, 6)
    assert data.x[0, :, 0, 0].tolist() == [77, 77, 77] and data.x[1, :, 0, 0].tolist() == [200, 100, 0]
    grey = load(tmp_path, channels=1)
    assert grey.x.shape == (2, 1, 6, 6) and grey.x[1, 0, 0, 0].item() == round(0.299 * 200 + 0.587 * 100)


def test_channels_3_on_grey(tmp_path):
    save(tmp_path / "a.png", 5)
    data = load(tmp_path, channels=3)
    assert data.x.shape == (1, 3, 6, 6) and (data.x == 5).all()


def test_jpeg_bmp_webp(tmp_path):
    for ext in ("jpg", "bmp", "webp"):
        Image.new("RGB", (8, 8), (255, 0, 0)).save(tmp_path / f"red.{ext}", quality=95)
    data = load(tmp_path)
    assert data.x.shape == (3, 3, 8, 8)
    assert (data.x[:, 0].int() - 255).abs().max() <= 3 and data.x[:, 1:].int().max() <= 3


def test_sizes_must_match_without_image_size(tmp_path):
    save(tmp_path / "a.png", 0, size=(6, 6))
    save(tmp_path / "b.png", 0, size=(8, 6))
    with pytest.raises(DataError, match=r"data\.image_size") as e:
        load(tmp_path)
    assert "b.png" in str(e.value)


def test_resize_shorter_side_then_centre_crop(tmp_path):
    pixels = np.zeros((4, 8), dtype=np.uint8)
    pixels[:, 4:] = 255  # 8 wide, 4 high: left half black, right half white
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    save(tmp_path / "big.png", 123, size=(20, 20))
    data = load(tmp_path, image_size=4)
    assert data.x.shape == (2, 1, 4, 4)
    assert (data.x[0] == 123).all()  # big.png sorts first
    assert data.x[1, 0, 0].tolist() == [0, 0, 255, 255]


def test_limit(tmp_path):
    for i in range(5):
        save(tmp_path / f"{i}.png", i)
    assert load(tmp_path, limit=2).x[:, 0, 0, 0].tolist() == [0, 1]


def test_missing_and_empty_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist") as e:
        load(tmp_path / "absent")
    assert "absent" in str(e.value)
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("no images")
    with pytest.raises(DataError, match="no images found") as e:
        load(tmp_path / "empty")
    assert str(tmp_path / "empty") in str(e.value) and ".png" in str(e.value) and ".jpeg" in str(e.value)


def test_corrupt_image_is_named(tmp_path):
    save(tmp_path / "good.png", 1)
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(DataError) as e:
        load(tmp_path)
    assert str(tmp_path / "bad.png") in str(e.value)


def test_folder_has_no_test_split(tmp_path):
    save(tmp_path / "a.png", 1)
    with pytest.raises(DataError, match="no test split"):
        load(tmp_path, split="test")
