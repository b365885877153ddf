import json

import pytest

from gankit.config import DataConfig
from gankit.data import load_data
from gankit.metrics.extractors import load_classifier
from gankit.metrics.train_evaluator import accuracy, main


def test_training_command_writes_weights_and_a_card_that_load_back(tmp_path):
    main(["--epochs", "1", "--limit", "256", "--out", str(tmp_path)])  # the shipped MNIST sample
    weights = tmp_path / "mnist-classifier.safetensors"
    card = json.loads(weights.with_suffix(".json").read_text())
    model, sha, loaded_card = load_classifier("mnist", weights)
    assert sha == card["sha256"] and loaded_card == card
    assert (card["n_train"], card["n_test"], card["epochs"]) == (256, 1000, 1)
    test = load_data(DataConfig(name="mnist", split="test"), log=lambda _: None)
    assert accuracy(model, test.x, test.y) == pytest.approx(card["test_accuracy"], abs=1e-4)  # float16 weights
