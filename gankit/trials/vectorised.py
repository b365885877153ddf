"""N trials of one recipe stepped as one model whose weights carry a leading trial axis.

:class:`VectorisedTrials` advances N :class:`~gankit.training.state.Training` objects (one config, N seeds) by
one game step each, equal within float rounding to calling ``train_step()`` on each. How:

* **Weights.** Each player's parameters and buffers are stacked on a trial axis
  (``torch.func.stack_module_state``); one optimiser of the run's kind steps the stacked parameters, which is
  N optimisers because Adam, RMSprop and SGD are element-wise (so are weight clipping and the EMA).
* **Losses.** One trial's loss is computed by the ordinary code of :mod:`gankit.training.step` on a weightless
  template of the players (``torch.func.functional_call``), and ``torch.vmap`` runs it for every trial at once:
  a vmapped linear layer is a batched matrix product, a convolution a grouped one, and batch norm updates each
  trial's running statistics in its slice of the stacked buffers. The per-trial losses are *summed* over the
  trial axis before ``backward`` (never averaged), so each trial's gradient is exactly its own.
* **Random draws.** Nothing random runs inside ``vmap``. A Training draws G's noise (and the penalty's ε)
  from the *global* torch RNG, so each trial keeps its own global RNG state, swapped in around its draws
  (:meth:`VectorisedTrials.trial_rng`), and the draws are made trial by trial in the order the scheme makes
  them; real batches come from each trial's own sampler.
* **Update schemes.** Every scheme of :mod:`gankit.training.schemes`; the state of the optimistic and lookahead
  schemes (the last steps Δ_{t−1}, the slow weights) is element-wise too and is stacked like the optimisers'.
* **Gradient penalty.** ``autograd.grad`` cannot run inside ``vmap``: the vmapped critic is differentiated
  outside it (the gradient of the summed scores, create_graph), and the norm is one per sample per trial.

* **Speed.** Maxout takes ``max`` (:func:`_maxout_by_max`); each stacked linear weight is stored in the layout
  of its vmapped gradient and stepped through a contiguous alias (:func:`_transposed`, :func:`_stepped`), so no
  step copies it transposing.

What is covered is said by :func:`vectorised_refusal`, which names the reason for anything else (the trials then
run one after another). fp32 eager only: ``compiled=True`` (torch.compile of the vmapped losses, for
``benchmarks/trials_speed.py --compiled-cases``) was exact but slower on a 2-core AVX2 CPU (docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import copy
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap
from torch.nn.utils import parametrize
from torch.optim import Optimizer

from gankit.config import Config
from gankit.data.toy import TOY_DATASETS
from gankit.device import resolve_device
from gankit.latent import Latent
from gankit.nets.maxout import Maxout
from gankit.nets.norms import LayerNorm2d
from gankit.training.engine import Engine, choose_engine
from gankit.training.optim import hyperparameters
from gankit.training.probes import interleaved_seconds
from gankit.training.schemes import Lookahead, Optimistic
from gankit.training.state import Training, build_training
from gankit.training.step import GAN, Batch, GameLosses, discriminator_terms, generator_loss, judge, unwrap

SCHEMES = ("alternating", "simultaneous", "extragradient", "optimistic", "lookahead")  # every update scheme
PLAYERS = ("generator", "encoder", "discriminator")  # the state's prefixes; G's optimiser steps G and E
SIDES = {"generator": ("generator", "encoder"), "discriminator": ("discriminator",)}


def vectorised_refusal(cfg: Config, engine: Engine | None = None) -> str | None:
    """None if trials of ``cfg`` can be stepped vectorised, else the reason why not, in one line.

    ``engine`` (a built Training's) settles ``train.precision=auto``; without it the engine is chosen as
    :func:`~gankit.training.state.build_training` would for vectorised trials (``vmapped=True``).
    :class:`VectorisedTrials` also checks the built networks (:func:`network_refusal`).
    """
    t = cfg.train
    if t.scheme not in SCHEMES:
        return f"scheme {t.scheme}: only the {', '.join(SCHEMES)} schemes are vectorised"
    if cfg.model.spectral_norm:
        return "spectral norm: its power iteration updates each D weight's parametrisation in place"
    if t.sync_batchnorm:
        return "sync batch norm: statistics over processes, not vectorised"
    if engine is None:
        engine = choose_engine(cfg, resolve_device(t.device), images=cfg.data.name not in TOY_DATASETS, vmapped=True)
    if engine.precision.name != "fp32":
        return f"precision {engine.precision.name}: vectorised trials are fp32 only"
    if engine.compile_mode is not None:
        return (
            "torch.compile: vectorised trials run eager (compiled, their step was slower on a CPU: "
            "docs/benchmarks.md); train.compile=off plays them together"
        )
    if engine.channels_last:
        return "channels_last networks: vmap cannot take them through the penalty (build with vmapped=True)"
    return None


def network_refusal(module: nn.Module) -> str | None:
    """None if ``module`` can be vmapped over trials exactly, else why not (dropout, parametrisations)."""
    for name, m in module.named_modules():
        if isinstance(m, nn.modules.dropout._DropoutNd):
            return f"dropout ({name}): each trial would draw another mask"
        if parametrize.is_parametrized(m):
            return f"parametrised layer ({name}): not vectorised"
    return None


@dataclass
class RngState:
    """The global torch RNG state of one trial (and, on a GPU, its device's)."""

    cpu: Tensor
    cuda: Tensor | None = None

    @classmethod
    def capture(cls, device: torch.device) -> RngState:
        return cls(torch.get_rng_state(), torch.cuda.get_rng_state(device) if device.type == "cuda" else None)

    def restore(self, device: torch.device) -> None:
        torch.set_rng_state(self.cpu)
        if self.cuda is not None:
            torch.cuda.set_rng_state(self.cuda, device)


def _contiguous_copy(t: Tensor) -> Tensor:
    """A copy of one trial's slice in the ordinary layout (a Training's own tensors, as checkpoints store them)."""
    return t.clone(memory_format=torch.contiguous_format)


def _snapshot(params: dict[str, Tensor]) -> dict[str, Tensor]:
    return {name: p.detach().clone() for name, p in params.items()}


@torch.no_grad()
def _restore(params: dict[str, Tensor], values: dict[str, Tensor]) -> None:
    for name, p in params.items():
        p.copy_(values[name])


def _maxout_by_max(self: Maxout, x: Tensor) -> Tensor:
    """``Maxout.forward`` by ``max``: the same values, and the same gradient unless two pieces tie exactly (``amax``
    shares it between them, ``max`` gives it to one). Its backward is one scatter, where ``amax``'s builds a mask,
    a count and a quotient over every piece: on N stacked trials those passes outgrow the cache."""
    return self.linear(x).unflatten(-1, (self.out_features, self.pieces)).max(-1).values


def _template(module: nn.Module) -> nn.Module:
    """A weightless copy of ``module`` (on the meta device) for ``functional_call``.

    Its :class:`~gankit.nets.norms.LayerNorm2d` layers compute by the stock ``GroupNorm(1, C)`` (same forward
    kernels and parameters): their hand-written second derivative is an autograd.Function without a vmap rule.
    Its maxout layers compute by :func:`_maxout_by_max`.
    """
    template = copy.deepcopy(unwrap(module)).to("meta")
    for m in template.modules():
        if isinstance(m, LayerNorm2d):
            m.forward = types.MethodType(nn.GroupNorm.forward, m)
        elif isinstance(m, Maxout):
            m.forward = types.MethodType(_maxout_by_max, m)
    return template


def _linear_weights(module: nn.Module, prefix: str) -> set[str]:
    """The names (``prefix.name``) of ``module``'s linear layers' weights."""
    return {f"{prefix}.{name}.weight" for name, m in unwrap(module).named_modules() if isinstance(m, nn.Linear)}


def _transposed(weight: Tensor) -> Tensor:
    """A stacked linear weight (N, out, in) laid out in memory as (N, in, out), still a leaf: the layout of the
    gradient a vmapped linear layer computes, which autograd then keeps as it is instead of copying it into the
    weight's layout. Every operation reads either layout; only the speed differs."""
    return weight.detach().transpose(1, 2).contiguous().transpose(1, 2).requires_grad_(weight.requires_grad)


def _stepped(p: Tensor) -> Tensor:
    """What the optimiser steps for the stacked parameter ``p``: ``p`` itself, or for a weight stored transposed
    (:func:`_transposed`) its transpose, a contiguous tensor sharing ``p``'s memory, since a fused optimiser copies
    (transposing) every tensor that is not contiguous at every step. Its gradient is ``p``'s, transposed
    (:meth:`VectorisedTrials._step`)."""
    return p.detach().transpose(1, 2) if p.dim() == 3 and not p.is_contiguous() else p


def _as_stepped(state: dict, p: Tensor, stepped: Tensor) -> dict:
    """One parameter's optimiser state from ``p``'s layout into ``stepped``'s (:func:`_stepped`), or back."""
    if stepped is p:
        return state
    return {key: v.transpose(1, 2) if isinstance(v, Tensor) and v.dim() == 3 else v for key, v in state.items()}


class _Game(nn.Module):
    """One trial's players as templates; ``forward`` computes one role's loss with the weights it is given."""

    def __init__(self, gan: GAN, losses: GameLosses) -> None:
        super().__init__()
        self.generator, self.discriminator = _template(gan.generator), _template(gan.discriminator)
        self.encoder = _template(gan.encoder) if gan.encoder is not None else None
        self.losses = losses
        # built once (functional_call swaps the templates' weights in place): torch.compile cannot trace GAN()
        self.gan = GAN(self.generator, self.discriminator, None, None, self.encoder)  # type: ignore[arg-type]

    def forward(self, role: str, inputs: dict[str, Tensor]) -> tuple:
        gan = self.gan
        real = Batch(inputs["x"], inputs.get("y")) if "x" in inputs else None
        latent = Latent(inputs["z"], inputs.get("zy")) if "z" in inputs else None
        if role == "discriminator":
            stats, loss, fake, info = discriminator_terms(gan, self.losses, real, latent)
            return stats, loss if info is None else loss + info, fake
        if role == "generator":
            return generator_loss(gan, self.losses, latent, real)
        return judge(self.discriminator, real.x, real.y).logits  # "critic": the gradient penalty's D(x̂)


def _inputs(real: Batch | None, latent: Latent | None) -> dict[str, Tensor]:
    """A step's stacked inputs as ``_Game.forward`` reads them (absent labels left out)."""
    parts = {} if real is None else {"x": real.x, "y": real.y}
    parts |= {} if latent is None else {"z": latent.z, "zy": latent.y}
    return {k: v for k, v in parts.items() if v is not None}


def _stacked_or_none(parts: list[Tensor | None]) -> Tensor | None:
    return None if parts[0] is None else torch.stack(parts)


def _named(module: nn.Module, prefix: str) -> dict[str, Tensor]:
    """``module``'s parameters and buffers by their names in the game's state (``prefix.name``)."""
    own = chain(unwrap(module).named_parameters(), unwrap(module).named_buffers())
    return {f"{prefix}.{name}": t for name, t in own}


def _stack_state(states: list[dict], p: Tensor) -> dict:
    """N trials' optimiser states of one parameter as one: per-element tensors stacked on the trial axis,
    the rest (the step count) shared, which needs every trial to have taken the same steps."""
    if any(s.keys() != states[0].keys() for s in states):
        raise ValueError("the trials' optimisers hold different states: they must have taken the same steps")
    out = {}
    for key, first in states[0].items():
        values = [s[key] for s in states]
        if isinstance(first, Tensor) and first.shape == p.shape[1:] and first.dim() > 0:
            out[key] = torch.empty_like(p).copy_(torch.stack(values))  # in p's layout, as the optimiser makes it
        elif isinstance(first, Tensor):
            if any(not torch.equal(v, first) for v in values):
                raise ValueError(f"the trials' optimisers differ in {key!r}: they must have taken the same steps")
            out[key] = first.clone()
        else:
            out[key] = first
    return out


def _trial_state(state: dict, p: Tensor, k: int) -> dict:
    """Trial ``k``'s slice of one parameter's stacked optimiser state (the inverse of :func:`_stack_state`)."""
    sliced = {}
    for key, v in state.items():
        if isinstance(v, Tensor):
            sliced[key] = _contiguous_copy(v[k]) if v.dim() > 0 and v.shape == p.shape else v.clone()
        else:
            sliced[key] = v
    return sliced


class _StackedEMA:
    """Every trial's EMA of G (``AveragedModel(use_buffers=True)``) as stacked tensors, updated as
    ``AveragedModel.update_parameters`` does: a copy at the first update, then its average function per dtype."""

    def __init__(self, trainings: list[Training]) -> None:
        emas = [t.ema for t in trainings]
        if not emas[0].use_buffers:
            raise ValueError("vectorised trials average G's buffers with its weights (AveragedModel(use_buffers=True))")
        if any(not torch.equal(e.n_averaged, emas[0].n_averaged) for e in emas):
            raise ValueError("the trials' EMAs have averaged different numbers of steps")
        self.average = emas[0].multi_avg_fn
        self.n_averaged = emas[0].n_averaged.clone()
        self.values = {
            name: torch.stack([_named(e.module, "generator")[name].detach() for e in emas])
            for name in _named(emas[0].module, "generator")
        }

    @torch.no_grad()
    def update(self, model: dict[str, Tensor]) -> None:
        if self.n_averaged == 0:
            for name, value in self.values.items():
                value.copy_(model[name])
        else:
            for dtype in {v.dtype for v in self.values.values()}:
                names = [n for n, v in self.values.items() if v.dtype == dtype]
                self.average([self.values[n] for n in names], [model[n].detach() for n in names], self.n_averaged)
        self.n_averaged += 1

    @torch.no_grad()
    def write(self, k: int, training: Training) -> None:
        for name, t in _named(training.ema.module, "generator").items():
            t.copy_(self.values[name][k])
        training.ema.n_averaged.copy_(self.n_averaged)


class VectorisedTrials:
    """N Trainings (one config, N seeds) stepped as one model; see the module docstring.

    ``rng_states[k]`` is the global RNG state trial k would draw on next: captured right after its Training was
    built (and loaded), as :func:`build_vectorised` does. While trials are stepped here their Trainings' own
    weights and optimiser states are stale: :meth:`write_back` brings them up to date (``step``,
    ``images_seen`` and the samplers advance as they go). ``trials`` holds the original index of each trial
    still stepping (see :meth:`drop`). ``compiled``: the losses through torch.compile (:meth:`_vmapped`), for
    benchmarks only (slower on the CPU measured, so runs refuse it: :func:`vectorised_refusal`).
    """

    def __init__(self, trainings: list[Training], rng_states: list[RngState], compiled: bool = False) -> None:
        if len(trainings) != len(rng_states) or not trainings:
            raise ValueError("give one RNG state per Training, and at least one Training")
        _check_trainings(trainings)
        self.trainings, self.rng_states = list(trainings), list(rng_states)
        self.trials = list(range(len(trainings)))
        first = trainings[0]
        self.cfg, self.losses, self.device = first.cfg, first.losses, first.device
        self.game = _Game(first.gan, first.losses)
        self.compiled = compiled
        self._losses: dict[tuple[str, str], Callable] = {}
        self._stack()

    # -- the stacked state ------------------------------------------------------------------------------
    def _players(self, training: Training) -> dict[str, nn.Module]:
        gan = training.gan
        named = {"generator": gan.generator, "encoder": gan.encoder, "discriminator": gan.discriminator}
        return {name: unwrap(m) for name, m in named.items() if m is not None}

    def _stack(self) -> None:
        """Stack the Trainings' weights, buffers, optimiser states and EMAs (at the start, and after a drop)."""
        self.params: dict[str, Tensor] = {}
        self.buffers: dict[str, Tensor] = {}
        for player, module in self._players(self.trainings[0]).items():
            params, buffers = stack_module_state([self._players(t)[player] for t in self.trainings])
            linear = _linear_weights(module, player)
            params = {f"{player}.{k}": v for k, v in params.items()}
            self.params |= {k: _transposed(v) if k in linear else v for k, v in params.items()}
            self.buffers |= {f"{player}.{k}": v for k, v in buffers.items()}
        self.stepped = {name: _stepped(p) for name, p in self.params.items()}
        self.optimizers = {side: self._stack_optimizer(side) for side in SIDES}
        self.ema = _StackedEMA(self.trainings) if self.trainings[0].ema is not None else None
        self._stack_scheme()

    def _stack_scheme(self) -> None:
        """The optimistic scheme's last steps and the lookahead scheme's slow weights and fast-step count, stacked.

        A scheme keeps one tensor per parameter of each player in ``schemes._params`` order: the order of the
        player's stacked parameters here (G's, then E's, for the generator side)."""
        schemes = [t.scheme for t in self.trainings]
        self.previous: dict[str, dict[str, Tensor] | None] = {side: None for side in SIDES}
        self.slow: dict[str, dict[str, Tensor]] = {}
        self.fast_steps = 0
        if isinstance(schemes[0], Optimistic):
            for side in SIDES:
                kept = [s.previous[side] for s in schemes]
                if any((k is None) != (kept[0] is None) for k in kept):
                    raise ValueError("the trials' optimistic schemes have taken different steps")
                if kept[0] is not None:
                    self.previous[side] = self._stack_side(side, kept)
        elif isinstance(schemes[0], Lookahead):
            if any(s.fast_steps != schemes[0].fast_steps for s in schemes):
                raise ValueError("the trials' lookahead schemes stand at different fast steps")
            self.fast_steps = schemes[0].fast_steps
            self.slow = {side: self._stack_side(side, [s.slow[side] for s in schemes]) for side in SIDES}

    def _stack_side(self, side: str, per_trial: list[list[Tensor]]) -> dict[str, Tensor]:
        """Per-trial lists of one tensor per parameter of ``side`` (in its order) as stacked tensors by name."""
        names = list(self._side(side))
        if any(len(values) != len(names) for values in per_trial):
            raise ValueError(f"the scheme keeps {len(per_trial[0])} tensors for {side}'s {len(names)} parameters")
        return {name: torch.stack([values[i] for values in per_trial]) for i, name in enumerate(names)}

    def _side(self, side: str) -> dict[str, Tensor]:
        """The stacked parameters that ``side``'s optimiser steps."""
        return {n: p for n, p in self.params.items() if n.split(".", 1)[0] in SIDES[side]}

    def _trial_params(self, training: Training, side: str) -> dict[str, Tensor]:
        players = self._players(training)
        return {n: t for p in SIDES[side] if p in players for n, t in _named(players[p], p).items()}

    def _stack_optimizer(self, side: str) -> Optimizer:
        """One optimiser of the trials' kind and settings over ``side``'s stacked parameters, with their states."""
        trial_opts = [t.optimizers[side] for t in self.trainings]
        first = trial_opts[0]
        if len(first.param_groups) != 1:
            raise ValueError("vectorised trials need optimisers with one parameter group")
        stacked = self._side(side)
        optimizer = type(first)([self.stepped[name] for name in stacked], **first.defaults)
        optimizer.param_groups[0].update(hyperparameters(first)[0])
        trial_params = [self._trial_params(t, side) for t in self.trainings]
        for name, p in stacked.items():
            states = [o.state.get(params[name], {}) for o, params in zip(trial_opts, trial_params, strict=True)]
            if any(states):
                optimizer.state[self.stepped[name]] = _as_stepped(_stack_state(states, p), p, self.stepped[name])
        return optimizer

    def _state(self, trained: str) -> dict[str, Tensor]:
        """The game's weights for a ``trained`` player's loss: the other player's parameters detached."""
        params = {n: p if n.split(".", 1)[0] in SIDES[trained] else p.detach() for n, p in self.params.items()}
        return params | self.buffers

    # -- random draws, trial by trial ----------------------------------------------------------------------
    @contextlib.contextmanager
    def trial_rng(self, k: int) -> Iterator[None]:
        """Trial ``k``'s (the k-th still stepping) global RNG state in force for the block; the caller's after."""
        outer = RngState.capture(self.device)
        self.rng_states[k].restore(self.device)
        try:
            yield
        finally:
            self.rng_states[k] = RngState.capture(self.device)
            outer.restore(self.device)

    def _real(self) -> Batch:
        batches = [t.next_real() for t in self.trainings]
        return Batch(torch.stack([b.x for b in batches]), _stacked_or_none([b.y for b in batches]))

    def _noise(self) -> Latent:
        draws = []
        for k, training in enumerate(self.trainings):
            with self.trial_rng(k):
                draws.append(training.sample_z())
        return Latent(torch.stack([d.z for d in draws]), _stacked_or_none([d.y for d in draws]))

    def _interpolation_weights(self, real: Tensor) -> Tensor:
        """The penalty's ε per trial, drawn as ``gradient_penalty`` draws them: (N, B, 1, …)."""
        shape = (real.shape[1],) + (1,) * (real.dim() - 2)
        weights = []
        for k in range(len(self.trainings)):
            with self.trial_rng(k):
                weights.append(torch.rand(shape, device=real.device, dtype=real.dtype))
        return torch.stack(weights)

    # -- one player's gradients and updates ---------------------------------------------------------------
    def _vmapped(self, role: str, trained: str, inputs: dict[str, Tensor]) -> tuple | Tensor:
        """``role``'s loss terms for every trial, ``trained``'s weights differentiable; with ``compiled``, through
        torch.compile (inductor, one graph per role: a graph break is an error, not a silent eager fallback),
        except the penalty's critic, which is differentiated twice (double backward does not run through
        compiled graphs)."""
        key = (role, trained)
        if key not in self._losses:

            def all_trials(state: dict[str, Tensor], stacked: dict[str, Tensor]) -> tuple | Tensor:
                def one_trial(state: dict[str, Tensor], trial_inputs: dict[str, Tensor]) -> tuple | Tensor:
                    return functional_call(self.game, state, (role, trial_inputs), strict=True)

                return vmap(one_trial)(state, stacked)

            compiled = self.compiled and role != "critic"
            self._losses[key] = torch.compile(all_trials, fullgraph=True) if compiled else all_trials
        return self._losses[key](self._state(trained), inputs)

    def _penalty(self, real: Batch, fake: Tensor) -> Tensor:
        """WGAN-GP's E[(‖∇D(x̂)‖₂ − 1)²] per trial (N,): ``gradient_penalty`` with a trial axis."""
        eps = self._interpolation_weights(real.x)
        interpolates = (eps * real.x.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
        scores = self._vmapped("critic", "discriminator", _inputs(Batch(interpolates, real.y), None))
        (grad,) = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)
        norms = grad.float().flatten(start_dim=2).norm(2, dim=2)
        return (norms - 1).pow(2).mean(dim=1)

    def _d_gradients(self, real: Batch, latent: Latent) -> dict[str, Tensor]:
        stats, loss, fake = self._vmapped("discriminator", "discriminator", _inputs(real, latent))
        if self.losses.terms.gp_weight > 0:
            penalty = self._penalty(real, fake)
            loss = loss + self.losses.terms.gp_weight * penalty
            stats["gp"] = penalty.detach()
        self._zero_grad("discriminator")
        self._total(loss).backward()
        return stats

    def _g_gradients(self, latent: Latent, real: Batch | None) -> dict[str, Tensor]:
        stats, loss = self._vmapped("generator", "generator", _inputs(real, latent))
        self._zero_grad("generator")
        self._total(loss).backward()
        return stats

    def _zero_grad(self, side: str) -> None:
        for p in self._side(side).values():
            p.grad = None

    @torch.no_grad()
    def _step(self, side: str) -> None:
        """``side``'s optimiser step, its gradients handed to the tensors it steps (:func:`_stepped`)."""
        for name, p in self._side(side).items():
            stepped = self.stepped[name]
            if stepped is not p:
                stepped.grad = None if p.grad is None else p.grad.transpose(1, 2)
        self.optimizers[side].step()

    def _total(self, loss: Tensor) -> Tensor:
        """The trials' losses (N,) summed, not averaged: each trial's gradient is exactly its own."""
        return loss.sum()

    @torch.no_grad()
    def _project(self) -> None:
        """WGAN weight clipping, element-wise on the stacked D."""
        c = self.losses.terms.clip_value
        if c is not None:
            for p in self._side("discriminator").values():
                p.clamp_(-c, c)

    @torch.no_grad()
    def _update(self, side: str) -> None:
        """``side``'s optimiser step, as the scheme applies it: plain, or the optimistic θ + 2Δ_t − Δ_{t−1}
        (``schemes.Optimistic``; the first step of each player as it is)."""
        if self.cfg.train.scheme != "optimistic":
            self._step(side)
            return
        params = self._side(side)
        before = _snapshot(params)
        self._step(side)
        deltas = {name: p - before[name] for name, p in params.items()}
        last = self.previous[side] or deltas
        for name, p in params.items():
            p.copy_(before[name] + 2 * deltas[name] - last[name])
        self.previous[side] = deltas

    @torch.no_grad()
    def _synchronise(self) -> None:
        """Lookahead: every k-th step φ ← φ + α(θ − φ), θ ← φ for both players (``schemes.Lookahead``)."""
        alpha = self.cfg.train.lookahead_alpha
        for side, slow in self.slow.items():
            for name, p in self._side(side).items():
                slow[name].add_(p - slow[name], alpha=alpha)
                p.copy_(slow[name])

    def _d_step(self, real: Batch, latent: Latent) -> dict[str, Tensor]:
        stats = self._d_gradients(real, latent)
        self._update("discriminator")
        self._project()
        return stats

    def _generator_batch(self) -> Batch | None:
        return self._real() if self.losses.generator_reads_data else None

    # -- the schemes, as gankit.training.schemes plays them ------------------------------------------------
    def _alternating(self) -> dict[str, Tensor]:
        t = self.cfg.train
        stats: dict[str, Tensor] = {}
        latent = None
        for _ in range(t.n_critic):
            real = self._real()
            latent = self._noise()
            stats = self._d_step(real, latent)
        for _ in range(t.g_steps):
            g_latent = latent if t.g_noise == "shared" and latent is not None else self._noise()
            stats.update(self._g_gradients(g_latent, self._generator_batch()))
            self._update("generator")
        return stats

    def _lookahead(self) -> dict[str, Tensor]:
        stats = self._alternating()
        self.fast_steps += 1
        if self.fast_steps == self.cfg.train.lookahead_k:
            self._synchronise()
            self._project()
            self.fast_steps = 0
        return stats

    def _joint_gradients(self) -> dict[str, Tensor]:
        """Both players' gradients at the current point (G's on D's noise if shared), not applied."""
        real = self._real()
        latent = self._noise()
        stats = self._d_gradients(real, latent)
        g_latent = latent if self.cfg.train.g_noise == "shared" else self._noise()
        stats.update(self._g_gradients(g_latent, self._generator_batch()))
        return stats

    def _apply_both(self) -> None:
        self._step("discriminator")
        self._step("generator")
        self._project()

    def _simultaneous(self) -> dict[str, Tensor]:
        for _ in range(self.cfg.train.n_critic - 1):
            real = self._real()
            self._d_step(real, self._noise())
        stats = self._joint_gradients()
        self._apply_both()
        return stats

    def _extragradient(self) -> dict[str, Tensor]:
        """Gradients at a look-ahead point, applied from the starting point (``schemes.Extragradient``)."""
        d, both = self._side("discriminator"), self._side("generator") | self._side("discriminator")
        for _ in range(self.cfg.train.n_critic - 1):
            start = _snapshot(d)
            real = self._real()
            self._d_step(real, self._noise())
            real = self._real()
            self._d_gradients(real, self._noise())
            _restore(d, start)
            self._step("discriminator")
            self._project()
        start = _snapshot(both)
        stats = self._joint_gradients()
        self._apply_both()
        self._joint_gradients()
        _restore(both, start)
        self._apply_both()
        return stats

    def step(self) -> list[dict[str, Tensor]]:
        """One game step of every trial; each trial's statistics, as its ``train_step`` returns them."""
        return self._finish(self._play())

    def _play(self) -> dict[str, Tensor]:
        """The scheme's D and G updates of one game step (random draws made as they come); the stacked statistics."""
        play = {
            "alternating": self._alternating,
            "simultaneous": self._simultaneous,
            "extragradient": self._extragradient,
            "optimistic": self._alternating,  # with the optimistic update (_update)
            "lookahead": self._lookahead,
        }
        return play[self.cfg.train.scheme]()

    def _finish(self, stats: dict[str, Tensor]) -> list[dict[str, Tensor]]:
        """What follows a game step's updates: the EMA, the step counts; each trial's statistics."""
        if self.ema is not None:
            self.ema.update({n: t for n, t in (self.params | self.buffers).items() if n.startswith("generator.")})
        for training in self.trainings:
            training.step += 1
        return [{name: value[k] for name, value in stats.items()} for k in range(len(self.trainings))]

    # -- back to the Trainings -------------------------------------------------------------------------------
    @torch.no_grad()
    def _write(self, k: int) -> None:
        training = self.trainings[k]
        stacked = self.params | self.buffers
        for player, module in self._players(training).items():
            for name, t in _named(module, player).items():
                t.copy_(stacked[name][k])
        for side, optimizer in self.optimizers.items():
            trial_params = self._trial_params(training, side)
            trial_opt = training.optimizers[side]
            for name, p in self._side(side).items():
                stepped = self.stepped[name]
                if stepped in optimizer.state:
                    state = _as_stepped(optimizer.state[stepped], p, stepped)
                    trial_opt.state[trial_params[name]] = _trial_state(state, p, k)
                # the latest gradients too: a log record reads their norms (training.diagnostics)
                trial_params[name].grad = None if p.grad is None else _contiguous_copy(p.grad[k])
        if self.ema is not None:
            self.ema.write(k, training)
        self._write_scheme(k, training)

    def _write_scheme(self, k: int, training: Training) -> None:
        """Trial ``k``'s slice of the stacked scheme state into its scheme (fresh tensors: a Training's own)."""
        scheme = training.scheme
        if isinstance(scheme, Optimistic):
            scheme.previous = {
                side: None if kept is None else [_contiguous_copy(t[k]) for t in kept.values()]
                for side, kept in self.previous.items()
            }
        elif isinstance(scheme, Lookahead):
            scheme.fast_steps = self.fast_steps
            for side, slow in self.slow.items():
                for mine, stacked in zip(scheme.slow[side], slow.values(), strict=True):
                    mine.copy_(stacked[k])

    def write_back(self) -> None:
        """Put every trial's weights, buffers, gradients, optimiser state and EMA into its Training: its ``state_dict``
        (read under :meth:`trial_rng`, or through :meth:`state_dict`) is then what a one-trial run holds."""
        for k in range(len(self.trainings)):
            self._write(k)

    def state_dict(self, k: int) -> dict:
        """Trial ``k``'s checkpoint, as its one-trial run would write it (its own RNG state included)."""
        self._write(k)
        with self.trial_rng(k):
            return self.trainings[k].state_dict()

    def drop(self, k: int) -> tuple[Training, RngState]:
        """Stop stepping trial ``k`` (the k-th still stepping: ``trials[k]`` is its original index), e.g. after it
        diverged: its Training, written back, and its RNG state; the others step on exactly as before."""
        if len(self.trainings) == 1:
            raise ValueError("cannot drop the last trial")
        self.write_back()
        training, rng = self.trainings.pop(k), self.rng_states.pop(k)
        del self.trials[k]
        self._stack()
        return training, rng


def _check_trainings(trainings: list[Training]) -> None:
    """Raise ValueError unless the Trainings can be stepped together: one config but the seed, one process,
    and networks that vmap exactly."""
    first = trainings[0]
    for training in trainings:
        if training.cfg.override({"train.seed": first.cfg.train.seed}) != first.cfg:
            raise ValueError("vectorised trials must share one config (all but train.seed)")
        if training.shard.world_size != 1:
            raise ValueError("vectorised trials run in one process (trials across processes are split by rank)")
    reason = vectorised_refusal(first.cfg, first.engine)
    reason = reason or next((r for m in first.players().values() if (r := network_refusal(m))), None)
    if reason:
        raise ValueError(f"these trials cannot be vectorised: {reason}")


def build_vectorised(
    cfgs: list[Config],
    log: Callable[[str], None] = print,
    compiled: bool = False,
    kind: type[VectorisedTrials] = VectorisedTrials,
) -> VectorisedTrials:
    """Build each config's Training (each seeds the global RNG, in a layout vmap takes) and capture its RNG state
    right after; ``compiled``: see :class:`VectorisedTrials`; ``kind``: it or a subclass (static, graphed steps)."""
    trainings, states = [], []
    for cfg in cfgs:
        trainings.append(build_training(cfg, log, vmapped=True))
        states.append(RngState.capture(trainings[-1].device))
    return kind(trainings, states, compiled)


def sequential_steps(cfgs: list[Config], log: Callable[[str], None]) -> Callable[[], None]:
    """A game step of each config's (fresh) Training, one after another."""
    trainings = [build_training(cfg, log) for cfg in cfgs]

    def step() -> None:
        for training in trainings:
            training.train_step()

    return step


def probe(
    cfgs: list[Config], steps: int = 3, log: Callable[[str], None] = lambda _: None, in_turn: bool = True
) -> tuple[float, float]:
    """Seconds per game step of all the ``cfgs``' trials: (one after another with ``train_step``, vectorised).

    Measured on throwaway Trainings, built afresh for each mode, the fastest of ``steps`` after one warm-up step
    each (:func:`~gankit.training.probes.interleaved_seconds`): timed in turn, with both modes' Trainings held at
    once, or (``in_turn=False``, where memory holds only one mode's) one mode after the other. The caller's global
    RNG state is restored.
    """
    device = resolve_device(cfgs[0].train.device)
    outer = RngState.capture(device)
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    try:
        if in_turn:
            ways = [sequential_steps(cfgs, log), build_vectorised(cfgs, log).step]
            sequential, vectorised = interleaved_seconds(ways, steps, sync=sync)
        else:
            (sequential,) = interleaved_seconds([sequential_steps(cfgs, log)], steps, sync=sync)
            (vectorised,) = interleaved_seconds([build_vectorised(cfgs, log).step], steps, sync=sync)
    finally:
        outer.restore(device)
    return sequential, vectorised
