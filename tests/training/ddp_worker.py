"""One rank of a torchrun job started by ``tests/training/test_distributed.py`` (a helper, not a test).

Usage: ``torchrun … ddp_worker.py --results DIR [options] CMD [:: CMD …]``. Each CMD is a ``gankit`` command
line (``{rank}`` is replaced by this rank), ``check-consistency`` (ranks with different weights) or
``check-streams`` (ranks with different random states). Several
commands share one process group (made here). Each rank writes ``DIR/rank{R}-attempt{A}.json``: every
command's exit code and what it printed to stderr, and (``--watch``) the writes it made under a folder.
``--kill-at-step S0[,S1 …] --kill-rank R``: in torchrun's attempt k, rank R SIGKILLs itself as it starts step Sk + 1
(in later attempts it lives).
``--slow-save SECONDS``: in the first attempt, rank 0 writes its first checkpoint that much more slowly (it waits
after writing the tensors), so that torchrun's SIGTERM reaches it inside the write; the killed rank then dies only
once rank 0 is inside that write (a marker file in DIR), whichever rank a machine makes faster.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from gankit.cli import main as gankit_main
from gankit.errors import DistributedError
from gankit.training.distributed import World
from gankit.training.state import Training

RANK = int(os.environ["RANK"])
ATTEMPT = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
WRITE_EVENTS = {"os.mkdir", "os.rename", "os.remove", "os.rmdir", "shutil.rmtree", "os.truncate"}


def watch_writes(root: Path, seen: list[str]) -> None:
    """Record every file-system write under ``root`` that Python's audit events show (open for writing, mkdir,
    rename, remove)."""
    prefix = str(root.resolve())

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            writes = (mode is not None and any(c in str(mode) for c in "wax+")) or (
                mode is None and isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
            )
        else:
            writes, path = event in WRITE_EVENTS, args[0] if args else None
        if (
            writes
            and isinstance(path, (str, bytes, os.PathLike))
            and os.path.abspath(os.fsdecode(path)).startswith(prefix)
        ):
            seen.append(f"{event} {os.fsdecode(path)}")

    sys.addaudithook(hook)


def kill_at(step: int, after: Path | None = None) -> None:
    """SIGKILL this process when it starts game step ``step + 1`` (an abrupt death: no cleanup, no exit code); where
    ``after`` is given, not before that file exists (at most 60 s later)."""
    original = Training.train_step

    def train_step(self: Training) -> dict:
        if self.step == step:
            deadline = time.monotonic() + 60.0
            while after is not None and not after.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self)

    Training.train_step = train_step


def slow_save(seconds: float, marker: Path) -> None:
    """Wait ``seconds`` inside the first checkpoint's write, after its tensors file (``gankit.store.faults``), having
    created ``marker``."""
    from gankit.store import faults

    seen = []

    def reached(point: str) -> None:
        seen.append(point)
        if point == "save:tensors" and seen.count(point) == 1:
            marker.touch()
            time.sleep(seconds)

    faults.reached = reached


def check_consistency() -> int:
    """Ranks whose weights differ on purpose: the check must name the tensor on every rank (exit 2)."""
    world = World(RANK, int(os.environ["WORLD_SIZE"]), backend=dist.get_backend())
    torch.manual_seed(RANK)  # rank 1's weights differ from rank 0's
    net = nn.Sequential(nn.Linear(3, 3))
    world.broadcast_parameters([net])  # rank 0's weights everywhere …
    with torch.no_grad():
        net[0].bias[1] += RANK  # … except rank 1's bias
    try:
        world.check_consistency({"critic": net}, step=7)
    except DistributedError as e:
        print(f"gankit: error: {e}", file=sys.stderr)
        return 2
    return 0


def check_streams() -> int:
    """Rank 1 drew one more random number than rank 0: the check must say so on every rank (exit 2)."""
    world = World(RANK, int(os.environ["WORLD_SIZE"]), backend=dist.get_backend())
    try:
        world.check_same_streams(f"state after {RANK} extra draws", step=3)
    except DistributedError as e:
        print(f"gankit: error: {e}", file=sys.stderr)
        return 2
    return 0


CHECKS = {"check-consistency": check_consistency, "check-streams": check_streams}


def run(command: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = CHECKS[command[0]]() if command[0] in CHECKS else gankit_main(command)
    return code, err.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--watch", type=Path)
    parser.add_argument("--kill-at-step", type=lambda s: [int(w) for w in s.split(",")], default=[])
    parser.add_argument("--kill-rank", type=int, default=1)
    parser.add_argument("--slow-save", type=float)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    commands: list[list[str]] = [[]]
    for word in args.command:
        commands.append([]) if word == "::" else commands[-1].append(word.replace("{rank}", str(RANK)))
    saving = args.results / "rank0-saving" if args.slow_save is not None and ATTEMPT == 0 else None
    if args.kill_rank == RANK and len(args.kill_at_step) > ATTEMPT:
        kill_at(args.kill_at_step[ATTEMPT], saving)
    if saving is not None and RANK == 0:
        slow_save(args.slow_save, saving)
    writes: list[str] = []
    if args.watch is not None and RANK != 0:
        watch_writes(args.watch, writes)
    if len(commands) > 1:
        dist.init_process_group("gloo")  # shared by the commands (gankit joins a group it finds)
    results = [dict(zip(("code", "stderr"), run(c), strict=True)) for c in commands]
    if dist.is_initialized():
        dist.destroy_process_group()
    out = {"rank": RANK, "attempt": ATTEMPT, "commands": results, "writes": writes}
    (args.results / f"rank{RANK}-attempt{ATTEMPT}.json").write_text(json.dumps(out))
    sys.exit(max(r["code"] for r in results))


if __name__ == "__main__":
    main()
