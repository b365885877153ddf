"""``gankit serve RUN``: a local web page to generate samples from a trained run.

A small Flask app; generation runs here with the trained G, the page (``templates/explorer.html`` and
``static/explorer.js``) only sends latent vectors and shows the PNGs that come back. JSON API:

- ``GET /api/layout``: what G takes (see :class:`gankit.viz.latent.LatentLayout`) and the run's facts.
- ``POST /api/z`` ``{"n", "seed"}``: n latent vectors from the run's prior.
- ``POST /api/generate`` ``{"z", "label"?, "continuous"?, "category"?}``: a PNG grid (or 2-D scatter).
- ``POST /api/interpolate`` ``{"z_a", "z_b", "steps", …}``: a PNG row from G(z_a) to G(z_b).

Bad requests get a 4xx answer ``{"error": message}``; the server keeps running. An unforeseen failure
answers 500 ``{"error": "internal error"}`` (the details go to the server's log, never to the client).

Hardening: a request's Host must name this machine (``localhost``, an IP address, the bound host or this
machine's name), against DNS rebinding; each connection's socket times out after ``SOCKET_TIMEOUT_S``
(an idle keep-alive socket, or a body shorter than its Content-Length, frees its thread); at most
``MAX_THREADS`` connections are served at once, more are closed at once.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from collections.abc import Callable
from typing import Any

import torch
from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler

from gankit.config import nesting_depth
from gankit.trained import TrainedGenerator
from gankit.viz.grids import generate, output_picture, png_bytes
from gankit.viz.latent import LatentInputError, LatentLayout, check_input, check_z, interpolate, sample_z

MAX_INTERPOLATION_STEPS = 16
MAX_REQUEST_BYTES = 2 * 1024 * 1024
MAX_JSON_DEPTH = 8  # the API's bodies nest 3 deep (an object of lists of lists)
SOCKET_TIMEOUT_S = 5.0
MAX_THREADS = 32


class BadRequest(LatentInputError):
    """A request the explorer cannot answer; sent back as 400 with its message."""


def _json_body() -> dict[str, Any]:
    try:
        body = json.loads(request.get_data(cache=False))
    except RecursionError:
        raise BadRequest(f"the JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    except ValueError:
        raise BadRequest("send a JSON object (Content-Type: application/json)") from None
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object (Content-Type: application/json)")
    if nesting_depth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise BadRequest(f"the JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)")
    return body


def host_allowed(host_header: str, extra: tuple[str, ...] = ()) -> bool:
    """Whether a request's Host names this machine: an IP address, ``localhost``, or one of ``extra``
    (the bound host, this machine's name). A DNS-rebinding page sends its own domain name and is refused."""
    if host_header.startswith("["):  # [::1]:8000
        host = host_header[1:].partition("]")[0]
    else:
        host = host_header.partition(":")[0] if host_header.count(":") == 1 else host_header
    host = host.lower()
    if host == "localhost" or host in extra:
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _int_field(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequest(f"{name} must be an integer in {low}..{high}, got {json.dumps(value)[:40]}")
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

    @app.before_request
    def check_host() -> tuple[Response, int] | None:
        if host_allowed(request.host, app.config.get("EXPLORER_HOSTS", ())):
            return None
        return jsonify({"error": "this server answers requests for localhost (or its own address) only"}), 421

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
        return jsonify({"error": "internal error (see the server's log)"}), 500

    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Handler(WSGIRequestHandler):
    """Werkzeug's handler with a socket timeout: an idle or stalled connection frees its thread."""

    timeout = SOCKET_TIMEOUT_S


class _BoundedServer(ThreadedWSGIServer):
    """Werkzeug's threaded server serving at most ``MAX_THREADS`` connections at once; more are closed."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.slots = threading.BoundedSemaphore(MAX_THREADS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def make_explorer_server(app: Flask, host: str = "127.0.0.1", port: int = 8000) -> BaseWSGIServer:
    """A threaded WSGI server for the app (port 0: a free port, see ``server.port``), bounded as the module
    says; requests must name this machine in their Host.

    The socket is bound here, so that a port in use raises ``OSError`` (Werkzeug would exit the process).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    names = {host.lower().strip("[]"), socket.gethostname().lower(), socket.getfqdn().lower()}
    app.config["EXPLORER_HOSTS"] = tuple(names)
    with socket.create_server((host, port), family=family) as sock:
        return _BoundedServer(host, sock.getsockname()[1], app, handler=_Handler, fd=sock.fileno())
