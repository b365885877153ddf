"""The fast engine: every recipe in bf16 and compiled, the penalty on the eager D, layouts, time budgets."""

import copy
import functools
import json
import os
import platform
import subprocess
import sys

import pytest
import torch

from gankit.latent import Latent
from gankit.recipes import RECIPES
from gankit.store.checkpoint import list_checkpoints
from gankit.store.resume import resume_config
from gankit.training import engine
from gankit.training.precision import Precision
from gankit.training.state import build_training
from gankit.training.step import GAN, Batch, discriminator_gradients, generator_gradients, unwrap
from gankit.training.trainer import train
from tests.helpers import slow_unless, tiny

SCHEMES = ["simultaneous", "extragradient", "optimistic", "lookahead"]
CASES = [(name, "alternating") for name in RECIPES] + [("dcgan", scheme) for scheme in SCHEMES]


def _trains(training, steps: int = 3) -> None:
    if training.engine.precision.scaled:  # fp16: the first updates may overflow at GradScaler's initial scale
        steps = 12  # (2**16) and be skipped, halving the scale each time
    before = [p.detach().clone() for p in training.gan.generator.parameters()]
    for _ in range(steps):
        stats = training.train_step()
    assert all(torch.isfinite(v) for v in stats.values()), stats
    assert any(not torch.equal(a, b) for a, b in zip(before, training.gan.generator.parameters(), strict=True))


# fp16 (loss-scaled) runs on CUDA only: on a GPU (GANKIT_TEST_DEVICE=cuda) every case runs in both 16-bit types
PRECISIONS = ["bf16", "fp16"] if os.environ.get("GANKIT_TEST_DEVICE", "cpu").startswith("cuda") else ["bf16"]


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("name,scheme", slow_unless(CASES, [("dcgan", "alternating"), ("wgan-gp", "alternating")]))
def test_every_recipe_and_scheme_trains_in_16_bits(name, scheme, precision):
    """Batches of 8: bf16 is emulated on CPUs without AVX-512 BF16, and InfoGAN's and the MNIST conv nets' fixed
    widths (``tiny`` cannot narrow them) made their cases take 3–5 s at 16."""
    cfg = tiny(name, **{"train.precision": precision, "train.scheme": scheme, "train.batch_size": 8})
    training = build_training(cfg, log=lambda _: None)
    assert training.engine.precision.name == precision
    assert training.engine.channels_last == (training.data.x.dim() == 4)
    _trains(training)


# torch.compile wraps G and D (gankit.training.engine.compiled); losses, optimisers, the encoder and the schemes run
# eagerly around them. A recipe brings a new compiled code path only through its nets or the way the step calls
# them. Each case traces for 2–5 s on a CPU (G and D, D again with Q or without grad), whatever it then trains, so
# the paths of the DCGAN-net recipes are compiled together in three cases, and each scheme that rewrites the
# compiled modules' parameters on nets of another family:
COMPILED_CASES = {  # id: (recipe, overrides)
    # DCGAN nets, batch-norm D, Adam (dcgan); labels into G and D (cgan); the minibatch-discrimination layer (mbd);
    # G reads D's features on real and fake batches (fm); G's step reads D(real) with D frozen (rsgan)
    "dcgan-remedies": (
        "cgan",
        {"model.minibatch": "discrimination", "loss.feature_matching": 1.0, "loss.objective": "relativistic"},
    ),
    # weight clipping of the compiled D's parameters, RMSProp, n_critic 5 (wgan); spectral-norm parametrisations
    # inside the compiled D (hinge)
    "critic-clipped-spectral": ("wgan", {"model.spectral_norm": True, "model.d_norm": "none"}),
    # layer-norm D, the penalty differentiates the eager D beside the compiled one (wgan-gp); the eager encoder
    # feeds G (an input that requires grad) and G reads real batches (mdgan)
    "critic-penalty-encoder": ("wgan-gp", {"loss.reconstruction_weight": 0.2, "loss.mode_weight": 0.4}),
    # the MLP nets, batch norm in G; extragradient: both gradients before either update, parameters snapshotted
    # and restored
    "mlp-extragradient": ("gan", {"train.scheme": "extragradient"}),
    # maxout MLP nets, packed vectors; optimistic: parameters rewritten under no_grad after each player's update
    "maxout-optimistic": ("pacgan-2d", {"train.scheme": "optimistic"}),
    "lsgan": ("lsgan", {}),  # the MNIST conv nets
    "infogan": ("infogan", {}),  # InfoGAN's D with the Q head (D called with and without Q), codes in z
    "pacgan-veegan": ("pacgan-veegan", {}),  # the TF DCGAN nets, packed images, 2 G steps on shared noise
    "pacgan-stacked": ("pacgan-stacked", {}),  # the small DCGAN nets, packed RGB images
}
COVERED_BY = {  # each case of CASES, and the compiled case that compiles its nets called its way
    ("gan", "alternating"): "mlp-extragradient",
    ("nsgan", "alternating"): "mlp-extragradient",  # the same MLP nets; only the (eager) loss differs
    ("dcgan", "alternating"): "dcgan-remedies",
    ("dcgan-stacked", "alternating"): "dcgan-remedies",  # the same nets on 3 channels
    ("lsgan", "alternating"): "lsgan",
    ("hinge", "alternating"): "critic-clipped-spectral",
    ("wgan", "alternating"): "critic-clipped-spectral",
    ("wgan-gp", "alternating"): "critic-penalty-encoder",
    ("cgan", "alternating"): "dcgan-remedies",
    ("infogan", "alternating"): "infogan",
    ("fm", "alternating"): "dcgan-remedies",
    ("mbd", "alternating"): "dcgan-remedies",
    ("mdgan", "alternating"): "critic-penalty-encoder",
    ("pacgan2", "alternating"): "pacgan-veegan",  # packed DCGAN-family images
    ("pacgan-2d", "alternating"): "maxout-optimistic",
    ("pacgan-veegan", "alternating"): "pacgan-veegan",
    ("pacgan-stacked", "alternating"): "pacgan-stacked",
    ("rsgan", "alternating"): "dcgan-remedies",
    ("ragan", "alternating"): "dcgan-remedies",  # relativistic losses: the same calls, other formulas
    ("ralsgan", "alternating"): "dcgan-remedies",
    ("dcgan", "simultaneous"): "mlp-extragradient",  # the joint gradients, applied once
    ("dcgan", "extragradient"): "mlp-extragradient",
    ("dcgan", "optimistic"): "maxout-optimistic",
    ("dcgan", "lookahead"): "maxout-optimistic",  # alternating steps, then (after k=5) parameters rewritten
}
assert set(COVERED_BY) == set(CASES) and set(COVERED_BY.values()) == set(COMPILED_CASES)


@pytest.mark.parametrize("case", slow_unless(list(COMPILED_CASES), ["dcgan-remedies"]))
def test_every_recipe_and_scheme_trains_compiled(case, monkeypatch):
    """torch.compile traced through dynamo and AOT autograd (the ``aot_eager`` backend: every graph break,
    guard and autograd trace of inductor, without its code generation, which takes minutes per recipe); every
    compiled code path of the recipes and schemes (``COMPILED_CASES``, ``COVERED_BY``)."""
    recipe, overrides = COMPILED_CASES[case]
    monkeypatch.setattr(engine.torch, "compile", functools.partial(torch.compile, backend="aot_eager"))
    torch._dynamo.reset()  # each case's modules start with an empty compile cache, as in its own process
    training = build_training(tiny(recipe, **{"train.compile": "on", **overrides}), log=lambda _: None)
    assert unwrap(training.gan.generator) is not training.gan.generator  # really compiled
    assert unwrap(training.gan.discriminator) is not training.gan.discriminator
    _trains(training)


@pytest.mark.slow
def test_the_cudagraphs_mode_compiles_both_players_and_trains():
    """``train.compile=cudagraphs``: torch.compile's cudagraphs backend (AOT-traced; on a CPU no graph is captured
    and the traced kernels run eagerly, which is what this checks; the GPU run is in docs/benchmarks.md)."""
    torch._dynamo.reset()
    training = build_training(tiny("wgan-gp", **{"train.compile": "cudagraphs"}), log=lambda _: None)
    assert training.engine.compile_mode == "cudagraphs"
    assert unwrap(training.gan.generator) is not training.gan.generator
    assert unwrap(training.gan.discriminator) is not training.gan.discriminator
    _trains(training)


@pytest.mark.slow
def test_the_penalty_of_a_compiled_critic_equals_the_eager_one():
    """Inductor-compiled D: the gradient penalty is taken on the eager D (double backward does not run through
    compiled graphs), so its value and D's gradients equal the eager run's (to float rounding of D's compiled
    first-order pass)."""
    torch._dynamo.reset()
    cfg = {"train.precision": "fp32", "train.n_critic": 1}
    eager = build_training(tiny("wgan-gp", **cfg, **{"train.compile": "off"}), log=lambda _: None)
    fast = build_training(tiny("wgan-gp", **cfg, **{"train.compile": "on"}), log=lambda _: None)
    assert unwrap(fast.gan.discriminator) is not fast.gan.discriminator
    results = []
    for training in (eager, fast):
        torch.manual_seed(3)
        stats = discriminator_gradients(training.gan, training.losses, training.next_real(), training.sample_z())
        grads = [p.grad.clone() for p in unwrap(training.gan.discriminator).parameters()]
        results.append((stats, grads))
    (s0, g0), (s1, g1) = results
    assert s0["gp"] > 0 and torch.allclose(s0["gp"], s1["gp"], rtol=1e-5, atol=1e-7)
    assert torch.allclose(s0["d_loss"], s1["d_loss"], rtol=1e-5, atol=1e-6)
    for a, b in zip(g0, g1, strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6)


def test_engine_choices_are_logged_with_reasons():
    lines = []
    build_training(tiny("dcgan", **{"train.precision": "fp32", "train.compile": "off"}), log=lines.append)
    line = next(line for line in lines if line.startswith("engine:"))
    assert "precision fp32 (train.precision)" in line and "eager (train.compile=off)" in line
    threads = f"{torch.get_num_threads()} intra-op threads, {torch.get_num_interop_threads()} inter-op"
    assert threads in line and ("default memory layout" in line or "channels_last" in line)
    assert ("freed memory reused" in line) == (platform.libc_ver()[0] == "glibc")


FAULTS_SCRIPT = """
import ctypes, resource, sys
import torch
from gankit.training import engine
from gankit.training.precision import Precision

def faults_per_round(rounds=3):
    # minor page faults per round of allocating three 10 MiB tensors and freeing them (after a first round)
    for r in range(rounds + 1):
        if r == 1:
            start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        xs = [torch.ones(10 << 18) for _ in range(3)]
        del xs
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start) / rounds

libc = ctypes.CDLL(None)
assert libc.mallopt(engine.M_MMAP_THRESHOLD, 128 << 10) and libc.mallopt(engine.M_TRIM_THRESHOLD, 128 << 10)
before = faults_per_round()
reason = engine.keep_freed_memory()
faults_per_round()  # the heap grows to the rounds' size once
print(before, faults_per_round(), reason, sep="|")
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")
def test_freed_memory_is_reused_rather_than_faulted_in_again():
    """glibc's default: tensors above 128 KiB are fresh maps and 30 MiB freed at once goes back to the kernel, so
    each round faults its 7,680 pages in again; after ``keep_freed_memory`` the freed blocks are reused. Measured in
    a fresh process: in this one, a heap that earlier tests grew would serve the blocks without faults either way."""
    out = subprocess.run([sys.executable, "-c", FAULTS_SCRIPT], capture_output=True, text=True, check=True).stdout
    before, after, reason = out.strip().split("|")
    assert float(before) > 5000 and float(after) < 100 and "freed memory reused" in reason


@pytest.mark.parametrize(
    "isa,vmapped,layout",
    [
        ("AVX2", False, "channels_last"),
        ("AVX2", True, "default memory layout"),
        ("AVX512", False, "default memory layout"),
    ],
)
def test_fp32_conv_nets_go_channels_last_on_avx2_cpus_unless_they_have_batch_norm(monkeypatch, isa, vmapped, layout):
    """oneDNN's NHWC fp32 convolutions and max pooling were measured faster on an AVX2-only CPU and not on an AVX-512
    one (docs/benchmarks.md); nets with a batch norm keep the default layout (its channels_last kernels are inaccurate
    in fp32), and so do vectorised trials (vmap cannot take channels_last through the gradient penalty)."""
    monkeypatch.setattr(engine.torch.backends.cpu, "get_cpu_capability", lambda: isa)
    lines = []
    training = build_training(tiny("lsgan", **{"train.precision": "fp32"}), log=lines.append, vmapped=vmapped)
    cl = layout == "channels_last"
    assert training.engine.channels_last == cl and layout in next(x for x in lines if "engine:" in x)
    G, D = unwrap(training.gan.generator), unwrap(training.gan.discriminator)
    assert engine.has_batch_norm(G) and not engine.has_batch_norm(D)
    for net, expected in ((D, cl), (G, False)):
        conv = max((p for p in net.parameters() if p.dim() == 4), key=torch.numel)
        assert conv.is_contiguous(memory_format=torch.channels_last) == expected
    assert engine.memory_layout(Precision("bf16", "cpu"), torch.device("cpu"), images=True)[0]


def _draw_fp32(*args, dtype=None, **kwargs):
    """torch.rand drawn in fp32 and cast: the float64 step's penalty gets the fp32 step's interpolation weights."""
    return RAND(*args, **kwargs).to(dtype or torch.float32)


RAND = torch.rand


def _step_gradients(training, G, D, batch, z_d, z_g, dtype) -> dict[str, torch.Tensor]:
    """D's gradients of one D step and G's of one G step (from the same weights) with the nets G, D in ``dtype``."""
    gan = GAN(G, D, torch.optim.SGD(G.parameters(), lr=0.0), torch.optim.SGD(D.parameters(), lr=0.0))
    cast = functools.partial(torch.Tensor.to, dtype=dtype)
    torch.manual_seed(5)  # the penalty's ε
    discriminator_gradients(gan, training.losses, Batch(cast(batch.x), batch.y), Latent(cast(z_d.z), z_d.y))
    generator_gradients(gan, training.losses, Latent(cast(z_g.z), z_g.y), Batch(cast(batch.x), batch.y))
    return {f"{tag}.{k}": p.grad.double() for tag, net in (("G", G), ("D", D)) for k, p in net.named_parameters()}


def _error(grads: dict[str, torch.Tensor], reference: dict[str, torch.Tensor], net: str) -> float:
    """The largest gradient error of a net's parameters, as a share of its largest gradient (float64's)."""
    keys = [k for k in reference if k.startswith(net)]
    largest = max(float(reference[k].abs().max()) for k in keys)
    return max(float((grads[k] - reference[k]).abs().max()) for k in keys) / largest


# How much worse than the default layout's own fp32 error (against float64) the engine's layout may be. Measured on a
# 2-core AVX2 EPYC (1 and 2 threads): the engine's layout 0.9–1.1× the default layout's error (2e-6 to 2e-3 of the
# largest gradient); every net channels_last, batch norms too: 34× (wgan-gp's D) to 7,000× (lsgan's G), except dcgan
# at this batch, whose default-layout error (1e-3) is as large.
LAYOUT_ERROR_RATIO = 4.0


@functools.cache
def _layout_case(name: str) -> tuple:
    """The fp32 training of ``name`` on an AVX2 CPU, its inputs (a real batch, z for D's and G's steps) and the
    float64 gradients of both steps: the reference both thread counts' cases compare with (float64's rounding, 1e-16,
    is far below the fp32 errors measured)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine.torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
        widths = {"model.g_width": 64, "model.d_width": 64, "data.limit": 512, "train.batch_size": 64}
        cfg = tiny(name, **{"train.precision": "fp32", "train.compile": "off"}, **widths)
        training = build_training(cfg, lambda _: 0)
        G, D = unwrap(training.gan.generator), unwrap(training.gan.discriminator)
        torch.manual_seed(0)
        inputs = training.next_real(), training.sample_z(), training.sample_z()
        mp.setattr(torch, "rand", _draw_fp32)
        exact = [copy.deepcopy(net).double().to(memory_format=torch.contiguous_format) for net in (G, D)]
        reference = _step_gradients(training, *exact, *inputs, torch.float64)
    return training, inputs, reference


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", slow_unless(["lsgan", "dcgan", "wgan-gp", "infogan"], ["infogan"]))
def test_fp32_gradients_in_the_engines_layout_are_as_accurate_as_the_default_layouts(name, threads):
    """One D step's and one G step's gradients on a real batch, in the engine's layout (on an AVX2 CPU: channels_last
    for nets without batch norm), against the same nets and inputs in float64: no worse than the default layout's own
    fp32 error. With every net channels_last, InfoGAN's G gradients were 5e-3 off (the default layout's: 3e-6)."""
    training, inputs, reference = _layout_case(name)
    assert training.engine.channels_last
    G, D = unwrap(training.gan.generator), unwrap(training.gan.discriminator)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        ours = _step_gradients(training, G, D, *inputs, torch.float32)
        default = [copy.deepcopy(net).to(memory_format=torch.contiguous_format) for net in (G, D)]
        theirs = _step_gradients(training, *default, *inputs, torch.float32)
    finally:
        torch.set_num_threads(before)
    for net in ("G", "D"):
        default_error, error = _error(theirs, reference, net), _error(ours, reference, net)
        assert 1e-8 < default_error < 1e-2, (net, default_error)  # fp32 rounding, compared with float64
        assert error <= LAYOUT_ERROR_RATIO * default_error, (net, error, default_error)


def test_optimisers_use_fused_or_foreach_kernels():
    adam = build_training(tiny("dcgan"), log=lambda _: None).gan.d_optimizer
    rmsprop = build_training(tiny("wgan"), log=lambda _: None).gan.d_optimizer
    assert adam.param_groups[0]["fused"] is True and rmsprop.param_groups[0]["foreach"] is True


def test_a_time_budget_ends_the_run_with_its_record_grid_and_checkpoint(tmp_path):
    cfg = tiny("dcgan", **{"train.time_budget": 1.0, "train.steps": 1, "train.log_every": 1000})
    training = train(cfg, tmp_path / "run", echo=False)
    assert training.step > 1  # train.steps is ignored under a budget
    assert 1.0 <= training.elapsed_s < 60
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["step"] == training.step  # the steps since the last record are written
    assert (tmp_path / "run" / "samples" / f"step-{training.step:08d}.png").is_file()
    assert list_checkpoints(tmp_path / "run" / "checkpoints")[-1].name == f"step-{training.step:08d}"


def test_a_time_budget_limits_one_invocation_a_resumed_run_gets_it_afresh(tmp_path):
    cfg = tiny("dcgan", **{"train.steps": 5})
    first = train(cfg, tmp_path / "run", echo=False)
    spent = first.elapsed_s
    again = train(
        resume_config(tmp_path / "run", {"train.time_budget": spent / 2}), tmp_path / "run", resume=True, echo=False
    )
    assert again.step > first.step  # the earlier time does not count against this invocation's budget
    assert spent < again.elapsed_s < spent + 60  # elapsed_s still counts the run's whole time


def test_new_steps_on_resume_clear_a_saved_time_budget(tmp_path):
    train(tiny("dcgan", **{"train.time_budget": 0.5, "train.steps": 1}), tmp_path / "run", echo=False)
    cfg = resume_config(tmp_path / "run", {"train.steps": 1000})
    assert cfg.train.time_budget is None and cfg.train.steps == 1000
    both = resume_config(tmp_path / "run", {"train.steps": 1000, "train.time_budget": 2.0})
    assert both.train.time_budget == 2.0  # a budget given with the steps is kept


@pytest.mark.slow
def test_a_compiled_run_resumes_where_it_stopped(tmp_path, monkeypatch):
    """Checkpoints of a compiled run hold the plain modules' state (no ``_orig_mod.`` keys), and resuming
    continues the same run: equal to the straight run to float tolerance (compiled kernels may round
    differently from one compilation to the next; rtol 1e-5)."""
    monkeypatch.setattr(engine.torch, "compile", functools.partial(torch.compile, backend="aot_eager"))
    torch._dynamo.reset()
    base = {"train.compile": "on", "train.precision": "fp32", "data.limit": 64}
    straight = train(tiny("dcgan", **base, **{"train.steps": 6}), tmp_path / "a", echo=False)
    train(tiny("dcgan", **base, **{"train.steps": 3}), tmp_path / "b", echo=False)
    resumed = train(resume_config(tmp_path / "b", {"train.steps": 6}), tmp_path / "b", resume=True, echo=False)
    assert resumed.step == 6
    for net in ("generator", "discriminator"):
        a, b = unwrap(getattr(straight.gan, net)).state_dict(), unwrap(getattr(resumed.gan, net)).state_dict()
        assert a.keys() == b.keys() and not any("_orig_mod" in k for k in a)
        for k in a:
            assert torch.allclose(a[k].float(), b[k].float(), rtol=1e-5, atol=1e-6), (net, k)
