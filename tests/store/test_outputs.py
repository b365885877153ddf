import os

import pytest

from gankit.store.outputs import OutputError, check_output_file, check_output_folder, is_run_file, write_atomic


@pytest.fixture
def run(tmp_path):
    """The files that make a folder a run: config.json, metrics.jsonl and a checkpoint."""
    root = tmp_path / "run"
    (root / "checkpoints" / "step-00000002").mkdir(parents=True)
    (root / "checkpoints" / "step-00000002" / "state.json").write_text("{}")
    (root / "samples").mkdir()
    (root / "config.json").write_text("{}")
    (root / "metrics.jsonl").write_text("")
    return root


@pytest.mark.parametrize(
    "inner", ["config.json", "metrics.jsonl", "log.txt", "fid.jsonl", "checkpoints/step-00000002/state.json"]
)
def test_the_files_of_a_run_are_never_an_output(run, inner):
    assert is_run_file(run / inner)
    with pytest.raises(OutputError, match="is a file of the run"):
        check_output_file(run / inner)


def test_other_files_in_a_run_and_elsewhere_may_be_written(run, tmp_path):
    for path in (run / "report.html", run / "eval.json", tmp_path / "elsewhere" / "x.json"):
        assert check_output_file(path) == path
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "config.json").write_text("{}")  # not a run: no checkpoints, no metrics
    assert not is_run_file(tmp_path / "plain" / "config.json")


def test_a_folder_of_a_run_is_never_an_output_folder(run, tmp_path):
    with pytest.raises(OutputError, match="is a folder of a run"):
        check_output_folder(run / "checkpoints")
    assert check_output_folder(tmp_path / "new") == tmp_path / "new"


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda t: t, "is a folder; give a file name"),
        (lambda t: "/dev/null", "is not a regular file"),
        (lambda t: t / ("x" * 300 + ".json"), "is too long"),
        (lambda t: t / "file.txt" / "out.json", "is a file, not a folder"),
    ],
)
def test_bad_output_files_get_a_clear_error(tmp_path, make, message):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(OutputError, match=message):
        check_output_file(make(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_folder_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(OutputError, match="permission denied"):
        check_output_file(locked / "x.json")


def test_an_unwritable_folder_is_refused_even_for_root(tmp_path):
    with pytest.raises(OutputError, match="cannot write"):
        write_atomic("/proc/gankit-test/x.json", "{}")


def test_write_atomic_replaces_a_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")
    write_atomic(path, "new")
    assert path.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
