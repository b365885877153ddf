"""Layer normalisation over (C, H, W) with a closed-form second derivative: the WGAN-GP critic's norm.

The WGAN-GP critic normalises each sample over all its features (Gulrajani et al. 2017, sec. 4: layer
normalisation in place of batch normalisation, which would couple the samples that the penalty treats one by
one). The penalty differentiates the critic twice. PyTorch's group norm runs fused kernels forward and
backward, but gets its second derivative by recording its first-order backward as a graph of generic
operations on an (N, G, C/G, H·W) view in fp32, which on a channels_last bf16 map costs layout copies and
casts: about a quarter of the critic's step on the CPU measured. Here the forward and first-order backward
are PyTorch's fused group-norm kernels (one group), and the second derivative is written out as per-sample
reductions and element-wise operations that keep the input's memory layout:

    y = x̂·w + b,  x̂ = (x − μ)·r,  r = (σ² + ε)^(−1/2)   (μ, σ² over the M = C·H·W features of a sample)

    first order, for an upstream g:    a = g·w,  m = ⟨a·x̂⟩,  ∂x = r·(a − ⟨a⟩ − x̂·m),
                                       ∂w = Σ g·x̂,  ∂b = Σ g   (Σ over samples and positions, ⟨·⟩ a sample's mean)

    second order, for upstreams u (of ∂x), U_w, U_b:   v = ⟨u·x̂⟩,  d = r·(u − ⟨u⟩ − x̂·v),
        ∂g = w·d + U_w·x̂ + U_b,   ∂w = Σ g·d,
        ∂x = −r·(x̂·⟨u·∂x⟩ + m·d + v·∂x) + r·(t − ⟨t⟩ − x̂·⟨t·x̂⟩)  with t = U_w·g.

All of this is for the CPU, where it was measured; on a GPU the layer is the stock ``F.group_norm``
(:func:`layer_norm_2d`). On the CPU a bf16 input is normalised with fp32 statistics and fp32 parameters (the
kernels' mixed-precision mode) and the output stays bf16. The second derivative is computed in at least
fp32. Tested against ``nn.GroupNorm(1, C)`` with ``gradcheck`` and ``gradgradcheck`` in float64.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import FunctionCtx, once_differentiable

_DIMS = (1, 2, 3)  # a sample's features; reductions over them read any memory layout without copies


def _wide(t: Tensor) -> Tensor:
    """``t`` in at least fp32 (fp64 stays fp64)."""
    return t.to(torch.promote_types(t.dtype, torch.float32))


def _mean(t: Tensor) -> Tensor:
    return t.mean(dim=_DIMS, keepdim=True)


def _dense(t: Tensor, layout: torch.memory_format) -> Tensor:
    """``t`` in at least fp32, dense in ``layout``: element-wise kernels vectorise only when their operands share
    one dtype and one layout (mixed bf16/fp32 or NCHW/NHWC operands ran 5–10× slower on the CPU measured)."""
    return _wide(t).contiguous(memory_format=layout)


def _dot(p: Tensor, q: Tensor) -> Tensor:
    """⟨p·q⟩, a sample's mean of the product, as (N, 1, 1, 1)."""
    return _mean(p * q)


def _channel(t: Tensor) -> Tensor:
    """A per-channel vector as a (1, C, 1, 1) map for broadcasting."""
    return _wide(t).view(1, -1, 1, 1)


def _layout(x: Tensor) -> torch.memory_format:
    channels_last = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
    return torch.channels_last if channels_last else torch.contiguous_format


def _kernel_input(x: Tensor, weight: Tensor) -> Tensor:
    """What the fused kernels read: x dense in its layout; on the CPU in its own dtype (mixed bf16/fp32 is native
    there), elsewhere in w's dtype."""
    x = x.contiguous(memory_format=_layout(x))
    return x if x.device.type == "cpu" or x.dtype == weight.dtype else x.to(weight.dtype)


def _like(g: Tensor, x: Tensor) -> Tensor:
    """The upstream gradient in x's dtype and memory layout (the kernels read both in one layout)."""
    return g.to(x.dtype).contiguous(memory_format=_layout(x))


def _sizes(x: Tensor) -> tuple[int, int, int, int]:
    """(N, C, H·W, groups = 1), the kernels' arguments."""
    return x.shape[0], x.shape[1], x.shape[2] * x.shape[3], 1


class _LayerNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, weight: Tensor, bias: Tensor, eps: float) -> Tensor:
        xk = _kernel_input(x, weight)
        y, mean, rstd = torch.ops.aten.native_group_norm(xk, weight, bias, *_sizes(x), eps)
        ctx.save_for_backward(xk, weight, mean, rstd)
        ctx.dtype = x.dtype
        return y.to(x.dtype)

    @staticmethod
    def backward(ctx: FunctionCtx, g: Tensor) -> tuple[Tensor, Tensor, Tensor, None]:
        xk, weight, mean, rstd = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph: the gradient must be differentiable (the penalty)
            gx, gw, gb = _LayerNormGrad.apply(xk, weight, _like(g, xk), mean, rstd)
        else:
            gx, gw, gb = _group_norm_backward(xk, weight, _like(g, xk), mean, rstd, ctx.needs_input_grad[:3])
        return None if gx is None else gx.to(ctx.dtype), gw, gb, None


def _group_norm_backward(
    x: Tensor, weight: Tensor, g: Tensor, mean: Tensor, rstd: Tensor, mask: tuple[bool, ...]
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """The fused first-order backward: (∂x, ∂w, ∂b) for the outputs ``mask`` asks for."""
    return torch.ops.aten.native_group_norm_backward(g, x, mean, rstd, weight, *_sizes(x), list(mask))


class _LayerNormGrad(torch.autograd.Function):
    """(x, w, g) → (∂x, ∂w, ∂b): the first derivative (fused kernel), differentiable once in closed form."""

    @staticmethod
    def forward(
        ctx: FunctionCtx, x: Tensor, weight: Tensor, g: Tensor, mean: Tensor, rstd: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        ctx.save_for_backward(x, weight, g, mean, rstd)
        ctx.set_materialize_grads(False)
        return _group_norm_backward(x, weight, g, mean, rstd, (True, True, True))

    @staticmethod
    @once_differentiable
    def backward(
        ctx: FunctionCtx, u: Tensor | None, u_w: Tensor | None, u_b: Tensor | None
    ) -> tuple[Tensor | None, Tensor | None, Tensor | None, None, None]:
        x, weight, g, mean, rstd = ctx.saved_tensors
        layout = _layout(x)
        r = _wide(rstd).view(-1, 1, 1, 1)
        x_hat = (_dense(x, layout) - _wide(mean).view(-1, 1, 1, 1)) * r
        gf, w = _dense(g, layout), _channel(weight)
        dx = dg = dw = None
        if u is not None:  # every term is a per-sample scalar times x̂, u, a = g·w or d: few passes over memory
            a, uf = gf * w, _dense(u, layout)
            a_mean, m, u_mean, v, ua = _mean(a), _dot(a, x_hat), _mean(uf), _dot(uf, x_hat), _dot(uf, a)
            d = torch.addcmul(-r * u_mean, uf, r).addcmul_(x_hat, -r * v)  # r·(u − ⟨u⟩ − x̂·v)
            s = r * (ua - a_mean * u_mean - m * v)  # ⟨u·∂x⟩
            rrv = r * r * v
            dx = torch.addcmul(rrv * a_mean, x_hat, rrv * m - r * s).addcmul_(d, -r * m).addcmul_(a, -rrv)
            dg, dw = d * w, (gf * d).sum(dim=(0, 2, 3))
        if u_w is not None:
            t = gf * _channel(u_w)
            dx = _plus(dx, (t - _mean(t) - x_hat * _dot(t, x_hat)) * r)
            dg = _plus(dg, x_hat * _channel(u_w))
        if u_b is not None:
            dg = _plus(dg, _channel(u_b).expand_as(x_hat))
        return _cast(dx, x.dtype), _cast(dw, weight.dtype), _cast(dg, g.dtype), None, None


def _plus(total: Tensor | None, term: Tensor) -> Tensor:
    return term if total is None else total + term


def _cast(t: Tensor | None, dtype: torch.dtype) -> Tensor | None:
    return None if t is None else t.to(dtype)


def layer_norm_2d(x: Tensor, weight: Tensor, bias: Tensor, eps: float = 1e-5) -> Tensor:
    """Normalise each sample of an (N, C, H, W) map over (C, H, W), then scale and shift per channel.

    On the CPU (and the meta device) by the fused kernels above; on a GPU by ``F.group_norm``: CUDA's group-norm
    kernels take NCHW-contiguous maps only (channels_last input is refused), and the stock op is the one
    torch.compile knows how to lay out.
    """
    if x.device.type not in ("cpu", "meta"):
        return F.group_norm(x, 1, weight, bias, eps)
    return _LayerNorm.apply(x, weight, bias, eps)


class LayerNorm2d(nn.GroupNorm):
    """``nn.GroupNorm(1, C)`` (same parameters, state dict and initialisation) computed by :func:`layer_norm_2d`."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__(1, channels, eps=eps, affine=True)

    def forward(self, x: Tensor) -> Tensor:
        # No autocast region needed: autocast casts for ``group_norm``, not for the kernels called here, so the
        # function picks its own precisions (and also runs on the meta device, for memory estimates).
        return layer_norm_2d(x, self.weight, self.bias, self.eps)
