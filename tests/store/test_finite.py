import pytest
import torch

from gankit.store.finite import nonfinite

NAN, INF = float("nan"), float("inf")


def _elementwise(tensors):
    return [k for k, t in tensors.items() if t.is_floating_point() and not torch.isfinite(t).all()]


def _cases():
    big32 = torch.finfo(torch.float32).max
    cases = {
        "nan": torch.tensor([1.0, NAN]),
        "+inf": torch.tensor([INF, 2.0]),
        "-inf": torch.tensor([-INF]),
        "both infs": torch.tensor([INF, -INF]),  # their sum is NaN
        "nan and inf": torch.tensor([NAN, INF]),
        "float32 max, a million times": torch.full((1_000_000,), big32),  # no overflow in the float64 sum
        "float32 lowest": torch.full((1000,), -big32),
        "float16 max": torch.full((100_000,), torch.finfo(torch.float16).max, dtype=torch.float16),
        "float16 inf": torch.tensor([1.0, INF], dtype=torch.float16),
        "bfloat16 max": torch.full((1000,), torch.finfo(torch.bfloat16).max, dtype=torch.bfloat16),
        "bfloat16 nan": torch.tensor([NAN], dtype=torch.bfloat16),
        "float64 whose sum overflows": torch.full((10,), torch.finfo(torch.float64).max, dtype=torch.float64),
        "float64 inf": torch.tensor([0.0, -INF], dtype=torch.float64),
        "float64 nan": torch.tensor([NAN], dtype=torch.float64),
        "empty": torch.zeros(0),
        "finite 2-D": torch.randn(64, 32),
        "nan in a 4-D": torch.zeros(8, 3, 4, 4).index_put_((torch.tensor([7]),), torch.tensor(NAN)),
        "non-contiguous inf": torch.zeros(6, 6)
        .index_put_((torch.tensor([5]), torch.tensor([0])), torch.tensor(INF))
        .t(),
        "ints are not floating": torch.tensor([1, 2]),
        "bools are not floating": torch.tensor([True]),
    }
    return cases


def test_nonfinite_names_exactly_the_tensors_an_elementwise_test_names_in_order():
    cases = _cases()
    found = nonfinite(cases)
    assert found == _elementwise(cases)
    assert found == [
        "nan",
        "+inf",
        "-inf",
        "both infs",
        "nan and inf",
        "float16 inf",
        "bfloat16 nan",
        "float64 inf",
        "float64 nan",
        "nan in a 4-D",
        "non-contiguous inf",
    ]


@pytest.mark.parametrize("name", list(_cases()))
def test_each_tensor_alone_is_judged_as_the_elementwise_test_judges_it(name):
    one = {name: _cases()[name]}
    assert nonfinite(one) == _elementwise(one)


def test_nothing_floating_is_nothing_non_finite():
    assert nonfinite({}) == []
    assert nonfinite({"step": torch.tensor(3)}) == []
