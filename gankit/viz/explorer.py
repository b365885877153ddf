"""``gankit serve RUN``: a local web page to generate samples from a trained run.

A small Flask app; generation runs here with the trained G, the page (``templates/explorer.html`` and
``static/explorer.js``) only sends latent vectors and shows the PNGs that come back. JSON API:

- ``GET /api/layout``: what G takes (see :class:`gankit.viz.latent.LatentLayout`) and the run's facts.
- ``POST /api/z`` ``{"n", "seed"}``: n latent vectors from the run's prior.
- ``POST /api/generate`` ``{"z", "label"?, "continuous"?, "category"?}``: a PNG grid (or 2-D scatter).
- ``POST /api/interpolate`` ``{"z_a", "z_b", "steps", …}``: a PNG row from G(z_a) to G(z_b).

The page also shows the run's collapse watch as it stood when the server started (``run_watch``): the coverage
curve and the latest check's histogram, drawn as the report draws them.

Bad requests get a 4xx answer ``{"error": message}``; the server keeps running. An unforeseen failure
answers 500 ``{"error": "internal error"}`` (the details go to the server's log, never to the client).

Hardening, against DNS rebinding and clients that hold the server's threads:

- A request's Host must be a loopback name (``localhost``, ``127.0.0.1``, ``[::1]``) or the bound address
  (for a bind to every interface, also this machine's name and addresses), with no port or the bound port;
  a request without a Host, or with any other, gets a 421.
- JSON numbers must be finite and at most ``MAX_JSON_NUMBER`` (2^63) in size, else a 400.
- A connection must send its first byte within ``IDLE_TIMEOUT_S`` and its whole request (line, headers,
  body) within ``READ_DEADLINE_S``: a total deadline, not a per-read timeout that each byte would renew.
- At most ``MAX_THREADS`` connections are served at once, at most ``MAX_PER_CLIENT`` from one client
  address; more are closed at once.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import math
import socket
import sys
import threading
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import torch
from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler

from gankit.config import nesting_depth
from gankit.errors import CheckpointError
from gankit.images import png_bytes
from gankit.store.layout import RunPaths
from gankit.trained import TrainedGenerator
from gankit.viz.grids import generate, output_picture
from gankit.viz.latent import LatentInputError, LatentLayout, check_input, check_z, interpolate, sample_z
from gankit.viz.report import read_records
from gankit.viz.watch_view import WatchView, watch_view

MAX_INTERPOLATION_STEPS = 16
MAX_REQUEST_BYTES = 2 * 1024 * 1024
MAX_JSON_DEPTH = 8  # the API's bodies nest 3 deep (an object of lists of lists)
MAX_JSON_NUMBER = 2**63  # the largest seed is 2^63 - 1; latent values are far smaller
IDLE_TIMEOUT_S = 1.0  # a connection's first byte must arrive within this
READ_DEADLINE_S = 5.0  # the whole request (line, headers, body of at most MAX_REQUEST_BYTES) within this
SOCKET_TIMEOUT_S = 5.0  # each write of the answer
MAX_THREADS = 32
MAX_PER_CLIENT = 8
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


class BadRequest(LatentInputError):
    """A request the explorer cannot answer; sent back as 400 with its message."""


def _number_error(what: str) -> BadRequest:
    return BadRequest(f"numbers must be finite and at most 2^63 in size; got {what}")


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > 19 or abs(value := int(text)) > MAX_JSON_NUMBER:  # 2^63 has 19 digits
        raise _number_error(f"a {digits}-digit integer")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or abs(value) > MAX_JSON_NUMBER:
        raise _number_error(text[:40])
    return value


def _parse_constant(text: str) -> float:
    raise _number_error(text)


def _json_body() -> dict[str, Any]:
    try:
        body = json.loads(
            request.get_data(cache=False),
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except BadRequest:
        raise
    except RecursionError:
        raise BadRequest(f"the JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    except ValueError:
        raise BadRequest("send a JSON object (Content-Type: application/json)") from None
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object (Content-Type: application/json)")
    if nesting_depth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise BadRequest(f"the JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)")
    return body


def host_allowed(host_header: str | None, names: Collection[str] = LOOPBACK_NAMES, port: int | None = None) -> bool:
    """Whether a request's Host header names this server: one of ``names`` (lower case), with no port or
    ``port`` (None: any). A DNS-rebinding page sends its own domain name and is refused, as is a request
    naming another address, or none."""
    if not host_header:
        return False
    if host_header.startswith("["):  # [::1]:8000
        host, _, rest = host_header[1:].partition("]")
        if rest and not rest.startswith(":"):
            return False
        port_text = rest[1:]
    else:
        host, colon, port_text = host_header.partition(":")
        if colon and not port_text:
            return False
    if port_text and not (port_text.isdigit() and (port is None or int(port_text) == port)):
        return False
    return host.lower() in names


def _int_field(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequest(f"{name} must be an integer in {low}..{high}, got {json.dumps(value)[:40]}")
    return value


def run_watch(run_dir: str | Path, data_name: str) -> WatchView | None:
    """What the explorer shows of the run's collapse watch (its coverage curve, the latest check's histogram and
    missing classes), or None without checks; a damaged metrics.jsonl is a warning, not a reason not to serve."""
    try:
        return watch_view(read_records(RunPaths(Path(run_dir)).metrics), data_name, compact=True)
    except CheckpointError as e:
        print(f"gankit: warning: the explorer leaves out the collapse watch: {e}", file=sys.stderr)
        return None


def create_app(
    trained: TrainedGenerator,
    layout: LatentLayout,
    reference: torch.Tensor | None = None,
    title: str = "",
    watch: WatchView | None = None,
) -> Flask:
    """The explorer app for one trained generator (``reference``: real 2-D points drawn under toy samples;
    ``watch``: the run's collapse watch, shown below the samples)."""
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
        names = app.config.get("EXPLORER_HOSTS", LOOPBACK_NAMES)
        if host_allowed(request.headers.get("Host"), names, app.config.get("EXPLORER_PORT")):
            return None
        error = "this server answers requests for localhost, 127.0.0.1, [::1] or the address it was started on only"
        return jsonify({"error": error}), 421

    @app.get("/")
    def page() -> str:
        return render_template("explorer.html", title=title, layout=layout.to_json(), facts=facts, watch=watch)

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


class _DeadlineReader(io.RawIOBase):
    """A connection's bytes, read under two deadlines from its start: the first byte within ``idle_s``, all
    of them within ``total_s``. Each read waits only for what is left, so a byte does not renew the time."""

    def __init__(self, sock: socket.socket, idle_s: float, total_s: float):
        self.sock = sock
        start = time.monotonic()
        self.first_by, self.all_by = start + min(idle_s, total_s), start + total_s
        self.started = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = (self.all_by if self.started else self.first_by) - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request did not arrive in time")
        self.sock.settimeout(left)
        try:
            n = self.sock.recv_into(buffer)
        finally:
            self.sock.settimeout(SOCKET_TIMEOUT_S)
        self.started = self.started or n > 0
        return n


class _Handler(WSGIRequestHandler):
    """Werkzeug's handler reading the request under the module's deadlines (Werkzeug closes every connection
    after one answer, so a connection's deadlines are its request's); writes time out after
    ``SOCKET_TIMEOUT_S``."""

    timeout = SOCKET_TIMEOUT_S

    def setup(self) -> None:
        super().setup()
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, IDLE_TIMEOUT_S, READ_DEADLINE_S))


class _BoundedServer(ThreadedWSGIServer):
    """Werkzeug's threaded server serving at most ``MAX_THREADS`` connections at once and ``MAX_PER_CLIENT``
    from one address; more are closed at once."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.slots = threading.BoundedSemaphore(MAX_THREADS)
        self.per_client: dict[str, int] = {}
        self.per_client_lock = threading.Lock()

    def _take(self, client: str) -> bool:
        with self.per_client_lock:
            if self.per_client.get(client, 0) >= MAX_PER_CLIENT:
                return False
            if not self.slots.acquire(blocking=False):
                return False
            self.per_client[client] = self.per_client.get(client, 0) + 1
            return True

    def _give_back(self, client: str) -> None:
        with self.per_client_lock:
            self.per_client[client] -= 1
            if not self.per_client[client]:
                del self.per_client[client]
            self.slots.release()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._take(client_address[0]):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._give_back(client_address[0])
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._give_back(client_address[0])


def _host_names(host: str) -> tuple[str, ...]:
    """The Host names a server bound to ``host`` answers: the loopback names and ``host``; for a bind to every
    interface (0.0.0.0, ::), also this machine's name and the addresses it resolves to."""
    host = host.lower().strip("[]")
    names = {*LOOPBACK_NAMES, host}
    if host in ("", "0.0.0.0", "::"):
        machine = {socket.gethostname().lower(), socket.getfqdn().lower()}
        for name in list(machine):
            with contextlib.suppress(OSError):  # a name that does not resolve
                machine |= {str(info[4][0]).lower() for info in socket.getaddrinfo(name, None)}
        names |= machine
    return tuple(sorted(names))


def make_explorer_server(app: Flask, host: str = "127.0.0.1", port: int = 8000) -> BaseWSGIServer:
    """A threaded WSGI server for the app (port 0: a free port, see ``server.port``), bounded as the module
    says; requests must name this server in their Host.

    The socket is bound here, so that a port in use raises ``OSError`` (Werkzeug would exit the process).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.create_server((host, port), family=family) as sock:
        server = _BoundedServer(host, sock.getsockname()[1], app, handler=_Handler, fd=sock.fileno())
    app.config["EXPLORER_HOSTS"] = _host_names(host)
    app.config["EXPLORER_PORT"] = server.port
    return server
