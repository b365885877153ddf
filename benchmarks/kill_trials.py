"""Kill trials: SIGKILL a small run at many moments, then check that nothing was lost (issue 14).

Each trial starts ``gankit train`` on toy 2-D data (a checkpoint every 2 steps, 2 kept, so that most
checkpoints prune an older one) and kills it with SIGKILL: at a named point inside the start, checkpoint
writing or pruning (``GANKIT_FAULT_POINT``, see ``gankit.store.faults``), or at a random moment. Then it checks:

* every checkpoint folder loads (``state_schema.read_state``) or is absent: none named ``step-…`` is incomplete;
* the run continues (``--resume``, or the same ``--run-dir`` again when the kill came before config.json)
  and exits 0;
* after that, no temporary folder or file is left;
* the final checkpoint equals, tensor for tensor (``torch.equal``: weights, optimiser moments, RNG and sampler
  states), that of a run that was never killed;
* the TensorBoard event files hold no (tag, step) twice (a resumed run purges what the dead one logged after
  its checkpoint).

Sample trials (``--sample-trials``, part of ``--trials``) kill ``gankit sample RUN --out DIR/samples.npz`` of the
straight run at a random moment, then check that the folder holds no temporary file and no partial output (each
file there is one that a sampling never killed writes, and reads back equal to it), sample again and check
the same.

Every run is a real process, forked by a "zygote" process that has imported gankit once (a run starts in
milliseconds instead of the seconds an interpreter takes to import torch), so that many trials fit in a
minute. The suite runs a short version (tests/benchmarks/test_kill_trials.py); docs/robustness.md holds
the last result of the long one, with its exact command::

    python benchmarks/kill_trials.py --trials 120 --seed 0 [--sample-trials 20] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gankit.errors import CheckpointError
from gankit.store.checkpoint import CHECKPOINT_NAME, flatten_state, list_checkpoints
from gankit.store.faults import POINTS
from gankit.store.state_schema import read_state

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
from benchmarks import md

STEPS = 40  # of each run (the suite's short version trains fewer: ``kill_trials(steps=…)``)
RUN_ARGS = [
    "--recipe",
    "nsgan",
    "--data",
    "ring8",
    "--batch-size",
    "16",
    "--no-progress",
    *("--set", "data.toy_points=512"),
    *("--set", "model.latent_dim=2"),
    *("--set", "model.g_width=16"),
    *("--set", "model.d_width=16"),
    *("--set", "train.checkpoint_every=2"),
    *("--set", "train.keep_checkpoints=2"),
    *("--set", "train.log_every=1"),
    *("--set", "train.sample_at=0"),
    *("--set", "train.grid_size=64"),
    *("--set", "train.tensorboard=true"),
]
RANDOM_SPAN = 0.9  # random kill moments fall in the first 90% of a straight run's time
SAMPLES = 400_000  # points that a sample trial writes (about 3 MB: the writing takes most of its time)
SAMPLE_TRIALS = 20  # of the trials, by default


@dataclass
class Outcome:
    killed: bool  # ended by SIGKILL
    code: int  # exit code (or the signal number)
    seconds: float


class Zygote:
    """A Python process that has imported gankit and forks one child process per run it is given."""

    def __init__(self) -> None:
        paths = [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]
        env = os.environ | {"PYTHONPATH": os.pathsep.join(p for p in paths if p)}
        env.pop("GANKIT_FAULT_POINT", None)
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--zygote"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )

    def run(self, argv: list[str], log: Path, fault: str | None = None, kill_after: float | None = None) -> Outcome:
        """Run ``gankit ARGV`` in a fresh child (armed with ``fault``, or killed after ``kill_after`` seconds)."""
        job = {"argv": argv, "log": str(log), "fault": fault, "kill_after": kill_after}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            raise RuntimeError("the zygote process died")
        return Outcome(**json.loads(reply))

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def zygote() -> None:
    """The zygote's loop: one JSON job per line on stdin, one Outcome per line on stdout."""
    import importlib

    from gankit import cli  # imported once, with what a run imports; no torch work runs here, so forking is safe

    modules = ("torch._dynamo", "gankit.training.trainer", "gankit.images", "gankit.data", "matplotlib.figure")
    for name in (*modules, "gankit.sample", "torch.utils.tensorboard"):
        importlib.import_module(name)

    for line in sys.stdin:
        job = json.loads(line)
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            _child(cli.main, job)
        status = _wait(pid, job["kill_after"], start)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        code = os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(json.dumps(asdict(Outcome(killed, code, time.perf_counter() - start))), flush=True)


def _wait(pid: int, kill_after: float | None, start: float) -> int:
    """The child's wait status, once it has ended (killed with SIGKILL ``kill_after`` seconds after ``start``)."""
    if kill_after is not None:
        while time.perf_counter() - start < kill_after:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            time.sleep(0.002)
        os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


def _child(main, job: dict) -> None:
    fd = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    if job["fault"]:
        os.environ["GANKIT_FAULT_POINT"] = job["fault"]
    code = 1
    try:
        code = main(job["argv"])
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


@dataclass
class Trial:
    kind: str  # "point" or "random" (`gankit train`), or "sample" (`gankit sample`, at a random moment)
    fault: str | None = None
    kill_after: float | None = None
    killed: bool = False
    checkpoints: int = 0  # complete checkpoints the kill left (0: killed before the first one)
    unreadable: list[str] = field(default_factory=list)  # checkpoint folders that did not load after the kill
    continued: bool = False  # the continuation (resume, or sampling again) exited 0
    leftovers: list[str] = field(default_factory=list)  # temporary names after the continuation
    equal: bool = False  # final checkpoint (samples) equal to the straight run's
    duplicate_events: int = 0  # TensorBoard (tag, step) pairs stored more than once after the continuation
    left_by_kill: list[str] = field(default_factory=list)  # sample trials: temporary names right after the kill
    partial: list[str] = field(default_factory=list)  # sample trials: outputs after the kill not equal to whole ones
    note: str = ""

    @property
    def failed(self) -> bool:
        """Whether anything is lost or left over once the command ran again. A temporary file right after a
        SIGKILL (``left_by_kill``) is counted but is no failure: nothing can remove a file when its process is
        SIGKILLed; the next write into that folder removes it (``gankit.store.tempfiles``), and ``leftovers``
        counts what is still there after it."""
        problems = self.unreadable or self.leftovers or self.duplicate_events or self.partial
        return bool(problems) or not (self.continued and self.equal)


def run_args(steps: int) -> list[str]:
    """``gankit train``'s arguments for a run of ``steps`` steps (a checkpoint every 2)."""
    return [*RUN_ARGS, "--steps", str(steps)]


def plan(trials: int, seed: int, seconds: float, steps: int = STEPS) -> list[Trial]:
    """Every fault point at spread-out occurrences, then random moments up to ``trials`` in all (of `gankit train`)."""
    rng = random.Random(seed)
    saves = steps // 2  # checkpoints written by a straight run; pruning starts at the third
    nths = {"start": [1], "save": [1, 2, 3, saves // 2, saves], "prune": [1, 2, saves // 2, saves - 2]}
    planned = [Trial("point", f"{p}@{n}") for p in POINTS for n in nths[p.split(":")[0]]]
    if trials < len(planned):  # a short run: every point once, each at an occurrence drawn by the seed
        by_point = {}
        for t in planned:
            by_point.setdefault(t.fault.split("@")[0], []).append(t)
        planned = [rng.choice(group) for group in by_point.values()][:trials]
    planned += [Trial("random", kill_after=rng.uniform(0.0, seconds)) for _ in range(trials - len(planned))]
    return planned


def inspect(run: Path) -> list[str]:
    """The checkpoint folders of ``run`` that are named as checkpoints but do not load."""
    folder, bad = run / "checkpoints", []
    listed = set(list_checkpoints(folder))
    for p in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not CHECKPOINT_NAME.fullmatch(p.name):
            continue
        try:
            if p not in listed:
                raise CheckpointError("incomplete, yet named as a checkpoint")
            read_state(p)
        except CheckpointError as e:
            bad.append(f"{p.name}: {e}")
    return bad


def leftovers(run: Path) -> list[str]:
    """Names that only a crash leaves: temporary, replaced or half-deleted checkpoints, files being written
    (``config.json``, a TensorBoard file being purged)."""
    folder = run / "checkpoints"
    names = [p.name for p in folder.iterdir() if not CHECKPOINT_NAME.fullmatch(p.name)] if folder.is_dir() else []
    names += [p.name for p in run.iterdir() if p.name.startswith(".") and "tmp" in p.name] if run.is_dir() else []
    return names


def duplicate_events(run: Path) -> int:
    """(tag, step) pairs stored more than once in the run's TensorBoard event files, as the files hold them."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    files = sorted(run.glob("events.out.tfevents.*"))
    pairs = [(v.tag, e.step) for f in files for e in EventFileLoader(str(f)).Load() for v in e.summary.value]
    return len(pairs) - len(set(pairs))


def final_tensors(run: Path) -> tuple[int, dict[str, torch.Tensor]]:
    state = read_state(list_checkpoints(run / "checkpoints")[-1])
    return state["step"], flatten_state(state)[0]


def same(a: tuple[int, dict[str, torch.Tensor]], b: tuple[int, dict[str, torch.Tensor]]) -> bool:
    return a[0] == b[0] and a[1].keys() == b[1].keys() and all(torch.equal(a[1][k], b[1][k]) for k in a[1])


def run_trial(
    zyg: Zygote, trial: Trial, work: Path, reference: tuple[int, dict[str, torch.Tensor]], steps: int = STEPS
) -> Trial:
    run, log = work / "run", work / "log.txt"
    start = ["train", "--run-dir", str(run), *run_args(steps)]
    outcome = zyg.run(start, log, fault=trial.fault, kill_after=trial.kill_after)
    trial.killed = outcome.killed
    if not outcome.killed and outcome.code != 0:
        trial.note = f"the first run exited {outcome.code}"
    trial.unreadable = inspect(run)
    trial.checkpoints = len(list_checkpoints(run / "checkpoints"))
    again = ["train", "--resume", str(run), "--no-progress"] if (run / "config.json").is_file() else start
    trial.continued = zyg.run(again, log).code == 0
    trial.leftovers = leftovers(run)
    trial.duplicate_events = duplicate_events(run)
    trial.equal = trial.continued and same(final_tensors(run), reference)
    if not (trial.continued and trial.equal):
        trial.note += " | " + log.read_text()[-2000:]
    return trial


def sample_args(run: Path, out: Path) -> list[str]:
    return ["sample", str(run), "-n", str(SAMPLES), "--out", str(out / "samples.npz")]


def read_outputs(folder: Path) -> dict[str, object]:
    """Each file of a sample output folder, read back: an .npz's arrays, a PNG's pixels (None: unreadable)."""
    found: dict[str, object] = {}
    for p in sorted(folder.iterdir()):
        try:
            if p.suffix == ".npz":
                with np.load(p) as archive:
                    found[p.name] = {k: archive[k] for k in archive.files}
            else:
                with Image.open(p) as image:
                    found[p.name] = np.asarray(image)
        except Exception:  # a partial file: whatever fails to read it
            found[p.name] = None
    return found


def equal_outputs(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)


def check_samples(folder: Path, straight: dict[str, object]) -> tuple[list[str], list[str]]:
    """(temporary names, partial outputs) in ``folder``: a name a straight sampling does not write is a leftover;
    one it writes must read back equal, and either all of its outputs are there or none."""
    found = read_outputs(folder)
    temporary = sorted(set(found) - set(straight))
    partial = [name for name in straight if name in found and not equal_outputs(found[name], straight[name])]
    if 0 < len(set(found) & set(straight)) < len(straight):
        partial.append("only " + ", ".join(sorted(set(found) & set(straight))))
    return temporary, partial


def run_sample_trial(zyg: Zygote, trial: Trial, work: Path, run: Path, straight: dict[str, object]) -> Trial:
    out, log = work / "out", work / "log.txt"
    out.mkdir()
    outcome = zyg.run(sample_args(run, out), log, kill_after=trial.kill_after)
    trial.killed = outcome.killed
    if not outcome.killed and outcome.code != 0:
        trial.note = f"the first sampling exited {outcome.code}"
    trial.left_by_kill, trial.partial = check_samples(out, straight)
    trial.continued = zyg.run(sample_args(run, out), log).code == 0
    trial.leftovers, again_partial = check_samples(out, straight)
    trial.equal = trial.continued and not again_partial and set(read_outputs(out)) == set(straight)
    if trial.failed:
        trial.note += " | " + log.read_text()[-2000:]
    return trial


@dataclass
class Summary:
    trials: int
    killed: int
    at_points: int
    before_first_checkpoint: int
    unreadable_checkpoints: int
    failed_continuations: int
    leftovers_after_continuing: int
    duplicate_events: int
    equal_to_straight_run: int
    sample_trials: int
    samples_killed: int
    samples_left_by_kill: int
    samples_partial: int
    samples_failed_again: int
    samples_leftovers_after_again: int
    samples_equal: int
    seconds: float

    def table(self) -> str:
        train = self.trials - self.sample_trials
        rows = [
            ("`gankit train` trials", train),
            ("… killed inside the start, checkpoint writing or pruning (fault points)", self.at_points),
            ("… killed at a random moment", self.killed - self.at_points),
            ("… not killed (the random moment came after the run ended)", train - self.killed),
            ("killed before the first checkpoint (of those killed)", self.before_first_checkpoint),
            ("unreadable checkpoints after a kill", self.unreadable_checkpoints),
            ("failed continuations (resume, or a restart with the same --run-dir)", self.failed_continuations),
            ("temporary leftovers after continuing", self.leftovers_after_continuing),
            ("TensorBoard (tag, step) pairs stored twice after continuing", self.duplicate_events),
            ("final checkpoint equal to a straight run's (torch.equal)", self.equal_to_straight_run),
            ("`gankit sample` trials (killed at a random moment)", self.sample_trials),
            ("… killed (the others had ended)", self.samples_killed),
            ("temporary files right after the kill", self.samples_left_by_kill),
            ("partial outputs after the kill", self.samples_partial),
            (
                "failed samplings again (exit status, or outputs not equal to a straight one's)",
                self.samples_failed_again,
            ),
            ("temporary files after sampling again", self.samples_leftovers_after_again),
            ("outputs equal to a straight sampling's after sampling again", self.samples_equal),
        ]
        return "\n".join(md.table(["", "count"], "lr", rows))


def kill_trials(
    trials: int, seed: int = 0, workdir: Path | None = None, steps: int = STEPS, sample_trials: int = SAMPLE_TRIALS
) -> tuple[Summary, list[Trial]]:
    """Run ``trials`` kill trials: ``sample_trials`` of them of `gankit sample`, the others of runs of ``steps``
    steps (at least 10: every fault point is reached at the occurrences ``plan`` picks); the summary and each."""
    if steps < 10 or steps % 2:
        raise ValueError(f"steps must be an even number from 10 (a checkpoint every 2 steps), got {steps}")
    if not 0 <= sample_trials <= trials:
        raise ValueError(f"sample_trials must be from 0 to trials ({trials}), got {sample_trials}")
    t0 = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="kill-trials-", dir=workdir))
    zyg = Zygote()
    try:
        # Two straight runs: the first child of the zygote pays one-off costs (lazy imports, first kernels) that
        # later runs do not, so random moments are drawn over the faster one, else some land after the run ended.
        seconds = []
        for name in ("straight", "straight-again"):
            outcome = zyg.run(["train", "--run-dir", str(root / name / "run"), *run_args(steps)], root / f"{name}.txt")
            if outcome.code != 0:
                raise RuntimeError(f"the {name} run failed:\n" + (root / f"{name}.txt").read_text()[-3000:])
            seconds.append(outcome.seconds)
        reference = final_tensors(root / "straight" / "run")
        if not same(reference, final_tensors(root / "straight-again" / "run")):
            raise RuntimeError("two straight runs of the same config ended with different weights")
        straight = root / "straight" / "run"
        sampled = []
        for name in ("sample", "sample-again"):  # as for the runs: random moments are drawn over the faster one
            (root / name).mkdir()
            outcome = zyg.run(sample_args(straight, root / name), root / f"{name}.txt")
            if outcome.code != 0:
                raise RuntimeError(f"the {name} sampling failed:\n" + (root / f"{name}.txt").read_text()[-3000:])
            sampled.append(outcome.seconds)
        samples = read_outputs(root / "sample")
        done = []
        planned = plan(trials - sample_trials, seed, RANDOM_SPAN * min(seconds), steps)
        rng = random.Random(seed + 1)
        planned += [
            Trial("sample", kill_after=rng.uniform(0.0, RANDOM_SPAN * min(sampled))) for _ in range(sample_trials)
        ]
        for i, trial in enumerate(planned):
            work = root / f"trial-{i:03d}"
            work.mkdir()
            if trial.kind == "sample":
                done.append(run_sample_trial(zyg, trial, work, straight, samples))
            else:
                done.append(run_trial(zyg, trial, work, reference, steps))
            if not done[-1].failed:
                shutil.rmtree(work)
    finally:
        zyg.close()
    runs, sampling = [t for t in done if t.kind != "sample"], [t for t in done if t.kind == "sample"]
    summary = Summary(
        trials=len(done),
        killed=sum(t.killed for t in runs),
        at_points=sum(t.killed and t.kind == "point" for t in runs),
        before_first_checkpoint=sum(t.killed and not t.checkpoints for t in runs),
        unreadable_checkpoints=sum(len(t.unreadable) for t in runs),
        failed_continuations=sum(not t.continued for t in runs),
        leftovers_after_continuing=sum(len(t.leftovers) for t in runs),
        duplicate_events=sum(t.duplicate_events for t in runs),
        equal_to_straight_run=sum(t.equal for t in runs),
        sample_trials=len(sampling),
        samples_killed=sum(t.killed for t in sampling),
        samples_left_by_kill=sum(len(t.left_by_kill) for t in sampling),
        samples_partial=sum(bool(t.partial) for t in sampling),
        samples_failed_again=sum(not t.equal for t in sampling),
        samples_leftovers_after_again=sum(len(t.leftovers) for t in sampling),
        samples_equal=sum(t.equal for t in sampling),
        seconds=round(time.perf_counter() - t0, 1),
    )
    if not any(t.note or t.failed for t in done):
        shutil.rmtree(root)
    return summary, done


def main() -> None:
    if sys.argv[1:] == ["--zygote"]:
        zygote()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--sample-trials",
        type=int,
        default=SAMPLE_TRIALS,
        help=f"of the trials, kills of `gankit sample` (default {SAMPLE_TRIALS})",
    )
    parser.add_argument("--json", type=Path, help="also write the summary and every trial to this file")
    args = parser.parse_args()
    summary, trials = kill_trials(args.trials, args.seed, sample_trials=args.sample_trials)
    print(summary.table())
    print(f"\n{summary.trials} trials in {summary.seconds:.0f} s (seed {args.seed})")
    for t in trials:
        if t.failed:
            problems = [t.unreadable, t.leftovers, t.duplicate_events, t.partial]
            print(f"FAILED {t.kind} {t.fault or f'{t.kill_after:.3f} s'}: {problems} {t.note}")
    if args.json:
        args.json.write_text(json.dumps({"summary": asdict(summary), "trials": [asdict(t) for t in trials]}, indent=1))


if __name__ == "__main__":
    main()
