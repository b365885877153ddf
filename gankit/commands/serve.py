"""``gankit serve``: explore a trained run's latent space in the browser (needs the ``viz`` extra)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gankit.commands import options
from gankit.errors import GankitError


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    sv = sub.add_parser("serve", help="explore a trained run's latent space in the browser")
    options.run_argument(sv)
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    sv.add_argument(
        "--port", type=options.ranged(0, 65535), default=8000, help="port (default 8000; 0 picks a free one)"
    )
    options.generator_options(sv)
    sv.set_defaults(func=cmd_serve)
    return sv


def cmd_serve(args: argparse.Namespace) -> None:
    from gankit.viz.latent import latent_layout

    explorer = options.viz_module("explorer")
    run = options.trial_run(args)
    trained = options.load_generator(args, run)
    layout = latent_layout(trained)
    reference = None
    if layout.output == "points":
        from gankit.data import load_data

        reference = load_data(trained.config.data, log=lambda _: None).x[:2000]
    watch = explorer.run_watch(run, trained.config.data.name)
    app = explorer.create_app(trained, layout, reference, title=_title(Path(run)), watch=watch)
    try:
        server = explorer.make_explorer_server(app, args.host, args.port)
    except OSError as e:
        raise GankitError(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}; try another --port") from None
    if not explorer.is_loopback(args.host):
        print(f"warning: listening on {args.host}: anyone who can reach this machine can use the explorer")
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"gankit explorer: http://{host}:{server.port}/ (step {trained.step}; Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("gankit explorer: stopped")
    finally:
        server.server_close()


def _title(run: Path) -> str:
    """The explorer's title: the run's folder name (with its trials run's, for a trial)."""
    run = run.resolve()
    return f"{run.parent.name}/{run.name}" if run.name.startswith("trial-") else run.name
