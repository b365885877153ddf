"""Mixed precision: autocast regions, fp32 losses, loss scaling with overflow, the penalty's unscaling."""

import pytest
import torch
from torch import nn

from gankit.device import native_bf16
from gankit.errors import ConfigError
from gankit.regularizers import gradient_penalty
from gankit.training import precision as precision_module
from gankit.training.precision import Precision, Timings, resolve_precision
from gankit.training.step import judge

CPU = torch.device("cpu")


def test_fp32_changes_nothing_and_bf16_computes_in_bf16():
    layer = nn.Linear(4, 3)
    x = torch.randn(2, 4)
    with Precision("fp32").autocast():
        assert layer(x).dtype == torch.float32
    with Precision("bf16").autocast():
        assert layer(x).dtype == torch.bfloat16
    assert layer.weight.dtype == torch.float32  # parameters (and so optimiser state and EMA) stay fp32


def test_judge_gives_fp32_logits_under_bf16():
    d = nn.Sequential(nn.Linear(4, 1), nn.Flatten(0))
    with Precision("bf16").autocast():
        out = judge(d, torch.randn(3, 4))
    assert out.logits.dtype == torch.float32


def test_without_a_probe_auto_follows_the_hardware_and_fp16_needs_cuda():
    native, _ = native_bf16(CPU)
    chosen, why, warning = resolve_precision("auto", CPU, images=True)
    assert chosen.name == ("bf16" if native else "fp32") and "auto" in why and warning is None
    assert resolve_precision("auto", CPU, images=False)[0].name == "fp32"  # 2-D toy nets
    assert resolve_precision("fp32", CPU, images=True)[0].name == "fp32"
    with pytest.raises(ConfigError, match="fp16 needs a CUDA device"):
        resolve_precision("fp16", CPU, images=True)


@pytest.mark.parametrize(
    "cap,amx,avx512_bf16",
    [("AVX2", False, False), ("avx512_core", False, False), ("AVX512_CORE_BF16", False, True), ("ALL", True, True)],
)
def test_bf16_units_that_onednn_is_capped_below_count_as_absent(monkeypatch, cap, amx, avx512_bf16):
    """``ONEDNN_MAX_CPU_ISA=AVX2`` on an AMX CPU (the suite's lower-ISA check): bf16 is emulated there, so ``auto``
    must not pick it as if the units were usable."""
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    native, what = native_bf16(CPU)
    assert native == (amx or avx512_bf16) and what.startswith("this CPU has AMX and AVX512-BF16")
    assert (f"ONEDNN_MAX_CPU_ISA={cap.upper()}" in what) == (not amx)
    assert resolve_precision("auto", CPU, images=True)[0].name == ("bf16" if native else "fp32")


def test_vectorised_trials_take_fp32_for_auto_on_every_machine_and_keep_an_explicit_bf16():
    """Vectorised trials are fp32 only: ``auto`` resolves to fp32 there even where bf16 would win (a fast probe), so
    ``--trials-mode vectorised`` works alike on AMX and AVX2 CPUs; an explicit bf16 stays bf16 (and is refused)."""
    calls: list = []
    chosen, why, _ = resolve_precision("auto", CPU, images=True, timings=_probe(0.1, 0.01, calls), vmapped=True)
    assert chosen.name == "fp32" and "vectorised trials are fp32 only" in why and not calls
    assert resolve_precision("auto", CPU, images=True, timings=_probe(0.1, 0.01))[0].name == "bf16"  # not vmapped
    assert resolve_precision("bf16", CPU, images=True, vmapped=True)[0].name == "bf16"


def _probe(fp32_s: float, bf16_s: float, calls: list | None = None):
    """A fake probe: fixed timings, counting its calls."""

    def timings() -> Timings:
        if calls is not None:
            calls.append(1)
        return Timings(fp32_s, bf16_s)

    return timings


@pytest.mark.parametrize(
    "fp32_s, bf16_s, chosen", [(0.1, 0.05, "bf16"), (0.1, 0.089, "bf16"), (0.1, 0.095, "fp32"), (0.1, 2.0, "fp32")]
)
def test_auto_on_a_cpu_picks_bf16_only_where_the_probe_measures_it_faster(fp32_s, bf16_s, chosen):
    precision, why, warning = resolve_precision("auto", CPU, images=True, timings=_probe(fp32_s, bf16_s))
    assert precision.name == chosen and warning is None
    assert why.startswith(f"precision {chosen} (auto: a step of these nets took {fp32_s * 1e3:.1f} ms in fp32 and ")
    assert f"{bf16_s * 1e3:.1f} ms in bf16 ({bf16_s / fp32_s:.2f}×)" in why


def test_the_probe_runs_only_where_it_decides_something(monkeypatch):
    calls = []
    assert resolve_precision("auto", CPU, images=False, timings=_probe(0.1, 0.01, calls))[0].name == "fp32"
    assert resolve_precision("fp32", CPU, images=True, timings=_probe(0.1, 0.01, calls))[2] is None
    monkeypatch.setattr(precision_module, "native_bf16", lambda device: (True, "NVIDIA H200"))
    gpu = resolve_precision("auto", torch.device("cuda"), images=True, timings=_probe(0.1, 0.01, calls))
    assert gpu[0].name == "fp32" and calls == []


def test_a_forced_bf16_that_measures_far_slower_warns_with_the_ratio():
    precision, why, warning = resolve_precision("bf16", CPU, images=True, timings=_probe(0.0201, 0.4221))
    assert precision.name == "bf16" and why == "precision bf16 (train.precision)"  # what was asked for is kept
    assert warning == (
        "warning: train.precision=bf16 measured 21.0× slower than fp32 on this machine (422 vs 20 ms a step: "
        "bf16 is emulated or slow here); train.precision=auto picks the faster"
    )
    assert resolve_precision("bf16", CPU, images=True, timings=_probe(0.1, 0.14))[2] is None  # 1.4×: no warning
    assert resolve_precision("bf16", CPU, images=True, timings=_probe(0.1, 0.16))[2] is not None  # 1.6×: warns


def test_auto_precision_is_fp32_on_a_gpu_even_with_bf16_units(monkeypatch):
    """Measured on an H200: these launch-bound nets ran slower in bf16 than in fp32 (docs/benchmarks.md)."""
    monkeypatch.setattr(precision_module, "native_bf16", lambda device: (True, "NVIDIA H200"))
    chosen, why, _ = resolve_precision("auto", torch.device("cuda"), images=True)
    assert chosen.name == "fp32" and chosen.device_type == "cuda"
    assert "NVIDIA H200" in why and "launch-bound" in why
    assert resolve_precision("bf16", torch.device("cuda"), images=True)[0].name == "bf16"  # asked for: kept


def _scaled() -> tuple[Precision, nn.Parameter, torch.optim.Optimizer]:
    """fp16 loss scaling on the CPU (GradScaler runs there): the logic is device-independent."""
    p = nn.Parameter(torch.tensor([1.0, -2.0]))
    return Precision("fp16", "cpu"), p, torch.optim.SGD([p], lr=0.5)


def test_loss_scaler_gives_true_gradients_and_skips_an_overflowing_step():
    precision, p, opt = _scaled()
    scale = precision.scaler(opt).get_scale()
    assert scale > 1  # the loss really is scaled
    precision.backward((p**2).sum(), opt)
    assert torch.equal(p.grad, 2 * p.detach())  # unscaled right after backward: true gradients
    assert precision.step(opt) is True
    assert torch.allclose(p.detach(), torch.tensor([0.0, 0.0]))
    # forced overflow: the step is skipped, the weights are untouched and the scale falls
    p.data = torch.tensor([1.0, -2.0])
    opt.zero_grad()
    precision.backward(p.sum() * torch.tensor(float("inf")), opt)
    assert precision.step(opt) is False
    assert torch.equal(p.detach(), torch.tensor([1.0, -2.0]))
    assert precision.scaler(opt).get_scale() < scale
    # and training goes on with the lower scale
    opt.zero_grad()
    precision.backward((p**2).sum(), opt)
    assert torch.equal(p.grad, 2 * p.detach()) and precision.step(opt) is True


def test_each_player_has_its_own_scaler_and_the_state_round_trips():
    precision, _, opt = _scaled()
    other = torch.optim.SGD([nn.Parameter(torch.ones(1))], lr=0.1)
    assert precision.scaler(opt) is not precision.scaler(other)
    precision.scaler(opt).update(new_scale=8.0)
    state = precision.state_dict({"generator": opt, "discriminator": other})
    fresh = Precision("fp16", "cpu")
    fresh.load_state_dict(state, {"generator": opt, "discriminator": other})
    assert fresh.scaler(opt).get_scale() == 8.0
    assert Precision("bf16").state_dict({"generator": opt}) == {}


def test_the_penalty_is_unscaled_before_its_norm():
    """With loss scale S, ∇(S·D(x̂)) / S is the true gradient: the penalty and its gradient do not depend on S
    (the peers' bug, the norm of the scaled gradient, would give (S‖∇D‖ − 1)² instead)."""
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0))
    real, fake = torch.randn(5, 3, 2, 2), torch.randn(5, 3, 2, 2)

    def penalty_and_grads(scale):
        gp = gradient_penalty(critic, real, fake, torch.Generator().manual_seed(1), loss_scale=scale)
        weights = [p for p in critic.parameters() if p.dim() == 2]  # (biases of the last layer do not enter ∇ₓD)
        return gp, torch.autograd.grad(gp, weights)

    gp1, grads1 = penalty_and_grads(1.0)
    gp_s, grads_s = penalty_and_grads(torch.tensor(1024.0))
    assert torch.allclose(gp_s, gp1, rtol=1e-6)
    for a, b in zip(grads1, grads_s, strict=True):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-7)
    # what the unscaled norm of a scaled gradient would give instead
    x = real.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x).sum() * 1024, x)
    assert ((g.flatten(1).norm(dim=1) - 1) ** 2).mean() > 100 * gp1
