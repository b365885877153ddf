"""Screenshots of the report and the explorer for the docs: ``python -m tests.viz.screenshots RUN OUT_DIR``."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from gankit.trained import load_generator
from gankit.viz.explorer import create_app, make_explorer_server
from gankit.viz.latent import latent_layout
from gankit.viz.report import write_report
from tests.viz.browser import chromium_page, install_chromium


def report_screenshot(chromium: str, run: Path, out: Path) -> Path:
    html = write_report(run, out.with_suffix(".html"))
    with chromium_page(chromium, width=1280, height=900) as page:
        page.goto(html.resolve().as_uri())
        page.screenshot(path=str(out), full_page=True)
    html.unlink()
    return out


def explorer_screenshot(chromium: str, run: Path, out: Path) -> Path:
    trained = load_generator(run)
    server = make_explorer_server(create_app(trained, latent_layout(trained), title=run.name), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with chromium_page(chromium, width=1280, height=1000) as page:
            page.goto(f"http://127.0.0.1:{server.port}/")
            page.wait_for_function("Number(document.querySelector('#samples').dataset.generation) > 0")
            page.click("#set-a")
            page.click("#reroll")
            page.wait_for_function("Number(document.querySelector('#samples').dataset.generation) > 1")
            page.click("#set-b")
            page.click("#interpolate")
            page.wait_for_function("Number(document.querySelector('#interp').dataset.generation) > 0")
            page.screenshot(path=str(out), full_page=True)
    finally:
        server.shutdown()
        server.server_close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run", type=Path)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    chromium, why = install_chromium()
    if chromium is None:
        raise SystemExit(why)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    print(report_screenshot(chromium, args.run, args.out_dir / "report.png"))
    print(explorer_screenshot(chromium, args.run, args.out_dir / "explorer.png"))


if __name__ == "__main__":
    main()
