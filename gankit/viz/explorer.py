"""``gankit serve RUN``: a local web page to generate samples from a trained run.

A small Flask app; generation runs here with the trained G, the page (``templates/explorer.html`` and
``static/explorer.js``) only sends latent vectors and shows the PNGs that come back. JSON API:

- ``GET /api/layout``: what G takes (see :class:`gankit.viz.latent.LatentLayout`) and the run's facts.
- ``POST /api/z`` ``{"n", "seed"}``: n latent vectors from the run's prior.
- ``POST /api/generate`` ``{"z", "label"?, "continuous"?, "category"?}``: a PNG grid (or 2-D scatter).
- ``POST /api/interpolate`` ``{"z_a", "z_b", "steps", …}``: a PNG row from G(z_a) to G(z_b).

Bad requests get a 4xx answer ``{"error": message}``; the server keeps running.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from typing import Any

import torch
from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, make_server

from gankit.run import TrainedGenerator
from gankit.viz.grids import generate, output_picture, png_bytes
from gankit.viz.latent import LatentInputError, LatentLayout, check_input, check_z, interpolate, sample_z

MAX_INTERPOLATION_STEPS = 16
MAX_REQUEST_BYTES = 2 * 1024 * 1024


class BadRequest(LatentInputError):
    """A request the explorer cannot answer; sent back as 400 with its message."""


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object (Content-Type: application/json)")
    return body


def _int_field(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequest(f"{name} must be an integer in {low}..{high}, got {value!r}")
    return value


def create_app(
    trained: TrainedGenerator, layout: LatentLayout, reference: torch.Tensor | None = None, title: str = ""
) -> Flask:
    """The explorer app for one trained generator (``reference``: real 2-D points drawn under toy samples)."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    lock = threading.Lock()  # one generation at a time: G is shared between request threads

    def png_response(make: Callable[[], Any], nrow: int | None = None) -> Response:
        with lock:
            out = make()
        return Response(png_bytes(output_picture(out, nrow, reference, scale=2)), mimetype="image/png")

    def conditioning(body: dict[str, Any], z: Any):
        return check_input(layout, z, body.get("label"), body.get("continuous"), body.get("category"))

    facts = {"run": title, "step": trained.step, "recipe": trained.config.recipe, "data": trained.config.data.name}

    @app.get("/")
    def page() -> str:
        return render_template("explorer.html", title=title, layout=layout.to_json(), facts=facts)

    @app.get("/api/layout")
    def get_layout() -> Response:
        return jsonify(layout.to_json() | facts)

    @app.post("/api/z")
    def post_z() -> Response:
        body = _json_body()
        n = _int_field(body, "n", 16, 1, layout.max_batch)
        seed = _int_field(body, "seed", 0, 0, 2**63 - 1)
        return jsonify({"z": sample_z(layout, n, seed).tolist()})

    @app.post("/api/generate")
    def post_generate() -> Response:
        body = _json_body()
        inp = conditioning(body, body.get("z"))
        return png_response(lambda: generate(trained, layout, inp))

    @app.post("/api/interpolate")
    def post_interpolate() -> Response:
        body = _json_body()
        steps = _int_field(body, "steps", 8, 2, MAX_INTERPOLATION_STEPS)
        ends = [check_z(layout, body.get(name), name) for name in ("z_a", "z_b")]
        if any(len(e) != 1 for e in ends):
            raise BadRequest("z_a and z_b must each be one latent vector")
        path = interpolate(ends[0][0], ends[1][0], steps, layout.dist)
        inp = conditioning(body, ends[0].tolist())
        inp.z = path
        return png_response(lambda: generate(trained, layout, inp), nrow=steps)

    @app.errorhandler(LatentInputError)
    def bad_input(e: LatentInputError) -> tuple[Response, int]:
        return jsonify({"error": str(e)}), 400

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> tuple[Response, int]:
        return jsonify({"error": f"{e.name}: {e.description}"}), e.code or 500

    @app.errorhandler(Exception)
    def internal_error(e: Exception) -> tuple[Response, int]:
        app.logger.exception("the explorer failed to answer %s", request.path)
        return jsonify({"error": f"internal error: {type(e).__name__}: {e}"}), 500

    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_explorer_server(app: Flask, host: str = "127.0.0.1", port: int = 8000) -> BaseWSGIServer:
    """A threaded WSGI server for the app (port 0: a free port, see ``server.port``).

    The socket is bound here, so that a port in use raises ``OSError`` (Werkzeug would exit the process).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.create_server((host, port), family=family) as sock:
        return make_server(host, sock.getsockname()[1], app, threaded=True, fd=sock.fileno())
