"""Data-parallel training: 2 processes under torchrun (gloo on 127.0.0.1, a free port chosen by torchrun's
``--standalone``), started by the tests and bounded in time; plus the error cases in one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gankit.cli import main
from gankit.errors import ConfigError, DistributedError
from gankit.store.checkpoint import list_checkpoints, load_checkpoint
from gankit.training.distributed import World
from gankit.training.trainer import train
from tests.helpers import tiny

REPO = Path(__file__).parents[2]
WORKER = Path(__file__).with_name("ddp_worker.py")
RTOL, ATOL = 1e-5, 1e-6  # 2 × B/2 against 1 × B: only the order of float sums differs
TORCHRUN_TIMEOUT_S = 90


def torchrun(tmp: Path, commands: list[list[str]], *options: str, restarts: int = 0) -> list[dict]:
    """Run ``commands`` in a 2-process torchrun job (through ``ddp_worker.py``); each rank's results."""
    results = tmp / "results"
    results.mkdir(exist_ok=True)
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    argv += ["--max-restarts", str(restarts), "--monitor-interval", "0.1", str(WORKER), "--results", str(results)]
    argv += [*options, *[w for i, c in enumerate(commands) for w in ([] if i == 0 else ["::"]) + c]]
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=TORCHRUN_TIMEOUT_S, cwd=tmp)
    files = sorted(results.glob("rank*-attempt*.json"))
    assert files, f"no rank reported (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    torchrun_said = {"torchrun_exit": done.returncode, "torchrun_stderr": done.stderr[-3000:]}  # when a rank is missing
    return [json.loads(f.read_text()) | torchrun_said for f in files]


def config_file(tmp: Path, name: str, recipe: str, **overrides) -> Path:
    """A tiny config with the consistency check on at every step, as a file for ``gankit train --config``."""
    cfg = tiny(recipe, **{"train.ddp_check_every": 1, **overrides})
    path = tmp / f"{name}.json"
    path.write_text(cfg.to_json())
    return path


def gankit_train(cfg: Path, run: Path, *extra: str) -> list[str]:
    return ["train", "--config", str(cfg), "--run-dir", str(run), "--no-progress", *extra]


def final_state(run: Path) -> dict:
    return load_checkpoint(list_checkpoints(run / "checkpoints")[-1])


def weights(state: dict) -> dict[str, torch.Tensor]:
    return {f"{p}.{k}": v for p in ("generator", "discriminator") for k, v in state[p].items() if v.is_floating_point()}


def succeeded(ranks: list[dict]) -> None:
    for r in ranks:
        assert all(c["code"] == 0 for c in r["commands"]), f"rank {r['rank']}: {[c['stderr'] for c in r['commands']]}"


MLP = {  # the MLP recipes' nets without G's batch norm, whose statistics are per rank
    "model.g_norm": "none",
    "data.name": "ring8",
    "data.toy_points": 512,
    "train.batch_size": 32,
    "train.steps": 6,
    "train.precision": "fp32",
}
EQUIVALENCE = {  # name: (recipe, overrides): batch-norm-free nets
    "alternating": ("nsgan", MLP),
    "extragradient": ("nsgan", MLP | {"train.scheme": "extragradient"}),
    # the recipe's loss, penalty, n_critic and Adam on MLP nets (its DCGAN G has batch-norm)
    "wgan-gp": ("wgan-gp", MLP | {"model.arch": "mlp", "model.g_width": 32, "model.d_width": 32, "train.n_critic": 2}),
    "simultaneous": ("nsgan", MLP | {"train.scheme": "simultaneous", "train.n_critic": 2}),
    "optimistic": ("nsgan", MLP | {"train.scheme": "optimistic"}),
    "lookahead+ema+ttur": (
        "nsgan",
        MLP | {"train.scheme": "lookahead", "train.lookahead_k": 2, "train.ema": 0.9, "g_optim.lr": 1e-4},
    ),
}
TRAINS_UNDER_TWO = {  # recipes with batch-norm (per-rank statistics), Q heads, labels, encoders, packing
    recipe: (recipe, {"train.steps": 2}) for recipe in ("infogan", "cgan", "mdgan", "pacgan2")
}
BUDGET = {"time-budget": ("nsgan", MLP | {"train.time_budget": 1.0, "train.steps": 1})}
WATCH = {"watch": ("lsgan", {"train.steps": 4, "train.watch_every": 1, "train.watch_stop": 1})}
# fp32, not auto: compared with runs of this process, which read tests/conftest.py's stand-in for the precision probe
TRIALS = {"trials": ("nsgan", {"train.trials": 3, "train.trials_mode": "sequential", "train.precision": "fp32"})}


def bad_starts(tmp: Path) -> list[list[str]]:
    """A batch the world size does not divide, different configs, a run folder rank 1 cannot see (all under
    TMP/bad-runs), weights or random states that differ: each must fail on every rank."""
    cfg, runs = config_file(tmp, "nsgan", "nsgan", **MLP), tmp / "bad-runs"
    return [
        gankit_train(cfg, runs / "odd", "--batch-size", "15"),
        gankit_train(cfg, runs / "seeds", "--seed", "{rank}"),
        gankit_train(cfg, runs / "rank{rank}" / "run"),  # each rank its own folder: not shared
        ["check-consistency"],
        ["check-streams"],
    ]


def split(ranks: list[dict], n: int) -> tuple[list[dict], list[dict]]:
    """Each rank's results of a job's first ``n`` commands, and of the rest."""
    return [r | {"commands": r["commands"][:n]} for r in ranks], [r | {"commands": r["commands"][n:]} for r in ranks]


@pytest.fixture(scope="module")
def two_ranks_job(tmp_path_factory) -> tuple[Path, list[dict], list[dict]]:
    """One torchrun job (each job starts 3 interpreters that import torch: seconds): the runs of EQUIVALENCE,
    TRAINS_UNDER_TWO, BUDGET, WATCH and TRIALS, a 1-process run resumed by 2 ranks, then the bad starts, which
    share its process group after the runs (as they share one with each other). Each rank's results of the runs,
    and of the bad starts."""
    tmp = tmp_path_factory.mktemp("two-ranks")
    runs = EQUIVALENCE | TRAINS_UNDER_TWO | BUDGET | WATCH | TRIALS
    commands = [gankit_train(config_file(tmp, name, r, **o), tmp / "runs" / name) for name, (r, o) in runs.items()]
    train(tiny("nsgan", **MLP | {"train.steps": 3}), tmp / "runs" / "regrouped", echo=False)  # 1 process
    commands.append(["train", "--resume", str(tmp / "runs" / "regrouped"), "--steps", "6"])
    return tmp, *split(torchrun(tmp, commands + bad_starts(tmp)), len(commands))


@pytest.fixture(scope="module")
def two_ranks(two_ranks_job) -> tuple[Path, list[dict]]:
    """The runs of EQUIVALENCE, TRAINS_UNDER_TWO, BUDGET, WATCH and TRIALS under 2 ranks."""
    tmp, ranks, _ = two_ranks_job
    return tmp, ranks


@pytest.mark.slow
@pytest.mark.parametrize("name", EQUIVALENCE)
def test_two_ranks_with_half_batches_train_as_one_process_with_the_whole(two_ranks, name, tmp_path):
    """(a) 2 ranks × B/2 end with 1 process × B's weights (rtol 1e-5, atol 1e-6) after several steps; far
    from their start, and far from a run with batch B/2 (what unsynchronised ranks would each compute)."""
    tmp, ranks = two_ranks
    succeeded(ranks)
    recipe, overrides = EQUIVALENCE[name]
    cfg = tiny(recipe, **overrides)
    train(cfg, tmp_path / "one", echo=False)
    train(cfg.override({"train.batch_size": cfg.train.batch_size // 2}), tmp_path / "half", echo=False)
    one, two = weights(final_state(tmp_path / "one")), weights(final_state(tmp / "runs" / name))
    alone = weights(final_state(tmp_path / "half"))
    for key in one:
        torch.testing.assert_close(two[key], one[key], rtol=RTOL, atol=ATOL, msg=lambda m, k=key: f"{k}: {m}")
    gap = max((one[k] - alone[k]).abs().max().item() for k in one)
    assert gap > 1000 * ATOL  # the comparison could fail: a rank training alone ends elsewhere


@pytest.mark.slow
@pytest.mark.parametrize("name", TRAINS_UNDER_TWO)
def test_infogan_cgan_mdgan_and_pacgan_train_under_two_ranks(two_ranks, name):
    """(b) InfoGAN (Q head, codes) and CGAN (labels) train under 2 ranks, weights checked equal at every step."""
    tmp, ranks = two_ranks
    succeeded(ranks)
    state = final_state(tmp / "runs" / name)
    assert state["step"] == TRAINS_UNDER_TWO[name][1]["train.steps"] and state["world_size"] == 2
    assert all(torch.isfinite(v).all() for v in weights(state).values())


@pytest.mark.slow
def test_a_one_process_run_resumed_by_two_continues_the_same_run(two_ranks, tmp_path):
    """Another world size may resume a run: 3 steps by 1 process, then 3 by 2 ranks = 6 by 1 (rtol 1e-5)."""
    tmp, ranks = two_ranks
    succeeded(ranks)
    run = tmp / "runs" / "regrouped"
    assert "1 process(es) trained it so far, 2 now: the same run" in (run / "log.txt").read_text()
    train(tiny("nsgan", **MLP), tmp_path / "one", echo=False)
    one, regrouped = weights(final_state(tmp_path / "one")), weights(final_state(run))
    for key in one:
        torch.testing.assert_close(regrouped[key], one[key], rtol=RTOL, atol=ATOL, msg=lambda m, k=key: f"{k}: {m}")
    assert final_state(run)["world_size"] == 2 and final_state(run)["step"] == 6


@pytest.mark.slow
def test_a_time_budget_ends_every_rank_at_rank_0s_step(two_ranks):
    """Rank 0's clock decides when every rank stops (a rank that stopped alone would leave the other waiting)."""
    tmp, ranks = two_ranks
    succeeded(ranks)
    state = final_state(tmp / "runs" / "time-budget")
    assert state["step"] > 1  # train.steps=1 was ignored: the budget ended the run, on both ranks at once


CLI_RUN = {"train.steps": 8, "train.checkpoint_every": 4, "train.keep_checkpoints": 3, "train.sample_at": (0, 4)}


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory) -> tuple[Path, list[dict]]:
    """An uninterrupted 2-rank run of `gankit train` (cgan: labels, batch-norm), then in the same job (one
    startup) 4 steps and `gankit train --resume RUN --steps 8` of it; rank 1 watched for writes throughout."""
    tmp = tmp_path_factory.mktemp("cli")
    cfg = config_file(tmp, "cgan", "cgan", **CLI_RUN)
    half = config_file(tmp, "cgan-half", "cgan", **CLI_RUN | {"train.steps": 4})
    split_run = tmp / "runs" / "split"
    commands = [gankit_train(cfg, tmp / "runs" / "straight"), gankit_train(half, split_run)]
    commands.append(["train", "--resume", str(split_run), "--steps", "8"])
    return tmp, torchrun(tmp, commands, "--watch", str(tmp / "runs"))


@pytest.mark.slow
def test_only_rank_0_writes_files(cli_run, tmp_path):
    """(c) rank 1 writes nothing (audit hooks on its opens, mkdirs, renames) and prints nothing; the folder
    holds what a one-process run writes, once (one TensorBoard file, one record per logged step)."""
    tmp, ranks = cli_run
    succeeded(ranks)
    rank1 = next(r for r in ranks if r["rank"] == 1)
    assert rank1["writes"] == [] and [c["stderr"] for c in rank1["commands"]] == ["", "", ""]
    run = tmp / "runs" / "straight"
    single = tmp_path / "single"
    train(tiny("cgan", **{"train.ddp_check_every": 1, **CLI_RUN}), single, echo=False)

    def listing(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if "events.out" not in p.name}

    assert listing(run) == listing(single)
    assert len(list(run.glob("events.out.tfevents.*"))) == len(list(single.glob("events.out.tfevents.*"))) <= 1
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) == [2, 4, 6, 8]
    log = (run / "log.txt").read_text()
    assert log.count(": recipe cgan,") == 1 and log.count("done: step 8") == 1 and "2 processes" in log


@pytest.mark.slow
def test_resume_under_torchrun_equals_an_uninterrupted_run(cli_run):
    """(d) 4 steps, then `gankit train --resume RUN --steps 8`, both under 2 ranks: bit-identical weights,
    optimiser state and counters to the uninterrupted 8 steps."""
    tmp, ranks = cli_run
    succeeded(ranks)
    log = (tmp / "runs" / "split" / "log.txt").read_text()
    assert "from step-00000004 (step 4)" in log and log.count("done: step 8") == 1
    assert_same_checkpoint(final_state(tmp / "runs" / "split"), final_state(tmp / "runs" / "straight"))


@pytest.fixture(scope="module")
def killed_twice(tmp_path_factory) -> tuple[Path, list[dict]]:
    """One 2-rank run of `gankit train` (cgan, as ``cli_run``'s) under --max-restarts 2 whose rank 1 is SIGKILLed
    twice: in attempt 0 as it starts step 5 while rank 0 still writes step 4's checkpoint (slowed by 3 s; no
    consistency check after step 4, a collective, so rank 1 gets there during the save), in attempt 1 (resumed
    from step 4) as it starts step 7. One job for both kill points: each job starts torchrun and two ranks per
    attempt (seconds of imports each)."""
    tmp = tmp_path_factory.mktemp("killed")
    cfg = config_file(tmp, "cgan", "cgan", **CLI_RUN | {"train.ddp_check_every": 0})
    run = tmp / "runs" / "killed"
    return run, torchrun(tmp, [gankit_train(cfg, run)], "--kill-at-step", "4,6", "--slow-save", "3.0", restarts=2)


@pytest.mark.slow
@pytest.mark.parametrize("attempt,kill_at", [(1, 6), (0, 4)], ids=["in-a-step", "in-a-checkpoint"])
def test_a_killed_worker_is_restarted_and_the_run_resumes_by_itself(cli_run, killed_twice, attempt, kill_at):
    """(e) rank 1 is SIGKILLed as it starts a step (``killed_twice``): rank 0 says it lost its peer (or that
    torchrun stopped it), torchrun restarts both ranks, which resume from the step-4 checkpoint without --resume,
    and the run finishes at step 8 with the uninterrupted run's weights. The restarted ranks must not read the
    dead attempt's addresses from torchrun's shared store (pytorch #135712): under load this failed 3 times in 4
    before ``attempt_store``. In a checkpoint: torchrun's SIGTERM reaches rank 0 inside the write, which it
    finishes, then stops with one line naming it (before ``gankit.signals``: rank 0 died at once, silent, leaving
    ``.tmp-step-00000004-PID``)."""
    run, ranks = killed_twice
    killed, last = ([r for r in ranks if r["attempt"] == a] for a in (attempt, 2))
    assert all(r["rank"] == 0 for r in killed) and sorted(r["rank"] for r in last) == [0, 1], ranks
    assert max(r["attempt"] for r in ranks) == 2  # each kill cost one restart
    lost = f"gankit: error: rank 0 of 2 lost contact with the other processes at step {kill_at} ("
    stopped = (
        "gankit: stopped by SIGTERM from torchrun (it stops every worker when one of them dies, or when it is "
        f"stopped): rank 0 of 2 at step {kill_at}; the run keeps its last checkpoint, {run / 'checkpoints'}"
        "/step-00000004; `gankit train --resume"
    )
    commands = [c for r in killed for c in r["commands"]]
    if attempt == 0:  # in a checkpoint
        assert [(c["code"], c["stderr"][: len(stopped)]) for c in commands] == [(143, stopped)]
    for c in commands:  # rank 0: one line, whichever came first
        assert (c["code"], c["stderr"][: len(lost)]) == (2, lost) or (c["code"], c["stderr"][: len(stopped)]) == (
            143,
            stopped,
        )
        assert c["stderr"].count("\n") == 1
    succeeded(last)
    log = (run / "log.txt").read_text()
    assert log.count("from step-00000004 (step 4)") == 2 and log.count("done: step 8") == 1
    assert "left by a crash" not in log  # the killed attempts left no temporary folder for the next to remove
    assert_same_checkpoint(final_state(run), final_state(cli_run[0] / "runs" / "straight"))


def assert_same_checkpoint(a: dict, b: dict) -> None:
    assert a["step"] == b["step"] == 8 and a["images_seen"] == b["images_seen"]
    for key in ("generator", "discriminator"):
        for name, value in a[key].items():
            assert torch.equal(value, b[key][name]), f"{key}.{name} differs"
    for key in ("g_optimizer", "d_optimizer"):
        for i, slots in a[key]["state"].items():
            for slot, value in slots.items():
                assert torch.equal(value, b[key]["state"][i][slot]), f"{key} {i}.{slot} differs"


@pytest.mark.slow
def test_bad_starts_fail_on_every_rank_with_one_message_and_write_nothing(two_ranks_job):
    """A batch the world size does not divide, different configs, a run folder rank 1 cannot see, weights or
    random states that differ (``bad_starts``): `gankit: error:` from rank 0 only (rank 1 stays quiet), exit 2,
    no run folder."""
    tmp, _, ranks = two_ranks_job
    runs = tmp / "bad-runs"
    assert sorted(r["rank"] for r in ranks) == [0, 1], ranks[0]["torchrun_stderr"]
    rank0, rank1 = sorted(ranks, key=lambda r: r["rank"])
    assert [c["code"] for c in rank0["commands"]] == [c["code"] for c in rank1["commands"]] == [2] * 5
    messages = [c["stderr"] for c in rank0["commands"]]
    assert all(m.startswith("gankit: error: ") and m.count("\n") == 1 for m in messages)
    assert "train.batch_size=15 is the global batch" in messages[0] and "multiple of 2" in messages[0]
    assert "different configs: train.seed differ (ranks 1 vs rank 0)" in messages[1]
    assert "is not shared: rank 1 on" in messages[2]
    assert "rank 1: critic.0.bias" in messages[3] and "step 7" in messages[3]
    assert "rank(s) 1 drew different random numbers or data than rank 0 by step 3" in messages[4]
    assert [c["stderr"] for c in rank1["commands"][:3]] == ["", "", ""]
    assert not runs.exists() or not any(p.is_file() for p in runs.rglob("*"))


@pytest.mark.slow
def test_an_unreachable_rendezvous_fails_within_the_timeout(tmp_path, monkeypatch, capsys):
    """Rank 1 of 2 with nobody at MASTER_ADDR:MASTER_PORT: one error line within ~2 tries of train.ddp_timeout."""
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    cfg = config_file(tmp_path, "nsgan", "nsgan", **MLP | {"train.ddp_timeout": 1})
    assert main(gankit_train(cfg, tmp_path / "run")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert [line for line in err if line.startswith("gankit: error:")] == err[-1:]
    assert f"could not join the process group at 127.0.0.1:{port} within 1 s" in err[-1]
    assert not (tmp_path / "run").exists()


def test_torchrun_needs_a_run_dir(monkeypatch, capsys):
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["train", "--recipe", "nsgan"]) == 2
    assert "under torchrun give --run-dir" in capsys.readouterr().err


def test_world_shares_of_the_global_batch():
    """The world size must divide the global batch; each rank computes its share."""
    assert World(1, 4).check_batch(tiny("nsgan", **{"train.batch_size": 32})) == 8
    assert World().check_batch(tiny("pacgan2", **{"train.batch_size": 12, "model.pack": 4})) == 12  # one process
    with pytest.raises(ConfigError, match="multiple of 4 \\(e.g. 32\\)"):
        World(0, 4).check_batch(tiny("nsgan", **{"train.batch_size": 34}))
    with pytest.raises(ConfigError, match="model.pack=4 cannot split into packs: use a multiple of 8"):
        World(0, 2).check_batch(tiny("pacgan2", **{"train.batch_size": 12, "model.pack": 4}))


def test_sync_batchnorm_is_refused_on_the_cpu(tmp_path):
    with pytest.raises(ConfigError, match="train.sync_batchnorm needs CUDA"):
        train(tiny("dcgan", **{"train.sync_batchnorm": True}), tmp_path / "run", echo=False)
    assert not (tmp_path / "run").exists()


def test_a_single_process_world_is_free():
    """Outside torchrun: no process group, no gradient hook (the one-process step is unchanged), no-op checks."""
    world = World()
    assert not world.distributed and world.gradient_sync() is None and world.is_main
    assert world.settle(lambda: 3) == 3 and world.gather("x") == ["x"]
    with pytest.raises(DistributedError, match="boom"):
        world.settle(lambda: (_ for _ in ()).throw(DistributedError("boom")))


@pytest.mark.parametrize(
    "recipe,extra,order",
    [
        ("nsgan", {"train.scheme": "alternating"}, ["d", "g"]),
        ("wgan-gp", MLP | {"model.arch": "mlp", "train.n_critic": 2}, ["d", "d", "g"]),  # the penalty: in D's backward
        ("nsgan", {"train.scheme": "extragradient"}, ["d", "g", "d", "g"]),
    ],
)
def test_each_players_gradients_are_synchronised_once_per_backward(recipe, extra, order):
    """GAN.backward hands each player's optimiser to the sync once, after its backward, before any step."""
    from gankit.training.state import build_training

    training = build_training(tiny(recipe, **extra), log=lambda _: None)
    gan, calls = training.gan, []
    names = {id(gan.d_optimizer): "d", id(gan.g_optimizer): "g"}

    def sync(optimizer):
        grads = [p.grad for g in optimizer.param_groups for p in g["params"]]
        assert any(g is not None for g in grads)  # after the backward pass
        calls.append(names[id(optimizer)])

    gan.sync = sync
    training.train_step()
    assert calls == order


def test_each_restart_attempt_gets_its_own_keys_in_torchruns_shared_store(monkeypatch):
    """pytorch #135712: torchrun hands every attempt the same store; a restarted rank must not read the keys
    (peer addresses) of the attempt that died."""
    from datetime import timedelta

    from gankit.training.distributed import attempt_store

    assert attempt_store(2, timedelta(seconds=5)) is None  # not under torchrun's agent store: torch's default
    server = torch.distributed.TCPStore("127.0.0.1", 0, 1, is_master=True, timeout=timedelta(seconds=5))
    env = {"TORCHELASTIC_USE_AGENT_STORE": "True", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(server.port)}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    stores = []
    for attempt in ("0", "1"):
        monkeypatch.setenv("TORCHELASTIC_RESTART_COUNT", attempt)
        stores.append(attempt_store(2, timedelta(seconds=5)))
    stores[0].set("rank_1", "dead worker's address")
    assert server.get("gankit/attempt-0/rank_1") == b"dead worker's address"
    assert not stores[1].check(["rank_1"])
    stores[1].set("rank_1", "new address")
    assert stores[1].get("rank_1") == b"new address" and stores[0].get("rank_1") == b"dead worker's address"


def test_a_lost_peer_is_told_apart_from_other_errors():
    from gankit.training.distributed import is_lost_peer, lost_peer_reason

    gloo = RuntimeError(
        "[/__w/pytorch/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:537] Read error [127.0.0.1]:41650: "
        "Connection reset by peer. This is typically caused by a remote worker hanging or bugs in the application."
    )
    assert is_lost_peer(gloo) and lost_peer_reason(gloo) == "Read error [127.0.0.1]:41650: Connection reset by peer"
    assert not is_lost_peer(RuntimeError("mat1 and mat2 shapes cannot be multiplied (4x3 and 2x2)"))
    world = World(0, 2, backend="gloo")
    lost = r"rank 0 of 2 lost contact .* at step 6 \(Read error .*by peer\)"
    with pytest.raises(DistributedError, match=lost), world.watching_peers(lambda: 6):
        raise gloo
    with pytest.raises(RuntimeError, match="mat1"), world.watching_peers(lambda: 6):  # a bug stays a bug
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")


def test_multi_node_elastic_runs_on_a_shared_store_are_warned(monkeypatch):
    from gankit.training.distributed import elastic_store_warning

    env = {"WORLD_SIZE": "16", "LOCAL_WORLD_SIZE": "8", "TORCHELASTIC_MAX_RESTARTS": "3"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("TORCHELASTIC_USE_AGENT_STORE", "True")
    assert "TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1" in elastic_store_warning()
    monkeypatch.setenv("TORCHELASTIC_USE_AGENT_STORE", "False")  # torchrun was launched with it: a store per attempt
    assert elastic_store_warning() is None
    monkeypatch.setenv("TORCHELASTIC_USE_AGENT_STORE", "True")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "16")  # one node: the restart count is the same for every worker
    assert elastic_store_warning() is None
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "8")
    monkeypatch.setenv("TORCHELASTIC_MAX_RESTARTS", "0")  # never restarted
    assert elastic_store_warning() is None


@pytest.mark.slow
def test_the_collapse_watch_runs_on_rank_0_and_every_rank_votes_at_its_steps(two_ranks):
    """With train.watch_stop on, the ranks agree at every check whether to stop (a vote rank 0 skipped, or made
    alone, would leave the others waiting); rank 0 writes the watch's keys into each check step's record."""
    tmp, ranks = two_ranks
    succeeded(ranks)
    records = [json.loads(line) for line in (tmp / "runs" / "watch" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r.get("watch_kind") == "classes"] == [1, 2, 3, 4]


@pytest.mark.slow
def test_trials_split_over_torchrun_processes_are_the_runs_of_their_seeds(two_ranks, tmp_path):
    """A trials job under 2 ranks (``gankit.trials.runner``): rank 0 trains trials 0 and 2, rank 1 trial 1, each
    the one-trial run of its seed."""
    from tests.trials.test_runner import records, same_state, tensors

    tmp, ranks = two_ranks
    succeeded(ranks)
    run = tmp / "runs" / "trials"
    log = (run / "log.txt").read_text()
    assert "3 trials of nsgan, seeds 0–2, one after another" in log and "on 2 processes" in log
    ended = sorted((r["trial"], r["status"], r["step"]) for r in map(json.loads, (run / "trials.jsonl").open()))
    assert ended == [(k, "done", 4) for k in range(3)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as torchrun's processes compute (OMP_NUM_THREADS=1): the same kernels, the same bits
    try:
        for k in range(3):  # each trial trained alone on its rank (rank 0: trials 0 and 2; rank 1: trial 1)
            single = tmp_path / f"seed{k}"
            cfg = tiny("nsgan", **{"train.seed": k, "train.ddp_check_every": 1, "train.precision": "fp32"})
            train(cfg, single, echo=False)
            assert records(run / f"trial-0{k}") == records(single), k
            assert same_state(tensors(run / f"trial-0{k}"), tensors(single)), k
    finally:
        torch.set_num_threads(threads)
