import hashlib

import pytest

from gankit.data.download import download, file_md5
from gankit.errors import DataError

PAYLOAD = b"IDX bytes stand-in " * 1000
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_http_download_with_md5(http_root, tmp_path):
    root, url = http_root
    (root / "f.gz").write_bytes(PAYLOAD)
    dest = tmp_path / "out" / "f.gz"
    logs = []
    assert download(url + "f.gz", dest, PAYLOAD_MD5, logs.append) == dest
    assert dest.read_bytes() == PAYLOAD and file_md5(dest) == PAYLOAD_MD5
    assert leftovers(dest.parent) == ["f.gz"]  # no temporary file left
    assert logs == [f"data: downloading {url}f.gz"]


def test_checksum_mismatch_leaves_nothing(http_root, tmp_path):
    root, url = http_root
    (root / "f.gz").write_bytes(PAYLOAD)
    dest = tmp_path / "out" / "f.gz"
    with pytest.raises(DataError) as e:
        download(url + "f.gz", dest, "0" * 32, lambda _: None)
    message = str(e.value)
    assert "f.gz" in message and PAYLOAD_MD5 in message and "0" * 32 in message and url in message
    assert leftovers(dest.parent) == []


def test_first_mirror_fails_second_works(http_root, tmp_path):
    root, url = http_root
    (root / "b").mkdir()
    (root / "b" / "f.gz").write_bytes(PAYLOAD)
    dest = tmp_path / "f.gz"
    logs = []
    download([url + "a/f.gz", url + "b/f.gz"], dest, PAYLOAD_MD5, logs.append)
    assert dest.read_bytes() == PAYLOAD
    assert logs == [f"data: downloading {url}a/f.gz", f"data: downloading {url}b/f.gz"]
    assert leftovers(tmp_path) == ["f.gz", "served"]


def test_file_url(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(PAYLOAD)
    dest = tmp_path / "copy" / "f.bin"
    download(source.as_uri(), dest, PAYLOAD_MD5, lambda _: None)
    assert dest.read_bytes() == PAYLOAD


def test_no_md5_skips_the_check(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"abc")
    download(source.as_uri(), tmp_path / "f", None, lambda _: None)
    assert (tmp_path / "f").read_bytes() == b"abc"


def test_every_failure_is_reported(http_root, tmp_path):
    _, url = http_root
    missing_file = (tmp_path / "missing.bin").as_uri()
    dest = tmp_path / "out" / "f.gz"
    with pytest.raises(DataError) as e:
        download([url + "nope.gz", missing_file], dest, PAYLOAD_MD5, lambda _: None)
    message = str(e.value)
    assert f"{url}nope.gz: HTTP Error 404" in message and missing_file in message
    assert "could not download f.gz" in message
    assert leftovers(dest.parent) == []
