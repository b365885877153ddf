"""benchmarks/trials_speed.py: the table's cases, columns and refusals (nothing here is timed or compared)."""

import pytest

from benchmarks import trials_speed


@pytest.mark.slow  # runs the benchmark script (a full-size pacgan-2d step)
def test_a_short_run_writes_its_table_with_the_machine_and_the_refusals(tmp_path, capsys):
    doc = tmp_path / "benchmarks.md"
    trials_speed.main(["--cases", "pacgan-2d=2", "hinge=2", "--steps", "1", "--rounds", "1", "--doc", str(doc)])
    text = doc.read_text()
    assert "<!-- trials-speed: begin -->" in text and "## Many trials: vectorised against one after another" in text
    assert "Machine: " in text and "torch " in text  # the CPU model and ISA beside the figures
    rows = [line for line in text.splitlines() if line.startswith("| pacgan-2d") or line.startswith("| hinge")]
    assert len(rows) == 2
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert cells[:2] == ["pacgan-2d", "2"] and cells[4].endswith("×")
    assert cells[5].endswith(("(vectorised)", "(one after another)"))
    assert "not vectorised: spectral norm" in rows[1]
    assert "--cases pacgan-2d=2 hinge=2 --steps 1 --rounds 1" in text  # the command that made it


def test_cases_are_read_as_recipe_and_trial_counts():
    assert trials_speed.parse_cases(["lsgan=1,2", "pacgan-2d"]) == {"lsgan": (1, 2), "pacgan-2d": (1, 10, 50)}


def test_compiled_rows_are_labelled_and_auto_stays_one_after_another(monkeypatch):
    """``--compiled-cases``: rows "RECIPE (compiled)" timed with both modes compiled; runs refuse compiled vectorised
    trials, so ``auto`` there is one after another however fast the vectorised step was."""
    asked = []

    def timings(cfgs, steps, rounds, compiled=False, graphed=False):
        asked.append(compiled)
        return {"one after another": 1.0, "vectorised": 0.5}, None  # vectorised twice as fast

    monkeypatch.setattr(trials_speed, "seconds_per_step", timings)
    eager, _ = trials_speed.measure({"pacgan-2d": (2,)}, 1, 1, None)
    compiled, _ = trials_speed.measure({"pacgan-2d": (2,)}, 1, 1, None, compiled=True)
    assert asked == [False, True]
    assert eager[0][0] == "pacgan-2d" and eager[0][5] == "2.00× (vectorised)"
    assert compiled[0][0] == "pacgan-2d (compiled)" and compiled[0][4] == "2.00×"
    assert compiled[0][5] == "1.00× (one after another)"


def test_the_gpu_columns_give_the_graphed_mode_and_each_modes_share_of_the_peak(monkeypatch):
    """``--graphed --peak`` (the GPU table, issue 22 item 7): a graphed column and its ratio, the FLOPs of one trial's
    step and each mode's share of the measured peak, N × FLOPs ÷ seconds ÷ peak; where the graphed mode cannot run
    its cells are "–" and a note says why."""
    times = {"one after another": 1.0, "vectorised": 0.5, "graphed": 0.25}
    monkeypatch.setattr(trials_speed, "seconds_per_step", lambda *a: (times, None))
    monkeypatch.setattr(trials_speed, "trial_flops", lambda cfg: 10**9)  # 1 GFLOP per trial step
    setup = trials_speed.Setup("cpu", fp32=True, graphed=True, peak=True)
    rows, notes = trials_speed.measure({"pacgan-2d": (2,)}, 1, 1, None, setup=setup, peak=100.0)
    header = trials_speed.header(setup)
    assert dict(zip(header, rows[0], strict=True)) == {
        "recipe": "pacgan-2d",
        "N": "2",
        "one after another (trials/s)": "2.0",
        "vectorised (trials/s)": "4.0",
        "graphed (trials/s)": "8.0",
        "vectorised ÷ one after another": "2.00×",
        "graphed ÷ one after another": "4.00×",
        "auto": "2.00× (vectorised)",
        "GFLOP per trial step": "1.000",
        "% of fp32 peak (one after another · vectorised · graphed)": "2.00 · 4.00 · 8.00",  # 2, 4, 8 of 100 GFLOP/s
    }
    assert notes == [] and trials_speed.alignment(header) == "lrrrrrrlrl"
    monkeypatch.setattr(trials_speed, "seconds_per_step", lambda *a: ({k: times[k] for k in list(times)[:2]}, "why"))
    rows, notes = trials_speed.measure({"pacgan-2d": (2,)}, 1, 1, None, setup=setup, peak=100.0)
    assert rows[0][4] == rows[0][6] == "–" and rows[0][-1] == "2.00 · 4.00 · –"
    assert notes == ["pacgan-2d, N = 2: graphed not timed: why"]


@pytest.mark.slow  # times two full-size pacgan-2d trials both ways
def test_off_cuda_the_graphed_mode_is_reported_with_its_refusal():
    cfgs = trials_speed.Setup("cpu", fp32=True).configs("pacgan-2d", 2, None)
    assert [c.train.device for c in cfgs] == ["cpu", "cpu"] and cfgs[1].train.precision == "fp32"
    seconds, missing = trials_speed.seconds_per_step(cfgs, 1, 1, graphed=True)
    assert set(seconds) == {"one after another", "vectorised"} and min(seconds.values()) > 0
    assert missing == "CUDA graphs need a CUDA GPU, and this run's device is cpu"
