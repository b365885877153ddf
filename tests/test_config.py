import json

import pytest

from gankit.config import Config, load_config_file
from gankit.errors import ConfigError
from gankit.recipes import get_recipe


def test_override_converts_command_line_strings_to_field_types():
    cfg = Config().override(
        {
            "train.steps": "1_000",
            "g_optim.lr": "1e-3",
            "g_optim.betas": "0.0,0.9",
            "train.ema": "0.999",
            "model.spectral_norm": "true",
            "data.dir": "/x",
            "train.sample_at": "0,5,10",
            "loss.clip_value": "none",
        }
    )
    assert cfg.train.steps == 1000 and cfg.g_optim.lr == 1e-3 and cfg.g_optim.betas == (0.0, 0.9)
    assert cfg.train.ema == 0.999 and cfg.model.spectral_norm is True and cfg.data.dir == "/x"
    assert cfg.train.sample_at == (0, 5, 10) and cfg.loss.clip_value is None


def test_override_returns_a_copy():
    cfg = Config()
    new = cfg.override({"train.steps": 7})
    assert new.train.steps == 7 and cfg.train.steps == Config().train.steps


def test_unknown_field_suggests_the_right_name():
    with pytest.raises(ConfigError, match=r"unknown config field 'train.step'.*'train.steps'"):
        Config().override({"train.step": 5})
    with pytest.raises(ConfigError, match="unknown config field 'nope'"):
        Config().override({"nope": 1})


@pytest.mark.parametrize(
    "field,first",
    [
        ("train.lr", ["g_optim.lr", "d_optim.lr"]),  # the field of that name in the other sections, first
        ("lr", ["g_optim.lr", "d_optim.lr"]),
        ("trian.steps", ["train.steps"]),
        ("loss.gp", ["loss.gp_weight"]),
    ],
)
def test_unknown_field_suggests_similar_fields_of_every_section_not_the_list(field, first):
    with pytest.raises(ConfigError) as raised:
        Config().override({field: "1"})
    message = str(raised.value)
    suggested = message.partition("Did you mean ")[2].partition("?")[0].split(", ")
    assert [s.strip("'") for s in suggested[: len(first)]] == first and 1 <= len(suggested) <= 4
    assert "Known:" not in message and "`gankit config`" in message and len(message) < 250


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("train.steps", "ten", "train.steps must be an integer"),
        ("train.steps", "2.5", "train.steps must be an integer"),
        ("g_optim.lr", "fast", "g_optim.lr must be a number"),
        ("model.spectral_norm", "maybe", "must be true or false"),
        ("g_optim.betas", "0.5", r"g_optim.betas takes 2 values"),
    ],
)
def test_wrong_types_are_rejected(field, value, message):
    with pytest.raises(ConfigError, match=message):
        Config().override({field: value})


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("g_optim.lr", -1e-4, "g_optim.lr must be positive"),
        ("d_optim.lr", 0, "d_optim.lr must be positive"),
        ("train.n_critic", 0, "train.n_critic must be at least 1"),
        ("train.batch_size", 0, "train.batch_size must be at least 1"),
        ("train.ema", 1.5, "train.ema must lie in"),
        ("loss.clip_value", -0.01, "loss.clip_value must be positive"),
        ("loss.gp_weight", -1, "loss.gp_weight must be >= 0"),
        ("g_optim.betas", (0.5, 1.0), "betas must lie in"),
        ("data.channels", 2, "data.channels must be 1 or 3"),
        ("train.steps", -5, "train.steps must be >= 0"),
        ("model.conditioning", "concatenate", "Did you mean 'concat'"),
        ("model.pack", 0, "model.pack must be at least 1"),
        ("model.pack", 3, "model.pack=3 cannot split train.batch_size=128 into whole packs: use a multiple of 3"),
        ("data.split", "tset", "unknown value for data.split: 'tset'. Did you mean 'test'"),
        ("model.d_layers", 0, "model.d_layers must lie in 1..24 or be none"),
        ("model.maxout_pieces", 0, "model.maxout_pieces must lie in 1..64"),
        ("model.info_categorical", 1, "a code with one value"),
        ("model.info_continuous", -1, "must be >= 0"),
        ("model.info_continuous_std", 0.0, "model.info_continuous_std must be positive"),
        ("loss.feature_matching", -1, "loss.feature_matching must be >= 0"),
        ("loss.g_adversarial", 0, "G has nothing to minimise"),
    ],
)
def test_impossible_values_are_rejected(field, value, message):
    with pytest.raises(ConfigError, match=message):
        Config().override({field: value})


def test_gradient_penalty_with_batchnorm_critic_is_rejected():
    with pytest.raises(ConfigError, match="model.d_norm=layer"):
        get_recipe("dcgan").override({"loss.gp_weight": 10})


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"model.pack": 2, "model.conditioning": "concat"}, "cannot carry one class or code per sample"),
        ({"model.pack": 2, "model.info_categorical": 10}, "cannot carry one class or code per sample"),
        ({"loss.reconstruction_weight": 0.2, "model.info_continuous": 2}, "cannot be combined with InfoGAN"),
        ({"model.d_norm": "layer", "loss.gp_weight": 10, "model.pack": 2}, "the gradient penalty is per sample"),
        ({"model.d_norm": "layer", "loss.gp_weight": 10, "model.minibatch": "stddev"}, "mix samples"),
    ],
)
def test_combinations_that_cannot_work_are_rejected(fields, message):
    with pytest.raises(ConfigError, match=message):
        get_recipe("dcgan").override(fields)


def test_json_round_trip_keeps_every_field():
    cfg = get_recipe("wgan-gp").override({"train.sample_at": (0, 3)})
    again = Config.from_dict(json.loads(cfg.to_json()))
    assert again == cfg


def test_config_files_json_and_toml(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"train": {"steps": 3}, "g_optim": {"lr": 0.01}}))
    (tmp_path / "b.toml").write_text('[train]\nsteps = 4\n[model]\narch = "dcgan"\n')
    assert Config.from_dict(load_config_file(tmp_path / "a.json")).g_optim.lr == 0.01
    cfg = Config.from_dict(load_config_file(tmp_path / "b.toml"))
    assert (cfg.train.steps, cfg.model.arch) == (4, "dcgan")
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(ConfigError, match="bad.json is not valid JSON"):
        load_config_file(tmp_path / "bad.json")
    with pytest.raises(ConfigError, match="does not exist"):
        load_config_file(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="unknown config field 'train.stepz'"):
        Config.from_dict({"train": {"stepz": 1}})


def test_flat_gives_every_field_by_its_dotted_name():
    from gankit.config import field_paths

    cfg = Config().override({"train.sample_at": "0,5", "g_optim.lr": "1e-3"})
    flat = cfg.flat()
    assert list(flat) == field_paths() and flat["train.sample_at"] == (0, 5) and flat["g_optim.lr"] == 1e-3
    assert flat["data.name"] == cfg.data.name and flat["recipe"] == cfg.recipe


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("s.json", b'"just a string"', "must hold a table of fields"),
        ("n.json", b"42", "got a JSON int"),
        ("l.toml", b"", None),  # an empty TOML file is an empty table: valid
        ("bin.json", bytes(range(256)), r"is not UTF-8 text \(byte 0x80 at offset 128\)"),
        ("utf16.json", '{"train": {"steps": 5}}'.encode("utf-16"), "is not UTF-8 text"),
        ("latin1.toml", 'recipe = "caf\xe9"'.encode("latin-1"), "is not UTF-8 text"),
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ("deep.toml", b"x = " + b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        ("deep2.json", b'{"train": {"sample_at": [[[[[0]]]]]}}', "nested more than 4 levels"),
        ("bad.json", b"{", "is not valid JSON"),
        ("big.json", b" " * (2 << 20), "is over 1024 KiB"),
    ],
)
def test_config_files_that_are_not_configs_get_a_clear_error_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    if message is None:
        assert load_config_file(path) == {}
        return
    with pytest.raises(ConfigError, match=message) as caught:
        load_config_file(path)
    assert str(path) in str(caught.value)


def test_a_config_file_that_is_a_folder_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config_file(tmp_path)


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("g_optim.weight_decay", 1e308, "g_optim.weight_decay must lie in"),
        ("g_optim.lr", float("inf"), "g_optim.lr must be a finite number"),
        ("g_optim.lr", "nan", "g_optim.lr must be a finite number"),
        ("d_optim.lr", "-inf", "d_optim.lr must be a finite number"),
        ("g_optim.lr", 10**400, "g_optim.lr must be a finite number"),
        ("loss.gp_weight", "1e400", "loss.gp_weight must be a finite number"),
        ("train.steps", 2**64, "train.steps must be an integer of magnitude below 2\\*\\*63"),
        ("train.steps", "1e30", "train.steps must be an integer of magnitude below"),
        ("train.steps", "9" * 5000, "train.steps must be an integer"),
        ("train.seed", 2**63 - 1, "train.seed must lie in 0..9223372036854775806"),
        ("train.seed", -1, "train.seed must lie in"),
        ("data.dir", "a\0b", "data.dir must be a string \\(without NUL"),
        ("model.mlp_layers", 60, "model.mlp_layers must lie in 1..24"),
        ("train.grid_size", 100_000_000, "train.grid_size must lie in 1..10000"),
        ("model.pack", 1_000_000, "model.pack \\(1000000\\) cannot exceed train.batch_size"),
        ("data.image_size", 30000, "data.image_size must lie in 4..4096"),
        ("g_optim.momentum", 1.5, "g_optim.momentum must lie in"),
        ("train.sample_at", [[0]], "train.sample_at must be an integer"),
        ("train.fid_samples", 10**9, "train.fid_samples must lie in 10..200000"),
    ],
)
def test_overflowing_and_absurd_values_are_rejected(field, value, message):
    with pytest.raises(ConfigError, match=message):
        Config().override({field: value})


def test_error_messages_cut_long_values():
    with pytest.raises(ConfigError) as caught:
        Config().override({"train.steps": "x" * 10_000})
    assert len(str(caught.value)) < 200


def test_values_of_a_config_file_are_checked_like_set_values(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"g_optim": {"weight_decay": 1e999}}')  # JSON's overflow: inf
    with pytest.raises(ConfigError, match="g_optim.weight_decay must be a finite number"):
        Config.from_dict(load_config_file(path))


def test_the_lists_of_fields_are_read_from_the_fields_facts():
    """Which fields name a registry's parts, may change on resume or differ between ranks is declared beside
    each field (``option``); the lists built from those facts hold what the hand-written lists held."""
    from gankit.config import field_facts
    from gankit.data import DATASETS
    from gankit.losses import OBJECTIVES
    from gankit.nets import ARCHITECTURES
    from gankit.nets.init import INITS
    from gankit.nets.minibatch import MINIBATCH_LAYERS
    from gankit.store.resume import RESUMABLE_FIELDS
    from gankit.training.choices import FIELD_CHOICES
    from gankit.training.distributed import RANK_LOCAL_FIELDS
    from gankit.training.optim import OPTIMIZERS
    from gankit.training.schemes import SCHEMES

    registries = {
        "data.name": DATASETS,
        "model.arch": ARCHITECTURES,
        "model.init": INITS,
        "model.minibatch": MINIBATCH_LAYERS,
        "loss.objective": OBJECTIVES,
        "g_optim.name": OPTIMIZERS,
        "d_optim.name": OPTIMIZERS,
        "train.scheme": SCHEMES,
    }
    assert list(FIELD_CHOICES) == list(registries)  # check_choices reports the first bad name in this order
    assert all(FIELD_CHOICES[path] is registry for path, registry in registries.items())
    resumable = {
        "train.steps",
        "train.time_budget",
        "train.precision",
        "train.compile",
        "train.device",
        "train.log_every",
        "train.sample_at",
        "train.sample_every",
        "train.checkpoint_every",
        "train.keep_checkpoints",
        "train.progress",
        "train.tensorboard",
        "train.fid_every",
        "train.watch_every",
        "train.watch_stop",
        "train.ddp_check_every",
        "train.ddp_timeout",
        "train.trials_mode",
        "data.dir",
        "data.download",
        *(
            f"{section}.{key}"
            for section in ("g_optim", "d_optim")
            for key in ("lr", "betas", "momentum", "weight_decay")
        ),
    }
    rank_local = {"data.dir"}
    assert resumable == RESUMABLE_FIELDS and rank_local == RANK_LOCAL_FIELDS
    assert {path: facts.choices for path, facts in field_facts().items() if facts.choices} == {
        "data.split": ("train", "test"),
        "model.latent_dist": ("uniform", "normal"),
        "model.g_norm": ("batch", "none"),
        "model.d_norm": ("batch", "layer", "none"),
        "model.conditioning": ("none", "concat", "projection"),
        "train.g_noise": ("fresh", "shared"),
        "train.precision": ("auto", "fp32", "bf16", "fp16"),
        "train.compile": ("auto", "off", "on", "reduce-overhead", "max-autotune", "cudagraphs"),
        "train.trials_mode": ("auto", "vectorised", "graphed", "sequential"),
    }


def test_every_field_says_what_it_means_in_one_line():
    from gankit.config import field_facts, field_paths

    facts = field_facts()
    assert list(facts) == field_paths()
    for path, fact in facts.items():
        assert fact.help.strip() and "\n" not in fact.help, path


@pytest.mark.parametrize(
    "field,value",
    [("data.split", "test"), ("model.latent_dist", "normal"), ("model.d_norm", "layer"), ("train.compile", "off")],
)
def test_a_value_from_a_fields_fixed_choices_is_accepted(field, value):
    assert Config().override({field: value}).flat()[field] == value
