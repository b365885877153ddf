import numpy as np

from gankit.cli import main


def test_sample_classes_of_a_conditional_run(cgan_run, infogan_run, tmp_path, capsys):
    out = tmp_path / "s.npz"
    assert main(["sample", str(cgan_run), "-n", "4", "--class", "2,9", "--out", str(out)]) == 0
    assert np.load(out)["labels"].tolist() == [2, 9, 2, 9]
    assert "wrote 4 samples of class 2, 9" in capsys.readouterr().out
    for run, classes, message in [
        (cgan_run, "10", "class labels must lie in 0..9, got [10]"),
        (cgan_run, "-1", "class labels must lie in 0..9, got [-1]"),
        (cgan_run, "3,x", "--class takes indices separated by commas"),
        (infogan_run, "3", "(recipe infogan) is not class-conditional; its categorical code is shown by `gankit grid"),
    ]:
        assert main(["sample", str(run), "--class", classes, "--out", str(tmp_path / "bad.npz")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("gankit: error:") and message in err and not (tmp_path / "bad.npz").exists()
