"""What a speed figure names (``gankit.device``): the CPU model, the kernels' instruction set and the bf16 units."""

import pytest
import torch

from gankit.device import bf16_units, cpu_model, describe_machine


@pytest.mark.parametrize(
    "amx,avx512_bf16,named",
    [(True, True, " with AMX and AVX512-BF16, "), (False, True, " with AVX512-BF16, "), (False, False, ", ")],
)
def test_the_machine_names_its_bf16_units_beside_the_kernels_isa(monkeypatch, amx, avx512_bf16, named):
    """An AVX-512 CPU with AMX and one without bf16 units both report AVX512 kernels, and bf16's speed differs
    ~20× between them: the description must tell them apart."""
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    text = describe_machine(torch.device("cpu"))
    assert text.startswith(f"{cpu_model()} (AVX512){named}{torch.get_num_threads()} threads, torch ")
    assert bf16_units() == [u for u, has in (("AMX", amx), ("AVX512-BF16", avx512_bf16)) if has]
