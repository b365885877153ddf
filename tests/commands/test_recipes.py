import json

from gankit.cli import main


def test_recipes_list_and_show(capsys):
    assert main(["recipes"]) == 0
    out = capsys.readouterr().out
    for name in ("gan", "nsgan", "dcgan", "lsgan", "hinge", "wgan", "wgan-gp"):
        assert f"\n{name} " in "\n" + out
    assert main(["recipes", "wgan-gp"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["loss"]["gp_weight"] == 10.0 and shown["train"]["n_critic"] == 5
