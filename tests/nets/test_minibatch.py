import pytest
import torch

from gankit.nets import MinibatchDiscrimination, MinibatchStdDev


def test_minibatch_discrimination_depends_on_the_other_samples():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(8, kernels=6, kernel_dim=3)
    h = torch.randn(5, 8)
    out = layer(h)
    assert out.shape == (5, 8 + 6) and torch.equal(out[:, :8], h)
    other = h.clone()
    other[4] = torch.randn(8)  # change one *other* sample: sample 0's minibatch features change
    assert not torch.allclose(layer(other)[0, 8:], out[0, 8:])


def test_minibatch_discrimination_is_permutation_equivariant():
    torch.manual_seed(1)
    layer = MinibatchDiscrimination(8, kernels=6, kernel_dim=3)
    h, perm = torch.randn(7, 8), torch.randperm(7)
    torch.testing.assert_close(layer(h[perm]), layer(h)[perm])


def test_minibatch_discrimination_matches_salimans_definition():
    """o(x_i)_b = Σ_{j≠i} exp(−‖M_{i,b} − M_{j,b}‖₁), written out with loops."""
    torch.manual_seed(2)
    layer = MinibatchDiscrimination(4, kernels=3, kernel_dim=2)
    h = torch.randn(4, 4)
    m = (h @ layer.T).view(4, 3, 2)
    expected = torch.zeros(4, 3)
    for i in range(4):
        for j in range(4):
            if i != j:
                expected[i] += torch.exp(-(m[i] - m[j]).abs().sum(-1))
    torch.testing.assert_close(layer(h)[:, 4:], expected)
    assert layer(h[:1])[0, 4:].tolist() == [0.0, 0.0, 0.0]  # alone in its batch: nothing to compare with


def test_minibatch_stddev_feature():
    layer = MinibatchStdDev(3)
    same = torch.ones(4, 3)
    assert layer(same)[:, 3].tolist() == pytest.approx([1e-4] * 4, abs=1e-5)  # √(0 + 1e-8)
    h = torch.tensor([[0.0, 0.0, 0.0], [2.0, 4.0, 6.0]])  # per-feature std 1, 2, 3 → mean 2
    assert layer(h)[:, 3].tolist() == pytest.approx([2.0, 2.0], abs=1e-6)
