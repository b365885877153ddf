"""The critic's layer norm: values, first and second derivatives equal nn.GroupNorm(1, C)'s, in any layout."""

import pytest
import torch
from torch import nn

from gankit.nets.norms import LayerNorm2d, layer_norm_2d

LAYOUTS = [torch.contiguous_format, torch.channels_last]


def _inputs(layout, dtype=torch.float64, seed=0, shape=(3, 4, 5, 6)):
    gen = torch.Generator().manual_seed(seed)
    x = (torch.randn(*shape, generator=gen, dtype=dtype) * 2 + 0.5).contiguous(memory_format=layout)
    w = torch.randn(4, generator=gen, dtype=dtype)
    b = torch.randn(4, generator=gen, dtype=dtype)
    return x.requires_grad_(), w.requires_grad_(), b.requires_grad_()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_first_and_second_derivatives_are_exact(layout):
    """gradcheck and gradgradcheck compare the closed forms with finite differences (all upstreams, incl. ∂w/∂b);
    on 2×4×3×4 inputs: gradgradcheck's cost grows with the square of the input's size."""
    x, w, b = _inputs(layout, shape=(2, 4, 3, 4))
    fn = lambda x, w, b: layer_norm_2d(x, w, b, 1e-5)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, w, b))
    assert torch.autograd.gradgradcheck(fn, (x, w, b))


def _penalty_and_grads(norm: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """A gradient-penalty-shaped use: ∇_x of a nonlinear score, its norm penalised, differentiated again."""
    x = x.detach().requires_grad_()
    score = (norm(x) ** 3).sum()
    (grad,) = torch.autograd.grad(score, x, create_graph=True)
    penalty = (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
    norm.zero_grad()
    penalty.backward()
    return [penalty.detach(), norm.weight.grad.clone(), norm.bias.grad.clone()]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_matches_group_norm_through_a_penalty(layout):
    x, w, b = _inputs(layout, seed=1)
    ours, ref = LayerNorm2d(4).double(), nn.GroupNorm(1, 4).double()
    with torch.no_grad():
        for m in (ours, ref):
            m.weight.copy_(w)
            m.bias.copy_(b)
    torch.testing.assert_close(ours(x), ref(x), rtol=1e-12, atol=1e-12)
    for got, want in zip(_penalty_and_grads(ours, x), _penalty_and_grads(ref, x), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-10)


def test_bf16_channels_last_keeps_dtype_layout_and_fp32_parameters():
    """Under autocast a bf16 channels_last map stays bf16 channels_last; its values are GroupNorm's to bf16 rounding,
    and the parameters' gradients are fp32."""
    torch.manual_seed(2)
    x = torch.randn(8, 16, 7, 7).bfloat16().contiguous(memory_format=torch.channels_last).requires_grad_()
    norm = LayerNorm2d(16)
    with torch.autocast("cpu", torch.bfloat16):
        y = norm(x)
    assert y.dtype == torch.bfloat16 and y.is_contiguous(memory_format=torch.channels_last)
    want = nn.functional.group_norm(x.detach().double(), 1, norm.weight.double(), norm.bias.double())
    err = (y.double() - want).abs().max().item()
    assert 0 < err < 0.05  # rounded to bf16 (8 bits), not computed in bf16 throughout
    (grad,) = torch.autograd.grad(y.float().pow(2).sum(), x, create_graph=True)
    grad.float().pow(2).sum().backward()
    assert norm.weight.grad.dtype == torch.float32 and torch.isfinite(norm.weight.grad).all()
    assert norm.weight.grad.abs().sum() > 0


def test_state_dict_is_group_norms():
    """Checkpoints of critics built with nn.GroupNorm(1, C) load into LayerNorm2d and back."""
    ours, ref = LayerNorm2d(8), nn.GroupNorm(1, 8)
    assert ours.state_dict().keys() == ref.state_dict().keys()
    ours.load_state_dict(ref.state_dict())
    assert isinstance(ours, nn.GroupNorm) and ours.num_groups == 1


def test_runs_on_the_meta_device():
    """Memory estimates pass a batch through the networks on the meta device."""
    y = LayerNorm2d(8).to("meta")(torch.empty(2, 8, 3, 3, device="meta"))
    assert y.shape == (2, 8, 3, 3) and y.device.type == "meta"
