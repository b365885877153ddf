"""Data-parallel training under ``torchrun``: one process per device, each on its share of every batch.

**How gradients are synchronised, and why not DistributedDataParallel.** After each player's backward pass
its gradients (the parameters of the optimiser it is about to step) are averaged over the ranks with one
all-reduce of one flat buffer (:meth:`World.all_reduce_gradients`, called from
:meth:`~gankit.training.step.GAN.backward`); the optimiser steps then run the same arithmetic on the same
numbers on every rank, so the weights stay identical without being sent. This is StyleGAN3's approach
(``training_loop.py``) rather than DDP wrappers, because a GAN's step breaks DDP's assumptions one by one:

* DDP reduces during backward, through hooks on the wrapped module. One wrapper around G and D together
  reduces D's gradients during G's step and G's during D's (Lightning #20328); one wrapper per player must
  still be told which forward belongs to which backward.
* InfoGAN's Q head takes part in D's step but not in every forward (``q=False`` on real data), so DDP needs
  ``find_unused_parameters=True`` and its extra graph walk, or it fails on the next step.
* The gradient penalty differentiates D twice (``create_graph``); DDP's reducer hooks fire during the first
  (inner) backward and do not support double backward (pytorch #47562, #63812).
* DDP broadcasts buffers before every forward; with batch-norm and two forwards of D (real, then fake) before
  one backward, the second forward's in-place buffer update breaks autograd (pytorch #175024).
* Every update scheme here calls backward and the optimisers in its own order (simultaneous and extragradient
  compute both players' gradients before either steps): a reduce right after each backward needs no
  ``no_sync`` bookkeeping for any of them, and the all-reduce sits before fp16's ``unscale_``, so the overflow
  check reads the averaged gradients and every rank skips (or takes) the same steps.

A parameter without a gradient (``.grad`` None, e.g. D's while G steps) is left out; which parameters have one
is decided by the code path, which is the same on every rank. Batch-norm keeps per-rank statistics by default
(``train.sync_batchnorm`` converts to :class:`~torch.nn.SyncBatchNorm` on CUDA); no buffer is sent during
training: the running statistics saved, and used by rank 0 for sample grids and FID, are rank 0's.

**Randomness.** Every per-sample draw is made for the global batch and sliced (:mod:`gankit.shard`), so every
rank draws the same numbers from the same seeded stream: the generator states saved by rank 0 are every
rank's, and a run's trajectory does not depend on the number of processes (up to float summation order).

**What else is here.** :class:`World` is this process's place in the run, from torchrun's environment
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``); outside torchrun it is a single
process whose collectives are no-ops. It broadcasts rank 0's weights at the start, checks that all ranks hold
identical parameters (``train.ddp_check_every``), and turns the failures of a multi-process start (a world
size that does not divide the batch, an unreachable rendezvous, different configs, a run folder not shared by
all nodes, an error on one rank only) into one error raised on every rank before anything is written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

from gankit.config import Config, TrainConfig, field_facts
from gankit.device import resolve_device
from gankit.errors import ConfigError, DistributedError, GankitError
from gankit.shard import Shard

T = TypeVar("T")

# Config fields that may differ between ranks (declared ``rank_local`` in gankit.config): where the data is.
RANK_LOCAL_FIELDS = {path for path, facts in field_facts().items() if facts.rank_local}


def launched_by_torchrun() -> bool:
    """Whether this process is one rank of a torchrun (or other env:// launched) job."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def restart_count() -> int:
    """How many times torchrun has restarted this job's workers (0: the first attempt, or no torchrun)."""
    return int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))


def attempt_store(world_size: int, timeout: timedelta) -> dist.Store | None:
    """torchrun's shared key-value store with this restart attempt's keys set apart, or None (torch's default).

    torchrun's agent hosts one store for the whole job and hands the workers of every restart attempt the
    same address (``TORCHELASTIC_USE_AGENT_STORE``); torch 2.x joins it without a per-attempt prefix, so a
    restarted rank can read the peer addresses the dead attempt published and connect to a closed port
    (pytorch #135712: "Connection refused" in gloo's connectFullMesh). The prefix ``gankit/attempt-N`` keeps
    each attempt's keys apart. ``N`` is ``TORCHELASTIC_RESTART_COUNT``, which every worker of one node shares;
    across nodes torch does not keep it equal (a healthy node's workers restart with their old count), so
    multi-node elastic runs should launch torchrun with ``TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1`` (then torchrun
    makes a fresh store per attempt and this function is not used).
    """
    if os.environ.get("TORCHELASTIC_USE_AGENT_STORE") != str(True):
        return None
    host, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
    shared = dist.TCPStore(host, port, world_size, is_master=False, timeout=timeout)
    return dist.PrefixStore(f"gankit/attempt-{restart_count()}", shared)


def elastic_store_warning() -> str | None:
    """A warning for a multi-node run that torchrun may restart while its agents share one store: after a restart
    the nodes' ``TORCHELASTIC_RESTART_COUNT`` can differ, so :func:`attempt_store`'s prefixes would not meet."""
    env = os.environ
    nodes = int(env.get("WORLD_SIZE", "1")) > int(env.get("LOCAL_WORLD_SIZE", env.get("WORLD_SIZE", "1")))
    restarts = int(env.get("TORCHELASTIC_MAX_RESTARTS", "0")) > 0
    if nodes and restarts and env.get("TORCHELASTIC_USE_AGENT_STORE") == str(True):
        return (
            "warning: a multi-node run with --max-restarts: launch torchrun with TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 "
            "so that a restarted group meets again (torch's shared store keeps no attempt apart; pytorch #135712)"
        )
    return None


def is_lost_peer(error: BaseException) -> bool:
    """Whether a collective's error means a peer went away (gloo's or NCCL's connection errors)."""
    text = str(error)
    lost = ("Connection reset by peer", "Connection closed by peer", "Broken pipe", "Connection refused")
    return isinstance(error, dist.DistNetworkError) or any(words in text for words in lost)


def lost_peer_reason(error: BaseException) -> str:
    """The backend's own words, without its source-file prefix and advice: e.g. ``Read error
    [127.0.0.1]:41650: Connection reset by peer``."""
    text = " ".join(str(error).split())
    text = re.sub(r"^\[[^\]]*\]\s*", "", text)
    return text.split(". ")[0].rstrip(".")[:200]


@dataclasses.dataclass
class World:
    """This process's place in a data-parallel run: rank ``rank`` of ``world_size`` (one process: 0 of 1).

    ``backend`` is None when there is no process group; every collective is then a no-op.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None
    owns_group: bool = False  # this World made the process group and destroys it

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes the run's files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.backend is not None

    @property
    def shard(self) -> Shard:
        return Shard(self.rank, self.world_size)

    @property
    def collective_device(self) -> torch.device:
        """Where small tensors for collectives live: NCCL needs them on this rank's GPU."""
        return torch.device("cuda", self.local_rank) if self.backend == "nccl" else torch.device("cpu")

    @classmethod
    def join(cls, t: TrainConfig) -> World:
        """Join the process group torchrun set up (NCCL on CUDA, gloo elsewhere), or a single process."""
        if not launched_by_torchrun():
            return cls()
        rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if dist.is_initialized():
            return cls(rank, size, local, dist.get_backend())
        device = resolve_device(t.device)
        if device.type == "mps":
            raise ConfigError("data-parallel training runs on CUDA GPUs or CPUs, not MPS: use train.device=cpu")
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(local)
        timeout = timedelta(seconds=t.ddp_timeout)
        try:
            store = attempt_store(size, timeout)
            dist.init_process_group(backend, store=store, rank=rank, world_size=size, timeout=timeout)
        except (dist.DistError, RuntimeError, ValueError) as e:
            where = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise DistributedError(
                f"rank {rank} of {size} could not join the process group at {where} within {t.ddp_timeout:g} s "
                f"(train.ddp_timeout): {reason}. Check the rendezvous address and that every node can reach it"
            ) from None
        return cls(rank, size, local, backend, owns_group=True)

    @contextlib.contextmanager
    def watching_peers(self, step: Callable[[], int]) -> Iterator[None]:
        """Turn a collective that fails because another rank died or the network broke into a clear
        :class:`DistributedError` of this rank (``step()`` says where); other errors pass unchanged."""
        try:
            yield
        except (dist.DistError, RuntimeError) as e:
            if not self.distributed or not is_lost_peer(e):
                raise
            raise DistributedError(
                f"rank {self.rank} of {self.world_size} lost contact with the other processes at step {step()} "
                f"({lost_peer_reason(e)}): another worker died or the network failed. The run folder keeps its "
                "last complete checkpoint: under `torchrun --max-restarts K` the group restarts and resumes from "
                "it by itself; otherwise rerun the torchrun command with `gankit train --resume RUN`"
            ) from None

    def destroy(self) -> None:
        """Leave the process group this World made (a no-op otherwise)."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
        self.owns_group = False

    def place(self, device: torch.device) -> torch.device:
        """This rank's device: ``cuda:LOCAL_RANK`` for a CUDA run under torchrun, else ``device``."""
        if not self.distributed or device.type != "cuda":
            return device
        if device.index not in (None, self.local_rank) and self.world_size > 1:
            raise ConfigError(
                f"train.device={device} names one GPU, but under torchrun each rank uses cuda:LOCAL_RANK: "
                "set train.device=cuda (or auto) and choose GPUs with CUDA_VISIBLE_DEVICES"
            )
        return torch.device("cuda", self.local_rank)

    # --- the training step -------------------------------------------------------------------------------

    @torch.no_grad()
    def all_reduce_gradients(self, params: Iterable[Tensor]) -> None:
        """Replace each parameter's ``.grad`` with its mean over the ranks (one all-reduce of a flat buffer)."""
        grads = [p.grad for p in params if p.grad is not None]
        if self.world_size == 1 or not grads:
            return
        flat = _flatten_dense_tensors(grads)
        dist.all_reduce(flat)
        flat.div_(self.world_size)
        for grad, mean in zip(grads, _unflatten_dense_tensors(flat, grads), strict=True):
            grad.copy_(mean)

    def gradient_sync(self) -> Callable[[torch.optim.Optimizer], None] | None:
        """What :class:`~gankit.training.step.GAN` calls after each backward (None for one process: no cost)."""
        if self.world_size == 1:
            return None
        return lambda optimizer: self.all_reduce_gradients(p for g in optimizer.param_groups for p in g["params"])

    @torch.no_grad()
    def broadcast_parameters(self, modules: Iterable[nn.Module]) -> None:
        """Give every rank rank 0's parameters and buffers."""
        if self.world_size == 1:
            return
        for module in modules:
            for tensor in [*module.parameters(), *module.buffers()]:
                dist.broadcast(tensor, src=0)

    @torch.no_grad()
    def check_consistency(self, modules: Mapping[str, nn.Module], step: int) -> None:
        """Raise on every rank if any rank's parameters differ from rank 0's (bit for bit; NaN equals NaN)."""
        if self.world_size == 1:
            return
        named = [(f"{m}.{k}", p.detach()) for m, module in modules.items() for k, p in module.named_parameters()]
        mine = _flatten_dense_tensors([t for _, t in named]).nan_to_num()
        reference = mine.clone()
        dist.broadcast(reference, src=0)
        first_bad = 0  # 1 + the index of this rank's first differing tensor; 0: none
        for i, (chunk, ref) in enumerate(zip(mine.split(_sizes(named)), reference.split(_sizes(named)), strict=True)):
            if not torch.equal(chunk, ref):
                first_bad = i + 1
                break
        flags = torch.zeros(self.world_size, dtype=torch.int64, device=self.collective_device)
        flags[self.rank] = first_bad
        dist.all_reduce(flags)
        bad = {r: named[int(i) - 1][0] for r, i in enumerate(flags.tolist()) if i}
        if bad:
            which = "; ".join(f"rank {r}: {name}" for r, name in bad.items())
            raise DistributedError(
                f"the ranks' weights differ from rank 0's at step {step} ({which}): gradients were not "
                "synchronised; please report this with the config"
            )

    def check_same_streams(self, digest: str, step: int) -> None:
        """Raise on every rank if any rank's random-number and data-order state (``digest``) is not rank 0's:
        rank 0's checkpoint would then not resume that rank exactly."""
        digests = self.gather(digest)
        differ = [str(r) for r, d in enumerate(digests) if d != digests[0]]
        if differ:
            raise DistributedError(
                f"rank(s) {', '.join(differ)} drew different random numbers or data than rank 0 by step {step}; "
                "please report this with the config",
                agreed=True,
            )

    def agreed(self, flag: bool) -> bool:
        """Rank 0's ``flag`` on every rank (e.g. whether a time budget is spent: clocks differ)."""
        if self.world_size == 1:
            return flag
        tensor = torch.tensor([int(flag)], device=self.collective_device)
        dist.broadcast(tensor, src=0)
        return bool(tensor.item())

    # --- agreeing on the start -----------------------------------------------------------------------------

    def gather(self, value: Any) -> list[Any]:
        """Every rank's ``value`` (a small picklable object), in rank order."""
        if not self.distributed:
            return [value]
        values: list[Any] = [None] * self.world_size
        dist.all_gather_object(values, value)
        return values

    def settle(self, action: Callable[[], T]) -> T:
        """Run ``action`` on every rank; if it raised a gankit error on any rank, raise it on every rank.

        Without this, a rank that fails alone (a missing file, a bad device) would leave the others waiting in
        their next collective until the timeout.
        """
        error: GankitError | None = None
        result = None
        try:
            result = action()
        except GankitError as e:
            error = e
        failures = [(r, m) for r, m in enumerate(self.gather(None if error is None else str(error))) if m]
        if not failures:
            return result
        if error is not None and not self.distributed:
            raise error
        rank, message = failures[0]
        where = f"rank {rank}: " if len(failures) < self.world_size else ""  # one rank's trouble: say which
        raise DistributedError(where + message, agreed=True)

    def main_first(self, action: Callable[[], T]) -> T:
        """``action`` on rank 0, then on the other ranks (a download or cache is made once); errors agree."""
        first = self.settle(action if self.is_main else _nothing)
        later = self.settle(_nothing if self.is_main else action)
        return first if self.is_main else later

    def check_batch(self, cfg: Config) -> int:
        """This rank's share of ``train.batch_size`` (the global batch), which the world size must divide (and
        which a packed D must be able to split into whole packs). One process computes the whole batch, whose
        packs ``Config.validate`` has checked."""
        batch, pack = cfg.train.batch_size, cfg.model.pack
        if self.world_size == 1:
            return batch
        if batch % self.world_size:
            nearest = max(batch // self.world_size, 1) * self.world_size
            raise ConfigError(
                f"train.batch_size={batch} is the global batch, split evenly over the {self.world_size} "
                f"processes: use a multiple of {self.world_size} (e.g. {nearest})"
            )
        local = batch // self.world_size
        if local % pack:
            raise ConfigError(
                f"each of the {self.world_size} processes gets {local} of train.batch_size={batch} rows, which "
                f"model.pack={pack} cannot split into packs: use a multiple of {self.world_size * pack}"
            )
        return local

    def check_same_config(self, cfg: Config) -> None:
        """Raise on every rank if the ranks were started with different configs (naming the fields)."""
        mine = {k: v for k, v in cfg.flat().items() if k not in RANK_LOCAL_FIELDS}
        theirs = self.gather(mine)
        differ = sorted({k for other in theirs for k in mine.keys() | other.keys() if other.get(k) != mine.get(k)})
        if differ:
            ranks = [r for r, other in enumerate(theirs) if other != theirs[0]]
            raise DistributedError(
                f"the ranks were started with different configs: {', '.join(differ)} differ (ranks "
                f"{', '.join(map(str, ranks))} vs rank 0); start every rank with the same command and files",
                agreed=True,
            )

    def check_shared_folder(self, root: Path) -> None:
        """Raise on every rank unless all ranks see the same run folder (rank 0 writes a token, the others look
        for it). Leaves nothing behind: the token, and the folders made for it, are removed."""
        if self.world_size == 1:
            return
        token = self.gather(f".gankit-shared-{uuid.uuid4().hex}")[0]
        made = self.settle(lambda: _write_token(root, token) if self.is_main else [])
        dist.barrier()
        seen = self.gather((self.is_main or (root / token).is_file(), socket.gethostname()))
        if self.is_main:
            _remove_token(root / token, made)
        dist.barrier()  # nobody looks at the folder before the token is gone
        missing = [(r, host) for r, (ok, host) in enumerate(seen) if not ok]
        if missing:
            who = ", ".join(f"rank {r} on {host}" for r, host in missing)
            raise DistributedError(
                f"the run folder {root} is not shared: {who} cannot see the file rank 0 wrote there. Put the run "
                "on a file system every node mounts at the same path (rank 0 writes it; the others read "
                "checkpoints from it to resume)",
                agreed=True,
            )


def _nothing() -> None:
    return None


def _sizes(named: list[tuple[str, Tensor]]) -> list[int]:
    return [t.numel() for _, t in named]


def _write_token(root: Path, token: str) -> list[Path]:
    """Write the token file into ``root``, making the folders it needs; the folders made, deepest first."""
    made = [p for p in (root, *root.parents) if not p.exists()]
    try:
        root.mkdir(parents=True, exist_ok=True)
        (root / token).write_text("gankit: checks that every rank sees this run folder; removed at once\n")
    except OSError as e:
        raise DistributedError(f"cannot write into the run folder {root}: {e.strerror or e}") from None
    return made


def _remove_token(path: Path, made: list[Path]) -> None:
    path.unlink(missing_ok=True)
    for folder in made:
        with contextlib.suppress(OSError):
            folder.rmdir()


def check_sync_batchnorm(t: TrainConfig, device: torch.device) -> None:
    """``train.sync_batchnorm`` needs CUDA GPUs (NCCL): refused elsewhere."""
    if t.sync_batchnorm and device.type != "cuda":
        raise ConfigError(
            f"train.sync_batchnorm needs CUDA GPUs (NCCL); this run is on {device.type}, where each rank "
            "keeps its own batch statistics: set train.sync_batchnorm=false"
        )


def sync_batchnorm(module: nn.Module) -> nn.Module:
    """``module`` with its batch-norm layers computing statistics over all ranks (``train.sync_batchnorm``)."""
    return nn.SyncBatchNorm.convert_sync_batchnorm(module)


@contextlib.contextmanager
def joined(t: TrainConfig) -> Iterator[World]:
    """The run's :class:`World` for the duration of a run; a process group made here is destroyed after."""
    world = World.join(t)
    try:
        yield world
    finally:
        world.destroy()
