import os
import signal
import subprocess
import sys
import time

import pytest

from gankit.store.outputs import write_atomic
from gankit.store.tempfiles import TEMP_SUFFIX, is_temp_name, remove_stale, staged


def test_temporaries_are_named_uniquely_beside_their_target_and_removed_when_the_block_ends(tmp_path):
    target = tmp_path / "out.npz"
    with staged(target) as a, staged(target) as b, staged(target, folder=True) as c:
        assert a != b != c and {a.parent, b.parent, c.parent} == {tmp_path}
        assert all(is_temp_name(p.name) and p.name.startswith(".out.npz.") for p in (a, b, c))
        assert a.is_file() and c.is_dir()
    assert list(tmp_path.iterdir()) == []


def test_a_temporary_nobody_holds_is_removed_by_the_next_write_and_a_held_one_is_not(tmp_path):
    with staged(tmp_path / "other.json") as held:
        (tmp_path / f".out.json.1-dead{TEMP_SUFFIX}").write_text("left by a killed process")
        (tmp_path / f".pngs.2-dead{TEMP_SUFFIX}").mkdir()
        (tmp_path / f".pngs.2-dead{TEMP_SUFFIX}" / "000000.png").write_bytes(b"x")
        (tmp_path / ".not-ours.tmp").write_text("another tool's")
        write_atomic(tmp_path / "out.json", "{}", fsync=False)
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([held.name, ".not-ours.tmp", "out.json"])
        assert remove_stale(tmp_path) == []


@pytest.mark.slow
def test_the_temporary_of_a_killed_writer_is_removed_at_the_next_start(tmp_path):
    code = (
        "import sys, time\nfrom pathlib import Path\nfrom gankit.store.tempfiles import staged\n"
        "with staged(Path(sys.argv[1])) as tmp:\n    print(tmp, flush=True)\n    time.sleep(60)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "s.npz")], stdout=subprocess.PIPE, text=True)
    try:
        held = tmp_path / os.path.basename(writer.stdout.readline().strip())
        assert held.is_file() and remove_stale(tmp_path) == []  # its writer lives
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
        time.sleep(0.1)
        assert held.is_file() and remove_stale(tmp_path) == [held] and not held.exists()
    finally:
        writer.kill()
        writer.wait()
