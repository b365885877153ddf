import pytest
import torch

from gankit.errors import GankitError
from gankit.metrics.prdc import kth_neighbour_radii, precision_recall_density_coverage


def test_radii_are_distances_to_the_kth_other_point():
    x = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
    assert kth_neighbour_radii(x, 1).tolist() == pytest.approx([1.0, 1.0, 2.0, 4.0])
    assert kth_neighbour_radii(x, 2, chunk=3).tolist() == pytest.approx([3.0, 2.0, 3.0, 6.0])


def test_identical_sets_have_full_precision_recall_and_coverage():
    x = torch.randn(300, 5, generator=torch.Generator().manual_seed(0))
    m = precision_recall_density_coverage(x, x.clone(), k=5)
    assert (m.precision, m.recall, m.coverage) == (pytest.approx(1.0), pytest.approx(1.0), pytest.approx(1.0))
    assert m.density >= 1.0  # each point lies at least in its own ball


def test_disjoint_sets_score_zero():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(200, 3, generator=g), torch.randn(200, 3, generator=g) + 100.0
    m = precision_recall_density_coverage(x, y, k=3)
    assert m.to_dict() == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_hand_built_sets():
    real = torch.tensor([[0.0], [1.0], [2.0], [3.0]])  # k=1 radii: 1, 1, 1, 1
    fake = torch.tensor([[0.5], [10.0], [10.5], [11.5]])  # k=1 radii: 9.5, 0.5, 0.5, 1
    m = precision_recall_density_coverage(real, fake, k=1)
    assert m.precision == pytest.approx(1 / 4)  # only 0.5 lies in a real ball (two of them: 0 and 1)
    assert m.density == pytest.approx(2 / 4)
    assert m.coverage == pytest.approx(2 / 4)  # the balls of 0 and 1 hold a fake point
    assert m.recall == pytest.approx(1.0)  # every real point lies within 9.5 of 0.5


def test_too_few_samples_for_k_is_refused():
    with pytest.raises(GankitError, match="more than k"):
        precision_recall_density_coverage(torch.randn(5, 2), torch.randn(5, 2), k=5)


def test_the_distance_chunks_stay_bounded_at_any_number_of_samples(monkeypatch):
    """Issue 26: eval -n 200000 asked for 2,048 × 200,000 distances (1.6 GB) per chunk and died."""
    from gankit.metrics import prdc

    assert prdc.rows_per_chunk(200_000, 2048) * 200_000 * 4 <= prdc.CHUNK_BYTES
    assert prdc.rows_per_chunk(1000, 2048) == 2048 and prdc.rows_per_chunk(10**12, 2048) == 1
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(300, 4, generator=g), torch.randn(200, 4, generator=g) + 0.5
    whole = precision_recall_density_coverage(real, fake)
    monkeypatch.setattr(prdc, "CHUNK_BYTES", 4 * 300 * 7)  # 7 rows at a time
    assert precision_recall_density_coverage(real, fake) == whole
