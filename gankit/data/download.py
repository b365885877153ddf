"""Download a file from a list of mirrors with an MD5 check; it appears only once complete and verified."""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from gankit.errors import DataError

USER_AGENT = "gankit (python urllib)"
CHUNK = 1 << 20


def file_md5(path: str | Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url: str, tmp: Path, timeout: float) -> str:
    """Copy ``url`` into ``tmp``; return the MD5 of what was written."""
    digest = hashlib.md5()
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(tmp, "wb") as f:
        while block := response.read(CHUNK):
            digest.update(block)
            f.write(block)
    return digest.hexdigest()


def download(
    urls: str | Sequence[str],
    dest: str | Path,
    md5: str | None,
    log: Callable[[str], None] = print,
    timeout: float = 60.0,
) -> Path:
    """Fetch the first of ``urls`` that works into ``dest``, checking its MD5 (skipped when ``md5`` is None).

    The data goes to a temporary file next to ``dest`` that is renamed only after the check passes, so a
    failed or wrong download leaves nothing behind. Raises DataError listing every mirror's failure.
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        log(f"data: downloading {url}")
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            got = _fetch(url, tmp, timeout)
            if md5 is not None and got != md5.lower():
                failures.append(f"{url}: MD5 {got} does not match the expected {md5} (corrupt or changed)")
                continue
            os.replace(tmp, dest)
            return dest
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
            failures.append(f"{url}: {e}")
        finally:
            tmp.unlink(missing_ok=True)
    tried = "; ".join(" ".join(f.split()) for f in failures)
    raise DataError(
        f"could not download {dest.name}; every source failed ({tried}) — check the network, "
        f"or fetch the file by hand into {dest.parent} and run again"
    )
