"""gankit/commands/names.json: what the parsers show of the parts that need torch, current with those parts."""

from gankit.commands import names


def test_the_snapshot_is_current():
    assert names.SNAPSHOT.read_text("utf-8") == names.render(names.current()), (
        f"gankit/commands/names.json is stale: run `{names.REGENERATE}`"
    )


def test_the_snapshot_holds_what_the_parsers_show():
    from gankit.data import DATASETS
    from gankit.metrics.catalog import describe

    assert tuple(DATASETS.choices) == names.DATASETS and "folder" in names.DATASETS
    assert describe() == names.METRICS_HELP and "fid" in names.METRICS
    assert set(names.REGISTRIES) == {
        "datasets", "architectures", "inits", "minibatch_layers", "objectives", "optimizers", "schemes"
    }  # fmt: skip
