import json
import shutil
import sys
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from torch.utils.tensorboard import summary as torch_summary

import gankit
from gankit import resume_config, train
from gankit.viz.tensorboard import TensorBoardLogger, purge_events, scalar_tag
from tests.helpers import tiny


def test_every_logged_scalar_and_grid_is_in_tensorboard(image_run):
    events = EventAccumulator(str(image_run), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    records = [json.loads(line) for line in (image_run / "metrics.jsonl").read_text().splitlines()]
    for name in records[0].keys() - {"step"}:
        logged = events.Scalars(scalar_tag(name))
        assert [e.step for e in logged] == [r["step"] for r in records]
        assert [e.value for e in logged] == pytest.approx([r[name] for r in records], rel=1e-6)  # float32
    assert {"loss/d_loss", "loss/g_loss", "grad_norm/g_grad_norm", "grad_norm/d_grad_norm"} <= set(
        events.Tags()["scalars"]
    )
    assert [e.step for e in events.Images("samples")] == [0, 2, 6]


def test_gradient_norms_are_positive_and_finite(image_run):
    last = json.loads((image_run / "metrics.jsonl").read_text().splitlines()[-1])
    assert 0 < last["g_grad_norm"] < 1e6 and 0 < last["d_grad_norm"] < 1e6


def test_tensorboard_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # not installed, and not wanted: no line
    train(tiny("nsgan", **{"train.steps": 2, "train.tensorboard": False}), tmp_path / "run", echo=False)
    assert not list((tmp_path / "run").glob("events.out.tfevents.*"))
    assert "tensorboard: not installed" not in (tmp_path / "run" / "log.txt").read_text()


def test_a_missing_tensorboard_package_is_said_in_one_line_of_the_log(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import torch.utils.tensorboard fails
    monkeypatch.chdir(tmp_path)
    train(tiny("nsgan", **{"train.steps": 2}), tmp_path / "run", echo=False)
    assert not list((tmp_path / "run").glob("events.out.tfevents.*"))
    said = [line for line in (tmp_path / "run" / "log.txt").read_text().splitlines() if "tensorboard:" in line]
    assert len(said) == 1 and said[0].startswith("tensorboard: not installed, so this run writes no event files")
    checkout = Path(gankit.__file__).resolve().parent.parent  # the tests run from a checkout
    assert f"to get them: pip install -e '{checkout}[tensorboard]'" in said[0] and "train.tensorboard=false" in said[0]


def test_disabled_logger_does_nothing(tmp_path):
    logger = TensorBoardLogger(tmp_path, enabled=False)
    logger.scalars({"step": 1, "d_loss": 0.5})
    logger.image(1, tmp_path / "missing.png")
    logger.close()
    assert not logger.active and not list(tmp_path.iterdir())


def test_tags_group_fields_and_send_the_rest_to_metrics():
    assert scalar_tag("d_loss") == "loss/d_loss" and scalar_tag("d_grad_norm") == "grad_norm/d_grad_norm"
    assert scalar_tag("fid") == "metrics/fid"


def test_a_resumed_run_replaces_the_events_logged_after_its_checkpoint(tmp_path):
    run = tmp_path / "run"
    train(tiny("nsgan", **{"train.steps": 6, "train.checkpoint_every": 4}), run, echo=False)
    shutil.rmtree(run / "checkpoints" / "step-00000006")  # as if the run had died after step 4's checkpoint
    train(resume_config(run, {"train.steps": 6}), run, resume=True, echo=False)
    events = EventAccumulator(str(run))
    events.Reload()
    assert [e.step for e in events.Scalars("loss/d_loss")] == [2, 4, 6]  # step 6 once, from the resumed run
    stored = raw_events(run)  # the files themselves: TensorBoard's reader hides a purged step, other readers do not
    assert len(stored) == len(set(stored)) > 0
    assert [s for t, s in stored if t == "loss/d_loss"] == [2, 4, 6] and ("samples", 6) in stored


def test_a_run_resumed_from_step_0_logs_its_first_grid_once(tmp_path):
    """Killed before its first checkpoint, the run starts again from step 0 and writes the step-0 grid again."""
    run = tmp_path / "run"
    train(tiny("nsgan", **{"train.steps": 2}), run, echo=False)
    shutil.rmtree(run / "checkpoints")
    train(resume_config(run, {}), run, resume=True, echo=False)
    stored = raw_events(run)
    assert len(stored) == len(set(stored)) and stored.count(("samples", 0)) == 1 and ("loss/d_loss", 2) in stored


def test_purging_drops_later_steps_and_a_torn_last_record(tmp_path):
    logger = TensorBoardLogger(tmp_path)
    for step in (1, 2, 3):
        logger.scalars({"step": step, "d_loss": 0.5})
    logger.close()
    (events,) = tmp_path.glob("events.out.tfevents.*")
    with open(events, "ab") as f:
        f.write(b"\x10\x00\x00")  # a record cut off by a kill
    (tmp_path / f".{events.name}.tmp-123").write_bytes(b"left by a killed purge")
    (tmp_path / f".{events.name}.123-dead.gankit-tmp").write_bytes(b"left by a killed purge, named by tempfiles")
    assert purge_events(tmp_path, 3) == [events]
    assert raw_events(tmp_path) == [("loss/d_loss", 1), ("loss/d_loss", 2)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [events.name]
    assert purge_events(tmp_path, 3) == []  # nothing left to purge: the file is not rewritten
    assert purge_events(tmp_path, 0) == [events] and not list(tmp_path.iterdir())  # no step left: deleted


def raw_events(run: Path) -> list[tuple[str, int]]:
    """Every (tag, step) stored in the run's event files, in file order."""
    files = sorted(run.glob("events.out.tfevents.*"))
    return [(v.tag, e.step) for f in files for e in EventFileLoader(str(f)).Load() for v in e.summary.value]


def _logged_images(folder, pngs):
    logger = TensorBoardLogger(folder)
    for step, png in enumerate(pngs):
        logger.image(step, png)
    logger.close()
    events = EventAccumulator(str(folder), size_guidance={"images": 0})
    events.Reload()
    return events.Images("samples")


def test_grey_and_rgb_grids_are_logged_as_their_own_pngs_and_others_as_rgb(tmp_path, monkeypatch):
    import io

    import numpy as np
    from PIL import Image

    from gankit.images import save_png

    rng = np.random.default_rng(0)
    rgb, grey = rng.integers(0, 256, (20, 30, 3), np.uint8), rng.integers(0, 256, (12, 16), np.uint8)
    rgb_png, grey_png = save_png(rgb, tmp_path / "rgb.png"), save_png(grey, tmp_path / "grey.png")
    rgba = rng.integers(0, 256, (8, 10, 4), np.uint8)
    Image.fromarray(rgba, "RGBA").save(rgba_png := tmp_path / "rgba.png")
    encodings = []
    make_image = torch_summary.make_image
    monkeypatch.setattr(torch_summary, "make_image", lambda *a, **k: encodings.append(1) or make_image(*a, **k))
    logged = _logged_images(tmp_path / "events", [rgb_png, grey_png, rgb_png, rgba_png])
    assert [e.step for e in logged] == [0, 1, 2, 3]
    assert [(e.height, e.width) for e in logged] == [(20, 30), (12, 16), (20, 30), (8, 10)]
    assert len(encodings) == 1  # the RGBA PNG only: grey and RGB PNGs are logged as their own bytes
    assert logged[0].encoded_image_string == rgb_png.read_bytes() == logged[2].encoded_image_string
    assert logged[1].encoded_image_string == grey_png.read_bytes()
    pixels = [np.asarray(Image.open(io.BytesIO(e.encoded_image_string))) for e in logged]
    assert [p.shape for p in pixels] == [(20, 30, 3), (12, 16), (20, 30, 3), (8, 10, 3)]
    assert np.array_equal(pixels[0], rgb) and np.array_equal(pixels[1], grey)
    assert np.array_equal(pixels[3], np.asarray(Image.fromarray(rgba, "RGBA").convert("RGB")))
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto.event_pb2 import Event

    loader = RawEventFileLoader(str(next((tmp_path / "events").glob("events.out.tfevents.*"))))
    events = [Event.FromString(record) for record in loader.Load()]
    images = [v.image for e in events for v in e.summary.value if v.HasField("image")]
    assert [i.colorspace for i in images] == [3, 1, 3, 3]
