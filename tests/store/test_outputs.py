import os
import stat

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
        write_atomic("/proc/gankit-test/x.json", "{}", fsync=False)


def test_write_atomic_replaces_a_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")
    write_atomic(path, "new", fsync=False)
    assert path.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_write_atomic_writes_text_as_utf8_with_the_umask_mode(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("old")
    old = os.umask(0o022)
    try:
        write_atomic(path, "new ✓", fsync=True)
    finally:
        os.umask(old)
    assert path.read_text(encoding="utf-8") == "new ✓" and [p.name for p in tmp_path.iterdir()] == ["config.json"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


@pytest.mark.parametrize("fsync", [True, False])
def test_write_atomic_syncs_the_file_and_its_folder_only_when_asked(tmp_path, monkeypatch, fsync):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.fstat(fd).st_mode) or real(fd))
    write_atomic(tmp_path / "out.bin", b"\x00\x01", fsync=fsync)
    assert (tmp_path / "out.bin").read_bytes() == b"\x00\x01"
    expected = [stat.S_IFREG, stat.S_IFDIR] if fsync else []
    assert [stat.S_IFMT(mode) for mode in synced] == expected


# -- outputs are checked by the file they land on; every file of a run is protected (issue 26, S1–S4, S7) ---------


def test_an_output_through_a_symbolic_link_into_a_run_is_refused(run, tmp_path):
    (tmp_path / "to-step").symlink_to(run / "checkpoints" / "step-00000002")
    (tmp_path / "to-checkpoints").symlink_to(run / "checkpoints")
    for path in (tmp_path / "to-step" / "state.json", tmp_path / "to-checkpoints" / "step-00000002" / "x.bin"):
        with pytest.raises(OutputError, match=f"is a file of the run {run}"):
            check_output_file(path)
    with pytest.raises(OutputError, match="is a folder of a run"):
        check_output_folder(tmp_path / "to-step")


def test_a_hard_link_to_a_run_file_is_refused(run, tmp_path):
    os.link(run / "config.json", tmp_path / "hard.json")
    with pytest.raises(OutputError, match="has 1 other hard link"):
        check_output_file(tmp_path / "hard.json")


@pytest.mark.parametrize(
    "inner,always",
    [
        (".lock", True),
        ("events.out.tfevents.1700000000.host.1.0", True),
        (".config.json.tmp-7", True),
        ("trial-03/config.json", True),
        ("notes.txt", False),  # a new name is free; an existing file is the run's
    ],
)
def test_every_file_of_a_run_is_protected(run, inner, always):
    if always:
        with pytest.raises(OutputError, match="is a file of the run"):
            check_output_file(run / inner)
    else:
        assert check_output_file(run / inner) == run / inner
    (run / inner).parent.mkdir(exist_ok=True)
    (run / inner).write_text("x")
    with pytest.raises(OutputError, match="is a file of the run"):
        check_output_file(run / inner)


@pytest.mark.parametrize(
    "files", [(".lock",), (".lock", "config.json"), (".lock", "config.json", "log.txt"), ("config.json", "log.txt")]
)
def test_a_young_run_is_a_run_from_its_lock_on(tmp_path, files):
    young = tmp_path / "young"
    young.mkdir()
    for name in files:
        (young / name).write_text("{}")
    for name in ("config.json", "log.txt", ".lock", "metrics.jsonl"):
        with pytest.raises(OutputError, match=f"is a file of the run {young}"):
            check_output_file(young / name)
    assert check_output_file(young / "report.html") == young / "report.html"


def test_gankits_own_outputs_and_new_names_at_a_runs_top_may_be_written(run, tmp_path):
    for name in ("eval.json", "report.html", "grid-class.png"):
        (run / name).write_text("old")
        assert check_output_file(run / name) == run / name
    assert check_output_file(run / "mine.npz") == run / "mine.npz"
    assert check_output_folder(run / "pngs") == run / "pngs"
    with pytest.raises(OutputError, match="is the folder of a run"):
        check_output_folder(run)
    assert check_output_folder(run, may_be_run=True) == run  # train --run-dir: check_run_dir says what to do


def test_a_symbolic_link_a_pipe_or_a_folder_is_never_renamed_over(tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("kept")
    (tmp_path / "link").symlink_to(target)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    for name, kind in (("link", "is a symbolic link"), ("fifo", "is not a regular file"), ("folder", "is a folder")):
        with pytest.raises(OutputError, match=kind):
            check_output_file(tmp_path / name)
        with pytest.raises(OutputError, match="nothing was replaced"):
            write_atomic(tmp_path / name, "new", fsync=True)
    assert (tmp_path / "link").is_symlink() and target.read_text() == "kept"
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode) and (tmp_path / "folder").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "folder", "link", "target.txt"]  # no temporary


def test_an_empty_output_path_is_refused():
    for check in (check_output_file, check_output_folder):
        with pytest.raises(OutputError, match="--out is empty"):
            check("")
