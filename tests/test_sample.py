import threading

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.data import to_uint8_images
from gankit.errors import CheckpointError, GankitError
from gankit.sample import write_samples
from gankit.trained import load_generator
from gankit.training.trainer import train
from tests.helpers import tiny


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("runs") / "ema"
    train(tiny("dcgan", **{"train.ema": 0.5, "train.steps": 3}), path, echo=False)
    return path


def test_generate_is_seeded_and_in_range(run_dir):
    trained = load_generator(run_dir)
    a, b, c = trained.generate(5, seed=1), trained.generate(5, seed=1), trained.generate(5, seed=2)
    assert a.shape == (5, 1, 28, 28) and torch.equal(a, b) and not torch.equal(a, c)
    assert a.min() >= -1 and a.max() <= 1
    assert trained.generate(7, seed=1, batch_size=3)[:5].allclose(a, atol=1e-5)  # batching does not matter


def test_ema_weights_are_used_unless_disabled(run_dir):
    ema, raw = load_generator(run_dir), load_generator(run_dir, use_ema=False)
    assert not torch.equal(ema.generate(4), raw.generate(4))


def test_write_npz_and_png(run_dir, tmp_path):
    files = write_samples(load_generator(run_dir), 12, tmp_path / "out.npz")
    assert [f.name for f in files] == ["out.npz"]  # the arrays only: a picture is FILE.png
    assert np.load(files[0])["images"].shape == (12, 28, 28, 1)
    assert write_samples(load_generator(run_dir), 9, tmp_path / "grid.PNG") == [tmp_path / "grid.PNG"]
    assert Image.open(tmp_path / "grid.PNG").size == (2 + 3 * 30, 2 + 3 * 30)  # 3 × 3 images of 28 px, 2 px apart
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.PNG", "out.npz"]


def test_toy_points_are_written_as_npz(tmp_path):
    cfg = tiny("nsgan", **{"data.name": "ring8", "data.limit": None, "data.toy_points": 512})
    train(cfg, tmp_path / "run", echo=False)
    trained = load_generator(tmp_path / "run")
    files = write_samples(trained, 100, tmp_path / "pts.npz")
    assert np.load(files[0])["points"].shape == (100, 2)
    assert Image.open(write_samples(trained, 100, tmp_path / "pts.png")[0]).size == (512, 512)  # a scatter
    with pytest.raises(ValueError, match=".npz"):
        write_samples(trained, 10, tmp_path / "folder")


def test_missing_checkpoint(run_dir, tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_generator(run_dir, checkpoint=tmp_path / "nope")


def test_a_conditional_run_samples_the_classes_asked_for(cgan_run, tmp_path):
    trained = load_generator(cgan_run)
    files = write_samples(trained, 5, tmp_path / "c.npz", seed=2, labels=[3, 7])
    saved = np.load(files[0])
    assert saved["labels"].tolist() == [3, 7, 3, 7, 3] and saved["images"].shape == (5, 28, 28, 1)
    expected = trained.generate(5, seed=2, labels=[3, 7])
    assert np.array_equal(saved["images"][..., 0], to_uint8_images(expected)[:, 0].numpy())
    every = np.load(write_samples(trained, 12, tmp_path / "all.npz")[0])
    assert every["labels"].tolist() == [*range(10), 0, 1]  # by default every class in turn


def test_samples_are_generated_and_written_in_bounded_batches(run_dir, tmp_path, monkeypatch):
    import gankit.trained

    monkeypatch.setattr(gankit.trained, "LATENT_CHUNK", 500)
    trained = load_generator(run_dir)
    sizes = []
    generate_from = trained.generate_from

    def spy(latent, batch_size):
        sizes.append(len(latent))
        return generate_from(latent, batch_size)

    monkeypatch.setattr(trained, "generate_from", spy)
    files = write_samples(trained, 1200, tmp_path / "s.npz", seed=3, batch_size=100)
    assert max(sizes) == 100 and sum(sizes) == 1200
    images = np.load(files[0])["images"]
    expected = to_uint8_images(generate_from(trained.latents(1200, seed=3), 500)).permute(0, 2, 3, 1).numpy()
    assert np.array_equal(images, expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.npz"]  # no temporary file left


def test_the_first_samples_do_not_depend_on_how_many_are_asked_for(run_dir, monkeypatch):
    import gankit.trained

    monkeypatch.setattr(gankit.trained, "LATENT_CHUNK", 4)
    trained = load_generator(run_dir)
    assert torch.equal(trained.latents(10, seed=1).z[:8], trained.latents(8, seed=1).z)


def test_more_samples_than_the_disk_holds_are_refused_before_writing(run_dir, tmp_path):
    with pytest.raises(GankitError, match=r"need up to .* \(uncompressed\) but .* free; ask for fewer samples"):
        write_samples(load_generator(run_dir), 10**15, tmp_path / "s.npz")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_gets_one_png_per_sample_and_the_first_and_last_are_returned(run_dir, tmp_path):
    files = write_samples(load_generator(run_dir), 3, tmp_path / "pngs", batch_size=2)
    assert [f.name for f in files] == ["000000.png", "000002.png"]
    assert sorted(p.name for p in (tmp_path / "pngs").iterdir()) == ["000000.png", "000001.png", "000002.png"]


@pytest.mark.parametrize("out", ["s.npz", "s.png", "pngs/"])
def test_a_failing_sample_leaves_nothing_behind(run_dir, tmp_path, monkeypatch, out):
    trained = load_generator(run_dir)
    generate_from, calls = trained.generate_from, []

    def failing(latent, batch_size):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("G failed")
        return generate_from(latent, batch_size)

    monkeypatch.setattr(trained, "generate_from", failing)
    with pytest.raises(RuntimeError, match="G failed"):
        write_samples(trained, 6, str(tmp_path / out), batch_size=2)
    assert list(tmp_path.iterdir()) == []  # no part of the output, no temporary


@pytest.mark.parametrize("out", ["s.npz", "pngs/"])
def test_two_writers_of_one_output_at_once_leave_one_complete_output(run_dir, tmp_path, out):
    trained, start, errors = load_generator(run_dir), threading.Barrier(2), []

    def sample(seed: int) -> None:
        start.wait()
        try:
            write_samples(trained, 400, str(tmp_path / out), seed=seed, batch_size=50)
        except GankitError as e:
            errors.append(str(e))

    threads = [threading.Thread(target=sample, args=(seed,)) for seed in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if out == "s.npz":  # both write; the last rename wins: one writer's samples, whole
        assert errors == [] and len(np.load(tmp_path / out)["images"]) == 400
    else:  # a folder is never mixed: the second writer finds it filled
        assert len(errors) <= 1 and all("filled by another process" in e or "already holds" in e for e in errors)
        assert len(list((tmp_path / "pngs").iterdir())) == 400
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.rstrip("/")]
