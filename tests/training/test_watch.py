"""The collapse watch while training (gankit.training.watch): records, warnings, watch_stop, resume, trials."""

import json
import math

import pytest
import torch
from torch import nn

from gankit.errors import TrainingCollapsed
from gankit.store.checkpoint import list_checkpoints, save_checkpoint
from gankit.store.resume import resume_config
from gankit.store.state_schema import InvalidState, read_state
from gankit.training import state as state_module
from gankit.training import watch as watch_module
from gankit.training.state import build_training
from gankit.training.trainer import train
from gankit.training.watch import WatchSchedule, follower_vote, postfix
from gankit.training.writers import RunWriters
from tests.helpers import tiny

TOY_KEYS = {
    "watch_kind",
    "watch_modes",
    "watch_covered",
    "watch_kl",
    "watch_top_share",
    "watch_high_quality",
    "watch_histogram",
    "watch_collapsed",
}


class RingG(nn.Module):
    """A stand-in G for ring8: puts each z on one of the first ``modes`` ring modes by z's angle (8: healthy, every
    mode; 1: collapsed onto mode 0); its one weight (trained, starting at 0) moves the points by w·z."""

    def __init__(self, modes: int):
        super().__init__()
        self.modes, self.w = modes, nn.Parameter(torch.zeros(1))

    def forward(self, z):
        sector = torch.floor((torch.atan2(z[:, 1], z[:, 0]) + math.pi) / (2 * math.pi) * 8).clamp(0, 7)
        angle = (sector % self.modes) * (2 * math.pi / 8)
        return torch.stack([angle.cos(), angle.sin()], dim=1) + self.w * z[:, :2]


WARMUP = 5  # the tests' warm-up: collapsed checks count from step 5 (500 in a run)


@pytest.fixture(autouse=True)
def _short_warmup(monkeypatch):
    monkeypatch.setattr(watch_module, "WARMUP_STEPS", WARMUP)


@pytest.fixture
def ring_g(monkeypatch):
    """``ring_g(modes)``: the runs built from now on get a :class:`RingG` as G."""

    def use(modes: int) -> None:
        real = state_module.build_networks

        def build(cfg, shape, space):
            _, d = real(cfg, shape, space)
            return RingG(modes), d

        monkeypatch.setattr(state_module, "build_networks", build)

    return use


def ring(**overrides):
    """A tiny pacgan-2d run on ring8 (2-D z), a check every step, no log records but the watch's and the last."""
    base = {"data.name": "ring8", "data.toy_points": 512, "train.watch_every": 1, "train.log_every": 1000}
    return tiny("pacgan-2d", **base | overrides)


def records(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def warnings(run):
    return [line for line in (run / "log.txt").read_text().splitlines() if "mode collapse" in line]


def test_a_collapsing_run_warns_once_per_ten_checks_and_a_healthy_run_never(ring_g, tmp_path):
    ring_g(8)
    train(ring(**{"train.steps": 16}), tmp_path / "healthy", echo=False)
    ring_g(1)
    train(ring(**{"train.steps": 16}), tmp_path / "collapsed", echo=False)
    assert warnings(tmp_path / "healthy") == []
    assert not any(r["watch_collapsed"] for r in records(tmp_path / "healthy") if "watch_kind" in r)
    found = warnings(tmp_path / "collapsed")
    first = WARMUP  # an untrained G looks collapsed: checks count from the warm-up's step
    assert len(found) == 2 and found[0].startswith(f"warning: step {first}: mode collapse: 1/8 modes covered")
    assert "missing modes 1, 2, 3, 4, 5, 6, 7, first seen now" in found[0]
    assert f"step {first + 10}: " in found[1] and f"since step {first} (11 checks)" in found[1]
    assert "--set model.pack=2" in found[0] and "--set train.scheme=optimistic" in found[0]
    assert all(r["watch_collapsed"] for r in records(tmp_path / "collapsed") if "watch_kind" in r)


class FlappingRingG(RingG):
    """A stand-in G that is collapsed (one mode) at odd calls and healthy (every mode) at even ones: with the watch
    on every step and nothing else sampling G, it flaps in and out of collapse at every check."""

    def __init__(self):
        super().__init__(8)
        self.calls = 0

    def forward(self, z):
        if not self.training:  # the watch samples G in eval mode
            self.calls += 1
            self.modes = 1 if self.calls % 2 else 8
        return super().forward(z)


def test_a_flapping_run_is_warned_at_most_once_per_ten_checks(monkeypatch, tmp_path):
    real = state_module.build_networks
    monkeypatch.setattr(
        state_module, "build_networks", lambda cfg, shape, space: (FlappingRingG(), real(cfg, shape, space)[1])
    )
    train(ring(**{"train.steps": 30, "train.watch_samples": 400}), tmp_path / "run", echo=False)  # one call a check
    flagged = [r["step"] for r in records(tmp_path / "run") if r.get("watch_collapsed")]
    assert len(flagged) >= 10  # a new streak at every other check …
    steps = [int(line.split("step ")[1].split(":")[0]) for line in warnings(tmp_path / "run")]
    assert len(steps) == 3 and steps[1] - steps[0] == steps[2] - steps[1] == 10  # once per ten checks, not per streak


def test_watch_stop_stops_a_collapsed_run_keeping_the_checkpoint_before_the_onset(ring_g, tmp_path):
    ring_g(1)
    cfg = ring(**{"train.steps": 20, "train.watch_stop": 3, "train.checkpoint_every": 1, "train.keep_checkpoints": 1})
    with pytest.raises(TrainingCollapsed) as stop:
        train(cfg, tmp_path / "run", echo=False)
    onset = WARMUP
    message = str(stop.value)
    assert stop.value.step == onset + 2 and message.startswith(f"stopped at step {onset + 2}: G stayed mode-collapsed")
    before = tmp_path / "run" / "checkpoints" / f"step-{onset - 1:08d}"
    assert f"since step {onset}" in message and f"{before} (kept on disk)" in message
    assert list_checkpoints(tmp_path / "run" / "checkpoints") == [before, before.with_name(f"step-{onset + 2:08d}")]
    assert records(tmp_path / "run")[-1]["step"] == onset + 2


def test_records_carry_the_watch_keys_at_its_steps_and_tensorboard_gets_them(ring_g, tmp_path):
    ring_g(8)
    train(ring(**{"train.steps": 7, "train.watch_every": 3}), tmp_path / "run", echo=False)
    by_step = {r["step"]: r for r in records(tmp_path / "run")}
    assert sorted(by_step) == [3, 6, 7]  # the watch's steps force a record; 7 is the last step
    assert set(by_step[3]) >= TOY_KEYS and "watch_hopped" not in by_step[3]
    assert by_step[6]["watch_hopped"] == 0.0 and by_step[6]["watch_covered"] == 8  # the same fixed batch
    assert not any(k.startswith("watch_") for k in by_step[7])
    assert postfix(by_step[6]) == {"modes": "8/8"}
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "run"), size_guidance={"histograms": 0}).Reload()
    assert [e.step for e in events.Scalars("watch/watch_covered")] == [3, 6]
    assert "watch/watch_kind" not in events.Tags()["scalars"]
    histogram = events.Histograms("watch/histogram")
    assert [h.step for h in histogram] == [3, 6] and histogram[0].histogram_value.num == 2500


def test_a_resumed_run_watches_as_an_uninterrupted_one(ring_g, tmp_path):
    """Without the state in the checkpoint the resumed run would start counting again: no watch_hopped at step 6,
    and its warning at step 6 would say "first seen now", not "since step 5"."""
    ring_g(1)
    base = {"train.checkpoint_every": 5}
    train(ring(**base, **{"train.steps": 10}), tmp_path / "straight", echo=False)
    train(ring(**base, **{"train.steps": 5}), tmp_path / "split", echo=False)  # the onset: step 5
    train(resume_config(tmp_path / "split", {"train.steps": 10}), tmp_path / "split", resume=True, echo=False)

    def watched(run):
        return [{k: v for k, v in r.items() if k.startswith("watch_") or k == "step"} for r in records(run)]

    assert watched(tmp_path / "split") == watched(tmp_path / "straight")
    assert warnings(tmp_path / "split") == warnings(tmp_path / "straight") != []


@pytest.mark.parametrize("recipe,data,n", [("pacgan-2d", "ring8", 2500), ("lsgan", "mnist", 500)])
def test_the_fixed_batch_is_the_same_at_every_check_and_leaves_the_random_stream_alone(recipe, data, n, tmp_path):
    """Built (the classifier's weights are drawn, then loaded), generated and measured without a draw from the
    global stream: a resumed run, which builds the watch after loading the stream's state, stays bit-exact."""
    cfg = tiny(recipe, **{"data.name": data, "data.toy_points": 512})
    a, b = build_training(cfg, log=lambda _: None), build_training(cfg, log=lambda _: None)
    rng = torch.get_rng_state()
    watch_a, watch_b = WatchSchedule(a, print), WatchSchedule(b, print)
    assert torch.equal(watch_a.latent.z, watch_b.latent.z) and len(watch_a.latent) == n
    assert torch.equal(watch_a.samples(a), watch_a.samples(a))
    a.step = 100
    assert watch_a.check(a, tmp_path)["watch_kind"] == ("toy" if data == "ring8" else "classes")
    assert torch.equal(torch.get_rng_state(), rng) and a.gan.generator.training  # G back in train mode


def test_the_watch_state_round_trips_through_a_checkpoint_and_is_checked(ring_g, tmp_path):
    ring_g(1)
    training = build_training(ring(), log=lambda _: None)
    watch = WatchSchedule(training, lambda _: None)
    for step in range(1, WARMUP + 3):
        training.step = step
        watch.check(training, tmp_path)
    assert training.watch["streak"] == 3 and training.watch["onset"] == WARMUP
    save_checkpoint(tmp_path / "step-00000007", training.state_dict())
    loaded = read_state(tmp_path / "step-00000007")["watch"]
    assert {k: v for k, v in loaded.items() if k != "labels"} == {
        "checks": 7,
        "streak": 3,
        "onset": 5,
        "warned": 5,
        "armed": True,
    }
    assert torch.equal(loaded["labels"], training.watch["labels"])
    training.watch = training.watch | {"streak": 9}  # more collapsed checks than checks
    save_checkpoint(tmp_path / "step-00000008", training.state_dict())
    with pytest.raises(InvalidState, match="field 'watch' has a streak of 9 collapsed checks in 7 checks"):
        read_state(tmp_path / "step-00000008")


def test_data_without_an_extractor_turns_the_watch_off_in_one_line():
    lines = []
    training = build_training(tiny("dcgan", **{"data.image_size": 32}), log=lambda _: None)
    watch = WatchSchedule(training, lines.append)
    assert not watch.due(100) and lines == [
        "collapse watch: off, gankit has no feature extractor for mnist examples of shape 1×32×32 (the collapse "
        "watch needs 2-D mixture points or 28×28 images) (train.watch_every=0 hides this line)"
    ]


def test_the_ranks_stop_together_on_rank_0s_word(ring_g, tmp_path):
    """Rank 0 asks the others (``agree``) at each vote step and stops only if they agree; the others stop when told."""
    ring_g(1)
    from gankit.store.layout import RunPaths
    from gankit.store.logfile import RunLog

    training = build_training(ring(**{"train.watch_stop": 1}), log=lambda _: None)
    votes = []
    with RunWriters(training, RunPaths(tmp_path), RunLog(False), None, False, agree=votes.append) as writers:
        for step in range(1, WARMUP + 1):
            training.step = step
            writers.after_step(training, {})  # agree returns None (falsy): rank 0 goes on
    assert votes == [False] * (WARMUP - 1) + [True]
    follower_vote(0, 6, lambda flag: True)  # watch_stop off: no vote
    follower_vote(3, 7, lambda flag: True)  # not a vote step
    with pytest.raises(TrainingCollapsed, match="stopped at step 6 with rank 0"):
        follower_vote(3, 6, lambda flag: not flag)


@pytest.mark.parametrize("mode", ["sequential", "vectorised"])
def test_a_trials_run_writes_one_watch_record_per_trial_and_step(mode, tmp_path):
    from gankit.trials.runner import train_trials

    cfg = tiny(
        "nsgan",
        **{
            "data.name": "ring8",
            "data.toy_points": 512,
            "train.trials": 2,
            "train.trials_mode": mode,
            "train.watch_every": 2,
            "train.log_every": 1000,
        },
    )
    train_trials(cfg, tmp_path / "run", echo=False)
    for k in (0, 1):
        trial = records(next((tmp_path / "run").glob(f"trial-*{k}")))
        assert [r["step"] for r in trial if "watch_kind" in r] == [2, 4] and [r["step"] for r in trial] == [2, 4]
    together = "played together" in (tmp_path / "run" / "trial-00" / "log.txt").read_text()
    assert together is (mode == "vectorised")


@pytest.mark.slow  # bf16 is emulated on CPUs without bf16 units
def test_a_bf16_run_is_watched(tmp_path):
    train(tiny("lsgan", **{"train.precision": "bf16", "train.watch_every": 2}), tmp_path / "run", echo=False)
    watched = [r for r in records(tmp_path / "run") if "watch_kind" in r]
    assert [r["step"] for r in watched] == [2, 4] and all(r["watch_kind"] == "classes" for r in watched)
    assert all(r["watch_modes"] == 10 and sum(r["watch_histogram"]) == 500 for r in watched)
