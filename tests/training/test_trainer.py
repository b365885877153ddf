import json

import pytest
import torch

from gankit.errors import CheckpointError, ConfigError, TrainingDiverged
from gankit.store.checkpoint import list_checkpoints, load_checkpoint
from gankit.store.resume import resume_config
from gankit.training.schemes import Alternating
from gankit.training.trainer import train
from tests.helpers import tiny


def _assert_same_state(a, b):
    for key in ("generator", "discriminator", "encoder"):
        if getattr(a.gan, key) is None:
            continue
        sa, sb = getattr(a.gan, key).state_dict(), getattr(b.gan, key).state_dict()
        assert sa.keys() == sb.keys()
        for k in sa:
            assert torch.equal(sa[k], sb[k]), f"{key}.{k} differs"


@pytest.mark.parametrize(
    "recipe,extra",
    [  # the fast lane: dcgan and wgan-gp, in fp32
        ("dcgan", {"train.ema": 0.9}),  # batch-norm, Adam, EMA
        ("wgan-gp", {"train.n_critic": 2}),  # gradient penalty (random ε), n_critic, layer norm
        pytest.param("wgan", {}, marks=pytest.mark.slow),  # RMSProp and clipping
        pytest.param("infogan", {}, marks=pytest.mark.slow),  # codes, Q head, two learning rates
        pytest.param("mdgan", {}, marks=pytest.mark.slow),  # the encoder and its share of G's optimiser; G reads data
        pytest.param("cgan", {"model.conditioning": "projection"}, marks=pytest.mark.slow),  # labels, embeddings
    ],
)
@pytest.mark.parametrize("precision", ["fp32", pytest.param("bf16", marks=pytest.mark.slow)])
def test_resume_is_exact(recipe, extra, precision, tmp_path):
    """N steps + resume + N steps gives bit-identical weights to 2N steps straight (epochs wrap too), in fp32
    and under bf16 autocast with channels_last nets (tolerance: none, the kernels are deterministic). Batches of
    4 from 8 images: the split falls mid-epoch (step 3, 12 images) and the straight run wraps 3 epochs. Small,
    because bf16 is emulated on CPUs without bf16 units: InfoGAN's fixed-width nets took 40 s at batch 16."""
    n = 3
    base = {"data.limit": 8, "train.batch_size": 4, "train.precision": precision, **extra}
    straight = train(tiny(recipe, **{**base, "train.steps": 2 * n}), tmp_path / "straight", echo=False)
    train(tiny(recipe, **{**base, "train.steps": n}), tmp_path / "split", echo=False)
    resumed = train(
        resume_config(tmp_path / "split", {"train.steps": 2 * n}), tmp_path / "split", resume=True, echo=False
    )
    assert resumed.step == straight.step == 2 * n and resumed.images_seen == straight.images_seen
    assert straight.sampler.epoch >= 1  # the data permutation wrapped around at least once
    _assert_same_state(straight, resumed)
    for name in ("g_optimizer", "d_optimizer"):
        sa, sb = getattr(straight.gan, name).state_dict(), getattr(resumed.gan, name).state_dict()
        assert sa["param_groups"] == sb["param_groups"]
        for i in sa["state"]:
            for k, v in sa["state"][i].items():
                assert torch.equal(v, sb["state"][i][k]), f"{name} state {i}.{k} differs"
    if straight.ema is not None:
        for (ka, va), (kb, vb) in zip(straight.ema.state_dict().items(), resumed.ema.state_dict().items(), strict=True):
            assert ka == kb and torch.equal(va, vb)


def test_checkpoint_holds_complete_state_and_counters(tmp_path):
    cfg = tiny(
        "dcgan", **{"train.steps": 5, "train.checkpoint_every": 2, "train.keep_checkpoints": 2, "train.ema": 0.99}
    )
    train(cfg, tmp_path / "run", echo=False)
    ckpts = list_checkpoints(tmp_path / "run" / "checkpoints")
    assert [p.name for p in ckpts] == ["step-00000004", "step-00000005"]
    state = load_checkpoint(ckpts[-1])
    assert state["step"] == 5 and state["images_seen"] == 5 * 16
    assert state["g_optimizer"]["state"][0]["step"].item() == 5
    assert state["d_optimizer"]["state"][0]["step"].item() == 5
    assert state["ema"]["n_averaged"].item() == 5
    assert set(state) >= {"sampler", "rng", "grid_z", "data_shape", "elapsed_s"}


def test_conditional_runs_keep_their_labels_and_grid_classes(tmp_path):
    training = train(tiny("cgan"), tmp_path / "run", echo=False)
    assert training.space.num_classes == 10
    assert training.grid_latent.y.tolist() == [i % 10 for i in range(16)]  # classes cycle along each row
    state = load_checkpoint(list_checkpoints(tmp_path / "run" / "checkpoints")[-1])
    assert state["num_classes"] == 10 and torch.equal(state["grid_y"], training.grid_latent.y.cpu())
    batch = training.next_real()
    assert batch.y is not None and batch.y.shape == (16,)
    # the labels are the data's own labels for those images
    index = training.sampler.perm[training.sampler.position - 16 : training.sampler.position]
    assert torch.equal(batch.y, training.data.y[index])


def test_a_conditional_model_needs_a_labelled_data_set(tmp_path):
    from PIL import Image

    folder = tmp_path / "images"  # a flat folder of images: no classes
    folder.mkdir()
    for i in range(4):
        Image.new("L", (28, 28), color=i * 60).save(folder / f"{i}.png")
    cfg = tiny("cgan", **{"data.name": "folder", "data.dir": str(folder), "data.limit": None})
    with pytest.raises(ConfigError, match="needs class labels"):
        train(cfg, tmp_path / "run", echo=False)
    assert not (tmp_path / "run").exists()


def test_logs_and_sample_grids(tmp_path):
    cfg = tiny("lsgan", **{"train.steps": 6, "train.log_every": 2, "train.sample_at": (0, 3), "train.sample_every": 4})
    train(cfg, tmp_path / "run", echo=False)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [2, 4, 6]
    assert all({"d_loss", "g_loss", "d_real", "d_fake", "images_per_s"} <= set(r) for r in records)
    grids = sorted(p.name for p in (tmp_path / "run" / "samples").iterdir())
    assert grids == ["step-00000000.png", "step-00000003.png", "step-00000004.png", "step-00000006.png"]
    assert json.loads((tmp_path / "run" / "config.json").read_text())["recipe"] == "lsgan"


def test_refuses_a_directory_that_holds_another_run(tmp_path):
    train(tiny("lsgan"), tmp_path / "run", echo=False)
    before = {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()}
    with pytest.raises(CheckpointError, match="already holds a run.*--resume"):
        train(tiny("dcgan"), tmp_path / "run", echo=False)
    after = {p: p.read_bytes() for p in (tmp_path / "run").rglob("*") if p.is_file()}
    assert before == after
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="not empty"):
        train(tiny("lsgan"), tmp_path / "other", echo=False)


def test_resume_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not a gankit run"):
        resume_config(tmp_path)
    train(tiny("lsgan"), tmp_path / "run", echo=False)
    with pytest.raises(ConfigError, match=r"cannot change model.latent_dim\. Fields that may change: .*g_optim\.lr"):
        resume_config(tmp_path / "run", {"model.latent_dim": 8})
    for p in (tmp_path / "run" / "checkpoints").iterdir():
        (p / "tensors.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="does not match the checksum"):
        train(resume_config(tmp_path / "run", {"train.steps": 8}), tmp_path / "run", resume=True, echo=False)


def test_divergence_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    cfg = tiny("dcgan", **{"train.steps": 12, "train.checkpoint_every": 4, "train.log_every": 1})
    real_step = Alternating.step
    calls = {"n": 0}

    def poisoned(self, gan, losses, n_critic, next_real, sample_z):
        stats = real_step(self, gan, losses, n_critic, next_real, sample_z)
        if calls["n"] >= 6:  # from step 7 on, the weights blow up
            with torch.no_grad():
                next(gan.generator.parameters()).fill_(float("nan"))
            stats["g_loss"] = stats["g_loss"] * float("nan")
        calls["n"] += 1
        return stats

    monkeypatch.setattr(Alternating, "step", poisoned)
    with pytest.raises(TrainingDiverged, match=r"g_loss=nan in steps 7–7.*step-00000004.*Lower the learning rates"):
        train(cfg, tmp_path / "run", echo=False)
    ckpts = list_checkpoints(tmp_path / "run" / "checkpoints")
    assert [p.name for p in ckpts] == ["step-00000004"]
    state = load_checkpoint(ckpts[0])
    assert all(torch.isfinite(v).all() for v in state["generator"].values() if v.is_floating_point())


def test_divergence_before_any_checkpoint_does_not_point_at_one(tmp_path, monkeypatch):
    real_step = Alternating.step

    def poisoned(self, gan, losses, n_critic, next_real, sample_z):
        stats = real_step(self, gan, losses, n_critic, next_real, sample_z)
        stats["g_loss"] = stats["g_loss"] * float("nan")
        return stats

    monkeypatch.setattr(Alternating, "step", poisoned)
    with pytest.raises(TrainingDiverged) as caught:
        train(tiny("dcgan", **{"train.log_every": 1}), tmp_path / "run", echo=False)
    message = str(caught.value)
    assert "no checkpoint had been written yet" in message and "from that checkpoint" not in message
    assert "config.json" in message and "starts again from step 0" in message


def test_seeded_runs_are_reproducible(tmp_path):
    a = train(tiny("hinge", **{"train.seed": 3}), tmp_path / "a", echo=False)
    b = train(tiny("hinge", **{"train.seed": 3}), tmp_path / "b", echo=False)
    c = train(tiny("hinge", **{"train.seed": 4}), tmp_path / "c", echo=False)
    _assert_same_state(a, b)
    assert not torch.equal(next(a.gan.generator.parameters()), next(c.gan.generator.parameters()))
    assert (tmp_path / "a" / "samples" / "step-00000004.png").read_bytes() == (
        tmp_path / "b" / "samples" / "step-00000004.png"
    ).read_bytes()


def test_the_loop_reads_as_a_short_story():
    """train() builds, opens the run and loops; everything else has a named home (issue 10: <= 40 lines)."""
    import inspect

    from gankit.training import trainer

    lines = inspect.getsource(trainer.train).splitlines()
    assert 10 < len(lines) <= 40
    assert {"build_training", "RunDir", "RunWriters", "Budget"} <= set(vars(trainer))
