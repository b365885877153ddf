"""benchmarks/trials_limits.py on tiny shapes: the variants compute the same thing, the rows' structure, the profile's
groups (nothing here is timed or compared)."""

import torch
from torch import nn

from benchmarks import trials_limits


def test_the_product_variants_compute_the_same_products():
    x, w = torch.randn(3, 4, 5), torch.randn(3, 5, 6)
    batched, separate = (f() for f in trials_limits.product_variants(x, w).values())
    torch.testing.assert_close(batched, torch.stack(separate))


def test_the_maxout_variants_give_the_same_gradient():
    """Each variant is maxout over the same pieces (pieces outermost and the chain read them in that layout), so
    the gradient each sends back holds the same values, one per unit, rearranged."""
    grads = [f()[0] for f in trials_limits.maxout_variants(2, 3, 4, 5).values()]
    assert len(grads) == 4
    for g in grads:
        assert g.shape == (2, 3, 20) and (g != 0).sum() == 2 * 3 * 4  # one piece per unit gets the gradient
    torch.testing.assert_close(grads[0], grads[1])  # max and amax (no ties in random data)
    torch.testing.assert_close(grads[2], grads[3])  # pieces outermost: max and the chain of maximum
    torch.testing.assert_close(grads[0].sort(-1).values, grads[2].sort(-1).values)


def test_the_rows_carry_a_median_and_range_per_variant(monkeypatch):
    rows = trials_limits.product_rows(2, 2, 1, {"G": (3, 4, 5)})
    assert len(rows) == 1 and rows[0][0] == "G: 2 × 3×4 · 4×5" and all("(" in c for c in rows[0][1:])
    maxout = trials_limits.maxout_rows(2, 2, 1, (3, 4, 5))
    assert [r[0] for r in maxout] == ["max (current)", "amax (one-trial layer)", "pieces outermost", "chain of maximum"]
    assert trials_limits.cell([3.0, 1.0, 2.0], ".1f") == "2.0 (1.0–3.0)"
    peak = trials_limits.avx2_peak()  # GFLOP/s and how it was reckoned from the clock /proc/cpuinfo reports
    assert peak.split()[0].isdigit() and "GHz)" in peak


def test_the_profile_groups_products_maxout_bias_and_batch_norm():
    """A linear layer's product and bias, a batch norm and a max are each counted in their group; the rest of the
    step (its own time beside them) in "other"; the groups add up to the step."""
    lin, bn = nn.Linear(8, 8), nn.BatchNorm1d(8)
    x = torch.randn(16, 8)

    def step():
        y = bn(lin(x)).unflatten(-1, (4, 2)).max(-1).values
        (y.exp().sum()).backward()

    ms, total = trials_limits.profile_shares(step, 2)
    assert list(ms) == ["products", "maxout", "batch norm", "bias", "other"]
    assert all(ms[g] > 0 for g in ("products", "maxout", "batch norm")) and ms["other"] > 0
    assert abs(sum(ms.values()) - total) < 1e-6 * total
