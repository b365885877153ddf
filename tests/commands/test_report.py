from gankit.cli import main


def test_report_writes_its_output_atomically_beside_the_run(cgan_run, tmp_path, capsys):
    out = tmp_path / "r.html"
    out.write_text("old")
    assert main(["report", str(cgan_run), "--out", str(out)]) == 0
    assert "<html" in out.read_text() and sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]
