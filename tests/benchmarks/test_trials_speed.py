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

    def timings(cfgs, steps, rounds, compiled=False):
        asked.append(compiled)
        return 1.0, 0.5  # vectorised twice as fast

    monkeypatch.setattr(trials_speed, "seconds_per_step", timings)
    eager = trials_speed.measure({"pacgan-2d": (2,)}, 1, 1, None)
    compiled = trials_speed.measure({"pacgan-2d": (2,)}, 1, 1, None, compiled=True)
    assert asked == [False, True]
    assert eager[0][0] == "pacgan-2d" and eager[0][5] == "2.00× (vectorised)"
    assert compiled[0][0] == "pacgan-2d (compiled)" and compiled[0][4] == "2.00×"
    assert compiled[0][5] == "1.00× (one after another)"
