import shutil

import pytest
import torch

from gankit.config import DataConfig
from gankit.data import load_data
from gankit.errors import GankitError
from gankit.metrics import extractors
from gankit.metrics.extractors import load_classifier, load_extractor
from tests.metrics.inception_standin import write_standin


@pytest.fixture(scope="module")
def mnist_test():
    return load_data(DataConfig(name="mnist", split="test"), log=lambda _: None)  # the shipped 1,000-image sample


def test_shipped_mnist_classifier_loads_checked_and_classifies_the_sample(mnist_test):
    ex = load_extractor("mnist")
    assert ex.sha256 == extractors.SHIPPED_SHA256["mnist"]
    assert ex.protocol()["test_accuracy"] >= 0.993  # the accuracy on the full 10k test set, from its card
    accuracy = (ex.logits(mnist_test.x).argmax(1) == mnist_test.y).float().mean().item()
    assert accuracy == pytest.approx(0.995, abs=0.01)
    features = ex.features(mnist_test.x[:10])
    assert features.shape == (10, 128)
    assert torch.allclose(ex.features(mnist_test.x[:10].float() / 127.5 - 1), features, atol=1e-5)  # [-1, 1] input


def test_three_channel_images_get_per_channel_features(mnist_test):
    ex = load_extractor("mnist")
    grey = mnist_test.x[:4]
    rgb = torch.cat([grey, grey.flip(0), grey], dim=1)
    f = ex.features(rgb)
    assert f.shape == (4, 384)
    assert torch.allclose(f[:, :128], ex.features(grey)) and torch.allclose(f[:, 128:256], ex.features(grey.flip(0)))


def test_corrupt_shipped_weights_are_refused(tmp_path, monkeypatch):
    bad = tmp_path / "mnist-classifier.safetensors"
    shutil.copy(extractors.classifier_weights("mnist"), bad)
    with open(bad, "r+b") as f:
        f.seek(-4, 2)
        f.write(b"\x00\x01\x02\x03")
    monkeypatch.setattr(extractors, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(GankitError, match="corrupt or were replaced"):
        load_extractor("mnist")


def test_wrong_image_size_and_unknown_extractor_are_refused():
    ex = load_extractor("mnist")
    with pytest.raises(GankitError, match="28×28"):
        ex.features(torch.zeros(2, 1, 32, 32, dtype=torch.uint8))
    with pytest.raises(GankitError, match="unknown feature extractor .lenet.*Known: mnist, fashion-mnist, inception"):
        load_extractor("lenet")
    with pytest.raises(GankitError, match="--weights"):
        load_extractor("inception")


def test_inception_path_with_a_random_stand_in(tmp_path, mnist_test):
    path = write_standin(str(tmp_path / "inception.pt"))
    ex = load_extractor("inception", weights=path)
    f = ex.features(mnist_test.x[:6])  # grey 28×28 uint8: converted to RGB in [0, 255], resized by the net
    assert f.shape == (6, 2048)
    assert ex.protocol()["name"] == "inception-v3" and len(ex.protocol()["sha256"]) == 64
    assert not torch.allclose(f[0], f[1])
    with pytest.raises(GankitError, match="no class logits"):
        ex.logits(mnist_test.x[:2])
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(GankitError, match="not a TorchScript"):
        load_extractor("inception", weights=tmp_path / "junk.pt")


def test_loading_a_classifier_leaves_the_global_random_stream_alone():
    """Its initial weights are drawn and then replaced; a run that builds an FID monitor or the collapse watch after
    loading a checkpoint's random state (``train --resume``) must go on from that state, bit-exact."""
    before = torch.get_rng_state()
    load_classifier("mnist")
    assert torch.equal(torch.get_rng_state(), before)
