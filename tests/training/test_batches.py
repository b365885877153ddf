import pytest
import torch

from gankit.errors import DataError
from gankit.training.batches import EpochSampler


def test_each_example_once_per_epoch_and_last_partial_batch_dropped():
    s = EpochSampler(10, 3, seed=0)
    epoch0 = torch.cat([s.next() for _ in range(3)])
    assert len(set(epoch0.tolist())) == 9 and s.epoch == 0
    epoch1 = torch.cat([s.next() for _ in range(3)])
    assert s.epoch == 1 and len(set(epoch1.tolist())) == 9
    assert not torch.equal(epoch0, epoch1)


def test_state_round_trip_continues_identically():
    a = EpochSampler(50, 8, seed=1)
    for _ in range(9):
        a.next()
    b = EpochSampler(50, 8, seed=99)
    b.load_state_dict(a.state_dict())
    assert all(torch.equal(a.next(), b.next()) for _ in range(20))


def test_ranks_take_disjoint_slices_of_the_same_global_batch():
    r0, r1 = EpochSampler(40, 4, seed=3, rank=0, world_size=2), EpochSampler(40, 4, seed=3, rank=1, world_size=2)
    single = EpochSampler(40, 8, seed=3)
    for _ in range(7):
        assert torch.equal(torch.cat([r0.next(), r1.next()]), single.next())


def test_too_little_data():
    with pytest.raises(DataError, match="fewer than one batch of 64"):
        EpochSampler(10, 64, seed=0)
