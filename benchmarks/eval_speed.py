"""Time of `gankit eval` (10,000 samples) before and after the fast-evaluation changes, and its scores.

"Before" is the gankit package of a git revision (``--before``, default 8d6170b, the last commit before
them), extracted with ``git archive`` into a temporary folder; "after" is this checkout. Each variant runs
the real command line in a fresh process (imports included), with the reference-feature cache in a fresh
temporary folder (``GANKIT_CACHE_DIR``), so "cold" computes and writes the reference features and "warm"
reads them. The variants are run in turn, ``--repeats`` times, and the median wall time is reported with
the scores of the last repeat (seeded; float32 round-off in the convolutions can still move FID by ~1e-5
between processes, shown as the FID range over the repeats). A second run with ``--seed 1`` shows
how much the scores move with the samples alone, the scale against which the bf16 tolerance is set.
``--stages`` also times the stages in one process (generation, features, each metric) for both packages.

    python benchmarks/eval_speed.py RUN --data-dir ../shared/data/mnist
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository root, for `benchmarks.…`
from benchmarks import md

ROOT = Path(__file__).resolve().parent.parent
SCORES = ("fid", "kid", "precision", "recall", "density", "coverage", "classifier_score")
SHOWN = {"kid": 1e3}  # the tables show KID ×10³, as every table in docs/ does

# name → (package: "before" or "after", extra flags, fresh cache folder before the run)
VARIANTS = {
    "before (fp32, no cache)": ("before", [], True),
    "after, fp32, --no-cache": ("after", ["--precision", "fp32", "--no-cache"], True),
    "after, fp32, cold cache": ("after", ["--precision", "fp32"], True),
    "after, fp32, warm cache": ("after", ["--precision", "fp32"], False),
    "after, default (bf16), cold cache": ("after", [], True),
    "after, default (bf16), warm cache": ("after", [], False),
}


def extract_package(rev: str, dest: Path) -> Path:
    """The ``gankit`` folder of git revision ``rev``, written under ``dest``."""
    archive = subprocess.run(["git", "archive", rev, "gankit"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def run_eval(pythonpath: Path, cache: Path, run: str, data_dir: str, flags: list[str], out: Path) -> float:
    """Wall seconds of one `gankit eval` process; the result is written to ``out``. It runs in ``pythonpath``
    (``python -m`` puts the working folder first on ``sys.path``)."""
    env = os.environ | {"PYTHONPATH": str(pythonpath), "GANKIT_CACHE_DIR": str(cache)}
    run, data_dir = str(Path(run).resolve()), str(Path(data_dir).resolve())
    command = [sys.executable, "-m", "gankit", "eval", run, "--data-dir", data_dir, "--out", str(out), *flags]
    start = time.perf_counter()
    subprocess.run(command, cwd=pythonpath, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def stages(run: str, data_dir: str) -> dict[str, float]:
    """Seconds of each stage of an evaluation, in this process, with the gankit on ``sys.path``."""
    import torch

    from gankit.config import DataConfig
    from gankit.data import load_data
    from gankit.metrics.conditional import balanced_latents
    from gankit.metrics.extractors import load_extractor
    from gankit.metrics.fid import fid_from_features
    from gankit.metrics.kid import kernel_inception_distance
    from gankit.metrics.prdc import precision_recall_density_coverage
    from gankit.trained import load_generator

    times: dict[str, float] = {}

    def timed(name, fn):
        start = time.perf_counter()
        value = fn()
        times[name] = time.perf_counter() - start
        return value

    trained = load_generator(run)
    reference = load_data(DataConfig(name="mnist", dir=data_dir, split="test"), log=lambda _: None).x
    extractor = load_extractor("mnist")
    latent = balanced_latents(trained, 10_000, 0)
    fast = hasattr(extractor, "logits_from_features")  # the "after" package
    if fast:
        from gankit.metrics.precision import autocast, default_precision

        precision = default_precision("mnist")
        with torch.inference_mode(), autocast(precision):
            fake = timed("generation", lambda: trained.generate_from(latent))
        fake_features = timed("fake features", lambda: extractor.features(fake, precision))
        timed("fake logits", lambda: extractor.logits_from_features(fake_features))
        real_features = timed("real features (cold)", lambda: extractor.features(reference, precision))
    else:
        fake = timed("generation", lambda: trained.generate_from(latent))
        fake_features = timed("fake features", lambda: extractor.features(fake))
        timed("fake logits", lambda: extractor.logits(fake))
        real_features = timed("real features (cold)", lambda: extractor.features(reference))
    timed("fid", lambda: fid_from_features(real_features, fake_features))
    timed("kid", lambda: kernel_inception_distance(real_features, fake_features, 100, 1000, 0))
    timed("prdc", lambda: precision_recall_density_coverage(real_features, fake_features, 5))
    return times


def stage_times(pythonpath: Path, run: str, data_dir: str) -> dict[str, float]:
    env = os.environ | {"PYTHONPATH": str(pythonpath)}
    command = [sys.executable, str(Path(__file__).resolve()), run, "--data-dir", data_dir, "--stages-only"]
    return json.loads(subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout)


def _label(score: str) -> str:
    return f"{score} ×10³" if score in SHOWN else score


def _diff(a: float, b: float) -> str:
    return "0 (identical)" if a == b else f"{a - b:+.6f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="the run directory to evaluate")
    parser.add_argument("--data-dir", required=True, help="folder with the full MNIST IDX files")
    parser.add_argument("--before", default="8d6170b", help="git revision of the 'before' package")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stages", action="store_true", help="also time each stage in one process")
    parser.add_argument("--stages-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages_only:
        print(json.dumps(stages(args.run, args.data_dir)))
        return

    sys.path.insert(0, str(ROOT))
    import torch

    from gankit.metrics.precision import bf16_tolerance

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        paths = {"before": extract_package(args.before, tmp_path / "before"), "after": ROOT}
        assert not (paths["before"] / "gankit" / "metrics" / "feature_cache.py").exists(), "--before is too new"
        seconds: dict[str, list[float]] = {name: [] for name in VARIANTS}
        results: dict[str, dict] = {}
        fids: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for repeat in range(args.repeats):
            for i, (name, (package, flags, fresh)) in enumerate(VARIANTS.items()):
                cache = tmp_path / f"cache-{repeat}-{i if fresh else i - 1}"
                out = tmp_path / f"{i}.json"
                seconds[name].append(run_eval(paths[package], cache, args.run, args.data_dir, flags, out))
                results[name] = json.loads(out.read_text())
                fids[name].append(results[name]["metrics"]["fid"])
        seed1 = tmp_path / "seed1.json"
        run_eval(ROOT, tmp_path / "cache-seed1", args.run, args.data_dir, ["--seed", "1"], seed1)
        results["after, default (bf16), --seed 1"] = json.loads(seed1.read_text())
        stage_rows = {p: stage_times(paths[p], args.run, args.data_dir) for p in paths} if args.stages else None

    print(
        f"# gankit eval speed: torch {torch.__version__}, {platform.machine()}, {torch.get_num_threads()} threads; "
        f"run {args.run}, 10,000 samples vs the 10,000 MNIST test images; median of {args.repeats} repeats\n"
    )
    rows = []
    for name, result in results.items():
        p = result["protocol"]
        m = {k: result["metrics"][k] * SHOWN.get(k, 1) for k in SCORES}
        wall = f"{statistics.median(seconds[name]):.1f}" if name in seconds else "–"
        spread = f"{max(fids[name]) - min(fids[name]):.1e}" if name in fids else "–"
        source = p["reference"].get("features", "computed")
        rows.append([name, p.get("precision", "fp32"), source, wall, *(f"{m[k]:.4f}" for k in SCORES), spread])
    header = ["variant", "precision", "reference features", "wall s", *map(_label, SCORES), "FID range over repeats"]
    print("\n".join(md.table(header, "lllr" + "r" * (len(SCORES) + 1), rows)))

    fp32, bf16 = results["after, fp32, --no-cache"]["metrics"], results["after, default (bf16), warm cache"]["metrics"]
    seed1 = results["after, default (bf16), --seed 1"]["metrics"]
    before = results["before (fp32, no cache)"]["metrics"]
    rows = []
    for k in SCORES:
        delta, tol = bf16[k] - fp32[k], bf16_tolerance(k, fp32[k], 10_000)
        ok = "" if abs(delta) <= tol else " **outside**"
        x = SHOWN.get(k, 1)
        cells = [_label(k), f"{x * before[k]:.4f}", _diff(x * fp32[k], x * before[k]), f"{x * delta:+.5f}{ok}"]
        cells.append(f"{x * tol:.4f}")
        rows.append([*cells, f"{x * (seed1[k] - bf16[k]):+.4f}"])
    header = ["score", "before", "after fp32 − before", "bf16 − fp32", "tolerance (±)", "seed 1 − seed 0 (bf16)"]
    print("\n" + "\n".join(md.table(header, "lrrrrr", rows)))
    if stage_rows is not None:
        names = list(stage_rows["before"])
        rows = [[package, *(f"{row[n]:.2f}" for n in names)] for package, row in stage_rows.items()]
        print("\n" + "\n".join(md.table(["stage (one process, seconds)", *names], "l" + "r" * len(names), rows)))


if __name__ == "__main__":
    main()
